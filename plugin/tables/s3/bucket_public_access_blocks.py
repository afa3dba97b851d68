"""aws_s3_bucket_public_access_blocks: each bucket's Block Public Access settings (GetPublicAccessBlock)."""

from __future__ import annotations

from typing import Any, Iterator

from ...aws.calls import Ctx, Parent
from ..schema import JSON, STR, Col, TableDef


DOC = "https://docs.aws.amazon.com/AmazonS3/latest/API/"
NO_PAB = ("NoSuchPublicAccessBlockConfiguration",)


def public_access_blocks(ctx: Ctx, parent: Parent) -> Iterator[dict[str, Any]]:
    r = ctx.call("s3", "GetPublicAccessBlock", resource_arn=parent.row["arn"], absent=NO_PAB,
                 expect="PublicAccessBlockConfiguration", Bucket=parent.row["name"])
    if r is not None:
        yield {"bucket_arn": parent.row["arn"],
               "public_access_block_configuration": r.get("PublicAccessBlockConfiguration")}


PUBLIC_ACCESS_BLOCKS = TableDef(
    name="aws_s3_bucket_public_access_blocks", title="AWS S3 Bucket Public Access Blocks",
    description=DOC + "API_GetPublicAccessBlock.html",
    columns=[Col("account_id", STR), Col("bucket_arn", STR), Col("public_access_block_configuration", JSON)],
    pk_components=["bucket_arn"], api_calls=["s3:GetPublicAccessBlock"], parent="aws_s3_buckets",
    resolve=public_access_blocks,
)
