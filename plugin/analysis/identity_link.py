"""The third link of a cross-account access path: the principal's own IAM (pure: reads the sync's
Index, no AWS call). For a role or user of another *synced* account that a bucket admits, may it
make the S3 request and the KMS calls S3 makes for it, by its identity policies, permission
boundary and SCPs (plugin/analysis/identity.py)? The verdict goes into aws_s3_bucket_access_paths
beside the bucket and key verdicts; docs/access-paths.md, "The identity side".
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from .evaluator import ALLOW, DENY, DEPENDS, NOT_ALLOWED, Decision, Request
from .identity import evaluate_identity

UNKNOWN, NOT_EVALUATED = "unknown", "not_evaluated"
_RANK = {ALLOW: 0, DEPENDS: 1, NOT_ALLOWED: 2, DENY: 3}


@dataclass
class Link:
    verdict: str                      # allow | deny | not_allowed | depends | unknown | not_evaluated
    decided_by: str | None = None
    depends_on: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)   # actions its IAM does not let it make
    reason: str = ""
    fix: str | None = None            # identity policy statement(s) that would allow them (JSON)
    fix_target: str | None = None     # where the fix goes: "role etl", "permission boundary <ARN>"


def s3_action(access: str, actions: list[str]) -> str:
    """The S3 request the path stands for: GetObject for reads, PutObject for writes (when granted)."""
    want = "s3:GetObject" if access == "read" else "s3:PutObject"
    return want if want in actions or not actions else actions[0]


def identity_link(idx: Any, principal: str, principal_account: str | None, *, request: tuple[str, str],
                  resource_owner: str, kms_requests: list[tuple[str, str, dict[str, Any]]],
                  request_context: dict[str, Any], fix_resource: str) -> Link:
    """The identity verdict for `principal` (a role/user ARN of `principal_account`): its IAM must allow
    `request` (action, resource ARN, in `request_context`, on a resource of `resource_owner`) and each
    of `kms_requests` (action, key ARN, request context). A missing Allow's fix names `fix_resource`."""
    if idx is None or not principal_account:
        return Link(NOT_EVALUATED, reason="not evaluated")
    model = idx.identities_of(principal_account)
    if model is None:
        code = idx.identities_unread.get(principal_account)
        if code:
            return Link(UNKNOWN, reason=f"whether its own IAM policies allow it is unknown: the IAM of account "
                                        f"{principal_account} could not be read ({code})")
        return Link(UNKNOWN, reason=f"whether its own IAM policies allow it is unknown: account {principal_account} "
                                    f"is not synced (or its IAM tables were not selected)")
    ident = model.find(principal)
    if ident is None:
        return Link(NOT_ALLOWED, missing=[request[0], *[k[0] for k in kms_requests]],
                    reason=f"account {principal_account} has no such {principal.split(':')[-1].split('/')[0]} "
                           f"({principal}): deleted, or misspelt in the policy that admits it")
    guard = idx.guardrails
    org_of = idx.org_of
    decisions: list[tuple[str, str, Decision]] = []
    requests = [(request[0], request[1], request_context, resource_owner), *[(a, r, c, _key_account(r))
                                                                             for a, r, c in kms_requests]]
    for action, resource, context, owner in requests:
        ctx = dict(context)
        rorg = org_of(owner) if owner else None
        if rorg:
            ctx["aws:ResourceOrgID"] = [rorg]
        porg = org_of(principal_account)
        if porg:
            ctx["aws:PrincipalOrgID"] = [porg]
        req = Request(principal=ident.arn, action=action, resource=resource, context=ctx)
        decisions.append((action, resource, evaluate_identity(ident, req, resource_account=owner, guardrails=guard)))
    worst = max(decisions, key=lambda d: _RANK[d[2].verdict])[2]
    missing = [a for a, _, d in decisions if d.verdict != ALLOW]
    if worst.verdict == ALLOW:
        by = "; ".join(sorted({d.decided_by or "?" for _, _, d in decisions}))
        return Link(ALLOW, worst.decided_by,
                    reason=f"its IAM policies allow it ({by})" + ("" if guard is not None else _no_scps(idx)))
    reasons = "; ".join(d.reason for _, _, d in decisions if d.verdict != ALLOW)
    deps = sorted({k for _, _, d in decisions for k in d.depends_on})
    fix = target = None
    source = worst.source or ""
    if worst.verdict == NOT_ALLOWED and ("IAM policies" in source or "permission boundary" in source):
        layer = [(a, r) for a, r, d in decisions if d.verdict == NOT_ALLOWED and d.source == source]
        fix = _fix(layer, fix_resource)
        target = ident.label if "IAM policies" in source else f"permission boundary {ident.boundary_arn}"
    return Link(worst.verdict, worst.decided_by, deps, missing, reasons, fix, target)


def _no_scps(idx: Any) -> str:
    err = getattr(idx, "guardrails_error", None)
    return (f" (the organisation's service control policies could not be read: {err})" if err else
            " (service control policies not synced: give the spec an `org` admin to apply them)")


def _key_account(arn: str) -> str | None:
    parts = arn.split(":")
    return parts[4] if len(parts) > 5 and parts[4].isdigit() else None


def _fix(missing: list[tuple[str, str]], resource: str) -> str:
    s3 = sorted({a for a, _ in missing if not a.startswith("kms:")})
    kms = sorted({a for a, _ in missing if a.startswith("kms:")})
    keys = sorted({r for a, r in missing if a.startswith("kms:")})
    statements = []
    if s3:
        statements.append({"Sid": "UseSharedResource" if not s3[0].startswith("s3:") else "ReadWriteSharedBucket",
                           "Effect": "Allow", "Action": s3 if len(s3) > 1 else s3[0], "Resource": resource})
    if kms:
        statements.append({"Sid": "UseSharedBucketKey", "Effect": "Allow", "Action": kms if len(kms) > 1 else kms[0],
                           "Resource": keys if len(keys) > 1 else keys[0]})
    return json.dumps(statements[0] if len(statements) == 1 else statements)
