"""aws_s3_bucket_access_paths (ours): who can read or write each bucket's objects, by which path, and
whether the bucket's KMS key lets them — derived at the end of the sync, no AWS call of its own.

One row per (bucket, path, via, principal, access). Paths:
- `bucket_policy`: a bucket policy statement admits the principal (a role or user, an account as a
  whole, every account of an organisation, the public, or a service);
- `acl`: a bucket ACL grant (only when ACLs are in force: Object Ownership is not
  BucketOwnerEnforced) to another canonical user or a group;
- `access_point` / `multi_region_access_point`: the access point's (or MRAP's) policy admits the
  principal and the bucket policy delegates to it (evaluated with `s3:DataAccessPointArn` /
  `s3:DataAccessPointAccount`);
- `replication`: the replication role writes replicas into another bucket under the rule's replica
  key (`ReplicaKmsKeyID`), and reads the source objects under the bucket's key;
- `log_delivery`: the bucket is the target of another bucket's server access logs
  (`logging.s3.amazonaws.com`), which S3 delivers only to SSE-S3 buckets;
- `owner`: the bucket's own account, when the bucket's key is held in another account.
Principals of the bucket's own account are left out of the policy, ACL and access point paths: the
question here is sharing.

Each row holds the bucket-side verdict (allow / depends / deny, with the deciding statement) and the
key-side verdict for the KMS operations the access needs (reads: kms:Decrypt; writes:
kms:GenerateDataKey and kms:Decrypt, as multipart uploads need both; replicas: kms:Encrypt), from the
key policy and grants evaluated at principal level (plugin/analysis/evaluator.py) in the context S3
calls KMS with: `kms:ViaService` = `s3.<bucket region>.amazonaws.com`, the encryption context
`aws:s3:arn` (the object, or the bucket with an S3 Bucket Key), the caller's account and, when the
sync learnt it, its organisation. An AWS managed key that the sync did not read is evaluated against
the documented `aws/s3` policy. `key_verdict` is `not_needed` for SSE-S3 and `unknown` when the
key's policy could not be read or the key lives in an account the sync did not cover.

A path the sync could not read (the ACL when ACLs are in force, an access point's or MRAP's policy,
the account's access point or MRAP listing) is a row with `principal_type`, `access` and
`bucket_verdict` `unknown` and the reason naming the call: its principals are unknown, not absent.

These rows describe *default* encryption: objects written with their own encryption headers, or
before the default changed, may be under other keys.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field, replace
from typing import Any, Iterator

from ..aws.calls import Ctx, Parent
from ..tables.schema import BOOL, STR, STR_LIST, Col, TableDef
from .actions import S3_OBJECT_READ_ACTIONS, S3_OBJECT_WRITE_ACTIONS, needs, s3_kms_context
from .evaluator import ALLOW, DENY, DEPENDS, NOT_ALLOWED, Decision, Request, evaluate_policy, key_operations
from .identity_link import NOT_EVALUATED, Link, identity_link, s3_action
from .key_fix import fix
from .policy import analyze
from .policy_elements import Analysis, Statement
from .shared_resources import Access, SharedType

READ, WRITE = "read", "write"
UNKNOWN = "unknown"  # a path the sync could not read (its access, bucket and key verdicts)
LOG_DELIVERY_SERVICE = "logging.s3.amazonaws.com"
# A principal standing for "an account that is not the bucket's", when the sharing names no account
# (the public, an organisation whose members the sync does not know).
OTHER_ACCOUNT = "000000000000"
_ACCOUNT_RE = re.compile(r"\d{12}")
_ACCESS_ACTIONS = {READ: S3_OBJECT_READ_ACTIONS, WRITE: S3_OBJECT_WRITE_ACTIONS}
# S3 as a shared type (plugin/analysis/shared_resources.py): its accesses, with the KMS operations a
# GetObject and a (multipart) PutObject make; a bucket's paths also follow its ACL, access points,
# Multi-Region Access Points, replication and log delivery, which only S3 has (below).
S3_BUCKET = SharedType(
    resource_type="AwsS3Bucket", noun="bucket", service="s3", service_name="Amazon S3",
    default_alias="alias/aws/s3",
    accesses=(Access(READ, tuple(sorted(S3_OBJECT_READ_ACTIONS)), ("kms:Decrypt",),
                     "its GetObject fails with AccessDenied from KMS"),
              Access(WRITE, tuple(sorted(S3_OBJECT_WRITE_ACTIONS)), ("kms:GenerateDataKey", "kms:Decrypt"),
                     "its PutObject fails with AccessDenied from KMS")),
    fix_cli="aws s3api put-bucket-encryption --bucket {name} --server-side-encryption-configuration "
            "'{{\"Rules\":[{{\"ApplyServerSideEncryptionByDefault\":{{\"SSEAlgorithm\":\"aws:kms\","
            "\"KMSMasterKeyID\":\"<customer-managed-key-arn>\"}},\"BucketKeyEnabled\":true}}]}}'",
)
_ACL_ACCESS = {"READ": [READ], "WRITE": [WRITE], "FULL_CONTROL": [READ, WRITE]}
_GROUPS = {"http://acs.amazonaws.com/groups/global/AllUsers": "anyone (AllUsers)",
           "http://acs.amazonaws.com/groups/global/AuthenticatedUsers": "any AWS account (AuthenticatedUsers)"}


@dataclass
class Who:
    """A principal or principal set a path admits."""

    type: str                   # principal | account | organization | public | service | canonical_user
    value: str                  # ARN, account root ARN, org id, "*", service name, canonical id
    account: str | None = None  # its 12-digit account when there is one
    org_id: str | None = None
    label: str = ""             # how a person reads it

    def request_principal(self) -> str:
        """The principal to evaluate the key (and bucket) for."""
        if self.type == "principal" or self.type == "service":
            return self.value
        return f"arn:aws:iam::{self.account or OTHER_ACCOUNT}:root"


@dataclass
class Candidate:
    path: str
    via: str
    who: Who
    access: str
    actions: list[str]
    bucket: Decision
    key_arn: str | None = None       # another key than the bucket's (replication replica key)
    key_ops: list[str] = field(default_factory=list)
    note: str = ""
    object_key: str = "object"       # an object the path reaches: the encryption context S3 sends for it


# ---------------------------------------------------------------------------------------------
# The key

@dataclass
class Key:
    arn: str | None
    type: str | None           # aws_encryption_key_types.key_type, aws_owned for SSE-S3
    account: str | None
    region: str | None
    sse: str | None            # SSE-S3 | SSE-KMS | DSSE-KMS | None (unreadable)
    bucket_key: bool
    policy: str | None = None  # the key policy text, when synced
    grants: list[dict[str, Any]] | None = None
    readable: bool = False     # policy (and grants) known


def key_of(ctx: Ctx, enc: dict[str, Any] | None, arn: str | None = None) -> Key:
    """The bucket's key (from its aws_s3_bucket_encryption_keys row) or the key `arn`, with the policy
    and grants the sync read for it (plugin/source/sync_index.py)."""
    if arn is None and enc is not None:
        arn = enc.get("resolved_key_arn")
    info = ctx.index.keys.get(arn) if (ctx.index is not None and arn) else None
    if info is None and arn:
        from .other_shard_keys import key_arn_parts, key_elsewhere
        info = key_elsewhere(ctx, *key_arn_parts(arn), arn)
    m = re.match(r"arn:[^:]+:kms:([^:]+):(\d{12}):", arn or "")
    own = enc is not None and arn == enc.get("resolved_key_arn")
    k = Key(arn=arn, type=info.key_type if info else ((enc or {}).get("key_type") if own else None),
            account=m.group(2) if m else (enc or {}).get("key_account_id"),
            region=m.group(1) if m else (enc or {}).get("key_region"),
            sse=(enc or {}).get("sse_algorithm") if own or arn is None else "SSE-KMS",
            bucket_key=bool((enc or {}).get("bucket_key_enabled")) if own else False)
    if not own and enc is not None and arn is None:
        k.type, k.sse = enc.get("key_type"), enc.get("sse_algorithm")
    if info is not None and getattr(info, "item", None) is not None:
        item = info.item
        k.policy = item.get("_policy")
        k.grants = item.get("_grants")
        k.readable = k.policy is not None and k.grants is not None
    elif k.type == "aws_managed" and k.account and k.region:
        # Its policy can't differ from the documented one, and it can have no grants for others.
        from .shared_resources import aws_managed_policy
        k.policy, k.grants, k.readable = aws_managed_policy(k.account, k.region, "s3", "S3"), [], True
    return k


def _key_decision(key: Key, who: Who, ops: list[str], bucket_name: str, bucket_region: str,
                  org_of: Any, object_key: str = "object") -> tuple[str, Decision | None, list[str]]:
    """(key_verdict, the deciding Decision, the operations not allowed) for `who` under `key`."""
    if key.sse == "SSE-S3":
        return "not_needed", None, []
    if not key.readable or key.policy is None:
        return "unknown", None, ops
    ctx: dict[str, Any] = {**s3_kms_context(bucket_name, object_key, bucket_key=key.bucket_key, region=bucket_region),
                           "aws:SecureTransport": "true"}
    org = who.org_id or (org_of(who.account) if who.account else None)
    if org:
        ctx["aws:PrincipalOrgID"] = [org]
    worst, missing = key_operations(analyze(key.policy, key.account or ""), key.grants, key.arn, key.account,
                                    who.request_principal(),
                                    who.account if who.type not in ("principal", "service") else None, ops, ctx)
    return worst.verdict, worst, missing


# ---------------------------------------------------------------------------------------------
# The paths

def _object_key(st: Statement | None, bucket: str, access_point: str = "") -> str:
    """The key of an object the statement reaches (its own resource pattern with wildcards filled),
    else any. A bucket policy names objects `arn:<partition>:s3:::<bucket>/<key>`; an access point's (or
    Multi-Region Access Point's) policy `<access point ARN>/object/<key>`."""
    for r in (st.resources if st is not None else []) or []:
        if access_point:
            prefix = f"{access_point}/object/"
            rest = r[len(prefix):] if r.lower().startswith(prefix.lower()) else None
        else:
            obj = r.split(":::", 1)[1] if r.lower().startswith("arn:aws") and ":::" in r else ""
            rest = obj[len(bucket) + 1:] if obj.lower().startswith(bucket.lower() + "/") else None
        if rest:
            return rest.replace("*", "x").replace("?", "x")
    return "object"


def _who_of(st: Statement, p: Any, owner: str) -> list[Who]:
    """The principals one Principal entry of an Allow statement admits, as the sharing is seen."""
    if p.type == "Service":
        return [Who("service", p.value, st.caller_accounts[0] if len(st.caller_accounts) == 1 else None,
                    label=f"service {p.value}")]
    if p.type == "CanonicalUser":
        return [Who("canonical_user", p.value, label=f"canonical user {p.value}")]
    if p.is_wildcard:
        if st.org_ids:
            return [Who("organization", o, org_id=o, label=f"every account of organisation {o}") for o in st.org_ids]
        # (labels of organisations get their known member count in access_paths)
        accounts = list(st.caller_accounts) or list(st.external_accounts)
        if accounts:
            return [Who("account", f"arn:aws:iam::{a}:root", a, label=f"account {a}") for a in accounts]
        if any(k.lower().startswith("s3:dataaccesspoint") for block in st.conditions.values() for k in block):
            return []  # delegated to access points: their policies are the paths
        return [Who("public", "*", label="anyone (public)")]
    if p.account and (p.value.endswith(":root") or _ACCOUNT_RE.fullmatch(p.value)):
        return [Who("account", f"arn:aws:iam::{p.account}:root", p.account, label=f"account {p.account}")]
    return [Who("principal", p.value, p.account, label=p.value)]


def _from_policy(policy: Analysis, name: str, owner: str, path: str, via: str,
                 extra_ctx: dict[str, Any], bucket_policy: Analysis | None, org_of: Any) -> Iterator[Candidate]:
    """Candidates from one resource policy (the bucket's, an access point's, an MRAP's): each Allow
    statement's principals outside `owner`, per access, with the bucket-side decision (the shared
    types' loop, plugin/analysis/shared_resources.py, over S3's accesses)."""
    from .shared_resources import admitted
    point = via if bucket_policy is not None else ""

    def resource(st: Statement) -> str:
        return f"arn:aws:s3:::{name}/{_object_key(st, name, point)}"

    def evaluate(req: Request) -> Decision:
        if bucket_policy is None:
            return evaluate_policy(policy, req, kind="resource", owner_account=owner)
        # through an access point, its policy sees the object as <access point ARN>/object/<key>
        key = req.resource.split(f":::{name}/", 1)[1]
        d = evaluate_policy(policy, replace(req, resource=f"{via}/object/{key}"), kind="resource",
                            owner_account=owner)
        if d.verdict in (ALLOW, DEPENDS):
            # an access point's grant needs the bucket policy's delegation too
            b = evaluate_policy(bucket_policy, req, kind="resource", owner_account=owner)
            if b.verdict in (DENY, NOT_ALLOWED) or (b.verdict == DEPENDS and d.verdict == ALLOW):
                d = b
        return d

    for a in admitted(policy, owner, S3_BUCKET.accesses, org_of, resource=resource, evaluate=evaluate, extra_ctx=extra_ctx):
        yield Candidate(path, via, a.who, a.access.name, a.actions, a.decision,
                        object_key=_object_key(a.statement, name, point))


def _from_acl(item: dict[str, Any], owner_canonical: str | None, account_of: Any) -> Iterator[Candidate]:
    acl = item.get("_acl")
    if not acl:
        return
    for g in acl.get("Grants") or []:
        grantee = g.get("Grantee") or {}
        gid = grantee.get("ID") or grantee.get("URI") or grantee.get("EmailAddress")
        if not gid or gid == owner_canonical:
            continue
        if grantee.get("URI") in _GROUPS:
            who = Who("public", grantee["URI"], label=_GROUPS[grantee["URI"]])
        elif grantee.get("URI"):
            continue  # LogDelivery group: the log_delivery path
        else:
            acct = account_of(gid)
            who = Who("canonical_user", gid, acct, label=f"canonical user {gid}" + (f" (account {acct})" if acct else ""))
        for access in _ACL_ACCESS.get(g.get("Permission") or "", []):
            d = Decision(ALLOW, decided_by=f"ACL {g.get('Permission')}",
                         reason=f"the bucket ACL grants {g.get('Permission')} to {who.label}")
            yield Candidate("acl", "", who, access, sorted(_ACCESS_ACTIONS[access]), d)


def _replication(item: dict[str, Any], owner: str) -> Iterator[Candidate]:
    config = item.get("_replication") or {}
    role = config.get("Role")
    for rule in config.get("Rules") or []:
        if (rule.get("Status") or "Enabled") != "Enabled":
            continue
        dest = rule.get("Destination") or {}
        dest_bucket = dest.get("Bucket") or ""
        dest_account = dest.get("Account")
        replica_key = ((dest.get("EncryptionConfiguration") or {}).get("ReplicaKmsKeyID"))
        rid = rule.get("ID") or dest_bucket
        if not role:
            continue
        who = Who("principal", role, _account_of(role), label=f"replication role {role}")
        d = Decision(ALLOW, decided_by=f"rule {rid}",
                     reason=f"replication rule {rid} writes replicas to {dest_bucket}"
                            + (f" in account {dest_account}" if dest_account else ""))
        yield Candidate("replication", dest_bucket, who, READ, ["s3:GetObjectVersionForReplication"], d,
                        note=f"source objects read by the replication role for rule {rid}")
        if replica_key:
            yield Candidate("replication", dest_bucket, who, WRITE, ["s3:ReplicateObject"], d,
                            key_arn=replica_key, key_ops=["kms:Encrypt"],
                            note=f"replicas written to {dest_bucket} under {replica_key}")


def _account_of(arn: str) -> str | None:
    m = re.match(r"arn:[^:]+:(?:iam|sts)::(\d{12}):", arn)
    return m.group(1) if m else None


# ---------------------------------------------------------------------------------------------
# Rows

def prefetch(ctx: Ctx, parent: Parent) -> None:
    """What the paths are derived from, read in the bucket's own task (once each, shared with the
    tables that store them), so the paths don't depend on which of those tables are selected."""
    from ..tables.s3.bucket_grants import fetch_acl
    from ..tables.s3.bucket_loggings import fetch_logging
    from ..tables.s3.bucket_replications import fetch_replication
    from .encryption_keys import prefetch as encryption_prefetch
    encryption_prefetch(ctx, parent)
    fetch_acl(ctx, parent)
    fetch_replication(ctx, parent)
    fetch_logging(ctx, parent)
    # Replica keys another shard syncs: read now, in the bucket's task, not one by one at the end.
    from .other_shard_keys import key_arn_parts, key_elsewhere
    for rule in (parent.item.get("_replication") or {}).get("Rules") or []:
        ref = (((rule.get("Destination") or {}).get("EncryptionConfiguration") or {}).get("ReplicaKmsKeyID"))
        if isinstance(ref, str):
            key_elsewhere(ctx, *key_arn_parts(ref), ref)


def access_paths(ctx: Ctx, parent: Parent) -> Iterator[dict[str, Any]]:
    from .encryption_keys import bucket_key_row
    bucket, item = parent.row, parent.item
    owner, name = ctx.account_id, bucket["name"]
    idx = ctx.index
    org_of = idx.org_of if idx is not None else (lambda a: None)
    enc = bucket_key_row(ctx, parent)
    key = key_of(ctx, enc)
    policy_text = item.get("_policy")
    bucket_policy = analyze(policy_text, owner) if policy_text else None
    cands: list[Candidate] = []
    if bucket_policy is not None:
        cands += _from_policy(bucket_policy, name, owner, "bucket_policy", "", {}, None, org_of)
    acl = item.get("_acl") or {}
    account_of = idx.account_of_canonical_user if idx is not None else (lambda cid: None)
    cands += _from_acl(item, ((acl.get("Owner") or {}).get("ID")), account_of)
    if item.get("_acl_read") is False:
        cands.append(_unread("acl", "", "the bucket ACL (GetBucketAcl)"))
    # No bucket policy: it allows nothing (an empty document would read as one that can't be analysed)
    no_policy = Analysis(ok=True, error=None, owner_account=owner, is_public=False, external_accounts=[], statements=[])
    if idx is not None:
        for path, points, listing, scope, get in (
                ("access_point", idx.access_points_of(name), "s3control:ListAccessPoints", bucket["region"],
                 "GetAccessPointPolicy"),
                ("multi_region_access_point", idx.mraps_of_bucket(name), "s3control:ListMultiRegionAccessPoints", "",
                 "GetMultiRegionAccessPointPolicy")):
            code = idx.unread_listing(owner, scope, listing)
            if code:
                where = f" in {scope}" if scope else ""
                cands.append(_unread(path, "", f"the {path.replace('_', ' ')}s of account {owner}{where} "
                                               f"({listing.split(':')[1]}: {code})"))
            for ap in points:
                if ap.policy:
                    extra = {"s3:DataAccessPointArn": [ap.arn], "s3:DataAccessPointAccount": [ap.account]}
                    cands += _from_policy(analyze(ap.policy, ap.account), name, owner, path, ap.arn, extra,
                                          bucket_policy or no_policy, org_of)
                elif not ap.policy_read:
                    cands.append(_unread(path, ap.arn, f"the policy of {ap.arn} ({get})"))
        for src in idx.log_sources_of(name):
            who = Who("service", LOG_DELIVERY_SERVICE, owner, label=f"S3 server access logging ({LOG_DELIVERY_SERVICE})")
            d = Decision(ALLOW, decided_by=src.source_bucket_arn,
                         reason=f"bucket {src.source_bucket_arn} delivers its server access logs here")
            cands.append(Candidate("log_delivery", src.source_bucket_arn, who, WRITE, ["s3:PutObject"], d))
    cands += _replication(item, owner)
    if key.account and key.account != owner and key.sse in ("SSE-KMS", "DSSE-KMS"):
        who = Who("account", f"arn:aws:iam::{owner}:root", owner, label=f"the bucket's own account {owner}")
        d = Decision(ALLOW, reason="the bucket's own account reads and writes its objects")
        for access in (READ, WRITE):
            cands.append(Candidate("owner", "", who, access, sorted(_ACCESS_ACTIONS[access]), d))
    for c in cands:
        if c.who.type == "organization" and idx is not None:
            n = len(idx.org_accounts(c.who.org_id or ""))
            c.who.label = f"every account of organisation {c.who.org_id}" + (
                f" ({n} accounts known)" if n else " (its accounts are not known to this sync)")
        yield _row(ctx, bucket, key, c, org_of)


def _unread(path: str, via: str, what: str) -> Candidate:
    """A path the sync could not read: its principals are unknown, never "none" (the checks say error)."""
    return Candidate(path, via, Who(UNKNOWN, "", label="unknown principals"), UNKNOWN, [],
                     Decision(UNKNOWN, reason=f"{what} could not be read, so who it admits is unknown"))


def _row(ctx: Ctx, bucket: dict[str, Any], key: Key, c: Candidate, org_of: Any) -> dict[str, Any]:
    k = key if c.key_arn is None else key_of(ctx, None, c.key_arn)
    ops = c.key_ops or _kms_needs(c.actions)
    if c.bucket.verdict == UNKNOWN:
        verdict, kd, missing = UNKNOWN, None, []
        key_reason = "the key side was not evaluated"
    elif c.path == "log_delivery" and k.sse in ("SSE-KMS", "DSSE-KMS"):
        verdict, kd, missing = NOT_ALLOWED, None, ops
        key_reason = (f"S3 delivers server access logs only to buckets encrypted with SSE-S3; this bucket's "
                      f"default encryption is {k.sse} ({k.arn or 'aws/s3'}), so the logs are not delivered")
    else:
        verdict, kd, missing = _key_decision(k, c.who, ops, bucket["name"], bucket["region"], org_of, c.object_key)
        key_reason = _key_reason(k, c, verdict, kd, missing)
    fix_statement, fix_cli = _fix(k, c, missing, bucket["name"], bucket["region"], verdict)
    link = _identity(ctx, bucket, k, c, ops)
    bucket_side = (f"{c.who.label} may {c.access} objects of {bucket['name']} through {c.path.replace('_', ' ')}"
                   + (f" {c.via}" if c.via else "") + (f" ({c.bucket.decided_by})" if c.bucket.decided_by else ""))
    if c.bucket.verdict == DEPENDS:
        bucket_side += f", depending on {', '.join(c.bucket.depends_on) or 'conditions'}"
    elif c.bucket.verdict == UNKNOWN:
        bucket_side = c.bucket.reason
    elif c.bucket.verdict in (DENY, NOT_ALLOWED):
        bucket_side = (f"{c.who.label} is not let {c.access} objects of {bucket['name']}: "
                       f"{c.bucket.reason or c.bucket.verdict}")
    return {
        "account_id": ctx.account_id, "bucket_arn": bucket["arn"], "bucket_region": bucket["region"],
        "path": c.path, "via": c.via, "principal": c.who.value, "principal_type": c.who.type,
        "principal_account": c.who.account, "principal_org_id": c.who.org_id, "principal_label": c.who.label,
        "access": c.access, "actions": c.actions,
        "bucket_statement": c.bucket.decided_by, "bucket_verdict": c.bucket.verdict,
        "bucket_depends_on": list(c.bucket.depends_on),
        "key_arn": k.arn, "key_type": k.type, "key_account_id": k.account, "kms_operations": ops,
        "key_verdict": verdict, "key_decided_by": kd.decided_by if kd else None,
        "key_depends_on": list(kd.depends_on) if kd else [], "key_delegated": bool(kd and kd.delegated),
        "key_not_applying": list(kd.misses) if kd else [],
        "missing_operations": missing, "reason": f"{bucket_side}; {key_reason}.",
        "fix_statement": fix_statement, "fix_cli": fix_cli,
        "identity_verdict": link.verdict, "identity_decided_by": link.decided_by,
        "identity_depends_on": link.depends_on, "identity_missing_actions": link.missing,
        "identity_reason": link.reason, "identity_fix_statement": link.fix, "identity_fix_target": link.fix_target,
    }


def _identity(ctx: Ctx, bucket: dict[str, Any], k: Key, c: Candidate, ops: list[str]) -> Link:
    """The principal's own IAM (plugin/analysis/identity_link.py), for a role or user of another account."""
    if c.who.type != "principal" or c.bucket.verdict == UNKNOWN or not c.who.account or c.who.account == ctx.account_id:
        return Link(NOT_EVALUATED, reason="not evaluated: only a role or user of another account is")
    name, region = bucket["name"], bucket["region"]
    if c.path in ("access_point", "multi_region_access_point"):
        resource, pattern = f"{c.via}/object/{c.object_key}", f"{c.via}/object/*"
    else:
        resource, pattern = f"arn:aws:s3:::{name}/{c.object_key}", f"arn:aws:s3:::{name}/*"
    kms: list[tuple[str, str, dict[str, Any]]] = []
    if k.sse in ("SSE-KMS", "DSSE-KMS") and k.arn:
        kctx = {**s3_kms_context(name, c.object_key, bucket_key=k.bucket_key, region=region),
                "aws:SecureTransport": "true"}
        kms = [(op, k.arn, kctx) for op in ops]
    return identity_link(ctx.index, c.who.value, c.who.account, request=(s3_action(c.access, c.actions), resource),
                         resource_owner=ctx.account_id, kms_requests=kms, request_context={"aws:SecureTransport": "true"},
                         fix_resource=pattern)


def _kms_needs(actions: list[str]) -> list[str]:
    """The KMS operations a principal needs for what it is admitted to: GetObject/PutObject's when
    they are granted (a grant of s3:* also covers ReplicateObject, which only replication uses),
    else those of the actions granted."""
    primary = [a for a in actions if a in ("s3:GetObject", "s3:PutObject")] or actions
    out: list[str] = []
    for a in primary:
        for op in needs(a):
            if op not in out:
                out.append(op)
    return sorted(out, key=["kms:GenerateDataKey", "kms:Decrypt", "kms:Encrypt"].index)


def _key_reason(k: Key, c: Candidate, verdict: str, kd: Decision | None, missing: list[str]) -> str:
    key = k.arn or ("aws/s3" if k.type == "aws_managed" else "the bucket's key")
    if verdict == "not_needed":
        return "objects are encrypted with SSE-S3 (an AWS owned key): no KMS permission is needed"
    if verdict == "unknown":
        where = (f"its account {k.account} was not synced" if k.account and not k.readable else
                 "its key policy or grants could not be read")
        return f"whether key {key} lets it is unknown: {where}"
    ops = ", ".join(missing or [])
    if verdict == ALLOW:
        how = f"key {key} allows it ({kd.decided_by})" if kd and kd.decided_by else f"key {key} allows it"
        if kd and kd.delegated:
            how += f"; the grant is to account {c.who.account}, whose own IAM policies must allow it too"
        return how
    if verdict == DEPENDS:
        return f"whether key {key} allows {ops} depends on {', '.join(kd.depends_on) if kd else 'conditions'}"
    if k.type == "aws_managed":
        return (f"key {key} is AWS managed: its policy admits only account {k.account} through S3, so {ops} is "
                f"refused and requests fail with AccessDenied from KMS")
    if verdict == DENY:
        return f"key {key} denies {ops} (statement {kd.decided_by if kd else '?'}): requests fail with AccessDenied"
    return (f"key {key} gives it no {ops} in its key policy or grants: requests fail with AccessDenied from KMS"
            + (f" ({kd.reason})" if kd and kd.reason else ""))


def _fix(k: Key, c: Candidate, missing: list[str], bucket: str, region: str,
         verdict: str) -> tuple[str | None, str | None]:
    if verdict in (ALLOW, "not_needed", DENY) or not missing or not k.arn:
        return None, None  # (an explicit Deny overrides any Allow or grant: no statement to add fixes it)
    if c.path == "log_delivery":
        return None, (f"aws s3api put-bucket-encryption --bucket {bucket} --server-side-encryption-configuration "
                      "'{\"Rules\":[{\"ApplyServerSideEncryptionByDefault\":{\"SSEAlgorithm\":\"AES256\"}}]}'")
    if k.type == "aws_managed":
        return None, S3_BUCKET.fix_cli.format(name=bucket, arn=f"arn:aws:s3:::{bucket}", region=region, url="")
    if c.who.type == "organization":
        statement = {"Sid": "AllowOrganizationUseViaS3", "Effect": "Allow", "Principal": {"AWS": "*"},
                     "Action": missing if len(missing) > 1 else missing[0], "Resource": "*",
                     "Condition": {"StringEquals": {"aws:PrincipalOrgID": c.who.org_id,
                                                    "kms:ViaService": f"s3.{region}.amazonaws.com"}}}
        return json.dumps(statement, indent=2), None
    if c.who.type in ("public", "canonical_user") or c.who.value == "*":
        return None, None
    principal = c.who.value if c.who.type in ("principal", "service") else f"arn:aws:iam::{c.who.account}:root"
    try:
        f = fix(principal, k.arn, missing, via_s3_region=region if c.path != "replication" else None)
    except ValueError:
        return None, None
    return f.statement_json, f.create_grant


S3_BUCKET_ACCESS_PATHS = TableDef(
    name="aws_s3_bucket_access_paths", title="aws-encryption S3 Bucket Access Paths",
    description="Who may read or write each bucket's objects, by which path, and whether the bucket's KMS key "
                "lets them (ours).",
    columns=[
        Col("account_id", STR), Col("bucket_arn", STR), Col("bucket_region", STR),
        Col("path", STR, "bucket_policy | acl | access_point | multi_region_access_point | replication | "
                         "log_delivery | owner"),
        Col("via", STR, "The access point, MRAP, replication destination or log source; '' for the bucket itself"),
        Col("principal", STR, "Role/user ARN, account root ARN, organisation id, '*', service, canonical id"),
        Col("principal_type", STR, "principal | account | organization | public | service | canonical_user | "
                                   "unknown (a path the sync could not read)"),
        Col("principal_account", STR, "Its 12-digit account, when there is one"),
        Col("principal_org_id", STR, "The organisation, for organisation-wide sharing"),
        Col("principal_label", STR, "How the principal reads in a finding"),
        Col("access", STR, "read, write, or unknown (a path the sync could not read)"),
        Col("actions", STR_LIST, "The S3 object actions the path grants"),
        Col("bucket_statement", STR, "The bucket-side statement (Sid or #index), ACL permission or rule that admits it"),
        Col("bucket_verdict", STR, "allow | depends | deny | not_allowed (bucket side) | unknown (the ACL, an access "
                                   "point's policy or a listing could not be read: the reason says which)"),
        Col("bucket_depends_on", STR_LIST, "Conditions the bucket side could not decide"),
        Col("key_arn", STR, "The key the access needs (the bucket's, or the replica key)"),
        Col("key_type", STR), Col("key_account_id", STR),
        Col("kms_operations", STR_LIST, "KMS operations the access needs"),
        Col("key_verdict", STR, "allow | not_allowed | deny | depends | unknown | not_needed"),
        Col("key_decided_by", STR, "The key policy statement or grant id that decided it"),
        Col("key_depends_on", STR_LIST, "Conditions the key side could not decide"),
        Col("key_not_applying", STR_LIST, "Key policy statements and grants that would allow it but for a condition "
                                          "or grant constraint that is false (e.g. kms:ViaService of another Region)"),
        Col("key_delegated", BOOL, "Allowed through the principal's account root: its IAM must allow too"),
        Col("missing_operations", STR_LIST, "The KMS operations the key does not allow"),
        Col("reason", STR, "The path and the key's answer, in words"),
        Col("fix_statement", STR, "A key policy statement that would allow the missing operations (JSON)"),
        Col("fix_cli", STR, "A command that would fix it (create-grant, or move the bucket to another key)"),
        Col("identity_verdict", STR, "The principal's own IAM (identity policies, permission boundary, SCPs): allow | "
                                     "deny | not_allowed | depends | unknown (its account not synced or its IAM not "
                                     "read) | not_evaluated (not a role or user of another account)"),
        Col("identity_decided_by", STR, "The identity policy (or boundary, SCP) and statement that decided it"),
        Col("identity_depends_on", STR_LIST, "Conditions the identity side could not decide"),
        Col("identity_missing_actions", STR_LIST, "The S3 and KMS actions its IAM does not let it make"),
        Col("identity_reason", STR, "The identity side, in words"),
        Col("identity_fix_statement", STR, "Identity policy statement(s) that would allow the missing actions (JSON)"),
        Col("identity_fix_target", STR, "Where that statement goes: the role or user, or its permission boundary"),
    ],
    pk_components=["bucket_arn", "path", "via", "principal", "access"], api_calls=[], parent="aws_s3_buckets",
    resolve=access_paths, deferred=True, prefetch=prefetch,
    notes="Derived at the end of the sync from the bucket policy, ACL, access points, MRAPs, replication and "
          "logging configurations, and the key policies and grants; no call of its own. Default encryption only.",
)
