"""Every S3 access path the sync reads, in account ACCESS (tests only): an ACL grant, an access point,
a Multi-Region Access Point, replication to another account under its KMS key, and server access
logging into an SSE-KMS bucket. PEER is the other account: it holds the replica bucket and its key and
is not synced.

Built with the demo world's building blocks before IAM enforcement (see conftest). Where moto
differs from AWS the answer is shaped at the emulator's edge by plugin/demo/world.py
(shape_s3_access_answers): per-account canonical user ids in ACLs, access points listed per Region
with BucketAccountId, Multi-Region Access Point reports with BucketAccountId.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from plugin.demo.world import (AUDIT_ROLE, MOTO_CANONICAL_USER, allow_policy, canonical_user_id, client,
                               create_key)

ACCESS = "888888888888"
PEER = "777777777777"
REGION = "us-east-1"


@dataclass
class AccessCases:
    buckets: dict[str, str] = field(default_factory=dict)   # case -> bucket name (in ACCESS)
    keys: dict[str, str] = field(default_factory=dict)      # name -> key ARN
    access_point_arn: str = ""
    access_point_policy: str = ""
    mrap_name: str = ""
    mrap_policy: str = ""
    replica_bucket: str = ""
    replication_role: str = ""


def _policy(statements: list[dict[str, Any]]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": statements})


def build_access_cases(endpoint: str, audit_actions: list[str], trust_policy: str) -> AccessCases:
    sts = client(endpoint, "sts")
    client(endpoint, "iam").put_user_policy(UserName="scanner", PolicyName="assume-access", PolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
                                                "Resource": f"arn:aws:iam::{ACCESS}:role/{AUDIT_ROLE}"}]}))

    def setup(account: str) -> dict[str, str]:
        return sts.assume_role(RoleArn=f"arn:aws:iam::{account}:role/setup", RoleSessionName="setup")["Credentials"]

    creds, peer = setup(ACCESS), setup(PEER)
    iam = client(endpoint, "iam", creds)
    iam.create_role(RoleName=AUDIT_ROLE, AssumeRolePolicyDocument=trust_policy)
    iam.put_role_policy(RoleName=AUDIT_ROLE, PolicyName="least-privilege", PolicyDocument=allow_policy(audit_actions))
    s3, s3c, kms = client(endpoint, "s3", creds), client(endpoint, "s3control", creds), client(endpoint, "kms", creds)
    c = AccessCases()

    def bucket(case: str, account: str = ACCESS, s3client: Any = s3) -> str:
        name = f"access-{case}-{account}"
        s3client.create_bucket(Bucket=name)
        if account == ACCESS:
            c.buckets[case] = name
        return name

    # An ACL grant to another account's canonical user, with ACLs in force (BucketOwnerPreferred).
    acl = bucket("acl")
    s3.put_bucket_ownership_controls(Bucket=acl, OwnershipControls={"Rules": [{"ObjectOwnership": "BucketOwnerPreferred"}]})
    s3.put_bucket_acl(Bucket=acl, AccessControlPolicy={
        "Owner": {"ID": MOTO_CANONICAL_USER},  # moto's one owner id; the edge answers ACCESS's own
        "Grants": [{"Grantee": {"Type": "CanonicalUser", "ID": MOTO_CANONICAL_USER}, "Permission": "FULL_CONTROL"},
                   {"Grantee": {"Type": "CanonicalUser", "ID": canonical_user_id(PEER)}, "Permission": "READ"}]})

    # ACLs disabled: GetBucketAcl is not asked.
    enforced = bucket("enforced")
    s3.put_bucket_ownership_controls(Bucket=enforced,
                                     OwnershipControls={"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]})

    # An access point whose policy admits PEER (moto names every access point's Region us-east-1).
    ap_bucket = bucket("ap")
    c.access_point_arn = s3c.create_access_point(AccountId=ACCESS, Name="access-ap", Bucket=ap_bucket)["AccessPointArn"]
    c.access_point_policy = _policy([{
        "Sid": "PeerRead", "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{PEER}:root"},
        "Action": "s3:GetObject", "Resource": f"{c.access_point_arn}/object/*"}])
    s3c.put_access_point_policy(AccountId=ACCESS, Name="access-ap", Policy=c.access_point_policy)
    # An access point without a policy (GetAccessPointPolicy answers NoSuchAccessPointPolicy).
    s3c.create_access_point(AccountId=ACCESS, Name="access-ap-plain", Bucket=ap_bucket)

    # A Multi-Region Access Point over one bucket, with a policy.
    mrap_bucket = bucket("mrap")
    c.mrap_name = "access-mrap"
    s3c.create_multi_region_access_point(AccountId=ACCESS, ClientToken="create-access-mrap", Details={
        "Name": c.mrap_name, "Regions": [{"Bucket": mrap_bucket}]})
    alias = s3c.get_multi_region_access_point(AccountId=ACCESS, Name=c.mrap_name)["AccessPoint"]["Alias"]
    c.mrap_policy = _policy([{
        "Sid": "PeerRead", "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{PEER}:root"},
        "Action": "s3:GetObject", "Resource": f"arn:aws:s3::{ACCESS}:accesspoint/{alias}/object/*"}])
    s3c.put_multi_region_access_point_policy(AccountId=ACCESS, ClientToken="policy-access-mrap", Details={
        "Name": c.mrap_name, "Policy": c.mrap_policy})

    # Replication into PEER's bucket, replicas encrypted under PEER's key.
    c.keys["replica"] = create_key(client(endpoint, "kms", peer), Description="replica key")["Arn"]
    c.replica_bucket = bucket("replica", PEER, client(endpoint, "s3", peer))
    replicated = bucket("replicated")
    s3.put_bucket_versioning(Bucket=replicated, VersioningConfiguration={"Status": "Enabled"})
    c.replication_role = f"arn:aws:iam::{ACCESS}:role/replication"
    s3.put_bucket_replication(Bucket=replicated, ReplicationConfiguration={"Role": c.replication_role, "Rules": [{
        "ID": "to-peer", "Priority": 1, "Status": "Enabled", "Filter": {"Prefix": ""},
        "DeleteMarkerReplication": {"Status": "Disabled"},
        "SourceSelectionCriteria": {"SseKmsEncryptedObjects": {"Status": "Enabled"}},
        "Destination": {"Bucket": f"arn:aws:s3:::{c.replica_bucket}", "Account": PEER,
                        "AccessControlTranslation": {"Owner": "Destination"},
                        "EncryptionConfiguration": {"ReplicaKmsKeyID": c.keys["replica"]}}}]})

    # Server access logging into a bucket encrypted with SSE-KMS (S3 log delivery supports SSE-S3 only).
    c.keys["logs"] = create_key(kms, Description="log bucket key")["Arn"]
    logs = bucket("logs")
    s3.put_bucket_encryption(Bucket=logs, ServerSideEncryptionConfiguration={"Rules": [{
        "ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": c.keys["logs"]},
        "BucketKeyEnabled": True}]})
    s3.put_bucket_policy(Bucket=logs, Policy=_policy([{
        "Sid": "S3ServerAccessLogsPolicy", "Effect": "Allow", "Principal": {"Service": "logging.s3.amazonaws.com"},
        "Action": "s3:PutObject", "Resource": f"arn:aws:s3:::{logs}/*",
        "Condition": {"StringEquals": {"aws:SourceAccount": ACCESS}}}]))
    logged = bucket("logged")
    s3.put_bucket_logging(Bucket=logged, BucketLoggingStatus={"LoggingEnabled": {"TargetBucket": logs,
                                                                                 "TargetPrefix": "logged/"}})
    return c
