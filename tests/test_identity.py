"""plugin.analysis.identity: the identity side of a request (identity-based policies, groups,
permission boundary, SCPs), pure unit tests on hand-built GetAccountAuthorizationDetails answers."""

from __future__ import annotations

import pytest

from plugin.analysis.evaluator import Request
from plugin.analysis.identity import Doc, Guardrails, IdentityModel, evaluate_identity
from plugin.analysis.policy import analyze
from plugin.tables.iam.authorization_details import Details

A, B = "111122223333", "444455556666"
ROLE = f"arn:aws:iam::{A}:role/team/etl"
USER = f"arn:aws:iam::{A}:user/alice"
KEY_A = f"arn:aws:kms:us-east-1:{A}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
KEY_B = f"arn:aws:kms:us-east-1:{B}:key/1234abcd-12ab-34cd-56ef-1234567890ab"


# --- builders -----------------------------------------------------------------------------------

def st(effect: str = "Allow", action: str | list[str] | None = "*", resource: str | list[str] | None = "*",
       sid: str | None = None, condition: dict | None = None, **extra) -> dict:
    """One statement; pass NotAction=/NotResource= (with action=None/resource=None) through `extra`."""
    s: dict = {"Effect": effect, **extra}
    if sid:
        s["Sid"] = sid
    if action is not None:
        s["Action"] = action
    if resource is not None:
        s["Resource"] = resource
    if condition:
        s["Condition"] = condition
    return s


def doc(*statements: dict) -> dict:
    return {"Version": "2012-10-17", "Statement": list(statements)}


def managed(name: str, document: dict | None) -> dict:
    """A `Policies` entry (a local managed policy), its default version holding `document`."""
    versions = [] if document is None else [{"Document": document, "VersionId": "v1", "IsDefaultVersion": True}]
    return {"PolicyName": name, "Arn": parn(name), "DefaultVersionId": "v1", "PolicyVersionList": versions}


def parn(name: str) -> str:
    return f"arn:aws:iam::{A}:policy/{name}"


def role(name: str = "etl", path: str = "/team/", inline: dict[str, dict] | None = None,
         attached: tuple[str, ...] | list[str] = (), boundary: str | None = None) -> dict:
    r = {"RoleName": name, "Path": path, "Arn": f"arn:aws:iam::{A}:role{path}{name}",
         "RolePolicyList": [{"PolicyName": n, "PolicyDocument": d} for n, d in (inline or {}).items()],
         "AttachedManagedPolicies": [{"PolicyName": p, "PolicyArn": parn(p)} for p in attached]}
    if boundary:
        r["PermissionsBoundary"] = {"PermissionsBoundaryArn": parn(boundary), "PermissionsBoundaryType": "Policy"}
    return r


def model(roles=(), users=(), groups=(), policies=()) -> IdentityModel:
    return IdentityModel.build(A, Details(roles=list(roles), users=list(users), groups=list(groups),
                                          policies=list(policies)))


def ask(m: IdentityModel, action: str, resource: str | None, principal: str = ROLE, *,
        resource_account: str | None = None, guardrails: Guardrails | None = None, context: dict | None = None):
    ident = m.find(principal)
    assert ident is not None, principal
    return evaluate_identity(ident, Request(principal=principal, action=action, resource=resource,
                                            context=context or {}),
                             resource_account=resource_account, guardrails=guardrails)


def etl(statement: dict, **kw) -> IdentityModel:
    """The role etl with the single inline policy "p" holding `statement`."""
    return model(roles=[role(inline={"p": doc(statement)})], **kw)


# --- 1-4: statements of an inline policy ---------------------------------------------------------

def test_inline_allow_on_bucket_objects():
    m = model(roles=[role(inline={"read": doc(st(action="s3:GetObject", resource="arn:aws:s3:::bucket/*",
                                                      sid="ReadObjects"))})])
    d = ask(m, "s3:GetObject", "arn:aws:s3:::bucket/data/x.csv")
    assert d.verdict == "allow"
    assert d.decided_by == 'inline policy "read" of role etl, statement "ReadObjects"'
    other = ask(m, "s3:GetObject", "arn:aws:s3:::other/x.csv")
    assert other.verdict == "not_allowed" and other.decided_by is None
    assert "role etl" in other.reason and "s3:GetObject" in other.reason
    assert ask(m, "s3:GetObject", "arn:aws:s3:::bucket").verdict == "not_allowed"   # bucket/* needs a key


def test_not_action():
    m = etl(st(action=None, NotAction="iam:*", sid="AllButIam"))
    d = ask(m, "kms:Decrypt", KEY_A)
    assert d.verdict == "allow" and d.decided_by.endswith('statement "AllButIam"')
    assert ask(m, "iam:CreateUser", f"arn:aws:iam::{A}:user/bob").verdict == "not_allowed"


def test_not_resource():
    m = etl(st(action="s3:*", resource=None, NotResource="arn:aws:s3:::secret/*", sid="NotSecret"))
    d = ask(m, "s3:GetObject", "arn:aws:s3:::public/k")
    assert d.verdict == "allow" and d.decided_by.endswith('statement "NotSecret"')
    assert ask(m, "s3:GetObject", "arn:aws:s3:::secret/k").verdict == "not_allowed"


def test_resource_wildcards():
    m = etl(st(action="kms:Decrypt", resource=f"arn:aws:kms:*:{A}:key/*", sid="Keys"))
    assert ask(m, "kms:Decrypt", KEY_A).verdict == "allow"
    assert ask(m, "kms:Decrypt", KEY_A.replace("us-east-1", "eu-west-3")).verdict == "allow"
    assert ask(m, "kms:Decrypt", KEY_B).verdict == "not_allowed"
    q = etl(st(action="s3:GetObject", resource="arn:aws:s3:::logs-?/*", sid="Q"))
    assert ask(q, "s3:GetObject", "arn:aws:s3:::logs-1/k").decided_by.endswith('statement "Q"')
    assert ask(q, "s3:GetObject", "arn:aws:s3:::logs-12/k").verdict == "not_allowed"


# --- 5, 9: attached managed policies -------------------------------------------------------------

def test_managed_deny_beats_inline_allow():
    m = model(roles=[role(inline={"all": doc(st(sid="Everything"))}, attached=["no-kms"])],
              policies=[managed("no-kms", doc(st("Deny", "kms:*", sid="NoKms")))])
    d = ask(m, "kms:Decrypt", KEY_A)
    assert d.verdict == "deny"
    assert d.decided_by == 'managed policy no-kms, statement "NoKms"'
    assert (ask(m, "s3:GetObject", "arn:aws:s3:::b/k").decided_by
            == 'inline policy "all" of role etl, statement "Everything"')


def test_attached_policy_allows():
    m = model(roles=[role(attached=["reader"])],
              policies=[managed("reader", doc(st(action="s3:Get*", sid="Get"))), managed("unused", doc(st()))])
    d = ask(m, "s3:GetObject", "arn:aws:s3:::b/k")
    assert d.verdict == "allow" and d.decided_by == 'managed policy reader, statement "Get"'
    assert ask(m, "s3:PutObject", "arn:aws:s3:::b/k").verdict == "not_allowed"   # "unused" is not attached


def test_unread_attached_policy_depends():
    m = model(roles=[role(attached=["lost"])], policies=[managed("lost", None)])
    d = ask(m, "s3:GetObject", "arn:aws:s3:::b/k")
    assert d.verdict == "depends"
    assert any(parn("lost") in x for x in d.depends_on) and parn("lost") in d.reason


# --- 6: conditions -----------------------------------------------------------------------------------

@pytest.mark.parametrize("condition, key", [
    ({"StringEquals": {"aws:PrincipalTag/team": "data"}}, "aws:PrincipalTag/team"),
    ({"IpAddress": {"aws:SourceIp": "203.0.113.0/24"}}, "aws:SourceIp"),
    ({"Bool": {"aws:MultiFactorAuthPresent": "true"}}, "aws:MultiFactorAuthPresent"),
])
def test_undecidable_condition_depends(condition, key):
    m = etl(st(action="s3:GetObject", sid="Cond", condition=condition))
    d = ask(m, "s3:GetObject", "arn:aws:s3:::b/k")
    assert d.verdict == "depends"
    assert any(key in x for x in d.depends_on), d.depends_on
    assert d.decided_by == 'inline policy "p" of role etl, statement "Cond"'


def test_resource_account_condition():
    m = etl(st(action="kms:Decrypt", sid="Own", condition={"StringEquals": {"aws:ResourceAccount": A}}))
    assert ask(m, "kms:Decrypt", KEY_A, resource_account=A).verdict == "allow"
    assert ask(m, "kms:Decrypt", KEY_B, resource_account=B).verdict == "not_allowed"


def test_via_service_condition():
    m = etl(st(action="kms:Decrypt", sid="ViaS3",
               condition={"StringLike": {"kms:ViaService": "s3.*.amazonaws.com"}}))
    via = ask(m, "kms:Decrypt", KEY_A, context={"kms:ViaService": "s3.us-east-1.amazonaws.com"})
    assert via.verdict == "allow" and via.decided_by.endswith('statement "ViaS3"')
    assert ask(m, "kms:Decrypt", KEY_A, context={"kms:ViaService": []}).verdict == "not_allowed"   # direct call
    assert ask(m, "kms:Decrypt", KEY_A).verdict == "depends"


# --- 7: groups ---------------------------------------------------------------------------------------

def test_group_policies():
    users = [{"UserName": "alice", "Path": "/", "Arn": USER, "GroupList": ["readers"], "UserPolicyList": []},
             {"UserName": "bob", "Path": "/", "Arn": f"arn:aws:iam::{A}:user/bob", "GroupList": []}]
    group = {"GroupName": "readers", "Path": "/", "Arn": f"arn:aws:iam::{A}:group/readers",
             "GroupPolicyList": [{"PolicyName": "get", "PolicyDocument": doc(st(action="s3:GetObject", sid="G"))}],
             "AttachedManagedPolicies": [{"PolicyName": "kms-use", "PolicyArn": parn("kms-use")}]}
    m = model(users=users, groups=[group], policies=[managed("kms-use", doc(st(action="kms:Decrypt", sid="K")))])
    d = ask(m, "s3:GetObject", "arn:aws:s3:::b/k", USER)
    assert d.verdict == "allow" and d.decided_by == 'inline policy "get" of group readers, statement "G"'
    assert ask(m, "kms:Decrypt", KEY_A, USER).decided_by == 'managed policy kms-use, statement "K"'
    bob = ask(m, "s3:GetObject", "arn:aws:s3:::b/k", f"arn:aws:iam::{A}:user/bob")
    assert bob.verdict == "not_allowed" and "user bob" in bob.reason


# --- 8: permission boundary --------------------------------------------------------------------------

def test_permission_boundary_caps():
    m = model(roles=[role(inline={"all": doc(st(action=["s3:*", "kms:*"], sid="Wide"))}, boundary="s3-only")],
              policies=[managed("s3-only", doc(st(action="s3:*", sid="S3")))])
    d = ask(m, "kms:Decrypt", KEY_A)
    assert d.verdict == "not_allowed"
    assert "permission boundary" in d.source and parn("s3-only") in d.reason
    assert ask(m, "s3:GetObject", "arn:aws:s3:::b/k").verdict == "allow"


def test_boundary_alone_grants_nothing():
    m = model(roles=[role(boundary="s3-only")], policies=[managed("s3-only", doc(st(action="s3:*")))])
    d = ask(m, "s3:GetObject", "arn:aws:s3:::b/k")
    assert d.verdict == "not_allowed" and "IAM policies of role etl" in d.source


def test_unread_boundary_depends():
    m = model(roles=[role(inline={"all": doc(st())}, boundary="lost")])
    d = ask(m, "s3:GetObject", "arn:aws:s3:::b/k")
    assert d.verdict == "depends"
    assert any("permission boundary" in x and parn("lost") in x for x in d.depends_on)


# --- 10: SCPs ----------------------------------------------------------------------------------------

def scp(label: str, *statements: dict) -> Doc:
    return Doc(f"SCP {label}", analyze(doc(*statements), A))


def guardrails(account_scps: list[Doc] | None = None) -> Guardrails:
    full = scp("FullAWSAccess", st(sid="All"))
    deny = scp("deny-foreign-kms", st("Deny", "kms:Decrypt", sid="OwnKeysOnly",
                                      condition={"StringNotEquals": {"aws:ResourceAccount": [A]}}))
    return Guardrails(management_account="999999999999",
                      paths={A: [("r-root", "Root"), ("ou-data", "OU data"), (A, f"account {A}")]},
                      scps={"r-root": [full], "ou-data": [full, deny], A: account_scps if account_scps is not None
                            else [full]})


def test_scp_deny_and_allow():
    m = etl(st(sid="Everything"))
    d = ask(m, "kms:Decrypt", KEY_B, resource_account=B, guardrails=guardrails())
    assert d.verdict == "deny"
    assert d.decided_by == 'SCP deny-foreign-kms, statement "OwnKeysOnly"' and "OU data" in d.source
    ok = ask(m, "kms:Decrypt", KEY_A, resource_account=A, guardrails=guardrails())
    assert ok.verdict == "allow" and ok.decided_by == 'inline policy "p" of role etl, statement "Everything"'


def test_scp_level_without_allow():
    m = etl(st(sid="Everything"))
    d = ask(m, "s3:GetObject", "arn:aws:s3:::b/k", resource_account=A, guardrails=guardrails(account_scps=[]))
    assert d.verdict == "not_allowed" and d.decided_by is None
    assert f"account {A}" in d.source and f"account {A}" in d.reason


def test_management_account_exempt_from_scps():
    g = guardrails(account_scps=[])
    g.management_account = A
    m = etl(st(sid="Everything"))
    assert ask(m, "kms:Decrypt", KEY_B, resource_account=B, guardrails=g).verdict == "allow"


# --- 11: find() --------------------------------------------------------------------------------------

def test_find():
    m = model(roles=[role("ETL-Job")], users=[{"UserName": "alice", "Path": "/ops/",
                                                 "Arn": f"arn:aws:iam::{A}:user/ops/alice"}])
    r = m.find(f"arn:aws:iam::{A}:role/team/ETL-Job")
    assert r is not None and r.kind == "role" and r.name == "ETL-Job"
    assert m.find(f"arn:aws:iam::{A}:role/team/etl-job") is r                   # names: case-insensitive
    assert m.find(f"arn:aws:sts::{A}:assumed-role/ETL-Job/session-1") is r      # a session of the role
    u = m.find(f"arn:aws:iam::{A}:user/ops/alice")
    assert u is not None and u.kind == "user" and u.label == "user alice"
    assert m.find(f"arn:aws:iam::{B}:role/team/ETL-Job") is None
    assert m.find(f"arn:aws:iam::{A}:role/nobody") is None
    assert m.find(f"arn:aws:iam::{A}:user/ETL-Job") is None                     # a role is not a user


# --- suspected bugs ------------------------------------------------------------------------------------

def test_service_linked_role_exempt_from_scps():
    path = "/aws-service-role/elasticmapreduce.amazonaws.com/"
    m = model(roles=[role("AWSServiceRoleForEMR", path=path, inline={"p": doc(st(sid="Everything"))})])
    d = ask(m, "s3:GetObject", "arn:aws:s3:::b/k", f"arn:aws:iam::{A}:role{path}AWSServiceRoleForEMR",
            resource_account=A, guardrails=guardrails(account_scps=[]))
    assert d.verdict == "allow", d.reason


def test_unread_attached_policy_keeps_an_allow_undecided():
    m = model(roles=[role(inline={"all": doc(st(sid="Everything"))}, attached=["lost"])],
              policies=[managed("lost", None)])
    d = ask(m, "kms:Decrypt", KEY_A)
    assert d.verdict == "depends" and any(parn("lost") in x for x in d.depends_on)
