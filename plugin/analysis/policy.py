"""Resource-policy analysis for KMS key policies and S3 bucket policies (pure: no AWS calls).

`analyze(policy, owner_account)` answers, for one resource policy and the 12-digit account that
owns the resource: is it public, which other accounts does it let in, and, statement by statement,
who it reaches (principals typed, conditions listified, caller restrictions named). It never
raises: a malformed policy gives `Analysis(ok=False, error=<reason>)` so one bad document cannot
stop a sync. `action_matches`, `statement_allows_action` and `admits_account` let callers ask
further questions of the statements (e.g. "can account X use this key for kms:Decrypt?").

Semantics (each rule is exercised by tests/test_policy.py on real policy documents)
=================================================================================

Parsing
-------
- `policy` may be a dict, a JSON string or bytes (UTF-8, BOM tolerated). A JSON string that
  itself decodes to a string (double-encoded, as Terraform state sometimes holds) is decoded once
  more, with a warning.
- Element names (`Statement`, `Effect`, `Principal`, `Condition`, ...) are matched
  case-insensitively; `Effect` values `allow`/`deny` are normalised to `Allow`/`Deny`. Condition
  operators and condition keys are case-insensitive, as IAM treats them ([IAM-COND]).
- `Statement` may be one object or a list. `Principal`, `Action`, `Resource` and condition values
  may be a string or a list; non-string scalars are stringified (`true` -> "true", 12 -> "12").
- Hard errors (`ok=False`, reason in `error`, the statement is left out of `statements`): not
  JSON, not an object, no `Statement`, `Statement` empty or neither object nor list, a statement
  that is not an object, missing or invalid `Effect`, both `Principal` and `NotPrincipal`, both
  `Action` and `NotAction`, both `Resource` and `NotResource`, an unknown principal type, a
  `Condition` (or an operator block inside it) that is not an object, an element of the wrong
  shape (e.g. `"Action": {...}`). All statement errors are collected, joined by "; ", and the
  well-formed statements are still analysed (so `is_public`/`external_accounts` of an `ok=False`
  result are a lower bound).
- Tolerated with a warning (`Analysis.warnings`), because test-suite and hand-written policies do
  it and AWS's meaning is still clear: a statement without `Principal`/`NotPrincipal` (it admits
  nobody: a resource policy statement must name its principals), without `Action`/`NotAction`
  (allows no action), unknown statement elements (`Actions`, `StatementId`), a bare-string or list
  `Principal` other than `"*"` (each value is typed from its form: 12 digits or an ARN -> AWS,
  `*.amazonaws.com` -> Service), a condition value that is an object (ignored: never restricting),
  unknown condition operators (never restricting). Unknown top-level members (`Id`, `_source`) are
  ignored.

Principals ([IAM-PRINCIPAL])
----------------------------
- `"*"`, `{"AWS": "*"}`, `*` in any principal list, and an ARN whose account field holds a
  wildcard (`arn:aws:iam::*:root`) are wildcards (`is_wildcard=True`). `"*"` is a wildcard in any
  principal type (`{"CanonicalUser": "*"}` too), as peers count it.
- `"111122223333"` and `arn:aws:iam::111122223333:root` mean the account (delegation to its IAM);
  role, user, group, `arn:aws:sts::ACCOUNT:assumed-role/...`, `federated-user/...` ARNs belong to
  their account; `Federated: arn:aws:iam::ACCOUNT:saml-provider/x` (and `oidc-provider/x`) belong
  to ACCOUNT. Any ARN's account is its 5th field when that is exactly 12 digits (partitions `aws`,
  `aws-cn`, `aws-us-gov` alike); 10-digit or named fields (`arn:aws:iam::cloudfront:user/...`)
  give no account.
- `Federated` values that are not ARNs (`cognito-identity.amazonaws.com`, `accounts.google.com`,
  `graph.facebook.com`, `www.amazon.com`) are web identities: anyone holding a token of that
  provider, so they are treated as wildcards unless a condition restricts them (the standard
  caller keys below, or the provider's `<provider>:aud|oaud|azp|sub|app_id|id|user_id` keys with
  literal values).
- Service principals, canonical user ids and unique ids (`AROA...`, `AIDA...`) are not accounts
  and not wildcards. A service principal is not public (peers and IAM Access Analyzer agree); the
  account it acts for is what `aws:SourceAccount`/`aws:SourceArn`/`aws:SourceOwner` say, so
  `{"Service": "cloudfront.amazonaws.com"}` + `aws:SourceArn arn:aws:cloudfront::222...` admits
  account 222.
- `NotPrincipal` with Allow admits everyone except the listed principals: public (unless a
  condition restricts it), and the listed accounts are never counted as admitted. `NotPrincipal`
  with Deny admits nobody.

Conditions ([IAM-COND])
-----------------------
- Operators are ANDed, keys within an operator are ANDed, the values of one key are ORed.
  `ForAnyValue:`/`ForAllValues:` prefixes and the `IfExists` suffix are understood.
- A condition *restricts the caller* when all of: its operator is positive (`StringEquals`,
  `StringEqualsIgnoreCase`, `StringLike`, `ArnEquals`, `ArnLike`; `IpAddress` for IP keys); it is
  not `...IfExists` and not `ForAllValues:` (both pass when the key is absent, e.g. for anonymous
  callers); its key is a caller-side key (table below); and *every* value is literal for that key
  (one wildcard value opens the OR).
- Not restricting: negated operators (`StringNotEquals`, `StringNotLike`, `ArnNot*`,
  `NotIpAddress`: they pass when the key is absent); `Null`, `Bool`, numeric and date operators;
  wildcard values (`*`, `o-*`, `arn:aws:iam::*:role/x`, `vpc-*`, `0.0.0.0/0`, `::/0`, or IP
  ranges that together cover all of IPv4 or IPv6); policy variables other than
  `${aws:ResourceAccount}` (resolved to the owner) and `${aws:ResourceOrgID}` (the owner's
  organisation); keys that say nothing about who the caller is (`aws:ResourceAccount`,
  `aws:ResourceOrgID`, `aws:UserAgent`, `aws:Referer`, `aws:SecureTransport`, `s3:prefix`,
  `aws:PrincipalTag/*`, `aws:username`, `kms:ViaService`, `aws:CalledVia`, `aws:VpcSourceIp`,
  `aws:PrincipalIsAWSService`, unknown keys).
- `StringEquals` matches `*` literally in AWS, but a `*` value is still treated as a wildcard:
  it is what the author meant, peers read it so, and it errs towards reporting exposure.

| caller-side key | literal means | names accounts |
|---|---|---|
| `kms:CallerAccount`, `aws:PrincipalAccount`, `aws:SourceAccount`, `aws:SourceOwner` | no `*`/`?` | the 12-digit values |
| `s3:DataAccessPointAccount` | no `*`/`?` | the 12-digit values (the access point's owner decides further access) |
| `aws:PrincipalArn`, `aws:SourceArn`, `s3:DataAccessPointArn` | the ARN's account field is 12 digits, or it has no account field (S3 buckets) and the service and first resource segment have no wildcard | the account field |
| `aws:PrincipalOrgID`, `aws:SourceOrgID` | no wildcard | no (`org_ids`) |
| `aws:PrincipalOrgPaths`, `aws:SourceOrgPaths` | the `o-...` segment has no wildcard | no (`org_ids` gets the `o-...`) |
| `aws:SourceVpc`, `aws:SourceVpce`, `aws:PrincipalServiceName(sList)` | no wildcard | no |
| `aws:SourceIp` | not `*`, not covering a whole address family | no |
| `aws:userid` | the part before `:` has no wildcard | the account when it is 12 digits (root user) |

Accounts admitted by an Allow statement
---------------------------------------
- P = accounts of the principals; ANY = a wildcard principal (or Allow+NotPrincipal, or a web
  identity); OPEN = principals whose account the conditions decide (services, unique ids,
  canonical users). ARN principals whose account field is literal but not 12 digits
  (`arn:aws:iam::1231231234:root`, `arn:aws:iam::cloudfront:user/...`) belong to no account.
- C = the intersection, over every restricting condition whose values all name accounts, of the
  accounts they name (None when there is no such condition). A restricting key whose values do not
  all name an account (an S3 bucket ARN, an org id, a VPC) restricts without narrowing C.
- Admitted = (P ∩ C) ∪ (C if ANY or OPEN) when C is set; otherwise P ∪ (the accounts named by
  positive caller conditions that do not narrow C, e.g. `...IfExists` values or an account ARN
  listed next to a bucket ARN, if ANY or OPEN). Accounts named literally by a plain negated
  account condition (`StringNotEquals aws:PrincipalAccount`) are removed. `external_accounts` = admitted minus the owner, sorted; `reaches_owner` = the owner is
  admitted, or ANY without C (the owner is part of "anyone").
- So the `aws/s3` key policy (`{"AWS": "*"}` + `kms:CallerAccount` = owner + `kms:ViaService` =
  `s3.<region>.amazonaws.com`) admits its own account only, through S3 only: not public, no
  external account ([KMS-COND]: `kms:CallerAccount` is the account of the caller, whatever its
  principal; `kms:ViaService` limits use to requests an AWS service makes on the caller's behalf
  and does not narrow who the caller is). The same statement with another account's id in
  `kms:CallerAccount` admits that account, which is then external.
- `aws:PrincipalOrgID` (or any other non-account restriction) with a wildcard principal: not
  public, names no account, `reaches_owner` True (it does not exclude the owner);
  `admits_account(st, X)` is True unless an `org_id` is given that is not among `st.org_ids`.
- Deny statements never add accounts or publicness, and do not take publicness away from an
  Allow statement either: a policy is public when one of its Allow statements admits anyone
  without a restricting condition. (Whether a Deny guard such as "Deny unless aws:PrincipalOrgID"
  covers every action and resource of that Allow is a different, coverage question; callers can
  ask it with `statement_allows_action` on the Deny statements.) The descriptive fields of a Deny
  statement (`conditions`, `caller_accounts`, `restricting_keys`, `org_ids`, `via_services`) are
  filled like an Allow's; `is_public`, `reaches_owner` and `external_accounts` are always empty.
- Wildcard-free principals outside the owner account are external, including AWS-owned accounts
  (e.g. the Elastic Load Balancing log-delivery account 127311923021 in legacy ELB bucket
  policies): the analyzer reports facts about the document, not trust decisions.

Beyond the required API
-----------------------
- `Analysis.warnings` (tolerated oddities) and `Analysis.as_dict()`.
- `Statement.owner_account` (keyword with a default, not shown in repr): the owner the statement
  was analysed for, so `admits_account` can resolve `${aws:ResourceAccount}` on its own.
- `Statement.caller_accounts` is the set the *restricting* caller-account conditions
  (`kms:CallerAccount`, `aws:PrincipalAccount`, `aws:SourceAccount`, and `aws:SourceOwner`, the
  SNS/SQS spelling of `aws:SourceAccount`) narrow the caller to: their literal values, ANDed with
  the other account restrictions of the statement (C above) and minus negated ones. So it is the
  condition's values in the usual one-condition statement, and empty for `...IfExists` values or
  an OR with a wildcard value (those do not narrow anything; the statement is then public).
  `org_ids` also holds `aws:SourceOrgID` values and the `o-...` of
  `aws:PrincipalOrgPaths`/`aws:SourceOrgPaths`, for restricting conditions only.
- `statement_allows_action` answers for the Action/NotAction element whatever the Effect.
- `statement_allows_via_service(st, "s3.us-east-1.amazonaws.com")` (or `None` for a direct call)
  evaluates the statement's `kms:ViaService` conditions: the `aws/s3` statement lets S3 of its
  region through and refuses direct calls and other services/regions.
- `admits_account(st, account, org_id=...)` applies `st.org_ids` when the account's
  organisation is known.

Performance: compiled regexes, key tables and per-value classifications are module-level or
`lru_cache`d; a 32 KB key policy (~100 statements) analyses in well under 5 ms
(`python bench/bench_policy.py`).

References
----------
[IAM-COND] https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html
  ("If the key ... is not present in the request context ... the condition is false. If the policy
  condition requires that the key is not matched, such as StringNotLike ..., the condition is
  true"; IfExists; ForAllValues returns true when the key is absent; multivalued set operators).
[IAM-PRINCIPAL] https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_principal.html
[KMS-COND] https://docs.aws.amazon.com/kms/latest/developerguide/conditions-kms.html
  (kms:CallerAccount, kms:ViaService, kms:GrantIsForAWSResource)
[S3-PUBLIC] https://docs.aws.amazon.com/AmazonS3/latest/userguide/access-control-block-public-access.html
  ("The meaning of public": a bucket policy is non-public only when it grants access to fixed
  values of keys such as aws:SourceIp, aws:SourceArn, aws:SourceVpc, aws:SourceVpce,
  aws:SourceOwner, aws:SourceAccount, aws:userid, s3:DataAccessPointArn,
  s3:DataAccessPointAccount; the caller-key table above extends the same idea to KMS and
  organisation keys).
"""

from __future__ import annotations

import functools
import ipaddress
import json
import re
from dataclasses import asdict, dataclass, field
from typing import Any, NamedTuple

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
    """Analyse a resource policy owned by `owner_account`. Never raises (see module docstring)."""
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
