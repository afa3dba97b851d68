"""aws_iam_policies: the account's managed policies (customer managed, and the AWS managed ones
GetAccountAuthorizationDetails returns), every version, and the default version's document (ours)."""

from __future__ import annotations

from typing import Any

from ...aws.calls import Ctx, Parent
from ...analysis.identity import default_document
from ..schema import BOOL, INT, JSON, STR, TS, Col, TableDef
from .authorization_details import LISTING, lister, document, tags

DOC = "https://docs.aws.amazon.com/IAM/latest/APIReference/"


def policy_row(ctx: Ctx, item: dict[str, Any], parent: Parent | None) -> dict[str, Any]:
    return {"account_id": ctx.account_id, "id": item.get("PolicyId"), "tags": tags(item),
            "policy_version_list": item.get("PolicyVersionList"), "arn": item.get("Arn"),
            "attachment_count": item.get("AttachmentCount"), "create_date": item.get("CreateDate"),
            "default_version_id": item.get("DefaultVersionId"), "description": item.get("Description"),
            "is_attachable": item.get("IsAttachable"), "path": item.get("Path"),
            "permissions_boundary_usage_count": item.get("PermissionsBoundaryUsageCount"),
            "policy_name": item.get("PolicyName"), "update_date": item.get("UpdateDate"),
            "default_version_document": document(default_document(item))}


POLICIES = TableDef(
    name="aws_iam_policies", title="AWS IAM Policies", description=DOC + "API_ManagedPolicyDetail.html",
    columns=[Col("account_id", STR), Col("id", STR), Col("tags", JSON),
             Col("policy_version_list", JSON, "Every version, documents decoded"), Col("arn", STR),
             Col("attachment_count", INT), Col("create_date", TS), Col("default_version_id", STR),
             Col("description", STR), Col("is_attachable", BOOL), Col("path", STR),
             Col("permissions_boundary_usage_count", INT), Col("policy_name", STR), Col("update_date", TS),
             Col("default_version_document", JSON, "The default version's document, decoded")],
    pk_components=["account_id", "id"], api_calls=[LISTING], scope="account", listing=LISTING, every_shard=True,
    resolve=lister("policies"), to_row=policy_row, extra_columns=["default_version_document"],
)
