"""What one AWS service brings to a sync, declared once: its tables, the calls it makes outside
them, its request quotas, the IAM actions its calls need, and the error codes worth retrying.

The engine, the pacer (plugin/aws/pacing.py) and the IAM policy generator (plugin/tables/least_privilege.py)
read these declarations from the registry (plugin/tables/__init__.py) and know no service or table by
name: a new service is a package under plugin/tables/ with a `SERVICE`, and one registry line.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .schema import TableDef, walk

MEMBER, ORG_ADMIN = "member", "org_admin"


@dataclass
class Service:
    name: str                                                  # botocore's service name, e.g. "kms"
    tables: list[TableDef] = field(default_factory=list)       # top-level tables, children under them
    calls: list[str] = field(default_factory=list)             # "service:Operation" made outside any table
    # Requests per second per account and region, per operation (AWS's published quotas); the pacer
    # keeps each (account, region, operation) below them.
    quotas: dict[str, float] = field(default_factory=dict)
    # "service:Operation" -> the IAM action that authorises it, where the two differ (S3).
    iam_actions: dict[str, str] = field(default_factory=dict)
    # Service-specific error codes that mean "try again" (the generic ones are in plugin/aws/retry.py).
    retryable_codes: frozenset[str] = frozenset()
    # Whose credentials make its calls: the member accounts' audit role, the Organizations admin, or both.
    credentials: tuple[str, ...] = (MEMBER,)

    def operations(self) -> list[str]:
        """Every "service:Operation" this service's tables and set-up may call."""
        ops = set(self.calls)
        for t in walk(self.tables):
            ops.update(t.api_calls)
        return sorted(ops)
