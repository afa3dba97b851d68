"""aws_iam_groups (and its child aws_iam_group_policies), from GetAccountAuthorizationDetails."""

from __future__ import annotations

from typing import Any, Iterator

from ...aws.calls import Ctx, Parent
from ..schema import JSON, STR, TS, Col, TableDef
from .authorization_details import LISTING, lister, attached, document

DOC = "https://docs.aws.amazon.com/IAM/latest/APIReference/"


def group_row(ctx: Ctx, item: dict[str, Any], parent: Parent | None) -> dict[str, Any]:
    return {"account_id": ctx.account_id, "policies": attached(item), "id": item.get("GroupId"),
            "arn": item.get("Arn"), "create_date": item.get("CreateDate"), "group_name": item.get("GroupName"),
            "path": item.get("Path")}


def group_policies(ctx: Ctx, parent: Parent) -> Iterator[dict[str, Any]]:
    for p in parent.item.get("GroupPolicyList") or []:
        yield {"account_id": ctx.account_id, "group_arn": parent.row["arn"],
               "policy_document": document(p.get("PolicyDocument")),
               "group_name": parent.row["group_name"], "policy_name": p.get("PolicyName")}


GROUP_POLICIES = TableDef(
    name="aws_iam_group_policies", title="AWS IAM Group Policies", description=DOC + "API_GetGroupPolicy.html",
    columns=[Col("account_id", STR), Col("group_arn", STR), Col("policy_document", JSON, "The inline policy, decoded"),
             Col("group_name", STR), Col("policy_name", STR)],
    pk_components=["account_id", "group_arn", "policy_name"], api_calls=[], parent="aws_iam_groups",
    resolve=group_policies,
)

GROUPS = TableDef(
    name="aws_iam_groups", title="AWS IAM Groups", description=DOC + "API_Group.html",
    columns=[Col("account_id", STR), Col("policies", JSON, "Attached managed policies: {policy ARN: policy name}"),
             Col("id", STR), Col("arn", STR), Col("create_date", TS), Col("group_name", STR), Col("path", STR)],
    pk_components=["account_id", "id"], api_calls=[LISTING], scope="account", listing=LISTING, every_shard=True,
    resolve=lister("groups"), to_row=group_row, children=[GROUP_POLICIES],
)
