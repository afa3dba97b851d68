"""Condition evaluation of one statement: what its Condition block narrows the caller to (accounts,
organisations, services, network) and what that means for the statement (public, external, reach).
Used by plugin/analysis/policy.py; the rules are in its module docstring."""

from __future__ import annotations

import functools
from typing import Any, NamedTuple

from .policy_elements import (Principal, Statement, _ACCOUNT_RE, _CALLER_KEYS, _EFFECTS, _ELEMENT_NAMES,
    _EXCLUSIVE, _IDP_KEY_RE, _Malformed, _STATEMENT_ELEMENTS, _conditions, _ips_cover_a_family, _is_open,
    _parse_op, _principals, _scalar, _strings, _value_info)


# --------------------------------------------------------------------------------------------
# Evaluation of one statement
# --------------------------------------------------------------------------------------------

class _CondEval(NamedTuple):
    restricting_keys: frozenset[str]
    constraint: frozenset[str] | None   # C: accounts the restricting account conditions allow
    named: frozenset[str]               # accounts named by positive caller conditions
    excluded: frozenset[str]            # accounts excluded by plain negated account conditions
    caller_accounts: tuple[str, ...]
    via_services: tuple[str, ...]
    org_ids: tuple[str, ...]


class _Entry(NamedTuple):
    """What one `operator: {key: values}` entry contributes (cached: entries repeat across keys)."""
    via: tuple[str, ...]                 # positive kms:ViaService values
    restricting_key: str | None          # canonical key when the entry restricts the caller
    constraint: frozenset[str] | None    # accounts it allows, when restricting and all name one
    named: frozenset[str]
    caller_restricts: bool               # a restricting kms:CallerAccount/aws:PrincipalAccount/... entry
    orgs: tuple[str, ...]
    excluded: frozenset[str]


_NO_ENTRY = _Entry((), None, None, frozenset(), False, (), frozenset())


@functools.lru_cache(maxsize=16384)
def _entry(op: str, key: str, values: tuple[str, ...], owner: str) -> _Entry:
    o = _parse_op(op)
    if not o.known:
        return _NO_ENTRY
    kl = key.lower()
    if kl == "kms:viaservice":
        return _Entry(tuple(dict.fromkeys(values)), None, None, frozenset(), False, (), frozenset()) \
            if o.positive_string else _NO_ENTRY
    spec = _CALLER_KEYS.get(kl)
    if spec is None:
        if not _IDP_KEY_RE.fullmatch(kl):
            return _NO_ENTRY
        spec = (kl, "id", False)
    canon, kind, is_caller = spec
    positive = (o.base == "ipaddress") if kind == "ip" else o.positive_string
    if not positive:
        if o.negated and kind == "account" and not o.set_op:
            return _NO_ENTRY._replace(excluded=frozenset(x for x in values if _ACCOUNT_RE.fullmatch(x)))
        return _NO_ENTRY
    infos = [_value_info(kind, x, owner) for x in values]
    named: set[str] = set()
    for vi in infos:
        if vi.restricts and vi.accounts:
            named.update(vi.accounts)
    effective = (bool(values) and all(vi.restricts for vi in infos)
                 and not o.if_exists and o.set_op != "all")
    if effective and kind == "ip" and _ips_cover_a_family(values):
        effective = False
    if not effective:
        return _NO_ENTRY._replace(named=frozenset(named))
    orgs = tuple(dict.fromkeys(vi.org for vi in infos if vi.org)) if kind in ("org", "orgpath") else ()
    constraint = None
    if all(vi.accounts is not None for vi in infos):
        constraint = frozenset().union(*(vi.accounts for vi in infos))  # type: ignore[arg-type]
    return _Entry((), canon, constraint, frozenset(named), is_caller, orgs, frozenset())


_NO_CONDITIONS = _CondEval(frozenset(), None, frozenset(), frozenset(), (), (), ())


def _eval_conditions(conds: dict[str, dict[str, list[str]]], owner: str) -> _CondEval:
    if not conds:
        return _NO_CONDITIONS
    restricting: set[str] = set()
    constraint: frozenset[str] | None = None
    named: set[str] = set()
    excluded: set[str] = set()
    caller_restricts = False
    via: list[str] = []
    orgs: list[str] = []
    for op, block in conds.items():
        for key, values in block.items():
            e = _entry(op, key, tuple(values), owner)
            if e is _NO_ENTRY:
                continue
            for x in e.via:
                if x not in via:
                    via.append(x)
            if e.restricting_key:
                restricting.add(e.restricting_key)
                if e.constraint is not None:
                    constraint = e.constraint if constraint is None else constraint & e.constraint
            named |= e.named
            excluded |= e.excluded
            caller_restricts |= e.caller_restricts
            for x in e.orgs:
                if x not in orgs:
                    orgs.append(x)
    # the accounts the caller-account conditions narrow the caller to (with the other account
    # restrictions ANDed in and negated ones taken out): the values of kms:CallerAccount & co in
    # the usual single-condition statement
    caller = tuple(sorted(constraint - excluded)) if caller_restricts and constraint is not None else ()
    return _CondEval(frozenset(restricting), constraint, frozenset(named), frozenset(excluded),
                     caller, tuple(via), tuple(orgs))


class _StEval(NamedTuple):
    cond: _CondEval
    any_principal: bool
    admitted: frozenset[str]
    is_public: bool
    reaches_owner: bool


def _eval_statement(effect: str, principals: list[Principal], not_principals: list[Principal],
                    conds: dict[str, dict[str, list[str]]], owner: str) -> _StEval:
    ce = _eval_conditions(conds, owner)
    if effect != "Allow":
        return _StEval(ce, False, frozenset(), False, False)
    any_p = bool(not_principals)   # Allow + NotPrincipal: everyone except
    open_p = False
    p_accts: set[str] = set()
    for p in principals:
        if p.is_wildcard:
            any_p = True
        elif p.account:
            p_accts.add(p.account)
        elif _is_open(p):
            open_p = True
    c = ce.constraint
    if c is None:
        admitted = set(p_accts)
        if any_p or open_p:
            admitted |= ce.named
    else:
        admitted = p_accts & c
        if any_p or open_p:
            admitted |= c
    admitted -= ce.excluded
    is_public = any_p and not ce.restricting_keys
    reaches = owner in admitted or (any_p and c is None and owner not in ce.excluded)
    return _StEval(ce, any_p, frozenset(admitted), is_public, reaches)


def _statement(index: int, raw: Any, owner: str, warn: list[str]) -> Statement:
    if not isinstance(raw, dict):
        raise _Malformed(f"statement {index} must be an object, found {type(raw).__name__}")
    el: dict[str, Any] = {}
    for k, v in raw.items():
        kl = _ELEMENT_NAMES.get(k) if type(k) is str else None
        if kl is None:
            kl = str(k).lower()
        if kl in el:
            warn.append(f"statement {index}: duplicate element {k!r} (first one used)")
            continue
        el[kl] = v
        if kl not in _STATEMENT_ELEMENTS:
            warn.append(f"statement {index}: unknown element {k!r} (ignored)")
    sw: list[str] = []
    effect_raw = el.get("effect")
    if effect_raw is None:
        raise _Malformed(f"statement {index}: missing Effect")
    effect = _EFFECTS.get(effect_raw.lower()) if isinstance(effect_raw, str) else None
    if effect is None:
        raise _Malformed(f"statement {index}: Effect must be Allow or Deny, found {effect_raw!r}")
    for a, b, name in _EXCLUSIVE:
        if a in el and b in el:
            raise _Malformed(f"statement {index}: both {name} and Not{name}")
    has_p, has_np = "principal" in el, "notprincipal" in el
    principals = _principals(el["principal"], (index, "Principal"), sw) if has_p else []
    not_principals = _principals(el["notprincipal"], (index, "NotPrincipal"), sw) if has_np else []
    if not has_p and not has_np:
        sw.append(f"statement {index}: no Principal or NotPrincipal (admits nobody)")
    actions = _strings(el.get("action"), (index, "Action"), sw)
    not_actions = _strings(el.get("notaction"), (index, "NotAction"), sw)
    if "action" not in el and "notaction" not in el:
        sw.append(f"statement {index}: no Action or NotAction (allows no action)")
    resources = _strings(el.get("resource"), (index, "Resource"), sw)
    not_resources = _strings(el.get("notresource"), (index, "NotResource"), sw)
    conditions = _conditions(el.get("condition"), (index, "Condition"), sw)
    sid = el.get("sid")
    ev = _eval_statement(effect, principals, not_principals, conditions, owner)
    ce = ev.cond
    warn.extend(sw)
    return Statement(
        index=index,
        sid=None if sid is None else _scalar(sid),
        effect=effect,
        principals=principals,
        not_principals=not_principals,
        actions=actions,
        not_actions=not_actions,
        resources=resources,
        not_resources=not_resources,
        conditions=conditions,
        is_public=ev.is_public,
        reaches_owner=ev.reaches_owner,
        external_accounts=sorted(a for a in ev.admitted if a != owner),
        caller_accounts=sorted(ce.caller_accounts),
        via_services=list(ce.via_services),
        restricting_keys=sorted(ce.restricting_keys),
        org_ids=list(ce.org_ids),
        owner_account=owner,
    )
