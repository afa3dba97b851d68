"""aws_iam_kms_decrypt_statements (ours): identity policy statements that allow decryption
(`kms:Decrypt`, `kms:ReEncryptFrom`) on every KMS key, i.e. AWS Security Hub KMS.1 (customer managed
policies) and KMS.2 (inline policies of roles, users and groups), Steampipe's
`kms_key_decryption_restricted_in_iam_*`. Cut from the account's GetAccountAuthorizationDetails
answer (plugin/tables/iam/authorization_details.py); no call of its own.

One row per (policy, statement) that allows one of those actions (wildcards and NotAction counted)
with a Resource covering all keys: `*`, `arn:aws:kms:*:*:*` or `arn:aws:kms:*:*:key/*` (a pattern
that fixes the account or Region is the scoping AWS recommends), or NotResource that excludes no
key. `restricted` is true when the statement has a Condition: the peers accept any condition as a
restriction (kms:ViaService, aws:ResourceTag, kms:EncryptionContext...), and so does the check;
the condition is in the row to judge. AWS managed policies are left out (nobody can change them),
as Security Hub does.
"""

from __future__ import annotations

import re
from typing import Any, Iterator

from ..aws.calls import Ctx, Parent
from ..tables.iam.authorization_details import LISTING, take
from ..tables.schema import BOOL, JSON, STR, STR_LIST, Col, TableDef
from .actions import statement_covers
from .identity import default_document
from .policy import analyze

DECRYPT = ("kms:Decrypt", "kms:ReEncryptFrom")
_SOME_KEY = re.compile(r"^arn:[^:]+:kms:")


def _every_key(pattern: str) -> bool:
    """`*`, or a KMS ARN pattern open in both Region and account (`arn:aws:kms:*:*:key/*`). A pattern
    fixing the account or Region is what AWS recommends instead ("only on keys in a particular Region
    for your account"), so it is not "all keys"."""
    if pattern == "*":
        return True
    parts = pattern.split(":", 5)
    return (len(parts) == 6 and parts[0] == "arn" and parts[2] in ("kms", "*") and parts[3] in ("*", "")
            and parts[4] in ("*", "") and parts[5] in ("*", "key/*"))


def _all_keys(resources: list[str], not_resources: list[str]) -> bool:
    if resources:
        return any(_every_key(r) for r in resources)
    if not_resources:
        return not any(_SOME_KEY.match(r) or r == "*" for r in not_resources)
    return False


def _policies(d: Any) -> Iterator[tuple[str, str, str | None, str, list[str], Any]]:
    """(policy type, name, policy ARN, owner or attachment label, attached to, document)."""
    attached: dict[str, list[str]] = {}
    for kind, items in (("role", d.roles), ("user", d.users), ("group", d.groups)):
        for it in items:
            for a in it.get("AttachedManagedPolicies") or []:
                attached.setdefault(a.get("PolicyArn"), []).append(it.get("Arn"))
            key = {"role": "RolePolicyList", "user": "UserPolicyList", "group": "GroupPolicyList"}[kind]
            for p in it.get(key) or []:
                yield "inline", p.get("PolicyName") or "", None, f"{kind} {it.get('Arn')}", [it.get("Arn")], \
                    p.get("PolicyDocument")
    for p in d.policies:
        arn = p.get("Arn") or ""
        if ":aws:policy/" in arn:
            continue  # AWS managed
        yield "customer_managed", p.get("PolicyName") or "", arn, arn, sorted(attached.get(arn, [])), \
            default_document(p)


def kms_statements(ctx: Ctx, parent: Parent | None) -> Iterator[dict[str, Any]]:
    d = take(ctx)
    if d is None:
        return
    for ptype, name, arn, owner, attached_to, doc in _policies(d):
        a = analyze(doc, ctx.account_id)
        for st in a.statements:
            if st.effect != "Allow":
                continue
            acts = [x for x in DECRYPT if statement_covers(st.actions, st.not_actions, x)]
            if not acts or not _all_keys(st.resources, st.not_resources):
                continue
            yield {"account_id": ctx.account_id, "policy_type": ptype, "policy_name": name, "policy_arn": arn,
                   "owner": owner, "attached_to": attached_to, "statement_id": st.sid or f"#{st.index}",
                   "actions": acts, "resources": st.resources or [f"NotResource: {r}" for r in st.not_resources],
                   "conditions": st.conditions or None, "restricted": bool(st.conditions)}


KMS_DECRYPT_STATEMENTS = TableDef(
    name="aws_iam_kms_decrypt_statements", title="aws-encryption IAM Statements Allowing Decrypt on All Keys",
    description="Identity policy statements allowing kms:Decrypt or kms:ReEncryptFrom on every key (ours).",
    columns=[Col("account_id", STR), Col("policy_type", STR, "customer_managed | inline"), Col("policy_name", STR),
             Col("policy_arn", STR, "The managed policy (NULL for an inline one)"),
             Col("owner", STR, "The managed policy ARN, or 'role|user|group <ARN>' holding the inline policy"),
             Col("attached_to", STR_LIST, "The roles, users and groups it applies to"),
             Col("statement_id", STR, "Sid, or #<index>"), Col("actions", STR_LIST, "Decrypt actions it allows"),
             Col("resources", STR_LIST, "Resource as written (NotResource prefixed)"),
             Col("conditions", JSON, "Its Condition block"), Col("restricted", BOOL, "Has a Condition")],
    pk_components=["account_id", "policy_name", "owner", "statement_id"], api_calls=[LISTING], scope="account",
    listing=LISTING, every_shard=True, resolve=kms_statements,
    to_row=lambda ctx, item, parent: dict(item),
    notes="Cut from the IAM tables' GetAccountAuthorizationDetails answer (one call per account for all of them).",
)
