"""The S3 controls (TLS-only bucket policies, Block Public Access at bucket, account, access point and
Multi-Region Access Point level, ACLs disabled, public buckets, SSE-C blocked by a bucket policy), each
case with its twin (tests only; the table of them is tests/test_s3_controls.py).

Accounts, all synced through the audit role holding the shipped least-privilege policy:
- S3C_OPEN 616161616161: no account-level Block Public Access at all; the buckets `s3c-<case>-616161616161`,
  two access points and two Multi-Region Access Points.
- S3C_BLOCKED 626262626262: all four account-level settings on, set after its public bucket and its public
  ACL (which they neutralise).
- S3C_PARTIAL 636363636363: account-level BlockPublicAcls and IgnorePublicAcls only; no bucket.

Built with the demo world's building blocks before IAM enforcement (see conftest); `CASES` holds what
was built, for tests/test_s3_controls.py. moto creates buckets without Block Public Access and without
Object Ownership, as AWS did for buckets created before April 2023 (AWS now turns both on for a new
bucket); every case here sets what it needs explicitly. Where moto's answers differ from AWS's the
emulator's edge shapes them (plugin/demo/world.py, shape_s3_access_answers).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from plugin.demo.world import AUDIT_ROLE, MOTO_CANONICAL_USER, allow_policy, client, create_key

S3C_OPEN = "616161616161"
S3C_BLOCKED = "626262626262"
S3C_PARTIAL = "636363636363"
ACCOUNTS = [S3C_OPEN, S3C_BLOCKED, S3C_PARTIAL]
ALL_USERS = "http://acs.amazonaws.com/groups/global/AllUsers"
ALL_ON = {"BlockPublicAcls": True, "IgnorePublicAcls": True, "BlockPublicPolicy": True, "RestrictPublicBuckets": True}
ALL_OFF = {k: False for k in ALL_ON}


@dataclass
class S3ControlCases:
    buckets: dict[str, str] = field(default_factory=dict)          # case -> bucket name
    access_points: dict[str, str] = field(default_factory=dict)    # name -> access point ARN
    mraps: dict[str, str] = field(default_factory=dict)            # name -> arn:aws:s3::<acct>:accesspoint/<alias>
    key: str = ""                                                  # the customer managed key of tls-reads-only

    def arn(self, case: str) -> str:
        return f"arn:aws:s3:::{self.buckets[case]}"


CASES = S3ControlCases()


def _doc(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def _public_read(resource: str, sid: str = "PublicRead") -> dict[str, Any]:
    return {"Sid": sid, "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": resource}


def _delegate_to_access_points(arn: str, account: str) -> dict[str, Any]:
    """The bucket policy AWS documents for access points: the bucket delegates access control to the
    access points (and Multi-Region Access Points) of its own account. Not public (a fixed
    s3:DataAccessPointAccount)."""
    return {"Sid": "DelegateToAccessPoints", "Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "*",
            "Resource": [arn, f"{arn}/*"], "Condition": {"StringEquals": {"s3:DataAccessPointAccount": account}}}


def build_s3_controls(endpoint: str, audit_actions: list[str], trust_policy: str) -> S3ControlCases:
    sts = client(endpoint, "sts")

    def setup(account: str) -> dict[str, str]:
        return sts.assume_role(RoleArn=f"arn:aws:iam::{account}:role/setup", RoleSessionName="setup")["Credentials"]

    creds = {a: setup(a) for a in ACCOUNTS}
    for a in ACCOUNTS:
        iam = client(endpoint, "iam", creds[a])
        iam.create_role(RoleName=AUDIT_ROLE, AssumeRolePolicyDocument=trust_policy)
        iam.put_role_policy(RoleName=AUDIT_ROLE, PolicyName="least-privilege",
                            PolicyDocument=allow_policy(audit_actions))
    scanner = client(endpoint, "iam")
    scanner.put_user_policy(UserName="scanner", PolicyName="assume-s3-controls", PolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": [
            f"arn:aws:iam::{a}:role/{AUDIT_ROLE}" for a in ACCOUNTS]}]}))
    c = CASES
    s3, s3c = client(endpoint, "s3", creds[S3C_OPEN]), client(endpoint, "s3control", creds[S3C_OPEN])

    def bucket(case: str, account: str = S3C_OPEN, s3client: Any = s3, *, policy: list[Any] | None = None,
               block: dict[str, bool] | None = None, ownership: str | None = None) -> str:
        name = f"s3c-{case}-{account}"
        arn = f"arn:aws:s3:::{name}"
        s3client.create_bucket(Bucket=name)
        if policy:
            s3client.put_bucket_policy(Bucket=name, Policy=_doc(*[st if isinstance(st, dict) else st(arn)
                                                                   for st in policy]))
        if ownership:
            s3client.put_bucket_ownership_controls(Bucket=name, OwnershipControls={"Rules": [
                {"ObjectOwnership": ownership}]})
        if block is not None:
            s3client.put_public_access_block(Bucket=name, PublicAccessBlockConfiguration=block)
        c.buckets[case] = name
        return name

    def public_acl(name: str, s3client: Any = s3) -> None:
        s3client.put_bucket_acl(Bucket=name, AccessControlPolicy={
            "Owner": {"ID": MOTO_CANONICAL_USER},  # moto's one owner id; the edge answers the account's own
            "Grants": [{"Grantee": {"Type": "CanonicalUser", "ID": MOTO_CANONICAL_USER}, "Permission": "FULL_CONTROL"},
                       {"Grantee": {"Type": "Group", "URI": ALL_USERS}, "Permission": "READ"}]})

    tls = {"Sid": "DenyInsecureTransport", "Effect": "Deny", "Principal": "*", "Action": "s3:*",
           "Condition": {"Bool": {"aws:SecureTransport": "false"}}}
    # TLS required the way AWS documents it, all four Block Public Access settings, ACLs disabled
    bucket("tls-ok", policy=[lambda arn: {**tls, "Resource": [arn, f"{arn}/*"]}], block=ALL_ON,
           ownership="BucketOwnerEnforced")
    # the same, split over two statements (the bucket, its objects), one with {"AWS": "*"} and BoolIfExists
    bucket("tls-split", policy=[
        lambda arn: {**tls, "Sid": "DenyHttpBucket", "Resource": arn},
        lambda arn: {**tls, "Sid": "DenyHttpObjects", "Principal": {"AWS": "*"}, "Resource": f"{arn}/*",
                     "Condition": {"BoolIfExists": {"aws:SecureTransport": ["false"]}}}])
    # a near miss: denies plain HTTP only for reads of objects; SSE-KMS under a customer managed key
    reads_only = bucket("tls-reads-only", policy=[lambda arn: {**tls, "Sid": "DenyHttpReads", "Action": "s3:GetObject",
                                                               "Resource": f"{arn}/*"}])
    c.key = create_key(client(endpoint, "kms", creds[S3C_OPEN]), Description="s3 controls bucket key")["Arn"]
    s3.put_bucket_encryption(Bucket=reads_only, ServerSideEncryptionConfiguration={"Rules": [{
        "ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": c.key},
        "BucketKeyEnabled": True}]})
    # nothing at all: no policy, no Block Public Access, Object Ownership not configured (ACLs in force)
    bucket("private")
    # public through its policy, nothing restricts it
    bucket("public-policy", policy=[lambda arn: _public_read(f"{arn}/*")])
    # public through its policy, restricted by the bucket's RestrictPublicBuckets (the other three off)
    bucket("public-policy-restricted", policy=[lambda arn: _public_read(f"{arn}/*")],
           block={**ALL_OFF, "RestrictPublicBuckets": True})
    # public through its ACL (AllUsers READ, ACLs in force), nothing ignores it
    public_acl(bucket("public-acl", ownership="ObjectWriter"))
    # the same ACL, ignored by the bucket's IgnorePublicAcls
    public_acl(bucket("public-acl-ignored", ownership="BucketOwnerPreferred",
                      block={**ALL_OFF, "IgnorePublicAcls": True, "BlockPublicAcls": True}))
    # SSE-C refused by the bucket policy (the condition AWS's SSE-C examples use)
    bucket("ssec-policy", policy=[lambda arn: {
        "Sid": "DenySseC", "Effect": "Deny", "Principal": "*", "Action": "s3:PutObject", "Resource": f"{arn}/*",
        "Condition": {"Null": {"s3:x-amz-server-side-encryption-customer-algorithm": "false"}}}])

    # Access points (moto names every access point's Region us-east-1: they are made there only).
    # The bucket delegates to its account's access points; one access point with every Block Public Access
    # setting off and a public policy (public through it), one with the defaults (all on) and the same policy.
    for case, ap, settings in (("ap-open", "s3c-ap-open", ALL_OFF), ("ap-blocked", "s3c-ap-blocked", None)):
        name = bucket(case, policy=[lambda arn: _delegate_to_access_points(arn, S3C_OPEN)])
        kw = {"PublicAccessBlockConfiguration": settings} if settings is not None else {}
        arn = s3c.create_access_point(AccountId=S3C_OPEN, Name=ap, Bucket=name, **kw)["AccessPointArn"]
        s3c.put_access_point_policy(AccountId=S3C_OPEN, Name=ap, Policy=_doc(
            _public_read(f"{arn}/object/*", sid="PublicReadThroughAccessPoint")))
        c.access_points[ap] = arn

    # Multi-Region Access Points: one with every setting off and a public policy over a delegating bucket,
    # one with the defaults (all on) over tls-ok.
    mrap_bucket = bucket("mrap-open", policy=[lambda arn: _delegate_to_access_points(arn, S3C_OPEN)])
    for mrap, over, pab in (("s3c-mrap-open", mrap_bucket, ALL_OFF), ("s3c-mrap-blocked", c.buckets["tls-ok"], None)):
        s3c.create_multi_region_access_point(AccountId=S3C_OPEN, ClientToken=f"create-{mrap}", Details={
            "Name": mrap, "Regions": [{"Bucket": over}], **({"PublicAccessBlock": pab} if pab is not None else {})})
        alias = s3c.get_multi_region_access_point(AccountId=S3C_OPEN, Name=mrap)["AccessPoint"]["Alias"]
        c.mraps[mrap] = f"arn:aws:s3::{S3C_OPEN}:accesspoint/{alias}"
    s3c.put_multi_region_access_point_policy(AccountId=S3C_OPEN, ClientToken="policy-s3c-mrap-open", Details={
        "Name": "s3c-mrap-open", "Policy": _doc(_public_read(f"{c.mraps['s3c-mrap-open']}/object/*",
                                                             sid="PublicReadThroughMrap"))})

    # S3C_BLOCKED: a public policy and a public ACL, then all four account-level settings on
    s3b = client(endpoint, "s3", creds[S3C_BLOCKED])
    bucket("blocked-public-policy", S3C_BLOCKED, s3b, policy=[lambda arn: _public_read(f"{arn}/*")])
    public_acl(bucket("blocked-public-acl", S3C_BLOCKED, s3b, ownership="ObjectWriter"), s3b)
    client(endpoint, "s3control", creds[S3C_BLOCKED]).put_public_access_block(
        AccountId=S3C_BLOCKED, PublicAccessBlockConfiguration=ALL_ON)
    # S3C_PARTIAL: the ACL settings only
    client(endpoint, "s3control", creds[S3C_PARTIAL]).put_public_access_block(
        AccountId=S3C_PARTIAL, PublicAccessBlockConfiguration={**ALL_OFF, "BlockPublicAcls": True,
                                                              "IgnorePublicAcls": True})
    return c
