"""plugin.analysis.evaluator (with condition_eval, principals_eval, actions, key_fix): the
principal-level evaluator.

Each test reproduces an example of the AWS documentation page named in the test (prefix) and its
docstring. Pages used:

- [IAM-OPS]   IAM User Guide, "IAM JSON policy elements: Condition operators"
- [IAM-MULTI] IAM User Guide, "Conditions with multiple context keys or values"
- [IAM-SET]   IAM User Guide, "Single-valued vs. multivalued context keys" and "Multivalued context
              keys examples" (ForAllValues / ForAnyValue tables)
- [IAM-VARS]  IAM User Guide, "IAM policy elements: Variables and tags"
- [IAM-GLOBAL] IAM User Guide, "AWS global condition context keys" (aws:PrincipalOrgPaths,
              aws:PrincipalArn, aws:SourceArn, aws:SecureTransport ...)
- [IAM-EVAL]  IAM User Guide, "Policy evaluation logic" / "Cross-account policy evaluation logic"
- [IAM-PRINCIPAL] IAM User Guide, "AWS JSON policy elements: Principal"; [IAM-NOTPRINCIPAL]
              "... NotPrincipal"; [IAM-NOTACTION] "... NotAction"; [IAM-NOTRESOURCE] "... NotResource"
- [KMS-COND]  AWS KMS Developer Guide, "AWS KMS condition keys" (kms:ViaService, kms:CallerAccount,
              kms:EncryptionContext:context-key, kms:EncryptionContextKeys, kms:GrantIsForAWSResource)
- [KMS-DEFAULT] AWS KMS Developer Guide, "Default key policy"; [KMS-GRANTS] "Grants in AWS KMS" and
              KMS API Reference "GrantConstraints"; [KMS-CLOUDTRAIL] AWS CloudTrail User Guide,
              "Configure AWS KMS key policies for CloudTrail"
- [S3-SSEKMS] Amazon S3 User Guide, "Using server-side encryption with AWS KMS keys (SSE-KMS)"
              (encryption context, S3 Bucket Keys); [S3-MPU] re:Post Knowledge Center "Why do I need
              permission to decrypt the AWS KMS key when I run Amazon S3 multipart uploads with
              SSE-KMS?"; [S3-AP] Amazon S3 User Guide, "Configuring IAM policies for using access
              points" (delegating access control to access points); [S3-REPL] "Replicating encrypted
              objects"; [S3-GOA] Amazon S3 API Reference "GetObjectAttributes"
- [AWS-S3-KEY] the key policy AWS gives the AWS managed key aws/s3 (Id auto-s3-2), kept in
              tests/policies/aws-managed-s3.json: kms:CallerAccount + kms:ViaService
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from plugin.analysis.actions import (
    S3_OBJECT_READ_ACTIONS,
    S3_OBJECT_WRITE_ACTIONS,
    action_matches,
    matching_actions,
    needs,
    s3_kms_context,
)
from plugin.analysis.condition_eval import (
    Context,
    evaluate_conditions,
    evaluate_entry,
    parse_operator,
)
from plugin.analysis.evaluator import (
    ALLOW,
    DENY,
    DEPENDS,
    NOT_ALLOWED,
    Decision,
    Request,
    combine,
    evaluate_grants,
    evaluate_policy,
    parse_principal,
)
from plugin.analysis.key_fix import fix
from plugin.analysis.policy import analyze

A = "111122223333"        # resource owner in the AWS docs examples
B = "444455556666"        # the other account
OWNER = "123412341234"    # owner of the aws/s3 key in tests/policies/aws-managed-s3.json
KEY = f"arn:aws:kms:us-east-1:{A}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
S3_KEY = f"arn:aws:kms:us-east-1:{OWNER}:key/2d4a0000-0000-0000-0000-000000000000"
BUCKET = "amzn-s3-demo-bucket"


def ev(op: str, key: str, values, ctx: dict | None = None):
    """Value of one condition entry: True, False or None (unknown)."""
    return evaluate_entry(op, key, [values] if isinstance(values, str) else list(values), Context(ctx or {})).value


def policy(*statements: dict) -> dict:
    return {"Version": "2012-10-17", "Statement": list(statements)}


def role(account: str, name: str) -> str:
    return f"arn:aws:iam::{account}:role/{name}"


# =============================================================================================
# Condition operators, one AWS documentation example each
# =============================================================================================

def test_iam_ops_StringEquals_exact_case_sensitive_and_star_is_literal():
    """[IAM-OPS] String condition operators: "StringEquals" {"aws:PrincipalTag/job-category":
    "iamuser-admin"}: exact, case-sensitive matching; no wildcards."""
    assert ev("StringEquals", "aws:PrincipalTag/job-category", "iamuser-admin",
              {"aws:PrincipalTag/job-category": "iamuser-admin"}) is True
    assert ev("StringEquals", "aws:PrincipalTag/job-category", "iamuser-admin",
              {"aws:PrincipalTag/job-category": "IAMUser-Admin"}) is False
    assert ev("StringEquals", "aws:PrincipalTag/job-category", "iamuser-*",
              {"aws:PrincipalTag/job-category": "iamuser-admin"}) is False


def test_iam_ops_StringEquals_missing_key_evaluates_false():
    """[IAM-OPS] "If the key that you specify in a policy condition is not present in the request
    context, the values do not match and the condition is false"."""
    assert ev("StringEquals", "aws:PrincipalTag/job-category", "iamuser-admin", {"aws:PrincipalTag/job-category": []}) is False


def test_iam_ops_StringNotEquals_missing_key_evaluates_true():
    """[IAM-OPS] "If the policy condition requires that the key is not matched, such as
    StringNotLike or ArnNotLike, and the right key is not present, the condition is true"."""
    assert ev("StringNotEquals", "aws:PrincipalAccount", A, {"aws:PrincipalAccount": []}) is True
    assert ev("StringNotEquals", "aws:PrincipalAccount", A, {"aws:PrincipalAccount": A}) is False
    assert ev("StringNotEquals", "aws:PrincipalAccount", A, {"aws:PrincipalAccount": B}) is True


def test_iam_ops_StringNotEquals_unknown_key_is_depends_never_true_or_false():
    t = evaluate_entry("StringNotEquals", "aws:PrincipalAccount", [A], Context({}))
    assert t.value is None and t.depends == ("aws:PrincipalAccount (StringNotEquals)",)


def test_iam_ops_StringEqualsIgnoreCase_and_StringNotEqualsIgnoreCase():
    """[IAM-OPS] "StringEqualsIgnoreCase: exact matching, ignoring case"."""
    assert ev("StringEqualsIgnoreCase", "aws:PrincipalTag/department", "HR", {"aws:PrincipalTag/department": "hr"}) is True
    assert ev("StringNotEqualsIgnoreCase", "aws:PrincipalTag/department", "HR", {"aws:PrincipalTag/department": "Hr"}) is False
    assert ev("StringNotEqualsIgnoreCase", "aws:PrincipalTag/department", "HR", {"aws:PrincipalTag/department": []}) is True


def test_iam_ops_StringLike_wildcards_star_and_question_mark_case_sensitive():
    """[IAM-OPS] "StringLike: case-sensitive matching. The values can include multi-character match
    wildcards (*) and single-character match wildcards (?) anywhere in the string"."""
    assert ev("StringLike", "s3:prefix", "home/*", {"s3:prefix": "home/jdoe/photos"}) is True
    assert ev("StringLike", "s3:prefix", "home/?doe/*", {"s3:prefix": "home/jdoe/x"}) is True
    assert ev("StringLike", "s3:prefix", "home/?doe/*", {"s3:prefix": "home/jjdoe/x"}) is False
    assert ev("StringLike", "s3:prefix", "Home/*", {"s3:prefix": "home/jdoe"}) is False


def test_iam_ops_StringNotLike_missing_key_evaluates_true_and_match_false():
    """[IAM-OPS] the StringNotLike example of the Important note (missing key -> true)."""
    assert ev("StringNotLike", "s3:prefix", "home/*", {"s3:prefix": []}) is True
    assert ev("StringNotLike", "s3:prefix", "home/*", {"s3:prefix": "home/jdoe"}) is False
    assert ev("StringNotLike", "s3:prefix", "home/*", {"s3:prefix": "other/"}) is True


def test_iam_ops_ArnEquals_ArnLike_six_components_matched_separately():
    """[IAM-OPS] ARN condition operators: "ArnEquals", "ArnLike": "Case-sensitive matching of the
    ARN. Each of the six colon-delimited components of the ARN is checked separately and each can
    include multi-character match wildcards (*) or single-character match wildcards (?)". Example
    value "aws:SourceArn": "arn:aws:sns:REGION:123456789012:TOPIC-ID"."""
    topic = "arn:aws:sns:us-east-2:123456789012:TOPIC-ID"
    for op in ("ArnEquals", "ArnLike"):
        assert ev(op, "aws:SourceArn", topic, {"aws:SourceArn": topic}) is True
        assert ev(op, "aws:SourceArn", "arn:aws:sns:*:123456789012:TOPIC-ID", {"aws:SourceArn": topic}) is True
        assert ev(op, "aws:SourceArn", "arn:aws:sns:us-east-?:123456789012:*", {"aws:SourceArn": topic}) is True
        # a wildcard stays inside its component: `*` in the region cannot swallow the account
        assert ev(op, "aws:SourceArn", "arn:aws:sns:*:TOPIC-ID", {"aws:SourceArn": topic}) is False
        assert ev(op, "aws:SourceArn", "arn:aws:sns:us-east-2:123456789012:topic-id", {"aws:SourceArn": topic}) is False
    assert ev("ArnLike", "aws:PrincipalArn", "arn:aws:iam::*:role/etl*",
              {"aws:PrincipalArn": role(B, "etl-nightly")}) is True


def test_iam_ops_ArnNotEquals_ArnNotLike_missing_key_evaluates_true():
    """[IAM-OPS] Important note: ArnNotLike with the key absent is true."""
    assert ev("ArnNotLike", "aws:SourceArn", "arn:aws:sns:*:*:*", {"aws:SourceArn": []}) is True
    assert ev("ArnNotEquals", "aws:SourceArn", "arn:aws:sns:us-east-2:123456789012:T",
              {"aws:SourceArn": "arn:aws:sns:us-east-2:123456789012:T"}) is False


def test_iam_ops_NumericLessThanEquals_s3_max_keys_example():
    """[IAM-OPS] Numeric condition operators: "NumericLessThanEquals": {"s3:max-keys": "10"}."""
    assert ev("NumericLessThanEquals", "s3:max-keys", "10", {"s3:max-keys": "10"}) is True
    assert ev("NumericLessThanEquals", "s3:max-keys", "10", {"s3:max-keys": "11"}) is False
    assert ev("NumericLessThanEquals", "s3:max-keys", "10", {"s3:max-keys": "ten"}) is False
    assert ev("NumericLessThanEquals", "s3:max-keys", "10", {"s3:max-keys": []}) is False
    assert ev("NumericNotEquals", "s3:max-keys", "10", {"s3:max-keys": []}) is True
    assert ev("NumericGreaterThan", "s3:max-keys", "10", {"s3:max-keys": "10.5"}) is True
    assert ev("NumericEquals", "s3:max-keys", "10", {"s3:max-keys": "10.0"}) is True


def test_iam_ops_DateGreaterThan_aws_CurrentTime_example_iso_and_epoch():
    """[IAM-OPS] Date condition operators: "DateGreaterThan": {"aws:TokenIssueTime":
    "2020-01-01T00:00:01Z"}; dates in ISO 8601 or epoch (UNIX) time."""
    assert ev("DateGreaterThan", "aws:TokenIssueTime", "2020-01-01T00:00:01Z", {"aws:TokenIssueTime": "2020-06-01T00:00:00Z"}) is True
    assert ev("DateLessThan", "aws:TokenIssueTime", "2020-01-01T00:00:01Z", {"aws:TokenIssueTime": "2020-06-01T00:00:00Z"}) is False
    assert ev("DateGreaterThanEquals", "aws:CurrentTime", "1577836801", {"aws:CurrentTime": "2020-01-01T00:00:01Z"}) is True
    assert ev("DateEquals", "aws:CurrentTime", "2020-01-01T00:00:01Z", {"aws:CurrentTime": "1577836801"}) is True
    assert ev("DateNotEquals", "aws:CurrentTime", "2020-01-01T00:00:01Z", {"aws:CurrentTime": []}) is True


def test_iam_ops_Bool_aws_SecureTransport_example():
    """[IAM-OPS] Boolean condition operators: "Bool": {"aws:SecureTransport": "true"}; a missing
    key is false, and BoolIfExists makes it true."""
    assert ev("Bool", "aws:SecureTransport", "true", {"aws:SecureTransport": True}) is True
    assert ev("Bool", "aws:SecureTransport", "false", {"aws:SecureTransport": "true"}) is False
    assert ev("Bool", "aws:SecureTransport", "TRUE", {"aws:SecureTransport": "true"}) is True
    assert ev("Bool", "aws:SecureTransport", "true", {"aws:SecureTransport": []}) is False
    assert ev("BoolIfExists", "aws:SecureTransport", "true", {"aws:SecureTransport": []}) is True


def test_iam_ops_BinaryEquals_base64_example():
    """[IAM-OPS] Binary condition operators: "BinaryEquals": {"key": "QmluYXJ5VmFsdWVJbkJhc2U2NA=="}."""
    assert ev("BinaryEquals", "key", "QmluYXJ5VmFsdWVJbkJhc2U2NA==", {"key": "QmluYXJ5VmFsdWVJbkJhc2U2NA=="}) is True
    assert ev("BinaryEquals", "key", "QmluYXJ5VmFsdWVJbkJhc2U2NA==", {"key": "QmluYXJ5"}) is False


def test_iam_ops_IpAddress_NotIpAddress_aws_SourceIp_examples():
    """[IAM-OPS] IP address condition operators: "IpAddress": {"aws:SourceIp": "203.0.113.0/24"} and
    the IPv6 example "2001:DB8:1234:5678::/64"; NotIpAddress on a missing key is true."""
    assert ev("IpAddress", "aws:SourceIp", "203.0.113.0/24", {"aws:SourceIp": "203.0.113.7"}) is True
    assert ev("IpAddress", "aws:SourceIp", ["203.0.113.0/24", "2001:DB8:1234:5678::/64"],
              {"aws:SourceIp": "2001:db8:1234:5678::9"}) is True
    assert ev("IpAddress", "aws:SourceIp", "203.0.113.0/24", {"aws:SourceIp": "198.51.100.1"}) is False
    assert ev("NotIpAddress", "aws:SourceIp", "203.0.113.0/24", {"aws:SourceIp": "198.51.100.1"}) is True
    assert ev("NotIpAddress", "aws:SourceIp", "203.0.113.0/24", {"aws:SourceIp": []}) is True


def test_iam_ops_Null_aws_TokenIssueTime_example():
    """[IAM-OPS] Condition operator to check existence of condition keys: "Null":
    {"aws:TokenIssueTime": "true"} is true when the key is absent (long-term credentials)."""
    assert ev("Null", "aws:TokenIssueTime", "true", {"aws:TokenIssueTime": []}) is True
    assert ev("Null", "aws:TokenIssueTime", "true", {"aws:TokenIssueTime": "2024-01-01T00:00:00Z"}) is False
    assert ev("Null", "aws:TokenIssueTime", "false", {"aws:TokenIssueTime": "2024-01-01T00:00:00Z"}) is True
    assert ev("Null", "aws:TokenIssueTime", "true", {}) is None


def test_iam_ops_IfExists_ec2_InstanceType_example():
    """[IAM-OPS] ...IfExists condition operators: "StringLikeIfExists": {"ec2:InstanceType":
    ["t1.*", "t2.*", "m3.*"]}: true when the key is absent, checked when present."""
    vals = ["t1.*", "t2.*", "m3.*"]
    assert ev("StringLikeIfExists", "ec2:InstanceType", vals, {"ec2:InstanceType": []}) is True
    assert ev("StringLikeIfExists", "ec2:InstanceType", vals, {"ec2:InstanceType": "t2.micro"}) is True
    assert ev("StringLikeIfExists", "ec2:InstanceType", vals, {"ec2:InstanceType": "m4.large"}) is False
    assert ev("StringLikeIfExists", "ec2:InstanceType", vals, {}) is None


def test_iam_ops_unknown_operator_is_depends_not_silently_true_or_false():
    t = evaluate_entry("StringEqualz", "aws:PrincipalAccount", [A], Context({"aws:PrincipalAccount": A}))
    assert t.value is None and "unknown operator StringEqualz" in t.depends[0]
    assert parse_operator("NullIfExists").spec is None   # IfExists is not allowed on Null


def test_iam_ops_operator_and_condition_key_names_are_case_insensitive():
    """[IAM-OPS] condition operators and keys are case-insensitive; values are not."""
    ctx = {"AWS:principalaccount": A}
    assert ev("stringequals", "aws:PrincipalAccount", A, ctx) is True
    assert ev("STRINGEQUALS", "Aws:PrincipalAccount", A, ctx) is True
    assert ev("forallvalues:stringlikeifexists", "AWS:PRINCIPALORGPATHS", "o-x/*", {"aws:PrincipalOrgPaths": []}) is True


# ---- set operators -----------------------------------------------------------------------

TAGS_NOT_LIKE = ("ForAllValues:StringNotLike", "aws:TagKeys", "key1*")


@pytest.mark.parametrize("tags,expected", [
    (["key1:legal"], False),
    (["key1:hr", "key1:personnel"], False),
    (["key2:audit"], True),
    ([], True),              # "No aws:TagKeys in the request context" -> Match
])
def test_iam_set_docs_ForAllValues_StringNotLike_deny_table(tags, expected):
    """[IAM-SET] "Example: Deny policy with condition set operator ForAllValues": the table of
    "ForAllValues:StringNotLike": {"aws:TagKeys": "key1*"} against four request contexts.
    "The ForAllValues set operator also returns true if there are no context keys in the request"."""
    assert ev(*TAGS_NOT_LIKE, {"aws:TagKeys": tags}) is expected


@pytest.mark.parametrize("tags,expected", [
    (["webserver"], True),
    (["environment", "webserver", "test"], True),
    (["environment", "test"], False),
    ([], False),             # no aws:TagKeys in the request: ForAnyValue returns false
])
def test_iam_set_docs_ForAnyValue_StringEquals_deny_table(tags, expected):
    """[IAM-SET] "Example: Deny policy with condition set operator ForAnyValue":
    "ForAnyValue:StringEquals": {"aws:TagKeys": ["webserver"]}."""
    assert ev("ForAnyValue:StringEquals", "aws:TagKeys", ["webserver"], {"aws:TagKeys": tags}) is expected


def test_iam_set_docs_ForAllValues_StringEquals_subset_of_policy_values():
    """[IAM-SET] ForAllValues: "returns true if every context key value in the request matches at
    least one context key value in the policy" (the request set is a subset)."""
    pol = ["environment", "cost-center"]
    assert ev("ForAllValues:StringEquals", "aws:TagKeys", pol, {"aws:TagKeys": ["environment"]}) is True
    assert ev("ForAllValues:StringEquals", "aws:TagKeys", pol, {"aws:TagKeys": ["environment", "owner"]}) is False


def test_repost_ForAnyValue_StringEqualsIfExists_on_missing_key_is_false():
    """re:Post "ForAnyValue:StringEqualsIfExists behaving unexpectedly": with aws:TagKeys absent
    (ListQueues) the condition is false: ForAnyValue needs a value, IfExists does not rescue it."""
    assert ev("ForAnyValue:StringEqualsIfExists", "aws:TagKeys", ["team"], {"aws:TagKeys": []}) is False


def test_iam_global_keys_PrincipalOrgPaths_ForAnyValue_StringLike_with_wildcards():
    """[IAM-GLOBAL] aws:PrincipalOrgPaths: "ForAnyValue:StringLike": {"aws:PrincipalOrgPaths":
    ["o-a1b2c3d4e5/r-ab12/ou-ab12-11111111/*"]} admits accounts in that OU and its child OUs."""
    pol = ["o-a1b2c3d4e5/r-ab12/ou-ab12-11111111/*"]
    child = {"aws:PrincipalOrgPaths": ["o-a1b2c3d4e5/r-ab12/ou-ab12-11111111/ou-ab12-22222222/"]}
    other = {"aws:PrincipalOrgPaths": ["o-a1b2c3d4e5/r-ab12/ou-ab12-33333333/"]}
    assert ev("ForAnyValue:StringLike", "aws:PrincipalOrgPaths", pol, child) is True
    assert ev("ForAnyValue:StringLike", "aws:PrincipalOrgPaths", pol, other) is False
    assert ev("ForAnyValue:StringLike", "aws:PrincipalOrgPaths", pol, {}) is None
    # the docs' exact-path form (no wildcard) with StringEquals
    exact = ["o-a1b2c3d4e5/r-ab12/ou-ab12-11111111/ou-ab12-22222222/"]
    assert ev("ForAnyValue:StringEquals", "aws:PrincipalOrgPaths", exact, child) is True


# ---- several keys and values ---------------------------------------------------------------

def test_iam_multi_docs_keys_AND_values_OR_negated_values_NOR():
    """[IAM-MULTI] "multiple condition operators ... AND"; "multiple context keys attached to a single
    condition operator ... AND"; "multiple values for a context key ... OR"; "a single negated
    matching condition operator includes multiple values ... NOR"."""
    ctx = Context({"aws:PrincipalTag/team": "red", "aws:PrincipalTag/cost-center": "12345"})
    both = {"StringEquals": {"aws:PrincipalTag/team": ["red", "blue"], "aws:PrincipalTag/cost-center": "12345"}}
    assert evaluate_conditions(both, ctx).value is True
    one_wrong = {"StringEquals": {"aws:PrincipalTag/team": ["red"]}, "StringLike": {"aws:PrincipalTag/cost-center": "9*"}}
    assert evaluate_conditions(one_wrong, ctx).value is False
    assert evaluate_conditions({"StringNotEquals": {"aws:PrincipalTag/team": ["blue", "green"]}}, ctx).value is True
    assert evaluate_conditions({"StringNotEquals": {"aws:PrincipalTag/team": ["blue", "red"]}}, ctx).value is False
    # a definite false decides the AND even when another key is unknown
    assert evaluate_conditions({"StringEquals": {"aws:PrincipalTag/team": "blue", "aws:SourceIp": "x"}}, ctx).value is False
    mixed = evaluate_conditions({"StringEquals": {"aws:PrincipalTag/team": "red", "aws:SourceVpc": "vpc-1"}}, ctx)
    assert mixed.value is None and mixed.depends == ("aws:SourceVpc (StringEquals)",)


# ---- policy variables ----------------------------------------------------------------------

def test_iam_vars_docs_StringLike_s3_prefix_with_aws_username():
    """[IAM-VARS] "StringLike": {"s3:prefix": ["home/${aws:username}/*"]}: the variable is replaced
    by the request's value; an unknown variable makes the comparison depend on it."""
    cond = {"StringLike": {"s3:prefix": ["home/${aws:username}/*"]}}
    assert evaluate_conditions(cond, Context({"aws:username": "jdoe", "s3:prefix": "home/jdoe/x"})).value is True
    assert evaluate_conditions(cond, Context({"aws:username": "ann", "s3:prefix": "home/jdoe/x"})).value is False
    t = evaluate_conditions(cond, Context({"s3:prefix": "home/jdoe/x"}))
    assert t.value is None and t.depends[0].startswith("${aws:username}")


def test_iam_vars_docs_default_value_and_special_characters():
    """[IAM-VARS] "${aws:PrincipalTag/team, 'company-wide'}" uses the default when the key is
    absent; "${*}", "${?}", "${$}" are the literal characters."""
    cond = {"StringEquals": {"s3:prefix": "${aws:PrincipalTag/team, 'company-wide'}/"}}
    assert evaluate_conditions(cond, Context({"aws:PrincipalTag/team": [], "s3:prefix": "company-wide/"})).value is True
    assert evaluate_conditions(cond, Context({"aws:PrincipalTag/team": "red", "s3:prefix": "red/"})).value is True
    lit = {"StringLike": {"s3:prefix": "a${*}b"}}
    assert evaluate_conditions(lit, Context({"s3:prefix": "a*b"})).value is True
    assert evaluate_conditions(lit, Context({"s3:prefix": "axxb"})).value is False
    # an absent variable without default matches nothing
    assert evaluate_conditions({"StringEquals": {"s3:prefix": "${aws:username}"}},
                               Context({"aws:username": [], "s3:prefix": ""})).value is False


def test_kms_cond_docs_EncryptionContext_key_absent_when_EncryptionContextKeys_known():
    """[KMS-COND] kms:EncryptionContextKeys lists the keys of the request's encryption context, so a
    kms:EncryptionContext:<other> key is absent; context-key names are case-insensitive."""
    ctx = Context(s3_kms_context(BUCKET, "a.txt"))
    assert ctx.get("kms:EncryptionContext:aws:s3:arn") == (f"arn:aws:s3:::{BUCKET}/a.txt",)
    assert ctx.get("KMS:ENCRYPTIONCONTEXT:AWS:S3:ARN") == (f"arn:aws:s3:::{BUCKET}/a.txt",)
    assert ctx.get("kms:EncryptionContext:Department") == ()
    assert Context({}).get("kms:EncryptionContext:Department") is None
    assert ev("ForAllValues:StringEquals", "kms:EncryptionContextKeys", ["aws:s3:arn", "Department"], ctx._values) is True
    assert ev("ForAnyValue:StringEquals", "kms:EncryptionContextKeys", ["Department"], ctx._values) is False


# =============================================================================================
# Actions and the KMS operations S3 needs
# =============================================================================================

def test_iam_action_docs_wildcards_and_case_insensitive_service_prefix():
    """IAM User Guide "IAM JSON policy elements: Action": "s3:*", "iam:*AccessKey*"; prefixes and
    action names are case-insensitive."""
    assert action_matches("s3:Get*", "S3:GetObject")
    assert action_matches("iam:*AccessKey*", "iam:CreateAccessKey")
    assert action_matches("kms:GenerateDataKey*", "kms:GenerateDataKeyWithoutPlaintext")
    assert action_matches("s3:GetObjec?", "s3:getobject")
    assert not action_matches("kms:Get*", "s3:GetObject")
    assert matching_actions(["s3:Get*"]) == sorted(S3_OBJECT_READ_ACTIONS)
    assert matching_actions([], ["s3:Get*"]) == sorted(S3_OBJECT_WRITE_ACTIONS)
    assert matching_actions(["s3:*"]) == sorted(S3_OBJECT_READ_ACTIONS | S3_OBJECT_WRITE_ACTIONS)
    assert matching_actions(["s3:ListBucket"]) == []


def test_s3_ssekms_docs_needs_Decrypt_to_read_GenerateDataKey_and_Decrypt_to_write():
    """[S3-SSEKMS] download needs kms:Decrypt, upload kms:GenerateDataKey; [S3-MPU] multipart
    uploads also need kms:Decrypt; [S3-REPL] the replica needs kms:Encrypt."""
    assert needs("s3:GetObject") == ["kms:Decrypt"]
    assert needs("s3:GetObjectVersion") == ["kms:Decrypt"]
    assert needs("s3:PutObject") == ["kms:GenerateDataKey", "kms:Decrypt"]
    assert needs("s3:PutObject", multipart=False) == ["kms:GenerateDataKey"]
    assert needs("s3:ReplicateObject") == ["kms:Encrypt"]
    assert needs("s3:Get*") == ["kms:Decrypt"]
    assert needs("s3:*") == ["kms:Decrypt", "kms:GenerateDataKey", "kms:Encrypt"]
    assert needs("s3:ListBucket") == []


def test_s3_goa_docs_GetObjectAttributes_returns_metadata_only_so_needs_no_kms():
    """[S3-GOA] GetObjectAttributes "retrieves all of the metadata from an object without returning
    the object itself": not an object-data read."""
    assert "s3:GetObjectAttributes" not in S3_OBJECT_READ_ACTIONS
    assert needs("s3:GetObjectAttributes") == []


# =============================================================================================
# Policy evaluation
# =============================================================================================

AWS_S3_POLICY = json.loads((Path(__file__).parent / "policies" / "aws-managed-s3.json").read_text())
VIA_S3 = {"kms:ViaService": "s3.us-east-1.amazonaws.com"}


def test_aws_s3_managed_key_policy_same_account_via_s3_is_allowed():
    """[AWS-S3-KEY] + [KMS-COND] kms:CallerAccount and kms:ViaService: a role of the key's account reading
    through S3 in us-east-1 is allowed by the key policy alone (no delegation)."""
    d = evaluate_policy(AWS_S3_POLICY, Request(role(OWNER, "app"), "kms:Decrypt", S3_KEY, context=VIA_S3), kind="key")
    assert (d.verdict, d.delegated, d.identity_policy_required) == (ALLOW, False, False)
    assert d.decided_by.startswith("Allow access through S3")


def test_aws_s3_managed_key_policy_cross_account_is_not_allowed():
    """[AWS-S3-KEY] cross-account AccessDenied: kms:CallerAccount is the caller's account (444455556666),
    not the key's; nothing else in the key policy allows kms:Decrypt."""
    d = evaluate_policy(AWS_S3_POLICY, Request(role(B, "compute-reader"), "kms:Decrypt", S3_KEY, context=VIA_S3), kind="key")
    assert d.verdict == NOT_ALLOWED and d.decided_by is None
    assert "kms:CallerAccount (StringEquals) is false" in d.reason and "key policy must allow" in d.reason
    # even the account as a whole: the key never delegates kms:Decrypt to B
    root = evaluate_policy(AWS_S3_POLICY, Request(f"arn:aws:iam::{B}:root", "kms:Decrypt", S3_KEY, context=VIA_S3), kind="key")
    assert root.verdict == NOT_ALLOWED


def test_kms_cond_docs_ViaService_example_wrong_region_and_direct_call():
    """[KMS-COND] kms:ViaService ("s3.us-east-1.amazonaws.com"): a request through S3 in another
    Region, or a direct call (key absent), is not allowed; an unknown path is depends."""
    wrong = evaluate_policy(AWS_S3_POLICY, Request(role(OWNER, "app"), "kms:Decrypt", S3_KEY,
                                                 context={"kms:ViaService": "s3.us-west-2.amazonaws.com"}), kind="key")
    assert wrong.verdict == NOT_ALLOWED and "kms:ViaService (StringEquals) is false" in wrong.reason
    direct = evaluate_policy(AWS_S3_POLICY, Request(role(OWNER, "app"), "kms:Decrypt", S3_KEY,
                                                  context={"kms:ViaService": []}), kind="key")
    assert direct.verdict == NOT_ALLOWED
    unknown = evaluate_policy(AWS_S3_POLICY, Request(role(OWNER, "app"), "kms:Decrypt", S3_KEY), kind="key")
    assert unknown.verdict == DEPENDS and unknown.depends_on == ("kms:ViaService (StringEquals)",)
    # DescribeKey directly is allowed through the root statement, by delegation to the account's IAM
    meta = evaluate_policy(AWS_S3_POLICY, Request(role(OWNER, "app"), "kms:DescribeKey", S3_KEY,
                                                context={"kms:ViaService": []}), kind="key")
    assert (meta.verdict, meta.delegated, meta.identity_policy_required) == (ALLOW, True, True)


def test_kms_cond_docs_ViaService_example_ec2_rds_us_west_2_ExampleUser():
    """[KMS-COND] kms:ViaService: ExampleUser may use the key for Encrypt/Decrypt only through
    EC2 or RDS in us-west-2."""
    pol = policy({"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{A}:user/ExampleUser"},
                  "Action": ["kms:Encrypt", "kms:Decrypt"], "Resource": "*",
                  "Condition": {"StringEquals": {"kms:ViaService": ["ec2.us-west-2.amazonaws.com",
                                                                    "rds.us-west-2.amazonaws.com"]}}})
    user = f"arn:aws:iam::{A}:user/ExampleUser"
    assert evaluate_policy(pol, Request(user, "kms:Decrypt", KEY, context={"kms:ViaService": "rds.us-west-2.amazonaws.com"}),
                           kind="key").verdict == ALLOW
    assert evaluate_policy(pol, Request(user, "kms:Decrypt", KEY, context={"kms:ViaService": "s3.us-west-2.amazonaws.com"}),
                           kind="key").verdict == NOT_ALLOWED
    assert evaluate_policy(pol, Request(f"arn:aws:iam::{A}:user/Other", "kms:Decrypt", KEY,
                                        context={"kms:ViaService": "rds.us-west-2.amazonaws.com"}), kind="key").verdict == NOT_ALLOWED


def test_iam_eval_docs_explicit_deny_wins_perimeter_StringNotEquals_PrincipalAccount():
    """[IAM-EVAL] "An explicit deny in any of the policies overrides the allow": a perimeter Deny
    with StringNotEquals aws:PrincipalAccount (derived from the principal) beats a leftover Allow of
    account 444455556666."""
    pol = policy(
        {"Sid": "LeftoverShare", "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{B}:root"},
         "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{BUCKET}/*"},
        {"Sid": "Perimeter", "Effect": "Deny", "Principal": "*", "Action": "s3:*",
         "Resource": [f"arn:aws:s3:::{BUCKET}", f"arn:aws:s3:::{BUCKET}/*"],
         "Condition": {"StringNotEquals": {"aws:PrincipalAccount": A}}})
    obj = f"arn:aws:s3:::{BUCKET}/data/x.csv"
    d = evaluate_policy(pol, Request(role(B, "etl"), "s3:GetObject", obj), owner_account=A)
    assert (d.verdict, d.decided_by) == (DENY, "Perimeter") and "explicit Deny" in d.reason
    mine = evaluate_policy(pol, Request(role(A, "etl"), "s3:GetObject", obj), owner_account=A)
    assert mine.verdict == NOT_ALLOWED and "identity-based policy may still allow" in mine.reason
    # the same Deny, with the principal's account not known (a service principal): depends
    svc = evaluate_policy(pol, Request("logging.s3.amazonaws.com", "s3:PutObject", obj), owner_account=A)
    assert svc.verdict == NOT_ALLOWED and svc.possible_deny == "Perimeter"


def test_iam_principal_docs_account_root_delegates_vs_named_role():
    """[IAM-PRINCIPAL] + [KMS-DEFAULT]: an account principal "delegates authority to the account";
    a named role covers only that role. Key admits role/analyst of B, bucket admits role/etl of B:
    etl is not allowed by the key; with the root of B, etl is allowed by delegation."""
    named = policy({"Sid": "AnalystDecrypt", "Effect": "Allow", "Principal": {"AWS": role(B, "analyst")},
                    "Action": "kms:Decrypt", "Resource": "*"})
    bucket = policy({"Sid": "EtlRead", "Effect": "Allow", "Principal": {"AWS": role(B, "etl")},
                     "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{BUCKET}/*"})
    etl = role(B, "etl")
    b = evaluate_policy(bucket, Request(etl, "s3:GetObject", f"arn:aws:s3:::{BUCKET}/k"), owner_account=A)
    assert (b.verdict, b.delegated, b.identity_policy_required) == (ALLOW, False, True)
    k = evaluate_policy(named, Request(etl, "kms:Decrypt", KEY), kind="key")
    assert k.verdict == NOT_ALLOWED
    a = evaluate_policy(named, Request(f"arn:aws:sts::{B}:assumed-role/analyst/s1", "kms:Decrypt", KEY), kind="key")
    assert (a.verdict, a.decided_by, a.delegated, a.identity_policy_required) == (ALLOW, "AnalystDecrypt", False, True)
    # the account as a whole is not admitted by a statement naming one of its roles
    acct = evaluate_policy(named, Request(f"arn:aws:iam::{B}:root", "kms:Decrypt", KEY), kind="key")
    assert acct.verdict == NOT_ALLOWED and '"AnalystDecrypt" name specific principals' in acct.reason
    root = policy({"Sid": "AccountB", "Effect": "Allow", "Principal": {"AWS": B}, "Action": "kms:Decrypt", "Resource": "*"})
    r = evaluate_policy(root, Request(etl, "kms:Decrypt", KEY), kind="key")
    assert (r.verdict, r.delegated, r.identity_policy_required) == (ALLOW, True, True)
    assert "own IAM policies decide" in r.reason


def test_iam_principal_docs_role_matches_its_sessions_path_ignored_session_only_itself():
    """[IAM-PRINCIPAL] "IAM role principals" and "Role session principals"."""
    pol = policy({"Sid": "R", "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{B}:role/team/ETL"},
                  "Action": "kms:Decrypt", "Resource": "*"},
                 {"Sid": "S", "Effect": "Allow", "Principal": {"AWS": f"arn:aws:sts::{B}:assumed-role/audit/app1"},
                  "Action": "kms:Encrypt", "Resource": "*"})
    assert evaluate_policy(pol, Request(f"arn:aws:sts::{B}:assumed-role/etl/x", "kms:Decrypt", KEY), kind="key").verdict == ALLOW
    assert evaluate_policy(pol, Request(f"arn:aws:sts::{B}:assumed-role/audit/app1", "kms:Encrypt", KEY), kind="key").verdict == ALLOW
    assert evaluate_policy(pol, Request(f"arn:aws:sts::{B}:assumed-role/audit/app2", "kms:Encrypt", KEY), kind="key").verdict == NOT_ALLOWED
    whole = evaluate_policy(pol, Request(role(B, "audit"), "kms:Encrypt", KEY), kind="key")
    assert whole.verdict == DEPENDS and whole.depends_on[0].startswith("assumed-role session name")
    assert evaluate_policy(pol, Request(role(A, "etl"), "kms:Decrypt", KEY), kind="key").verdict == NOT_ALLOWED


def test_iam_principal_docs_service_principal_matches_only_that_service():
    """[IAM-PRINCIPAL] "AWS service principals"."""
    pol = policy({"Sid": "Logs", "Effect": "Allow", "Principal": {"Service": "logs.us-east-1.amazonaws.com"},
                  "Action": ["kms:Encrypt*", "kms:Decrypt*", "kms:GenerateDataKey*"], "Resource": "*"})
    assert evaluate_policy(pol, Request("logs.us-east-1.amazonaws.com", "kms:GenerateDataKey", KEY), kind="key").verdict == ALLOW
    assert evaluate_policy(pol, Request("delivery.logs.amazonaws.com", "kms:GenerateDataKey", KEY), kind="key").verdict == NOT_ALLOWED
    assert evaluate_policy(pol, Request(role(A, "x"), "kms:GenerateDataKey", KEY), kind="key").verdict == NOT_ALLOWED


def test_iam_global_docs_PrincipalOrgID_org_scoped_key_statement():
    """[IAM-GLOBAL] aws:PrincipalOrgID: an org-scoped key statement allows a member account's role
    when the org id is known for the question, and depends on it when it is not."""
    pol = policy({"Sid": "OrgUse", "Effect": "Allow", "Principal": "*",
                  "Action": ["kms:Decrypt", "kms:GenerateDataKey*"], "Resource": "*",
                  "Condition": {"StringEquals": {"aws:PrincipalOrgID": "o-abc123"}}})
    known = evaluate_policy(pol, Request(role(B, "etl"), "kms:Decrypt", KEY, context={"aws:PrincipalOrgID": "o-abc123"}), kind="key")
    assert (known.verdict, known.decided_by, known.identity_policy_required) == (ALLOW, "OrgUse", True)
    other = evaluate_policy(pol, Request(role(B, "etl"), "kms:Decrypt", KEY, context={"aws:PrincipalOrgID": "o-zzz999"}), kind="key")
    assert other.verdict == NOT_ALLOWED
    unknown = evaluate_policy(pol, Request(role(B, "etl"), "kms:Decrypt", KEY), kind="key")
    assert unknown.verdict == DEPENDS and unknown.depends_on == ("aws:PrincipalOrgID (StringEquals)",)
    assert "depending on aws:PrincipalOrgID" in unknown.reason


def test_iam_global_docs_PrincipalOrgPaths_ou_scoped_bucket_statement():
    """[IAM-GLOBAL] aws:PrincipalOrgPaths with "o-a1b2c3d4e5/r-ab12/ou-ab12-11111111/*"."""
    pol = policy({"Sid": "OU", "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
                  "Resource": f"arn:aws:s3:::{BUCKET}/*",
                  "Condition": {"ForAnyValue:StringLike": {"aws:PrincipalOrgPaths": ["o-a1b2c3d4e5/r-ab12/ou-ab12-11111111/*"]}}})
    req = Request(role(B, "etl"), "s3:GetObject", f"arn:aws:s3:::{BUCKET}/k",
                  context={"aws:PrincipalOrgPaths": ["o-a1b2c3d4e5/r-ab12/ou-ab12-11111111/ou-ab12-22222222/"]})
    assert evaluate_policy(pol, req, owner_account=A).verdict == ALLOW


def test_iam_global_docs_PrincipalArn_is_the_role_arn_for_a_session():
    """[IAM-GLOBAL] aws:PrincipalArn: "For IAM roles, the request context returns the ARN of the
    role, not the ARN of the user that assumed the role"; derived from a session ARN."""
    pol = policy({"Sid": "DenyOthers", "Effect": "Deny", "Principal": "*", "Action": "kms:Decrypt", "Resource": "*",
                  "Condition": {"ArnNotLike": {"aws:PrincipalArn": [f"arn:aws:iam::{A}:role/etl-*"]}}},
                 {"Sid": "Enable IAM User Permissions", "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{A}:root"},
                  "Action": "kms:*", "Resource": "*"})
    ok = evaluate_policy(pol, Request(f"arn:aws:sts::{A}:assumed-role/etl-nightly/run-1", "kms:Decrypt", KEY), kind="key")
    assert (ok.verdict, ok.delegated) == (ALLOW, True)
    no = evaluate_policy(pol, Request(f"arn:aws:sts::{A}:assumed-role/web/run-1", "kms:Decrypt", KEY), kind="key")
    assert (no.verdict, no.decided_by) == (DENY, "DenyOthers")


def test_kms_cloudtrail_docs_SourceArn_and_EncryptionContext_for_a_service_principal():
    """[KMS-CLOUDTRAIL] "Allow CloudTrail to encrypt logs": Service cloudtrail.amazonaws.com,
    kms:GenerateDataKey*, StringEquals aws:SourceArn (the trail) and StringLike
    kms:EncryptionContext:aws:cloudtrail:arn "arn:aws:cloudtrail:*:111122223333:trail/*"."""
    trail = f"arn:aws:cloudtrail:us-east-2:{A}:trail/trail-name"
    pol = policy({"Sid": "Allow CloudTrail to encrypt logs", "Effect": "Allow",
                  "Principal": {"Service": "cloudtrail.amazonaws.com"}, "Action": "kms:GenerateDataKey*", "Resource": "*",
                  "Condition": {"StringEquals": {"aws:SourceArn": trail},
                                "StringLike": {"kms:EncryptionContext:aws:cloudtrail:arn": f"arn:aws:cloudtrail:*:{A}:trail/*"}}})
    ctx = {"aws:SourceArn": trail, "kms:EncryptionContext:aws:cloudtrail:arn": trail}
    assert evaluate_policy(pol, Request("cloudtrail.amazonaws.com", "kms:GenerateDataKey", KEY, context=ctx), kind="key").verdict == ALLOW
    other = dict(ctx, **{"aws:SourceArn": f"arn:aws:cloudtrail:us-east-2:{B}:trail/theirs"})
    assert evaluate_policy(pol, Request("cloudtrail.amazonaws.com", "kms:GenerateDataKey", KEY, context=other), kind="key").verdict == NOT_ALLOWED
    d = evaluate_policy(pol, Request("cloudtrail.amazonaws.com", "kms:GenerateDataKey", KEY), kind="key")
    assert d.verdict == DEPENDS and set(d.depends_on) == {"aws:SourceArn (StringEquals)",
                                                          "kms:EncryptionContext:aws:cloudtrail:arn (StringLike)"}


def test_iam_global_docs_SourceAccount_and_SourceOwner_confused_deputy():
    """[IAM-GLOBAL] aws:SourceAccount / aws:SourceOwner (confused deputy prevention)."""
    pol = policy({"Sid": "S3Logs", "Effect": "Allow", "Principal": {"Service": "logging.s3.amazonaws.com"},
                  "Action": "s3:PutObject", "Resource": f"arn:aws:s3:::{BUCKET}/logs/*",
                  "Condition": {"StringEquals": {"aws:SourceAccount": A}}},
                 {"Sid": "Sns", "Effect": "Allow", "Principal": {"Service": "sns.amazonaws.com"},
                  "Action": "s3:PutObject", "Resource": f"arn:aws:s3:::{BUCKET}/*",
                  "Condition": {"StringEquals": {"aws:SourceOwner": A}}})
    obj = f"arn:aws:s3:::{BUCKET}/logs/1"
    assert evaluate_policy(pol, Request("logging.s3.amazonaws.com", "s3:PutObject", obj, context={"aws:SourceAccount": A}),
                           owner_account=A).verdict == ALLOW
    assert evaluate_policy(pol, Request("logging.s3.amazonaws.com", "s3:PutObject", obj, context={"aws:SourceAccount": B}),
                           owner_account=A).verdict == NOT_ALLOWED
    assert evaluate_policy(pol, Request("sns.amazonaws.com", "s3:PutObject", obj, context={"aws:SourceOwner": A}),
                           owner_account=A).verdict == ALLOW


def test_kms_cond_docs_GrantIsForAWSResource_allow_attachment_of_persistent_resources():
    """[KMS-DEFAULT] "Allows key users to use the KMS key with AWS services": kms:CreateGrant,
    ListGrants, RevokeGrant with "Bool": {"kms:GrantIsForAWSResource": true}."""
    user = role(A, "KeyUser")
    pol = policy({"Sid": "Allow attachment of persistent resources", "Effect": "Allow", "Principal": {"AWS": user},
                  "Action": ["kms:CreateGrant", "kms:ListGrants", "kms:RevokeGrant"], "Resource": "*",
                  "Condition": {"Bool": {"kms:GrantIsForAWSResource": "true"}}})
    assert evaluate_policy(pol, Request(user, "kms:CreateGrant", KEY, context={"kms:GrantIsForAWSResource": True}), kind="key").verdict == ALLOW
    assert evaluate_policy(pol, Request(user, "kms:CreateGrant", KEY, context={"kms:GrantIsForAWSResource": False}), kind="key").verdict == NOT_ALLOWED
    d = evaluate_policy(pol, Request(user, "kms:CreateGrant", KEY), kind="key")
    assert d.verdict == DEPENDS and d.depends_on == ("kms:GrantIsForAWSResource (Bool)",)


def test_s3_ap_docs_delegating_access_control_to_access_points_DataAccessPointAccount():
    """[S3-AP] "Delegating access control to access points": Principal "*", Action "*", Condition
    StringEquals s3:DataAccessPointAccount = the bucket owner; s3:DataAccessPointArn likewise."""
    pol = policy({"Sid": "Delegate", "Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "*",
                  "Resource": [f"arn:aws:s3:::{BUCKET}", f"arn:aws:s3:::{BUCKET}/*"],
                  "Condition": {"StringEquals": {"s3:DataAccessPointAccount": A}}})
    obj = f"arn:aws:s3:::{BUCKET}/k"
    via_ap = Request(role(B, "etl"), "s3:GetObject", obj, context={"s3:DataAccessPointAccount": A})
    assert evaluate_policy(pol, via_ap, owner_account=A).verdict == ALLOW
    direct = Request(role(B, "etl"), "s3:GetObject", obj, context={"s3:DataAccessPointAccount": []})
    assert evaluate_policy(pol, direct, owner_account=A).verdict == NOT_ALLOWED
    assert evaluate_policy(pol, Request(role(B, "etl"), "s3:GetObject", obj), owner_account=A).verdict == DEPENDS
    arn_pol = policy({"Sid": "AP", "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{BUCKET}/*",
                      "Condition": {"StringLike": {"s3:DataAccessPointArn": f"arn:aws:s3:us-east-1:{A}:accesspoint/*"}}})
    ap = Request(role(B, "etl"), "s3:GetObject", obj, context={"s3:DataAccessPointArn": f"arn:aws:s3:us-east-1:{A}:accesspoint/reports"})
    assert evaluate_policy(arn_pol, ap, owner_account=A).verdict == ALLOW


def test_iam_global_docs_SecureTransport_deny_is_depends_unless_assumed():
    """[IAM-GLOBAL] aws:SecureTransport with the S3 "deny insecure transport" statement ("Bool":
    {"aws:SecureTransport": "false"}): a caller may assume HTTPS; otherwise the Deny may apply."""
    pol = policy({"Sid": "AllowB", "Effect": "Allow", "Principal": {"AWS": B}, "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{BUCKET}/*"},
                 {"Sid": "DenyInsecure", "Effect": "Deny", "Principal": "*", "Action": "s3:*", "Resource": f"arn:aws:s3:::{BUCKET}/*",
                  "Condition": {"Bool": {"aws:SecureTransport": "false"}}})
    obj = f"arn:aws:s3:::{BUCKET}/k"
    d = evaluate_policy(pol, Request(role(B, "etl"), "s3:GetObject", obj), owner_account=A)
    assert (d.verdict, d.decided_by, d.possible_deny) == (DEPENDS, "DenyInsecure", "DenyInsecure")
    assert d.depends_on == ("aws:SecureTransport (Bool)",) and d.delegated
    https = evaluate_policy(pol, Request(role(B, "etl"), "s3:GetObject", obj, context={"aws:SecureTransport": True}), owner_account=A)
    assert (https.verdict, https.decided_by, https.delegated) == (ALLOW, "AllowB", True)
    http = evaluate_policy(pol, Request(role(B, "etl"), "s3:GetObject", obj, context={"aws:SecureTransport": False}), owner_account=A)
    assert http.verdict == DENY


@pytest.mark.parametrize("op,key", [("IpAddress", "aws:SourceIp"), ("StringEquals", "aws:PrincipalTag/team")])
def test_iam_global_docs_undecidable_keys_SourceIp_PrincipalTag_are_depends_naming_the_key(op, key):
    """[IAM-GLOBAL] aws:SourceIp and aws:PrincipalTag/tag-key are not static facts: the verdict is
    "depends on" them, even when the caller puts them in the context (ignored, and said so)."""
    pol = policy({"Sid": "Cond", "Effect": "Allow", "Principal": {"AWS": B}, "Action": "kms:Decrypt", "Resource": "*",
                  "Condition": {op: {key: "203.0.113.0/24" if op == "IpAddress" else "data"}}})
    d = evaluate_policy(pol, Request(role(B, "etl"), "kms:Decrypt", KEY), kind="key")
    assert d.verdict == DEPENDS and d.depends_on == (f"{key} ({op})",) and f"depending on {key}" in d.reason
    r = Request(role(B, "etl"), "kms:Decrypt", KEY, context={key: "203.0.113.9" if op == "IpAddress" else "data"})
    assert r.ignored_keys == (key,)
    d2 = evaluate_policy(pol, r, kind="key")
    assert d2.verdict == DEPENDS and "not decidable statically" in d2.reason


def test_iam_notprincipal_docs_deny_all_except_account_role_and_session():
    """[IAM-NOTPRINCIPAL] Deny with NotPrincipal listing the account and the role (and a session):
    "AWS verifies the account, then the role, and then the assumed-role user", so the account must be
    listed with the role; a listed session alone covers only itself."""
    pol = policy({"Sid": "AllowB", "Effect": "Allow", "Principal": {"AWS": B}, "Action": "s3:*", "Resource": f"arn:aws:s3:::{BUCKET}/*"},
                 {"Sid": "DenyAllButReadOnly", "Effect": "Deny",
                  "NotPrincipal": {"AWS": [f"arn:aws:iam::{B}:role/cross-account-read-only-role", f"arn:aws:iam::{B}:root"]},
                  "Action": "s3:*", "Resource": f"arn:aws:s3:::{BUCKET}/*"},
                 {"Sid": "DenyButAudit", "Effect": "Deny",
                  "NotPrincipal": {"AWS": [f"arn:aws:sts::{B}:assumed-role/audit/app", f"arn:aws:iam::{B}:root"]},
                  "Action": "s3:PutObject", "Resource": f"arn:aws:s3:::{BUCKET}/*"})
    obj = f"arn:aws:s3:::{BUCKET}/k"
    ro = f"arn:aws:sts::{B}:assumed-role/cross-account-read-only-role/cross-account-audit-app"
    assert evaluate_policy(pol, Request(ro, "s3:GetObject", obj), owner_account=A).verdict == ALLOW
    other = evaluate_policy(pol, Request(role(B, "etl"), "s3:GetObject", obj), owner_account=A)
    assert (other.verdict, other.decided_by) == (DENY, "DenyAllButReadOnly")
    # only the account listed (not the role): the read-only role of another account is denied
    assert evaluate_policy(pol, Request(f"arn:aws:sts::{A}:assumed-role/cross-account-read-only-role/x", "s3:GetObject", obj),
                           owner_account=A).verdict == DENY
    # the audit session is exempt from DenyButAudit, but still hit by DenyAllButReadOnly
    audit = evaluate_policy(pol, Request(f"arn:aws:sts::{B}:assumed-role/audit/app", "s3:PutObject", obj), owner_account=A)
    assert audit.decided_by == "DenyAllButReadOnly"
    whole = evaluate_policy(policy(pol["Statement"][0], pol["Statement"][2]), Request(role(B, "audit"), "s3:PutObject", obj), owner_account=A)
    assert whole.verdict == DEPENDS and whole.depends_on[0].startswith("assumed-role session name (NotPrincipal")


def test_iam_notaction_docs_deny_everything_except_listed_actions():
    """[IAM-NOTACTION] "NotAction with Deny": deny every action except s3:GetObject."""
    pol = policy({"Sid": "AllowAll", "Effect": "Allow", "Principal": {"AWS": B}, "Action": "s3:*", "Resource": f"arn:aws:s3:::{BUCKET}/*"},
                 {"Sid": "ReadOnly", "Effect": "Deny", "Principal": "*", "NotAction": "s3:GetObject", "Resource": f"arn:aws:s3:::{BUCKET}/*"})
    obj = f"arn:aws:s3:::{BUCKET}/k"
    assert evaluate_policy(pol, Request(role(B, "etl"), "s3:GetObject", obj), owner_account=A).verdict == ALLOW
    assert evaluate_policy(pol, Request(role(B, "etl"), "s3:PutObject", obj), owner_account=A).verdict == DENY
    allow_not = policy({"Sid": "AllButDelete", "Effect": "Allow", "Principal": {"AWS": B}, "NotAction": "s3:Delete*",
                        "Resource": f"arn:aws:s3:::{BUCKET}/*"})
    assert evaluate_policy(allow_not, Request(role(B, "etl"), "s3:DeleteObject", obj), owner_account=A).verdict == NOT_ALLOWED
    assert evaluate_policy(allow_not, Request(role(B, "etl"), "s3:PutObject", obj), owner_account=A).verdict == ALLOW


def test_iam_notresource_docs_deny_outside_listed_prefix_and_resource_wildcards():
    """[IAM-NOTRESOURCE] Deny with NotResource: everything except arn:aws:s3:::bucket/public/*;
    Resource wildcards and policy variables."""
    pol = policy({"Sid": "Allow", "Effect": "Allow", "Principal": {"AWS": B}, "Action": "s3:GetObject",
                  "Resource": f"arn:aws:s3:::{BUCKET}/*"},
                 {"Sid": "OnlyPublic", "Effect": "Deny", "Principal": {"AWS": B}, "Action": "s3:GetObject",
                  "NotResource": f"arn:aws:s3:::{BUCKET}/public/*"})
    assert evaluate_policy(pol, Request(role(B, "r"), "s3:GetObject", f"arn:aws:s3:::{BUCKET}/public/a"), owner_account=A).verdict == ALLOW
    assert evaluate_policy(pol, Request(role(B, "r"), "s3:GetObject", f"arn:aws:s3:::{BUCKET}/private/a"), owner_account=A).verdict == DENY
    assert evaluate_policy(pol, Request(role(B, "r"), "s3:GetObject", "arn:aws:s3:::other-bucket/a"), owner_account=A).verdict == DENY
    per_account = policy({"Sid": "Home", "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
                          "Resource": f"arn:aws:s3:::{BUCKET}/${{aws:PrincipalAccount}}/*"})
    assert evaluate_policy(per_account, Request(role(B, "r"), "s3:GetObject", f"arn:aws:s3:::{BUCKET}/{B}/x"), owner_account=A).verdict == ALLOW
    assert evaluate_policy(per_account, Request(role(B, "r"), "s3:GetObject", f"arn:aws:s3:::{BUCKET}/{A}/x"), owner_account=A).verdict == NOT_ALLOWED
    svc = evaluate_policy(per_account, Request("sns.amazonaws.com", "s3:GetObject", f"arn:aws:s3:::{BUCKET}/{A}/x"), owner_account=A)
    assert svc.verdict == DEPENDS and svc.depends_on[0].startswith("${aws:PrincipalAccount} in Resource")


def test_s3_ssekms_docs_bucket_key_changes_the_encryption_context():
    """[S3-SSEKMS] "Encryption context": aws:s3:arn is the object ARN, or the bucket ARN with an S3
    Bucket Key; a key statement with StringLike kms:EncryptionContext:aws:s3:arn on a prefix stops
    matching when the Bucket Key is enabled."""
    pol = policy({"Sid": "ReportsOnly", "Effect": "Allow", "Principal": {"AWS": role(B, "analyst")},
                  "Action": "kms:Decrypt", "Resource": "*",
                  "Condition": {"StringLike": {"kms:EncryptionContext:aws:s3:arn": f"arn:aws:s3:::{BUCKET}/reports/*"}}})
    who = role(B, "analyst")
    per_object = Request(who, "kms:Decrypt", KEY, context=s3_kms_context(BUCKET, "reports/2024.csv", region="us-east-1"))
    assert evaluate_policy(pol, per_object, kind="key").verdict == ALLOW
    bucket_key = Request(who, "kms:Decrypt", KEY, context=s3_kms_context(BUCKET, "reports/2024.csv", bucket_key=True))
    d = evaluate_policy(pol, bucket_key, kind="key")
    assert d.verdict == NOT_ALLOWED and "kms:EncryptionContext:aws:s3:arn (StringLike) is false" in d.reason
    unknown = evaluate_policy(pol, Request(who, "kms:Decrypt", KEY), kind="key")
    assert unknown.depends_on == ("kms:EncryptionContext:aws:s3:arn (StringLike)",)


def test_kms_default_docs_key_policy_has_no_implicit_allow_unlike_a_bucket_policy():
    """[KMS-DEFAULT] "Unlike other AWS resource policies, an AWS KMS key policy does not
    automatically give permission to the account or any of its identities"."""
    pol = policy({"Sid": "Admins", "Effect": "Allow", "Principal": {"AWS": role(A, "KeyAdmin")},
                  "Action": ["kms:Describe*", "kms:Put*"], "Resource": "*"})
    k = evaluate_policy(pol, Request(role(A, "app"), "kms:Decrypt", KEY), kind="key")
    assert k.verdict == NOT_ALLOWED and "key policy must allow explicitly" in k.reason
    b = evaluate_policy(pol, Request(role(A, "app"), "kms:Decrypt", KEY), kind="resource")
    assert b.verdict == NOT_ALLOWED and "identity-based policy may still allow" in b.reason


def test_iam_principal_docs_canonical_user_is_depends_and_wildcard_forms():
    pol = policy({"Sid": "C", "Effect": "Allow", "Principal": {"CanonicalUser": "79a59df900b949e55d96a1e698fbaced"},
                  "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{BUCKET}/*"})
    d = evaluate_policy(pol, Request(role(B, "r"), "s3:GetObject", f"arn:aws:s3:::{BUCKET}/k"), owner_account=A)
    assert d.verdict == DEPENDS and d.depends_on[0].startswith("canonical user")
    for p in ("*", {"AWS": "*"}, {"AWS": "arn:aws:iam::*:root"}):
        anyone = policy({"Sid": "Any", "Effect": "Allow", "Principal": p, "Action": "kms:Decrypt", "Resource": "*"})
        assert evaluate_policy(anyone, Request(role(B, "r"), "kms:Decrypt", KEY), kind="key").verdict == ALLOW


def test_iam_eval_docs_statement_shapes_no_principal_no_resource_and_two_undecided_statements():
    """[IAM-EVAL] a resource policy statement without Principal admits nobody; one without Resource
    is read as "*"; an undecided Allow next to an undecided Deny depends on both."""
    nobody = policy({"Sid": "NoPrincipal", "Effect": "Allow", "Action": "kms:Decrypt", "Resource": "*"})
    assert evaluate_policy(nobody, Request(role(A, "x"), "kms:Decrypt", KEY), kind="key").verdict == NOT_ALLOWED
    no_res = policy({"Sid": "NoResource", "Effect": "Allow", "Principal": {"AWS": A}, "Action": "kms:Decrypt"})
    assert evaluate_policy(no_res, Request(role(A, "x"), "kms:Decrypt", KEY), kind="key").verdict == ALLOW
    both = policy({"Sid": "MaybeAllow", "Effect": "Allow", "Principal": "*", "Action": "kms:Decrypt", "Resource": "*",
                   "Condition": {"StringEquals": {"aws:PrincipalOrgID": "o-abc123"}}},
                  {"Sid": "MaybeDeny", "Effect": "Deny", "Principal": "*", "Action": "kms:Decrypt", "Resource": "*",
                   "Condition": {"StringNotEquals": {"aws:SourceVpce": "vpce-1a2b3c4d"}}})
    d = evaluate_policy(both, Request(role(B, "x"), "kms:Decrypt", KEY), kind="key")
    assert (d.verdict, d.decided_by, d.possible_deny) == (DEPENDS, "MaybeAllow", "MaybeDeny")
    assert d.depends_on == ("aws:PrincipalOrgID (StringEquals)", "aws:SourceVpce (StringNotEquals)")


def test_evaluate_policy_accepts_an_analysis_and_never_allows_on_a_malformed_policy():
    good = analyze(AWS_S3_POLICY, OWNER)
    assert evaluate_policy(good, Request(role(OWNER, "a"), "kms:Decrypt", S3_KEY, context=VIA_S3), kind="key").verdict == ALLOW
    bad = {"Statement": [AWS_S3_POLICY["Statement"][0], {"Effect": "Maybe", "Principal": "*", "Action": "kms:*"}]}
    d = evaluate_policy(bad, Request(role(OWNER, "a"), "kms:Decrypt", S3_KEY, context=VIA_S3), kind="key")
    assert d.verdict == DEPENDS and "could not be fully analysed" in d.depends_on[-1]
    assert evaluate_policy("not json", Request(role(OWNER, "a"), "kms:Decrypt", S3_KEY), kind="key").verdict == DEPENDS
    with pytest.raises(ValueError):
        evaluate_policy(AWS_S3_POLICY, Request(role(OWNER, "a"), "kms:Decrypt", S3_KEY), kind="bucket")


def test_request_parses_principals_and_derives_static_keys():
    r = Request(f"arn:aws:sts::{B}:assumed-role/etl/session-1", "kms:Decrypt", KEY)
    assert (r.account, r.who.kind, r.who.name, r.who.session) == (B, "session", "etl", "session-1")
    ctx = r.context_for(A)
    assert ctx.get("aws:PrincipalArn") == (role(B, "etl"),)
    assert ctx.get("kms:CallerAccount") == (B,) and ctx.get("aws:ResourceAccount") == (A,)
    assert ctx.get("aws:PrincipalType") == ("AssumedRole",)
    root = Request(f"arn:aws:iam::{B}:root", "kms:Decrypt", KEY).context_for(A)
    assert root.get("aws:PrincipalArn") is None and root.get("aws:PrincipalAccount") == (B,)
    svc = Request("logs.amazonaws.com", "kms:Decrypt", KEY, account=A)
    assert svc.account == A and svc.context_for(A).get("aws:PrincipalServiceName") == ("logs.amazonaws.com",)
    assert parse_principal(B).kind == "root"
    assert Request(role(B, "x"), "kms:Decrypt", derive=False).context_for(A).get("kms:CallerAccount") is None
    with pytest.raises(ValueError):
        Request("AROAEXAMPLEID", "kms:Decrypt")
    with pytest.raises(ValueError):
        Request(role(B, "x"), "kms:Decrypt", account=A)


# =============================================================================================
# Grants and combining
# =============================================================================================

def grant(gid: str, grantee: str, ops: list[str], constraints: dict | None = None) -> dict:
    g = {"KeyId": KEY, "GrantId": gid, "Name": "", "GranteePrincipal": grantee, "Operations": ops,
         "IssuingAccount": f"arn:aws:iam::{A}:root"}
    if constraints is not None:
        g["Constraints"] = constraints
    return g


def test_kms_grants_docs_grant_without_constraints_allows_listed_operations_only():
    """[KMS-GRANTS] a grant allows its grantee the listed operations; grants cannot deny."""
    grants = [grant("g-etl", role(B, "etl"), ["Decrypt", "DescribeKey"])]
    d = evaluate_grants(grants, Request(f"arn:aws:sts::{B}:assumed-role/etl/s", "kms:Decrypt", KEY))
    assert (d.verdict, d.decided_by, d.source) == (ALLOW, "g-etl", "grants")
    assert evaluate_grants(grants, Request(role(B, "etl"), "kms:Encrypt", KEY)).verdict == NOT_ALLOWED
    assert evaluate_grants(grants, Request(role(B, "other"), "kms:Decrypt", KEY)).verdict == NOT_ALLOWED
    assert evaluate_grants(grants, Request(role(B, "etl"), "s3:GetObject", KEY)).verdict == NOT_ALLOWED
    acct = evaluate_grants([grant("g-b", f"arn:aws:iam::{B}:root", ["Decrypt"])], Request(role(B, "etl"), "kms:Decrypt", KEY))
    assert (acct.verdict, acct.delegated, acct.identity_policy_required) == (ALLOW, True, True)


def test_kms_grants_docs_GrantConstraints_EncryptionContextSubset_and_Equals():
    """[KMS-GRANTS] "GrantConstraints": EncryptionContextSubset (the request's context includes the
    pairs) and EncryptionContextEquals (exactly these pairs); keys case-insensitive, values
    case-sensitive; an unknown context is depends; DescribeKey ignores the constraint."""
    obj = f"arn:aws:s3:::{BUCKET}/a.txt"
    sub = [grant("g-sub", role(B, "etl"), ["Decrypt", "DescribeKey"], {"EncryptionContextSubset": {"AWS:S3:ARN": obj}})]
    eq = [grant("g-eq", role(B, "etl"), ["Decrypt"], {"EncryptionContextEquals": {"aws:s3:arn": obj}})]
    who = role(B, "etl")
    ctx = s3_kms_context(BUCKET, "a.txt")
    assert evaluate_grants(sub, Request(who, "kms:Decrypt", KEY, context=ctx)).verdict == ALLOW
    assert evaluate_grants(eq, Request(who, "kms:Decrypt", KEY, context=ctx)).verdict == ALLOW
    wider = dict(ctx, **{"kms:EncryptionContext:Department": "IT", "kms:EncryptionContextKeys": ["aws:s3:arn", "Department"]})
    assert evaluate_grants(sub, Request(who, "kms:Decrypt", KEY, context=wider)).verdict == ALLOW
    assert evaluate_grants(eq, Request(who, "kms:Decrypt", KEY, context=wider)).verdict == NOT_ALLOWED
    case = {"kms:EncryptionContext:aws:s3:arn": obj.upper(), "kms:EncryptionContextKeys": ["aws:s3:arn"]}
    assert evaluate_grants(sub, Request(who, "kms:Decrypt", KEY, context=case)).verdict == NOT_ALLOWED
    bucket_key = s3_kms_context(BUCKET, "a.txt", bucket_key=True)
    assert evaluate_grants(sub, Request(who, "kms:Decrypt", KEY, context=bucket_key)).verdict == NOT_ALLOWED
    d = evaluate_grants(sub, Request(who, "kms:Decrypt", KEY))
    assert d.verdict == DEPENDS and d.depends_on == ("kms:EncryptionContext:AWS:S3:ARN (grant constraint EncryptionContextSubset)",)
    e = evaluate_grants(eq, Request(who, "kms:Decrypt", KEY, context={"kms:EncryptionContext:aws:s3:arn": obj}))
    assert e.verdict == DEPENDS and "kms:EncryptionContextKeys" in e.depends_on[0]
    assert evaluate_grants(sub, Request(who, "kms:DescribeKey", KEY)).verdict == ALLOW


def test_combine_key_policy_or_grants_with_key_policy_deny_winning():
    """[KMS-GRANTS] key policy and grants both can allow; [IAM-EVAL] an explicit Deny wins."""
    who = role(B, "etl")
    grants = [grant("g-etl", who, ["Decrypt"])]
    req = Request(who, "kms:Decrypt", KEY)
    g = evaluate_grants(grants, req)
    nothing = evaluate_policy(policy({"Sid": "Admin", "Effect": "Allow", "Principal": {"AWS": A}, "Action": "kms:*", "Resource": "*"}),
                              req, kind="key")
    c = combine(nothing, g)
    assert (c.verdict, c.decided_by, c.source) == (ALLOW, "g-etl", "key policy + grants")
    deny = evaluate_policy(policy({"Sid": "NoB", "Effect": "Deny", "Principal": "*", "Action": "kms:*", "Resource": "*",
                                   "Condition": {"StringNotEquals": {"kms:CallerAccount": A}}}), req, kind="key")
    assert (combine(deny, g).verdict, combine(deny, g).decided_by) == (DENY, "NoB")
    maybe = evaluate_policy(policy({"Sid": "NoOutsideIps", "Effect": "Deny", "Principal": "*", "Action": "kms:*", "Resource": "*",
                                    "Condition": {"NotIpAddress": {"aws:SourceIp": "203.0.113.0/24"}}}), req, kind="key")
    m = combine(maybe, g)
    assert (m.verdict, m.decided_by) == (DEPENDS, "NoOutsideIps") and "aws:SourceIp (NotIpAddress)" in m.depends_on
    none = combine(nothing, evaluate_grants([], req))
    assert none.verdict == NOT_ALLOWED and "no grant allows" in none.reason
    dep = combine(nothing, evaluate_grants([grant("g-c", who, ["Decrypt"], {"EncryptionContextSubset": {"k": "v"}})], req))
    assert dep.verdict == DEPENDS and dep.decided_by == "g-c"
    assert isinstance(dep, Decision) and dep.as_dict()["depends_on"] == list(dep.depends_on)


# =============================================================================================
# Remediation
# =============================================================================================

def test_kms_default_docs_fix_renders_key_user_statement_and_create_grant():
    """[KMS-DEFAULT] "Allows key users to use the KMS key" statement shape, plus [KMS-COND]
    kms:ViaService "s3.<region>.amazonaws.com"; the AWS CLI `aws kms create-grant` command."""
    etl = role(B, "etl")
    f = fix(etl, KEY, ["kms:Decrypt", "GenerateDataKey"], via_s3_region="us-east-1", sid="AllowEtlThroughS3")
    assert f.statement == {"Sid": "AllowEtlThroughS3", "Effect": "Allow", "Principal": {"AWS": etl},
                           "Action": ["kms:Decrypt", "kms:GenerateDataKey"], "Resource": "*",
                           "Condition": {"StringEquals": {"kms:ViaService": "s3.us-east-1.amazonaws.com"}}}
    assert json.loads(f.statement_json) == f.statement
    assert f.create_grant == (f"aws kms create-grant --key-id {KEY} --grantee-principal {etl} "
                              f"--operations Decrypt GenerateDataKey --region us-east-1")
    assert any("cross-account" in n for n in f.notes) and any("kms:ViaService" in n for n in f.notes)
    # the rendered statement, added to the key policy, does allow the question
    fixed = evaluate_policy(policy(f.statement), Request(etl, "kms:Decrypt", KEY, context=VIA_S3), kind="key")
    assert fixed.verdict == ALLOW
    g = fix(etl, KEY, ["kms:Decrypt"], grant_name="etl read", encryption_context_subset={"aws:s3:arn": f"arn:aws:s3:::{BUCKET}"})
    assert "--name 'etl read'" in g.create_grant and "EncryptionContextSubset" in g.create_grant
    assert g.statement["Action"] == "kms:Decrypt" and "Condition" not in g.statement


def test_fix_refuses_wildcards_and_knows_what_a_grant_cannot_do():
    with pytest.raises(ValueError):
        fix("*", KEY, ["kms:Decrypt"])
    svc = fix("logs.us-east-1.amazonaws.com", KEY, ["kms:GenerateDataKey"])
    assert svc.statement["Principal"] == {"Service": "logs.us-east-1.amazonaws.com"} and svc.create_grant is None
    wild = fix(role(A, "app"), KEY, ["kms:GenerateDataKey*"])
    assert wild.create_grant is None and any("no grant can allow" in n for n in wild.notes)
    root = fix(f"arn:aws:iam::{B}:root", KEY, ["kms:Decrypt"])
    assert any("delegates to account" in n for n in root.notes)
