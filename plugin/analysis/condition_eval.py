"""Three-valued evaluation of IAM `Condition` blocks against a partly known request context (pure).

Used by plugin/analysis/evaluator.py. A condition is `true`, `false` or *unknown*; an unknown result
carries the condition keys (or policy variables) it depends on, so a caller can show
"depends on aws:SourceIp (IpAddress)" instead of guessing.

The rules follow the IAM User Guide pages "IAM JSON policy elements: Condition operators",
"Conditions with multiple context keys or values", "Single-valued vs. multivalued context keys" and
"IAM policy elements: Variables and tags":

- The request context is a `Context`: condition key (case-insensitive) -> list of values. A key that
  is not in the context is **unknown**. A key mapped to `[]` (or `None`) is **known to be absent**
  from the request (e.g. `kms:ViaService: []` for a direct call to KMS).
- Operators: `String{Equals,NotEquals,EqualsIgnoreCase,NotEqualsIgnoreCase,Like,NotLike}`,
  `Arn{Equals,Like,NotEquals,NotLike}`, `Numeric{Equals,NotEquals,LessThan,LessThanEquals,GreaterThan,
  GreaterThanEquals}`, `Date...` (the same six), `Bool`, `BinaryEquals`, `IpAddress`, `NotIpAddress`,
  `Null`; each (except `Null`) with the `IfExists` suffix, and the `ForAnyValue:` / `ForAllValues:`
  prefixes. Operator names and condition keys are case-insensitive; values are case-sensitive except
  for the `...IgnoreCase` operators and `Bool`.
- `StringEquals` compares literally (`*` is a character); `StringLike` treats `*` and `?` as
  wildcards. `ArnEquals` and `ArnLike` behave identically: each of the six colon-delimited ARN
  components is matched separately, case-sensitively, with `*`/`?` wildcards.
- Several operators, and several keys in one operator, are ANDed. Several values of one key are
  ORed; for a negated operator (`StringNotEquals`, `ArnNotLike`, `NotIpAddress`, ...) they are NORed.
- A key absent from the request: positive operators are false; negated operators are **true**;
  `...IfExists` is true; `Null: true` is true. `ForAllValues:` is true on a missing or empty key,
  `ForAnyValue:` is false (with or without `IfExists`, as AWS behaves: re:Post
  "ForAnyValue:StringEqualsIfExists behaving unexpectedly").
- Policy variables `${key}` are replaced by the key's value when it is known and single-valued;
  `${key, 'default'}` uses the default when the key is absent; `${*}`, `${?}`, `${$}` are the literal
  characters. A variable whose key is unknown makes the comparison unknown; a variable whose key is
  absent (no default) makes that policy value match nothing.
- `kms:EncryptionContext:<k>` is known absent when `kms:EncryptionContextKeys` is known and does not
  list `<k>` (the full encryption context is then known).
- An unknown operator is never silently true or false: it is unknown ("depends on ... (unknown
  operator X)").
"""

from __future__ import annotations

import functools
import ipaddress
import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, NamedTuple

__all__ = [
    "FALSE",
    "TRUE",
    "Context",
    "Truth",
    "all_of",
    "any_of",
    "arn_matches",
    "evaluate_conditions",
    "evaluate_entry",
    "glob_matches",
    "negate",
    "parse_operator",
    "resolve_value",
]


# --------------------------------------------------------------------------------------------
# Three-valued truth
# --------------------------------------------------------------------------------------------

class Truth(NamedTuple):
    """`value` is True, False or None (unknown); `depends` names what an unknown value depends on."""
    value: bool | None
    depends: tuple[str, ...] = ()


TRUE = Truth(True)
FALSE = Truth(False)


def _unknown(*labels: str) -> Truth:
    return Truth(None, tuple(dict.fromkeys(labels)))


def _fold(items: Iterable[Truth], decisive: bool) -> Truth:
    """`decisive` as soon as one item is; unknown (with the union of dependencies) if any is unknown;
    else the other value."""
    deps: list[str] = []
    unknown = False
    for t in items:
        if t.value is decisive:
            return TRUE if decisive else FALSE
        if t.value is None:
            unknown = True
            deps.extend(t.depends)
    if unknown:
        return Truth(None, tuple(dict.fromkeys(deps)))
    return FALSE if decisive else TRUE


def all_of(items: Iterable[Truth]) -> Truth:
    """AND: false as soon as one is false; unknown if any is unknown; else true."""
    return _fold(items, False)


def any_of(items: Iterable[Truth]) -> Truth:
    """OR: true as soon as one is true; unknown if any is unknown; else false."""
    return _fold(items, True)


def negate(t: Truth) -> Truth:
    return t if t.value is None else (FALSE if t.value else TRUE)


# --------------------------------------------------------------------------------------------
# Request context
# --------------------------------------------------------------------------------------------

_EC_PREFIX = "kms:encryptioncontext:"
_EC_KEYS = "kms:encryptioncontextkeys"


def _scalar(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    return str(v)


class Context:
    """Known condition keys of a request: key (case-insensitive) -> tuple of string values.

    `()` means the key is known to be absent from the request; a key not in the mapping is unknown.
    Values may be given as a string, a bool (-> "true"/"false"), a number, a list, or None (absent).
    """

    __slots__ = ("_values",)

    def __init__(self, values: Mapping[str, Any] | None = None) -> None:
        out: dict[str, tuple[str, ...]] = {}
        for k, v in (values or {}).items():
            if v is None:
                out[str(k).lower()] = ()
            elif isinstance(v, (list, tuple, set, frozenset)):
                out[str(k).lower()] = tuple(_scalar(x) for x in v)
            else:
                out[str(k).lower()] = (_scalar(v),)
        self._values = out

    def get(self, key: str) -> tuple[str, ...] | None:
        """The key's values, `()` when known absent, None when unknown."""
        kl = key.lower()
        if kl in self._values:
            return self._values[kl]
        if kl.startswith(_EC_PREFIX):
            keys = self._values.get(_EC_KEYS)
            if keys is not None and kl[len(_EC_PREFIX):] not in {k.lower() for k in keys}:
                return ()
        return None

    def keys(self) -> list[str]:
        return sorted(self._values)

    def __repr__(self) -> str:
        return f"Context({self._values!r})"


# --------------------------------------------------------------------------------------------
# Operators
# --------------------------------------------------------------------------------------------

class OpSpec(NamedTuple):
    kind: str          # string | like | arn | num | date | bool | binary | ip | null
    cmp: str           # eq | lt | le | gt | ge (numeric and date)
    negated: bool
    ignore_case: bool


_BASE_OPS: dict[str, OpSpec] = {
    "stringequals": OpSpec("string", "eq", False, False),
    "stringnotequals": OpSpec("string", "eq", True, False),
    "stringequalsignorecase": OpSpec("string", "eq", False, True),
    "stringnotequalsignorecase": OpSpec("string", "eq", True, True),
    "stringlike": OpSpec("like", "eq", False, False),
    "stringnotlike": OpSpec("like", "eq", True, False),
    "arnequals": OpSpec("arn", "eq", False, False),
    "arnlike": OpSpec("arn", "eq", False, False),
    "arnnotequals": OpSpec("arn", "eq", True, False),
    "arnnotlike": OpSpec("arn", "eq", True, False),
    "bool": OpSpec("bool", "eq", False, True),
    "binaryequals": OpSpec("binary", "eq", False, False),
    "ipaddress": OpSpec("ip", "eq", False, False),
    "notipaddress": OpSpec("ip", "eq", True, False),
    "null": OpSpec("null", "eq", False, False),
}
for _kind in ("numeric", "date"):
    _k = "num" if _kind == "numeric" else "date"
    _BASE_OPS[f"{_kind}equals"] = OpSpec(_k, "eq", False, False)
    _BASE_OPS[f"{_kind}notequals"] = OpSpec(_k, "eq", True, False)
    _BASE_OPS[f"{_kind}lessthan"] = OpSpec(_k, "lt", False, False)
    _BASE_OPS[f"{_kind}lessthanequals"] = OpSpec(_k, "le", False, False)
    _BASE_OPS[f"{_kind}greaterthan"] = OpSpec(_k, "gt", False, False)
    _BASE_OPS[f"{_kind}greaterthanequals"] = OpSpec(_k, "ge", False, False)


class ParsedOp(NamedTuple):
    spec: OpSpec | None    # None: unknown operator
    set_op: str            # "" | "any" | "all"
    if_exists: bool


@functools.lru_cache(maxsize=512)
def parse_operator(op: str) -> ParsedOp:
    """`ForAllValues:StringLikeIfExists` -> (StringLike spec, "all", True); case-insensitive."""
    o = op.strip().lower()
    set_op = ""
    if o.startswith("forallvalues:"):
        set_op, o = "all", o[len("forallvalues:"):]
    elif o.startswith("foranyvalue:"):
        set_op, o = "any", o[len("foranyvalue:"):]
    if_exists = False
    if o.endswith("ifexists") and o[:-8] in _BASE_OPS and o[:-8] != "null":
        if_exists, o = True, o[:-8]
    return ParsedOp(_BASE_OPS.get(o), set_op, if_exists)


# --------------------------------------------------------------------------------------------
# Policy values: wildcards and policy variables
# --------------------------------------------------------------------------------------------

# A resolved value is a tuple of tokens: (0, text) literal, (1, "*") any run, (2, "?") one character.
Tokens = tuple[tuple[int, str], ...]
_VAR_RE = re.compile(r"\$\{([^}]*)\}")
_STAR, _QMARK = "\x00", "\x01"   # wildcard sentinels inside a pattern string (never in ARNs or keys)


class Unresolved(NamedTuple):
    label: str   # what the value depends on


def _append(out: list[tuple[int, str]], kind: int, text: str) -> None:
    if kind == 0 and out and out[-1][0] == 0:
        out[-1] = (0, out[-1][1] + text)
    elif kind != 0 or text:
        out.append((kind, text))


def _raw_tokens(text: str, out: list[tuple[int, str]]) -> None:
    buf = []
    for c in text:
        if c in "*?":
            if buf:
                _append(out, 0, "".join(buf))
                buf = []
            _append(out, 1 if c == "*" else 2, c)
        else:
            buf.append(c)
    if buf:
        _append(out, 0, "".join(buf))


def resolve_value(value: str, ctx: Context) -> Tokens | Unresolved | None:
    """Tokens of a policy value with its variables substituted; `Unresolved` when a variable's key is
    unknown (or multivalued); None when a variable's key is absent and has no default (the value
    then matches nothing)."""
    if "${" not in value:
        return _plain_tokens(value)
    out: list[tuple[int, str]] = []
    pos = 0
    for m in _VAR_RE.finditer(value):
        _raw_tokens(value[pos:m.start()], out)
        pos = m.end()
        inner = m.group(1).strip()
        if inner in ("*", "?", "$"):
            _append(out, 0, inner)
            continue
        name, default = inner, None
        if "," in inner:
            name, _, rest = inner.partition(",")
            name, rest = name.strip(), rest.strip()
            if len(rest) >= 2 and rest[0] == rest[-1] == "'":
                default = rest[1:-1]
        vals = ctx.get(name)
        if vals is None:
            return Unresolved(f"${{{name}}}")
        if not vals:
            if default is None:
                return None
            _append(out, 0, default)
        elif len(vals) > 1:
            return Unresolved(f"${{{name}}} (multivalued)")
        else:
            _append(out, 0, vals[0])
    _raw_tokens(value[pos:], out)
    return tuple(out)


@functools.lru_cache(maxsize=8192)
def _plain_tokens(value: str) -> Tokens:
    out: list[tuple[int, str]] = []
    _raw_tokens(value, out)
    return tuple(out)


def _literal(tokens: Tokens) -> str:
    return "".join(t for _, t in tokens)


def _pattern(tokens: Tokens) -> str:
    return "".join(t if k == 0 else (_STAR if k == 1 else _QMARK) for k, t in tokens)


@functools.lru_cache(maxsize=8192)
def _glob_re(pattern: str, ignore_case: bool) -> re.Pattern[str]:
    parts = [".*" if c == _STAR else "." if c == _QMARK else re.escape(c) for c in pattern]
    return re.compile("".join(parts), re.DOTALL | (re.IGNORECASE if ignore_case else 0))


def glob_matches(pattern: str, text: str, *, ignore_case: bool = False) -> bool:
    """`*` (any run) and `?` (one character) wildcards over the whole string."""
    return _glob_re(_pattern(_plain_tokens(pattern)), ignore_case).fullmatch(text) is not None


def _arn_match_pattern(pat: str, text: str) -> bool:
    if ":" not in pat:                     # "*" (or another bare wildcard): the whole string
        return _glob_re(pat, False).fullmatch(text) is not None
    pparts = pat.split(":", 5)
    tparts = text.split(":", 5)
    return (len(pparts) == 6 and len(tparts) == 6
            and all(_glob_re(p, False).fullmatch(t) is not None for p, t in zip(pparts, tparts)))


def arn_matches(pattern: str | Tokens, arn: str) -> bool:
    """ArnLike/ArnEquals (and Resource) matching: the six colon-delimited components are compared
    separately, case-sensitively, with `*`/`?` wildcards (a value that is not a 6-part ARN falls
    back to a whole-string wildcard match only when it has no colon, so `*` matches everything)."""
    toks = _plain_tokens(pattern) if isinstance(pattern, str) else pattern
    return _arn_match_pattern(_pattern(toks), arn)


# --------------------------------------------------------------------------------------------
# One comparison
# --------------------------------------------------------------------------------------------

def _number(s: str) -> float | None:
    try:
        return float(s.strip())
    except ValueError:
        return None


def _date(s: str) -> datetime | None:
    s = s.strip()
    try:
        if re.fullmatch(r"-?\d+(\.\d+)?", s):
            return datetime.fromtimestamp(float(s), tz=UTC)
        d = datetime.fromisoformat(s.replace("Z", "+00:00").replace("z", "+00:00"))
        return d if d.tzinfo else d.replace(tzinfo=UTC)
    except (ValueError, OverflowError, OSError):
        return None


def _compare(cmp: str, a: Any, b: Any) -> bool:
    # a: request value, b: policy value
    return {"eq": a == b, "lt": a < b, "le": a <= b, "gt": a > b, "ge": a >= b}[cmp]


def _matches(spec: OpSpec, tokens: Tokens, r: str) -> bool:
    """Whether request value `r` matches one (resolved) policy value, for the positive operator."""
    k = spec.kind
    if k == "string":
        lit = _literal(tokens)
        return lit.casefold() == r.casefold() if spec.ignore_case else lit == r
    if k == "like":
        return _glob_re(_pattern(tokens), False).fullmatch(r) is not None
    if k == "arn":
        return _arn_match_pattern(_pattern(tokens), r)
    lit = _literal(tokens)
    if k == "bool":
        return lit.lower() in ("true", "false") and lit.lower() == r.strip().lower()
    if k == "binary":
        return lit == r
    if k == "num":
        a, b = _number(r), _number(lit)
        return a is not None and b is not None and _compare(spec.cmp, a, b)
    if k == "date":
        da, db = _date(r), _date(lit)
        return da is not None and db is not None and _compare(spec.cmp, da, db)
    if k == "ip":
        try:
            return ipaddress.ip_address(r.strip()) in ipaddress.ip_network(lit.strip(), strict=False)
        except ValueError:
            return False
    return False


# --------------------------------------------------------------------------------------------
# One `operator: {key: values}` entry, and a whole Condition block
# --------------------------------------------------------------------------------------------

def evaluate_entry(op: str, key: str, values: Sequence[str], ctx: Context) -> Truth:
    """Evaluate `{op: {key: values}}` against the context (see the module docstring for the rules)."""
    if isinstance(values, str):
        values = [values]
    label = f"{key} ({op})"
    p = parse_operator(op)
    if p.spec is None:
        return _unknown(f"{key} (unknown operator {op})")
    req = ctx.get(key)
    if req is None:
        return _unknown(label)
    spec = p.spec
    present = len(req) > 0
    if spec.kind == "null":
        # Null: "true" means the key must be absent, "false" that it must be present; values ORed
        return any_of(TRUE if (v.strip().lower() == "true") != present else FALSE
                      for v in values if v.strip().lower() in ("true", "false"))
    if not present:
        if p.set_op == "all":
            return TRUE
        if p.set_op == "any":
            return FALSE
        if p.if_exists or spec.negated:
            return TRUE
        return FALSE
    resolved: list[Tokens | Unresolved] = []
    for v in values:
        t = resolve_value(v, ctx)
        if t is not None:
            resolved.append(t)

    def matched(r: str) -> Truth:   # r matches any policy value (positive form)
        return any_of(_unknown(f"{t.label} in {label}") if isinstance(t, Unresolved)
                      else (TRUE if _matches(spec, t, r) else FALSE) for t in resolved)

    per_value = [negate(matched(r)) if spec.negated else matched(r) for r in req]
    if p.set_op == "all" or (spec.negated and not p.set_op):
        return all_of(per_value)      # ForAllValues; negated operators NOR over the request values
    return any_of(per_value)          # ForAnyValue; positive operators on (possibly several) values


def evaluate_conditions(conditions: Mapping[str, Mapping[str, Sequence[str]]] | None, ctx: Context) -> Truth:
    """A whole Condition block: operators ANDed, keys within an operator ANDed."""
    if not conditions:
        return TRUE
    return all_of(evaluate_entry(op, key, vals, ctx)
                  for op, block in conditions.items() for key, vals in block.items())
