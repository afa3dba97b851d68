"""aws_kms_key_rotations: each rotation of a key's material (ListKeyRotations, paginated), for the keys
that have rotations to list."""

from __future__ import annotations

from typing import Any, Iterator

from ...aws.calls import Ctx, Parent
from ..schema import STR, TS, Col, TableDef, project
from .key_rules import supports_rotation_list


DOC = "https://docs.aws.amazon.com/kms/latest/APIReference/"


def key_rotations(ctx: Ctx, parent: Parent) -> Iterator[dict[str, Any]]:
    meta = parent.item.get("_meta")
    if not meta or not supports_rotation_list(meta):
        return
    arn = parent.row["arn"]
    for r in ctx.paginate("kms", "ListKeyRotations", "Rotations", resource_arn=arn, token_in="Marker",
                          token_out="NextMarker", KeyId=arn, Limit=1000):
        yield {**r, "_key_arn": arn}


def rotation_row(ctx: Ctx, item: dict[str, Any], parent: Parent | None) -> dict[str, Any]:
    return project(item, ROTATIONS.columns, key_arn=item["_key_arn"])


ROTATIONS = TableDef(
    name="aws_kms_key_rotations", title="AWS KMS Key Rotations",
    description=DOC + "API_ListKeyRotations.html",
    columns=[Col("account_id", STR), Col("region", STR), Col("key_arn", STR), Col("key_id", STR),
             Col("rotation_date", TS), Col("rotation_type", STR),
             Col("key_material_id", STR), Col("key_material_description", STR), Col("import_state", STR),
             Col("key_material_state", STR), Col("expiration_model", STR), Col("valid_to", TS)],
    pk_components=["key_arn", "rotation_date"], api_calls=["kms:ListKeyRotations"], parent="aws_kms_keys",
    resolve=key_rotations, to_row=rotation_row,
    notes="Column list inferred from RotationsListEntry (the premium plugin's list is not public).",
)
