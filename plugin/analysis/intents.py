"""aws_s3_bucket_role_intents and aws_kms_key_role_intents (ours): what a role's own IAM policies say
it means to reach in *another synced account*, and whether that bucket or key lets it in. Derived at
the end of the sync from every synced account's identity policies (plugin/analysis/identity.py) and
the bucket's policy, or the key's policy and grants; no call of their own.

One row per (bucket or key, role, access): an Allow statement of the role's identity policies naming
- the bucket (`arn:aws:s3:::NAME` or `arn:aws:s3:::NAME/...`, NAME without wildcards), for object
  reads or writes; the bucket policy is evaluated for the role (GetObject / PutObject on an object
  the statement names);
- the key by its ARN (no wildcards), for kms:Decrypt, kms:GenerateDataKey or kms:Encrypt; the key
  policy and grants are evaluated for the role as S3 in the key's Region calls KMS
  (`kms:ViaService` = `s3.<region>.amazonaws.com`).

The rows are children of the bucket's (the key's) row: every shard that syncs a bucket or key finds
the roles, of any synced account, that name it (each shard reads every account's IAM), so sharded
and unsharded syncs give the same rows. A bucket or key the sync did not read (an account or Region
not synced) has no row: the intent can't be judged. Roles only: a user of one account reaching into
another is rare, and its identity side is evaluated on the access paths.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any, Iterator

from ..aws.calls import Ctx, Parent
from ..tables.schema import STR, STR_LIST, Col, TableDef
from .actions import S3_OBJECT_READ_ACTIONS, S3_OBJECT_WRITE_ACTIONS, matching_actions
from .evaluator import ALLOW, Request, evaluate_policy, key_operations
from .policy import analyze
from .key_fix import fix
from .permissions import _bucket_prefetch, _kms_prefetch

_S3 = re.compile(r"arn:[^:]+:s3:::([^/*?]+)(/(.*))?$")
_KMS = re.compile(r"arn:[^:]+:kms:([^:*?]+):(\d{12}):key/[^*?]+$")
_KMS_OPS = ("kms:Decrypt", "kms:GenerateDataKey", "kms:Encrypt")


@dataclass(frozen=True)
class Intent:
    role: str
    account: str
    statement: str       # 'inline policy "read" of role etl, statement "ReadLake"'
    pattern: str         # the Resource entry, as written
    access: str          # read | write | use
    actions: tuple[str, ...]
    object_key: str = ""


def _targets(idx: Any) -> dict[tuple[str, str], list[Intent]]:
    """("s3", bucket name) / ("kms", key ARN) -> the roles of every synced account whose identity
    policies name it; built once, when the derived tables first ask."""
    out: dict[tuple[str, str], list[Intent]] = {}
    for model in list(idx.identities.values()):
        for ident in model.roles.values():
            seen: set[tuple[str, str, str]] = set()
            for doc in ident.policies:
                for st in doc.analysis.statements:
                    if st.effect != "Allow":
                        continue
                    label = f'{doc.label}, statement "{st.sid or "#" + str(st.index)}"'
                    for pattern in st.resources:
                        m = _S3.match(pattern)
                        if m:
                            for access, cands in (("read", S3_OBJECT_READ_ACTIONS), ("write", S3_OBJECT_WRITE_ACTIONS)):
                                acts = matching_actions(st.actions, st.not_actions, cands)
                                if acts and ("s3", m.group(1), access) not in seen:
                                    seen.add(("s3", m.group(1), access))
                                    out.setdefault(("s3", m.group(1)), []).append(Intent(
                                        ident.arn, model.account, label, pattern, access, tuple(acts),
                                        m.group(3) or ""))
                        if _KMS.match(pattern):
                            ops = [o for o in _KMS_OPS if matching_actions(st.actions, st.not_actions, [o])]
                            if ops and ("kms", pattern, "use") not in seen:
                                seen.add(("kms", pattern, "use"))
                                out.setdefault(("kms", pattern), []).append(Intent(
                                    ident.arn, model.account, label, pattern, "use", tuple(ops)))
    return out


def _intents_of(ctx: Ctx, kind: str, target: str) -> list[Intent]:
    idx = ctx.index
    if idx is None:
        return []
    found = idx.lookup("role_targets", "*", lambda: _targets(idx))
    return [i for i in found.get((kind, target), []) if i.account != ctx.account_id]


def _row(ctx: Ctx, i: Intent, target: str) -> dict[str, Any]:
    return {"account_id": ctx.account_id, "target": target, "role_arn": i.role, "role_account_id": i.account,
            "identity_statement": i.statement, "resource_pattern": i.pattern, "access": i.access,
            "actions": list(i.actions)}


def bucket_intents(ctx: Ctx, parent: Parent) -> Iterator[dict[str, Any]]:
    bucket = parent.row["name"]
    policy = parent.item.get("_policy")
    for i in _intents_of(ctx, "s3", bucket):
        row = _row(ctx, i, parent.row["arn"])
        if policy is None:
            yield {**row, "resource_verdict": "unknown", "resource_reason":
                   f"the policy of bucket {bucket} could not be read (see aws_encryption_sync_errors)"}
            continue
        action = "s3:GetObject" if i.access == "read" else "s3:PutObject"
        action = action if action in i.actions else i.actions[0]
        obj = (i.object_key or "object").replace("*", "x").replace("?", "x") or "object"
        d = None
        if policy:
            req = Request(principal=i.role, action=action, resource=f"arn:aws:s3:::{bucket}/{obj}",
                          context={"aws:SecureTransport": "true"})
            d = evaluate_policy(policy, req, kind="resource", owner_account=ctx.account_id)
        verdict = d.verdict if d is not None else "not_allowed"
        statement = None
        if verdict != ALLOW:
            statement = json.dumps({"Sid": "AllowCrossAccountRole", "Effect": "Allow", "Principal": {"AWS": i.role},
                                    "Action": (sorted(set(i.actions) & {"s3:GetObject", "s3:PutObject"})
                                               or list(i.actions)),
                                    "Resource": f"arn:aws:s3:::{bucket}/*"})
        yield {**row, "resource_verdict": verdict, "resource_decided_by": d.decided_by if d else None,
               "resource_reason": d.reason if d else f"bucket {bucket} has no bucket policy: it admits no other "
                                                     f"account",
               "missing_actions": [] if verdict == ALLOW else [action], "fix_statement": statement}


def key_intents(ctx: Ctx, parent: Parent) -> Iterator[dict[str, Any]]:
    arn = parent.row["arn"]
    intents = _intents_of(ctx, "kms", arn)
    if not intents:
        return
    item = parent.item
    policy, grants = item.get("_policy"), item.get("_grants")
    for i in intents:
        row = _row(ctx, i, arn)
        if policy is None or grants is None:
            yield {**row, "resource_verdict": "unknown", "resource_reason":
                   f"the policy or grants of key {arn} could not be read (see aws_encryption_sync_errors)"}
            continue
        worst, missing = key_operations(
            analyze(policy, ctx.account_id), grants, arn, ctx.account_id, i.role, None, i.actions,
            {"kms:ViaService": [f"s3.{ctx.region}.amazonaws.com"], "aws:SecureTransport": "true"})
        statement = None
        if worst.verdict == "not_allowed":
            try:
                statement = json.dumps(json.loads(fix(i.role, arn, missing, via_s3_region=ctx.region).statement_json))
            except ValueError:
                statement = None
        yield {**row, "resource_verdict": worst.verdict, "resource_decided_by": worst.decided_by,
               "resource_reason": worst.reason, "missing_actions": missing, "fix_statement": statement}


def _intent_columns(what: str) -> list[Col]:
    return [Col("account_id", STR, f"The {what}'s account"), Col("target", STR, f"The {what} ARN"),
            Col("role_arn", STR), Col("role_account_id", STR),
            Col("identity_statement", STR, f"The identity policy and statement that names the {what}"),
            Col("resource_pattern", STR, "Its Resource entry, as written"),
            Col("access", STR, "read | write (buckets), use (keys)"),
            Col("actions", STR_LIST, f"What the statement allows on the {what}"),
            Col("resource_verdict", STR, f"The {what} side: allow | deny | not_allowed | depends | unknown (its policy "
                                         f"could not be read)"),
            Col("resource_decided_by", STR, "The statement (or grant) that decided it"),
            Col("resource_reason", STR), Col("missing_actions", STR_LIST, "What it does not allow the role"),
            Col("fix_statement", STR, f"The {what} policy statement that would admit the role (JSON)")]


def _table(what: str, parent: str, admits: str, resolve: Any, prefetch: Any) -> TableDef:
    """The intents table of buckets or keys: same columns, a deferred child of `parent`."""
    return TableDef(
        name=f"{parent[:-1]}_role_intents",
        title=f"aws-encryption {'S3 Bucket' if what == 'bucket' else 'KMS Key'} Role Intents",
        description=f"Roles of other synced accounts whose IAM policies name the {what}, and whether {admits} admits "
                    f"them (ours).",
        columns=_intent_columns(what), pk_components=["target", "role_arn", "access"], api_calls=[], parent=parent,
        resolve=resolve, deferred=True, prefetch=prefetch,
        notes=f"Derived at the end of the sync from every synced account's role policies and {admits}.")


BUCKET_INTENTS = _table("bucket", "aws_s3_buckets", "its bucket policy", bucket_intents, _bucket_prefetch)
KEY_INTENTS = _table("key", "aws_kms_keys", "its key policy or a grant", key_intents, _kms_prefetch)
