"""aws_s3_bucket_encryption_keys (ours): which KMS key each bucket's default encryption really uses.

One row per bucket, derived at the end of the sync from the bucket's encryption rule and the keys
and aliases of every synced account:
- `sse_algorithm`: SSE-S3 (AES256), SSE-KMS (aws:kms) or DSSE-KMS (aws:kms:dsse). A bucket with no
  encryption configuration is SSE-S3 (S3 encrypts every new object with SSE-S3 since January 2023);
  NULL when the configuration could not be read (see aws_encryption_sync_errors).
- `key_reference` as configured and `reference_type`: key_arn, key_id, alias_name, alias_arn, or
  default_aws_managed (SSE-KMS with no key id: the account's `aws/s3` key in the bucket's region).
  Key ids and alias names are resolved in the account of whoever writes the object, so for
  cross-account writers only a key ARN is unambiguous.
- the resolved key: ARN, account, region, whether it is in the bucket's account and region, whether
  the sync knows it, and its manager, state, origin and type.
"""

from __future__ import annotations

import re
from typing import Any, Iterator

from ..aws.calls import Ctx, Parent
from ..tables.schema import BOOL, STR, Col, TableDef
from ..tables.aws_encryption.key_types import AWS_MANAGED, AWS_OWNED

_ALGORITHMS = {"AES256": "SSE-S3", "aws:kms": "SSE-KMS", "aws:kms:dsse": "DSSE-KMS"}
_KEY_ARN = re.compile(r"^arn:(?P<p>[\w-]+):kms:(?P<region>[\w-]+):(?P<account>\d{12}):key/(?P<id>.+)$")
_ALIAS_ARN = re.compile(r"^arn:(?P<p>[\w-]+):kms:(?P<region>[\w-]+):(?P<account>\d{12}):(?P<alias>alias/.+)$")


def prefetch(ctx: Ctx, parent: Parent) -> None:
    from ..tables.s3.bucket_encryption_rules import fetch_encryption
    from ..tables.s3.bucket_policies import fetch_bucket_policy
    rules = fetch_encryption(ctx, parent)
    fetch_bucket_policy(ctx, parent)
    # A key another shard syncs (another account's): read now, in the bucket's task, not at the end.
    ref = (((rules or [{}])[0].get("ApplyServerSideEncryptionByDefault") or {}).get("KMSMasterKeyID")
           if rules else None)
    if isinstance(ref, str):
        from .other_shard_keys import key_elsewhere
        r = resolve_reference(ref, ctx.account_id, parent.row.get("region") or ctx.region)
        key_elsewhere(ctx, r["account"], r["region"], ref)


def enforces_key(policy: str | None, owner: str, key_arn: str | None, key_id: str | None) -> bool | None:
    """Does the bucket policy refuse uploads that name another KMS key (or none)? A Deny for everyone on
    s3:PutObject with a negated condition on `s3:x-amz-server-side-encryption-aws-kms-key-id` naming
    the key (AWS's "require a specific key" pattern). None when the policy is unreadable."""
    if policy is None:
        return None
    if not policy or not key_arn:
        return False
    from .actions import statement_covers
    from .policy import analyze
    wanted = {key_arn, key_id} - {None}
    for st in analyze(policy, owner).statements:
        if st.effect != "Deny" or not statement_covers(st.actions, st.not_actions, "s3:PutObject"):
            continue
        if not any(p.is_wildcard for p in st.principals):
            continue
        for op, keys in st.conditions.items():
            negated = "not" in op.lower() and not op.lower().startswith("forallvalues")
            for k, vals in keys.items():
                if (negated and k.lower() == "s3:x-amz-server-side-encryption-aws-kms-key-id"
                        and any(v in wanted for v in vals)):
                    return True
    return False


def resolve_reference(ref: str | None, bucket_account: str, bucket_region: str) -> dict[str, Any]:
    """How a KMSMasterKeyID is interpreted, before looking it up (pure, for tests and the docs)."""
    if not ref:
        return {"reference_type": "default_aws_managed", "account": bucket_account, "region": bucket_region,
                "alias": "alias/aws/s3", "key_id": None}
    m = _KEY_ARN.match(ref)
    if m:
        return {"reference_type": "key_arn", "account": m["account"], "region": m["region"], "alias": None,
                "key_id": m["id"]}
    m = _ALIAS_ARN.match(ref)
    if m:
        return {"reference_type": "alias_arn", "account": m["account"], "region": m["region"],
                "alias": m["alias"], "key_id": None}
    if ref.startswith("alias/"):
        return {"reference_type": "alias_name", "account": bucket_account, "region": bucket_region,
                "alias": ref, "key_id": None}
    return {"reference_type": "key_id", "account": bucket_account, "region": bucket_region, "alias": None,
            "key_id": ref}


def find_key(idx: Any, r: dict[str, Any], ref: str | None) -> tuple[str | None, Any]:
    """(key id, its KeyInfo or None) that a reference (`resolve_reference`'s answer) names among the keys
    and aliases the sync read."""
    key_id = r["key_id"]
    if idx is None:
        return key_id, None
    if r["alias"]:
        key_id = idx.alias_target(r["account"], r["region"], r["alias"])
    info = idx.key_by_id(r["account"], r["region"], key_id) if key_id else None
    if info is None and key_id and r["reference_type"] == "key_arn":
        info = idx.keys.get(ref)
    return key_id, info


def lookup_key(ctx: Ctx, r: dict[str, Any], ref: str | None) -> tuple[str | None, Any]:
    """`find_key` in the sync's index, else, in a sharded sync, the key as the shard that owns its unit
    syncs it (plugin/analysis/other_shard_keys.py)."""
    key_id, info = find_key(ctx.index, r, ref)
    if info is None:
        from .other_shard_keys import key_elsewhere
        info = key_elsewhere(ctx, r["account"], r["region"], ref or r["alias"])
    return key_id, info


def encryption_keys(ctx: Ctx, parent: Parent) -> Iterator[dict[str, Any]]:
    yield bucket_key_row(ctx, parent)


def bucket_key_row(ctx: Ctx, parent: Parent) -> dict[str, Any]:
    """The bucket's row of this table, resolved once (aws_s3_bucket_access_paths reads it too)."""
    if "_key_row" not in parent.item:
        parent.item["_key_row"] = next(_resolve(ctx, parent))
    return parent.item["_key_row"]


def _resolve(ctx: Ctx, parent: Parent) -> Iterator[dict[str, Any]]:
    bucket = parent.row
    rules = parent.item.get("_encryption")
    base = {"account_id": ctx.account_id, "bucket_arn": bucket["arn"], "bucket_region": bucket["region"]}
    empty = {"policy_enforces_key": None, "key_reference": None, "reference_type": None, "resolved_key_arn": None, "key_account_id": None,
             "key_region": None, "same_account": None, "same_region": None, "key_known": None,
             "key_manager": None, "key_state": None, "key_origin": None, "key_type": None, "bucket_key_enabled": None}
    if rules is None:
        yield {**base, **empty, "sse_algorithm": None, "encryption_configured": None}
        return
    if not rules:
        yield {**base, **empty, "sse_algorithm": "SSE-S3", "encryption_configured": False, "key_type": AWS_OWNED}
        return
    rule = rules[0]
    by_default = rule.get("ApplyServerSideEncryptionByDefault") or {}
    algo = by_default.get("SSEAlgorithm")
    row = {**base, **empty, "sse_algorithm": _ALGORITHMS.get(algo, algo), "encryption_configured": True,
           "bucket_key_enabled": rule.get("BucketKeyEnabled")}
    if algo == "AES256":
        row["key_type"] = AWS_OWNED
        yield row
        return
    ref = by_default.get("KMSMasterKeyID") or None
    r = resolve_reference(ref, ctx.account_id, bucket["region"])
    row.update({"key_reference": ref, "reference_type": r["reference_type"], "key_account_id": r["account"],
                "key_region": r["region"]})
    key_id, info = lookup_key(ctx, r, ref)
    if info is not None:
        row.update({"resolved_key_arn": info.arn, "key_known": True, "key_manager": info.key_manager,
                    "key_state": info.key_state, "key_origin": info.origin, "key_type": info.key_type})
    else:
        partition = ctx.partition
        if key_id and r["account"] and r["region"]:
            row["resolved_key_arn"] = f"arn:{partition}:kms:{r['region']}:{r['account']}:key/{key_id}"
        row["key_known"] = False
        if r["reference_type"] == "default_aws_managed" or (r["alias"] or "").startswith("alias/aws/"):
            # aws/s3 is AWS managed by definition, even before the sync has seen it
            row["key_manager"], row["key_type"] = "AWS", AWS_MANAGED
    row["same_account"] = r["account"] == ctx.account_id
    row["same_region"] = r["region"] == bucket["region"]
    row["policy_enforces_key"] = enforces_key(parent.item.get("_policy"), ctx.account_id, row["resolved_key_arn"],
                                              key_id)
    yield row


S3_BUCKET_ENCRYPTION_KEYS = TableDef(
    name="aws_s3_bucket_encryption_keys", title="aws-encryption S3 Bucket Encryption Keys",
    description="The key each bucket's default encryption uses, resolved against the synced keys and aliases "
                "(ours).",
    columns=[Col("account_id", STR), Col("bucket_arn", STR), Col("bucket_region", STR),
             Col("sse_algorithm", STR, "SSE-S3, SSE-KMS or DSSE-KMS; NULL when unreadable"),
             Col("encryption_configured", BOOL, "false: no configuration, S3's default SSE-S3 applies"),
             Col("bucket_key_enabled", BOOL),
             Col("key_reference", STR, "KMSMasterKeyID as configured"),
             Col("reference_type", STR, "key_arn | key_id | alias_name | alias_arn | default_aws_managed"),
             Col("resolved_key_arn", STR, "The key ARN the reference resolves to in the bucket's account"),
             Col("key_account_id", STR), Col("key_region", STR),
             Col("same_account", BOOL, "The key is in the bucket's account"),
             Col("same_region", BOOL, "The key is in the bucket's region (S3 requires it)"),
             Col("key_known", BOOL, "The sync saw the key (false: not found, not synced, or no permission)"),
             Col("key_manager", STR), Col("key_state", STR), Col("key_origin", STR),
             Col("key_type", STR, "aws_encryption_key_types.key_type; aws_owned for SSE-S3"),
             Col("policy_enforces_key", BOOL, "SSE-KMS: the bucket policy refuses uploads naming another key or none "
                                              "(NULL: policy unreadable)")],
    pk_components=["bucket_arn"], api_calls=[], parent="aws_s3_buckets", resolve=encryption_keys,
    deferred=True, prefetch=prefetch,
    notes="Derived at the end of the sync from GetBucketEncryption and the synced keys and aliases; no call "
          "of its own.",
)
