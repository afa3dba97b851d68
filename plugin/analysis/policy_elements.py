"""Policy documents as data: the result types (Principal, Statement, Analysis) and the parsing of
statement elements (principals, actions, condition blocks and their values) for plugin/analysis/policy.py."""

from __future__ import annotations

import functools
import ipaddress
import json
import re
from dataclasses import asdict, dataclass, field
from typing import Any, NamedTuple


# --------------------------------------------------------------------------------------------
# Result types
# --------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Principal:
    type: str            # "AWS" | "Service" | "Federated" | "CanonicalUser" | "*"
    value: str           # as written
    account: str | None  # 12-digit account it belongs to, when one can be derived
    is_wildcard: bool    # admits anyone ("*", {"AWS": "*"}, arn:aws:iam::*:root, web identities)


@dataclass
class Statement:
    index: int
    sid: str | None
    effect: str                      # "Allow" | "Deny" (normalised case)
    principals: list[Principal]      # from Principal
    not_principals: list[Principal]  # from NotPrincipal
    actions: list[str]               # as written (normalised to a list)
    not_actions: list[str]
    resources: list[str]
    not_resources: list[str]
    conditions: dict[str, dict[str, list[str]]]   # operator -> key -> values (as written, listified)
    is_public: bool                  # this statement (Allow) admits the public, unrestricted
    reaches_owner: bool              # admits principals of the owner account
    external_accounts: list[str]     # sorted 12-digit accounts other than the owner it admits
    caller_accounts: list[str]       # accounts restricting kms:CallerAccount / aws:PrincipalAccount / aws:SourceAccount / aws:SourceOwner conditions narrow the caller to
    via_services: list[str]          # positive kms:ViaService values (e.g. "s3.us-east-1.amazonaws.com")
    restricting_keys: list[str]      # caller-side condition keys that restrict who the caller is
    org_ids: list[str]               # aws:PrincipalOrgID / SourceOrgID values and org ids of *OrgPaths (restricting ones)
    owner_account: str = field(default="", repr=False, compare=False)  # for ${aws:ResourceAccount}


@dataclass
class Analysis:
    ok: bool
    error: str | None                # reason when the policy is malformed (then statements may be partial/empty)
    owner_account: str
    is_public: bool
    external_accounts: list[str]     # sorted, union over Allow statements
    statements: list[Statement]
    warnings: list[str] = field(default_factory=list)  # tolerated oddities (see module docstring)

    def as_dict(self) -> dict[str, Any]:
        """Plain JSON-able form (e.g. to store the analysis next to the policy)."""
        return asdict(self)


# --------------------------------------------------------------------------------------------
# Tables and compiled patterns (module level: nothing is rebuilt per call)
# --------------------------------------------------------------------------------------------

_ACCOUNT_RE = re.compile(r"[0-9]{12}")
_ARN_RE = re.compile(r"arn:([^:]*):([^:]*):([^:]*):([^:]*)(?::(.*))?", re.IGNORECASE | re.DOTALL)
_VAR_RE = re.compile(r"\$\{([^}]*)\}")
_IDP_KEY_RE = re.compile(r"[a-z0-9-]+(?:\.[a-z0-9-]+)+(?:/[^:]*)?:(aud|oaud|azp|sub|app_id|id|user_id)")

_PRINCIPAL_TYPES = {"aws": "AWS", "service": "Service", "federated": "Federated", "canonicaluser": "CanonicalUser"}
_STATEMENT_ELEMENTS = frozenset(
    {"sid", "effect", "principal", "notprincipal", "action", "notaction", "resource", "notresource", "condition"})

# kind, and whether the key's values are "caller accounts" (Statement.caller_accounts)
_CALLER_KEYS: dict[str, tuple[str, str, bool]] = {
    "kms:calleraccount": ("kms:CallerAccount", "account", True),
    "aws:principalaccount": ("aws:PrincipalAccount", "account", True),
    "aws:sourceaccount": ("aws:SourceAccount", "account", True),
    "aws:sourceowner": ("aws:SourceOwner", "account", True),
    "s3:dataaccesspointaccount": ("s3:DataAccessPointAccount", "account", False),
    "aws:principalarn": ("aws:PrincipalArn", "arn", False),
    "aws:sourcearn": ("aws:SourceArn", "arn", False),
    "s3:dataaccesspointarn": ("s3:DataAccessPointArn", "arn", False),
    "aws:principalorgid": ("aws:PrincipalOrgID", "org", False),
    "aws:sourceorgid": ("aws:SourceOrgID", "org", False),
    "aws:principalorgpaths": ("aws:PrincipalOrgPaths", "orgpath", False),
    "aws:sourceorgpaths": ("aws:SourceOrgPaths", "orgpath", False),
    "aws:sourcevpc": ("aws:SourceVpc", "id", False),
    "aws:sourcevpce": ("aws:SourceVpce", "id", False),
    "aws:principalservicename": ("aws:PrincipalServiceName", "id", False),
    "aws:principalservicenameslist": ("aws:PrincipalServiceNamesList", "id", False),
    "aws:sourceip": ("aws:SourceIp", "ip", False),
    "aws:userid": ("aws:userid", "userid", False),
}

_POSITIVE_STRING_OPS = frozenset({"stringequals", "stringequalsignorecase", "stringlike", "arnequals", "arnlike"})
_NEGATED_OPS = frozenset({"stringnotequals", "stringnotequalsignorecase", "stringnotlike", "arnnotequals",
                          "arnnotlike", "notipaddress", "numericnotequals", "datenotequals"})
_KNOWN_OPS = _POSITIVE_STRING_OPS | _NEGATED_OPS | frozenset({
    "ipaddress", "numericequals", "numericlessthan", "numericlessthanequals", "numericgreaterthan",
    "numericgreaterthanequals", "dateequals", "datelessthan", "datelessthanequals", "dategreaterthan",
    "dategreaterthanequals", "bool", "binaryequals", "null"})

_EFFECTS = {"allow": "Allow", "deny": "Deny"}
_ELEMENT_NAMES = {"Sid": "sid", "Effect": "effect", "Principal": "principal", "NotPrincipal": "notprincipal",
                  "Action": "action", "NotAction": "notaction", "Resource": "resource",
                  "NotResource": "notresource", "Condition": "condition"}
_EXCLUSIVE = (("principal", "notprincipal", "Principal"), ("action", "notaction", "Action"),
              ("resource", "notresource", "Resource"))
_ORG_OF_OWNER = "${aws:ResourceOrgID}"
_UNRESOLVED = None


class _Op(NamedTuple):
    base: str            # lower-case base operator ("stringequals")
    set_op: str          # "" | "any" | "all"
    if_exists: bool
    known: bool
    positive_string: bool
    negated: bool


@functools.lru_cache(maxsize=1024)
def _parse_op(op: str) -> _Op:
    o = op.lower()
    set_op = ""
    if o.startswith("forallvalues:"):
        set_op, o = "all", o[13:]
    elif o.startswith("foranyvalue:"):
        set_op, o = "any", o[12:]
    if_exists = False
    if o.endswith("ifexists") and o != "ifexists":
        if_exists, o = True, o[:-8]
    known = o in _KNOWN_OPS
    return _Op(o, set_op, if_exists, known, o in _POSITIVE_STRING_OPS, o in _NEGATED_OPS)


def _has_wild(s: str) -> bool:
    return "*" in s or "?" in s


def _resolve_vars(v: str, owner: str) -> str | None:
    """Substitute the policy variables whose value is known statically; None when another remains."""
    if "${" not in v:
        return v
    unresolved = False

    def repl(m: re.Match[str]) -> str:
        nonlocal unresolved
        name = m.group(1).strip().lower()
        if name == "*":
            return "\x01"          # literal '*' (escape), not a wildcard
        if name == "?":
            return "\x02"
        if name == "$":
            return "$"
        if name == "aws:resourceaccount" and _ACCOUNT_RE.fullmatch(owner):
            return owner
        if name == "aws:resourceorgid":
            return "\x03"          # the owner's organisation: literal but unknown here
        unresolved = True
        return "*"

    out = _VAR_RE.sub(repl, v)
    return None if unresolved else out


class _ValueInfo(NamedTuple):
    restricts: bool                  # this value, alone, restricts the caller
    accounts: frozenset[str] | None  # accounts it names (None: it restricts without naming one)
    org: str | None                  # organisation id it names


_OPEN = _ValueInfo(False, None, None)


@functools.lru_cache(maxsize=16384)
def _value_info(kind: str, value: str, owner: str) -> _ValueInfo:
    v = _resolve_vars(value, owner)
    if v is _UNRESOLVED:
        return _OPEN
    if kind == "account":
        if _has_wild(v) or not v:
            return _OPEN
        return _ValueInfo(True, frozenset((v,)) if _ACCOUNT_RE.fullmatch(v) else frozenset(), None)
    if kind == "arn":
        m = _ARN_RE.fullmatch(v)
        if not m:
            return _OPEN if (_has_wild(v) or not v) else _ValueInfo(True, None, None)
        acct = m.group(4)
        if _ACCOUNT_RE.fullmatch(acct):
            return _ValueInfo(True, frozenset((acct,)), None)
        if _has_wild(acct):
            return _OPEN
        if acct == "":
            first = (m.group(5) or "").split("/", 1)[0]
            if not first or _has_wild(first) or _has_wild(m.group(2)):
                return _OPEN
            return _ValueInfo(True, None, None)
        # a literal account field that is not an account (10 digits, "aws", "cloudfront")
        return _ValueInfo(True, frozenset() if acct.isdigit() else None, None)
    if kind == "org":
        if not v or _has_wild(v):
            return _OPEN
        return _ValueInfo(True, None, _ORG_OF_OWNER if v == "\x03" else value)
    if kind == "orgpath":
        first = v.split("/", 1)[0]
        if not first or _has_wild(first):
            return _OPEN
        return _ValueInfo(True, None, _ORG_OF_OWNER if first == "\x03" else first)
    if kind == "userid":
        ident = v.split(":", 1)[0]
        if not ident or _has_wild(ident):
            return _OPEN
        return _ValueInfo(True, frozenset((ident,)) if _ACCOUNT_RE.fullmatch(ident) else None, None)
    if kind == "ip":
        if not v or _has_wild(v):
            return _OPEN
        return _ValueInfo(True, None, None)
    # "id" (VPC, VPC endpoint, service name) and web-identity provider keys
    if not v or _has_wild(v):
        return _OPEN
    return _ValueInfo(True, None, None)


@functools.lru_cache(maxsize=4096)
def _ips_cover_a_family(values: tuple[str, ...]) -> bool:
    """True when the CIDRs together admit every IPv4 or every IPv6 address."""
    v4: list[Any] = []
    v6: list[Any] = []
    for s in values:
        try:
            net = ipaddress.ip_network(s.strip(), strict=False)
        except ValueError:
            continue  # an unparseable value matches nothing
        (v4 if net.version == 4 else v6).append(net)
    for nets, total in ((v4, 1 << 32), (v6, 1 << 128)):
        if nets and sum(n.num_addresses for n in ipaddress.collapse_addresses(nets)) >= total:
            return True
    return False


# --------------------------------------------------------------------------------------------
# Principals
# --------------------------------------------------------------------------------------------

@functools.lru_cache(maxsize=16384)
def _principal(ptype: str, value: str) -> Principal:
    if value == "*":
        return Principal(ptype, value, None, True)
    m = _ARN_RE.fullmatch(value)
    if m:
        acct = m.group(4)
        if _ACCOUNT_RE.fullmatch(acct):
            return Principal(ptype, value, acct, False)
        return Principal(ptype, value, None, _has_wild(acct))
    if ptype in ("AWS", "*"):
        if _ACCOUNT_RE.fullmatch(value):
            return Principal(ptype, value, value, False)
        # unique ids (AROA..., AIDA...) and other names: no account; a pattern admits anyone
        return Principal(ptype, value, None, _has_wild(value))
    if ptype == "Federated":
        # a web identity provider (cognito-identity.amazonaws.com, accounts.google.com, ...):
        # anyone holding one of its tokens
        return Principal(ptype, value, None, True)
    return Principal(ptype, value, None, False)


@functools.lru_cache(maxsize=16384)
def _is_open(p: Principal) -> bool:
    """A principal whose account is decided by the conditions: a service acting for a source
    account, a canonical user id or a unique id (AROA...) of an unknown account. An ARN whose
    account field is literal but not an account (`arn:aws:iam::cloudfront:user/...`, 10 digits)
    and a bare number that is not 12 digits belong to no account."""
    if p.is_wildcard or p.account:
        return False
    if p.type in ("Service", "CanonicalUser"):
        return True
    return not (_ARN_RE.fullmatch(p.value) or p.value.isdigit() or not p.value)


def _infer_type(value: str) -> str:
    """Type of a principal written without its type (`"Principal": "..."` or a list)."""
    if value == "*":
        return "*"
    lv = value.lower()
    if lv.startswith("arn:") or _ACCOUNT_RE.fullmatch(value):
        return "AWS"
    if lv.endswith((".amazonaws.com", ".amazon.com", ".amazonaws.com.cn")):
        return "Service"
    return "AWS"


def _scalar(x: Any) -> str:
    if isinstance(x, bool):
        return "true" if x else "false"
    if x is None:
        return "null"
    if isinstance(x, str):
        return x
    if isinstance(x, (int, float)):
        return str(x)
    return json.dumps(x, sort_keys=True, default=str)


class _Malformed(Exception):
    pass


def _strings(v: Any, what: tuple[Any, ...], warn: list[str]) -> list[str]:
    """Listify a string-or-list element; non-string scalars are stringified with a warning.
    `what` is (statement index, element path), formatted only when a message is needed."""
    if type(v) is str:
        return [v]
    if v is None:
        return []
    if isinstance(v, list):
        if all(type(x) is str for x in v):
            return list(v)
        out = []
        for x in v:
            if isinstance(x, str):
                out.append(x)
            elif isinstance(x, (dict, list)):
                raise _Malformed(f"{_w(what)} must hold strings, found {type(x).__name__}")
            else:
                warn.append(f"{_w(what)}: non-string value {x!r} read as {_scalar(x)!r}")
                out.append(_scalar(x))
        return out
    if isinstance(v, str):
        return [str(v)]
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        warn.append(f"{_w(what)}: non-string value {v!r} read as {_scalar(v)!r}")
        return [_scalar(v)]
    raise _Malformed(f"{_w(what)} must be a string or a list of strings, found {type(v).__name__}")


def _w(what: tuple[Any, ...]) -> str:
    return ".".join([f"statement {what[0]}", *what[1:]])


def _principals(v: Any, what: tuple[Any, ...], warn: list[str]) -> list[Principal]:
    if isinstance(v, dict):
        out = []
        for k, vals in v.items():
            ptype = _PRINCIPAL_TYPES.get(str(k).lower())
            if ptype is None:
                raise _Malformed(f"{_w(what)} has an unknown principal type {k!r}")
            if type(vals) is str:
                out.append(_principal(ptype, vals))
                continue
            for s in _strings(vals, (*what, ptype), warn):
                out.append(_principal(ptype, s))
        if not out:
            warn.append(f"{_w(what)} names no principal")
        return out
    if v is None:
        warn.append(f"{_w(what)} is null: no principal")
        return []
    if isinstance(v, str):
        if v != "*":
            warn.append(f"{_w(what)} is a bare string {v!r}: read as a {_infer_type(v)} principal")
        return [_principal(_infer_type(v), v)]
    if isinstance(v, list):
        warn.append(f"{_w(what)} is a list: each value typed from its form")
        out = []
        for x in v:
            if not isinstance(x, (str, int)) or isinstance(x, bool):
                raise _Malformed(f"{_w(what)} list must hold strings, found {type(x).__name__}")
            s = str(x)
            out.append(_principal(_infer_type(s), s))
        return out
    raise _Malformed(f"{_w(what)} must be \"*\" or an object, found {type(v).__name__}")


def _conditions(v: Any, what: tuple[Any, ...], warn: list[str]) -> dict[str, dict[str, list[str]]]:
    if v is None:
        return {}
    if not isinstance(v, dict):
        raise _Malformed(f"{_w(what)} must be an object, found {type(v).__name__}")
    out: dict[str, dict[str, list[str]]] = {}
    for op, block in v.items():
        op = str(op)
        if not isinstance(block, dict):
            raise _Malformed(f"{_w(what)}.{op} must be an object, found {type(block).__name__}")
        if not _parse_op(op).known:
            warn.append(f"{_w(what)}: unknown condition operator {op!r} (never restricting)")
        keys: dict[str, list[str]] = {}
        for key, vals in block.items():
            key = str(key)
            if type(vals) is str:
                keys[key] = [vals]
            elif isinstance(vals, list):
                if all(type(x) is str for x in vals):
                    keys[key] = list(vals)
                else:
                    if any(isinstance(x, (dict, list)) for x in vals):
                        warn.append(f"{_w(what)}.{op}.{key}: nested values ignored")
                    keys[key] = [_scalar(x) for x in vals if not isinstance(x, (dict, list))]
            elif isinstance(vals, dict):
                warn.append(f"{_w(what)}.{op}.{key}: an object is not a condition value (ignored)")
                keys[key] = []
            else:
                keys[key] = [_scalar(vals)]
        out[op] = keys
    return out
