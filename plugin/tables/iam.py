"""The IAM policies a sync needs, generated from the table declarations (`api_calls`): the member
accounts' audit role (plugin/iam_policy.json) and the Organizations admin's."""

from __future__ import annotations

from . import all_tables
from .organizations.accounts import ORG_ACCOUNTS

# Calls made outside any table: identity check per account, region discovery for regions "*".
SETUP_OPERATIONS = ["sts:GetCallerIdentity", "ec2:DescribeRegions"]

# API operation -> the IAM action that authorises it (they differ for S3).
IAM_ACTION = {
    "s3:ListBuckets": "s3:ListAllMyBuckets",
    "s3:GetBucketEncryption": "s3:GetEncryptionConfiguration",
    "s3:GetPublicAccessBlock": "s3:GetBucketPublicAccessBlock",
}


def operations(scope: str = "member") -> list[str]:
    """Every API operation a full sync may call, as service:Operation: with the member (audit)
    credentials, or with `scope="org_admin"` the Organizations admin's."""
    if scope == "org_admin":
        return sorted(ORG_ACCOUNTS.api_calls) + ["sts:GetCallerIdentity"]
    ops = set(SETUP_OPERATIONS)
    for t in all_tables():
        if t is not ORG_ACCOUNTS:
            ops.update(t.api_calls)
    return sorted(ops)


def iam_action(operation: str) -> str:
    return IAM_ACTION.get(operation, operation)


def required_actions() -> list[str]:
    """Every IAM action a full sync needs: the least-privilege policy (plugin/iam_policy.json)."""
    return sorted({iam_action(o) for o in operations()})


def org_admin_policy() -> dict:
    """What the `org.admin_account` credentials need (plus sts:AssumeRole on the member roles)."""
    return {
        "Version": "2012-10-17",
        "Statement": [{"Sid": "AwsEncryptionOrgDiscovery", "Effect": "Allow",
                       "Action": sorted({iam_action(o) for o in operations("org_admin")}), "Resource": "*"}],
    }


def iam_policy() -> dict:
    return {
        "Version": "2012-10-17",
        "Statement": [{"Sid": "AwsEncryptionReadOnly", "Effect": "Allow", "Action": required_actions(),
                       "Resource": "*"}],
    }
