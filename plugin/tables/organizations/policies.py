"""aws_organizations_policies (+ aws_organizations_policy_targets, ours): the organisation's service
control policies (SCPs) and resource control policies (RCPs), with where each is attached, read by
the Organizations admin (`org` in the spec): ListPolicies per type, DescribePolicy and
ListTargetsForPolicy per policy, and the tree (ListRoots, ListChildren, ListAccountsForParent) that
puts every account under its root and OUs.

What is read becomes the sync's guardrails (plugin/analysis/identity.py `Guardrails`): the SCPs at
every level above a synced account cap what its principals may do; the RCPs above a resource's
account cap what anyone may do to it. Read in every shard (so that every shard evaluates principals
alike); the rows, and a failure, are the first shard's. When any of these calls fails the guardrails
are unknown: the failure is an error row and an unread scope, and principals are evaluated without
SCPs (their reason says so).
"""

from __future__ import annotations

import json
from typing import Any, Iterator

from ...aws.calls import Ctx, Parent
from ..schema import BOOL, JSON, STR, STR_LIST, Col, TableDef

DOC = "https://docs.aws.amazon.com/organizations/latest/APIReference/"
TYPES = ("SERVICE_CONTROL_POLICY", "RESOURCE_CONTROL_POLICY")


def _tree(ctx: Ctx) -> tuple[dict[str, list[tuple[str, str]]], dict[str, list[str]], bool] | None:
    """(account -> [(target id, name)] from the root down, target id -> accounts under it, RCPs
    enabled), or None when a call failed."""
    from ...source.discovery import walk_units
    roots = ctx.collect("organizations", "ListRoots", "Roots", token_in="NextToken", token_out="NextToken")
    found = walk_units(ctx, [r["Id"] for r in roots]) if roots is not None else None
    if roots is None or found is None:
        return None
    rcps = any(t.get("Type") == "RESOURCE_CONTROL_POLICY" and t.get("Status") == "ENABLED"
               for r in roots for t in r.get("PolicyTypes") or [])
    paths: dict[str, list[tuple[str, str]]] = {}
    under: dict[str, list[str]] = {}
    for _, path, accounts in found:
        levels = [(t, f"root {t}" if t.startswith("r-") else f"OU {t}") for t in path]
        for a in accounts:
            paths[a["Id"]] = [*levels, (a["Id"], f"account {a['Id']}")]
            for tid, _ in paths[a["Id"]]:
                under.setdefault(tid, []).append(a["Id"])
    return paths, under, rcps


def list_policies(ctx: Ctx, discovery: Any) -> Iterator[dict[str, Any]]:
    """Every SCP and RCP with its content and targets; records the guardrails in the index."""
    from ...analysis.identity import Guardrails, _doc
    first = ctx.shard is None or ctx.shard.first
    failed: list[str] = []

    def note(err: Any) -> None:
        failed.append(err.error_code)
        if first:
            ctx.on_error(err)

    c = ctx.with_errors(note)
    tree = _tree(c)
    items: list[dict[str, Any]] = []
    for ptype in TYPES:
        summaries = c.collect("organizations", "ListPolicies", "Policies", token_in="NextToken",
                              token_out="NextToken", Filter=ptype)
        for s in summaries or []:
            pid = s.get("Id")
            d = c.call("organizations", "DescribePolicy", resource_arn=s.get("Arn", ""), expect="Policy", PolicyId=pid)
            targets = c.collect("organizations", "ListTargetsForPolicy", "Targets", resource_arn=s.get("Arn", ""),
                                token_in="NextToken", token_out="NextToken", PolicyId=pid)
            if d is None or targets is None:
                continue
            items.append({**s, "Content": (d["Policy"] or {}).get("Content"), "_targets": targets, "_type": ptype})
    if ctx.index is not None:
        if failed or tree is None:
            ctx.index.guardrails_error = failed[0] if failed else "Unknown"
        else:
            paths, under, rcps = tree
            g = Guardrails(management_account=(discovery.organization or {}).get("MasterAccountId"), paths=paths,
                           rcps_enabled=rcps)
            for it in items:
                by = g.scps if it["_type"] == "SERVICE_CONTROL_POLICY" else g.rcps
                kind = "SCP" if it["_type"] == "SERVICE_CONTROL_POLICY" else "RCP"
                doc = _doc(f"{kind} {it.get('Name') or it.get('Id')}", it.get("Content"), "")
                for t in it["_targets"]:
                    by.setdefault(t.get("TargetId"), []).append(doc)
            ctx.index.guardrails = g
            for it in items:
                for t in it["_targets"]:
                    t["_accounts"] = sorted(under.get(t.get("TargetId"), []))
    if first:
        yield from items


def policy_row(ctx: Ctx, item: dict[str, Any], parent: Parent | None) -> dict[str, Any]:
    content = item.get("Content")
    try:
        content = json.loads(content) if isinstance(content, str) else content
    except ValueError:
        pass
    return {"account_id": ctx.account_id, "content": content, "arn": item.get("Arn"),
            "aws_managed": item.get("AwsManaged"), "description": item.get("Description"), "id": item.get("Id"),
            "name": item.get("Name"), "type": item.get("Type") or item.get("_type")}


def policy_targets(ctx: Ctx, parent: Parent) -> Iterator[dict[str, Any]]:
    for t in parent.item.get("_targets") or []:
        yield {"account_id": ctx.account_id, "policy_arn": parent.row["arn"], "policy_id": parent.row["id"],
               "target_id": t.get("TargetId"), "target_arn": t.get("Arn"), "target_name": t.get("Name"),
               "target_type": t.get("Type"), "accounts": t.get("_accounts")}


POLICY_TARGETS = TableDef(
    name="aws_organizations_policy_targets", title="aws-encryption Organizations Policy Targets",
    description=DOC + "API_ListTargetsForPolicy.html (ours)",
    columns=[Col("account_id", STR, "The admin account that read it"), Col("policy_arn", STR), Col("policy_id", STR),
             Col("target_id", STR, "r-..., ou-... or an account id"), Col("target_arn", STR), Col("target_name", STR),
             Col("target_type", STR, "ROOT | ORGANIZATIONAL_UNIT | ACCOUNT"),
             Col("accounts", STR_LIST, "Every account under the target (NULL when the tree could not be read)")],
    pk_components=["account_id", "policy_arn", "target_id"], api_calls=["organizations:ListTargetsForPolicy"],
    parent="aws_organizations_policies", resolve=policy_targets,
)

POLICIES = TableDef(
    name="aws_organizations_policies", title="AWS Organizations Policies", description=DOC + "API_Policy.html",
    columns=[Col("account_id", STR, "The admin account that read it"), Col("content", JSON, "The policy, decoded"),
             Col("arn", STR), Col("aws_managed", BOOL), Col("description", STR), Col("id", STR), Col("name", STR),
             Col("type", STR, "SERVICE_CONTROL_POLICY | RESOURCE_CONTROL_POLICY")],
    pk_components=["account_id", "arn"],
    api_calls=["organizations:ListPolicies", "organizations:DescribePolicy", "organizations:ListRoots",
               "organizations:ListChildren", "organizations:ListAccountsForParent"],
    scope="org", listing="organizations:ListPolicies", every_shard=True, resolve=list_policies, to_row=policy_row,
    children=[POLICY_TARGETS],
    notes="Only synced with `org` in the spec, with the admin account's credentials: service control and resource "
          "control policies (other policy types are not read). They are the guardrails the principal-level "
          "evaluation applies (docs/access-paths.md).",
)
