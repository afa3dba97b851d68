"""Amazon S3: buckets, with their default encryption, policy, Block Public Access, Object Ownership,
ACL grants, replication and logging; and, through S3 Control, each account's own Block Public Access,
access points and Multi-Region Access Points."""

from ..service import Service
from .access_points import ACCESS_POINTS
from .accounts import ACCOUNTS
from .buckets import BUCKETS
from .multi_region_access_points import MULTI_REGION_ACCESS_POINTS


SERVICE = Service(
    name="s3",
    tables=[BUCKETS],
    # S3's IAM actions are not named after its API operations.
    iam_actions={"s3:ListBuckets": "s3:ListAllMyBuckets", "s3:GetBucketEncryption": "s3:GetEncryptionConfiguration",
                 "s3:GetPublicAccessBlock": "s3:GetBucketPublicAccessBlock",
                 "s3:GetBucketReplication": "s3:GetReplicationConfiguration"},
)

# S3 Control is its own botocore service (`s3control`), authorised by `s3:` IAM actions.
CONTROL_SERVICE = Service(
    name="s3control",
    tables=[ACCOUNTS, ACCESS_POINTS, MULTI_REGION_ACCESS_POINTS],
    iam_actions={"s3control:GetPublicAccessBlock": "s3:GetAccountPublicAccessBlock",
                 "s3control:ListAccessPoints": "s3:ListAccessPoints",
                 "s3control:GetAccessPoint": "s3:GetAccessPoint",
                 "s3control:GetAccessPointPolicy": "s3:GetAccessPointPolicy",
                 "s3control:ListMultiRegionAccessPoints": "s3:ListMultiRegionAccessPoints",
                 "s3control:GetMultiRegionAccessPointPolicy": "s3:GetMultiRegionAccessPointPolicy"},
)
