"""The data-lake cross-account scenario (docs/access-paths.md, "The identity side"), link by link
(tests only; the table of it is tests/test_chain.py).

A compute account's roles read a data-lake account's buckets, each bucket under its own customer
managed key. One role and one bucket per scenario: everything right (`ok`), then each link broken in
turn. Accounts:
- CHAIN_DATA 575757575757: the buckets `chain-<scenario>-575757575757` and their keys; synced.
- CHAIN_COMPUTE 565656565656: the roles `etl-<scenario>`; synced. In OU `workloads`, under an SCP that
  denies kms:Decrypt with keys outside the organisation's approved accounts (CHAIN_COMPUTE and
  CHAIN_DATA; the `scp` bucket's key is CHAIN_VAULT's).
- CHAIN_MGMT 585858585858: manages their organisation (CHAIN_DATA, CHAIN_COMPUTE, CHAIN_VAULT); its role
  `chain-org-admin` is the spec's `org.admin_account` when SCPs are synced.
- CHAIN_VAULT 535353535353: a key vault account of the organisation, not on the SCP's approved list;
  holds the key of the `scp` bucket. Synced.
- CHAIN_PEER 595959595959: a reader account that is never synced (`unsynced`).

Built with the demo world's building blocks before IAM enforcement (see conftest).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from plugin.demo.world import AUDIT_ROLE, allow_policy, build_organisation, client, create_key
from plugin.tables.least_privilege import org_admin_policy

CHAIN_COMPUTE = "565656565656"
CHAIN_DATA = "575757575757"
CHAIN_MGMT = "585858585858"
CHAIN_PEER = "595959595959"
CHAIN_VAULT = "535353535353"
ORG_ADMIN_ROLE = "chain-org-admin"
SCENARIOS = ("ok", "no-decrypt", "no-getobject", "bucket-other-role", "key-other-role", "boundary", "scp",
             "unsynced")


@dataclass
class ChainCases:
    org_id: str = ""
    ou: str = ""
    buckets: dict[str, str] = field(default_factory=dict)   # scenario -> bucket name
    keys: dict[str, str] = field(default_factory=dict)      # scenario -> key ARN
    roles: dict[str, str] = field(default_factory=dict)     # scenario -> reader role ARN
    boundary: str = ""                                      # the permission boundary policy ARN
    scp: str = ""                                           # the SCP's id


def _doc(statements: list[dict[str, Any]]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": statements})


def role_arn(name: str, account: str = CHAIN_COMPUTE) -> str:
    return f"arn:aws:iam::{account}:role/{name}"


def build_chain(endpoint: str, audit_actions: list[str], trust_policy: str) -> ChainCases:
    sts = client(endpoint, "sts")

    def setup(account: str) -> dict[str, str]:
        return sts.assume_role(RoleArn=f"arn:aws:iam::{account}:role/setup", RoleSessionName="setup")["Credentials"]

    data, compute, mgmt, vault = setup(CHAIN_DATA), setup(CHAIN_COMPUTE), setup(CHAIN_MGMT), setup(CHAIN_VAULT)
    for creds in (data, compute, mgmt, vault):
        iam = client(endpoint, "iam", creds)
        iam.create_role(RoleName=AUDIT_ROLE, AssumeRolePolicyDocument=trust_policy)
        iam.put_role_policy(RoleName=AUDIT_ROLE, PolicyName="least-privilege",
                            PolicyDocument=allow_policy(audit_actions))
    members = [f"arn:aws:iam::{a}:role/{AUDIT_ROLE}" for a in (CHAIN_DATA, CHAIN_COMPUTE, CHAIN_MGMT, CHAIN_VAULT)]
    miam = client(endpoint, "iam", mgmt)
    miam.create_role(RoleName=ORG_ADMIN_ROLE, AssumeRolePolicyDocument=trust_policy)
    miam.put_role_policy(RoleName=ORG_ADMIN_ROLE, PolicyName="org-admin", PolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": org_admin_policy()["Statement"][0]["Action"], "Resource": "*"},
            {"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": members}]}))
    client(endpoint, "iam").put_user_policy(UserName="scanner", PolicyName="assume-chain", PolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
                                                "Resource": [*members, role_arn(ORG_ADMIN_ROLE, CHAIN_MGMT)]}]}))

    c = ChainCases(org_id=build_organisation(endpoint, mgmt, {CHAIN_DATA: "data", CHAIN_COMPUTE: "compute",
                                                              CHAIN_VAULT: "vault"}))
    org = client(endpoint, "organizations", mgmt)
    root = org.list_roots()["Roots"][0]["Id"]
    c.ou = org.create_organizational_unit(ParentId=root, Name="workloads")["OrganizationalUnit"]["Id"]
    org.move_account(AccountId=CHAIN_COMPUTE, SourceParentId=root, DestinationParentId=c.ou)
    # A data perimeter: compute may decrypt only with keys of the approved accounts (CHAIN_VAULT joined
    # the organisation later and was never added to the list).
    c.scp = org.create_policy(Name="deny-kms-outside-approved-accounts", Type="SERVICE_CONTROL_POLICY",
                              Description="compute decrypts only with approved accounts' keys", Content=_doc([{
                                  "Sid": "DenyDecryptOutsideApproved", "Effect": "Deny", "Action": "kms:Decrypt",
                                  "Resource": "*", "Condition": {"StringNotEquals": {
                                      "aws:ResourceAccount": [CHAIN_COMPUTE, CHAIN_DATA]}}}]))["Policy"][
        "PolicySummary"]["Id"]
    org.attach_policy(PolicyId=c.scp, TargetId=c.ou)

    iam = client(endpoint, "iam", compute)
    s3, kms = client(endpoint, "s3", data), client(endpoint, "kms", data)
    trust = json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"Service": "glue.amazonaws.com"}, "Action": "sts:AssumeRole"}]})
    c.boundary = iam.create_policy(PolicyName="s3-only-boundary", PolicyDocument=_doc([{
        "Sid": "S3Only", "Effect": "Allow", "Action": "s3:*", "Resource": "*"}]))["Policy"]["Arn"]

    for scenario in SCENARIOS:
        bucket = f"chain-{scenario}-{CHAIN_DATA}"
        reader = f"etl-{scenario}"
        account = CHAIN_PEER if scenario == "unsynced" else CHAIN_COMPUTE
        admitted = role_arn("someone-else") if scenario == "bucket-other-role" else role_arn(reader, account)
        key_admits = role_arn("other-reader") if scenario == "key-other-role" else admitted
        owner = CHAIN_VAULT if scenario == "scp" else CHAIN_DATA
        key = create_key(kms if owner == CHAIN_DATA else client(endpoint, "kms", vault),
                         Description=f"chain {scenario}", Policy=_doc([
            {"Sid": "Enable IAM User Permissions", "Effect": "Allow",
             "Principal": {"AWS": f"arn:aws:iam::{owner}:root"}, "Action": "kms:*", "Resource": "*"},
            {"Sid": "AllowDataLake", "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{CHAIN_DATA}:root"},
             "Action": ["kms:Encrypt", "kms:Decrypt", "kms:GenerateDataKey*", "kms:DescribeKey"], "Resource": "*"},
            {"Sid": "AllowCompute", "Effect": "Allow", "Principal": {"AWS": key_admits},
             "Action": ["kms:Decrypt", "kms:DescribeKey"], "Resource": "*"}]))["Arn"]
        s3.create_bucket(Bucket=bucket)
        s3.put_bucket_encryption(Bucket=bucket, ServerSideEncryptionConfiguration={"Rules": [{
            "ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": key},
            "BucketKeyEnabled": True}]})
        s3.put_bucket_ownership_controls(Bucket=bucket, OwnershipControls={"Rules": [
            {"ObjectOwnership": "BucketOwnerEnforced"}]})
        s3.put_bucket_policy(Bucket=bucket, Policy=_doc([{
            "Sid": "ComputeRead", "Effect": "Allow", "Principal": {"AWS": admitted},
            "Action": ["s3:GetObject", "s3:ListBucket"],
            "Resource": [f"arn:aws:s3:::{bucket}", f"arn:aws:s3:::{bucket}/*"]}]))
        c.buckets[scenario], c.keys[scenario], c.roles[scenario] = bucket, key, role_arn(reader, account)
        if account != CHAIN_COMPUTE:
            continue
        objects = f"arn:aws:s3:::{bucket}" if scenario == "no-getobject" else f"arn:aws:s3:::{bucket}/*"
        statements = [{"Sid": "ReadLake", "Effect": "Allow", "Action": ["s3:GetObject", "s3:ListBucket"],
                       "Resource": objects}]
        if scenario != "no-decrypt":
            statements.append({"Sid": "DecryptLake", "Effect": "Allow", "Action": "kms:Decrypt", "Resource": key})
        iam.create_role(RoleName=reader, AssumeRolePolicyDocument=trust,
                        **({"PermissionsBoundary": c.boundary} if scenario == "boundary" else {}))
        iam.put_role_policy(RoleName=reader, PolicyName="read-lake", PolicyDocument=_doc(statements))
        if scenario == "key-other-role":
            iam.create_role(RoleName="other-reader", AssumeRolePolicyDocument=trust)
        if scenario == "bucket-other-role":
            # the role the bucket admits instead: fully set up, so only etl-bucket-other-role's link breaks
            iam.create_role(RoleName="someone-else", AssumeRolePolicyDocument=trust)
            iam.put_role_policy(RoleName="someone-else", PolicyName="read-lake", PolicyDocument=_doc(statements))
    # KMS hygiene: a customer managed policy decrypting with every key, unconditionally, and an inline
    # policy that does the same only through S3.
    everything = iam.create_policy(PolicyName="decrypt-everything", PolicyDocument=_doc([{
        "Sid": "DecryptAll", "Effect": "Allow", "Action": ["kms:Decrypt", "kms:DescribeKey"], "Resource": "*"}]))
    iam.create_role(RoleName="analytics", AssumeRolePolicyDocument=trust)
    iam.attach_role_policy(RoleName="analytics", PolicyArn=everything["Policy"]["Arn"])
    iam.put_role_policy(RoleName="analytics", PolicyName="via-s3", PolicyDocument=_doc([{
        "Sid": "DecryptViaS3", "Effect": "Allow", "Action": "kms:*", "Resource": "*",
        "Condition": {"StringLike": {"kms:ViaService": "s3.*.amazonaws.com"}}}]))
    return c
