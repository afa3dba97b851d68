"""aws_s3_bucket_policies: each bucket's policy (GetBucketPolicy, once per bucket), stored as text and
as JSON."""

from __future__ import annotations

import json
from typing import Any, Iterator

from ...aws.answers import BUCKET_POLICY_MAX_BYTES
from ...aws.calls import Ctx, Parent
from ..schema import JSON, STR, Col, TableDef


DOC = "https://docs.aws.amazon.com/AmazonS3/latest/API/"
NO_POLICY = ("NoSuchBucketPolicy",)


def bucket_policy(ctx: Ctx, item: dict[str, Any]) -> str | None:
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
    return bucket_policy(ctx.with_table(POLICIES.name), parent.item)


def policies(ctx: Ctx, parent: Parent) -> Iterator[dict[str, Any]]:
    raw = fetch_bucket_policy(ctx, parent)
    if not raw:
        return
    try:
        parsed: Any = json.loads(raw)
    except (ValueError, RecursionError):
        parsed = None
    yield {"bucket_arn": parent.row["arn"], "policy_json": parsed, "policy": raw}


POLICIES = TableDef(
    name="aws_s3_bucket_policies", title="AWS S3 Bucket Policies", description=DOC + "API_GetBucketPolicy.html",
    columns=[Col("account_id", STR), Col("bucket_arn", STR), Col("policy_json", JSON), Col("policy", STR)],
    pk_components=["bucket_arn"], api_calls=["s3:GetBucketPolicy"], parent="aws_s3_buckets",
    resolve=policies,
)
