"""aws_kms_key_grants: each key's grants (ListGrants, paginated, once per key)."""

from __future__ import annotations

from typing import Any, Iterator

from ...aws.calls import Ctx, Parent
from ..schema import JSON, STR, STR_LIST, TS, Col, TableDef, project


DOC = "https://docs.aws.amazon.com/kms/latest/APIReference/"


def fetch_grants(ctx: Ctx, parent: Parent) -> list[dict[str, Any]] | None:
    if "_grants" not in parent.item:
        arn = parent.row["arn"]
        parent.item["_grants"] = ctx.with_table(GRANTS.name).collect(
            "kms", "ListGrants", "Grants", resource_arn=arn, token_in="Marker", token_out="NextMarker",
            KeyId=arn, Limit=100)
    return parent.item["_grants"]


def key_grants(ctx: Ctx, parent: Parent) -> Iterator[dict[str, Any]]:
    for g in fetch_grants(ctx, parent) or []:
        yield {**g, "_key_arn": parent.row["arn"]}


def grant_row(ctx: Ctx, item: dict[str, Any], parent: Parent | None) -> dict[str, Any]:
    return project(item, GRANTS.columns, key_arn=item["_key_arn"])


GRANTS = TableDef(
    name="aws_kms_key_grants", title="AWS KMS Key Grants",
    description=DOC + "API_GrantListEntry.html",
    columns=[Col("account_id", STR), Col("region", STR), Col("key_arn", STR), Col("grant_id", STR),
             Col("constraints", JSON), Col("creation_date", TS), Col("grantee_principal", STR),
             Col("issuing_account", STR), Col("key_id", STR), Col("name", STR), Col("operations", STR_LIST),
             Col("retiring_principal", STR),
             Col("grantee_service_principal", STR, "GrantListEntry.GranteeServicePrincipal"),
             Col("retiring_service_principal", STR, "GrantListEntry.RetiringServicePrincipal")],
    pk_components=["key_arn", "grant_id"], api_calls=["kms:ListGrants"], parent="aws_kms_keys",
    resolve=key_grants, to_row=grant_row,
    extra_columns=["grantee_service_principal", "retiring_service_principal"],
)
