"""aws_secretsmanager_secrets: every secret's metadata (ListSecrets, paginated) and resource policy
(GetResourcePolicy, once per secret). Never GetSecretValue: the audit role reads no secret."""

from __future__ import annotations

from typing import Any, Iterator

from ...aws.calls import Ctx, Parent
from ..schema import BOOL, JSON, STR, TS, Col, TableDef, project

DOC = "https://docs.aws.amazon.com/secretsmanager/latest/apireference/"
# Secrets Manager's resource policy limit: 20,480 characters (AWS Secrets Manager quotas)
SECRET_POLICY_MAX_BYTES = 20 * 1024 * 4   # characters, at most 4 bytes each in UTF-8

COLUMNS = [
    Col("account_id", STR), Col("region", STR), Col("arn", STR), Col("policy", JSON, "The resource policy, decoded"),
    Col("tags", JSON), Col("created_date", TS), Col("deleted_date", TS), Col("description", STR),
    Col("kms_key_id", STR, "NULL: the account's aws/secretsmanager key"), Col("last_accessed_date", TS),
    Col("last_changed_date", TS), Col("last_rotated_date", TS), Col("name", STR), Col("next_rotation_date", TS),
    Col("owning_service", STR), Col("primary_region", STR), Col("replication_status", JSON),
    Col("rotation_enabled", BOOL), Col("rotation_lambda_arn", STR), Col("rotation_rules", JSON),
    Col("version_ids_to_stages", JSON),
]


def list_secrets(ctx: Ctx, parent: Parent | None) -> Iterator[dict[str, Any]]:
    yield from ctx.paginate("secretsmanager", "ListSecrets", "SecretList", token_in="NextToken",
                            token_out="NextToken", MaxResults=100)


def enrich_secret(ctx: Ctx, item: dict[str, Any]) -> dict[str, Any]:
    arn = item.get("ARN") or ""
    failed: list[bool] = []
    r = ctx.call("secretsmanager", "GetResourcePolicy", resource_arn=arn, SecretId=arn, _failed=failed)
    if failed:
        item["_policy"] = None
    elif not r or not r.get("ResourcePolicy"):
        item["_policy"] = ""          # no resource policy: only its own account's IAM reaches it
    else:
        item["_policy"] = ctx.bounded_policy("secretsmanager", "GetResourcePolicy", r["ResourcePolicy"],
                                             SECRET_POLICY_MAX_BYTES, arn)
    item["_encryption"], item["_key_ref"] = "kms", item.get("KmsKeyId") or None
    return item


def secret_row(ctx: Ctx, item: dict[str, Any], parent: Parent | None) -> dict[str, Any]:
    row = project(item, COLUMNS)
    row["arn"] = item.get("ARN")
    row["policy"] = item.get("_policy") or None
    row["tags"] = {t.get("Key"): t.get("Value") for t in item.get("Tags") or [] if isinstance(t, dict)}
    row["version_ids_to_stages"] = item.get("SecretVersionsToStages")
    return row


SECRETS = TableDef(
    name="aws_secretsmanager_secrets", title="AWS Secrets Manager Secrets", description=DOC + "API_ListSecrets.html",
    columns=COLUMNS, pk_components=["arn"], api_calls=["secretsmanager:ListSecrets", "secretsmanager:GetResourcePolicy"],
    scope="region", listing="secretsmanager:ListSecrets", resolve=list_secrets, enrich=enrich_secret,
    to_row=secret_row,
    notes="Metadata and the resource policy only: the secret values are never read.",
)
