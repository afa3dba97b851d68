"""aws_s3_bucket_loggings: each bucket's server access logging (GetBucketLogging, once per bucket):
the bucket its access logs are delivered to, indexed so that the target's readers are known."""

from __future__ import annotations

from typing import Any, Iterator

from ...aws.calls import Ctx, Parent
from .bucket_calls import fetch_once
from ..schema import JSON, STR, Col, TableDef


DOC = "https://docs.aws.amazon.com/AmazonS3/latest/API/"


def fetch_logging(ctx: Ctx, parent: Parent) -> dict[str, Any] | None:
    """LoggingEnabled, fetched once: {} when logging is off (S3 answers 200 without it), None when
    unreadable. A target bucket is recorded in the sync's index."""
    first = "_logging" not in parent.item
    enabled = fetch_once(ctx, parent, "_logging", LOGGINGS.name, "GetBucketLogging",
                         lambda r: r["LoggingEnabled"] if isinstance(r.get("LoggingEnabled"), dict) else {})
    if first and enabled and enabled.get("TargetBucket") and ctx.index is not None:
        ctx.index.add_log_target(enabled["TargetBucket"], parent.row["arn"], enabled.get("TargetPrefix") or "")
    return enabled


def loggings(ctx: Ctx, parent: Parent) -> Iterator[dict[str, Any]]:
    enabled = fetch_logging(ctx, parent)
    if enabled is not None:  # logging off is a row too (logging_enabled NULL), as CloudQuery writes it
        yield {"bucket_arn": parent.row["arn"], "logging_enabled": enabled or None}


LOGGINGS = TableDef(
    name="aws_s3_bucket_loggings", title="AWS S3 Bucket Loggings", description=DOC + "API_GetBucketLogging.html",
    columns=[Col("account_id", STR), Col("bucket_arn", STR),
             Col("logging_enabled", JSON, '{"TargetBucket": ..., "TargetPrefix": ..., "TargetGrants": [...]}; '
                                          "NULL when logging is off")],
    # CloudQuery's table has no primary-key component (its _cq_id is random); bucket_arn is the natural one.
    pk_components=["bucket_arn"], api_calls=["s3:GetBucketLogging"], parent="aws_s3_buckets", resolve=loggings,
)
