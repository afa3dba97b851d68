"""Principal-level evaluation of resource policies, KMS key policies and KMS grants (pure: no AWS calls).

`plugin.analysis.policy.analyze` says which *accounts* a policy admits. This module answers a
principal-level question, "may this principal do this action on this resource?", for one policy
document (`evaluate_policy`) or a key's grants (`evaluate_grants`), and `combine` joins the key
policy and the grants into one answer for a KMS question. A `Decision` is `allow`, `deny`,
`not_allowed` or `depends`, names the statement (Sid, or `#<index>` without one) or grant id that
decided it, and for `depends` lists the condition keys it could not decide.

The logic follows the IAM User Guide ("Policy evaluation logic", "Cross-account policy evaluation
logic", "AWS JSON policy elements: Principal", "... NotPrincipal", "... Action", "... NotAction",
"... Resource", "... NotResource") and the AWS KMS Developer Guide ("Key policies in AWS KMS",
"Default key policy", "Grants in AWS KMS", "AWS KMS condition keys"):

- **Statements that apply.** A statement applies when its Action/NotAction covers the action
  (case-insensitive, `*`/`?` wildcards), its Principal/NotPrincipal covers the principal, its
  Resource/NotResource covers the resource (ARN components matched separately, case-sensitively,
  with wildcards and policy variables; a statement without either element is read as `*`), and its
  Condition block is true (`plugin/analysis/condition_eval.py`). Each test is true, false or
  unknown.
- **Principals.** `"*"` (and `{"AWS": "*"}`, `arn:aws:iam::*:root`) matches every principal. An
  account (`111122223333`, `arn:aws:iam::111122223333:root`) matches every principal of that
  account: the policy delegates to the account's IAM, which then decides (`Decision.delegated`). A
  role ARN matches the role and its sessions (`arn:aws:sts::A:assumed-role/<role>/<session>`; role
  names compare case-insensitively, the path is ignored because session ARNs carry none); a user ARN
  matches that user; a session ARN matches only that session. A service principal matches only that
  service. A canonical user id is undecidable for an IAM principal ("depends").
- **Request principals.** `arn:aws:iam::B:root` asks about "account B as a whole": only statements
  that admit the account (its root, or everyone) match it, not statements naming one of its roles.
- **NotPrincipal** applies to everyone except the listed principals. As AWS checks the account, then
  the role, then the session, a caller is exempt only when its account is listed and, for a role
  session, its role (or that very session); for a user, the user.
- **Verdict.** An applying Deny -> `deny`. Otherwise an applying Allow -> `allow`, unless a Deny may
  apply (its conditions undecided) -> `depends`. An Allow that may apply -> `depends`. Else
  `not_allowed`. A policy that could not be fully analysed never yields `allow` or `not_allowed`.
- **kind="key".** A key policy has no implicit allow: a principal of the key's own account gets in
  only through a statement naming it, everyone, or the account root (then its IAM decides). With
  kind="resource" (bucket, access point policies), `not_allowed` leaves room for an identity-based
  policy of the owner account; the reason says so.
- **Cross-account.** When the principal's account is not the resource owner, its own identity-based
  policy must also allow the request (`Decision.identity_policy_required`); same when the allow is by
  delegation to its account.
- **Grants** (`evaluate_grants`) allow only: the grantee must match, the operation must be listed,
  and `EncryptionContextEquals` / `EncryptionContextSubset` constraints (keys case-insensitive,
  values case-sensitive) must hold for operations that take an encryption context.

**Request context.** `Request.context` holds the condition keys known for the question; only keys we
can decide statically count (`DECIDABLE_KEYS`, the `kms:EncryptionContext:` and
`s3:DataAccessPoint` prefixes, `DERIVED_KEYS`, and the assumption `aws:SecureTransport`). Others
are ignored (listed in `Request.ignored_keys`), so conditions on them are "depends". By default the
keys that follow from the principal are derived (`aws:PrincipalAccount`, `kms:CallerAccount`,
`aws:PrincipalArn` (a session's role ARN, without path), `aws:PrincipalType`,
`aws:PrincipalIsAWSService`, `aws:PrincipalServiceName`) and `aws:ResourceAccount` from the
policy's owner. A key mapped to `[]` is known to be absent (`kms:ViaService: []`: a direct call).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field, replace
from typing import Any, NamedTuple

from .actions import (
    S3_OBJECT_READ_ACTIONS,
    S3_OBJECT_WRITE_ACTIONS,
    needs,
    s3_kms_context,
    statement_covers,
)
from .condition_eval import (
    FALSE,
    TRUE,
    Context,
    Truth,
    Unresolved,
    all_of,
    any_of,
    arn_matches,
    evaluate_conditions,
    evaluate_entry,
    negate,
    resolve_value,
)
from .policy import analyze
from .policy_elements import Analysis, Principal, Statement
from .principals_eval import (
    Who,
    account_of,
    is_service,
    names_specific_principals,
    parse_principal,
    principal_matches,
    principals_apply,
)

__all__ = [
    "ALLOW",
    "ASSUMPTION_KEYS",
    "DECIDABLE_KEYS",
    "DENY",
    "DEPENDS",
    "DERIVED_KEYS",
    "EC_OPERATIONS",
    "NOT_ALLOWED",
    "S3_OBJECT_READ_ACTIONS",
    "S3_OBJECT_WRITE_ACTIONS",
    "Decision",
    "Request",
    "Who",
    "combine",
    "evaluate_grants",
    "evaluate_policy",
    "needs",
    "parse_principal",
    "s3_kms_context",
]

ALLOW, DENY, NOT_ALLOWED, DEPENDS = "allow", "deny", "not_allowed", "depends"
# S3_OBJECT_READ_ACTIONS, S3_OBJECT_WRITE_ACTIONS, needs() and s3_kms_context() come from
# plugin/analysis/actions.py; the remediation helper fix() is in plugin/analysis/key_fix.py.

#: Condition keys whose value is a static fact of the question (who calls, through which service,
#: under which encryption context), so a caller may state them in `Request.context`.
DECIDABLE_KEYS: frozenset[str] = frozenset({
    "aws:principalaccount", "aws:principalorgid", "aws:principalorgpaths", "aws:principalarn",
    "aws:sourceaccount", "aws:sourcearn", "aws:sourceowner", "aws:resourceorgid",
    "kms:calleraccount", "kms:viaservice", "kms:encryptioncontextkeys", "kms:grantisforawsresource",
    "s3:dataaccesspointarn", "s3:dataaccesspointaccount",
})
DECIDABLE_PREFIXES: tuple[str, ...] = ("kms:encryptioncontext:", "s3:dataaccesspoint")
#: Keys derived from the request principal and the policy owner (a caller may also state them).
DERIVED_KEYS: frozenset[str] = frozenset({"aws:principaltype", "aws:principalisawsservice",
                                           "aws:principalservicename", "aws:resourceaccount"})
#: Not decidable statically, but the caller may choose to assume them (e.g. S3 requests over HTTPS).
ASSUMPTION_KEYS: frozenset[str] = frozenset({"aws:securetransport"})

_ACCOUNT_RE = re.compile(r"\d{12}")


def _is_known_key(key: str) -> bool:
    kl = key.lower()
    return (kl in DECIDABLE_KEYS or kl in DERIVED_KEYS or kl in ASSUMPTION_KEYS
            or kl.startswith(DECIDABLE_PREFIXES))


# --------------------------------------------------------------------------------------------
# Resources
# --------------------------------------------------------------------------------------------

def _resource_match(pattern: str, resource: str, ctx: Context) -> Truth:
    if pattern == "*":
        return TRUE
    t = resolve_value(pattern, ctx)
    if t is None:
        return FALSE
    if isinstance(t, Unresolved):
        return Truth(None, (f"{t.label} in Resource {pattern}",))
    return TRUE if arn_matches(t, resource) else FALSE


def _resource_applies(st: Statement, resource: str | None, ctx: Context) -> Truth:
    if resource is None:
        return TRUE
    if st.resources:
        return any_of(_resource_match(p, resource, ctx) for p in st.resources)
    if st.not_resources:
        return negate(any_of(_resource_match(p, resource, ctx) for p in st.not_resources))
    return TRUE


# --------------------------------------------------------------------------------------------
# Request and Decision
# --------------------------------------------------------------------------------------------

_PRINCIPAL_TYPES = {"role": "AssumedRole", "session": "AssumedRole", "user": "User", "federated": "FederatedUser"}


@dataclass(frozen=True)
class Request:
    """A (principal, action, resource) question with the condition keys known for it.

    `principal`: a role/user ARN, an assumed-role session ARN, `arn:aws:iam::B:root` (account B as a
    whole), or a service principal (`logs.amazonaws.com`). `account`: the principal's account
    (derived from the ARN; give it for a service principal acting for an account). `context`:
    condition key -> value(s) known for this question; `[]` means known absent. `derive`: add the
    keys that follow from the principal (see the module docstring)."""
    principal: str
    action: str
    resource: str | None = None
    account: str | None = None
    context: Mapping[str, Any] = field(default_factory=dict)
    derive: bool = True
    who: Who = field(init=False, repr=False, compare=False)
    known: dict[str, Any] = field(init=False, repr=False, compare=False)
    ignored_keys: tuple[str, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        who = parse_principal(self.principal)
        if self.account is not None:
            if who.account and who.account != self.account:
                raise ValueError(f"account {self.account} is not the account of {self.principal}")
            who = who._replace(account=self.account)
        object.__setattr__(self, "account", who.account)
        known: dict[str, Any] = {}
        ignored: list[str] = []
        for k, v in (self.context or {}).items():
            if _is_known_key(str(k)):
                known[str(k)] = v
            else:
                ignored.append(str(k))
        if self.derive:
            have = {k.lower() for k in known}
            for k, v in _derived(who).items():
                if k.lower() not in have:
                    known[k] = v
        object.__setattr__(self, "who", who)
        object.__setattr__(self, "known", known)
        object.__setattr__(self, "ignored_keys", tuple(ignored))

    def context_for(self, owner_account: str | None) -> Context:
        """The evaluation context, with `aws:ResourceAccount` = the resource owner when known."""
        vals = dict(self.known)
        if (self.derive and owner_account and _ACCOUNT_RE.fullmatch(owner_account)
                and "aws:resourceaccount" not in {k.lower() for k in vals}):
            vals["aws:ResourceAccount"] = owner_account
        return Context(vals)


def _derived(who: Who) -> dict[str, Any]:
    if who.kind == "service":
        return {"aws:PrincipalIsAWSService": "true", "aws:PrincipalServiceName": who.arn}
    out: dict[str, Any] = {"aws:PrincipalIsAWSService": "false"}
    if who.account:
        out["aws:PrincipalAccount"] = who.account
        out["kms:CallerAccount"] = who.account
    if who.principal_arn:
        out["aws:PrincipalArn"] = who.principal_arn
    if who.kind in _PRINCIPAL_TYPES:
        out["aws:PrincipalType"] = _PRINCIPAL_TYPES[who.kind]
    return out


@dataclass(frozen=True)
class Decision:
    """One answer. `verdict`: allow | deny | not_allowed | depends. `decided_by`: the deciding
    statement (Sid, `#<index>`) or grant id. `depends_on`: what a `depends` could not decide (for a
    `not_allowed` with `possible_deny`: what that Deny depends on, which matters to `combine`).
    `delegated`: the allow is through the principal's account root, so that account's IAM decides.
    `identity_policy_required`: the principal's own identity-based policy must also allow (delegation
    or cross-account). `possible_deny`: a Deny statement that may apply (conditions undecided)."""
    verdict: str
    decided_by: str | None = None
    depends_on: tuple[str, ...] = ()
    delegated: bool = False
    identity_policy_required: bool = False
    reason: str = ""
    source: str = ""
    possible_deny: str | None = None
    # For `not_allowed`: the statements and grants that would allow it but for a condition or grant
    # constraint known to be false ('statement "X" does not apply: kms:ViaService (StringEquals) is false').
    misses: tuple[str, ...] = ()

    @property
    def allowed(self) -> bool:
        return self.verdict == ALLOW

    def as_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["depends_on"] = list(self.depends_on)
        return d


# --------------------------------------------------------------------------------------------
# Policies
# --------------------------------------------------------------------------------------------

class _Hit(NamedTuple):
    label: str
    effect: str
    applies: Truth
    via_root: bool


def _label(st: Statement) -> str:
    return st.sid if st.sid else f"#{st.index}"


def _q(label: str) -> str:
    return f'"{label}"'


def _deps(hits: Iterable[_Hit]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(d for h in hits for d in h.applies.depends))


def evaluate_policy(policy: Analysis | Mapping[str, Any] | str | bytes | None, request: Request, *,
                    kind: str = "resource", owner_account: str | None = None) -> Decision:
    """Evaluate one resource policy (`kind="resource"`: bucket, access point...) or KMS key policy
    (`kind="key"`) for `request`. `policy` is an `Analysis` from `analyze`, or a policy document
    (then analysed with `owner_account`, by default the account in the resource ARN; S3 bucket and
    object ARNs hold none, so pass the bucket owner, or cross-account requests are not recognised)."""
    if kind not in ("resource", "key"):
        raise ValueError(f"kind must be 'resource' or 'key', not {kind!r}")
    what = "key policy" if kind == "key" else "resource policy"
    if isinstance(policy, Analysis):
        analysis = policy
    else:
        analysis = analyze(policy, owner_account if owner_account is not None else (account_of(request.resource) or ""))
    owner = analysis.owner_account
    who = request.who
    ctx = request.context_for(owner)
    hits: list[_Hit] = []
    named: list[str] = []
    misses: list[str] = []
    for st in analysis.statements:
        if not statement_covers(st.actions, st.not_actions, request.action):
            continue
        p, via_root = principals_apply(st, who)
        if p.value is False:
            if who.kind == "root" and st.effect == "Allow" and names_specific_principals(st, who.account):
                named.append(_label(st))
            continue
        r = _resource_applies(st, request.resource, ctx)
        c = evaluate_conditions(st.conditions, ctx)
        applies = all_of((p, r, c))
        if applies.value is not False:
            hits.append(_Hit(_label(st), st.effect, applies, via_root))
        elif st.effect == "Allow" and r.value is not False and c.value is False:
            failed = [f"{key} ({op})" for op, block in st.conditions.items() for key, vals in block.items()
                      if evaluate_entry(op, key, vals, ctx).value is False]
            misses.append(f"statement {_q(_label(st))} does not apply: {', '.join(failed)} is false")
    d = _decide(hits, request, owner, what, kind, named, misses)
    if not analysis.ok and d.verdict != DENY:
        err = f"the {what} could not be fully analysed: {analysis.error}"
        d = replace(d, verdict=DEPENDS, depends_on=d.depends_on + (err,),
                    reason=f"{d.reason}; but {err}")
    if request.ignored_keys and d.verdict == DEPENDS:
        d = replace(d, reason=f"{d.reason} (context keys ignored, not decidable statically: "
                              f"{', '.join(request.ignored_keys)})")
    return d


def _decide(hits: list[_Hit], request: Request, owner: str, what: str, kind: str, named: list[str],
            misses: list[str]) -> Decision:
    who, act, pr = request.who, request.action, request.principal
    cross = bool(who.account and _ACCOUNT_RE.fullmatch(owner or "") and who.account != owner)
    denies = [h for h in hits if h.effect == "Deny"]
    allows = [h for h in hits if h.effect == "Allow"]
    sure_deny = next((h for h in denies if h.applies.value), None)
    maybe_denies = [h for h in denies if h.applies.value is None]
    sure_allows = [h for h in allows if h.applies.value]
    maybe_allows = [h for h in allows if h.applies.value is None]
    possible = maybe_denies[0].label if maybe_denies else None
    if sure_deny:
        return Decision(DENY, sure_deny.label, reason=f"explicit Deny: statement {_q(sure_deny.label)} of the {what} "
                        f"applies to {pr} for {act}", source=what)
    if sure_allows:
        best = next((h for h in sure_allows if not h.via_root), sure_allows[0])
        if best.via_root:
            why = (f"statement {_q(best.label)} of the {what} allows account {who.account} as a whole (its root "
                   f"principal): {who.account}'s own IAM policies decide whether {pr} may {act}")
        else:
            why = f"statement {_q(best.label)} of the {what} allows {pr} {act}"
            if cross:
                why += f"; as a cross-account request it also needs an identity-based policy of {who.account}"
        if maybe_denies:
            deps = _deps(maybe_denies)
            return Decision(DEPENDS, possible, deps, best.via_root, best.via_root or cross,
                            f"{why}, but Deny statement {_q(possible)} may apply: depends on {', '.join(deps)}",
                            what, possible)
        return Decision(ALLOW, best.label, (), best.via_root, best.via_root or cross, why, what)
    if maybe_allows:
        h = maybe_allows[0]
        deps = _deps(maybe_allows + maybe_denies)
        extra = f"; Deny statement {_q(possible)} may also apply" if possible else ""
        return Decision(DEPENDS, h.label, deps, h.via_root, h.via_root or cross,
                        f"statement {_q(h.label)} of the {what} would allow {pr} {act} depending on "
                        f"{', '.join(_deps([h]))}{extra}", what, possible)
    why = f"no statement of the {what} allows {pr} {act}"
    if misses:
        why += f" ({'; '.join(misses)})"
    if named:
        why += (f" (statements {', '.join(map(_q, named))} name specific principals of {who.account}, "
                f"not the account as a whole)")
    if kind == "key":
        why += ": a key policy must allow explicitly (IAM policies count only where it names the account root)"
    elif cross:
        why += f": a principal of another account ({who.account}) needs the {what} to allow it"
    elif who.kind != "service":
        why += ": in the owner's account an identity-based policy may still allow it"
    return Decision(NOT_ALLOWED, None, _deps(maybe_denies), False, False, why, what, possible, tuple(misses))


# --------------------------------------------------------------------------------------------
# Grants
# --------------------------------------------------------------------------------------------

#: Grant operations that take an encryption context, to which grant constraints apply (KMS API
#: Reference, "GrantConstraints").
EC_OPERATIONS = frozenset({"Encrypt", "Decrypt", "ReEncryptFrom", "ReEncryptTo", "GenerateDataKey",
                           "GenerateDataKeyWithoutPlaintext", "GenerateDataKeyPair",
                           "GenerateDataKeyPairWithoutPlaintext"})


def _constraints(constraints: Any, ctx: Context) -> Truth:
    if not isinstance(constraints, Mapping):
        return TRUE
    parts: list[Truth] = []
    for name in ("EncryptionContextSubset", "EncryptionContextEquals"):
        pairs = constraints.get(name)
        if not isinstance(pairs, Mapping) or not pairs:
            continue                         # an empty map is "not specified"
        for k, v in pairs.items():
            key = f"kms:EncryptionContext:{k}"
            vals = ctx.get(key)
            parts.append(Truth(None, (f"{key} (grant constraint {name})",)) if vals is None
                         else TRUE if str(v) in vals else FALSE)
        if name == "EncryptionContextEquals":
            keys = ctx.get("kms:EncryptionContextKeys")
            parts.append(Truth(None, (f"kms:EncryptionContextKeys (grant constraint {name})",)) if keys is None
                         else TRUE if {k.lower() for k in keys} == {str(k).lower() for k in pairs} else FALSE)
    return all_of(parts)


def _constraint_misses(constraints: Any, ctx: Context) -> list[str]:
    """The constraint pairs known not to hold, in words (for a grant that does not apply)."""
    out: list[str] = []
    if not isinstance(constraints, Mapping):
        return out
    for name in ("EncryptionContextSubset", "EncryptionContextEquals"):
        pairs = constraints.get(name)
        if not isinstance(pairs, Mapping):
            continue
        for k, v in pairs.items():
            vals = ctx.get(f"kms:EncryptionContext:{k}")
            if vals is not None and str(v) not in vals:
                out.append(f"its {name} constraint {k}={v} does not hold (the request's encryption context "
                           f"has {k}={', '.join(map(str, vals)) if vals else 'nothing'})")
    return out


def _grantee(value: str) -> Principal:
    ptype = "Service" if is_service(value) else "AWS"
    return Principal(ptype, value.strip(), account_of(value), value.strip() == "*")


def evaluate_grants(grants: Iterable[Mapping[str, Any]] | None, request: Request) -> Decision:
    """Evaluate a key's grants (dicts as ListGrants returns them: GrantId, GranteePrincipal,
    Operations, Constraints) for a `kms:<Operation>` request. Grants only allow: `allow` (by grant
    id), `depends` (constraints on an encryption context not known), or `not_allowed`."""
    src = "grants"
    pr, act = request.principal, request.action
    if not act.lower().startswith("kms:"):
        return Decision(NOT_ALLOWED, reason=f"grants allow only KMS operations, not {act}", source=src)
    op = act.split(":", 1)[1]
    ctx = request.context_for(account_of(request.resource))
    hits: list[_Hit] = []
    misses: list[str] = []
    for g in grants or ():
        if not isinstance(g, Mapping) or not isinstance(g.get("GranteePrincipal"), str):
            continue
        ops = [str(o) for o in (g.get("Operations") or ())]
        match = next((o for o in ops if o.lower() == op.lower()), None)
        if match is None:
            continue
        t, via_root = principal_matches(_grantee(g["GranteePrincipal"]), request.who)
        if t.value is False:
            continue
        c = _constraints(g.get("Constraints"), ctx) if match in EC_OPERATIONS else TRUE
        applies = all_of((t, c))
        if applies.value is not False:
            hits.append(_Hit(str(g.get("GrantId") or g.get("Name") or "?"), "Allow", applies, via_root))
        elif t.value is not False and c.value is False:
            misses += [f"grant {g.get('GrantId') or g.get('Name') or '?'} does not apply: {m}"
                       for m in _constraint_misses(g.get("Constraints"), ctx)]
    sure = [h for h in hits if h.applies.value]
    if sure:
        best = next((h for h in sure if not h.via_root), sure[0])
        why = f"grant {best.label} allows {pr} {act}"
        if best.via_root:
            why += f" through its grantee, account {request.who.account}: that account's IAM policies decide"
        return Decision(ALLOW, best.label, (), best.via_root, best.via_root, why, src)
    if hits:
        deps = _deps(hits)
        return Decision(DEPENDS, hits[0].label, deps, hits[0].via_root, hits[0].via_root,
                        f"grant {hits[0].label} would allow {pr} {act} depending on {', '.join(deps)}", src)
    why = f"no grant allows {pr} {act}" + (f" ({'; '.join(misses)})" if misses else "")
    return Decision(NOT_ALLOWED, None, (), False, False, why, src, misses=tuple(misses))


def combine(key_policy: Decision, grants: Decision) -> Decision:
    """One answer for a KMS question: the key policy OR the grants, a Deny of the key policy winning
    (grants cannot deny), a Deny that may apply keeping a grant's allow undecided."""
    src = "key policy + grants"
    if key_policy.verdict in (DENY, ALLOW):
        return replace(key_policy, source=src)
    if grants.verdict == ALLOW:
        if key_policy.possible_deny:
            return replace(key_policy, verdict=DEPENDS, source=src, decided_by=key_policy.possible_deny,
                           reason=f"{grants.reason}, but Deny statement {_q(key_policy.possible_deny)} of the key "
                                  f"policy may apply: depends on {', '.join(key_policy.depends_on)}")
        return replace(grants, source=src, reason=f"{grants.reason} (the key policy does not allow it and "
                                                  f"denies nothing here)")
    if DEPENDS in (key_policy.verdict, grants.verdict):
        first = key_policy if key_policy.verdict == DEPENDS else grants
        deps = tuple(dict.fromkeys(key_policy.depends_on + grants.depends_on))
        return replace(first, verdict=DEPENDS, depends_on=deps, source=src,
                       reason=f"{key_policy.reason}; {grants.reason}")
    return Decision(NOT_ALLOWED, None, (), False, False,
                    f"{key_policy.reason}; {grants.reason}", src, key_policy.possible_deny,
                    key_policy.misses + grants.misses)


_RANK = {ALLOW: 0, DEPENDS: 1, NOT_ALLOWED: 2, DENY: 3}


def key_operations(policy: Analysis, grants: Iterable[Mapping[str, Any]] | None, key_arn: str | None,
                   key_account: str | None, principal: str, account: str | None, ops: Iterable[str],
                   context: Mapping[str, Any]) -> tuple[Decision, list[str]]:
    """The key policy and grants for each KMS operation `principal` needs (`account`: the account it
    stands for when it is an account root or a service acting for one): the worst answer, and the
    operations not allowed."""
    worst: Decision | None = None
    missing: list[str] = []
    for op in ops:
        req = Request(principal=principal, action=op, resource=key_arn, context=context, account=account)
        d = combine(evaluate_policy(policy, req, kind="key", owner_account=key_account),
                    evaluate_grants(grants or [], req))
        if d.verdict != ALLOW:
            missing.append(op)
        if worst is None or _RANK[d.verdict] > _RANK[worst.verdict]:
            worst = d
    if worst is None:
        raise ValueError("no KMS operation to evaluate")
    return worst, missing
