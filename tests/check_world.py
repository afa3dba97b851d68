"""Resources that drive every bundled check to each status it can return, in account CHECKS.

Built before moto's IAM enforcement is switched on (see conftest). Where moto lacks a feature AWS
has, the emulator's answer is shaped to AWS's documented behaviour, as in plugin/demo/world.py.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from typing import Any

from plugin.demo.world import AUDIT_ROLE, COMPUTE, COMPUTE_READER, allow_policy, client, create_key, shape_key

CHECKS = "555555555555"
CENTRAL = "666666666666"   # a central key account: keys that CHECKS' buckets use
REGION = "us-east-1"


@dataclass
class CheckCases:
    keys: dict[str, str] = field(default_factory=dict)      # name -> key ARN
    buckets: dict[str, str] = field(default_factory=dict)   # name -> bucket ARN


def _bucket_policy(bucket: str, principal: str, actions: list[str]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": [{
        "Sid": "Share", "Effect": "Allow", "Principal": {"AWS": principal}, "Action": actions,
        "Resource": [f"arn:aws:s3:::{bucket}", f"arn:aws:s3:::{bucket}/*"]}]})


def _key_policy(statements: list[dict[str, Any]]) -> str:
    root = {"Sid": "Enable IAM User Permissions", "Effect": "Allow",
            "Principal": {"AWS": f"arn:aws:iam::{CHECKS}:root"}, "Action": "kms:*", "Resource": "*"}
    return json.dumps({"Version": "2012-10-17", "Statement": [root, *statements]})


def build_check_cases(endpoint: str, audit_actions: list[str], server: Any, trust_policy: str) -> CheckCases:
    sts = client(endpoint, "sts")
    client(endpoint, "iam").put_user_policy(UserName="scanner", PolicyName="assume-checks", PolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
                                                "Resource": [f"arn:aws:iam::{a}:role/{AUDIT_ROLE}"
                                                             for a in (CHECKS, CENTRAL)]}]}))
    creds = sts.assume_role(RoleArn=f"arn:aws:iam::{CHECKS}:role/setup", RoleSessionName="setup")["Credentials"]
    iam = client(endpoint, "iam", creds)
    iam.create_role(RoleName=AUDIT_ROLE, AssumeRolePolicyDocument=trust_policy)
    iam.put_role_policy(RoleName=AUDIT_ROLE, PolicyName="least-privilege", PolicyDocument=allow_policy(audit_actions))
    kms = client(endpoint, "kms", creds)
    kms_eu = client(endpoint, "kms", creds, "eu-west-1")
    s3 = client(endpoint, "s3", creds)
    c = CheckCases()

    def key(name: str, client: Any = kms, **kw: Any) -> str:
        arn = create_key(client, Description=name, **kw)["Arn"]
        c.keys[name] = arn
        return arn

    def bucket(name: str, *, encryption: dict[str, Any] | None = None, bucket_key: bool = False,
               policy: str | None = None) -> str:
        b = f"chk-{name}-{CHECKS}"
        s3.create_bucket(Bucket=b)
        if encryption is not None:
            s3.put_bucket_encryption(Bucket=b, ServerSideEncryptionConfiguration={
                "Rules": [{"ApplyServerSideEncryptionByDefault": encryption, "BucketKeyEnabled": bucket_key}]})
        if policy is not None:
            s3.put_bucket_policy(Bucket=b, Policy=policy)
        c.buckets[name] = f"arn:aws:s3:::{b}"
        return b

    # kms_key_policy_public: fail (anyone may decrypt), pass (wildcard narrowed by kms:CallerAccount)
    key("public", Policy=_key_policy([{"Sid": "Anyone", "Effect": "Allow", "Principal": "*",
                                       "Action": "kms:Decrypt", "Resource": "*"}]))
    key("restricted-wildcard", Policy=_key_policy([{
        "Sid": "OwnAccountOnly", "Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "kms:Decrypt",
        "Resource": "*", "Condition": {"StringEquals": {"kms:CallerAccount": CHECKS}}}]))

    # kms_key_manual_rotation_overdue: imported material, enabled (moto has no import API: shaped
    # to the state AWS reports after ImportKeyMaterial), created two years ago / last week
    old = key("imported-old", Origin="EXTERNAL")
    new = key("imported-new", Origin="EXTERNAL")
    two_years = (dt.datetime.now(dt.timezone.utc) - dt.timedelta(days=730)).timestamp()
    shape_key(CHECKS, REGION, old.split("/")[-1], key_state="Enabled", enabled=True, creation_date=two_years)
    shape_key(CHECKS, REGION, new.split("/")[-1], key_state="Enabled", enabled=True)

    # s3_key_unusable_by_bucket_principals: fail (key doesn't admit COMPUTE), pass (it does)
    private = key("private-cmk")
    shared = key("shared-cmk", Policy=_key_policy([{
        "Sid": "ComputeUse", "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{COMPUTE}:root"},
        "Action": ["kms:Decrypt", "kms:GenerateDataKey*"], "Resource": "*"}]))
    b = f"chk-cmk-shared-nokey-{CHECKS}"
    bucket("cmk-shared-nokey", encryption={"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": private}, bucket_key=True,
           policy=_bucket_policy(b, COMPUTE_READER, ["s3:GetObject", "s3:PutObject"]))
    b = f"chk-cmk-shared-ok-{CHECKS}"
    bucket("cmk-shared-ok", encryption={"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": shared}, bucket_key=True,
           policy=_bucket_policy(b, COMPUTE_READER, ["s3:GetObject", "s3:PutObject"]))

    # s3_aws_managed_key_cross_account: pass (aws/s3, shared with nobody)
    bucket("aws-s3-private", encryption={"SSEAlgorithm": "aws:kms"})

    # s3_encryption_key_unusable_state: fail (key pending deletion; key id that doesn't exist)
    dying = key("dying")
    kms.schedule_key_deletion(KeyId=dying.split("/")[-1], PendingWindowInDays=7)  # moto: key id only
    bucket("dying-key", encryption={"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": dying}, bucket_key=True)
    bucket("missing-key", encryption={"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": f"arn:aws:kms:{REGION}:{CHECKS}:key/"
                                      "00000000-0000-4000-8000-000000000000"}, bucket_key=True)

    # s3_encryption_key_alias_or_foreign_region: fail (alias name; key in another region)
    kms.create_alias(AliasName="alias/chk-private", TargetKeyId=private)
    bucket("by-alias", encryption={"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": "alias/chk-private"}, bucket_key=True)
    eu = key("eu-key", client=kms_eu)
    bucket("foreign-region", encryption={"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": eu}, bucket_key=True)

    # s3_sse_kms_bucket_key_disabled: skip for DSSE-KMS (no Bucket Keys there)
    bucket("dsse", encryption={"SSEAlgorithm": "aws:kms:dsse", "KMSMasterKeyID": private})

    # s3_sse_c_not_blocked: pass. moto drops BlockedEncryptionTypes, which AWS returns in the rule.
    blocked = bucket("sse-c-blocked", encryption={"SSEAlgorithm": "AES256"})

    def add_blocked(detail: bytes, raw: bytes) -> bytes:
        if detail.startswith(f"/{blocked}?".encode()):
            return raw.replace(b"</Rule>", b"<BlockedEncryptionTypes><EncryptionType>SSE-C</EncryptionType>"
                                           b"</BlockedEncryptionTypes></Rule>")
        return raw

    server.raw_rewrites[("s3", "GetBucketEncryption")] = add_blocked

    # s3_bucket_policy_enforces_key: pass (a Deny on uploads naming another key); the other CMK buckets fail
    b = f"chk-enforced-key-{CHECKS}"
    bucket("enforced-key", encryption={"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": private}, bucket_key=True,
           policy=json.dumps({"Version": "2012-10-17", "Statement": [{
               "Sid": "RequireBucketKey", "Effect": "Deny", "Principal": "*", "Action": "s3:PutObject",
               "Resource": f"arn:aws:s3:::{b}/*",
               "Condition": {"StringNotEquals": {"s3:x-amz-server-side-encryption-aws-kms-key-id": private}}}]}))

    # s3_key_in_another_account_unusable: keys of a central key account, one admitting CHECKS through S3
    ccreds = sts.assume_role(RoleArn=f"arn:aws:iam::{CENTRAL}:role/setup", RoleSessionName="setup")["Credentials"]
    ciam = client(endpoint, "iam", ccreds)
    ciam.create_role(RoleName=AUDIT_ROLE, AssumeRolePolicyDocument=trust_policy)
    ciam.put_role_policy(RoleName=AUDIT_ROLE, PolicyName="least-privilege", PolicyDocument=allow_policy(audit_actions))
    ckms = client(endpoint, "kms", ccreds)
    central_root = {"Sid": "Enable IAM User Permissions", "Effect": "Allow",
                    "Principal": {"AWS": f"arn:aws:iam::{CENTRAL}:root"}, "Action": "kms:*", "Resource": "*"}
    admits = key("central-admits", client=ckms, Policy=json.dumps({"Version": "2012-10-17", "Statement": [
        central_root, {"Sid": "DataAccountsViaS3", "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{CHECKS}:root"},
                       "Action": ["kms:Decrypt", "kms:GenerateDataKey*"], "Resource": "*",
                       "Condition": {"StringEquals": {"kms:ViaService": f"s3.{REGION}.amazonaws.com"}}}]}))
    closed = key("central-closed", client=ckms, Policy=json.dumps({"Version": "2012-10-17", "Statement": [central_root]}))
    bucket("central-admits", encryption={"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": admits}, bucket_key=True)
    bucket("central-closed", encryption={"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": closed}, bucket_key=True)
    return c
