"""The identity side of a request (pure: no AWS calls): may this role or user of a synced account do
this action on this resource, by its own IAM policies, its permission boundary and its
organisation's service control policies (SCPs), under the resource account's resource control
policies (RCPs)?

Follows the IAM User Guide, "Policy evaluation logic" and "Cross-account policy evaluation logic":

- **Identity-based policies**: the principal's inline policies, its attached managed policies and,
  for a user, its groups' inline and attached policies. Statements apply as in the resource-policy
  evaluator (plugin/analysis/evaluator.py): Action/NotAction, Resource/NotResource (ARN components
  matched separately, wildcards, policy variables), Condition (plugin/analysis/condition_eval.py);
  a condition on a key that can't be decided statically (aws:PrincipalTag, aws:SourceIp,
  aws:MultiFactorAuthPresent, ...) makes the answer `depends`, never a guess.
- **Permission boundary**: when set, it must allow too (an Allow in it grants nothing by itself).
- **SCPs**: every level from the root through each OU to the account must allow (at least one SCP
  attached at that level), and no SCP may deny; the management account is not subject to them.
- **RCPs**: the same for the *resource's* account (they cap what any principal may do to its
  resources); not applied to resources of the management account.
- An explicit Deny anywhere wins; then a guard without an Allow (`not_allowed`); then `depends`.

The verdict is a `Decision` (plugin/analysis/evaluator.py) naming the deciding policy and statement
in `decided_by`, e.g. `inline policy "read-data" of role etl, statement "ReadObjects"`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Iterable, NamedTuple

from .actions import statement_covers
from .condition_eval import Truth, all_of, evaluate_conditions
from .evaluator import ALLOW, DENY, DEPENDS, NOT_ALLOWED, Decision, Request, _resource_applies
from .policy import analyze
from .policy_elements import Analysis, Statement
from .principals_eval import principals_apply

_NAME_RE = re.compile(r"arn:[^:]+:(iam|sts)::(\d{12}):(role|user|assumed-role)/(.+)")


@dataclass(frozen=True)
class Doc:
    """One policy document, as a finding names it."""

    label: str              # 'inline policy "read" of role etl', 'managed policy arn:...', 'SCP deny-kms'
    analysis: Analysis


@dataclass
class Identity:
    """A role or user of a synced account and every policy that decides what it may do."""

    arn: str
    kind: str                                          # role | user
    name: str
    account: str
    policies: list[Doc] = field(default_factory=list)  # identity-based: inline, attached, groups'
    boundary_arn: str | None = None
    boundary: Doc | None = None                        # None with a boundary_arn: its document was not read
    unread: list[str] = field(default_factory=list)    # attached policies whose document the answer lacked

    @property
    def service_linked(self) -> bool:
        """A service-linked role: SCPs do not apply to it (AWS Organizations User Guide, "SCPs")."""
        return self.kind == "role" and "/aws-service-role/" in self.arn

    @property
    def label(self) -> str:
        return f"{self.kind} {self.name}"


def _doc(label: str, document: Any, account: str) -> Doc:
    return Doc(label, analyze(document if document is not None else None, account))


def default_document(p: dict[str, Any]) -> Any:
    """A managed policy's default version's document (None when the answer holds no such version)."""
    for v in p.get("PolicyVersionList") or []:
        if isinstance(v, dict) and (v.get("IsDefaultVersion") or v.get("VersionId") == p.get("DefaultVersionId")):
            return v.get("Document")
    return None


class IdentityModel:
    """One account's roles and users with their policies (built from GetAccountAuthorizationDetails)."""

    def __init__(self, account: str) -> None:
        self.account = account
        self.roles: dict[str, Identity] = {}
        self.users: dict[str, Identity] = {}

    @classmethod
    def build(cls, account: str, details: Any) -> "IdentityModel":
        m = cls(account)
        managed: dict[str, Doc] = {}
        for p in details.policies:
            arn = p.get("Arn") or ""
            doc = default_document(p)
            if doc is not None:
                managed[arn] = _doc(f"managed policy {p.get('PolicyName') or arn}", doc, account)

        def attached(item: dict[str, Any], ident: Identity) -> None:
            for a in item.get("AttachedManagedPolicies") or []:
                arn = a.get("PolicyArn") if isinstance(a, dict) else None
                if arn in managed:
                    ident.policies.append(managed[arn])
                elif arn:
                    ident.unread.append(arn)

        def inline(items: Iterable[dict[str, Any]], owner: str, ident: Identity) -> None:
            for p in items or []:
                if isinstance(p, dict):
                    ident.policies.append(_doc(f'inline policy "{p.get("PolicyName")}" of {owner}',
                                               p.get("PolicyDocument"), account))

        groups: dict[str, dict[str, Any]] = {g.get("GroupName"): g for g in details.groups if isinstance(g, dict)}
        for kind, items, list_key, store in (("role", details.roles, "RolePolicyList", m.roles),
                                             ("user", details.users, "UserPolicyList", m.users)):
            for item in items:
                if not isinstance(item, dict):
                    continue
                name = item.get("RoleName") if kind == "role" else item.get("UserName")
                ident = Identity(item.get("Arn") or "", kind, name or "", account)
                inline(item.get(list_key), f"{kind} {name}", ident)
                attached(item, ident)
                for gname in item.get("GroupList") or [] if kind == "user" else []:
                    g = groups.get(gname)
                    if g is not None:
                        inline(g.get("GroupPolicyList"), f"group {gname}", ident)
                        attached(g, ident)
                b = (item.get("PermissionsBoundary") or {}).get("PermissionsBoundaryArn")
                if b:
                    ident.boundary_arn = b
                    if b in managed:
                        ident.boundary = Doc(f"permission boundary {managed[b].label.removeprefix('managed policy ')}",
                                             managed[b].analysis)
                store[(name or "").lower()] = ident
        return m

    def find(self, principal_arn: str) -> Identity | None:
        """The role (for a role or one of its sessions) or user an ARN names; None when there is none."""
        mt = _NAME_RE.fullmatch(principal_arn or "")
        if not mt or mt.group(2) != self.account:
            return None
        kind, rest = mt.group(3), mt.group(4)
        if kind == "assumed-role":
            return self.roles.get(rest.split("/")[0].lower())
        return (self.roles if kind == "role" else self.users).get(rest.split("/")[-1].lower())

    def identities(self) -> list[Identity]:
        return [*self.roles.values(), *self.users.values()]


@dataclass
class Guardrails:
    """The organisation's SCPs and RCPs by target (root, OU or account id) and each account's path of
    targets from the root down, as synced by the Organizations admin."""

    management_account: str | None = None
    paths: dict[str, list[tuple[str, str]]] = field(default_factory=dict)   # account -> [(target id, name)]
    scps: dict[str, list[Doc]] = field(default_factory=dict)
    rcps: dict[str, list[Doc]] = field(default_factory=dict)
    rcps_enabled: bool = False

    def levels(self, account: str, kind: str) -> list[tuple[str, list[Doc]]] | None:
        """[(target, the policies attached there)] from the root down to `account`; None when the
        account is not in the organisation's tree (or is its management account)."""
        if account == self.management_account or account not in self.paths:
            return None
        by = self.scps if kind == "scp" else self.rcps
        return [(name, by.get(tid, [])) for tid, name in self.paths[account]]


# ---------------------------------------------------------------------------------------------
# Evaluation

class _Hit(NamedTuple):
    label: str
    effect: str
    applies: Truth


def _q(s: str) -> str:
    return f'"{s}"'


def _hits(docs: Iterable[Doc], request: Request, resource_account: str | None) -> tuple[list[_Hit], list[str]]:
    ctx = request.context_for(resource_account)
    hits: list[_Hit] = []
    broken: list[str] = []
    for doc in docs:
        if not doc.analysis.ok:
            broken.append(f"{doc.label} could not be analysed: {doc.analysis.error}")
        for st in doc.analysis.statements:
            if not statement_covers(st.actions, st.not_actions, request.action):
                continue
            parts = [_resource_applies(st, request.resource, ctx), evaluate_conditions(st.conditions, ctx)]
            if st.principals or st.not_principals:   # RCPs name principals; identity policies and SCPs don't
                parts.insert(0, principals_apply(st, request.who)[0])
            t = all_of(parts)
            if t.value is not False:
                hits.append(_Hit(f"{doc.label}, statement {_q(_sid(st))}", st.effect, t))
    return hits, broken


def _sid(st: Statement) -> str:
    return st.sid if st.sid else f"#{st.index}"


def _deps(hits: Iterable[_Hit]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(d for h in hits for d in h.applies.depends))


def grade(docs: list[Doc], request: Request, resource_account: str | None, what: str) -> Decision:
    """One layer (the identity policies, a boundary, one SCP level...): deny, allow, depends or
    not_allowed, naming the deciding statement."""
    hits, broken = _hits(docs, request, resource_account)
    act, res = request.action, request.resource or "*"
    deny = next((h for h in hits if h.effect == "Deny" and h.applies.value), None)
    if deny:
        return Decision(DENY, deny.label, reason=f"{deny.label} denies {act} on {res}", source=what)
    maybe_deny = [h for h in hits if h.effect == "Deny" and h.applies.value is None]
    allow = next((h for h in hits if h.effect == "Allow" and h.applies.value), None)
    maybe_allow = [h for h in hits if h.effect == "Allow" and h.applies.value is None]
    if broken:
        # a policy that could not be analysed may hold the Deny or the Allow that decides: never a guess
        return Decision(DEPENDS, allow.label if allow else None, tuple(broken), reason=f"{what}: {'; '.join(broken)}",
                        source=what)
    if allow and not maybe_deny:
        return Decision(ALLOW, allow.label, reason=f"{allow.label} allows {act} on {res}", source=what)
    if allow or maybe_allow:
        h = allow or maybe_allow[0]
        deps = _deps(maybe_deny + ([] if allow else maybe_allow))
        return Decision(DEPENDS, h.label, deps, reason=f"{h.label} {'allows' if allow else 'may allow'} {act} on "
                        f"{res}, depending on {', '.join(deps)}", source=what, possible_deny=(
                            maybe_deny[0].label if maybe_deny else None))
    return Decision(NOT_ALLOWED, None, _deps(maybe_deny), reason=f"no statement of {what} allows {act} on {res}",
                    source=what)


def evaluate_identity(identity: Identity, request: Request, *, resource_account: str | None = None,
                      guardrails: Guardrails | None = None) -> Decision:
    """Whether `identity` may make `request` by the identity side of AWS's evaluation (module
    docstring). `resource_account` is the resource's owner (its `aws:ResourceAccount`, and whose RCPs
    apply); `guardrails` the organisation's SCPs and RCPs when they were synced."""
    who = identity.label
    layers: list[Decision] = []
    ident = grade(identity.policies, request, resource_account, f"the IAM policies of {who}")
    if identity.unread and ident.verdict != DENY:
        # an attached policy not read may hold a Deny (or the Allow): the answer can't be allow or not_allowed
        miss = f"the document of attached policy {', '.join(identity.unread)} was not read"
        ident = Decision(DEPENDS, ident.decided_by, ident.depends_on + (miss,), reason=f"{ident.reason}; {miss}",
                         source=ident.source)
    layers.append(ident)
    if identity.boundary_arn:
        if identity.boundary is None:
            miss = f"the document of permission boundary {identity.boundary_arn} was not read"
            layers.append(Decision(DEPENDS, None, (miss,), reason=miss, source="permission boundary"))
        else:
            layers.append(grade([identity.boundary], request, resource_account,
                                f"the permission boundary of {who} ({identity.boundary_arn})"))
    notes: list[str] = []
    if guardrails is None:
        notes.append("service control policies not synced")
    else:
        for kind, account, label in ((("scp", identity.account, "service control policies"),) if not
                                     identity.service_linked else ()) + (
                                     ("rcp", resource_account, "resource control policies"),):
            if kind == "rcp" and (not guardrails.rcps_enabled or not account):
                continue
            levels = guardrails.levels(account or "", kind)
            for target, docs in levels or []:
                layers.append(grade(docs, request, resource_account, f"the {label} attached to {target}"))
    for verdict in (DENY, NOT_ALLOWED):
        d = next((x for x in layers if x.verdict == verdict), None)
        if d is not None:
            return d
    depends = [x for x in layers if x.verdict == DEPENDS]
    if depends:
        deps = tuple(dict.fromkeys(k for x in depends for k in x.depends_on))
        return Decision(DEPENDS, depends[0].decided_by, deps, reason="; ".join(x.reason for x in depends),
                        source=depends[0].source, possible_deny=depends[0].possible_deny)
    why = ident.reason + (f" ({'; '.join(notes)})" if notes else "")
    return Decision(ALLOW, ident.decided_by, reason=why, source=ident.source)
