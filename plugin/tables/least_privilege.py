"""The IAM policies a sync needs, generated from the service declarations (plugin/tables/service.py):
the member accounts' audit role (shipped as plugin/iam_policy.json) and the Organizations admin's
(plugin/iam_policy_org_admin.json). `python -m plugin.cli.docs` writes both files; a test fails when
they differ from what the declarations say."""

from __future__ import annotations

import json
from pathlib import Path

from . import SERVICES
from .service import MEMBER, ORG_ADMIN

POLICY_FILES = {MEMBER: "iam_policy.json", ORG_ADMIN: "iam_policy_org_admin.json"}
_SIDS = {MEMBER: "AwsEncryptionReadOnly", ORG_ADMIN: "AwsEncryptionOrgDiscovery"}


def operations(credentials: str = MEMBER) -> list[str]:
    """Every API operation, as service:Operation, that a full sync may call with these credentials:
    the member accounts' audit role (`member`) or the Organizations admin (`org_admin`)."""
    return sorted({op for s in SERVICES if credentials in s.credentials for op in s.operations()})


def iam_action(operation: str) -> str:
    """The IAM action that authorises an API operation (they differ for some, declared per service)."""
    for s in SERVICES:
        if operation in s.iam_actions:
            return s.iam_actions[operation]
    return operation


def required_actions(credentials: str = MEMBER) -> list[str]:
    return sorted({iam_action(o) for o in operations(credentials)})


def policy(credentials: str = MEMBER) -> dict:
    return {"Version": "2012-10-17",
            "Statement": [{"Sid": _SIDS[credentials], "Effect": "Allow", "Action": required_actions(credentials),
                           "Resource": "*"}]}


def iam_policy() -> dict:
    """The member accounts' audit role: read-only, exactly the calls a full sync makes."""
    return policy(MEMBER)


def org_admin_policy() -> dict:
    """What the `org.admin_account` credentials need (plus AssumeRole on the member roles)."""
    return policy(ORG_ADMIN)


def policy_files(package_dir: Path) -> dict[Path, str]:
    """The shipped policy files as they must read: path -> text."""
    return {package_dir / name: json.dumps(policy(cred), indent=2) + "\n" for cred, name in POLICY_FILES.items()}
