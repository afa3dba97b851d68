"""aws_s3_buckets: every bucket of the account; its children are the modules beside this one.

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
| GetBucketAcl | aws_s3_bucket_grants | only while ACLs are in force (Object Ownership not BucketOwnerEnforced) |
| GetBucketReplication | aws_s3_bucket_replications | no row when not configured |
| GetBucketLogging | aws_s3_bucket_loggings | a row with NULL logging_enabled when logging is off |

Per-bucket calls go to the bucket's region. Buckets in regions outside the account's `regions`
are not synced (the spec's regions bound the whole sync, as for KMS).
"""

from __future__ import annotations

from typing import Any, Iterator

from ...aws.calls import Ctx, Parent
from ..schema import JSON, STR, TS, Col, TableDef
from .bucket_encryption_rules import ENCRYPTION_RULES
from .bucket_grants import GRANTS
from .bucket_loggings import LOGGINGS
from .bucket_ownership_controls import OWNERSHIP_CONTROLS
from .bucket_policies import NO_POLICY, POLICIES, bucket_policy
from .bucket_public_access_blocks import PUBLIC_ACCESS_BLOCKS
from .bucket_replications import REPLICATIONS


DOC = "https://docs.aws.amazon.com/AmazonS3/latest/API/"
NO_TAGS = ("NoSuchTagSet", "NoSuchTagSetError")


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
    for b in _listed(lctx):
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


def _listed(ctx: Ctx) -> Iterator[dict[str, Any]]:
    """ListBuckets' buckets. Each page's Owner is the account's S3 canonical user id: learnt here, in
    every shard (the table is `every_shard`), so that an ACL grant to that id names the account in
    every shard alike, whichever buckets each shard syncs."""
    for page in ctx.pages("s3", "ListBuckets", ("Buckets",), token_in="ContinuationToken",
                          token_out="ContinuationToken", MaxBuckets=1000):
        owner = (page.get("Owner") or {}).get("ID")
        if ctx.index is not None and isinstance(owner, str) and owner:
            ctx.index.add_canonical_user(owner, ctx.account_id)
        yield from page.get("Buckets") or []


def enrich_bucket(ctx: Ctx, item: dict[str, Any]) -> dict[str, Any]:
    name, arn = item["Name"], item["_arn"]
    # GetBucketPolicy first: on a bucket without a policy GetBucketPolicyStatus can only answer
    # NoSuchBucketPolicy (S3 API reference), so it is asked only when there is a policy or the
    # policy could not be read. Most buckets have none: one call in seven saved per bucket.
    if bucket_policy(ctx.with_table(POLICIES.name), item) == "":
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


BUCKETS = TableDef(
    name="aws_s3_buckets", title="AWS S3 Buckets", description=DOC + "API_ListBuckets.html",
    columns=[Col("account_id", STR), Col("arn", STR), Col("creation_date", TS), Col("name", STR),
             Col("region", STR), Col("policy_status", JSON, '{"IsPublic": bool}'), Col("tags", JSON)],
    pk_components=["arn"],
    api_calls=["s3:ListBuckets", "s3:GetBucketLocation", "s3:GetBucketPolicyStatus", "s3:GetBucketTagging"],
    scope="account", listing="s3:ListBuckets", every_shard=True, resolve=list_buckets, enrich=enrich_bucket, to_row=bucket_row,
    # The access-path children (grants, replications, loggings) leave what they read on the bucket's item
    # (`_ownership`, `_acl`, `_acl_read`, `_replication`, `_logging`) for the derived tables.
    children=[ENCRYPTION_RULES, POLICIES, PUBLIC_ACCESS_BLOCKS, OWNERSHIP_CONTROLS, GRANTS, REPLICATIONS, LOGGINGS],
)
