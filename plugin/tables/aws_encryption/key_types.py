"""Key types: the key type table of docs/key-types.md as data, and the classification of every key into it.

`aws_kms_keys.key_type` (ours) holds one of the ids below; `aws_encryption_key_types` (ours) is the
reference table, so a check can join a key to what its type allows (cross-account use, rotation).
"""

from __future__ import annotations

from typing import Any, Iterator

from ..schema import STR, Col, TableDef

CUSTOMER_AWS_MATERIAL = "customer_managed_aws_key_material"
CUSTOMER_EXTERNAL_MATERIAL = "customer_managed_external_key_material"
CUSTOMER_CUSTOM_KEY_STORE = "customer_managed_custom_key_store"
AWS_MANAGED = "aws_managed"
AWS_OWNED = "aws_owned"

KEY_TYPES: list[dict[str, str]] = [
    {"key_type": CUSTOMER_EXTERNAL_MATERIAL, "name": "Customer managed key: external (imported) key material",
     "multi_account_access": "yes", "can_view_metadata": "yes", "can_manage": "yes",
     "used_only_for_my_account": "yes", "automatic_rotation": "no", "pricing": "monthly and per-use fee",
     "identified_by": "KeyManager=CUSTOMER, Origin=EXTERNAL",
     "notes": "Rotate manually by importing new key material (ListKeyRotations lists on-demand rotations)."},
    {"key_type": CUSTOMER_CUSTOM_KEY_STORE, "name": "Customer managed key: custom key store (CloudHSM or external key store)",
     "multi_account_access": "yes", "can_view_metadata": "yes", "can_manage": "yes",
     "used_only_for_my_account": "yes", "automatic_rotation": "no", "pricing": "monthly and per-use fee",
     "identified_by": "KeyManager=CUSTOMER, Origin=AWS_CLOUDHSM or EXTERNAL_KEY_STORE",
     "notes": "Automatic and on-demand rotation are not supported; rotate by creating a new key."},
    {"key_type": CUSTOMER_AWS_MATERIAL, "name": "Customer managed key: AWS-provided key material",
     "multi_account_access": "yes", "can_view_metadata": "yes", "can_manage": "yes",
     "used_only_for_my_account": "yes", "automatic_rotation": "optional", "pricing": "monthly and per-use fee",
     "identified_by": "KeyManager=CUSTOMER, Origin=AWS_KMS",
     "notes": "Automatic rotation only for symmetric encryption keys (90-2560 days, default 365)."},
    {"key_type": AWS_MANAGED, "name": "AWS managed key (aws/<service>)",
     "multi_account_access": "no", "can_view_metadata": "yes", "can_manage": "no",
     "used_only_for_my_account": "yes", "automatic_rotation": "required", "pricing": "per-use fee",
     "identified_by": "KeyManager=AWS",
     "notes": "Policy admits only its own account (kms:CallerAccount) through one service (kms:ViaService) and "
              "cannot be changed; no grants from other accounts. Rotated yearly by AWS."},
    {"key_type": AWS_OWNED, "name": "AWS owned key (e.g. SSE-S3)",
     "multi_account_access": "varies", "can_view_metadata": "no", "can_manage": "no",
     "used_only_for_my_account": "no", "automatic_rotation": "varies", "pricing": "varies",
     "identified_by": "not in KMS; S3 default encryption AES256 (SSE-S3)",
     "notes": "SSE-S3 works across accounts without any key policy."},
]


def classify(meta: dict[str, Any] | None) -> str | None:
    """The key type of a KeyMetadata dict, or None when it could not be described."""
    if not meta:
        return None
    if meta.get("KeyManager") == "AWS":
        return AWS_MANAGED
    origin = meta.get("Origin")
    if origin == "EXTERNAL":
        return CUSTOMER_EXTERNAL_MATERIAL
    if origin in ("AWS_CLOUDHSM", "EXTERNAL_KEY_STORE") or meta.get("CustomKeyStoreId"):
        return CUSTOMER_CUSTOM_KEY_STORE
    return CUSTOMER_AWS_MATERIAL


def _static(ctx: Any, parent: Any) -> Iterator[dict[str, Any]]:
    yield from (dict(r) for r in KEY_TYPES)


KEY_TYPES_TABLE = TableDef(
    name="aws_encryption_key_types", title="aws-encryption Key Types",
    description="The KMS key types, what each allows (cross-account use, management, rotation) and how a key is "
                "classified into one (ours; KMS's key types with customer managed keys split by key material, see docs/key-types.md).",
    columns=[Col("key_type", STR, "Id used by aws_kms_keys.key_type"), Col("name", STR),
             Col("multi_account_access", STR), Col("can_view_metadata", STR), Col("can_manage", STR),
             Col("used_only_for_my_account", STR), Col("automatic_rotation", STR), Col("pricing", STR),
             Col("identified_by", STR), Col("notes", STR)],
    pk_components=["key_type"], api_calls=[], scope="static", resolve=_static,
)
