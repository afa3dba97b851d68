"""Resources other accounts (or AWS services) reach directly, declared once per type, and their derived
access-path tables (ours): who the resource policy admits, for what, and whether the resource's KMS
key lets them, then the principal's own IAM (pure: no AWS call of its own; docs/shared-resources.md).

A type (`SharedType`) says what a resource is called in findings, the actions that count as each
access and the KMS operations the service makes for that caller, the service's `kms:ViaService`
name, the encryption context it sends, and what "no key id" means (its AWS managed key, or an AWS
owned one). A service's table leaves on each resource's item what the paths need: `_policy` (the
resource policy: "" none, None unreadable) and `_key_ref` / `_encryption` ("kms" with the key id,
alias or ARN as configured, None for the service's default key; "aws_owned"; "none": unencrypted).
`access_paths_table` derives one table per type, a deferred child of the resource's table, with the
same columns for every type (the checks read them together). S3 buckets keep their own, richer
table (aws_s3_bucket_access_paths: ACLs, access points, replication, logging).

The key side is the S3 paths' (plugin/analysis/access_paths.py): the key policy and grants evaluated
at principal level in the context the service calls KMS with; an AWS managed key the sync did not
read is evaluated against its documented policy (its own account, through its own service). The
identity side is plugin/analysis/identity_link.py.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator, Sequence

from ..aws.calls import Ctx, Parent
from ..tables.schema import STR, STR_LIST, Col, TableDef
from .actions import matching_actions
from .encryption_keys import lookup_key, resolve_reference
from .evaluator import ALLOW, DENY, DEPENDS, NOT_ALLOWED, Decision, Request, evaluate_policy, key_operations
from .identity_link import NOT_EVALUATED, Link, identity_link
from .key_fix import fix
from .policy import analyze
from .policy_elements import Analysis, Principal, Statement

UNKNOWN = "unknown"


@dataclass(frozen=True)
class Access:
    name: str                    # read | write | send | publish ...
    actions: tuple[str, ...]     # resource-policy actions that grant it; the first is the request evaluated
    kms: tuple[str, ...]         # KMS operations the service makes on the caller's behalf
    consequence: str             # what a refusal by the key means, in the user's words
    verb: str = ""               # how a finding says it: "send messages to" (default: the name)
    # The service refuses this access when the resource's key is AWS managed, and otherwise encrypts with
    # the owner's key itself (no KMS permission of the admitted account's is needed): AWS Backup's
    # copies from another account into a vault.
    cmk_required: bool = False


@dataclass(frozen=True)
class SharedType:
    resource_type: str           # Security Hub resource type, e.g. AwsSecretsManagerSecret
    noun: str                    # how a finding names one: "secret", "queue", "topic"
    service: str                 # the kms:ViaService prefix: <service>.<region>.amazonaws.com
    default_alias: str           # the AWS managed key a KMS-encrypted resource without a key id uses
    accesses: tuple[Access, ...]
    fix_cli: str                 # moving the resource to a customer managed key; {arn} {name} {region} {url}
    # The encryption context the service sends KMS for a resource (arn) -> {key: [value]}
    context: Callable[[str], dict[str, list[str]]] = field(default=lambda arn: {})
    # Where the sharing lives: "policy" (a resource policy, item `_policy`) or "attribute" (a list of
    # account ids, or "all" for everyone, item `_shared_with`: snapshot and image attributes)
    sharing: str = "policy"
    attribute: str = ""          # the attribute's name, for findings: "createVolumePermission", "restore"
    # Copies the owner sends to other accounts (item `_copies`: [{destination, plan, rule}], None when
    # unread), besides the policy: AWS Backup's copy rules. The access is the destination account's.
    copies: Access | None = None
    service_name: str = ""       # how findings name the service: "AWS Backup"
    name_column: str = "name"    # the row column fix_cli's {name} is (else the ARN)


def aws_managed_policy(account: str, region: str, service: str, label: str = "") -> str:
    """The policy AWS gives an AWS managed key (`aws/<service>`): every principal of its own account,
    through that service only, plus read-only metadata access (docs/key-types.md)."""
    label = label or service
    use = ["kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:DescribeKey"]
    if service != "s3":
        use.insert(4, "kms:CreateGrant")
    return json.dumps({"Version": "2012-10-17", "Id": f"auto-{service}-2", "Statement": [
        {"Sid": f"Allow access through {label} for all principals in the account that are authorized to use {label}",
         "Effect": "Allow", "Principal": {"AWS": "*"}, "Action": use, "Resource": "*",
         "Condition": {"StringEquals": {"kms:CallerAccount": account,
                                        "kms:ViaService": f"{service}.{region}.amazonaws.com"}}},
        {"Sid": "Allow direct access to key metadata to the account", "Effect": "Allow",
         "Principal": {"AWS": f"arn:aws:iam::{account}:root"},
         "Action": ["kms:Describe*", "kms:Get*", "kms:List*"], "Resource": "*"}]})


# ---------------------------------------------------------------------------------------------
# The key

def set_encryption(item: dict[str, Any], encrypted: Any, key_id: Any) -> None:
    """What a service table leaves on an item for the paths: `_encryption` "kms" with `_key_ref` (the key
    as configured; None: the service's default) when encrypted, else "none"."""
    if encrypted:
        item["_encryption"], item["_key_ref"] = "kms", key_id or None
    else:
        item["_encryption"] = "none"


@dataclass
class ResourceKey:
    encryption: str              # kms | aws_owned | none | unknown
    reference: str | None = None
    arn: str | None = None
    type: str | None = None      # aws_encryption_key_types.key_type
    account: str | None = None
    region: str | None = None
    policy: str | None = None
    grants: list[dict[str, Any]] | None = None
    readable: bool = False
    part: str = ""               # which part of the resource it encrypts, when not the whole ("its /dev/sdb volume")


def resource_key(ctx: Ctx, item: dict[str, Any], t: SharedType, region: str) -> ResourceKey:
    """The key a resource is encrypted with, resolved against the synced keys and aliases."""
    enc = item.get("_encryption")
    if enc != "kms":
        return ResourceKey(enc or UNKNOWN)
    return _resolve_key(ctx, item.get("_key_ref"), t, region)


def resource_keys(ctx: Ctx, item: dict[str, Any], t: SharedType, region: str) -> list[ResourceKey]:
    """Its key, then the keys of its other parts (item `_more_keys`: [(part, key reference)], an AMI's
    non-root volumes): whoever the resource is shared with needs every one of them."""
    keys = [resource_key(ctx, item, t, region)]
    for part, ref in item.get("_more_keys") or []:
        k = _resolve_key(ctx, ref, t, region) if ref else ResourceKey(UNKNOWN)
        k.part = part
        if (k.arn or k.reference) not in {x.arn or x.reference for x in keys}:
            keys.append(k)
    return keys


# worst first: the key a row reports, when a resource has several
_KEY_ORDER = [DENY, NOT_ALLOWED, UNKNOWN, DEPENDS, ALLOW, "not_needed"]


def _resolve_key(ctx: Ctx, ref: str | None, t: SharedType, region: str) -> ResourceKey:
    r = resolve_reference(ref or t.default_alias, ctx.account_id, region)   # no key id: the service's default
    key_id, info = lookup_key(ctx, r, ref)
    k = ResourceKey("kms", ref, account=r["account"], region=r["region"])
    if info is not None:
        k.arn, k.type = info.arn, info.key_type
        if info.item is not None:
            k.policy, k.grants = info.item.get("_policy"), info.item.get("_grants")
            k.readable = k.policy is not None and k.grants is not None
    elif key_id and r["account"] and r["region"]:
        k.arn = f"arn:{ctx.partition}:kms:{r['region']}:{r['account']}:key/{key_id}"
    if k.type is None and (r["alias"] or "").startswith("alias/aws/"):
        k.type = "aws_managed"   # by definition, even before the sync has seen it
    if k.type == "aws_managed" and not k.readable and k.account and k.region:
        k.policy, k.grants, k.readable = aws_managed_policy(k.account, k.region, t.service), [], True
    return k


# ---------------------------------------------------------------------------------------------
# Who the resource policy admits

@dataclass
class Admitted:
    who: Any                     # plugin.analysis.access_paths.Who
    access: Access
    actions: list[str]
    decision: Decision
    statement: Statement | None = None   # the Allow statement that admits it (None: an attribute, a rule)


def _source_context(st: Any) -> dict[str, Any]:
    """For a service principal: the aws:SourceArn / aws:SourceAccount the statement itself requires
    (the publisher it is meant for), so that the statement is evaluated for that publisher."""
    out: dict[str, Any] = {}
    for op, block in st.conditions.items():
        if "not" in op.lower():
            continue
        for k, vals in block.items():
            if k.lower() in ("aws:sourcearn", "aws:sourceaccount", "aws:sourceowner") and vals:
                out[k] = [vals[0]]
    return out


def admitted(analysis: Analysis, owner: str, accesses: Sequence[Access], org_of: Callable[[str], str | None], *,
             resource: Callable[[Statement], str], evaluate: Callable[[Request], Decision] | None = None,
             extra_ctx: dict[str, Any] | None = None) -> Iterator[Admitted]:
    """Every principal outside `owner` an Allow statement of a resource policy admits, per access, with
    the policy's verdict for it (a Deny of the same policy that covers it wins): the one loop of every
    shared type, S3 buckets and their access points included. `resource(st)`: the resource a request
    the statement admits is about (S3: an object it names); `evaluate`: the resource side's decision
    (default: this policy's; S3 access points also need the bucket policy's delegation)."""
    from .access_paths import _who_of
    seen: set[tuple[str, str]] = set()
    for st in analysis.statements:
        if st.effect != "Allow":
            continue
        for access in accesses:
            acts = matching_actions(st.actions, st.not_actions, access.actions)
            if not acts:
                continue
            # Allow with NotPrincipal admits everyone but the listed principals
            principals = st.principals if not st.not_principals else [Principal("*", "*", None, True)]
            for p in principals:
                for who in _who_of(st, p, owner):
                    if who.account == owner or (who.value, access.name) in seen:
                        continue
                    if who.type == "public" and st.not_principals:
                        who.label = "anyone except " + ", ".join(n.value for n in st.not_principals)
                    seen.add((who.value, access.name))
                    ctx: dict[str, Any] = {**(extra_ctx or {}), "aws:SecureTransport": "true"}
                    if who.type == "service":
                        ctx.update(_source_context(st))
                    org = who.org_id or (org_of(who.account) if who.account else None)
                    if org:
                        ctx["aws:PrincipalOrgID"] = [org]
                    acct = who.account if who.type in ("account", "organization", "public") else None
                    req = Request(principal=who.request_principal(), action=acts[0], resource=resource(st),
                                  context=ctx, account=acct)
                    d = (evaluate(req) if evaluate is not None
                         else evaluate_policy(analysis, req, kind="resource", owner_account=owner))
                    yield Admitted(who, access, acts, d, st)


def shared_with(entries: list[str], owner: str, t: SharedType, org_of: Callable[[str], str | None]
                ) -> Iterator[Admitted]:
    """The accounts (or everyone, "all") an attribute shares the resource with."""
    from .access_paths import Who
    access = t.accesses[0]
    for e in dict.fromkeys(entries):
        if e == owner:
            continue
        if e == "all":
            who = Who("public", "*", label="everyone (public)")
        elif e.startswith("arn:") and ":organizations:" in e:
            # an organisation (…:organization/o-x) or OU (…:ou/o-x/ou-y) an AMI is shared with
            parts = e.split(":", 5)[-1].split("/")
            org = parts[1] if len(parts) > 1 else ""
            what = (f"every account of organisation {org}" if parts[0] == "organization"
                    else f"every account of OU {parts[-1]} (organisation {org})")
            who = Who("organization", e, org_id=org, label=what)
        else:
            who = Who("account", f"arn:aws:iam::{e}:root", e, org_id=org_of(e), label=f"account {e}")
        yield Admitted(who, access, [access.actions[0]], Decision(
            ALLOW, decided_by=t.attribute, reason=f"the {t.attribute} attribute shares it with {who.label}"))


def copied_to(copies: list[dict[str, str]], owner: str, access: Access, org_of: Callable[[str], str | None]
              ) -> Iterator[Admitted]:
    """The other accounts copy rules send the resource's contents to (AWS Backup: a rule's copy action to
    a vault of another account), one per account, naming the rules."""
    from .access_paths import Who
    by_account: dict[str, list[dict[str, str]]] = {}
    for c in copies:
        parts = c["destination"].split(":")
        acct = parts[4] if len(parts) > 5 else ""
        if acct and acct != owner:
            by_account.setdefault(acct, []).append(c)
    for acct, cs in by_account.items():
        rules = ", ".join(dict.fromkeys(f"rule {c['rule']} of backup plan {c['plan']} to {c['destination']}"
                                        for c in cs))
        who = Who("account", f"arn:aws:iam::{acct}:root", acct, org_id=org_of(acct), label=f"account {acct}")
        yield Admitted(who, access, [access.actions[0]], Decision(ALLOW, decided_by=rules,
                                                                  reason=f"copied to it by {rules}"))


# ---------------------------------------------------------------------------------------------
# Rows

def _key_side(k: ResourceKey, a: Admitted, arn: str, region: str, t: SharedType,
              org_of: Callable[[str], str | None]) -> tuple[str, Decision | None, list[str]]:
    ops = list(a.access.kms)
    if k.encryption in ("aws_owned", "none"):
        return "not_needed", None, []
    if a.access.cmk_required:
        # the owner's service encrypts with the owner's key; only an AWS managed one is refused
        if k.type is None:
            return UNKNOWN, None, []
        return (NOT_ALLOWED if k.type == "aws_managed" else "not_needed"), None, []
    if not k.readable or k.policy is None:
        return UNKNOWN, None, ops
    ctx: dict[str, Any] = {"kms:ViaService": [f"{t.service}.{region}.amazonaws.com"], "aws:SecureTransport": "true",
                           **t.context(arn)}
    if a.who.type == "service":
        # A service principal calls KMS from the service's own AWS account, never the resource owner's
        # (services are admitted by "Service" statements): kms:CallerAccount is known to be no customer's.
        ctx["kms:CallerAccount"] = ["(the AWS service's own account)"]
        if a.who.account:
            ctx["aws:SourceAccount"] = [a.who.account]
    org = a.who.org_id or (org_of(a.who.account) if a.who.account else None)
    if org:
        ctx["aws:PrincipalOrgID"] = [org]
    worst, missing = key_operations(analyze(k.policy, k.account or ""), k.grants, k.arn, k.account,
                                    a.who.request_principal(),
                                    a.who.account if a.who.type not in ("principal", "service") else None, ops, ctx)
    return worst.verdict, worst, missing


def _rows(ctx: Ctx, parent: Parent, t: SharedType) -> Iterator[dict[str, Any]]:
    idx = ctx.index
    org_of = idx.org_of if idx is not None else (lambda acct: None)
    row, item = parent.row, parent.item
    arn, region = row["arn"], row.get("region") or ctx.region
    policy = item.get("_policy") if t.sharing == "policy" else item.get("_shared_with")
    keys = resource_keys(ctx, item, t, region)
    k = keys[0]
    base = {"account_id": ctx.account_id, "region": region, "resource_arn": arn, "resource_type": t.resource_type,
            "key_reference": k.reference, "key_arn": k.arn, "key_type": k.type if k.encryption == "kms" else
            k.encryption, "key_account_id": k.account}
    if policy is None:
        what = f"the policy of {t.noun} {arn}" if t.sharing == "policy" else \
            f"the {t.attribute} attribute of {t.noun} {arn}"
        yield _unread(base, f"{what} could not be read, so who it admits is unknown")
    elif policy:
        yield from _admitted_rows(ctx, base, keys, arn, row, region, t,
                                  admitted(analyze(policy, ctx.account_id), ctx.account_id, t.accesses, org_of,
                                           resource=lambda st: arn) if t.sharing == "policy"
                                  else shared_with(policy, ctx.account_id, t, org_of))
    if t.copies is not None:
        copies = item.get("_copies")
        if copies is None:
            yield _unread(base, f"the copy rules of the backup plans of {ctx.account_id} in {region} could not be "
                                f"read, so where the recovery points of {t.noun} {arn} are copied to is unknown",
                          access=t.copies.name)
        else:
            yield from _admitted_rows(ctx, base, keys, arn, row, region, t,
                                      copied_to(copies, ctx.account_id, t.copies, org_of))


def _unread(base: dict[str, Any], reason: str, access: str = UNKNOWN) -> dict[str, Any]:
    return {**base, "principal": "", "principal_type": UNKNOWN, "principal_label": "unknown principals",
            "access": access, "actions": [], "resource_verdict": UNKNOWN, "key_verdict": UNKNOWN,
            "identity_verdict": NOT_EVALUATED, "reason": reason}


def _admitted_rows(ctx: Ctx, base: dict[str, Any], keys: list[ResourceKey], arn: str, row: dict[str, Any],
                   region: str, t: SharedType, found: Iterator[Admitted]) -> Iterator[dict[str, Any]]:
    idx = ctx.index
    org_of = idx.org_of if idx is not None else (lambda acct: None)
    for a in found:
        k, (verdict, kd, missing) = keys[0], ("not_evaluated", None, [])
        if a.decision.verdict in (ALLOW, DEPENDS):
            # every key it needs; the row reports the worst (the first, among equals)
            k, (verdict, kd, missing) = min(((key, _key_side(key, a, arn, region, t, org_of)) for key in keys),
                                            key=lambda kv: _KEY_ORDER.index(kv[1][0]) if kv[1][0] in _KEY_ORDER else 2)
        link = _identity(ctx, a, arn, keys, region, t) if a.decision.verdict == ALLOW else Link(NOT_EVALUATED)
        fix_statement, fix_cli = _fix(k, a, missing, arn, row, region, t, verdict)
        yield {**base, "key_reference": k.reference, "key_arn": k.arn, "key_covers": k.part or None,
               "key_type": k.type if k.encryption == "kms" else k.encryption, "key_account_id": k.account,
               "principal": a.who.value, "principal_type": a.who.type,
               "principal_account": a.who.account, "principal_org_id": a.who.org_id,
               "principal_label": a.who.label, "access": a.access.name, "actions": a.actions,
               "statement": a.decision.decided_by, "resource_verdict": a.decision.verdict,
               "resource_depends_on": list(a.decision.depends_on), "kms_operations": list(a.access.kms),
               "key_verdict": verdict, "key_decided_by": kd.decided_by if kd else None,
               "key_depends_on": list(kd.depends_on) if kd else [],
               "key_not_applying": list(kd.misses) if kd else [], "missing_operations": missing,
               "identity_verdict": link.verdict, "identity_decided_by": link.decided_by,
               "identity_reason": link.reason, "identity_fix_statement": link.fix,
               "identity_fix_target": link.fix_target,
               "consequence": a.access.consequence if verdict in (NOT_ALLOWED, DENY) else None,
               "reason": _reason(t, arn, a, k, verdict, kd, missing),
               "fix_statement": fix_statement, "fix_cli": fix_cli}


def _reason(t: SharedType, arn: str, a: Admitted, k: ResourceKey, verdict: str, kd: Decision | None,
            missing: list[str]) -> str:
    side = f"{a.who.label} may {a.access.verb or a.access.name} {t.noun} {arn} ({', '.join(a.actions)}"
    if a.access is t.copies:
        side = f"{a.who.label} receives copies of the recovery points of {t.noun} {arn} ({a.decision.decided_by})"
    elif t.sharing == "attribute":
        side += f", {t.attribute} attribute)"
    else:
        side += f", statement {a.decision.decided_by})" if a.decision.decided_by else ")"
    if a.decision.verdict == DEPENDS:
        side += f", depending on {', '.join(a.decision.depends_on)}"
    elif a.decision.verdict in (DENY, NOT_ALLOWED):
        return f"{a.who.label} is not let {a.access.verb or a.access.name} {t.noun} {arn}: {a.decision.reason}."
    key = (k.arn or (t.default_alias if k.type == "aws_managed" else "its key")) + (f" ({k.part})" if k.part else "")
    if verdict == "not_needed" and a.access.cmk_required:
        return (f"{side}; its key {key} is customer managed: {t.service_name or t.service} encrypts what arrives "
                f"with it in account {k.account}, no KMS permission of theirs is needed.")
    if verdict == "not_needed":
        how = "AWS owned key" if k.encryption == "aws_owned" else "no KMS key (not encrypted with KMS)"
        return f"{side}; {how}: no KMS permission is needed."
    if verdict == UNKNOWN:
        return f"{side}; whether key {key} lets it is unknown: its policy or grants were not read."
    ops = ", ".join(missing)
    if a.access.cmk_required and verdict == NOT_ALLOWED:
        return (f"{side}; but its key {key} is AWS managed ({t.default_alias.removeprefix('alias/')}), and "
                f"{t.service_name} takes copies from another account only into a {t.noun} with a customer managed "
                f"key: {a.access.consequence}.")
    if verdict == ALLOW:
        return f"{side}; key {key} allows it ({kd.decided_by if kd else '?'})."
    if verdict == DEPENDS:
        return f"{side}; whether key {key} allows {ops} depends on {', '.join(kd.depends_on) if kd else '?'}."
    if k.type == "aws_managed":
        return (f"{side}; but key {key} is AWS managed ({t.default_alias.removeprefix('alias/')}): its policy admits "
                f"only account {k.account} through {t.service}, so it gets no {ops}: {a.access.consequence}.")
    if verdict == DENY:
        return f"{side}; but key {key} denies {ops} ({kd.decided_by if kd else '?'}): {a.access.consequence}."
    return f"{side}; but key {key} gives it no {ops} in its key policy or grants: {a.access.consequence}."


def _fix(k: ResourceKey, a: Admitted, missing: list[str], arn: str, row: dict[str, Any], region: str,
         t: SharedType, verdict: str) -> tuple[str | None, str | None]:
    if verdict not in (NOT_ALLOWED,) or not (missing or a.access.cmk_required):
        return None, None
    if k.type == "aws_managed":
        name = row.get(t.name_column) or arn
        return None, t.fix_cli.format(arn=arn, name=name, region=region, url=row.get("url") or arn)
    if a.who.type in ("public", "canonical_user") or not k.arn:
        return None, None
    if a.who.type == "organization":
        st = {"Sid": "AllowOrganizationUseVia" + t.service.capitalize(), "Effect": "Allow",
              "Principal": {"AWS": "*"}, "Action": missing if len(missing) > 1 else missing[0], "Resource": "*",
              "Condition": {"StringEquals": {"aws:PrincipalOrgID": a.who.org_id,
                                             "kms:ViaService": f"{t.service}.{region}.amazonaws.com"}}}
        return json.dumps(st), None
    principal = a.who.value if a.who.type in ("principal", "service") else f"arn:aws:iam::{a.who.account}:root"
    try:
        f = fix(principal, k.arn, missing)
    except ValueError:
        return None, None
    st = json.loads(f.statement_json)
    st.setdefault("Condition", {}).setdefault("StringEquals", {})["kms:ViaService"] = \
        f"{t.service}.{region}.amazonaws.com"
    return json.dumps(st), f.create_grant


def _identity(ctx: Ctx, a: Admitted, arn: str, keys: list[ResourceKey], region: str, t: SharedType) -> Link:
    if a.who.type != "principal" or not a.who.account or a.who.account == ctx.account_id:
        return Link(NOT_EVALUATED, reason="not evaluated: only a role or user of another account is")
    kms: list[tuple[str, str, dict[str, Any]]] = []
    kctx = {"kms:ViaService": [f"{t.service}.{region}.amazonaws.com"], "aws:SecureTransport": "true",
            **t.context(arn)}
    for k in keys:
        if k.encryption == "kms" and k.arn:
            kms += [(op, k.arn, kctx) for op in a.access.kms]
    return identity_link(ctx.index, a.who.value, a.who.account, request=(a.access.actions[0], arn),
                         resource_owner=ctx.account_id, kms_requests=kms, request_context={"aws:SecureTransport": "true"},
                         fix_resource=arn)


def access_paths_table(name: str, parent: str, t: SharedType, prefetch: Callable[..., None] | None = None
                       ) -> TableDef:
    """The derived access-path table of one shared type (a deferred child of `parent`)."""
    return TableDef(
        name=name, title=f"aws-encryption {t.resource_type} Access Paths",
        description=f"Who another account (or an AWS service) may reach each {t.noun} as, and whether its KMS key "
                    f"lets them (ours).",
        columns=PATH_COLUMNS, pk_components=["resource_arn", "principal", "access"], api_calls=[], parent=parent,
        resolve=lambda ctx, p: _rows(ctx, p, t), deferred=True, prefetch=prefetch,
        notes=f"Derived at the end of the sync from the {t.noun}'s policy and key and the synced keys; no call of "
              f"its own (docs/shared-resources.md).")


PATH_COLUMNS = [
    Col("account_id", STR), Col("region", STR), Col("resource_arn", STR),
    Col("resource_type", STR, "AwsSecretsManagerSecret, AwsSqsQueue, AwsSnsTopic, ..."),
    Col("principal", STR, "Role/user ARN, account root ARN, organisation id, '*', or service"),
    Col("principal_type", STR, "principal | account | organization | public | service | unknown (the policy "
                               "could not be read)"),
    Col("principal_account", STR), Col("principal_org_id", STR), Col("principal_label", STR),
    Col("access", STR, "What the policy lets it do (read, write, send, publish ...), or unknown"),
    Col("actions", STR_LIST, "The actions of that access the statement allows"),
    Col("statement", STR, "The resource policy statement that decided it"),
    Col("resource_verdict", STR, "allow | depends | deny | not_allowed | unknown"),
    Col("resource_depends_on", STR_LIST),
    Col("key_reference", STR, "The key as the resource names it (NULL: the service's default)"),
    Col("key_arn", STR), Col("key_type", STR, "aws_encryption_key_types.key_type, or aws_owned / none"),
    Col("key_account_id", STR),
    Col("key_covers", STR, "What the key encrypts when it is not the whole resource (an AMI's other volumes: "
                           "the row names the worst of its keys)"),
    Col("kms_operations", STR_LIST, "What the service asks KMS for on its behalf"),
    Col("key_verdict", STR, "allow | not_allowed | deny | depends | unknown | not_needed | not_evaluated"),
    Col("key_decided_by", STR), Col("key_depends_on", STR_LIST), Col("key_not_applying", STR_LIST),
    Col("missing_operations", STR_LIST),
    Col("identity_verdict", STR, "The principal's own IAM, as on aws_s3_bucket_access_paths"),
    Col("identity_decided_by", STR), Col("identity_reason", STR), Col("identity_fix_statement", STR),
    Col("identity_fix_target", STR),
    Col("consequence", STR, "What the key's refusal means, in the service's words"),
    Col("reason", STR), Col("fix_statement", STR, "A key policy statement that would admit it (JSON)"),
    Col("fix_cli", STR, "A command that fixes it (create-grant, or move the resource to a customer managed key)"),
]
