"""The table registry: every top-level table, with its children under `children`."""

from __future__ import annotations

from .schema import TableDef
from .aws_encryption.key_types import KEY_TYPES_TABLE
from .kms.keys import ALIASES, KEYS
from .s3.buckets import BUCKETS
from .organizations.accounts import ORG_ACCOUNTS
from .aws_encryption.sync_coverage import SYNC_COVERAGE
from .aws_encryption.sync_errors import SYNC_ERRORS

from ..analysis.encryption_keys import S3_BUCKET_ENCRYPTION_KEYS
from ..analysis.permissions import KMS_KEY_PERMISSIONS, S3_BUCKET_PERMISSIONS

# Derived children (ours) come after the CloudQuery children: they reuse their responses.
KEYS.children.append(KMS_KEY_PERMISSIONS)
BUCKETS.children.extend([S3_BUCKET_PERMISSIONS, S3_BUCKET_ENCRYPTION_KEYS])

TOP_LEVEL: list[TableDef] = [KEYS, ALIASES, BUCKETS, ORG_ACCOUNTS, KEY_TYPES_TABLE, SYNC_ERRORS,
                             SYNC_COVERAGE]

# Calls made outside any table: identity check per account, region discovery for regions "*".
SETUP_OPERATIONS = ["sts:GetCallerIdentity", "ec2:DescribeRegions"]

# API operation -> the IAM action that authorises it (they differ for S3).
IAM_ACTION = {
    "s3:ListBuckets": "s3:ListAllMyBuckets",
    "s3:GetBucketEncryption": "s3:GetEncryptionConfiguration",
    "s3:GetPublicAccessBlock": "s3:GetBucketPublicAccessBlock",
}


def all_tables() -> list[TableDef]:
    out: list[TableDef] = []

    def walk(t: TableDef) -> None:
        out.append(t)
        for c in t.children:
            walk(c)

    for t in TOP_LEVEL:
        walk(t)
    return out


def by_name() -> dict[str, TableDef]:
    return {t.name: t for t in all_tables()}


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
