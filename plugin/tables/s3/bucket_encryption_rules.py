"""aws_s3_bucket_encryption_rules: each bucket's default encryption (GetBucketEncryption, once per
bucket; also read by the derived aws_s3_bucket_encryption_keys)."""

from __future__ import annotations

from typing import Any, Iterator

from ...aws.calls import Ctx, Parent
from .bucket_calls import fetch_once
from ..schema import BOOL, JSON, STR, Col, TableDef


DOC = "https://docs.aws.amazon.com/AmazonS3/latest/API/"
NO_ENCRYPTION = ("ServerSideEncryptionConfigurationNotFoundError",)


def fetch_encryption(ctx: Ctx, parent: Parent) -> list[dict[str, Any]] | None:
    """The bucket's encryption rules, fetched once: [] when not configured, None when unreadable."""
    return fetch_once(ctx, parent, "_encryption", ENCRYPTION_RULES.name, "GetBucketEncryption",
                      lambda r: r.get("ServerSideEncryptionConfiguration", {}).get("Rules", []) or [],
                      absent=NO_ENCRYPTION, expect="ServerSideEncryptionConfiguration")


def encryption_rules(ctx: Ctx, parent: Parent) -> Iterator[dict[str, Any]]:
    for rule in fetch_encryption(ctx, parent) or []:
        yield {"bucket_arn": parent.row["arn"],
               "apply_server_side_encryption_by_default": rule.get("ApplyServerSideEncryptionByDefault"),
               "bucket_key_enabled": rule.get("BucketKeyEnabled"),
               "blocked_encryption_types": rule.get("BlockedEncryptionTypes")}


ENCRYPTION_RULES = TableDef(
    name="aws_s3_bucket_encryption_rules", title="AWS S3 Bucket Encryption Rules",
    description=DOC + "API_ServerSideEncryptionRule.html",
    columns=[Col("account_id", STR), Col("bucket_arn", STR),
             Col("apply_server_side_encryption_by_default", JSON,
                 '{"SSEAlgorithm": "aws:kms"|"AES256"|"aws:kms:dsse", "KMSMasterKeyID": ...}'),
             Col("bucket_key_enabled", BOOL),
             Col("blocked_encryption_types", JSON, "ServerSideEncryptionRule.BlockedEncryptionTypes")],
    pk_components=["bucket_arn"], api_calls=["s3:GetBucketEncryption"], parent="aws_s3_buckets",
    resolve=encryption_rules, extra_columns=["blocked_encryption_types"],
)
