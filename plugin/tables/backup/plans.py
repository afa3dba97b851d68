"""aws_backup_plans: each account's backup plans (ListBackupPlans, paginated) with their rules
(GetBackupPlan, once per plan). The vaults' access paths read the same answers (`copy_rules`): a copy
action of a rule is where a vault's recovery points go to another account."""

from __future__ import annotations

from dataclasses import replace
from typing import Any, Iterator

from ...aws.calls import Ctx, Parent, SyncError
from ..schema import JSON, STR, TS, Col, TableDef, project

DOC = "https://docs.aws.amazon.com/aws-backup/latest/devguide/"

COLUMNS = [Col("account_id", STR), Col("region", STR), Col("arn", STR), Col("tags", JSON, "Not read (NULL)"),
           Col("advanced_backup_settings", JSON), Col("backup_plan", JSON, "Its name and rules, copy actions included"),
           Col("backup_plan_arn", STR), Col("backup_plan_id", STR), Col("creation_date", TS),
           Col("creator_request_id", STR), Col("deletion_date", TS), Col("last_execution_date", TS),
           Col("version_id", STR), Col("result_metadata", JSON, "Not kept (NULL)")]


def _read(ctx: Ctx) -> tuple[list[dict[str, Any]], list[SyncError], bool]:
    """Every plan of the account and Region with its rules, the failures, and whether every plan's
    rules were read."""
    errors: list[SyncError] = []
    c = replace(ctx, on_error=errors.append, account_error=errors.append, listed=None)
    plans: list[dict[str, Any]] = []
    complete = True
    for p in c.paginate("backup", "ListBackupPlans", "BackupPlansList", token_in="NextToken", token_out="NextToken"):
        if not isinstance(p, dict):
            continue
        got = c.call("backup", "GetBackupPlan", resource_arn=p.get("BackupPlanArn") or "", expect="BackupPlan",
                     BackupPlanId=p.get("BackupPlanId") or "")
        if got is None:
            complete = False
            plans.append({**p, "_rules_read": False})
        else:
            plans.append({**p, **{k: v for k, v in got.items() if k != "ResponseMetadata"}, "_rules_read": True})
    if any(not e.resource_arn for e in errors):
        complete = False      # the listing itself failed
    return plans, errors, complete


def read_plans(ctx: Ctx) -> tuple[list[dict[str, Any]], bool]:
    """The account's plans in ctx's Region, asked once per sync whichever table asks first; each asker
    records the failures as its own (so each table's coverage says what it could not read)."""
    key = f"backup-plans@{ctx.region}"
    plans, errors, complete = (ctx.index.lookup(key, ctx.account_id, lambda: _read(ctx)) if ctx.index is not None
                               else _read(ctx))
    for e in errors:
        ctx.on_error(replace(e, table_name=ctx.table))
    return plans, complete


def copy_rules(ctx: Ctx) -> dict[str, list[dict[str, str]]] | None:
    """Vault name -> the copy actions of the rules backing up into it ({destination, plan, rule}); None
    when a plan or the listing could not be read (then where recovery points go is unknown)."""
    plans, complete = read_plans(ctx)
    if not complete:
        return None
    out: dict[str, list[dict[str, str]]] = {}
    for p in plans:
        bp = p.get("BackupPlan") if isinstance(p.get("BackupPlan"), dict) else {}
        for rule in bp.get("Rules") or []:
            if not isinstance(rule, dict):
                continue
            for action in rule.get("CopyActions") or []:
                dest = action.get("DestinationBackupVaultArn") if isinstance(action, dict) else None
                if dest:
                    out.setdefault(str(rule.get("TargetBackupVaultName") or ""), []).append(
                        {"destination": str(dest), "plan": str(bp.get("BackupPlanName") or p.get("BackupPlanId")),
                         "rule": str(rule.get("RuleName") or "")})
    return out


def list_plans(ctx: Ctx, parent: Parent | None) -> Iterator[dict[str, Any]]:
    plans, _ = read_plans(ctx)
    if ctx.listed is not None:
        ctx.listed[0] += len(plans)
    yield from plans


def plan_row(ctx: Ctx, item: dict[str, Any], parent: Parent | None) -> dict[str, Any]:
    row = project(item, COLUMNS)
    row["arn"] = item.get("BackupPlanArn")
    row["tags"] = row["result_metadata"] = None
    return row


PLANS = TableDef(
    name="aws_backup_plans", title="AWS Backup Plans", description=DOC + "API_GetBackupPlan.html",
    columns=COLUMNS, pk_components=["arn"], api_calls=["backup:ListBackupPlans", "backup:GetBackupPlan"],
    scope="region", listing="backup:ListBackupPlans", resolve=list_plans, to_row=plan_row,
    notes="Read once per account and Region for this table and the vaults' access paths (copy rules). A plan "
          "whose GetBackupPlan failed keeps its listing fields and a NULL backup_plan.",
)
