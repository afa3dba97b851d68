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
