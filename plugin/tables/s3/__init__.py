"""Amazon S3: buckets, with their default encryption, policy, Block Public Access and Object Ownership."""

from ..service import Service
from .buckets import BUCKETS


SERVICE = Service(
    name="s3",
    tables=[BUCKETS],
    # S3's IAM actions are not named after its API operations.
    iam_actions={"s3:ListBuckets": "s3:ListAllMyBuckets", "s3:GetBucketEncryption": "s3:GetEncryptionConfiguration",
                 "s3:GetPublicAccessBlock": "s3:GetBucketPublicAccessBlock"},
)
