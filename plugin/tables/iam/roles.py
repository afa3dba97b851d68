"""aws_iam_roles (and its child aws_iam_role_policies): every IAM role of the account, with its trust
policy, attached managed policies, permission boundary and instance profiles, from
GetAccountAuthorizationDetails (authorization_details.py). Policies are stored decoded (JSON), as
CloudQuery does."""

from __future__ import annotations

from typing import Any, Iterator

from ...aws.calls import Ctx, Parent
from ..schema import INT, JSON, STR, TS, Col, TableDef
from .authorization_details import LISTING, lister, attached, tags, document

DOC = "https://docs.aws.amazon.com/IAM/latest/APIReference/"


def role_row(ctx: Ctx, item: dict[str, Any], parent: Parent | None) -> dict[str, Any]:
    return {"account_id": ctx.account_id, "policies": attached(item), "id": item.get("RoleId"),
            "assume_role_policy_document": document(item.get("AssumeRolePolicyDocument")), "arn": item.get("Arn"),
            "create_date": item.get("CreateDate"), "path": item.get("Path"), "role_name": item.get("RoleName"),
            "description": item.get("Description"), "max_session_duration": item.get("MaxSessionDuration"),
            "permissions_boundary": item.get("PermissionsBoundary"), "role_last_used": item.get("RoleLastUsed"),
            "tags": tags(item),
            "instance_profiles": [p.get("Arn") for p in item.get("InstanceProfileList") or [] if isinstance(p, dict)]}


def role_policies(ctx: Ctx, parent: Parent) -> Iterator[dict[str, Any]]:
    for p in parent.item.get("RolePolicyList") or []:
        yield {"account_id": ctx.account_id, "role_arn": parent.row["arn"],
               "policy_document": document(p.get("PolicyDocument")),
               "policy_name": p.get("PolicyName"), "role_name": parent.row["role_name"], "result_metadata": None}


ROLE_POLICIES = TableDef(
    name="aws_iam_role_policies", title="AWS IAM Role Policies", description=DOC + "API_GetRolePolicy.html",
    columns=[Col("account_id", STR), Col("role_arn", STR), Col("policy_document", JSON, "The inline policy, decoded"),
             Col("policy_name", STR), Col("role_name", STR),
             Col("result_metadata", JSON, "Always NULL here: read with GetAccountAuthorizationDetails")],
    pk_components=["account_id", "role_arn", "policy_name"], api_calls=[], parent="aws_iam_roles",
    resolve=role_policies,
)

ROLES = TableDef(
    name="aws_iam_roles", title="AWS IAM Roles", description=DOC + "API_Role.html",
    columns=[Col("account_id", STR),
             Col("policies", JSON, "Attached managed policies: {policy ARN: policy name}"),
             Col("id", STR), Col("assume_role_policy_document", JSON, "The trust policy, decoded"), Col("arn", STR),
             Col("create_date", TS), Col("path", STR), Col("role_name", STR),
             Col("description", STR, "Not in GetAccountAuthorizationDetails' answer: NULL"),
             Col("max_session_duration", INT, "Not in GetAccountAuthorizationDetails' answer: NULL"),
             Col("permissions_boundary", JSON), Col("role_last_used", JSON), Col("tags", JSON),
             Col("instance_profiles", JSON, "ARNs of the instance profiles that hold the role")],
    pk_components=["account_id", "id"], api_calls=[LISTING], scope="account", listing=LISTING, every_shard=True,
    resolve=lister("roles"), to_row=role_row, children=[ROLE_POLICIES], extra_columns=["instance_profiles"],
    notes="Read with one paginated GetAccountAuthorizationDetails per account (shared by the IAM tables), "
          "not ListRoles and GetRolePolicy per role.",
)
