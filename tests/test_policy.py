"""plugin.analysis.policy: resource-policy analysis, one test (or parametrized case) per rule of the module
docstring, each on a real policy document from tests/policies/ (its origin is in its "_source").

Accounts used by the documents: 111122223333 / 123412341234 / 123456789012 own the resource in the
AWS / seed / Prowler+Custodian examples; 444455556666 is the usual "other account".
"""

from __future__ import annotations

import copy
import json
import random
from pathlib import Path

import pytest

from plugin.analysis.policy import Analysis, Principal, Statement, action_matches, admits_account, analyze, statement_allows_action, statement_allows_via_service

POLICIES = Path(__file__).parent / "policies"
AWS_DOCS = "111122223333"
SEED = "123412341234"
SUITES = "123456789012"
OTHER = "444455556666"
STRANGER = "999988887777"


def load(name: str) -> dict:
    return json.loads((POLICIES / f"{name}.json").read_text())


def run(name: str, owner: str) -> Analysis:
    a = analyze(load(name), owner)
    assert isinstance(a, Analysis)
    return a


def by_sid(a: Analysis, sid: str) -> Statement:
    return next(st for st in a.statements if st.sid == sid)


def test_every_fixture_names_its_source_and_is_analysable():
    files = sorted(POLICIES.glob("*.json"))
    assert len(files) >= 40
    for f in files:
        doc = json.loads(f.read_text())
        assert doc.get("_source"), f.name
        a = analyze(doc, AWS_DOCS)
        assert a.ok, (f.name, a.error)


# ---------------------------------------------------------------------------------------------
# kms:CallerAccount and kms:ViaService, as AWS documents them (seed + AWS managed keys)
# ---------------------------------------------------------------------------------------------

def test_seed_aws_s3_key_admits_its_own_account_only_through_s3():
    a = run("aws-managed-s3", SEED)
    assert a.ok and a.error is None
    assert a.is_public is False
    assert a.external_accounts == []
    via_s3, metadata = a.statements
    assert via_s3.principals == [Principal("AWS", "*", None, True)]
    assert via_s3.caller_accounts == [SEED]
    assert via_s3.via_services == ["s3.us-east-1.amazonaws.com"]
    assert via_s3.restricting_keys == ["kms:CallerAccount"]
    assert via_s3.is_public is False and via_s3.reaches_owner is True and via_s3.external_accounts == []
    assert admits_account(via_s3, SEED) is True
    assert admits_account(via_s3, OTHER) is False          # the aws/s3 cross-account AccessDenied (docs/key-types.md)
    assert statement_allows_via_service(via_s3, "s3.us-east-1.amazonaws.com") is True
    assert statement_allows_via_service(via_s3, "s3.eu-west-1.amazonaws.com") is False
    assert statement_allows_via_service(via_s3, None) is False   # no direct use of the key
    assert metadata.principals == [Principal("AWS", "arn:aws:iam::123412341234:root", SEED, False)]
    assert statement_allows_action(metadata, "kms:DescribeKey") and not statement_allows_action(metadata, "kms:Decrypt")


def test_calleraccount_of_another_account_is_external():
    # the same aws/s3 document, read as if the key belonged to someone else
    a = run("aws-managed-s3", STRANGER)
    assert a.is_public is False
    assert a.external_accounts == [SEED]
    assert a.statements[0].reaches_owner is False


@pytest.mark.parametrize("name,service", [
    ("aws-managed-ebs", "ec2.us-east-1.amazonaws.com"),
    ("aws-managed-rds", "rds.us-east-1.amazonaws.com"),
    ("aws-managed-secretsmanager", "secretsmanager.us-west-2.amazonaws.com"),
])
def test_aws_managed_key_policies_admit_only_their_account(name, service):
    a = run(name, AWS_DOCS)
    assert a.ok and not a.is_public and a.external_accounts == []
    assert all(st.reaches_owner for st in a.statements)
    wildcard = [st for st in a.statements if any(p.is_wildcard for p in st.principals)]
    assert wildcard and all(st.caller_accounts == [AWS_DOCS] for st in wildcard)
    assert all(st.via_services == [service] for st in wildcard)
    assert all(not admits_account(st, OTHER) for st in a.statements)
    assert all(statement_allows_via_service(st, service) for st in wildcard)
    assert not any(statement_allows_via_service(st, "s3.us-east-1.amazonaws.com") for st in wildcard)


def test_calleraccount_values_are_ored():
    a = run("kms-calleraccount-two-accounts", AWS_DOCS)
    st = a.statements[0]
    assert st.principals == [Principal("*", "*", None, True)]
    assert st.caller_accounts == [AWS_DOCS, OTHER]
    assert a.is_public is False and a.external_accounts == [OTHER]
    assert admits_account(st, AWS_DOCS) and admits_account(st, OTHER) and not admits_account(st, STRANGER)


def test_kms_calleraccount_doc_example():
    assert run("kms-calleraccount", AWS_DOCS).external_accounts == []
    a = run("kms-calleraccount", OTHER)
    assert a.external_accounts == [AWS_DOCS] and not a.is_public


def test_conditions_are_anded_and_negated_account_excludes():
    a = run("kms-calleraccount-negated", AWS_DOCS)
    minus_one, impossible = a.statements
    assert minus_one.external_accounts == [] and minus_one.reaches_owner
    assert minus_one.caller_accounts == [AWS_DOCS]                     # 4444... taken out again
    assert not admits_account(minus_one, OTHER)
    # kms:CallerAccount 1111... AND aws:PrincipalAccount 4444...: nobody
    assert impossible.external_accounts == [] and impossible.reaches_owner is False
    assert impossible.caller_accounts == [] and not impossible.is_public
    assert impossible.restricting_keys == ["aws:PrincipalAccount", "kms:CallerAccount"]


def test_viaservice_alone_does_not_restrict_who_the_caller_is():
    a = run("kms-viaservice", AWS_DOCS)
    st = a.statements[0]
    assert st.via_services == ["ec2.us-west-2.amazonaws.com", "rds.us-west-2.amazonaws.com"]
    assert st.restricting_keys == []
    assert st.principals[0].account == AWS_DOCS and not a.is_public and a.external_accounts == []
    assert statement_allows_via_service(st, "rds.us-west-2.amazonaws.com")
    assert not statement_allows_via_service(st, "s3.us-west-2.amazonaws.com")
    assert not statement_allows_via_service(st, None)


def test_viaservice_stringlike_is_matched_as_a_pattern():
    a = run("aws-managed-secretsmanager", AWS_DOCS)
    st = a.statements[1]
    assert st.conditions["StringLike"]["kms:ViaService"] == ["secretsmanager.us-west-2.amazonaws.com"]
    assert statement_allows_via_service(st, "SECRETSMANAGER.us-west-2.amazonaws.com")


# ---------------------------------------------------------------------------------------------
# Customer managed key policies: default, a sample customer managed key policy, cross-account (KMS developer guide)
# ---------------------------------------------------------------------------------------------

def test_default_key_policy_console():
    a = run("kms-default-key-policy-console", AWS_DOCS)
    assert a.ok and not a.is_public and a.external_accounts == []
    root, admins, users, grants = a.statements
    assert [st.sid for st in a.statements] == ["Enable IAM User Permissions", "Allow access for Key Administrators",
                                                "Allow use of the key", "Allow attachment of persistent resources"]
    assert root.principals == [Principal("AWS", "arn:aws:iam::111122223333:root", AWS_DOCS, False)]
    assert admins.principals[0].account == AWS_DOCS and users.principals[0].account == AWS_DOCS
    assert all(st.reaches_owner and st.effect == "Allow" for st in a.statements)
    # kms:GrantIsForAWSResource says nothing about who the caller is
    assert grants.conditions == {"Bool": {"kms:GrantIsForAWSResource": ["true"]}}
    assert grants.restricting_keys == [] and grants.external_accounts == []
    assert statement_allows_action(root, "kms:ScheduleKeyDeletion")
    assert statement_allows_action(admins, "kms:ScheduleKeyDeletion") and not statement_allows_action(admins, "kms:Decrypt")
    assert statement_allows_action(users, "kms:GenerateDataKeyWithoutPlaintext")
    assert statement_allows_action(grants, "kms:CreateGrant") and not statement_allows_action(grants, "kms:Encrypt")


def test_default_key_policy_api_root_means_the_account():
    a = run("kms-default-key-policy-api", AWS_DOCS)
    st = a.statements[0]
    assert st.actions == ["kms:*"] and st.resources == ["*"]
    assert st.principals[0] == Principal("AWS", "arn:aws:iam::111122223333:root", AWS_DOCS, False)
    assert admits_account(st, AWS_DOCS) and not admits_account(st, OTHER)
    assert run("kms-default-key-policy-api", OTHER).external_accounts == [AWS_DOCS]


def test_seed_sample_cmk_role_belongs_to_its_account():
    a = run("seed-sample-cmk", SEED)
    assert a.ok and not a.is_public and a.external_accounts == []
    role = a.statements[1].principals[0]
    assert role == Principal("AWS", "arn:aws:iam::123412341234:role/cloudquery-role", SEED, False)
    assert a.statements[2].conditions["Bool"]["kms:GrantIsForAWSResource"] == ["true"]


def test_kms_cross_account_use_and_grants():
    a = run("kms-cross-account", AWS_DOCS)
    assert a.ok and not a.is_public
    assert a.external_accounts == [OTHER]
    root, use, grants = a.statements
    assert root.external_accounts == [] and root.reaches_owner
    assert [p.account for p in use.principals] == [OTHER, OTHER]
    assert use.external_accounts == [OTHER] and use.reaches_owner is False
    assert grants.conditions == {"Bool": {"kms:GrantIsForAWSResource": ["true"]}}   # JSON true listified
    assert admits_account(use, OTHER) and not admits_account(use, STRANGER)
    assert statement_allows_action(grants, "kms:CreateGrant") and not statement_allows_action(grants, "kms:Decrypt")


def test_principal_orgid_restricts_but_names_no_account():
    a = run("kms-principalorgid", AWS_DOCS)
    st = a.statements[1]
    assert not a.is_public and a.external_accounts == []
    assert st.restricting_keys == ["aws:PrincipalOrgID"] and st.org_ids == ["o-a1b2c3d4e5"]
    assert st.reaches_owner is True
    assert admits_account(st, STRANGER) is True                      # cannot exclude without the org
    assert admits_account(st, STRANGER, org_id="o-a1b2c3d4e5") is True
    assert admits_account(st, STRANGER, org_id="o-zzzzzzzzzz") is False


def test_principal_arn_account_field():
    a = run("kms-principalarn", AWS_DOCS)
    _, analytics, any_reader = a.statements
    assert analytics.restricting_keys == ["aws:PrincipalArn"]
    assert analytics.external_accounts == [OTHER] and not analytics.is_public and not analytics.reaches_owner
    assert any_reader.is_public                                     # arn:aws:iam::*:role/Reader
    assert a.is_public and a.external_accounts == [OTHER]


# ---------------------------------------------------------------------------------------------
# S3 user guide examples
# ---------------------------------------------------------------------------------------------

def test_s3_cross_account_bucket_policy():
    a = run("s3-cross-account-bucket", AWS_DOCS)
    assert not a.is_public and a.external_accounts == [OTHER]
    assert a.statements[0].actions == ["s3:GetLifecycleConfiguration", "s3:ListBucket"]
    assert a.statements[0].resources == ["arn:aws:s3:::amzn-s3-demo-bucket"]


def test_s3_public_read():
    a = run("s3-public-read", AWS_DOCS)
    st = a.statements[0]
    assert a.is_public and st.is_public and st.reaches_owner and a.external_accounts == []
    assert st.principals == [Principal("*", "*", None, True)]
    assert admits_account(st, STRANGER)


def test_cloudfront_oac_service_principal_with_source_arn():
    a = run("s3-cloudfront-oac", AWS_DOCS)
    st = a.statements[0]
    assert st.index == 0 and st.sid == "AllowCloudFrontServicePrincipalReadOnly"   # single-object Statement
    assert st.principals == [Principal("Service", "cloudfront.amazonaws.com", None, False)]
    assert st.restricting_keys == ["aws:SourceArn"]                 # written "AWS:SourceArn"
    assert not a.is_public and st.reaches_owner and a.external_accounts == []
    # the same bucket policy on a bucket of another account: the distribution's account is external
    assert run("s3-cloudfront-oac", OTHER).external_accounts == [AWS_DOCS]


def test_sourcevpce_restricts_and_vpce_wildcard_does_not():
    a = run("s3-vpce-allow", AWS_DOCS)
    specific, wildcard = a.statements
    assert specific.restricting_keys == ["aws:SourceVpce"] and not specific.is_public
    assert wildcard.is_public and a.is_public


def test_sourcevpce_deny_statement_is_not_public():
    a = run("s3-vpce-deny", AWS_DOCS)
    st = a.statements[0]
    assert st.effect == "Deny" and not st.is_public and not st.reaches_owner and st.external_accounts == []
    assert not a.is_public and not admits_account(st, AWS_DOCS)


def test_s3_principal_orgid_example():
    a = run("s3-principalorgid", AWS_DOCS)
    assert not a.is_public and a.external_accounts == []
    assert a.statements[0].org_ids == ["o-aa111bb222"]


def test_deny_insecure_transport_adds_nothing():
    a = run("s3-deny-insecure-transport", AWS_DOCS)
    allow, deny = a.statements
    assert deny.effect == "Deny" and deny.principals == [Principal("*", "*", None, True)]
    assert deny.conditions == {"Bool": {"aws:SecureTransport": ["false"]}}
    assert not deny.is_public and deny.external_accounts == [] and not deny.reaches_owner
    assert allow.principals[0].account == OTHER
    assert not a.is_public and a.external_accounts == [OTHER]


def test_elb_log_delivery_account_and_service_principal():
    a = run("elb-log-delivery", AWS_DOCS)
    legacy, service = a.statements
    assert legacy.external_accounts == ["127311923021"]             # the ELB account is another account
    assert service.principals[0].type == "Service" and service.principals[0].account is None
    assert not service.is_public and service.external_accounts == [] and not service.reaches_owner
    assert not a.is_public and a.external_accounts == ["127311923021"]


def test_server_access_logging_service_with_source_account():
    a = run("s3-server-access-logging", AWS_DOCS)
    st = a.statements[0]
    assert st.restricting_keys == ["aws:SourceAccount", "aws:SourceArn"]
    assert st.caller_accounts == [AWS_DOCS] and st.reaches_owner and st.external_accounts == []
    assert run("s3-server-access-logging", OTHER).external_accounts == [AWS_DOCS]


def test_nlb_log_delivery_source_account_and_source_arn_are_anded():
    a = run("nlb-delivery-logs", AWS_DOCS)
    assert not a.is_public and a.external_accounts == [OTHER]
    for st in a.statements:
        assert st.caller_accounts == [OTHER] and not st.reaches_owner
        assert admits_account(st, OTHER) and not admits_account(st, AWS_DOCS)


def test_sourceip_range_restricts_and_notipaddress_does_not():
    a = run("s3-ip-allow", AWS_DOCS)
    st = a.statements[0]
    assert st.restricting_keys == ["aws:SourceIp"] and not a.is_public
    assert run("s3-negated-notipaddress", AWS_DOCS).is_public


@pytest.mark.parametrize("index", [0, 1])
def test_sourceip_covering_all_addresses_is_public(index):
    a = run("s3-ip-anywhere", SUITES)
    assert a.statements[index].is_public and a.statements[index].restricting_keys == []


def test_referer_is_not_a_restriction():
    assert run("s3-referer", AWS_DOCS).is_public


def test_access_point_delegation():
    a = run("s3-access-point-delegation", AWS_DOCS)
    st = a.statements[0]
    assert st.restricting_keys == ["s3:DataAccessPointAccount"] and st.caller_accounts == []
    assert not a.is_public and st.reaches_owner and a.external_accounts == []
    assert run("s3-access-point-delegation", OTHER).external_accounts == [AWS_DOCS]


def test_sns_default_policy_source_owner():
    a = run("sns-default-topic-policy", AWS_DOCS)
    st = a.statements[0]
    assert st.restricting_keys == ["aws:SourceOwner"] and st.caller_accounts == [AWS_DOCS]
    assert not a.is_public and a.external_accounts == [] and st.reaches_owner
    assert statement_allows_action(st, "sns:publish")                 # action names are case-insensitive


# ---------------------------------------------------------------------------------------------
# Principal forms (IAM user guide) and peers' test suites
# ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("sid,expected,external", [
    ("AccountId", [("AWS", "123456789012", False)], ["123456789012"]),
    ("AccountRoot", [("AWS", "123456789012", False), ("AWS", OTHER, False)], ["123456789012", OTHER]),
    ("Role", [("AWS", OTHER, False)], [OTHER]),
    ("User", [("AWS", OTHER, False)], [OTHER]),
    ("AssumedRole", [("AWS", OTHER, False)], [OTHER]),
    ("FederatedUser", [("AWS", OTHER, False)], [OTHER]),
    ("Saml", [("Federated", OTHER, False)], [OTHER]),
    ("Cognito", [("Federated", None, True)], []),
    ("Google", [("Federated", None, True)], []),
    ("CanonicalUser", [("CanonicalUser", None, False)], []),
    ("Service", [("Service", None, False), ("Service", None, False)], []),
    ("UniqueId", [("AWS", None, False)], []),
    ("GovCloudPartition", [("AWS", "777788889999", False)], ["777788889999"]),
])
def test_principal_forms(sid, expected, external):
    a = run("iam-principal-forms", AWS_DOCS)
    st = by_sid(a, sid)
    assert [(p.type, p.account, p.is_wildcard) for p in st.principals] == expected
    assert st.external_accounts == external
    assert st.is_public is (sid in ("Cognito", "Google"))             # web identities: anyone with a token


def test_web_identity_restricted_by_audience():
    a = run("cognito-web-identity", AWS_DOCS)
    pool, any_pool = a.statements
    assert pool.restricting_keys == ["cognito-identity.amazonaws.com:aud"] and not pool.is_public
    assert any_pool.is_public                                        # amr "authenticated" says whose? anyone's


@pytest.mark.parametrize("index", range(5))
def test_prowler_wildcard_principals_are_public(index):
    a = run("prowler-public-principals", SUITES)
    assert a.statements[index].is_public
    assert any(p.is_wildcard for p in a.statements[index].principals)


def test_bare_string_principal_is_typed_with_a_warning():
    a = run("prowler-public-principals", SUITES)
    assert a.ok
    assert a.statements[1].principals == [Principal("AWS", "arn:aws:iam::*:root", None, True)]
    assert any("bare string" in w for w in a.warnings)


@pytest.mark.parametrize("sid", ["AllOrgs", "OrgAndAllOrgs", "OrgPrefixWildcard"])
def test_wildcard_org_values_do_not_restrict(sid):
    st = by_sid(run("prowler-orgid-wildcard", SUITES), sid)
    assert st.is_public and st.restricting_keys == [] and st.org_ids == []


def test_source_org_id_with_service_principal():
    st = by_sid(run("prowler-orgid-wildcard", SUITES), "test")
    assert not st.is_public and st.restricting_keys == ["aws:SourceOrgID"] and st.org_ids == ["o-123456"]


def test_ifexists_does_not_restrict():
    a = run("prowler-ifexists", SUITES)
    owner_only, if_exists = a.statements
    assert not owner_only.is_public and owner_only.restricting_keys == ["aws:SourceOwner"]
    assert if_exists.is_public and if_exists.restricting_keys == []
    # the IfExists value still names an account the statement admits (among everyone), but it
    # narrows nothing, so it is no caller account
    assert if_exists.external_accounts == [OTHER] and if_exists.caller_accounts == []
    assert a.is_public


def test_object_as_condition_value_is_ignored_with_a_warning():
    a = run("prowler-nested-dict-condition", SUITES)
    assert a.ok and not a.is_public
    assert a.statements[0].conditions["StringEqualsIfExists"]["aws:SourceVpce"] == []
    assert any("not a condition value" in w for w in a.warnings)


def test_custodian_s3_policies():
    a = run("custodian-s3-policies", SUITES)
    assert a.ok and not a.is_public
    two_roots = by_sid(a, "PrincipalInvalid")
    assert two_roots.external_accounts == ["234567890123"] and two_roots.reaches_owner
    five_field_arn = by_sid(a, "SourceArnLikeInvalid")              # arn:aws:sns:us-east-1:234567890123
    assert five_field_arn.external_accounts == ["234567890123"] and not five_field_arn.is_public
    lower_case_key = by_sid(a, "SourceArnEqualsValid")              # "aws:sourcearn"
    assert lower_case_key.restricting_keys == ["aws:SourceArn"] and lower_case_key.external_accounts == []
    invalid_operator = by_sid(a, "ForAllValuesInvalid")
    assert invalid_operator.principals[0].account == SUITES
    assert any("unknown condition operator 'ForAllValues'" in w for w in a.warnings)
    ten_digit = by_sid(a, "PutHotDog")                              # 10-digit "accounts" are no account
    assert [p.account for p in ten_digit.principals] == [None, None]
    assert ten_digit.external_accounts == [] and not ten_digit.reaches_owner
    source_vpc = by_sid(a, "SourceVpcEqualsValid")                 # "aws:sourceVpc"
    assert source_vpc.restricting_keys == ["aws:SourceVpc"] and not source_vpc.is_public
    assert a.external_accounts == ["234567890123"]


def test_principal_account_condition_names_an_external_account():
    a = run("iam-principalaccount", AWS_DOCS)
    st = a.statements[0]
    assert st.restricting_keys == ["aws:PrincipalAccount"] and st.caller_accounts == ["123456789012"]
    assert not a.is_public and a.external_accounts == ["123456789012"] and not st.reaches_owner
    assert admits_account(st, "123456789012") and not admits_account(st, AWS_DOCS)


def test_custodian_data_access_points_with_messy_elements():
    a = run("custodian-data-access-point", SUITES)
    assert a.ok and not a.is_public
    account, arn = a.statements
    assert account.principals == [Principal("*", "*", None, True)]   # "Principal": ["*"]
    assert account.actions == [] and account.external_accounts == ["444456789012"]
    assert arn.restricting_keys == ["s3:DataAccessPointArn"] and arn.reaches_owner and arn.external_accounts == []
    assert any("unknown element 'Actions'" in w for w in a.warnings)


def test_notprincipal_with_allow_is_public():
    a = run("custodian-sqs-notprincipal", "221800032964")
    deny, allow = a.statements
    assert allow.not_principals == [Principal("AWS", "90120", None, False)] and allow.principals == []
    assert allow.is_public and a.is_public and a.external_accounts == []
    assert not deny.is_public                                       # Deny Principal * adds nothing


def test_notprincipal_with_deny_admits_nobody():
    a = run("iam-notprincipal-deny", AWS_DOCS)
    st = a.statements[0]
    assert [p.account for p in st.not_principals] == [OTHER, OTHER]
    assert not a.is_public and a.external_accounts == [] and not st.reaches_owner
    assert not admits_account(st, OTHER)


def test_accounts_in_deny_negated_conditions_are_not_external():
    a = run("s3-userid-role-only", "111111111111")
    st = a.statements[0]
    assert st.conditions["StringNotLike"]["aws:userId"] == ["AROAEXAMPLEID:*", "AIDAEXAMPLEID", "111111111111"]
    assert a.external_accounts == [] and not a.is_public
    assert run("s3-userid-role-only", OTHER).external_accounts == []


def test_userid_unique_id_restricts_and_wildcard_userid_does_not():
    a = run("mdaa-userid-allow", AWS_DOCS)
    role, anyone = a.statements
    assert role.restricting_keys == ["aws:userid"] and not role.is_public and role.external_accounts == []
    assert anyone.is_public


def test_orgpaths_foranyvalue_restricts_forallvalues_does_not():
    a = run("orgpaths", AWS_DOCS)
    ou, all_values = a.statements
    assert ou.restricting_keys == ["aws:PrincipalOrgPaths"] and ou.org_ids == ["o-a1b2c3d4e5"] and not ou.is_public
    assert admits_account(ou, OTHER, org_id="o-a1b2c3d4e5") and not admits_account(ou, OTHER, org_id="o-other")
    assert all_values.is_public and all_values.restricting_keys == []


@pytest.mark.parametrize("sid", ["ResourceAccount", "S3ResourceAccount", "UserAgent", "Prefix", "PrincipalTag", "NotMyOrg",
                                 "UnknownKeyAwsArn"])
def test_keys_that_say_nothing_about_the_caller_do_not_restrict(sid):
    a = run("not-caller-keys", AWS_DOCS)
    st = by_sid(a, sid)
    assert st.is_public and st.restricting_keys == [] and st.external_accounts == []


def test_resource_account_and_org_policy_variables():
    a = run("resource-account-variable", AWS_DOCS)
    same_account = by_sid(a, "SameAccount")
    assert not same_account.is_public and same_account.caller_accounts == [AWS_DOCS]
    assert admits_account(same_account, AWS_DOCS) and not admits_account(same_account, OTHER)
    same_org = by_sid(a, "SameOrg")
    assert not same_org.is_public and same_org.org_ids == ["${aws:ResourceOrgID}"]
    assert admits_account(same_org, OTHER, org_id="o-anything")    # the owner's org is not known here
    assert by_sid(a, "Tautology").is_public                         # ${aws:PrincipalAccount} matches anyone


def test_elements_operators_and_keys_are_case_insensitive():
    lower = run("case-insensitive-elements", SEED)
    proper = run("aws-managed-s3", SEED)
    assert lower.ok and not lower.is_public and lower.external_accounts == []
    st, deny = lower.statements
    assert st.effect == "Allow" and deny.effect == "Deny"
    assert st.principals == proper.statements[0].principals
    assert st.caller_accounts == [SEED] and st.via_services == ["s3.us-east-1.amazonaws.com"]
    assert st.restricting_keys == ["kms:CallerAccount"]
    assert not admits_account(st, OTHER)
    assert analyze(load("case-insensitive-elements"), STRANGER).external_accounts == [SEED]


# ---------------------------------------------------------------------------------------------
# Actions
# ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("pattern,action,expected", [
    ("kms:*", "kms:Decrypt", True),
    ("kms:Get*", "KMS:getkeypolicy", True),
    ("kms:Get*", "s3:GetObject", False),
    ("*", "s3:GetObject", True),
    ("s3:Get?bject", "s3:GetObject", True),
    ("s3:GetObject", "s3:GetObjectAcl", False),
    ("kms:ReEncrypt*", "kms:ReEncryptFrom", True),
    ("s3:*Object", "s3:PutObject", True),
    ("s3:*Object", "s3:PutObjectAcl", False),
    ("s3:Get.bject", "s3:GetObject", False),          # regex characters are literal
    ("sqs:*", "kms:Decrypt", False),
])
def test_action_matches(pattern, action, expected):
    assert action_matches(pattern, action) is expected


def test_action_matches_non_strings():
    assert action_matches(None, "kms:Decrypt") is False  # type: ignore[arg-type]
    assert action_matches("kms:*", 3) is False           # type: ignore[arg-type]


def test_notaction_means_everything_except():
    a = run("power-user-access", AWS_DOCS)
    assert a.ok and not a.is_public and a.external_accounts == []   # identity policy: no principal
    everything_but, some_iam = a.statements
    assert everything_but.not_actions == ["iam:*", "organizations:*", "account:*"] and everything_but.actions == []
    assert statement_allows_action(everything_but, "s3:GetObject")
    assert not statement_allows_action(everything_but, "IAM:CreateUser")
    assert statement_allows_action(some_iam, "iam:ListRoles") and not statement_allows_action(some_iam, "iam:CreateUser")
    assert any("no Principal or NotPrincipal" in w for w in a.warnings)


def test_statement_allows_action_is_independent_of_effect():
    deny = run("s3-deny-insecure-transport", AWS_DOCS).statements[1]
    assert statement_allows_action(deny, "s3:PutObject") and not admits_account(deny, AWS_DOCS)


# ---------------------------------------------------------------------------------------------
# Input forms, malformed policies, robustness
# ---------------------------------------------------------------------------------------------

def test_string_bytes_bom_and_double_encoded_inputs_agree():
    doc = load("kms-cross-account")
    text = json.dumps(doc)
    expected = analyze(doc, AWS_DOCS)
    for form in (text, text.encode(), b"\xef\xbb\xbf" + text.encode(), bytearray(text.encode()), json.dumps(text)):
        a = analyze(form, AWS_DOCS)
        assert (a.ok, a.is_public, a.external_accounts) == (expected.ok, expected.is_public, expected.external_accounts)
        assert a.statements == expected.statements
    assert any("decoded twice" in w for w in analyze(json.dumps(text), AWS_DOCS).warnings)


def _mutated(name: str, mutate) -> dict:
    doc = copy.deepcopy(load(name))
    mutate(doc)
    return doc


def _st(i: int, **changes):
    def mutate(doc):
        st = doc["Statement"][i]
        for k, v in changes.items():
            if v is _DELETE:
                del st[k]
            else:
                st[k] = v
    return mutate


_DELETE = object()


@pytest.mark.parametrize("policy,reason", [
    (None, "no policy document"),
    ("", "not valid JSON"),
    ("{\"Version\": \"2012-10-17\", \"Statement\": [", "not valid JSON"),
    (b"\xff\xfe{}", "not valid JSON"),
    ("[]", "must be a JSON object"),
    ("42", "must be a JSON object"),
    (["Statement"], "must be a JSON object"),
    ({"Version": "2012-10-17"}, "no Statement"),
    ({"Version": "2012-10-17", "Statement": "Allow"}, "Statement must be an object or a list"),
    ({"Version": "2012-10-17", "Statement": 7}, "Statement must be an object or a list"),
    ({"Version": "2012-10-17", "Statement": []}, "Statement is empty"),
])
def test_malformed_documents(policy, reason):
    a = analyze(policy, AWS_DOCS)
    assert a.ok is False and reason in a.error
    assert a.statements == [] and a.is_public is False and a.external_accounts == []


@pytest.mark.parametrize("mutate,reason", [
    (_st(1, Effect=_DELETE), "statement 1: missing Effect"),
    (_st(1, Effect="Permit"), "Effect must be Allow or Deny"),
    (_st(1, Effect=1), "Effect must be Allow or Deny"),
    (_st(1, NotPrincipal={"AWS": "*"}), "both Principal and NotPrincipal"),
    (_st(1, NotAction="kms:Decrypt"), "both Action and NotAction"),
    (_st(1, NotResource="*"), "both Resource and NotResource"),
    (_st(1, Principal={"RAM": "acs:ram::1192853035:user/x"}), "unknown principal type"),
    (_st(1, Principal=12), "must be \"*\" or an object"),
    (_st(1, Action={"kms": "Decrypt"}), "Action must be a string or a list"),
    (_st(1, Action=[["kms:Decrypt"]]), "Action must hold strings"),
    (_st(1, Condition=["StringEquals"]), "Condition must be an object"),
    (_st(1, Condition={"StringEquals": "kms:CallerAccount"}), "Condition.StringEquals must be an object"),
])
def test_malformed_statement_gives_an_error_and_keeps_the_rest(mutate, reason):
    a = analyze(_mutated("kms-cross-account", mutate), AWS_DOCS)
    assert a.ok is False and reason in a.error
    assert [st.index for st in a.statements] == [0, 2]              # the others are still analysed
    assert a.external_accounts == [OTHER]                            # from statement 2


def test_non_object_statement_in_a_list():
    a = analyze(_mutated("kms-cross-account", lambda d: d["Statement"].insert(1, "Allow everyone")), AWS_DOCS)
    assert not a.ok and "statement 1 must be an object" in a.error
    assert len(a.statements) == 3


def test_scalar_oddities_are_stringified():
    doc = _mutated("kms-cross-account", _st(2, Sid=7, Principal={"AWS": 444455556666}))
    a = analyze(doc, AWS_DOCS)
    assert a.ok and a.statements[2].sid == "7"
    assert a.statements[2].principals == [Principal("AWS", OTHER, OTHER, False)]
    assert any("non-string value" in w for w in a.warnings)


def test_owner_that_is_not_an_account_is_tolerated():
    for owner in ("", "not-an-account", None, 111122223333):
        a = analyze(load("kms-cross-account"), owner)  # type: ignore[arg-type]
        assert a.ok and a.external_accounts in ([OTHER], [AWS_DOCS, OTHER])
    assert analyze(load("kms-cross-account"), "x").warnings


def test_as_dict_is_json_serialisable():
    d = run("aws-managed-s3", SEED).as_dict()
    assert json.loads(json.dumps(d))["statements"][0]["via_services"] == ["s3.us-east-1.amazonaws.com"]


def _random_value(rng: random.Random, depth: int = 0):
    choices = ["str", "int", "bool", "none", "float"]
    if depth < 4:
        choices += ["list", "dict", "dict"]
    kind = rng.choice(choices)
    if kind == "str":
        return rng.choice(["*", "Allow", "Deny", "allow", "", "kms:*", "arn:aws:iam::*:root", "111122223333",
                           "arn:aws:iam::444455556666:root", "o-*", "0.0.0.0/0", "${aws:ResourceAccount}",
                           "StringEquals", "aws:SourceArn", "arn:", "vpce-1", "\u0000", "ForAllValues:StringLike"])
    if kind == "int":
        return rng.choice([0, -1, 111122223333, 10 ** 30])
    if kind == "bool":
        return rng.random() < 0.5
    if kind == "none":
        return None
    if kind == "float":
        return rng.choice([0.5, float("inf"), -0.0])
    if kind == "list":
        return [_random_value(rng, depth + 1) for _ in range(rng.randint(0, 4))]
    keys = ["Statement", "Effect", "Principal", "NotPrincipal", "Action", "NotAction", "Resource", "Condition",
            "AWS", "Service", "Federated", "CanonicalUser", "StringEquals", "StringLikeIfExists", "Bool",
            "ForAnyValue:StringEquals", "IpAddress", "kms:CallerAccount", "aws:SourceIp", "aws:PrincipalArn",
            "aws:PrincipalOrgID", "Sid", "x"]
    return {rng.choice(keys): _random_value(rng, depth + 1) for _ in range(rng.randint(0, 5))}


def _check_shape(a: Analysis):
    # analyze() turns an exception of its own into this error instead of raising: never raising must not
    # hide one.
    assert not (a.error or "").startswith("internal error"), a.error
    assert isinstance(a, Analysis) and isinstance(a.ok, bool) and isinstance(a.is_public, bool)
    assert a.external_accounts == sorted(set(a.external_accounts))
    assert (a.error is None) == a.ok
    for st in a.statements:
        assert st.effect in ("Allow", "Deny")
        assert st.external_accounts == sorted(st.external_accounts)
        assert all(len(x) == 12 and x.isdigit() for x in st.external_accounts)
        if st.effect == "Deny":
            assert not st.is_public and not st.external_accounts and not st.reaches_owner
        for account in st.external_accounts:
            assert admits_account(st, account)


def test_fuzz_random_json_values_never_raise():
    rng = random.Random(20240917)
    for _ in range(3000):
        value = _random_value(rng)
        if rng.random() < 0.5:
            value = {"Version": "2012-10-17", "Statement": value}
        for form in (value, json.dumps(value, default=str)):
            _check_shape(analyze(form, AWS_DOCS))


def test_fuzz_mutated_real_policies_never_raise():
    rng = random.Random(7)
    docs = [json.loads(f.read_text()) for f in sorted(POLICIES.glob("*.json"))]

    def mutate(node, depth=0):
        if isinstance(node, dict) and node:
            k = rng.choice(list(node))
            r = rng.random()
            if r < 0.3:
                del node[k]
            elif r < 0.6 or depth > 6:
                node[k] = _random_value(rng, 2)
            else:
                mutate(node[k], depth + 1)
        elif isinstance(node, list) and node:
            i = rng.randrange(len(node))
            if rng.random() < 0.5:
                node[i] = _random_value(rng, 2)
            else:
                mutate(node[i], depth + 1)

    for _ in range(1500):
        doc = copy.deepcopy(rng.choice(docs))
        for _ in range(rng.randint(1, 3)):
            mutate(doc)
        _check_shape(analyze(doc, rng.choice([AWS_DOCS, OTHER, SEED])))


def test_fuzz_garbage_text_never_raises():
    rng = random.Random(3)
    alphabet = '{}[]":,*\\ abcAllowStatement0123456789\u00e9\ud800'
    for _ in range(1000):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 60)))
        _check_shape(analyze(text, AWS_DOCS))
        _check_shape(analyze(text.encode("utf-8", "surrogatepass"), AWS_DOCS))
    deep = analyze("[" * 100000 + "]" * 100000, AWS_DOCS)
    _check_shape(deep)
    assert not deep.ok and "not valid JSON" in deep.error
    _check_shape(analyze({"Statement": {"Effect": "Allow", "Principal": "*", "Action": "*",
                                         "Condition": {"IpAddress": {"aws:SourceIp": ["not-an-ip", "::/0"]}}}}, AWS_DOCS))
