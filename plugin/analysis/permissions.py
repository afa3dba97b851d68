"""Derived tables: who each key policy, grant and bucket policy lets in (ours).

One row per (resource, statement or grant, principal), from `plugin.analysis.policy.analyze`. A wildcard
principal narrowed by a positive `kms:CallerAccount` / `aws:PrincipalAccount` / `aws:SourceAccount`
condition becomes one row per account it admits (the `aws/s3` key: the owner, via S3 only), so
"can account X use this key?" is a join on `principal_account`.

`trust` says why a principal is or is not external: `owner` (the resource's account),
`synced_account` (another account of this sync), `trusted_account` (listed in `trusted_accounts`),
`organization` (a wildcard restricted by `aws:PrincipalOrgID` to the organisation of a synced
account, learnt with DescribeOrganization; another organisation's id is `external`), `external`,
`public`, `service` (an
AWS service principal), `unknown` (a principal whose account can't be derived, e.g. a canonical
user or a wildcard restricted only by network).
"""

from __future__ import annotations

from typing import Any, Iterator

from ..aws.calls import Ctx, Parent
from .policy import Analysis, Principal, Statement, analyze, statement_allows_action
from ..tables.schema import BOOL, INT, JSON, STR, STR_LIST, Col, TableDef

KMS_USE = {
    "allows_decrypt": "kms:Decrypt",
    "allows_encrypt": "kms:Encrypt",
    "allows_generate_data_key": "kms:GenerateDataKey",
    "allows_describe_key": "kms:DescribeKey",
    "allows_create_grant": "kms:CreateGrant",
    "allows_put_key_policy": "kms:PutKeyPolicy",
    "allows_schedule_key_deletion": "kms:ScheduleKeyDeletion",
}
S3_USE = {
    "grants_object_read": "s3:GetObject",
    "grants_object_write": "s3:PutObject",
    "grants_list": "s3:ListBucket",
}

_COMMON = [
    Col("statement_id", STR, "Sid (or #<index> without one) for policies; the grant id for grants"),
    Col("statement_index", INT, "Position of the statement in the policy; NULL for grants"),
    Col("effect", STR, "Allow or Deny"),
    Col("principal_type", STR, "AWS, Service, Federated, CanonicalUser, * or NotPrincipal"),
    Col("principal", STR, "The principal as written (a grant's grantee)"),
    Col("principal_account", STR, "12-digit account the principal belongs to or is narrowed to by conditions"),
    Col("is_public", BOOL, "Admits anyone, with no condition restricting the caller"),
    Col("is_external", BOOL, "Admits an account that is not the owner, not synced and not trusted"),
    Col("trust", STR, "owner | synced_account | trusted_account | organization | external | public | service | "
                      "unknown | unknown_organization (an organisation id that is not one of ours as far as "
                      "the sync learnt, when DescribeOrganization could not be read for every synced account)"),
    Col("actions", STR_LIST, "Action (or the grant's operations as kms:<Operation>) as written"),
    Col("not_actions", STR_LIST, "NotAction as written"),
    Col("via_services", STR_LIST, "kms:ViaService values the statement requires"),
    Col("caller_accounts", STR_LIST, "Accounts the conditions narrow the caller to"),
    Col("conditions", JSON, "Condition block (a grant's Constraints)"),
    Col("policy_error", STR, "Why the policy could not be analysed, when it could not"),
]


def _trust(account: str | None, owner: str, trusted: frozenset[str], principal: Principal | None,
           public: bool) -> str:
    if public:
        return "public"
    if principal is not None and principal.type == "Service":
        return "service"
    if not account:
        return "unknown"
    if account == owner:
        return "owner"
    if account in trusted:
        return "trusted_account"
    return "external"


def _rows_for_statement(st: Statement, owner: str, trusted: frozenset[str], synced: frozenset[str],
                        flags: dict[str, str], resource_ok: Any = None,
                        our_orgs: frozenset[str] = frozenset(), orgs_known: bool = True) -> Iterator[dict[str, Any]]:
    allow = st.effect == "Allow"
    base = {
        "statement_id": st.sid or f"#{st.index}", "statement_index": st.index, "effect": st.effect,
        "actions": st.actions, "not_actions": st.not_actions, "via_services": st.via_services,
        "caller_accounts": st.caller_accounts, "conditions": st.conditions or None, "policy_error": None,
    }
    for name, action in flags.items():
        ok = allow and statement_allows_action(st, action)
        if ok and resource_ok is not None:
            ok = resource_ok(st, action)
        base[name] = ok
    targets: list[tuple[str, str, str | None, Principal | None]] = []
    for p in st.principals:
        if p.is_wildcard and st.caller_accounts:
            targets += [(p.type, p.value, a, p) for a in st.caller_accounts]
        elif p.is_wildcard and not st.is_public and st.external_accounts:
            # narrowed by aws:PrincipalArn / aws:SourceArn to named accounts
            admitted = list(st.external_accounts) + ([owner] if st.reaches_owner else [])
            targets += [(p.type, p.value, a, p) for a in admitted]
        else:
            targets.append((p.type, p.value, p.account, p))
    for p in st.not_principals:
        targets.append(("NotPrincipal", p.value, None, p))
    seen = set()
    for ptype, value, account, p in targets:
        key = (ptype, value, account)
        if key in seen:
            continue
        seen.add(key)
        public = allow and st.is_public and (ptype == "NotPrincipal" or (p is not None and p.is_wildcard)) \
            and not account
        trust = _trust(account, owner, trusted, p if ptype != "NotPrincipal" else None, public)
        if trust == "unknown" and st.org_ids:
            trust = ("organization" if set(st.org_ids) & our_orgs else
                     "external" if orgs_known else "unknown_organization")
        if trust == "trusted_account" and account in synced:
            trust = "synced_account"
        yield {**base, "principal_type": ptype, "principal": value, "principal_account": account,
               "is_public": public, "is_external": allow and trust == "external", "trust": trust}


def policy_rows(policy: str | None, owner: str, trusted: frozenset[str], synced: frozenset[str],
                flags: dict[str, str], resource_ok: Any = None,
                our_orgs: frozenset[str] = frozenset(), orgs_known: bool = True) -> Iterator[dict[str, Any]]:
    if not policy:
        return
    a: Analysis = analyze(policy, owner)
    if not a.ok:
        yield {"statement_id": "", "statement_index": None, "effect": None, "principal_type": None,
               "principal": None, "principal_account": None, "is_public": None, "is_external": None,
               "trust": None, "actions": None, "not_actions": None, "via_services": None,
               "caller_accounts": None, "conditions": None, "policy_error": a.error,
               **{k: None for k in flags}}
    for st in a.statements:
        yield from _rows_for_statement(st, owner, trusted, synced, flags, resource_ok, our_orgs, orgs_known)


def _grant_rows(grants: list[dict[str, Any]], owner: str, trusted: frozenset[str],
                synced: frozenset[str]) -> Iterator[dict[str, Any]]:
    for g in grants:
        grantee = g.get("GranteePrincipal") or g.get("GranteeServicePrincipal") or ""
        service = bool(g.get("GranteeServicePrincipal")) or grantee.endswith(".amazonaws.com")
        account = None
        if grantee.startswith("arn:"):
            parts = grantee.split(":")
            account = parts[4] if len(parts) > 4 and parts[4].isdigit() else None
        elif grantee.isdigit() and len(grantee) == 12:
            account = grantee
        ops = [f"kms:{o}" for o in g.get("Operations") or []]
        trust = "service" if service else _trust(account, owner, trusted, None, False)
        if trust == "trusted_account" and account in synced:
            trust = "synced_account"
        row = {"statement_id": g.get("GrantId"), "statement_index": None, "effect": "Allow",
               "principal_type": "Service" if service else "AWS", "principal": grantee,
               "principal_account": account, "is_public": False, "is_external": trust == "external",
               "trust": trust, "actions": ops, "not_actions": [], "via_services": [], "caller_accounts": [],
               "conditions": g.get("Constraints") or None, "policy_error": None}
        for name, action in KMS_USE.items():
            row[name] = action in ops or (action == "kms:GenerateDataKey" and any(
                o.startswith("kms:GenerateDataKey") for o in ops))
        yield row


def _our_orgs(ctx: Ctx, synced: frozenset[str]) -> dict[str, Any]:
    """`our_orgs`: the organisations of the synced and trusted accounts, as the sync learnt them;
    `orgs_known`: whether every synced account's DescribeOrganization answered (otherwise an
    organisation id that is not among them may still be ours)."""
    if ctx.index is None:
        return {"our_orgs": frozenset(), "orgs_known": False}
    return {"our_orgs": ctx.index.orgs_of(ctx.trusted)[0], "orgs_known": ctx.index.orgs_of(synced)[1]}


def _kms_prefetch(ctx: Ctx, parent: Parent) -> None:
    from ..tables.kms.key_grants import fetch_grants
    from ..tables.kms.key_policies import fetch_policy
    fetch_policy(ctx, parent)
    fetch_grants(ctx, parent)


def _bucket_prefetch(ctx: Ctx, parent: Parent) -> None:
    from ..tables.s3.bucket_policies import fetch_bucket_policy
    fetch_bucket_policy(ctx, parent)


def kms_permissions(ctx: Ctx, parent: Parent) -> Iterator[dict[str, Any]]:
    from ..tables.kms.key_grants import fetch_grants
    from ..tables.kms.key_policies import fetch_policy
    owner = ctx.account_id
    arn = parent.row["arn"]
    synced = ctx.trusted - frozenset(ctx.acc.spec.trusted_accounts)
    for r in policy_rows(fetch_policy(ctx, parent), owner, ctx.trusted, synced, KMS_USE, **_our_orgs(ctx, synced)):
        yield {"key_arn": arn, "source": "key_policy", **r}
    for r in _grant_rows(fetch_grants(ctx, parent) or [], owner, ctx.trusted, synced):
        yield {"key_arn": arn, "source": "grant", **r}


def _object_resource(bucket: str):
    def ok(st: Statement, action: str) -> bool:
        if action == "s3:ListBucket":
            return _covers(st, f"arn:aws:s3:::{bucket}", bucket)
        return _covers(st, f"arn:aws:s3:::{bucket}/some-object", bucket, objects=True)
    return ok


def _covers(st: Statement, target: str, bucket: str, objects: bool = False) -> bool:
    """Does the statement's Resource reach the bucket (or, with objects, some object in it)?"""
    from .policy import action_matches
    if st.not_resources:
        return not any(action_matches(r.replace("arn:aws-cn:", "arn:aws:").replace("arn:aws-us-gov:", "arn:aws:"),
                                      target) for r in st.not_resources)
    for r in st.resources or ["*"]:
        r = r.replace("arn:aws-cn:", "arn:aws:").replace("arn:aws-us-gov:", "arn:aws:")
        if action_matches(r, target):
            return True
        if objects and r.lower().startswith(f"arn:aws:s3:::{bucket.lower()}/"):
            return True  # a prefix such as bucket/reports/* still reaches objects
    return False


def bucket_permissions(ctx: Ctx, parent: Parent) -> Iterator[dict[str, Any]]:
    from ..tables.s3.bucket_policies import fetch_bucket_policy
    synced = ctx.trusted - frozenset(ctx.acc.spec.trusted_accounts)
    for r in policy_rows(fetch_bucket_policy(ctx, parent), ctx.account_id, ctx.trusted, synced, S3_USE,
                         _object_resource(parent.row["name"]), **_our_orgs(ctx, synced)):
        yield {"bucket_arn": parent.row["arn"], "source": "bucket_policy", **r}


KMS_KEY_PERMISSIONS = TableDef(
    name="aws_kms_key_permissions", title="aws-encryption KMS Key Permissions",
    description="Who each key policy statement and grant lets use or manage the key (ours, derived by "
                "plugin.analysis.policy).",
    columns=[Col("account_id", STR), Col("region", STR), Col("key_arn", STR),
             Col("source", STR, "key_policy or grant"), *_COMMON,
             *[Col(n, BOOL, f"An Allow for {a}") for n, a in KMS_USE.items()]],
    pk_components=["key_arn", "source", "statement_id", "principal_type", "principal", "principal_account"],
    # Derived at the end of the sync: whether an account or organisation is ours is only known once every
    # account was opened and answered DescribeOrganization.
    api_calls=[], parent="aws_kms_keys", resolve=kms_permissions, deferred=True, prefetch=_kms_prefetch,
    notes="Derived from the key policy (GetKeyPolicy) and grants (ListGrants); makes no call of its own.",
)

S3_BUCKET_PERMISSIONS = TableDef(
    name="aws_s3_bucket_permissions", title="aws-encryption S3 Bucket Permissions",
    description="Who each bucket policy statement lets read, write or list the bucket (ours, derived by "
                "plugin.analysis.policy).",
    columns=[Col("account_id", STR), Col("bucket_arn", STR), Col("source", STR, "bucket_policy"), *_COMMON,
             *[Col(n, BOOL, f"An Allow for {a} on the bucket's objects" if n != "grants_list" else
                   f"An Allow for {a} on the bucket") for n, a in S3_USE.items()]],
    pk_components=["bucket_arn", "source", "statement_id", "principal_type", "principal", "principal_account"],
    api_calls=[], parent="aws_s3_buckets", resolve=bucket_permissions, deferred=True, prefetch=_bucket_prefetch,
    notes="Derived from the bucket policy (GetBucketPolicy); makes no call of its own.",
)
