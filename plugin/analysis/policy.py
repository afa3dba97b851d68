"""Resource-policy analysis for KMS key policies and S3 bucket policies (pure: no AWS calls).

`analyze(policy, owner_account)` answers, for one resource policy and the 12-digit account that
owns the resource: is it public, which other accounts does it let in, and, statement by statement,
who it reaches. It never raises: a malformed policy gives `Analysis(ok=False, error=<reason>)`.
`action_matches`, `statement_allows_action`, `statement_allows_via_service` and `admits_account`
ask further questions of the statements.

The semantics (parsing, principals, conditions, which accounts a statement admits) are specified in
docs/policy-analysis.md; tests/test_policy.py exercises each rule on real policy documents.
"""


from __future__ import annotations

import functools
import json
import re
from typing import Any

from .policy_conditions import (_eval_statement, _statement)
from .policy_elements import (Analysis, Principal, Statement, _ACCOUNT_RE, _Malformed, _ORG_OF_OWNER, _parse_op)

__all__ = [
    "Principal",
    "Statement",
    "Analysis",
    "analyze",
    "action_matches",
    "statement_allows_action",
    "statement_allows_via_service",
    "admits_account",
]


# --------------------------------------------------------------------------------------------
# Public API
# --------------------------------------------------------------------------------------------

def _load(policy: Any, warn: list[str]) -> Any:
    if isinstance(policy, (bytes, bytearray, memoryview)):
        policy = bytes(policy).decode("utf-8-sig")
    if isinstance(policy, str):
        doc = json.loads(policy)
        if isinstance(doc, str):
            warn.append("policy is a JSON string holding JSON (decoded twice)")
            doc = json.loads(doc)
        return doc
    return policy


def analyze(policy: dict | str | bytes | None, owner_account: str) -> Analysis:
    """Analyse a resource policy owned by `owner_account`. Never raises (see module docstring).
    A policy text is analysed once per process: the derived tables ask for the same key and bucket
    policies many times (every path, permission and intent row), and an Analysis is never changed."""
    if isinstance(policy, str) and isinstance(owner_account, str):
        return _analyze_text(policy, owner_account)
    return _analyze(policy, owner_account)


@functools.lru_cache(maxsize=4096)
def _analyze_text(policy: str, owner_account: str) -> Analysis:
    return _analyze(policy, owner_account)


def _analyze(policy: dict | str | bytes | None, owner_account: str) -> Analysis:
    owner = owner_account if isinstance(owner_account, str) else ("" if owner_account is None else str(owner_account))
    warnings: list[str] = []
    try:
        if policy is None:
            return _failed(owner, "no policy document (None)", warnings)
        try:
            doc = _load(policy, warnings)
        except (ValueError, UnicodeDecodeError) as e:  # JSONDecodeError is a ValueError
            return _failed(owner, f"policy is not valid JSON: {e}", warnings)
        except RecursionError:
            return _failed(owner, "policy is not valid JSON: nested too deeply", warnings)
        if not isinstance(doc, dict):
            return _failed(owner, f"policy must be a JSON object, found {type(doc).__name__}", warnings)
        raw = None
        found = False
        for k, v in doc.items():
            if str(k).lower() == "statement":
                raw, found = v, True
                break
        if not found:
            return _failed(owner, "policy has no Statement", warnings)
        if isinstance(raw, dict):
            raws = [raw]
        elif isinstance(raw, list):
            raws = raw
        else:
            return _failed(owner, f"Statement must be an object or a list, found {type(raw).__name__}", warnings)
        if not raws:
            return _failed(owner, "Statement is empty", warnings)
        if not _ACCOUNT_RE.fullmatch(owner):
            warnings.append(f"owner account {owner!r} is not a 12-digit account id")
        statements: list[Statement] = []
        errors: list[str] = []
        for i, r in enumerate(raws):
            try:
                statements.append(_statement(i, r, owner, warnings))
            except _Malformed as e:
                errors.append(str(e))
        external = sorted({a for st in statements for a in st.external_accounts})
        return Analysis(
            ok=not errors,
            error="; ".join(errors) if errors else None,
            owner_account=owner,
            is_public=any(st.is_public for st in statements),
            external_accounts=external,
            statements=statements,
            warnings=warnings,
        )
    except Exception as e:  # last resort: analysis must never stop a sync
        return _failed(owner, f"internal error while analysing the policy: {type(e).__name__}: {e}", warnings)


def _failed(owner: str, reason: str, warnings: list[str]) -> Analysis:
    return Analysis(ok=False, error=reason, owner_account=owner, is_public=False,
                    external_accounts=[], statements=[], warnings=warnings)


@functools.lru_cache(maxsize=8192)
def _wildcard_regex(pattern: str) -> re.Pattern[str]:
    parts = [".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern]
    return re.compile("".join(parts), re.IGNORECASE | re.DOTALL)


def action_matches(pattern: str, action: str) -> bool:
    """IAM action matching: `*` and `?` wildcards, case-insensitive, service prefix included
    (`kms:Get*` matches `KMS:GetKeyPolicy`, not `s3:GetObject`; `*` matches everything)."""
    if not isinstance(pattern, str) or not isinstance(action, str):
        return False
    if pattern == "*":
        return True
    return _wildcard_regex(pattern).fullmatch(action) is not None


def statement_allows_action(st: Statement, action: str) -> bool:
    """Whether the statement's Action/NotAction element covers `action` (NotAction: every action
    except those listed; neither element: none). Independent of Effect: combine with
    `st.effect == "Allow"` or `admits_account` (which requires Allow)."""
    if st.actions:
        return any(action_matches(p, action) for p in st.actions)
    if st.not_actions:
        return not any(action_matches(p, action) for p in st.not_actions)
    return False


def statement_allows_via_service(st: Statement, service: str | None) -> bool:
    """Whether the statement's kms:ViaService conditions let through a request that an AWS service
    makes on the caller's behalf (`service` such as "s3.us-east-1.amazonaws.com"), or a direct
    call (`service=None`, the key then absent from the request)."""
    for op, block in st.conditions.items():
        o = _parse_op(op)
        if not o.known:
            continue
        for key, values in block.items():
            if key.lower() != "kms:viaservice":
                continue
            if service is None:
                ok = o.negated or o.if_exists or o.set_op == "all" or o.base == "null"
            elif o.positive_string:
                ok = any(action_matches(v, service) if o.base.endswith("like") or o.base.startswith("arn")
                         else v.lower() == service.lower() for v in values)
            elif o.negated:
                ok = not any(action_matches(v, service) for v in values)
            else:
                ok = True
            if not ok:
                return False
    return True


def admits_account(st: Statement, account: str, *, org_id: str | None = None) -> bool:
    """Would this Allow statement let principals of `account` in, by its principals and its
    caller conditions? True when the account is admitted by name (a principal of that account,
    or a caller condition naming it), or when the statement admits anyone and no account
    condition excludes it (organisation, network and source restrictions cannot exclude an
    account by themselves: pass `org_id`, the account's organisation, to apply `st.org_ids`).
    Deny statements admit nobody. Actions and kms:ViaService are separate questions
    (`statement_allows_action`, `statement_allows_via_service`)."""
    if st.effect != "Allow" or not isinstance(account, str):
        return False
    ev = _eval_statement(st.effect, st.principals, st.not_principals, st.conditions, st.owner_account)
    if account in ev.cond.excluded:
        return False
    if not (account in ev.admitted or (ev.any_principal and ev.cond.constraint is None)):
        return False
    if org_id is not None and st.org_ids and _ORG_OF_OWNER not in st.org_ids:
        return org_id in st.org_ids
    return True
