"""aws_kms_aliases: the aliases of every region (ListAliases, paginated), indexed for the derived
tables that resolve a bucket's `alias/...` key reference."""

from __future__ import annotations

from typing import Any, Iterator

from ...aws.calls import Ctx, Parent
from ..schema import STR, TS, Col, TableDef, project


DOC = "https://docs.aws.amazon.com/kms/latest/APIReference/"


def list_aliases(ctx: Ctx, parent: Parent | None) -> Iterator[dict[str, Any]]:
    aliases = ctx.collect("kms", "ListAliases", "Aliases", token_in="Marker", token_out="NextMarker", Limit=100)
    yield from aliases or []


def index_alias(ctx: Ctx, row: dict[str, Any], item: dict[str, Any]) -> None:
    if ctx.index is not None:
        ctx.index.add_alias(ctx.account_id, ctx.region, row["alias_name"], row.get("target_key_id"))


def alias_row(ctx: Ctx, item: dict[str, Any], parent: Parent | None) -> dict[str, Any]:
    return project(item, ALIASES.columns, arn=item.get("AliasArn"))


ALIASES = TableDef(
    name="aws_kms_aliases", title="AWS KMS Aliases", description=DOC + "API_AliasListEntry.html",
    columns=[Col("account_id", STR), Col("region", STR), Col("arn", STR), Col("alias_arn", STR),
             Col("alias_name", STR), Col("creation_date", TS), Col("last_updated_date", TS),
             Col("target_key_id", STR)],
    pk_components=["arn"], api_calls=["kms:ListAliases"], scope="region", listing="kms:ListAliases",
    resolve=list_aliases,
    to_row=alias_row, on_row=index_alias,
)
