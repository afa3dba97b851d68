"""The registry: every service the sync knows, in order, and through them every table.

Adding a service is one package under plugin/tables/ with a `SERVICE` and one line in SERVICES;
adding a table of an existing service is its own module plus a line in that service's `tables` (or
its parent's `children`).
"""

from __future__ import annotations

from ..analysis.access_paths import S3_BUCKET_ACCESS_PATHS
from ..analysis.encryption_keys import S3_BUCKET_ENCRYPTION_KEYS
from ..analysis.intents import BUCKET_INTENTS, KEY_INTENTS
from ..analysis.kms_in_iam import KMS_DECRYPT_STATEMENTS
from ..analysis.permissions import KMS_KEY_PERMISSIONS, S3_BUCKET_PERMISSIONS
from . import account_setup, aws_encryption, backup, ec2, iam, kms, organizations, rds, s3, secretsmanager, sns, sqs
from .kms.keys import KEYS
from .s3.buckets import BUCKETS
from .schema import TableDef, walk
from .service import Service

SERVICES: list[Service] = [*account_setup.SERVICES, kms.SERVICE, s3.SERVICE, s3.CONTROL_SERVICE, secretsmanager.SERVICE,
                           sqs.SERVICE, sns.SERVICE, ec2.SERVICE, rds.SERVICE, backup.SERVICE, iam.SERVICE,
                           organizations.SERVICE, organizations.MEMBER_SERVICE, aws_encryption.SERVICE]

# Derived children (ours, no call of their own) come after the CloudQuery children: they reuse their
# responses.
KEYS.children.extend([KMS_KEY_PERMISSIONS, KEY_INTENTS])
BUCKETS.children.extend([S3_BUCKET_PERMISSIONS, S3_BUCKET_ENCRYPTION_KEYS, S3_BUCKET_ACCESS_PATHS, BUCKET_INTENTS])
iam.SERVICE.tables.append(KMS_DECRYPT_STATEMENTS)

TOP_LEVEL: list[TableDef] = [t for s in SERVICES for t in s.tables]


def all_tables() -> list[TableDef]:
    return walk(TOP_LEVEL)


def by_name() -> dict[str, TableDef]:
    return {t.name: t for t in all_tables()}


def quotas() -> dict[tuple[str, str], float]:
    """(service, operation) -> requests per second per account and region, for the pacer."""
    return {(s.name, op): q for s in SERVICES for op, q in s.quotas.items()}


def retryable_codes() -> frozenset[str]:
    """The services' own error codes that mean "try again", for the call layer's retries."""
    return frozenset().union(*(s.retryable_codes for s in SERVICES))
