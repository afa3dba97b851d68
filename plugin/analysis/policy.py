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
import json
import re
from typing import Any

from .policy_conditions import (_eval_statement, _statement)
from .policy_elements import (Analysis, Principal, Statement, _ACCOUNT_RE, _Malformed, _ORG_OF_OWNER, _parse_op)

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
