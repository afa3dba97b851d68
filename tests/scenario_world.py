"""The access scenarios that the other test worlds don't hold (tests only; the table of them is
tests/test_access_scenarios.py): who may reach a bucket, and whether its key lets them, case by case
with its twin.

Accounts, both synced, both with the audit role, in one organisation of their own:
- SHARING 434343434343: the buckets and keys of the scenarios, named `scn-<scenario>-<account>`.
- PARTNER 454545454545: the other account the buckets are shared with: its roles (etl, analyst,
  writer, reader), a bucket whose ACL makes its canonical user known to the sync, and the replica
  buckets and keys of the replication scenarios.
- SCN_MANAGEMENT 464646464646: manages their organisation; not synced.

Built with the demo world's building blocks before IAM enforcement (see conftest). Where moto
differs from AWS the answer is shaped to AWS's documented behaviour at the emulator's edge, as in
plugin/demo/world.py (organisation membership; per-account canonical user ids in ACLs; access
points and Multi-Region Access Points with BucketAccountId), and below where a scenario needs more.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from typing import Any

from plugin.demo.world import (AUDIT_ROLE, MOTO_CANONICAL_USER, allow_policy, build_organisation,
                               canonical_user_id, client, create_key)

SHARING = "434343434343"
PARTNER = "454545454545"
SCN_MANAGEMENT = "464646464646"
REGION = "us-east-1"
FOREIGN_ORG = "o-notmine999"

ETL = f"arn:aws:iam::{PARTNER}:role/etl"
ANALYST = f"arn:aws:iam::{PARTNER}:role/analyst"
WRITER = f"arn:aws:iam::{PARTNER}:role/writer"
READER = f"arn:aws:iam::{PARTNER}:role/reader"
PARTNER_ROOT = f"arn:aws:iam::{PARTNER}:root"
REPLICATION_ROLE = f"arn:aws:iam::{SHARING}:role/scn-replication"


@dataclass
class ScenarioCases:
    org_id: str = ""                                         # the organisation of SHARING and PARTNER
    buckets: dict[str, str] = field(default_factory=dict)    # scenario -> bucket name (in SHARING)
    keys: dict[str, str] = field(default_factory=dict)       # scenario -> key ARN
    access_points: dict[str, str] = field(default_factory=dict)   # scenario -> access point / MRAP ARN
    replicas: dict[str, str] = field(default_factory=dict)   # scenario -> replica bucket name (in PARTNER)
    grants: dict[str, str] = field(default_factory=dict)     # scenario -> grant id


def _policy(statements: list[dict[str, Any]]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": statements})


def _root(account: str) -> dict[str, Any]:
    return {"Sid": "Enable IAM User Permissions", "Effect": "Allow",
            "Principal": {"AWS": f"arn:aws:iam::{account}:root"}, "Action": "kms:*", "Resource": "*"}


def _share(bucket: str, principal: Any, actions: list[str], sid: str = "Share", resource: str = "/*",
           condition: dict[str, Any] | None = None) -> dict[str, Any]:
    st: dict[str, Any] = {"Sid": sid, "Effect": "Allow",
                          "Principal": principal if principal == "*" else {"AWS": principal},
                          "Action": actions, "Resource": f"arn:aws:s3:::{bucket}{resource}"}
    if condition:
        st["Condition"] = condition
    return st


def _age_bucket(name: str, days: int) -> None:
    from moto.s3.models import s3_backends
    b = s3_backends[SHARING]["aws"].buckets[name]
    b.creation_date = b.creation_date - dt.timedelta(days=days)


def build_scenarios(endpoint: str, audit_actions: list[str], trust_policy: str) -> ScenarioCases:
    sts = client(endpoint, "sts")
    client(endpoint, "iam").put_user_policy(UserName="scanner", PolicyName="assume-scenarios", PolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": [
            f"arn:aws:iam::{a}:role/{AUDIT_ROLE}" for a in (SHARING, PARTNER)]}]}))

    def setup(account: str) -> dict[str, str]:
        return sts.assume_role(RoleArn=f"arn:aws:iam::{account}:role/setup", RoleSessionName="setup")["Credentials"]

    sharing, partner = setup(SHARING), setup(PARTNER)
    trust_s3 = json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"Service": "s3.amazonaws.com"}, "Action": "sts:AssumeRole"}]})
    trust_partner = json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"AWS": PARTNER_ROOT}, "Action": "sts:AssumeRole"}]})
    for creds, roles in ((sharing, {"scn-replication": trust_s3}),
                         (partner, {"etl": trust_partner, "analyst": trust_partner, "writer": trust_partner,
                                    "reader": trust_partner})):
        iam = client(endpoint, "iam", creds)
        iam.create_role(RoleName=AUDIT_ROLE, AssumeRolePolicyDocument=trust_policy)
        iam.put_role_policy(RoleName=AUDIT_ROLE, PolicyName="least-privilege",
                            PolicyDocument=allow_policy(audit_actions))
        for name, trust in roles.items():
            iam.create_role(RoleName=name, AssumeRolePolicyDocument=trust)
    c = ScenarioCases(org_id=build_organisation(endpoint, setup(SCN_MANAGEMENT),
                                                {SHARING: "sharing", PARTNER: "partner"}))
    s3, kms = client(endpoint, "s3", sharing), client(endpoint, "kms", sharing)
    s3c = client(endpoint, "s3control", sharing)
    ps3, pkms = client(endpoint, "s3", partner), client(endpoint, "kms", partner)

    def key(scenario: str, statements: list[dict[str, Any]], kms_client: Any = kms, account: str = SHARING) -> str:
        arn = create_key(kms_client, Description=f"scenario {scenario}",
                         Policy=_policy([_root(account), *statements]))["Arn"]
        c.keys[scenario] = arn
        return arn

    def bucket(scenario: str, *, kms_key: str | None = None, aws_s3: bool = False, sse_s3: bool = False,
               bucket_key: bool = True, statements: Any = None, ownership: str | None = "BucketOwnerEnforced") -> str:
        """A bucket of SHARING: encrypted with `kms_key`, or aws/s3, or SSE-S3; its policy built by
        `statements(name)`; ACLs disabled unless `ownership` says otherwise."""
        name = f"scn-{scenario}-{SHARING}"
        s3.create_bucket(Bucket=name)
        default: dict[str, Any] | None = None
        if kms_key:
            default = {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": kms_key}
        elif aws_s3:
            default = {"SSEAlgorithm": "aws:kms"}  # no key id: the account's aws/s3 key
        elif sse_s3:
            default = {"SSEAlgorithm": "AES256"}
        if default is not None:
            s3.put_bucket_encryption(Bucket=name, ServerSideEncryptionConfiguration={"Rules": [{
                "ApplyServerSideEncryptionByDefault": default, "BucketKeyEnabled": bucket_key and not sse_s3}]})
        if statements is not None:
            s3.put_bucket_policy(Bucket=name, Policy=_policy(statements(name)))
        if ownership:
            s3.put_bucket_ownership_controls(Bucket=name, OwnershipControls={"Rules": [{"ObjectOwnership": ownership}]})
        c.buckets[scenario] = name
        return name

    # PARTNER's own bucket: its ACL (ACLs in force by default) tells the sync PARTNER's canonical user id.
    ps3.create_bucket(Bucket=f"scn-partner-own-{PARTNER}")

    # -------------------------------------------------------------------------------------------
    # On aws/s3 (s3_aws_managed_key_cross_account): every way another account gets in

    public = bucket("public", aws_s3=True)
    # a public policy needs Block Public Access off (AWS turns it on for new buckets; moto doesn't enforce it)
    s3.put_public_access_block(Bucket=public, PublicAccessBlockConfiguration={
        "BlockPublicAcls": False, "IgnorePublicAcls": False, "BlockPublicPolicy": False, "RestrictPublicBuckets": False})
    s3.put_bucket_policy(Bucket=public, Policy=_policy([_share(public, "*", ["s3:GetObject"], sid="PublicRead")]))
    # Allow with NotPrincipal: everyone but the listed principals, i.e. public (AWS advises against it).
    not_principal = bucket("not-principal", aws_s3=True)
    s3.put_public_access_block(Bucket=not_principal, PublicAccessBlockConfiguration={
        "BlockPublicAcls": False, "IgnorePublicAcls": False, "BlockPublicPolicy": False, "RestrictPublicBuckets": False})
    s3.put_bucket_policy(Bucket=not_principal, Policy=_policy([{
        "Sid": "AllButSharing", "Effect": "Allow", "NotPrincipal": {"AWS": f"arn:aws:iam::{SHARING}:root"},
        "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{not_principal}/*"}]))
    bucket("version-only", aws_s3=True,
           statements=lambda b: [_share(b, PARTNER_ROOT, ["s3:GetObjectVersion"], sid="VersionsOnly")])
    bucket("replicate-only", aws_s3=True,
           statements=lambda b: [_share(b, PARTNER_ROOT, ["s3:ReplicateObject"], sid="ReplicasOnly")])
    # A leftover Allow for PARTNER, stopped (or not) by a perimeter Deny on everyone outside SHARING.
    perimeter = {"Sid": "PerimeterDeny", "Effect": "Deny", "Principal": "*", "Action": "s3:*",
                 "Resource": "*", "Condition": {"StringNotEquals": {"aws:PrincipalAccount": SHARING}}}
    bucket("perimeter-deny", aws_s3=True, statements=lambda b: [
        _share(b, PARTNER_ROOT, ["s3:GetObject"], sid="LeftoverPartnerRead"),
        {**perimeter, "Resource": [f"arn:aws:s3:::{b}", f"arn:aws:s3:::{b}/*"]}])
    bucket("leftover-allow", aws_s3=True,
           statements=lambda b: [_share(b, PARTNER_ROOT, ["s3:GetObject"], sid="LeftoverPartnerRead")])

    # ACL grants to PARTNER's canonical user: with ACLs in force, and with them disabled. (AWS refuses
    # BucketOwnerEnforced while the ACL grants another account, InvalidBucketAclWithObjectOwnership;
    # moto keeps the grant, so the disabled case is the stronger one: the grant is there, and ignored.)
    acl_grants = {"Owner": {"ID": MOTO_CANONICAL_USER},  # moto's one owner id; the edge answers SHARING's own
                  "Grants": [{"Grantee": {"Type": "CanonicalUser", "ID": MOTO_CANONICAL_USER}, "Permission": "FULL_CONTROL"},
                             {"Grantee": {"Type": "CanonicalUser", "ID": canonical_user_id(PARTNER)},
                              "Permission": "READ"}]}
    for scenario, ownership in (("acl-in-force", "BucketOwnerPreferred"), ("acl-disabled", None)):
        b = bucket(scenario, aws_s3=True, ownership=None)
        s3.put_bucket_ownership_controls(Bucket=b, OwnershipControls={"Rules": [{"ObjectOwnership": "ObjectWriter"}]})
        s3.put_bucket_acl(Bucket=b, AccessControlPolicy=acl_grants)
        s3.put_bucket_ownership_controls(Bucket=b, OwnershipControls={"Rules": [{
            "ObjectOwnership": ownership or "BucketOwnerEnforced"}]})

    # Sharing delegated to access points (the bucket policy admits any caller through an access point
    # of SHARING), with an access point whose policy admits PARTNER; its twin does not delegate.
    delegate = {"StringEquals": {"s3:DataAccessPointAccount": SHARING}}
    for scenario, delegated in (("ap-delegated", True), ("ap-not-delegated", False)):
        b = bucket(scenario, aws_s3=True, statements=(lambda n: [
            {"Sid": "DelegateToAccessPoints", "Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "*",
             "Resource": [f"arn:aws:s3:::{n}", f"arn:aws:s3:::{n}/*"], "Condition": delegate}]) if delegated else None)
        ap = s3c.create_access_point(AccountId=SHARING, Name=scenario, Bucket=b)["AccessPointArn"]
        s3c.put_access_point_policy(AccountId=SHARING, Name=scenario, Policy=_policy([{
            "Sid": "PartnerReadThroughAccessPoint", "Effect": "Allow", "Principal": {"AWS": PARTNER_ROOT},
            "Action": "s3:GetObject", "Resource": f"{ap}/object/*"}]))
        c.access_points[scenario] = ap

    # A Multi-Region Access Point over an aws/s3 bucket that delegates to it, admitting PARTNER.
    b = bucket("mrap", aws_s3=True, statements=lambda n: [
        {"Sid": "DelegateToAccessPoints", "Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "*",
         "Resource": [f"arn:aws:s3:::{n}", f"arn:aws:s3:::{n}/*"], "Condition": delegate}])
    s3c.create_multi_region_access_point(AccountId=SHARING, ClientToken="create-scn-mrap", Details={
        "Name": "scn-mrap", "Regions": [{"Bucket": b}]})
    alias = s3c.get_multi_region_access_point(AccountId=SHARING, Name="scn-mrap")["AccessPoint"]["Alias"]
    c.access_points["mrap"] = f"arn:aws:s3::{SHARING}:accesspoint/{alias}"
    s3c.put_multi_region_access_point_policy(AccountId=SHARING, ClientToken="policy-scn-mrap", Details={
        "Name": "scn-mrap", "Policy": _policy([{
            "Sid": "PartnerReadThroughMrap", "Effect": "Allow", "Principal": {"AWS": PARTNER_ROOT},
            "Action": "s3:GetObject", "Resource": f"{c.access_points['mrap']}/object/*"}])})

    # -------------------------------------------------------------------------------------------
    # On customer managed keys (s3_key_unusable_by_bucket_principals): the key side, principal by principal

    def shared_cmk(scenario: str, key_statements: list[dict[str, Any]], principal: str = ETL,
                   actions: tuple[str, ...] = ("s3:GetObject",), bucket_key: bool = True, resource: str = "/*") -> None:
        k = key(scenario, key_statements)
        bucket(scenario, kms_key=k, bucket_key=bucket_key,
               statements=lambda b: [_share(b, principal, list(actions), resource=resource)])

    use = ["kms:Decrypt", "kms:GenerateDataKey"]
    # Accounts vs principals: the key names one role of PARTNER, the bucket another.
    shared_cmk("role-mismatch", [{"Sid": "AnalystUse", "Effect": "Allow", "Principal": {"AWS": ANALYST},
                                  "Action": use, "Resource": "*"}])
    shared_cmk("role-match", [{"Sid": "EtlUse", "Effect": "Allow", "Principal": {"AWS": ETL},
                               "Action": use, "Resource": "*"}])
    # The default switched from aws/s3 to a customer managed key: the key is younger than the bucket.
    # (The bucket's creation date is set a month back in moto's model: moto can't create a bucket in the past.)
    shared_cmk("default-switched-to-cmk", [{"Sid": "EtlUse", "Effect": "Allow", "Principal": {"AWS": ETL},
                                            "Action": use, "Resource": "*"}])
    _age_bucket(c.buckets["default-switched-to-cmk"], days=30)
    shared_cmk("key-admits-root", [{"Sid": "PartnerAccountUse", "Effect": "Allow", "Principal": {"AWS": PARTNER_ROOT},
                                    "Action": use, "Resource": "*"}])
    # A Deny on every caller outside SHARING next to the Allow for PARTNER; its twin exempts PARTNER.
    # (On the data operations: moto applies a key policy's Deny to DescribeKey whatever its Principal
    # and Condition say, so a Deny of kms:* would lock the audit role out of the key, which AWS doesn't.)
    data_ops = ["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey*", "kms:ReEncrypt*"]
    for scenario, exempt in (("key-deny-caller-account", [SHARING]), ("key-deny-exempts-partner", [SHARING, PARTNER])):
        shared_cmk(scenario, [
            {"Sid": "PartnerUse", "Effect": "Allow", "Principal": {"AWS": PARTNER_ROOT}, "Action": use, "Resource": "*"},
            {"Sid": "DenyOutsideCallers", "Effect": "Deny", "Principal": "*", "Action": data_ops, "Resource": "*",
             "Condition": {"StringNotEquals": {"kms:CallerAccount": exempt}}}], principal=PARTNER_ROOT)
    # kms:ViaService for the wrong Region (the bucket is in us-east-1), and the right one.
    for scenario, region in (("via-service-wrong-region", "us-west-2"), ("via-service-right-region", REGION)):
        shared_cmk(scenario, [{"Sid": "EtlViaS3", "Effect": "Allow", "Principal": {"AWS": ETL}, "Action": use,
                               "Resource": "*",
                               "Condition": {"StringEquals": {"kms:ViaService": f"s3.{region}.amazonaws.com"}}}])
    # An encryption context condition on an object prefix: with an S3 Bucket Key, S3 sends the bucket ARN.
    for scenario, bucket_key in (("context-prefix-bucket-key", True), ("context-prefix-no-bucket-key", False)):
        name = f"scn-{scenario}-{SHARING}"
        shared_cmk(scenario, [{"Sid": "EtlReportsOnly", "Effect": "Allow", "Principal": {"AWS": ETL},
                               "Action": use, "Resource": "*", "Condition": {"StringLike": {
                                   "kms:EncryptionContext:aws:s3:arn": f"arn:aws:s3:::{name}/reports/*"}}}],
                   bucket_key=bucket_key, resource="/reports/*")
    # A writer: GenerateDataKey alone does not do multipart uploads (they need kms:Decrypt too).
    shared_cmk("writer-generate-only", [{"Sid": "WriterGenerate", "Effect": "Allow", "Principal": {"AWS": WRITER},
                                         "Action": "kms:GenerateDataKey", "Resource": "*"}],
               principal=WRITER, actions=("s3:PutObject",))
    shared_cmk("writer-generate-and-decrypt", [{"Sid": "WriterUse", "Effect": "Allow", "Principal": {"AWS": WRITER},
                                                "Action": use, "Resource": "*"}],
               principal=WRITER, actions=("s3:PutObject",))
    # Organisation-scoped key statements: our organisation's id, and one that is not ours.
    for scenario, org in (("org-key-admits-org", c.org_id), ("org-key-foreign-org", FOREIGN_ORG)):
        shared_cmk(scenario, [{"Sid": "OrganisationUse", "Effect": "Allow", "Principal": {"AWS": "*"}, "Action": use,
                               "Resource": "*", "Condition": {"StringEquals": {"aws:PrincipalOrgID": org}}}])
    # The whole organisation shares the bucket: a key that admits the organisation, and one that does not.
    org_read = {"StringEquals": {"aws:PrincipalOrgID": c.org_id}}
    k = key("org-shared-cmk", [{"Sid": "OrganisationUse", "Effect": "Allow", "Principal": {"AWS": "*"}, "Action": use,
                                "Resource": "*", "Condition": {"StringEquals": {"aws:PrincipalOrgID": c.org_id}}}])
    bucket("org-shared-cmk", kms_key=k, statements=lambda b: [
        _share(b, "*", ["s3:GetObject"], sid="OrganisationRead", condition=org_read)])
    k = key("org-shared-closed-cmk", [])
    bucket("org-shared-closed-cmk", kms_key=k, statements=lambda b: [
        _share(b, "*", ["s3:GetObject"], sid="OrganisationRead", condition=org_read)])
    # KMS grants, no key policy statement: a plain grant, a constraint that holds (the bucket ARN, as
    # S3 sends it with a Bucket Key) and one that does not.
    for scenario, constraint in (("grant-decrypt", None),
                                 ("grant-context-matches", f"arn:aws:s3:::scn-grant-context-matches-{SHARING}"),
                                 ("grant-context-mismatch", f"arn:aws:s3:::scn-some-other-bucket-{SHARING}")):
        k = key(scenario, [])
        kw: dict[str, Any] = {"Constraints": {"EncryptionContextSubset": {"aws:s3:arn": constraint}}} if constraint else {}
        c.grants[scenario] = kms.create_grant(KeyId=k, GranteePrincipal=READER, Operations=["Decrypt"], Name=scenario,
                                              **kw)["GrantId"]
        bucket(scenario, kms_key=k, statements=lambda b: [_share(b, READER, ["s3:GetObject"])])
    # A condition the policies alone can't decide: the caller's network.
    shared_cmk("source-ip", [{"Sid": "EtlFromOffice", "Effect": "Allow", "Principal": {"AWS": ETL}, "Action": use,
                              "Resource": "*", "Condition": {"IpAddress": {"aws:SourceIp": "203.0.113.0/24"}}}])

    # -------------------------------------------------------------------------------------------
    # Server access logs into an SSE-S3 bucket (the SSE-KMS case is tests/access_world.py's)
    target = bucket("log-target-sse-s3", sse_s3=True, statements=lambda b: [{
        "Sid": "S3ServerAccessLogsPolicy", "Effect": "Allow", "Principal": {"Service": "logging.s3.amazonaws.com"},
        "Action": "s3:PutObject", "Resource": f"arn:aws:s3:::{b}/*",
        "Condition": {"StringEquals": {"aws:SourceAccount": SHARING}}}])
    logged = bucket("logged-to-sse-s3")
    s3.put_bucket_logging(Bucket=logged, BucketLoggingStatus={"LoggingEnabled": {"TargetBucket": target,
                                                                                 "TargetPrefix": "logs/"}})

    # -------------------------------------------------------------------------------------------
    # Replication into PARTNER (a synced account) under PARTNER's replica key: one that does not admit
    # SHARING's replication role, and one that does.
    for scenario, admits in (("replica-key-closed", False), ("replica-key-admits", True)):
        statements = [{"Sid": "ReplicationRoleEncrypts", "Effect": "Allow", "Principal": {"AWS": REPLICATION_ROLE},
                       "Action": ["kms:Encrypt", "kms:GenerateDataKey"], "Resource": "*"}] if admits else []
        replica_key = key(f"{scenario}-replica", statements, kms_client=pkms, account=PARTNER)
        replica = f"scn-{scenario}-{PARTNER}"
        ps3.create_bucket(Bucket=replica)
        ps3.put_bucket_versioning(Bucket=replica, VersioningConfiguration={"Status": "Enabled"})
        c.replicas[scenario] = replica
        src = bucket(scenario, sse_s3=True)
        s3.put_bucket_versioning(Bucket=src, VersioningConfiguration={"Status": "Enabled"})
        s3.put_bucket_replication(Bucket=src, ReplicationConfiguration={"Role": REPLICATION_ROLE, "Rules": [{
            "ID": "to-partner", "Priority": 1, "Status": "Enabled", "Filter": {"Prefix": ""},
            "DeleteMarkerReplication": {"Status": "Disabled"},
            "Destination": {"Bucket": f"arn:aws:s3:::{replica}", "Account": PARTNER,
                            "AccessControlTranslation": {"Owner": "Destination"},
                            "EncryptionConfiguration": {"ReplicaKmsKeyID": replica_key}}}]})
    return c
