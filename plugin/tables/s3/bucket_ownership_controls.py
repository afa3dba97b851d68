"""aws_s3_bucket_ownership_controls: each bucket's Object Ownership (GetBucketOwnershipControls, once
per bucket; also read by aws_s3_bucket_grants, which asks for the ACL only when ACLs are in force)."""

from __future__ import annotations

from typing import Any, Iterator

from ...aws.calls import Ctx, Parent
from .bucket_calls import fetch_once
from ..schema import STR, Col, TableDef


DOC = "https://docs.aws.amazon.com/AmazonS3/latest/API/"
NO_OWNERSHIP = ("OwnershipControlsNotFoundError",)
# Object Ownership that disables ACLs: S3 ignores every ACL of the bucket and its objects.
ACLS_DISABLED = "BucketOwnerEnforced"


def fetch_ownership(ctx: Ctx, parent: Parent) -> str | None:
    """The bucket's ObjectOwnership, fetched once: None when not configured or unreadable (then
    `item["_ownership_rules"]` is [] or None)."""
    rules = fetch_once(ctx, parent, "_ownership_rules", OWNERSHIP_CONTROLS.name, "GetBucketOwnershipControls",
                       lambda r: r.get("OwnershipControls", {}).get("Rules", []) or [],
                       absent=NO_OWNERSHIP, expect="OwnershipControls")
    parent.item["_ownership"] = next((x.get("ObjectOwnership") for x in rules or [] if x.get("ObjectOwnership")), None)
    return parent.item["_ownership"]


def ownership_controls(ctx: Ctx, parent: Parent) -> Iterator[dict[str, Any]]:
    fetch_ownership(ctx, parent)
    for rule in parent.item["_ownership_rules"] or []:
        yield {"bucket_arn": parent.row["arn"], "object_ownership": rule.get("ObjectOwnership")}


OWNERSHIP_CONTROLS = TableDef(
    name="aws_s3_bucket_ownership_controls", title="AWS S3 Bucket Ownership Controls",
    description=DOC + "API_GetBucketOwnershipControls.html",
    columns=[Col("account_id", STR), Col("bucket_arn", STR), Col("object_ownership", STR)],
    pk_components=["bucket_arn", "object_ownership"], api_calls=["s3:GetBucketOwnershipControls"],
    parent="aws_s3_buckets", resolve=ownership_controls,
)
