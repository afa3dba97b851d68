"""aws_iam_users (and its child aws_iam_user_policies): every IAM user of the account with its groups,
attached managed policies and permission boundary, from GetAccountAuthorizationDetails."""

from __future__ import annotations

from typing import Any, Iterator

from ...aws.calls import Ctx, Parent
from ..schema import JSON, STR, STR_LIST, TS, Col, TableDef
from .authorization_details import LISTING, lister, attached, tags, document

DOC = "https://docs.aws.amazon.com/IAM/latest/APIReference/"


def user_row(ctx: Ctx, item: dict[str, Any], parent: Parent | None) -> dict[str, Any]:
    return {"arn": item.get("Arn"), "id": item.get("UserId"), "account_id": ctx.account_id,
            "create_date": item.get("CreateDate"), "path": item.get("Path"), "user_name": item.get("UserName"),
            "password_last_used": item.get("PasswordLastUsed"),
            "permissions_boundary": item.get("PermissionsBoundary"), "tags": tags(item),
            "groups": [g for g in item.get("GroupList") or [] if isinstance(g, str)],
            "policies": attached(item)}


def user_policies(ctx: Ctx, parent: Parent) -> Iterator[dict[str, Any]]:
    for p in parent.item.get("UserPolicyList") or []:
        yield {"account_id": ctx.account_id, "user_arn": parent.row["arn"], "user_id": parent.row["id"],
               "policy_document": document(p.get("PolicyDocument")), "policy_name": p.get("PolicyName"),
               "user_name": parent.row["user_name"], "result_metadata": None}


USER_POLICIES = TableDef(
    name="aws_iam_user_policies", title="AWS IAM User Policies", description=DOC + "API_GetUserPolicy.html",
    columns=[Col("account_id", STR), Col("user_arn", STR), Col("user_id", STR),
             Col("policy_document", JSON, "The inline policy, decoded"), Col("policy_name", STR),
             Col("user_name", STR), Col("result_metadata", JSON, "Always NULL here")],
    pk_components=["account_id", "user_arn", "policy_name"], api_calls=[], parent="aws_iam_users",
    resolve=user_policies,
)

USERS = TableDef(
    name="aws_iam_users", title="AWS IAM Users", description=DOC + "API_User.html",
    columns=[Col("arn", STR), Col("id", STR), Col("account_id", STR), Col("create_date", TS), Col("path", STR),
             Col("user_name", STR),
             Col("password_last_used", TS, "Not in GetAccountAuthorizationDetails' answer: NULL"),
             Col("permissions_boundary", JSON), Col("tags", JSON),
             Col("groups", STR_LIST, "The groups the user is in (names)"),
             Col("policies", JSON, "Attached managed policies: {policy ARN: policy name}")],
    pk_components=["id", "account_id"], api_calls=[LISTING], scope="account", listing=LISTING, every_shard=True,
    resolve=lister("users"), to_row=user_row, children=[USER_POLICIES], extra_columns=["groups", "policies"],
    notes="CloudQuery lists group membership and attached policies in child tables; here they are columns.",
)
