"""aws_kms_key_rotation_statuses: GetKeyRotationStatus of the keys that support automatic rotation
(the response is fetched with the key, in plugin/tables/kms/keys.py)."""

from __future__ import annotations

from typing import Any, Iterator

from ...aws.calls import Ctx, Parent
from ..schema import BOOL, INT, STR, TS, Col, TableDef, project


DOC = "https://docs.aws.amazon.com/kms/latest/APIReference/"


def rotation_statuses(ctx: Ctx, parent: Parent) -> Iterator[dict[str, Any]]:
    rot = parent.item.get("_rotation")
    if rot:
        yield {**rot, "_key_arn": parent.row["arn"], "KeyId": parent.row["key_id"]}


def rotation_status_row(ctx: Ctx, item: dict[str, Any], parent: Parent | None) -> dict[str, Any]:
    return project(item, ROTATION_STATUSES.columns, key_arn=item["_key_arn"])


ROTATION_STATUSES = TableDef(
    name="aws_kms_key_rotation_statuses", title="AWS KMS Key Rotation Statuses",
    description=DOC + "API_GetKeyRotationStatus.html",
    columns=[Col("account_id", STR), Col("region", STR), Col("key_arn", STR), Col("key_id", STR),
             Col("key_rotation_enabled", BOOL), Col("next_rotation_date", TS),
             Col("on_demand_rotation_start_date", TS), Col("rotation_period_in_days", INT)],
    pk_components=["key_arn"], api_calls=["kms:GetKeyRotationStatus"], parent="aws_kms_keys",
    resolve=rotation_statuses, to_row=rotation_status_row,
    notes="One row per key that supports automatic rotation and whose status could be read. Column "
          "list inferred from GetKeyRotationStatusOutput (the premium plugin's list is not public).",
)
