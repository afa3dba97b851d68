"""S3 tables: aws_s3_buckets and its encryption, policy, public access block and ownership children.

| call | fills | note |
|---|---|---|
| ListBuckets (paginated, MaxBuckets=1000) | the bucket list, `region` from `BucketRegion` | one global call per account |
| GetBucketLocation | `region` when ListBuckets gave no `BucketRegion` | fallback (moto, older partitions) |
| GetBucketPolicy | aws_s3_bucket_policies | no row when there is no policy; asked first, once |
| GetBucketPolicyStatus | aws_s3_buckets.policy_status | NULL when the bucket has no policy (then not asked) |
| GetBucketTagging | aws_s3_buckets.tags | NULL when the bucket has no tags |
| GetBucketEncryption | aws_s3_bucket_encryption_rules | no row when not configured |
| GetPublicAccessBlock | aws_s3_bucket_public_access_blocks | no row when not configured |
| GetBucketOwnershipControls | aws_s3_bucket_ownership_controls | no row when not configured |

Per-bucket calls go to the bucket's region. Buckets in regions outside the account's `regions`
are not synced (the spec's regions bound the whole sync, as for KMS).
"""

from __future__ import annotations

import json
from typing import Any, Iterator

from ...aws.answers import BUCKET_POLICY_MAX_BYTES
from ...aws.calls import Ctx, Parent
from ..schema import BOOL, JSON, STR, TS, Col, TableDef

DOC = "https://docs.aws.amazon.com/AmazonS3/latest/API/"

NO_POLICY = ("NoSuchBucketPolicy",)
NO_TAGS = ("NoSuchTagSet", "NoSuchTagSetError")
NO_ENCRYPTION = ("ServerSideEncryptionConfigurationNotFoundError",)
NO_PAB = ("NoSuchPublicAccessBlockConfiguration",)
NO_OWNERSHIP = ("OwnershipControlsNotFoundError",)


def bucket_region(location: dict[str, Any] | None) -> str | None:
    if location is None:
        return None
    c = location.get("LocationConstraint")
    if not c:
        return "us-east-1"
    return "eu-west-1" if c == "EU" else c


def list_buckets(ctx: Ctx, parent: Parent | None) -> Iterator[dict[str, Any]]:
    # moto 5.2 truncates at MaxBuckets without a ContinuationToken and omits BucketRegion; with
    # MaxBuckets=1000 the fixture (and any account under 1000 buckets) is complete, and
    # GetBucketLocation supplies the region.
    wanted = set(ctx.regions)
    # Every shard lists the account's buckets; the listing's own failures are recorded once.
    lctx = ctx.for_account_level()
    for b in lctx.paginate("s3", "ListBuckets", "Buckets", token_in="ContinuationToken",
                           token_out="ContinuationToken", MaxBuckets=1000):
        name = b["Name"]
        arn = f"arn:{ctx.partition}:s3:::{name}"
        region = b.get("BucketRegion")
        if not region:
            region = bucket_region(lctx.call("s3", "GetBucketLocation", resource_arn=arn, Bucket=name))
        if region is None:
            continue  # the failed GetBucketLocation is recorded; without a region nothing else can be read
        if wanted and region not in wanted:
            continue
        if not ctx.owns(region):
            continue
        yield {**b, "_arn": arn, "_region": region}


def enrich_bucket(ctx: Ctx, item: dict[str, Any]) -> dict[str, Any]:
    name, arn = item["Name"], item["_arn"]
    # GetBucketPolicy first: on a bucket without a policy GetBucketPolicyStatus can only answer
    # NoSuchBucketPolicy (S3 API reference), so it is asked only when there is a policy or the
    # policy could not be read. Most buckets have none: one call in seven saved per bucket.
    if _bucket_policy(ctx.with_table(POLICIES.name), item) == "":
        item["_policy_status"] = None
    else:
        ps = ctx.call("s3", "GetBucketPolicyStatus", resource_arn=arn, absent=NO_POLICY, expect="PolicyStatus",
                      Bucket=name)
        item["_policy_status"] = ps.get("PolicyStatus") if ps else None
    tg = ctx.call("s3", "GetBucketTagging", resource_arn=arn, absent=NO_TAGS, expect="TagSet", Bucket=name)
    item["_tags"] = {t["Key"]: t["Value"] for t in tg.get("TagSet", [])} if tg else None
    return item


def bucket_row(ctx: Ctx, item: dict[str, Any], parent: Parent | None) -> dict[str, Any]:
    return {
        "account_id": ctx.account_id, "arn": item["_arn"], "creation_date": item.get("CreationDate"),
        "name": item["Name"], "region": item["_region"], "policy_status": item["_policy_status"],
        "tags": item["_tags"],
    }


def fetch_encryption(ctx: Ctx, parent: Parent) -> list[dict[str, Any]] | None:
    """The bucket's encryption rules, fetched once: [] when not configured, None when unreadable."""
    if "_encryption" not in parent.item:
        failed: list[bool] = []
        c = ctx.with_table(ENCRYPTION_RULES.name)
        r = c.call("s3", "GetBucketEncryption", resource_arn=parent.row["arn"], absent=NO_ENCRYPTION,
                   expect="ServerSideEncryptionConfiguration", Bucket=parent.row["name"], _failed=failed)
        if failed:
            parent.item["_encryption"] = None
        else:
            parent.item["_encryption"] = (r or {}).get("ServerSideEncryptionConfiguration", {}).get("Rules", []) or []
    return parent.item["_encryption"]


def _bucket_policy(ctx: Ctx, item: dict[str, Any]) -> str | None:
    if "_policy" not in item:
        failed: list[bool] = []
        r = ctx.call("s3", "GetBucketPolicy", resource_arn=item["_arn"], absent=NO_POLICY, expect="Policy",
                     Bucket=item["Name"], _failed=failed)
        if failed:
            item["_policy"] = None
        elif r is None:
            item["_policy"] = ""  # NoSuchBucketPolicy: the bucket has none
        else:
            item["_policy"] = ctx.bounded_policy("s3", "GetBucketPolicy", r["Policy"], BUCKET_POLICY_MAX_BYTES,
                                                 item["_arn"])
    return item["_policy"]


def fetch_bucket_policy(ctx: Ctx, parent: Parent) -> str | None:
    """The bucket policy text: "" when there is none, None when unreadable (fetched once per bucket)."""
    return _bucket_policy(ctx.with_table(POLICIES.name), parent.item)


def encryption_rules(ctx: Ctx, parent: Parent) -> Iterator[dict[str, Any]]:
    for rule in fetch_encryption(ctx, parent) or []:
        yield {"bucket_arn": parent.row["arn"],
               "apply_server_side_encryption_by_default": rule.get("ApplyServerSideEncryptionByDefault"),
               "bucket_key_enabled": rule.get("BucketKeyEnabled"),
               "blocked_encryption_types": rule.get("BlockedEncryptionTypes")}


def policies(ctx: Ctx, parent: Parent) -> Iterator[dict[str, Any]]:
    raw = fetch_bucket_policy(ctx, parent)
    if not raw:
        return
    try:
        parsed: Any = json.loads(raw)
    except (ValueError, RecursionError):
        parsed = None
    yield {"bucket_arn": parent.row["arn"], "policy_json": parsed, "policy": raw}


def public_access_blocks(ctx: Ctx, parent: Parent) -> Iterator[dict[str, Any]]:
    r = ctx.call("s3", "GetPublicAccessBlock", resource_arn=parent.row["arn"], absent=NO_PAB,
                 expect="PublicAccessBlockConfiguration", Bucket=parent.row["name"])
    if r is not None:
        yield {"bucket_arn": parent.row["arn"],
               "public_access_block_configuration": r.get("PublicAccessBlockConfiguration")}


def ownership_controls(ctx: Ctx, parent: Parent) -> Iterator[dict[str, Any]]:
    r = ctx.call("s3", "GetBucketOwnershipControls", resource_arn=parent.row["arn"], absent=NO_OWNERSHIP,
                 expect="OwnershipControls", Bucket=parent.row["name"])
    if r is None:
        return
    for rule in r.get("OwnershipControls", {}).get("Rules", []) or []:
        yield {"bucket_arn": parent.row["arn"], "object_ownership": rule.get("ObjectOwnership")}


def _child_row(ctx: Ctx, item: dict[str, Any], parent: Parent | None) -> dict[str, Any]:
    return {"account_id": ctx.account_id, **item}


ENCRYPTION_RULES = TableDef(
    name="aws_s3_bucket_encryption_rules", title="AWS S3 Bucket Encryption Rules",
    description=DOC + "API_ServerSideEncryptionRule.html",
    columns=[Col("account_id", STR), Col("bucket_arn", STR),
             Col("apply_server_side_encryption_by_default", JSON,
                 '{"SSEAlgorithm": "aws:kms"|"AES256"|"aws:kms:dsse", "KMSMasterKeyID": ...}'),
             Col("bucket_key_enabled", BOOL),
             Col("blocked_encryption_types", JSON, "ServerSideEncryptionRule.BlockedEncryptionTypes")],
    pk_components=["bucket_arn"], api_calls=["s3:GetBucketEncryption"], parent="aws_s3_buckets",
    resolve=encryption_rules, to_row=_child_row, extra_columns=["blocked_encryption_types"],
)

POLICIES = TableDef(
    name="aws_s3_bucket_policies", title="AWS S3 Bucket Policies", description=DOC + "API_GetBucketPolicy.html",
    columns=[Col("account_id", STR), Col("bucket_arn", STR), Col("policy_json", JSON), Col("policy", STR)],
    pk_components=["bucket_arn"], api_calls=["s3:GetBucketPolicy"], parent="aws_s3_buckets",
    resolve=policies, to_row=_child_row,
)

PUBLIC_ACCESS_BLOCKS = TableDef(
    name="aws_s3_bucket_public_access_blocks", title="AWS S3 Bucket Public Access Blocks",
    description=DOC + "API_GetPublicAccessBlock.html",
    columns=[Col("account_id", STR), Col("bucket_arn", STR), Col("public_access_block_configuration", JSON)],
    pk_components=["bucket_arn"], api_calls=["s3:GetPublicAccessBlock"], parent="aws_s3_buckets",
    resolve=public_access_blocks, to_row=_child_row,
)

OWNERSHIP_CONTROLS = TableDef(
    name="aws_s3_bucket_ownership_controls", title="AWS S3 Bucket Ownership Controls",
    description=DOC + "API_GetBucketOwnershipControls.html",
    columns=[Col("account_id", STR), Col("bucket_arn", STR), Col("object_ownership", STR)],
    pk_components=["bucket_arn", "object_ownership"], api_calls=["s3:GetBucketOwnershipControls"],
    parent="aws_s3_buckets", resolve=ownership_controls, to_row=_child_row,
)

BUCKETS = TableDef(
    name="aws_s3_buckets", title="AWS S3 Buckets", description=DOC + "API_ListBuckets.html",
    columns=[Col("account_id", STR), Col("arn", STR), Col("creation_date", TS), Col("name", STR),
             Col("region", STR), Col("policy_status", JSON, '{"IsPublic": bool}'), Col("tags", JSON)],
    pk_components=["arn"],
    api_calls=["s3:ListBuckets", "s3:GetBucketLocation", "s3:GetBucketPolicyStatus", "s3:GetBucketTagging"],
    scope="account", listing="s3:ListBuckets", resolve=list_buckets, enrich=enrich_bucket, to_row=bucket_row,
    children=[ENCRYPTION_RULES, POLICIES, PUBLIC_ACCESS_BLOCKS, OWNERSHIP_CONTROLS],
)
