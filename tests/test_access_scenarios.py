"""Who may reach a bucket, and does its key let them: one named scenario per way in, each with its twin,
through moto's server with IAM enforcement on, synced into one DuckDB file and judged by the bundled
checks (s3_aws_managed_key_cross_account, s3_key_unusable_by_bucket_principals,
s3_key_in_another_account_unusable, s3_log_target_sse_kms, s3_replication_replica_key_unusable,
kms_key_external_access).

Each row of SCENARIOS names the check, the resource, the status it must return and what its reason
must name: the principal (or principal set), the statement, grant or path that admits or refuses it,
and for a failure the fix. The resources are built through the AWS API before IAM enforcement:
tests/scenario_world.py (accounts SHARING and PARTNER, in an organisation of their own), and reused
from plugin/demo/world.py (the organisation-wide share), tests/check_world.py (the central key
account) and tests/access_world.py (logging into SSE-KMS, replication to an account that is not
synced).

Where moto can't express what AWS does, the scenario says so (`moto`) and how it was shaped: at the
emulator's edge, per request (plugin/demo/world.py `shape_s3_access_answers`: GetBucketAcl,
ListAccessPoints, ListMultiRegionAccessPoints), in moto's model (organisation membership, the
`aws/s3` key), or in how the world is built.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import dataclass
from typing import Any

import duckdb
import pytest

from plugin.demo.world import COMPUTE, DATA, canonical_user_id

from .access_world import ACCESS, PEER
from .check_world import CENTRAL, CHECKS
from .scenario_world import ANALYST, ETL, FOREIGN_ORG, PARTNER, READER, REPLICATION_ROLE, SHARING, WRITER
from .test_checks import _statuses, _sync

ACCOUNTS = [DATA, COMPUTE, CHECKS, CENTRAL, ACCESS, SHARING, PARTNER]

AWS_MANAGED = "s3_aws_managed_key_cross_account"
PRINCIPALS = "s3_key_unusable_by_bucket_principals"
CENTRAL_KEY = "s3_key_in_another_account_unusable"
LOG_TARGET = "s3_log_target_sse_kms"
REPLICA_KEY = "s3_replication_replica_key_unusable"
EXTERNAL = "kms_key_external_access"

# What moto can't express, and how the scenario is shaped (said once, named by each scenario).
ORG_MODEL = ("moto has no organisation invitations and makes up the ids of the accounts it creates: the members "
             "are given their real ids in moto's model (build_organisation), so DescribeOrganization answers "
             "from each")
ACL_EDGE = ("moto gives every account one S3 canonical user id: GetBucketAcl's owner is rewritten at the "
            "emulator's edge to the bucket account's own, and PARTNER's is learnt from its own bucket's ACL")
AP_EDGE = ("moto lists every access point in every Region, without BucketAccountId: ListAccessPoints is "
           "filtered to the request's Region and given BucketAccountId at the emulator's edge")
MRAP_EDGE = "moto's ListMultiRegionAccessPoints Regions lack BucketAccountId: added at the emulator's edge"
AWS_S3_MODEL = ("moto reports aws/s3 as a CUSTOMER key with its own default policy: set to KeyManager AWS with "
                "the documented aws/s3 policy in moto's model")
DENY_WORLD = ("moto applies a key policy's Deny to DescribeKey whatever its Principal and Condition say (it "
              "would lock the audit role out of the key): the Deny names the data operations instead of kms:*")
ENFORCED_WORLD = ("AWS refuses BucketOwnerEnforced while the ACL grants another account "
                  "(InvalidBucketAclWithObjectOwnership); moto keeps the grant, so it is there and must be ignored")


@dataclass(frozen=True)
class Scenario:
    name: str
    check: str
    resource: str                # <world>:<name>: bucket:, key: (tests/scenario_world.py), demo-bucket:,
                                 # check-bucket:, access-bucket:
    status: str
    reason: tuple[str, ...]      # what the reason must contain: principal, statement/grant/path, fix
    moto: str = ""               # what moto can't express here, and how it was shaped


S = Scenario
SCENARIOS: list[Scenario] = [
    # ---- Sharing a bucket that is on aws/s3: every way another account gets in, and twins that don't
    S("org-wide-sharing-on-aws-s3", AWS_MANAGED, "demo-bucket:org-shared", "fail", (
        "every account of organisation {demo_org} (3 accounts known) (read, bucket policy statement OrganisationRead)",
        "their requests fail with AccessDenied from KMS", "Fix: switch the default to a customer managed key",
        '"KMSMasterKeyID":"<customer managed key ARN>"',
        "put-bucket-encryption --bucket {bucket}"), moto=f"{ORG_MODEL}; {AWS_S3_MODEL}"),
    S("public-bucket-on-aws-s3", AWS_MANAGED, "bucket:public", "fail", (
        "anyone (public) (read, bucket policy statement PublicRead)", "put-bucket-encryption --bucket {bucket}")),
    S("access-point-delegation-on-aws-s3", AWS_MANAGED, "bucket:ap-delegated", "fail", (
        "account {partner} (read, access point {ap} statement PartnerReadThroughAccessPoint)",
        "put-bucket-encryption --bucket {bucket}"), moto=AP_EDGE),
    S("access-point-without-delegation-on-aws-s3", AWS_MANAGED, "bucket:ap-not-delegated", "pass", (
        "shared with no other account",
        "refused: account {partner} (read, access point {ap}: not allowed by the policies on its path)"), moto=AP_EDGE),
    S("multi-region-access-point-on-aws-s3", AWS_MANAGED, "bucket:mrap", "fail", (
        "account {partner} (read, multi region access point {ap} statement PartnerReadThroughMrap)",
        "put-bucket-encryption --bucket {bucket}"), moto=MRAP_EDGE),
    S("acl-grant-with-acls-in-force-on-aws-s3", AWS_MANAGED, "bucket:acl-in-force", "fail", (
        "canonical user {partner_canonical} (account {partner}) (read, acl statement ACL READ)",
        "put-bucket-encryption --bucket {bucket}"), moto=ACL_EDGE),
    S("acl-grant-with-acls-disabled-on-aws-s3", AWS_MANAGED, "bucket:acl-disabled", "pass", (
        "shared with no other account (bucket policy, ACL, access points)",), moto=f"{ACL_EDGE}; {ENFORCED_WORLD}"),
    S("allow-with-not-principal-on-aws-s3", AWS_MANAGED, "bucket:not-principal", "fail", (
        "anyone except arn:aws:iam::{sharing}:root (read, bucket policy statement AllButSharing)",
        "put-bucket-encryption --bucket {bucket}")),
    S("get-object-version-only-on-aws-s3", AWS_MANAGED, "bucket:version-only", "fail", (
        "account {partner} (read, bucket policy statement VersionsOnly)", "put-bucket-encryption --bucket {bucket}")),
    S("replicate-object-only-on-aws-s3", AWS_MANAGED, "bucket:replicate-only", "fail", (
        "account {partner} (write, bucket policy statement ReplicasOnly)", "put-bucket-encryption --bucket {bucket}")),
    S("perimeter-deny-stops-leftover-allow", AWS_MANAGED, "bucket:perimeter-deny", "pass", (
        "shared with no other account",
        "refused: account {partner} (read, bucket policy: stopped by the explicit Deny of statement PerimeterDeny)")),
    S("leftover-allow-without-perimeter-deny", AWS_MANAGED, "bucket:leftover-allow", "fail", (
        "account {partner} (read, bucket policy statement LeftoverPartnerRead)",
        "put-bucket-encryption --bucket {bucket}")),

    # ---- The default switched away from aws/s3: objects written before may still be under it
    S("default-switched-to-customer-managed-key", AWS_MANAGED, "bucket:default-switched-to-cmk", "pass", (
        "Default fixed: default encryption uses customer managed key {key}, created {key_date}",
        "{etl} (read, bucket policy statement Share)",
        "Objects written before {key_day} may still be under aws/s3", "S3 Batch Operations copy"),
      moto="moto can't create a bucket in the past: the bucket's creation date is set a month back in moto's model"),
    S("customer-managed-key-older-than-the-bucket", AWS_MANAGED, "bucket:role-match", "skip", (
        "Not encrypted with an AWS managed key (SSE-KMS, key {key})",)),

    # ---- Customer managed keys: the key side, principal by principal
    S("key-deny-on-caller-account-next-to-allow", PRINCIPALS, "bucket:key-deny-caller-account", "fail", (
        "account {partner} may read (bucket policy, statement Share)",
        "but key {key} denies kms:Decrypt (DenyOutsideCallers)",
        "Fix: change key policy statement DenyOutsideCallers so that it does not apply to account {partner}"),
      moto=DENY_WORLD),
    S("key-deny-exempting-the-partner", PRINCIPALS, "bucket:key-deny-exempts-partner", "pass", (
        "may use key {key}", "account {partner} (read, allowed by PartnerUse, which admits account {partner} as a whole"),
      moto=DENY_WORLD),
    S("key-admits-analyst-bucket-admits-etl", PRINCIPALS, "bucket:role-mismatch", "fail", (
        "{etl} may read (bucket policy, statement Share) but key {key} gives no kms:Decrypt",
        'Fix: add to the key policy { "Sid": "AllowetlUseOfTheKey", "Effect": "Allow", "Principal": { "AWS": "{etl}" }',
        "aws kms create-grant --key-id {key} --grantee-principal {etl} --operations Decrypt")),
    S("key-and-bucket-admit-etl", PRINCIPALS, "bucket:role-match", "pass", (
        "may use key {key}", "{etl} (read, allowed by EtlUse)")),
    S("key-admits-partner-root", PRINCIPALS, "bucket:key-admits-root", "pass", (
        "{etl} (read, allowed by PartnerAccountUse, which admits account {partner} as a whole: its own IAM policies "
        "must allow it too)",)),
    S("via-service-wrong-region", PRINCIPALS, "bucket:via-service-wrong-region", "fail", (
        "{etl} may read (bucket policy, statement Share) but key {key} gives no kms:Decrypt",
        'statement "EtlViaS3" does not apply: kms:ViaService (StringEquals) is false',
        '"Condition": { "StringEquals": { "kms:ViaService": "s3.us-east-1.amazonaws.com" } }')),
    S("via-service-right-region", PRINCIPALS, "bucket:via-service-right-region", "pass", (
        "{etl} (read, allowed by EtlViaS3)",)),
    S("context-prefix-with-bucket-key", PRINCIPALS, "bucket:context-prefix-bucket-key", "fail", (
        "{etl} may read (bucket policy, statement Share) but key {key} gives no kms:Decrypt",
        'statement "EtlReportsOnly" does not apply: kms:EncryptionContext:aws:s3:arn (StringLike) is false',
        '"Principal": { "AWS": "{etl}" }, "Action": "kms:Decrypt"')),
    S("context-prefix-without-bucket-key", PRINCIPALS, "bucket:context-prefix-no-bucket-key", "pass", (
        "{etl} (read, allowed by EtlReportsOnly)",)),
    S("writer-with-generate-data-key-only", PRINCIPALS, "bucket:writer-generate-only", "fail", (
        "{writer} may write (bucket policy, statement Share) but key {key} gives no kms:Decrypt "
        "(multipart uploads need kms:Decrypt as well as kms:GenerateDataKey)",
        '"Principal": { "AWS": "{writer}" }, "Action": "kms:Decrypt"',
        "--grantee-principal {writer} --operations Decrypt")),
    S("writer-with-generate-data-key-and-decrypt", PRINCIPALS, "bucket:writer-generate-and-decrypt", "pass", (
        "{writer} (write, allowed by WriterUse)",)),
    S("grant-for-decrypt-without-key-statement", PRINCIPALS, "bucket:grant-decrypt", "pass", (
        "{reader} (read, allowed by {grant})",)),
    S("grant-with-matching-context-constraint", PRINCIPALS, "bucket:grant-context-matches", "pass", (
        "{reader} (read, allowed by {grant})",)),
    S("grant-with-mismatched-context-constraint", PRINCIPALS, "bucket:grant-context-mismatch", "fail", (
        "{reader} may read (bucket policy, statement Share) but key {key} gives no kms:Decrypt",
        "grant {grant} does not apply: its EncryptionContextSubset constraint "
        "aws:s3:arn=arn:aws:s3:::scn-some-other-bucket-{sharing} does not hold",
        "aws kms create-grant --key-id {key} --grantee-principal {reader} --operations Decrypt")),
    S("org-scoped-key-our-organisation", PRINCIPALS, "bucket:org-key-admits-org", "pass", (
        "{etl} (read, allowed by OrganisationUse)",), moto=ORG_MODEL),
    S("org-scoped-key-foreign-organisation", PRINCIPALS, "bucket:org-key-foreign-org", "fail", (
        "{etl} may read (bucket policy, statement Share) but key {key} gives no kms:Decrypt",
        'statement "OrganisationUse" does not apply: aws:PrincipalOrgID (StringEquals) is false',
        '"Principal": { "AWS": "{etl}" }'), moto=ORG_MODEL),
    S("org-wide-sharing-on-org-scoped-key", PRINCIPALS, "bucket:org-shared-cmk", "pass", (
        "every account of organisation {org} (3 accounts known) (read, allowed by OrganisationUse)",), moto=ORG_MODEL),
    S("org-wide-sharing-on-closed-key", PRINCIPALS, "bucket:org-shared-closed-cmk", "fail", (
        "every account of organisation {org} (3 accounts known) may read (bucket policy, statement OrganisationRead) "
        "but key {key} gives no kms:Decrypt",
        '"Principal": { "AWS": "*" }, "Action": "kms:Decrypt", "Resource": "*", "Condition": { "StringEquals": { '
        '"aws:PrincipalOrgID": "{org}", "kms:ViaService": "s3.us-east-1.amazonaws.com" } }'), moto=ORG_MODEL),
    S("source-ip-on-key-side-is-undecidable", PRINCIPALS, "bucket:source-ip", "error", (
        "can't be decided from the policies alone",
        "{etl} (read: key policy statement or grant EtlFromOffice depends on aws:SourceIp (IpAddress))")),

    # ---- A key held in a central key account
    S("central-key-not-admitting-bucket-account", CENTRAL_KEY, "check-bucket:central-closed", "fail", (
        "of account {central}, which does not admit the bucket's own account {checks} through S3",
        "write needs kms:GenerateDataKey, kms:Decrypt",
        'Fix: add to the key policy { "Sid": "Allow{checks}UseOfTheKey", "Effect": "Allow", "Principal": { "AWS": '
        '"arn:aws:iam::{checks}:root" }, "Action": [ "kms:GenerateDataKey", "kms:Decrypt" ]')),
    S("central-key-admitting-bucket-account", CENTRAL_KEY, "check-bucket:central-admits", "pass", (
        "of account {central} admits account {checks} through S3 (statement DataAccountsViaS3)",)),

    # ---- Server access logs
    S("log-delivery-into-sse-kms", LOG_TARGET, "access-bucket:logs", "fail", (
        "Server access logs of arn:aws:s3:::{access_logged} are delivered here",
        "SSE-KMS with {key}: S3 delivers server access logs only to SSE-S3 buckets",
        "Fix: aws s3api put-bucket-encryption --bucket {bucket} --server-side-encryption-configuration "
        "'{\"Rules\":[{\"ApplyServerSideEncryptionByDefault\":{\"SSEAlgorithm\":\"AES256\"}}]}'")),
    S("log-delivery-into-sse-s3", LOG_TARGET, "bucket:log-target-sse-s3", "pass", (
        "Server access logs of arn:aws:s3:::{scn_logged} are delivered here, encrypted with SSE-S3",)),

    # ---- Replication under a replica key
    S("replica-key-not-admitting-replication-role", REPLICA_KEY, "bucket:replica-key-closed", "fail", (
        "replication role {replication_role} writes replicas to arn:aws:s3:::{replica} but key {replica_key} gives it "
        "no kms:Encrypt",
        "Fix: aws kms create-grant --key-id {replica_key} --grantee-principal {replication_role} --operations Encrypt")),
    S("replica-key-admitting-replication-role", REPLICA_KEY, "bucket:replica-key-admits", "pass", (
        "replication role {replication_role} on {replica_key} (allowed by ReplicationRoleEncrypts)",)),
    S("replica-key-in-an-account-not-synced", REPLICA_KEY, "access-bucket:replicated", "error", (
        "replication role arn:aws:iam::{access_account}:role/replication on arn:aws:kms:us-east-1:{peer}:key/",
        "(unknown)")),

    # ---- Who a key policy lets in, by organisation
    S("key-scoped-to-foreign-organisation", EXTERNAL, "key:org-key-foreign-org", "fail", (
        f"every account of an organisation that is not ours {FOREIGN_ORG} via key_policy OrganisationUse",
        "Fix: remove or narrow those key policy statements (aws kms put-key-policy --key-id {key}")),
    S("key-scoped-to-our-organisation", EXTERNAL, "key:org-key-admits-org", "pass", (
        "every account of our organisation {org} via key_policy OrganisationUse",), moto=ORG_MODEL),
]


@pytest.fixture(scope="module")
def synced(world, worlds, tmp_path_factory) -> dict[str, Any]:
    """Every scenario account synced once into one DuckDB file, then the bundled checks run on it."""
    db = tmp_path_factory.mktemp("scenarios") / "posture.duckdb"
    _sync(world, db, ACCOUNTS)
    con = duckdb.connect(str(db), read_only=True)
    try:
        keys = dict(con.execute("SELECT bucket_arn, resolved_key_arn FROM aws_s3_bucket_encryption_keys").fetchall())
    finally:
        con.close()
    return {"checks": _statuses(db), "bucket_keys": keys}


def _arn(ref: str, worlds: Any) -> str:
    kind, name = ref.split(":", 1)
    if kind == "bucket":
        return f"arn:aws:s3:::{worlds.scenarios.buckets[name]}"
    if kind == "key":
        return worlds.scenarios.keys[name]
    if kind == "demo-bucket":
        return f"arn:aws:s3:::{name}-{DATA}"
    if kind == "check-bucket":
        return worlds.check_cases.buckets[name]
    if kind == "access-bucket":
        return f"arn:aws:s3:::{worlds.access.buckets[name]}"
    raise ValueError(ref)


def _values(sc: Scenario, arn: str, worlds: Any, synced: dict[str, Any]) -> dict[str, str]:
    """What the reason templates name, for this scenario's resource."""
    c = worlds.scenarios
    name = sc.resource.split(":", 1)[1]
    return {
        "partner": PARTNER, "sharing": SHARING, "etl": ETL, "analyst": ANALYST, "writer": WRITER, "reader": READER,
        "org": c.org_id, "demo_org": worlds.world.org_id, "partner_canonical": canonical_user_id(PARTNER),
        "central": CENTRAL, "checks": CHECKS, "access_account": ACCESS, "peer": PEER,
        "replication_role": REPLICATION_ROLE, "bucket": arn.removeprefix("arn:aws:s3:::"),
        "key": synced["bucket_keys"].get(arn) or c.keys.get(name, ""),
        "ap": c.access_points.get(name, ""), "grant": c.grants.get(name, ""),
        "replica": c.replicas.get(name, ""), "replica_key": c.keys.get(f"{name}-replica", ""),
        "access_logged": worlds.access.buckets["logged"], "scn_logged": c.buckets["logged-to-sse-s3"],
        **_key_dates(synced["bucket_keys"].get(arn) or c.keys.get(name, "")),
    }


def _key_dates(key_arn: str) -> dict[str, str]:
    """The key's creation time as the reasons print it (UTC), from moto's model."""
    from moto.kms.models import kms_backends
    m = re.match(r"arn:aws:kms:([^:]+):(\d{12}):key/(.+)", key_arn)
    if not m:
        return {"key_date": "", "key_day": ""}
    key = kms_backends[m.group(2)][m.group(1)].keys.get(m.group(3))
    if key is None:  # an alias-resolved aws/s3 key of another world: no scenario names its date
        return {"key_date": "", "key_day": ""}
    created = dt.datetime.fromtimestamp(key.creation_date, dt.timezone.utc)
    return {"key_date": created.strftime("%Y-%m-%d %H:%M:%S UTC"), "key_day": created.strftime("%Y-%m-%d")}


@pytest.mark.parametrize("sc", SCENARIOS, ids=lambda s: s.name)
def test_scenario(sc: Scenario, synced, worlds):
    arn = _arn(sc.resource, worlds)
    found = synced["checks"][sc.check].get(arn)
    assert found is not None, f"{sc.name}: {sc.check} says nothing about {arn}"
    status, reason = found
    assert status == sc.status, f"{sc.name}: {sc.check} on {arn} is {status}, expected {sc.status}: {reason}"
    values = _values(sc, arn, worlds, synced)
    for template in sc.reason:
        want = re.sub(r"\{([a-z_]+)\}", lambda m: values[m.group(1)], template)  # JSON braces stay
        assert want in reason, f"{sc.name}: the reason of {sc.check} does not name {want!r}:\n{reason}"


def test_the_table_covers_every_case_and_its_twin():
    names = [s.name for s in SCENARIOS]
    assert len(names) >= 30 and len(set(names)) == len(names), "at least 30 scenarios, each named once"
    by_check: dict[str, set[str]] = {}
    for s in SCENARIOS:
        by_check.setdefault(s.check, set()).add(s.status)
        assert s.status in ("pass", "fail", "error", "skip"), s.name
        assert len(s.reason) >= (2 if s.status == "fail" else 1), f"{s.name}: name the principal, path and fix"
    # every check has a failing case and a passing twin
    assert {c: {"pass", "fail"} <= st for c, st in by_check.items()} == {
        c: True for c in (AWS_MANAGED, PRINCIPALS, CENTRAL_KEY, LOG_TARGET, REPLICA_KEY, EXTERNAL)}


# ---------------------------------------------------------------------------------------------
# Fast: the pieces the scenarios above found wrong, without moto

def test_a_grant_whose_constraint_does_not_hold_is_named():
    from plugin.analysis.actions import s3_kms_context
    from plugin.analysis.evaluator import NOT_ALLOWED, Request, evaluate_grants
    key = f"arn:aws:kms:us-east-1:{SHARING}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    grant = {"GrantId": "g-1", "GranteePrincipal": READER, "Operations": ["Decrypt"],
             "Constraints": {"EncryptionContextSubset": {"aws:s3:arn": "arn:aws:s3:::other"}}}
    d = evaluate_grants([grant], Request(READER, "kms:Decrypt", key, context=s3_kms_context("mine", bucket_key=True)))
    assert d.verdict == NOT_ALLOWED
    assert ("grant g-1 does not apply: its EncryptionContextSubset constraint aws:s3:arn=arn:aws:s3:::other does "
            "not hold (the request's encryption context has aws:s3:arn=arn:aws:s3:::mine)") in d.reason


@pytest.mark.parametrize("resource, access_point, key", [
    ("arn:aws:s3:::b/reports/*", "", "reports/x"),
    ("arn:aws-cn:s3:::b/*", "", "x"),
    ("arn:aws:s3:::other/reports/*", "", "object"),
    ("arn:aws:s3:us-east-1:111122223333:accesspoint/ap/object/reports/*",
     "arn:aws:s3:us-east-1:111122223333:accesspoint/ap", "reports/x"),
    ("arn:aws:s3::111122223333:accesspoint/m.mrap/object/*", "arn:aws:s3::111122223333:accesspoint/m.mrap", "x"),
    ("arn:aws:s3:::b/reports/*", "arn:aws:s3:us-east-1:111122223333:accesspoint/ap", "object"),
])
def test_the_object_a_statement_reaches(resource, access_point, key):
    """A bucket policy names objects arn:aws:s3:::<bucket>/<key>, an access point's policy
    <access point ARN>/object/<key>: the key is what S3 puts in the encryption context."""
    from plugin.analysis.access_paths import _object_key
    from plugin.analysis.policy import analyze
    st = analyze(json.dumps({"Statement": [{"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
                                            "Resource": resource}]}), "111122223333").statements[0]
    assert _object_key(st, "b", access_point) == key


def test_paths_the_sync_could_not_read_are_errors_not_passes(world, worlds, tmp_path):
    """Each input of the sharing checks, unread, turns their verdict into an `error` naming the call:
    an access point's policy, the account's MRAP listing, a bucket's logging and replication, the
    accounts' organisation."""
    c = worlds.scenarios
    ap = c.access_points["ap-delegated"]
    logged, replicated = c.buckets["logged-to-sse-s3"], c.buckets["replica-key-admits"]

    def deny(service: str, op: str, body: bytes, region: str) -> Any:
        text = body.decode(errors="replace")
        hit = ((op == "GetAccessPointPolicy" and "accesspoint/ap-delegated/" in text)
               or op in ("ListMultiRegionAccessPoints", "DescribeOrganization")
               or (op == "GetBucketLogging" and logged in text) or (op == "GetBucketReplication" and replicated in text))
        return (403, "AccessDenied") if hit else None

    world.server.faults.append(deny)
    try:
        db = tmp_path / "unread.duckdb"
        _sync(world, db, [SHARING, PARTNER], max_retries=0)
    finally:
        world.server.faults.remove(deny)
    res = _statuses(db)

    def verdict(check: str, bucket: str) -> tuple[str, str]:
        return res[check][f"arn:aws:s3:::{bucket}"]

    status, reason = verdict(AWS_MANAGED, c.buckets["ap-delegated"])
    assert status == "error" and f"the policy of {ap} (GetAccessPointPolicy) could not be read" in reason, reason
    status, reason = verdict(AWS_MANAGED, c.buckets["mrap"])  # its MRAP was not listed: was a fail
    assert status == "error" and "(ListMultiRegionAccessPoints: AccessDenied) could not be read" in reason, reason
    status, reason = verdict(PRINCIPALS, c.buckets["role-match"])  # was a pass
    assert status == "error" and "ListMultiRegionAccessPoints" in reason and "is unknown" in reason, reason
    assert verdict(PRINCIPALS, c.buckets["role-mismatch"])[0] == "fail", "a decided failure stays a failure"
    status, reason = verdict(LOG_TARGET, logged)
    assert status == "error" and "GetBucketLogging: AccessDenied" in reason, reason
    status, reason = verdict(REPLICA_KEY, replicated)
    assert status == "error" and "replication configuration could not be read" in reason, reason
    for scenario in ("org-key-admits-org", "org-key-foreign-org"):  # were a pass and a fail
        status, reason = res[EXTERNAL][c.keys[scenario]]
        assert status == "error" and "OrganisationUse" in reason and "DescribeOrganization" in reason, reason
