"""aws_backup_vaults: each account's backup vaults (ListBackupVaults, paginated), their access policy
(GetBackupVaultAccessPolicy) and tags (ListTags), once per vault; and, for the access paths, the copy
rules of the Region's backup plans that send each vault's recovery points to another account."""

from __future__ import annotations

from typing import Any, Iterator

from ...aws.calls import Ctx, Parent
from ..schema import BOOL, INT, JSON, STR, TS, Col, TableDef, project
from .plans import copy_rules

DOC = "https://docs.aws.amazon.com/aws-backup/latest/devguide/"
# No documented size limit for a vault access policy: bounded as a bucket policy's (20 KB) x 4.
VAULT_POLICY_MAX_BYTES = 80 * 1024
NO_POLICY = ("ResourceNotFoundException",)  # "Backup Vault ... has no associated POLICY"

COLUMNS = [Col("account_id", STR), Col("region", STR), Col("arn", STR),
           Col("access_policy", JSON, "GetBackupVaultAccessPolicy, decoded; NULL: none, or unread (see "
                                      "aws_encryption_sync_errors)"),
           Col("notifications", JSON, "Not read (NULL)"), Col("tags", JSON), Col("backup_vault_arn", STR),
           Col("backup_vault_name", STR), Col("creation_date", TS), Col("creator_request_id", STR),
           Col("encryption_key_arn", STR, "The vault's key (its aws/backup key when none was chosen)"),
           Col("lock_date", TS), Col("locked", BOOL), Col("max_retention_days", INT), Col("min_retention_days", INT),
           Col("number_of_recovery_points", INT)]


def list_vaults(ctx: Ctx, parent: Parent | None) -> Iterator[dict[str, Any]]:
    vaults = list(ctx.paginate("backup", "ListBackupVaults", "BackupVaultList", token_in="NextToken",
                               token_out="NextToken"))
    copies = copy_rules(ctx) if vaults else {}
    for v in vaults:
        if isinstance(v, dict):
            v["_copies"] = None if copies is None else copies.get(str(v.get("BackupVaultName")), [])
            yield v


def enrich_vault(ctx: Ctx, item: dict[str, Any]) -> dict[str, Any]:
    from ...analysis.shared_resources import set_encryption
    arn, name = item.get("BackupVaultArn") or "", item.get("BackupVaultName") or ""
    failed: list[bool] = []
    r = ctx.call("backup", "GetBackupVaultAccessPolicy", resource_arn=arn, absent=NO_POLICY, _failed=failed,
                 BackupVaultName=name)
    if failed:
        item["_policy"] = None
    elif not r or not r.get("Policy"):
        item["_policy"] = ""
    else:
        item["_policy"] = ctx.bounded_policy("backup", "GetBackupVaultAccessPolicy", r["Policy"],
                                             VAULT_POLICY_MAX_BYTES, arn)
    t = ctx.call("backup", "ListTags", resource_arn=arn, ResourceArn=arn)
    item["_tags"] = t.get("Tags") if isinstance(t, dict) else None
    # Recovery points of resources fully managed by AWS Backup are encrypted with the vault's key,
    # which is always set (the Region's aws/backup key when none was chosen).
    set_encryption(item, True, item.get("EncryptionKeyArn"))
    return item


def vault_row(ctx: Ctx, item: dict[str, Any], parent: Parent | None) -> dict[str, Any]:
    row = project(item, COLUMNS)
    row["arn"] = item.get("BackupVaultArn")
    row["access_policy"] = item.get("_policy") or None
    row["tags"] = item.get("_tags")
    row["notifications"] = None
    return row


VAULTS = TableDef(
    name="aws_backup_vaults", title="AWS Backup Vaults", description=DOC + "API_BackupVaultListMember.html",
    columns=COLUMNS, pk_components=["arn"],
    api_calls=["backup:ListBackupVaults", "backup:GetBackupVaultAccessPolicy", "backup:ListTags",
               "backup:ListBackupPlans", "backup:GetBackupPlan"],
    scope="region", listing="backup:ListBackupVaults", resolve=list_vaults, enrich=enrich_vault, to_row=vault_row,
    notes="The Region's backup plans are read once (shared with aws_backup_plans) when it has vaults, for the copy "
          "rules of the access paths. Notifications are not read.",
)
