"""KMS tables: aws_kms_keys and its children, aws_kms_aliases.

Columns, order and types follow the CloudQuery AWS plugin (reference s1.2, s1.5). Which call fills
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

from ...aws.answers import KEY_POLICY_MAX_BYTES
from ...aws.calls import Ctx, Parent
from ...source.sync_index import KeyInfo
from .key_rules import is_customer, supports_auto_rotation, supports_rotation_list
from ..aws_encryption.key_types import classify
from ..schema import BOOL, INT, JSON, STR, STR_LIST, TS, Col, TableDef, project

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
    if keys is not None and ctx.index is not None:
        ctx.index.mark("keys", ctx.account_id, ctx.region)
    yield from keys or []


def index_key(ctx: Ctx, row: dict[str, Any], item: dict[str, Any]) -> None:
    if ctx.index is not None:
        ctx.index.add_key(KeyInfo(arn=row["arn"], key_id=row["key_id"], account_id=ctx.account_id,
                                  region=ctx.region, key_manager=row.get("key_manager"),
                                  key_state=row.get("key_state"), origin=row.get("origin"),
                                  key_type=row.get("key_type"), key_spec=row.get("key_spec")))


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


def fetch_policy(ctx: Ctx, parent: Parent) -> str | None:
    """The key policy, fetched once per key whichever tables need it (None: failed, recorded)."""
    if "_policy" not in parent.item:
        arn = parent.row["arn"]
        pctx = ctx.with_table(POLICIES.name)
        r = pctx.call("kms", "GetKeyPolicy", resource_arn=arn, expect="Policy", KeyId=arn, PolicyName="default")
        parent.item["_policy"] = None if r is None else pctx.bounded_policy(
            "kms", "GetKeyPolicy", r["Policy"], KEY_POLICY_MAX_BYTES, arn)
    return parent.item["_policy"]


def fetch_grants(ctx: Ctx, parent: Parent) -> list[dict[str, Any]] | None:
    if "_grants" not in parent.item:
        arn = parent.row["arn"]
        parent.item["_grants"] = ctx.with_table(GRANTS.name).collect(
            "kms", "ListGrants", "Grants", resource_arn=arn, token_in="Marker", token_out="NextMarker",
            KeyId=arn, Limit=100)
    return parent.item["_grants"]


def key_policies(ctx: Ctx, parent: Parent) -> Iterator[dict[str, Any]]:
    policy = fetch_policy(ctx, parent)
    if policy is not None:
        yield {"key_arn": parent.row["arn"], "name": "default", "policy": policy}


def key_grants(ctx: Ctx, parent: Parent) -> Iterator[dict[str, Any]]:
    for g in fetch_grants(ctx, parent) or []:
        yield {**g, "_key_arn": parent.row["arn"]}


def grant_row(ctx: Ctx, item: dict[str, Any], parent: Parent | None) -> dict[str, Any]:
    return project(item, GRANTS.columns, key_arn=item["_key_arn"])


def rotation_statuses(ctx: Ctx, parent: Parent) -> Iterator[dict[str, Any]]:
    rot = parent.item.get("_rotation")
    if rot:
        yield {**rot, "_key_arn": parent.row["arn"], "KeyId": parent.row["key_id"]}


def rotation_status_row(ctx: Ctx, item: dict[str, Any], parent: Parent | None) -> dict[str, Any]:
    return project(item, ROTATION_STATUSES.columns, key_arn=item["_key_arn"])


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


def list_aliases(ctx: Ctx, parent: Parent | None) -> Iterator[dict[str, Any]]:
    aliases = ctx.collect("kms", "ListAliases", "Aliases", token_in="Marker", token_out="NextMarker", Limit=100)
    if aliases is not None and ctx.index is not None:
        ctx.index.mark("aliases", ctx.account_id, ctx.region)
    yield from aliases or []


def index_alias(ctx: Ctx, row: dict[str, Any], item: dict[str, Any]) -> None:
    if ctx.index is not None:
        ctx.index.add_alias(ctx.account_id, ctx.region, row["alias_name"], row.get("target_key_id"))


def alias_row(ctx: Ctx, item: dict[str, Any], parent: Parent | None) -> dict[str, Any]:
    return project(item, ALIASES.columns, arn=item.get("AliasArn"))


POLICIES = TableDef(
    name="aws_kms_key_policies", title="AWS KMS Key Policies",
    description=DOC + "API_GetKeyPolicy.html",
    columns=[Col("account_id", STR), Col("region", STR), Col("key_arn", STR), Col("name", STR),
             Col("policy", JSON, "The key policy document, verbatim")],
    pk_components=["key_arn", "name"], api_calls=["kms:GetKeyPolicy"], parent="aws_kms_keys",
    resolve=key_policies,
)

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

KEYS = TableDef(
    name="aws_kms_keys", title="AWS KMS Keys", description=DOC + "API_KeyMetadata.html",
    columns=KEY_COLUMNS, pk_components=["arn"],
    api_calls=["kms:ListKeys", "kms:DescribeKey", "kms:GetKeyRotationStatus", "kms:ListResourceTags"],
    scope="region", listing="kms:ListKeys", resolve=list_keys, enrich=enrich_key, to_row=key_row,
    on_row=index_key,
    children=[GRANTS, POLICIES, ROTATION_STATUSES, ROTATIONS],  # + aws_kms_key_permissions, see below
    extra_columns=["key_agreement_algorithms", "current_key_material_id", "key_type"],
)

ALIASES = TableDef(
    name="aws_kms_aliases", title="AWS KMS Aliases", description=DOC + "API_AliasListEntry.html",
    columns=[Col("account_id", STR), Col("region", STR), Col("arn", STR), Col("alias_arn", STR),
             Col("alias_name", STR), Col("creation_date", TS), Col("last_updated_date", TS),
             Col("target_key_id", STR)],
    pk_components=["arn"], api_calls=["kms:ListAliases"], scope="region", listing="kms:ListAliases",
    resolve=list_aliases,
    to_row=alias_row, on_row=index_alias,
)
