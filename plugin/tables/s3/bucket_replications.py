"""aws_s3_bucket_replications: each bucket's replication configuration (GetBucketReplication, once per
bucket): where its objects are copied, to which account, and with which KMS key (ReplicaKmsKeyID)."""

from __future__ import annotations

from typing import Any, Iterator

from ...aws.calls import Ctx, Parent
from .bucket_calls import fetch_once
from ..schema import JSON, STR, Col, TableDef


DOC = "https://docs.aws.amazon.com/AmazonS3/latest/API/"
NO_REPLICATION = ("ReplicationConfigurationNotFoundError",)


def fetch_replication(ctx: Ctx, parent: Parent) -> dict[str, Any] | None:
    """The ReplicationConfiguration, fetched once: {} when not configured, None when unreadable."""
    return fetch_once(ctx, parent, "_replication", REPLICATIONS.name, "GetBucketReplication",
                      lambda r: r.get("ReplicationConfiguration") or {},
                      absent=NO_REPLICATION, expect="ReplicationConfiguration")


def replications(ctx: Ctx, parent: Parent) -> Iterator[dict[str, Any]]:
    config = fetch_replication(ctx, parent)
    if config:
        yield {"bucket_arn": parent.row["arn"], "replication_configuration": config}


REPLICATIONS = TableDef(
    name="aws_s3_bucket_replications", title="AWS S3 Bucket Replications",
    description=DOC + "API_GetBucketReplication.html",
    columns=[Col("account_id", STR), Col("bucket_arn", STR),
             Col("replication_configuration", JSON,
                 '{"Role": ..., "Rules": [{"Destination": {"Bucket", "Account", '
                 '"EncryptionConfiguration": {"ReplicaKmsKeyID"}}, ...}]}')],
    pk_components=["bucket_arn"], api_calls=["s3:GetBucketReplication"], parent="aws_s3_buckets",
    resolve=replications,
)
