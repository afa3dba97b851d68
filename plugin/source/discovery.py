"""AWS Organizations discovery (`org` in the spec), as the official CloudQuery AWS plugin does it.

- The admin credentials (`org.admin_account`, else the default chain) list the accounts:
  `ListAccounts`, or, with `organization_units` or `skip_organization_units`, a walk from those
  OUs (or every root) through `ListAccountsForParent` and `ListChildren`, nested OUs included and
  skipped OUs' subtrees left out.
- Only ACTIVE accounts are synced, minus `skip_member_accounts`, each through
  `arn:<partition>:iam::<id>:role/<member_role_name>`, assumed with `member_trusted_principal`'s
  credentials when given, else the admin's.
- Every account of the organisation (any state) joins the trusted set of the policy analysis, and
  `aws_organizations_accounts` lists them (with tags from `ListTagsForResource`).
- `DescribeOrganization` (one call, admin credentials) names the organisation, so that every listed
  account, synced or not, resolves `aws:PrincipalOrgID` to it (the sync's index). Its failure is an
  error row; discovery goes on without the name (each synced account still asks for its own).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

from ..aws.clients import AccountSession, ClientFactory, CredentialsError
from ..aws.calls import Ctx, SyncError
from ..tables.organizations.accounts import ORG_ACCOUNTS
from .spec import Account, Credentials, Org, Spec

# The table discovery's listing fills: its name and listing call identify discovery in
# aws_encryption_sync_coverage.
TABLE = ORG_ACCOUNTS


@dataclass
class Discovery:
    admin: AccountSession | None = None
    trusted_via: AccountSession | None = None
    members: list[Account] = field(default_factory=list)
    org_accounts: list[dict[str, Any]] = field(default_factory=list)   # every account, for the table and trust
    organization: dict[str, Any] | None = None   # DescribeOrganization's Organization (None: not known)


def _creds_account(c: Credentials | None, region: str) -> Account:
    c = c or Credentials()
    return Account(id="", local_profile=c.local_profile, role_arn=c.role_arn,
                   role_session_name=c.role_session_name, external_id=c.external_id, default_region=region)


def _active(a: dict[str, Any]) -> bool:
    return (a.get("State") or a.get("Status")) == "ACTIVE"


def discover(spec: Spec, factory: ClientFactory, on_error: Callable[[SyncError], None]) -> Discovery | None:
    """Who to sync; None when the organisation could not be listed (the error is recorded)."""
    org: Org = spec.org  # type: ignore[assignment]
    region = spec.custom_endpoint_signing_region or "us-east-1"
    d = Discovery()
    try:
        d.admin = factory.open(_creds_account(org.admin_account, region))
    except CredentialsError as e:
        from ..aws.errors import describe
        code, msg = describe(e.cause)
        on_error(SyncError("", region, "aws_organizations_accounts", "sts", e.operation,
                           (org.admin_account.role_arn if org.admin_account else ""), code, msg))
        return None
    ctx = Ctx(d.admin, d.admin.global_region, "aws_organizations_accounts", on_error)
    every = ctx.collect("organizations", "ListAccounts", "Accounts", token_in="NextToken", token_out="NextToken")
    if every is None:
        return None
    d.org_accounts = every
    described = ctx.call("organizations", "DescribeOrganization", expect="Organization")
    if described is not None and isinstance(described["Organization"], dict):
        d.organization = described["Organization"]
    if org.organization_units or org.skip_organization_units:
        chosen = _walk(ctx, org)
        if chosen is None:
            return None
    else:
        chosen = every
    if org.member_trusted_principal is not None:
        try:
            d.trusted_via = factory.open(_creds_account(org.member_trusted_principal, region))
        except CredentialsError as e:
            from ..aws.errors import describe
            code, msg = describe(e.cause)
            on_error(SyncError("", region, "", "sts", e.operation, org.member_trusted_principal.role_arn,
                               code, msg))
            return None
    skip = set(org.skip_member_accounts)
    seen: set[str] = set()
    partition = d.admin.partition
    for a in chosen:
        aid = a["Id"]
        if aid in seen or aid in skip or not _active(a):
            continue
        seen.add(aid)
        d.members.append(Account(
            id=aid, account_name=a.get("Name", ""),
            role_arn=f"arn:{partition}:iam::{aid}:role/{org.member_role_name}",
            role_session_name=org.member_role_session_name, external_id=org.member_external_id,
            default_region=region, regions=list(org.member_regions)))
    return d


def _walk(ctx: Ctx, org: Org) -> list[dict[str, Any]] | None:
    skip = set(org.skip_organization_units)
    starts = list(org.organization_units)
    if not starts:
        roots = ctx.collect("organizations", "ListRoots", "Roots", token_in="NextToken", token_out="NextToken")
        if roots is None:
            return None
        starts = [r["Id"] for r in roots]
    found = walk_units(ctx, starts, skip)
    return None if found is None else [a for _, _, accounts in found for a in accounts]


def walk_units(ctx: Ctx, starts: list[str], skip: set[str] | frozenset[str] = frozenset()
               ) -> list[tuple[str, list[str], list[dict[str, Any]]]] | None:
    """Every root or OU under `starts` (nested OUs included, `skip`'s subtrees left out), each as (its id,
    the ids from its start down to it, its accounts); None when a call failed (recorded)."""
    out: list[tuple[str, list[str], list[dict[str, Any]]]] = []
    stack = [(s, [s]) for s in starts if s not in skip]
    visited: set[str] = set()
    while stack:
        parent, path = stack.pop()
        if parent in visited:
            continue
        visited.add(parent)
        accounts = ctx.collect("organizations", "ListAccountsForParent", "Accounts", token_in="NextToken",
                               token_out="NextToken", ParentId=parent)
        children = ctx.collect("organizations", "ListChildren", "Children", token_in="NextToken",
                               token_out="NextToken", ParentId=parent, ChildType="ORGANIZATIONAL_UNIT")
        if accounts is None or children is None:
            return None
        out.append((parent, path, accounts))
        stack.extend((c["Id"], [*path, c["Id"]]) for c in children if c["Id"] not in skip)
    return out
