"""One account's IAM, read once: `iam:GetAccountAuthorizationDetails` (every page: roles, users,
groups and managed policies with their versions, inline policies, permission boundaries, instance
profiles). The IAM tables beside this module are cut from the one answer, and the identity model
(plugin/analysis/identity.py) that the access paths evaluate principals with is built from it.

IAM is global: asked once per account (not per Region) and per sync, whichever IAM table asks first;
the others wait for that answer (the sync's Index). Every shard that syncs part of the account asks,
so every shard evaluates principals alike; only the shard that owns the account's account-level
work writes the rows and records a failure (plugin/source/sharding.py).
"""

from __future__ import annotations

import threading
from urllib.parse import unquote
from dataclasses import dataclass, field, replace
from typing import Any, Callable, Iterator

from ...aws.calls import Ctx, SyncError

LISTING = "iam:GetAccountAuthorizationDetails"
_KEYS = ("UserDetailList", "GroupDetailList", "RoleDetailList", "Policies")


@dataclass
class Details:
    """The answer, every page joined; `errors`: what failed (then the lists are not to be trusted)."""

    roles: list[dict[str, Any]] = field(default_factory=list)
    users: list[dict[str, Any]] = field(default_factory=list)
    groups: list[dict[str, Any]] = field(default_factory=list)
    policies: list[dict[str, Any]] = field(default_factory=list)
    errors: list[SyncError] = field(default_factory=list)
    readers: int = 1          # tables still to take their rows from it (then the lists are dropped)
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def taken(self) -> None:
        """One table took its rows: after the last one the answer is dropped (the identity model built
        from it stays in the Index), so a sync of many accounts does not hold every account's IAM."""
        with self.lock:
            self.readers -= 1
            if self.readers <= 0:
                self.roles, self.users, self.groups, self.policies = [], [], [], []


def _ask(ctx: Ctx) -> Details:
    d = Details(readers=ctx.index.listing_readers.get(LISTING, 1) if ctx.index is not None else 1)
    quiet = ctx.with_errors(d.errors.append)
    for page in quiet.pages("iam", "GetAccountAuthorizationDetails", _KEYS, token_in="Marker", token_out="Marker",
                            MaxItems=1000):
        d.users += page["UserDetailList"]
        d.groups += page["GroupDetailList"]
        d.roles += page["RoleDetailList"]
        d.policies += page["Policies"]
    if not d.errors and ctx.index is not None:
        from ...analysis.identity import IdentityModel
        try:
            ctx.index.set_identities(ctx.account_id, IdentityModel.build(ctx.account_id, d))
        except Exception as e:  # an answer shaped unlike AWS's: the account's IAM is unread, not a crash
            d.errors.append(SyncError(ctx.account_id, ctx.region, ctx.table, "iam", "GetAccountAuthorizationDetails",
                                      "", "MalformedResponse", f"the answer could not be read: {type(e).__name__}"))
    if d.errors and ctx.index is not None:
        ctx.index.set_identities_unread(ctx.account_id, d.errors[0].error_code)
    return d


def details(ctx: Ctx) -> Details | None:
    """The account's authorization details (None when they could not be read: the failure is recorded
    for the asking table, by the shard that owns the account). Each table asks once per account and
    calls `taken()` when it has its rows."""
    d = _ask(ctx) if ctx.index is None else ctx.index.lookup("iam", ctx.account_id, lambda: _ask(ctx))
    if d.errors:
        if ctx.owns("*"):
            for e in d.errors:
                ctx.for_account_level().on_error(replace(e, table_name=ctx.table))
        return None
    return d


def take(ctx: Ctx) -> Details | None:
    """The answer as one table sees it: the lists to emit rows from in the shard that owns the
    account (empty in the others), and None when it could not be read."""
    d = details(ctx)
    if d is None:
        return None
    with d.lock:
        mine = Details(d.roles, d.users, d.groups, d.policies) if ctx.owns("*") else Details()
    d.taken()
    return mine


def lister(kind: str) -> Callable[[Ctx, Any], Iterator[dict[str, Any]]]:
    """A table's `resolve`: the answer's `roles`, `users`, `groups` or `policies`."""
    def resolve(ctx: Ctx, parent: Any) -> Iterator[dict[str, Any]]:
        d = take(ctx)
        if d is not None:
            yield from getattr(d, kind)
    return resolve


def document(value: Any) -> Any:
    """A policy document as the table stores it: botocore URL-decodes and parses AWS's documents; one
    that is not JSON stays URL-encoded text, decoded here so the row shows what AWS holds."""
    return unquote(value) if isinstance(value, str) else value


def tags(item: dict[str, Any]) -> dict[str, str] | None:
    t = item.get("Tags")
    return None if t is None else {x.get("Key"): x.get("Value") for x in t if isinstance(x, dict)}


def attached(item: dict[str, Any]) -> dict[str, str]:
    """AttachedManagedPolicies as CloudQuery stores them: {policy ARN: policy name}."""
    return {p.get("PolicyArn"): p.get("PolicyName") for p in item.get("AttachedManagedPolicies") or []
            if isinstance(p, dict)}
