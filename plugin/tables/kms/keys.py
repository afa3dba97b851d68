"""aws_kms_keys: every key of every region, described; its children are the modules beside this one.

Columns, order and types follow the CloudQuery AWS plugin (docs/cloudquery.md, "Tables, columns and types"). Which call fills
which column, and for which kind of key it is made:

| call | fills | made for |
|---|---|---|
| ListKeys | the key list | every region |
| DescribeKey | aws_kms_keys metadata columns | every key |
| GetKeyRotationStatus | aws_kms_keys.rotation_enabled, aws_kms_key_rotation_statuses | customer managed, symmetric, AWS_KMS origin |
| ListResourceTags | aws_kms_keys.tags | customer managed keys |
| GetKeyPolicy | aws_kms_key_policies | every key |
| ListGrants | aws_kms_key_grants | every key |
| ListKeyRotations | aws_kms_key_rotations | customer managed symmetric keys of AWS_KMS or EXTERNAL origin |
| ListAliases | aws_kms_aliases | every region |

AWS rejects rotation calls for asymmetric and HMAC keys and keys in custom key stores
(UnsupportedOperationException) and does not let anyone tag AWS managed keys, so those calls are
not made: the columns stay NULL and no error is recorded.
"""

from __future__ import annotations

from typing import Any, Iterator

from ...aws.calls import Ctx, Parent
from ...source.sync_index import KeyInfo
from ..aws_encryption.key_types import classify
from ..schema import BOOL, INT, JSON, STR, STR_LIST, TS, Col, TableDef, project
from .key_grants import GRANTS
from .key_policies import POLICIES
from .key_rotation_statuses import ROTATION_STATUSES
from .key_rotations import ROTATIONS
from .key_rules import is_customer, supports_auto_rotation

DOC = "https://docs.aws.amazon.com/kms/latest/APIReference/"

KEY_COLUMNS = [
    Col("account_id", STR), Col("region", STR),
    Col("rotation_enabled", BOOL, "From GetKeyRotationStatus; NULL when not applicable or not readable"),
    Col("tags", JSON, "From ListResourceTags as a {key: value} map; NULL for AWS managed keys"),
    Col("arn", STR), Col("replica_keys", JSON), Col("key_id", STR), Col("aws_account_id", STR),
    Col("cloud_hsm_cluster_id", STR), Col("creation_date", TS), Col("custom_key_store_id", STR),
    Col("customer_master_key_spec", STR), Col("deletion_date", TS), Col("description", STR),
    Col("enabled", BOOL), Col("encryption_algorithms", STR_LIST), Col("expiration_model", STR),
    Col("key_manager", STR), Col("key_spec", STR), Col("key_state", STR), Col("key_usage", STR),
    Col("mac_algorithms", STR_LIST), Col("multi_region", BOOL), Col("multi_region_configuration", JSON),
    Col("origin", STR), Col("pending_deletion_window_in_days", INT), Col("signing_algorithms", STR_LIST),
    Col("valid_to", TS), Col("xks_key_configuration", JSON),
    # ours, after the CloudQuery columns: newer KeyMetadata fields
    Col("key_agreement_algorithms", STR_LIST, "KeyMetadata.KeyAgreementAlgorithms"),
    Col("current_key_material_id", STR, "KeyMetadata.CurrentKeyMaterialId"),
    Col("key_type", STR, "One of aws_encryption_key_types.key_type: customer managed (AWS, external or custom "
                         "key store material) or AWS managed; NULL when DescribeKey failed"),
]


def list_keys(ctx: Ctx, parent: Parent | None) -> Iterator[dict[str, Any]]:
    keys = ctx.collect("kms", "ListKeys", "Keys", token_in="Marker", token_out="NextMarker", Limit=1000)
    yield from keys or []


def index_key(ctx: Ctx, row: dict[str, Any], item: dict[str, Any]) -> None:
    if ctx.index is not None:
        ctx.index.add_key(KeyInfo(arn=row["arn"], key_id=row["key_id"], account_id=ctx.account_id,
                                  region=ctx.region, key_manager=row.get("key_manager"),
                                  key_state=row.get("key_state"), origin=row.get("origin"),
                                  key_type=row.get("key_type"), key_spec=row.get("key_spec"), item=item))


def enrich_key(ctx: Ctx, item: dict[str, Any]) -> dict[str, Any]:
    arn = item["KeyArn"]
    d = ctx.call("kms", "DescribeKey", resource_arn=arn, expect="KeyMetadata", KeyId=arn)
    if d is None:
        # As the CloudQuery plugin does: the row is still written, with arn and key_id only.
        return {"KeyId": item["KeyId"], "Arn": arn, "_meta": None}
    meta = d["KeyMetadata"]
    out = dict(meta)
    out["_meta"] = meta
    if supports_auto_rotation(meta):
        out["_rotation"] = ctx.call("kms", "GetKeyRotationStatus", resource_arn=arn, expect="KeyRotationEnabled",
                                    KeyId=arn)
    if is_customer(meta):
        tags = ctx.collect("kms", "ListResourceTags", "Tags", resource_arn=arn, token_in="Marker",
                           token_out="NextMarker", KeyId=arn, Limit=50)
        out["_tags"] = None if tags is None else {t["TagKey"]: t["TagValue"] for t in tags}
    return out


def key_row(ctx: Ctx, item: dict[str, Any], parent: Parent | None) -> dict[str, Any]:
    row = project(item, KEY_COLUMNS)
    rot = item.get("_rotation")
    row["rotation_enabled"] = rot.get("KeyRotationEnabled") if rot else None
    row["tags"] = item.get("_tags")
    mrc = item.get("MultiRegionConfiguration")
    row["replica_keys"] = mrc.get("ReplicaKeys") if mrc else None
    row["key_type"] = classify(item.get("_meta"))
    return row


KEYS = TableDef(
    name="aws_kms_keys", title="AWS KMS Keys", description=DOC + "API_KeyMetadata.html",
    columns=KEY_COLUMNS, pk_components=["arn"],
    api_calls=["kms:ListKeys", "kms:DescribeKey", "kms:GetKeyRotationStatus", "kms:ListResourceTags"],
    scope="region", listing="kms:ListKeys", resolve=list_keys, enrich=enrich_key, to_row=key_row,
    on_row=index_key,
    children=[GRANTS, POLICIES, ROTATION_STATUSES, ROTATIONS],  # + aws_kms_key_permissions, see below
    extra_columns=["key_agreement_algorithms", "current_key_material_id", "key_type"],
)
