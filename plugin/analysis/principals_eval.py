"""Principals for the evaluator (plugin/analysis/evaluator.py): parsing a request principal and
deciding whether a statement's Principal / NotPrincipal covers it (pure).

Rules (IAM User Guide, "AWS JSON policy elements: Principal" and "... NotPrincipal"): `"*"` (and
`{"AWS": "*"}`, `arn:aws:iam::*:root`) covers every principal; an account (`111122223333`,
`arn:aws:iam::111122223333:root`) covers every principal of that account, by delegation to its IAM;
a role ARN covers the role and its sessions (names case-insensitive, path ignored: session ARNs
carry none); a user ARN that user; a session ARN only that session; a service principal only that
service; a canonical user id is undecidable for an IAM principal. NotPrincipal exempts a caller only
when its account is listed and, for a role session, its role (or that very session).
"""

from __future__ import annotations

import re
from typing import NamedTuple

from .condition_eval import FALSE, TRUE, Truth, all_of, any_of, negate
from .policy_elements import Principal, Statement

__all__ = [
    "Who",
    "account_of",
    "is_service",
    "names_specific_principals",
    "parse_principal",
    "principal_matches",
    "principals_apply",
]

_IAM_RE = re.compile(r"arn:([^:]+):iam::(\d{12}):(root|role/(.+)|user/(.+))")
_STS_RE = re.compile(r"arn:([^:]+):sts::(\d{12}):(assumed-role/([^/]+)/(.+)|federated-user/(.+))")
_ACCOUNT_RE = re.compile(r"\d{12}")
_SERVICE_RE = re.compile(r"[a-z0-9-]+(\.[a-z0-9-]+)*\.(amazonaws\.com(\.cn)?|amazon\.com)", re.IGNORECASE)


class Who(NamedTuple):
    kind: str               # root | role | user | session | federated | service
    arn: str                # as given (the service name for a service principal)
    account: str | None
    partition: str | None
    name: str | None        # role or user name (last path segment), federated user name
    session: str | None     # assumed-role session name
    principal_arn: str | None   # the aws:PrincipalArn value (a session's role ARN, without path)


def _parse(value: str) -> Who | None:
    v = value.strip()
    if _ACCOUNT_RE.fullmatch(v):
        return Who("root", f"arn:aws:iam::{v}:root", v, "aws", None, None, None)
    m = _IAM_RE.fullmatch(v)
    if m:
        part, acct, what, role, user = m.groups()
        if what == "root":
            return Who("root", v, acct, part, None, None, None)
        if role is not None:
            return Who("role", v, acct, part, role.split("/")[-1], None, v)
        return Who("user", v, acct, part, (user or "").split("/")[-1], None, v)
    m = _STS_RE.fullmatch(v)
    if m:
        part, acct, _, role, session, fed = m.groups()
        if role is not None:
            return Who("session", v, acct, part, role, session, f"arn:{part}:iam::{acct}:role/{role}")
        return Who("federated", v, acct, part, fed, None, v)
    if _SERVICE_RE.fullmatch(v):
        return Who("service", v, None, None, None, None, None)
    return None


def parse_principal(principal: str) -> Who:
    """Parse a request principal: an IAM role/user ARN, an assumed-role session or federated-user
    ARN, an account root ARN (or 12-digit id: the account as a whole), or a service principal."""
    who = _parse(principal) if isinstance(principal, str) else None
    if who is None:
        raise ValueError(f"unsupported principal {principal!r}: expected an IAM/STS ARN, an account "
                         f"root, a 12-digit account or a service principal")
    return who


def principal_matches(p: Principal, who: Who) -> tuple[Truth, bool]:
    """(does the policy principal cover the request principal, is it through the account root)."""
    if p.value == "*" or (p.is_wildcard and p.type != "Federated"):
        return TRUE, False
    if p.type == "Service":
        return (TRUE if who.kind == "service" and p.value.lower() == who.arn.lower() else FALSE), False
    if p.type == "Federated" or who.kind == "service":
        return FALSE, False      # identity providers and web identities name no IAM principal
    if p.type == "CanonicalUser":
        return Truth(None, (f"canonical user {p.value} (account not known)",)), False
    ref = _parse(p.value)
    if ref is None or ref.kind == "service" or ref.account != who.account:
        return FALSE, False      # unique ids (AROA...) of deleted principals, other accounts
    if ref.partition and who.partition and ref.partition != who.partition:
        return FALSE, False
    if ref.kind == "root":
        return TRUE, True
    same = (ref.name or "").lower() == (who.name or "").lower()
    if ref.kind == "role":
        return (TRUE if who.kind in ("role", "session") and same else FALSE), False
    if ref.kind == "user":
        return (TRUE if who.kind == "user" and same else FALSE), False
    if ref.kind == "session":
        if who.kind == "session" and same:
            return (TRUE if ref.session == who.session else FALSE), False
        if who.kind == "role" and same:
            return Truth(None, (f"assumed-role session name (Principal {p.value})",)), False
        return FALSE, False
    return (TRUE if who.kind == "federated" and ref.arn == who.arn else FALSE), False


def _exempt(listed: list[Principal], who: Who) -> Truth:
    """NotPrincipal: is the caller exempt? AWS checks the account, then the role, then the session,
    so the account must be listed and, for a role session, the role or that session (IAM User Guide,
    "AWS JSON policy elements: NotPrincipal")."""
    if any(p.value == "*" or (p.is_wildcard and p.type != "Federated") for p in listed):
        return TRUE
    if who.kind == "service":
        return TRUE if any(p.type == "Service" and p.value.lower() == who.arn.lower() for p in listed) else FALSE
    refs = [(p, r) for p in listed if p.type in ("AWS", "*") and (r := _parse(p.value)) and r.account == who.account]
    parts = [TRUE if any(r.kind == "root" for _, r in refs) else FALSE]
    same = [(p, r) for p, r in refs if (r.name or "").lower() == (who.name or "").lower()]
    if who.kind in ("role", "session"):
        sessions = [(p, r) for p, r in same if r.kind == "session"]
        if any(r.kind == "role" for _, r in same):
            parts.append(TRUE)
        elif who.kind == "session":
            parts.append(TRUE if any(r.session == who.session for _, r in sessions) else FALSE)
        elif sessions:
            parts.append(Truth(None, (f"assumed-role session name (NotPrincipal {sessions[0][0].value})",)))
        else:
            parts.append(FALSE)
    elif who.kind == "user":
        parts.append(TRUE if any(r.kind == "user" for _, r in same) else FALSE)
    elif who.kind == "federated":
        parts.append(TRUE if any(r.kind == "federated" and r.arn == who.arn for _, r in refs) else FALSE)
    return all_of(parts)


def principals_apply(st: Statement, who: Who) -> tuple[Truth, bool]:
    if st.principals:
        results = [principal_matches(p, who) for p in st.principals]
        t = any_of(r for r, _ in results)
        via_root = t.value is True and not any(r.value is True and not root for r, root in results)
        return t, via_root
    if st.not_principals:
        return negate(_exempt(st.not_principals, who)), False
    return FALSE, False          # no Principal element: a resource policy statement admits nobody


def names_specific_principals(st: Statement, account: str | None) -> bool:
    return any((r := _parse(p.value)) is not None and r.account == account and r.kind != "root"
               for p in st.principals if p.type in ("AWS", "*"))


def account_of(arn: str | None) -> str | None:
    """The 12-digit account field of an ARN, if it has one (S3 bucket ARNs have none)."""
    if not arn:
        return None
    parts = arn.split(":", 5)
    return parts[4] if len(parts) == 6 and _ACCOUNT_RE.fullmatch(parts[4]) else None


def is_service(value: str) -> bool:
    """Whether a principal string is an AWS service principal (`logs.amazonaws.com`)."""
    return _SERVICE_RE.fullmatch(value.strip()) is not None
