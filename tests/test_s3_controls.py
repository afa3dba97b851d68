"""The S3 controls a security team expects, each driven to every status it can return on synced fixtures
(tests/s3_controls_world.py), the `error` ones by refusing, on the wire, the call that reads what decides:

- s3_bucket_tls_not_required: pass tls-ok, tls-split; fail private (no policy), tls-reads-only (near miss);
  error: GetBucketPolicy refused.
- s3_bucket_public_access_block_disabled: pass tls-ok; fail private, public-policy-restricted, blocked-*;
  error: GetPublicAccessBlock refused.
- s3_account_public_access_block_disabled: pass S3C_BLOCKED; fail S3C_OPEN (none), S3C_PARTIAL; error:
  S3 Control's GetPublicAccessBlock refused.
- s3_bucket_acls_enabled: pass tls-ok; fail private, public-acl; error: GetBucketOwnershipControls refused.
- s3_bucket_publicly_accessible: pass private and the twins Block Public Access neutralises; fail
  public-policy, public-acl, ap-open, mrap-open; error: the policy, the bucket's, an access point's or the
  account's Block Public Access unread where it decides.
- s3_access_point_public_access_block_disabled: pass s3c-ap-blocked; fail s3c-ap-open; error: GetAccessPoint
  or ListAccessPoints refused.
- s3_multi_region_access_point_public_access_block_disabled: pass s3c-mrap-blocked; fail s3c-mrap-open;
  error: ListMultiRegionAccessPoints refused.
- s3_sse_c_not_blocked (the bucket policy): pass ssec-policy; fail private, tls-reads-only; error:
  GetBucketPolicy refused.

moto creates buckets without Block Public Access or Object Ownership (as AWS did before April 2023); the
world sets both where a case needs them. moto authorises S3 Control's GetPublicAccessBlock as
s3:GetPublicAccessBlock, not AWS's s3:GetAccountPublicAccessBlock: the audit roles hold the shipped policy
plus MOTO_S3_ACTION_ALIASES (plugin/demo/world.py). No answer needed shaping for these controls: moto's
GetAccessPoint returns PublicAccessBlockConfiguration, its Multi-Region Access Point reports their
PublicAccessBlock, and its GetBucketPolicyStatus says IsPublic for the unconditioned "*" statements here.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any, Callable

import duckdb
import pytest

from .s3_controls_world import ACCOUNTS, CASES, S3C_BLOCKED, S3C_OPEN, S3C_PARTIAL, S3ControlCases
from .test_checks import _statuses, _sync

TLS = "s3_bucket_tls_not_required"
BUCKET_BPA = "s3_bucket_public_access_block_disabled"
ACCOUNT_BPA = "s3_account_public_access_block_disabled"
ACLS = "s3_bucket_acls_enabled"
PUBLIC = "s3_bucket_publicly_accessible"
AP_BPA = "s3_access_point_public_access_block_disabled"
MRAP_BPA = "s3_multi_region_access_point_public_access_block_disabled"
SSEC = "s3_sse_c_not_blocked"
ALL_FOUR = "BlockPublicAcls=true,IgnorePublicAcls=true,BlockPublicPolicy=true,RestrictPublicBuckets=true"


def _account(account: str) -> str:
    return f"arn:aws:s3::{account}:account"


@pytest.fixture(scope="module")
def s3c(worlds) -> S3ControlCases:
    """The cases tests/s3_controls_world.py built in the `worlds` fixture (before IAM enforcement)."""
    return CASES


@pytest.fixture(scope="module")
def synced(world, s3c, tmp_path_factory) -> tuple[dict, Path, list]:
    """The three accounts synced once: the checks' results, the database, and the calls on the wire."""
    db = tmp_path_factory.mktemp("s3-controls") / "posture.duckdb"
    mark = world.server.mark()
    _sync(world, db, ACCOUNTS, regions=["us-east-1"])
    return _statuses(db), db, world.server.since(mark)


def _refusing(world, tmp_path: Path, refuse: Callable[[str, str, bytes], bool], name: str) -> dict:
    """S3C_OPEN synced while AWS refuses (AccessDenied) the calls `refuse(service, operation, detail)` picks."""
    def fault(service: str, op: str, detail: bytes) -> Any:
        return (403, "AccessDenied") if refuse(service, op, detail) else None

    world.server.faults.append(fault)
    try:
        db = tmp_path / f"{name}.duckdb"
        _sync(world, db, [S3C_OPEN], regions=["us-east-1"], max_retries=0)
    finally:
        world.server.faults.remove(fault)
    return _statuses(db)


def _on(name: str) -> bytes:
    """The request detail of an S3 call about bucket `name` (path-style: /<bucket>?<subresource>)."""
    return f"/{name}?".encode()


@pytest.fixture(scope="module")
def refused(world, s3c, tmp_path_factory) -> dict:
    """Per-resource reads refused, one resource each: tls-ok's policy, private's policy and policy status,
    public-acl's Block Public Access, public-acl-ignored's Object Ownership, the access point s3c-ap-open."""
    b = s3c.buckets
    per_bucket = {("GetBucketPolicy", b["tls-ok"]), ("GetBucketPolicy", b["private"]),
                  ("GetBucketPolicyStatus", b["private"]), ("GetPublicAccessBlock", b["public-acl"]),
                  ("GetBucketOwnershipControls", b["public-acl-ignored"])}

    def refuse(service: str, op: str, detail: bytes) -> bool:
        if service == "s3control":
            return op == "GetAccessPoint" and detail.startswith(b"/v20180820/accesspoint/s3c-ap-open?")
        return any(op == o and detail.startswith(_on(n)) for o, n in per_bucket)

    return _refusing(world, tmp_path_factory.mktemp("refused"), refuse, "refused")


@pytest.fixture(scope="module")
def unlisted(world, s3c, tmp_path_factory) -> dict:
    """The account-level reads refused: its Block Public Access, its access points, its Multi-Region Access Points."""
    def refuse(service: str, op: str, detail: bytes) -> bool:
        return service == "s3control" and op in ("GetPublicAccessBlock", "ListAccessPoints",
                                                 "ListMultiRegionAccessPoints")

    return _refusing(world, tmp_path_factory.mktemp("unlisted"), refuse, "unlisted")


# ---------------------------------------------------------------------------------------------
# The table and the calls

def test_aws_s3_accounts_one_row_per_account_as_cloudquery_has_it(synced):
    _, db, calls = synced
    con = duckdb.connect(str(db), read_only=True)
    try:
        cols = [r[0] for r in con.execute("DESCRIBE aws_s3_accounts").fetchall()]
        rows = {r[0]: r[1:] for r in con.execute(
            "SELECT account_id, block_public_acls, block_public_policy, ignore_public_acls, restrict_public_buckets, "
            "config_exists FROM aws_s3_accounts").fetchall()}
        points = {r[0]: r[1] for r in con.execute(
            "SELECT name, public_access_block_configuration FROM aws_s3_access_points").fetchall()}
        coverage = {(r[0], r[1]) for r in con.execute(
            "SELECT account_id, status FROM aws_encryption_sync_coverage "
            "WHERE table_name = 'aws_s3_accounts'").fetchall()}
    finally:
        con.close()
    # CloudQuery's columns, in its order (the Go table unwraps PublicAccessBlockConfiguration, then ConfigExists)
    assert cols[-6:] == ["account_id", "block_public_acls", "block_public_policy", "ignore_public_acls",
                         "restrict_public_buckets", "config_exists"]
    assert rows == {S3C_OPEN: (None, None, None, None, False),  # NoSuchPublicAccessBlockConfiguration: no error
                    S3C_BLOCKED: (True, True, True, True, True),
                    S3C_PARTIAL: (True, False, True, False, True)}
    assert coverage == {(a, "ok") for a in ACCOUNTS}
    # one GetPublicAccessBlock per account on the wire, and one GetAccessPoint per access point
    ops = Counter(op for svc, op, _ in calls if svc == "s3control")
    assert ops["GetPublicAccessBlock"] == len(ACCOUNTS)
    assert ops["GetAccessPoint"] == 2
    assert '"RestrictPublicBuckets":false' in points["s3c-ap-open"]
    assert '"RestrictPublicBuckets":true' in points["s3c-ap-blocked"]


# ---------------------------------------------------------------------------------------------
# TLS-only bucket policies (Security Hub S3.5, CIS 2.1.1)

def test_tls_required_passes_in_one_statement_or_two(synced, s3c):
    res = synced[0][TLS]
    status, reason = res[s3c.arn("tls-ok")]
    assert status == "pass" and "(statement DenyInsecureTransport)" in reason
    status, reason = res[s3c.arn("tls-split")]  # {"AWS": "*"}, BoolIfExists ["false"], bucket and objects apart
    assert status == "pass" and "(statements DenyHttpBucket, DenyHttpObjects)" in reason


def test_tls_not_required_fails_with_the_statement_to_add(synced, s3c):
    res = synced[0][TLS]
    arn, name = s3c.arn("private"), s3c.buckets["private"]
    status, reason = res[arn]
    assert status == "fail" and f"Bucket {name} has no bucket policy, so S3 accepts requests over plain HTTP" in reason
    assert (f"Fix: aws s3api put-bucket-policy --bucket {name} --policy '{{\"Version\":\"2012-10-17\",\"Statement\":"
            f"[{{\"Sid\":\"DenyInsecureTransport\",\"Effect\":\"Deny\",\"Principal\":\"*\",\"Action\":\"s3:*\","
            f"\"Resource\":[\"{arn}\",\"{arn}/*\"],"
            "\"Condition\":{\"Bool\":{\"aws:SecureTransport\":\"false\"}}}]}'"
            ) in reason
    # a near miss names what its statement lacks, and the fix adds to the existing policy
    status, reason = res[s3c.arn("tls-reads-only")]
    assert status == "fail"
    assert "statement DenyHttpReads denies plain HTTP but only for s3:GetObject, not on the bucket itself" in reason
    assert "add the statement" in reason and "put-bucket-policy replaces it whole" in reason
    # a public-read policy is no TLS policy
    assert res[s3c.arn("public-policy")][0] == "fail"


def test_tls_policy_unread_is_an_error(refused, s3c):
    status, reason = refused[TLS][s3c.arn("tls-ok")]
    assert status == "error"
    assert reason == (f"The bucket policy of {s3c.buckets['tls-ok']} could not be read (AccessDenied, see "
                      "aws_encryption_sync_errors), so whether it refuses plain HTTP is unknown.")


# ---------------------------------------------------------------------------------------------
# Block Public Access: bucket (S3.8), account (S3.1)

def test_bucket_level_block_public_access(synced, s3c):
    res = synced[0][BUCKET_BPA]
    assert res[s3c.arn("tls-ok")] == (
        "pass", f"Bucket {s3c.buckets['tls-ok']} has all four Block Public Access settings on.")
    name = s3c.buckets["private"]
    status, reason = res[s3c.arn("private")]
    assert status == "fail"
    assert (f"Bucket {name} has no Block Public Access configuration of its own (all four off); account {S3C_OPEN}'s "
            "settings don't cover BlockPublicAcls, IgnorePublicAcls, BlockPublicPolicy, RestrictPublicBuckets either, "
            "so a public bucket policy or ACL would take effect") in reason
    assert f"Fix: aws s3api put-public-access-block --bucket {name} --public-access-block-configuration {ALL_FOUR}." \
        in reason
    status, reason = res[s3c.arn("public-policy-restricted")]
    assert status == "fail" and "has Block Public Access BlockPublicAcls, IgnorePublicAcls, BlockPublicPolicy off" \
        in reason
    # the account-level settings cover it today: still a fail (S3.8 is the bucket's own), saying so
    status, reason = res[s3c.arn("blocked-public-policy")]
    assert status == "fail" and f"account {S3C_BLOCKED}'s settings cover it for now" in reason


def test_bucket_level_block_public_access_unread_is_an_error(refused, s3c):
    status, reason = refused[BUCKET_BPA][s3c.arn("public-acl")]
    assert status == "error"
    assert "could not be read (AccessDenied, see aws_encryption_sync_errors)" in reason


def test_account_level_block_public_access(synced):
    res = synced[0][ACCOUNT_BPA]
    assert set(res) == {_account(a) for a in ACCOUNTS}
    assert res[_account(S3C_BLOCKED)] == (
        "pass", f"Account {S3C_BLOCKED} has all four S3 Block Public Access settings on.")
    status, reason = res[_account(S3C_OPEN)]
    assert status == "fail"
    assert f"Account {S3C_OPEN} has no S3 Block Public Access configuration (all four off)" in reason
    assert "11 of its 12 synced buckets lack one of the four" in reason
    assert (f"Fix: aws s3control put-public-access-block --account-id {S3C_OPEN} --public-access-block-configuration "
            f"{ALL_FOUR}.") in reason
    status, reason = res[_account(S3C_PARTIAL)]
    assert status == "fail" and "has S3 Block Public Access BlockPublicPolicy, RestrictPublicBuckets off" in reason


def test_account_level_block_public_access_unread_is_an_error(unlisted):
    res = unlisted[ACCOUNT_BPA]
    assert res == {_account(S3C_OPEN): (
        "error", f"The S3 Block Public Access settings of account {S3C_OPEN} could not be read "
                 "(s3control:GetPublicAccessBlock: AccessDenied, see aws_encryption_sync_errors).")}
    # and the sync says the account's scope was not read
    status, reason = unlisted["sync_coverage"][f"{S3C_OPEN}/s3control:GetPublicAccessBlock"]
    assert status == "error" and "aws_s3_accounts there was not read" in reason


# ---------------------------------------------------------------------------------------------
# ACLs disabled (S3.12)

def test_acls_disabled(synced, refused, s3c):
    res = synced[0][ACLS]
    assert res[s3c.arn("tls-ok")][0] == "pass"
    name = s3c.buckets["public-acl"]
    status, reason = res[s3c.arn("public-acl")]
    assert status == "fail"
    assert f"Bucket {name} has ACLs in force (Object Ownership ObjectWriter) and its ACL grants READ to AllUsers" \
        in reason
    # the ACL must be private before S3 accepts BucketOwnerEnforced
    assert (f"Fix: move the ACL's grants to others into the bucket policy, then aws s3api put-bucket-acl --bucket {name} "
            f"--acl private, then aws s3api put-bucket-ownership-controls --bucket {name} --ownership-controls "
            "'Rules=[{ObjectOwnership=BucketOwnerEnforced}]'.") in reason
    status, reason = res[s3c.arn("private")]
    assert status == "fail" and "(Object Ownership not configured, which means ObjectWriter); its ACL grants only the " \
        "owner. Fix: aws s3api put-bucket-ownership-controls" in reason
    status, reason = refused[ACLS][s3c.arn("public-acl-ignored")]
    assert status == "error" and "could not be read (AccessDenied" in reason


# ---------------------------------------------------------------------------------------------
# Public buckets: policy, ACL, access points, and the Block Public Access that neutralises them

def test_public_through_the_bucket_policy(synced, s3c):
    res = synced[0][PUBLIC]
    name = s3c.buckets["public-policy"]
    status, reason = res[s3c.arn("public-policy")]
    assert status == "fail"
    assert reason == (f"Bucket {name} is public: its bucket policy admits anyone (statement PublicRead: read). No Block "
                      f"Public Access setting stops it: RestrictPublicBuckets is off for the bucket and for account "
                      f"{S3C_OPEN}. Fix: aws s3api put-public-access-block --bucket {name} "
                      f"--public-access-block-configuration {ALL_FOUR} (it also holds for its access points), then "
                      "remove the public policy statement.")
    # the twins: RestrictPublicBuckets of the bucket, or of the account
    status, reason = res[s3c.arn("public-policy-restricted")]
    assert status == "pass"
    assert "its bucket policy admits anyone (statement PublicRead: read), but RestrictPublicBuckets (the bucket's) " \
           "limits it to the account and AWS services" in reason
    status, reason = res[s3c.arn("blocked-public-policy")]
    assert status == "pass" and f"but RestrictPublicBuckets (account {S3C_BLOCKED}'s) limits it" in reason
    assert res[s3c.arn("private")] == ("pass", f"Bucket {s3c.buckets['private']} is not public: no bucket policy "
                                               "statement, ACL grant or access point admits anyone.")


def test_public_through_the_acl(synced, s3c):
    res = synced[0][PUBLIC]
    status, reason = res[s3c.arn("public-acl")]
    assert status == "fail"
    assert "is public: its ACL grants READ to AllUsers. No Block Public Access setting stops it: IgnorePublicAcls is " \
           f"off for the bucket and for account {S3C_OPEN}" in reason
    assert "then remove the public ACL grant." in reason
    status, reason = res[s3c.arn("public-acl-ignored")]
    assert status == "pass" and "its ACL grants READ to AllUsers, but IgnorePublicAcls (the bucket's) makes S3 " \
                                "ignore it" in reason
    status, reason = res[s3c.arn("blocked-public-acl")]
    assert status == "pass" and f"IgnorePublicAcls (account {S3C_BLOCKED}'s)" in reason


def test_public_through_an_access_point_or_a_multi_region_access_point(synced, s3c):
    res = synced[0][PUBLIC]
    status, reason = res[s3c.arn("ap-open")]
    assert status == "fail"
    assert ("is public: access point s3c-ap-open (its own RestrictPublicBuckets off; statement "
            "PublicReadThroughAccessPoint) admits anyone") in reason
    assert "then remove the public access point policy" in reason
    status, reason = res[s3c.arn("mrap-open")]
    assert status == "fail" and "Multi-Region Access Point s3c-mrap-open (its own RestrictPublicBuckets off" in reason
    # the same public policy on an access point with its default settings
    assert res[s3c.arn("ap-blocked")] == (
        "pass", f"Bucket {s3c.buckets['ap-blocked']} is not public: access point s3c-ap-blocked admits anyone "
                "(statement PublicReadThroughAccessPoint), but its own RestrictPublicBuckets stops it.")


def test_public_unknown_is_an_error_naming_what_was_not_read(refused, unlisted, s3c):
    # the policy and its status refused: nothing says whether it admits anyone
    status, reason = refused[PUBLIC][s3c.arn("private")]
    assert status == "error" and "its bucket policy could not be read (GetBucketPolicy: AccessDenied)" in reason
    # a public ACL, and the bucket's Block Public Access (IgnorePublicAcls) refused
    status, reason = refused[PUBLIC][s3c.arn("public-acl")]
    assert status == "error"
    assert "its ACL grants READ to AllUsers and the bucket's Block Public Access (GetPublicAccessBlock: AccessDenied) " \
           "could not be read, which decides whether IgnorePublicAcls stops it" in reason
    # a public access point whose own settings were refused
    status, reason = refused[PUBLIC][s3c.arn("ap-open")]
    assert status == "error"
    assert "access point s3c-ap-open admits anyone (statement PublicReadThroughAccessPoint)" in reason
    # the account's settings refused: the public policy may or may not be restricted by them
    status, reason = unlisted[PUBLIC][s3c.arn("public-policy")]
    assert status == "error"
    assert f"account {S3C_OPEN}'s (s3control:GetPublicAccessBlock) could not be read, which decides whether " \
           "RestrictPublicBuckets stops it" in reason
    # what the bucket's own settings decide stays decided
    assert unlisted[PUBLIC][s3c.arn("public-policy-restricted")][0] == "pass"


# ---------------------------------------------------------------------------------------------
# Access points (S3.19) and Multi-Region Access Points (S3.24)

def test_access_point_block_public_access(synced, refused, unlisted, s3c):
    res = synced[0][AP_BPA]
    assert res[s3c.access_points["s3c-ap-blocked"]] == (
        "pass", f"Access point s3c-ap-blocked (bucket {s3c.buckets['ap-blocked']}) has all four Block Public Access "
                "settings on.")
    status, reason = res[s3c.access_points["s3c-ap-open"]]
    assert status == "fail"
    assert ("has Block Public Access BlockPublicAcls, IgnorePublicAcls, BlockPublicPolicy, RestrictPublicBuckets off; "
            "its policy admits anyone (statement PublicReadThroughAccessPoint)") in reason
    assert (f"Fix: aws s3control create-access-point --account-id {S3C_OPEN} --name s3c-ap-open-blocked --bucket "
            f"{s3c.buckets['ap-open']} --region us-east-1 (all four on by default)") in reason
    status, reason = refused[AP_BPA][s3c.access_points["s3c-ap-open"]]
    assert status == "error" and "could not be read (GetAccessPoint: AccessDenied" in reason
    assert unlisted[AP_BPA] == {f"arn:aws:s3:us-east-1:{S3C_OPEN}:accesspoint/*": (
        "error", f"The access points of account {S3C_OPEN} in us-east-1 could not be listed (s3control:ListAccessPoints: "
                 "AccessDenied), so their Block Public Access settings are unknown.")}


def test_multi_region_access_point_block_public_access(synced, unlisted, s3c):
    res = synced[0][MRAP_BPA]
    assert res[s3c.mraps["s3c-mrap-blocked"]][0] == "pass"
    status, reason = res[s3c.mraps["s3c-mrap-open"]]
    assert status == "fail"
    assert "its policy admits anyone (statement PublicReadThroughMrap)" in reason
    assert (f"Fix: aws s3control create-multi-region-access-point --account-id {S3C_OPEN} --details "
            f"'{{\"Name\":\"s3c-mrap-open-blocked\",\"Regions\":[{{\"Bucket\":\"{s3c.buckets['mrap-open']}\"}}]}}' "
            "--region us-west-2") in reason
    assert unlisted[MRAP_BPA] == {f"arn:aws:s3::{S3C_OPEN}:accesspoint/*": (
        "error", f"The Multi-Region Access Points of account {S3C_OPEN} could not be listed (s3control:"
                 "ListMultiRegionAccessPoints: AccessDenied), so their Block Public Access settings are unknown.")}


# ---------------------------------------------------------------------------------------------
# SSE-C blocked by a bucket policy

def test_sse_c_blocked_by_the_bucket_policy(synced, refused, s3c):
    res = synced[0][SSEC]
    assert res[s3c.arn("ssec-policy")] == (
        "pass", "SSE-C is blocked by bucket policy statement DenySseC (Deny s3:PutObject when the "
                "x-amz-server-side-encryption-customer-algorithm header is present).")
    name = s3c.buckets["private"]
    status, reason = res[s3c.arn("private")]
    assert status == "fail"
    assert (f"Fix: aws s3api put-bucket-encryption --bucket {name} --server-side-encryption-configuration "
            "'{\"Rules\":[{\"ApplyServerSideEncryptionByDefault\":{\"SSEAlgorithm\":\"AES256\"},"
            "\"BlockedEncryptionTypes\":{\"EncryptionType\":[\"SSE-C\"]}}]}'") in reason
    # a statement that denies something else does not count; the fix keeps the bucket's own default encryption
    assert res[s3c.arn("tls-ok")][0] == "fail"
    status, reason = res[s3c.arn("tls-reads-only")]
    assert status == "fail" and ("'{\"Rules\":[{\"ApplyServerSideEncryptionByDefault\":{\"SSEAlgorithm\":\"aws:kms\","
                                 f"\"KMSMasterKeyID\":\"{s3c.key}\"}},\"BucketKeyEnabled\":true,"
                                 "\"BlockedEncryptionTypes\":{\"EncryptionType\":[\"SSE-C\"]}}]}' (its current "
                                 "default encryption, with SSE-C blocked)") in reason
    # the policy unread, and the default encryption does not block it: unknown
    status, reason = refused[SSEC][s3c.arn("tls-ok")]
    assert status == "error" and "could not be read (AccessDenied" in reason
