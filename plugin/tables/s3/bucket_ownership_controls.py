"""aws_s3_bucket_ownership_controls: each bucket's Object Ownership (GetBucketOwnershipControls)."""

from __future__ import annotations

from typing import Any, Iterator

from ...aws.calls import Ctx, Parent
from ..schema import STR, Col, TableDef


DOC = "https://docs.aws.amazon.com/AmazonS3/latest/API/"
NO_OWNERSHIP = ("OwnershipControlsNotFoundError",)


def ownership_controls(ctx: Ctx, parent: Parent) -> Iterator[dict[str, Any]]:
    r = ctx.call("s3", "GetBucketOwnershipControls", resource_arn=parent.row["arn"], absent=NO_OWNERSHIP,
                 expect="OwnershipControls", Bucket=parent.row["name"])
    if r is None:
        return
    for rule in r.get("OwnershipControls", {}).get("Rules", []) or []:
        yield {"bucket_arn": parent.row["arn"], "object_ownership": rule.get("ObjectOwnership")}


OWNERSHIP_CONTROLS = TableDef(
    name="aws_s3_bucket_ownership_controls", title="AWS S3 Bucket Ownership Controls",
    description=DOC + "API_GetBucketOwnershipControls.html",
    columns=[Col("account_id", STR), Col("bucket_arn", STR), Col("object_ownership", STR)],
    pk_components=["bucket_arn", "object_ownership"], api_calls=["s3:GetBucketOwnershipControls"],
    parent="aws_s3_buckets", resolve=ownership_controls,
)
