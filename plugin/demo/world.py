"""The demo world, built through the AWS API on moto's server: the `aws/s3` cross-account failure of
docs/key-types.md (a data lake shared with a compute account) and one key of every kind.

Accounts (moto switches account by the AssumeRole target, as AWS does):
- SCANNER 123456789012: where the plugin's base credentials (an IAM user) live.
- DATA 111111111111: the data lake. Audited through a role whose policy is exactly the
  plugin's least-privilege policy (plugin/iam_policy.json).
- COMPUTE 222222222222: reads the data lake. Its audit role lacks kms:GetKeyRotationStatus, so
  that call is denied there, as in a real organisation with a drifted role.
- DENIED 333333333333: the scanner may not assume its role (AssumeRole is AccessDenied).
- ORG_MANAGEMENT 100000000000: manages the organisation DATA and COMPUTE belong to; not synced. DATA
  shares a bucket on `aws/s3` with the whole organisation (`aws:PrincipalOrgID`).

After the world is built, moto's IAM enforcement is switched on (`/moto-api/reset-auth`), so
every call the plugin makes is authenticated and authorised against these IAM policies.

Where moto differs from AWS the fixture is shaped to what AWS returns, each noted below.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from typing import Any

import boto3

SCANNER = "123456789012"
DATA = "111111111111"
COMPUTE = "222222222222"
DENIED = "333333333333"
ORG_MANAGEMENT = "100000000000"
REGIONS = ["us-east-1", "eu-west-1"]
AUDIT_ROLE = "aws-encryption-audit"
ADMIN_ROLE = "world-admin"
COMPUTE_READER = f"arn:aws:iam::{COMPUTE}:role/compute-reader"


# The IAM actions moto checks for S3 calls where AWS checks others (see build_world): s3:ListBucket for four
# bucket reads, and s3:GetPublicAccessBlock (an S3 Control operation name, no IAM action) for S3 Control's
# account-level GetPublicAccessBlock, which AWS authorises as s3:GetAccountPublicAccessBlock.
MOTO_S3_ACTION_ALIASES = ["s3:ListBucket", "s3:GetPublicAccessBlock"]


def audit_role_arn(account: str) -> str:
    return f"arn:aws:iam::{account}:role/{AUDIT_ROLE}"


def aws_managed_s3_policy(account: str, region: str) -> str:
    """The policy AWS gives every `aws/s3` key (docs/key-types.md)."""
    return json.dumps({
        "Version": "2012-10-17",
        "Id": "auto-s3-2",
        "Statement": [
            {
                "Sid": "Allow access through S3 for all principals in the account that are authorized to use S3",
                "Effect": "Allow",
                "Principal": {"AWS": "*"},
                "Action": ["kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:DescribeKey"],
                "Resource": "*",
                "Condition": {"StringEquals": {"kms:CallerAccount": account,
                                               "kms:ViaService": f"s3.{region}.amazonaws.com"}},
            },
            {
                "Sid": "Allow direct access to key metadata to the account",
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:aws:iam::{account}:root"},
                "Action": ["kms:Describe*", "kms:Get*", "kms:List*"],
                "Resource": "*",
            },
        ],
    })


def cmk_policy(account: str, reader_arn: str | None = None) -> str:
    st: list[dict[str, Any]] = [{
        "Sid": "Enable IAM User Permissions", "Effect": "Allow",
        "Principal": {"AWS": f"arn:aws:iam::{account}:root"}, "Action": "kms:*", "Resource": "*",
    }]
    if reader_arn:
        st.append({
            "Sid": "Allow use of the key", "Effect": "Allow", "Principal": {"AWS": reader_arn},
            "Action": ["kms:Decrypt", "kms:DescribeKey"], "Resource": "*",
        })
    return json.dumps({"Version": "2012-10-17", "Id": "key-default-1", "Statement": st})


@dataclass
class World:
    endpoint: str
    scanner_key_id: str
    scanner_secret: str
    keys: dict[str, dict[str, Any]] = field(default_factory=dict)  # name -> KeyMetadata
    buckets: dict[str, str] = field(default_factory=dict)  # name -> account
    grants: dict[str, str] = field(default_factory=dict)  # name -> grant id
    secrets: dict[str, str] = field(default_factory=dict)  # name -> secret ARN (in DATA)
    queues: dict[str, str] = field(default_factory=dict)   # name -> queue ARN (in DATA)
    topics: dict[str, str] = field(default_factory=dict)   # name -> topic ARN (in DATA)
    server: Any = None  # the RecordingMotoServer
    org_id: str = ""    # the organisation of DATA and COMPUTE

    @property
    def env(self) -> dict[str, str]:
        """Environment for the plugin: the scanner user's keys, nothing else."""
        return {"AWS_ACCESS_KEY_ID": self.scanner_key_id, "AWS_SECRET_ACCESS_KEY": self.scanner_secret,
                "AWS_DEFAULT_REGION": "us-east-1"}

    def spec(self, accounts: list[str] | None = None, **extra: Any) -> dict[str, Any]:
        """A plugin spec for this world (the `spec:` block)."""
        accounts = accounts if accounts is not None else [DATA, COMPUTE]
        s: dict[str, Any] = {
            "regions": REGIONS,
            "accounts": [{"id": a, "role_arn": audit_role_arn(a)} for a in accounts],
            "custom_endpoint_url": self.endpoint,
            "custom_endpoint_hostname_immutable": True,
            "custom_endpoint_partition_id": "aws",
            "custom_endpoint_signing_region": "us-east-1",
            "max_retries": 1,
            "concurrency": 16,
        }
        s.update(extra)
        return s

    def admin(self, service: str, account: str, region: str = "us-east-1") -> Any:
        """A client with full rights in `account` (for tests that change the world)."""
        sts = boto3.client("sts", endpoint_url=self.endpoint, region_name="us-east-1",
                           aws_access_key_id=self.scanner_key_id, aws_secret_access_key=self.scanner_secret)
        c = sts.assume_role(RoleArn=f"arn:aws:iam::{account}:role/{ADMIN_ROLE}", RoleSessionName="world-admin")
        cr = c["Credentials"]
        return boto3.client(service, endpoint_url=self.endpoint, region_name=region,
                            aws_access_key_id=cr["AccessKeyId"], aws_secret_access_key=cr["SecretAccessKey"],
                            aws_session_token=cr["SessionToken"])


def client(endpoint: str, service: str, creds: dict[str, str] | None = None, region: str = "us-east-1") -> Any:
    kw: dict[str, Any] = {}
    if creds:
        kw = {"aws_access_key_id": creds["AccessKeyId"], "aws_secret_access_key": creds["SecretAccessKey"],
              "aws_session_token": creds["SessionToken"]}
    c = boto3.client(service, endpoint_url=endpoint, region_name=region, **kw)
    if service == "s3control":
        # The endpoint is one host: no `<account id>.` in front of it (plugin/aws/clients.py).
        from ..aws.clients import drop_account_host_label
        c.meta.events.register_first("before-sign.s3-control", drop_account_host_label)
    return c


def allow_policy(actions: list[str], resource: str = "*") -> str:
    return json.dumps({"Version": "2012-10-17",
                       "Statement": [{"Effect": "Allow", "Action": actions, "Resource": resource}]})


def build_world(endpoint: str, least_privilege_actions: list[str], server: Any) -> World:
    """Build the demo world; `endpoint` is a fresh moto server with IAM enforcement still off."""
    sts = client(endpoint, "sts")
    iam = client(endpoint, "iam")

    def as_account(account: str) -> dict[str, str]:
        return sts.assume_role(RoleArn=f"arn:aws:iam::{account}:role/setup", RoleSessionName="setup")["Credentials"]

    # The scanner: an IAM user in SCANNER that may assume the audit roles of DATA and COMPUTE only.
    iam.create_user(UserName="scanner")
    key = iam.create_access_key(UserName="scanner")["AccessKey"]
    iam.put_user_policy(UserName="scanner", PolicyName="assume-audit", PolicyDocument=json.dumps({
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Action": "sts:AssumeRole",
             "Resource": [audit_role_arn(DATA), audit_role_arn(COMPUTE)] +
                         [f"arn:aws:iam::{a}:role/{ADMIN_ROLE}" for a in (DATA, COMPUTE)]},
        ]}))
    w = World(endpoint=endpoint, scanner_key_id=key["AccessKeyId"], scanner_secret=key["SecretAccessKey"],
              server=server)

    # moto authorises GetBucketEncryption, GetPublicAccessBlock, GetBucketOwnershipControls and
    # GetBucketReplication as s3:ListBucket (its S3 action map has no entry for them); AWS checks
    # s3:GetEncryptionConfiguration, s3:GetBucketPublicAccessBlock, s3:GetBucketOwnershipControls and
    # s3:GetReplicationConfiguration, which the policy has. S3 Control's GetPublicAccessBlock (the account's
    # settings, aws_s3_accounts) moto authorises as "s3:" + its operation name; AWS as
    # s3:GetAccountPublicAccessBlock, which the policy has.
    least_privilege_actions = [*least_privilege_actions, *MOTO_S3_ACTION_ALIASES]
    trust = json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{SCANNER}:root"}, "Action": "sts:AssumeRole"}]})
    for account, actions in (
        (DATA, least_privilege_actions),
        (COMPUTE, [a for a in least_privilege_actions if a != "kms:GetKeyRotationStatus"]),
        (DENIED, least_privilege_actions),
    ):
        creds = as_account(account)
        aiam = client(endpoint, "iam", creds)
        aiam.create_role(RoleName=AUDIT_ROLE, AssumeRolePolicyDocument=trust)
        aiam.put_role_policy(RoleName=AUDIT_ROLE, PolicyName="least-privilege", PolicyDocument=allow_policy(actions))
        aiam.create_role(RoleName=ADMIN_ROLE, AssumeRolePolicyDocument=trust)
        aiam.put_role_policy(RoleName=ADMIN_ROLE, PolicyName="all", PolicyDocument=allow_policy(["*"]))

    w.org_id = build_organisation(endpoint, as_account(ORG_MANAGEMENT), {DATA: "data", COMPUTE: "compute"})
    # COMPUTE's reader: its own IAM allows the data lake's objects and DATA's keys (the third link is right;
    # the data lake's key is what breaks)
    ciam = client(endpoint, "iam", as_account(COMPUTE))
    ciam.create_role(RoleName=COMPUTE_READER.rsplit("/", 1)[1], AssumeRolePolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "glue.amazonaws.com"},
                                                "Action": "sts:AssumeRole"}]}))
    ciam.put_role_policy(RoleName=COMPUTE_READER.rsplit("/", 1)[1], PolicyName="read-data-lake", PolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [
            {"Sid": "ReadDataLake", "Effect": "Allow", "Action": ["s3:GetObject", "s3:ListBucket"],
             "Resource": [f"arn:aws:s3:::data-lake-{DATA}", f"arn:aws:s3:::data-lake-{DATA}/*"]},
            {"Sid": "DecryptDataLake", "Effect": "Allow", "Action": "kms:Decrypt",
             "Resource": f"arn:aws:kms:*:{DATA}:key/*"},
            {"Sid": "ReadOrdersCredentials", "Effect": "Allow", "Action": "secretsmanager:GetSecretValue",
             "Resource": f"arn:aws:secretsmanager:*:{DATA}:secret:orders-db-credentials-*"}]}))
    shape_s3_access_answers(server)
    shape_iam_answers(server)
    shape_ec2_answers(server)
    shape_backup_answers(server)

    periods: dict[str, int] = {}
    d = as_account(DATA)
    kms = client(endpoint, "kms", d)
    # aws/s3: KMS creates it the first time S3 needs it; moto creates it on first reference to the
    # alias, but as a CUSTOMER key with moto's default policy. AWS reports it as KeyManager=AWS with
    # the fixed policy below; the fixture sets both on moto's model so the plugin sees what AWS returns.
    aws_s3 = kms.describe_key(KeyId="alias/aws/s3")["KeyMetadata"]
    _make_aws_managed(DATA, "us-east-1", aws_s3["KeyId"], aws_managed_s3_policy(DATA, "us-east-1"),
                      "Default key that protects my S3 objects when no other key is defined")
    w.keys["aws_s3"] = kms.describe_key(KeyId=aws_s3["KeyId"])["KeyMetadata"]

    rot = create_key(kms, Description="data lake cmk, rotating", Policy=cmk_policy(DATA, COMPUTE_READER),
                         Tags=[{"TagKey": "team", "TagValue": "data"}])
    kms.enable_key_rotation(KeyId=rot["KeyId"], RotationPeriodInDays=180)
    periods[rot["Arn"]] = 180
    kms.create_alias(AliasName="alias/data-lake-cmk", TargetKeyId=rot["KeyId"])
    kms.rotate_key_on_demand(KeyId=rot["KeyId"])
    w.grants["compute"] = kms.create_grant(KeyId=rot["KeyId"], GranteePrincipal=COMPUTE_READER,
                                           Operations=["Decrypt", "DescribeKey"], Name="compute-read")["GrantId"]
    w.keys["rotating"] = kms.describe_key(KeyId=rot["KeyId"])["KeyMetadata"]

    norot = create_key(kms, Description="cmk without rotation", Policy=cmk_policy(DATA))
    w.keys["no_rotation"] = norot

    ext = create_key(kms, Description="imported key material", Origin="EXTERNAL")
    # AWS: an EXTERNAL key waits in PendingImport, disabled, until key material is imported;
    # moto has no import API and reports it Enabled.
    shape_key(DATA, "us-east-1", ext["KeyId"], key_state="PendingImport", enabled=False)
    w.keys["external"] = kms.describe_key(KeyId=ext["KeyId"])["KeyMetadata"]

    pend = create_key(kms, Description="to be deleted")
    kms.schedule_key_deletion(KeyId=pend["KeyId"], PendingWindowInDays=7)
    w.keys["pending_deletion"] = kms.describe_key(KeyId=pend["KeyId"])["KeyMetadata"]

    asym = create_key(kms, Description="signing key", KeySpec="RSA_2048", KeyUsage="SIGN_VERIFY")
    w.keys["asymmetric"] = asym

    kms_eu = client(endpoint, "kms", d, "eu-west-1")
    w.keys["eu"] = create_key(kms_eu, Description="eu cmk")

    s3 = client(endpoint, "s3", d)
    lake = f"data-lake-{DATA}"
    s3.create_bucket(Bucket=lake)
    # SSE-KMS with no key id: S3 uses the account's aws/s3 key.
    s3.put_bucket_encryption(Bucket=lake, ServerSideEncryptionConfiguration={
        "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms"}, "BucketKeyEnabled": False}]})
    s3.put_bucket_policy(Bucket=lake, Policy=json.dumps({
        "Version": "2012-10-17",
        "Statement": [{"Sid": "ComputeRead", "Effect": "Allow", "Principal": {"AWS": COMPUTE_READER},
                       "Action": ["s3:GetObject", "s3:ListBucket"],
                       "Resource": [f"arn:aws:s3:::{lake}", f"arn:aws:s3:::{lake}/*"]}]}))
    s3.put_bucket_tagging(Bucket=lake, Tagging={"TagSet": [{"Key": "purpose", "Value": "data-lake"}]})
    w.buckets[lake] = DATA

    cmkb = f"cmk-bucket-{DATA}"
    s3.create_bucket(Bucket=cmkb)
    s3.put_bucket_encryption(Bucket=cmkb, ServerSideEncryptionConfiguration={
        "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms",
                                                          "KMSMasterKeyID": w.keys["rotating"]["Arn"]},
                   "BucketKeyEnabled": True}]})
    s3.put_public_access_block(Bucket=cmkb, PublicAccessBlockConfiguration={
        "BlockPublicAcls": True, "IgnorePublicAcls": True, "BlockPublicPolicy": True, "RestrictPublicBuckets": True})
    s3.put_bucket_ownership_controls(Bucket=cmkb, OwnershipControls={"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]})
    w.buckets[cmkb] = DATA

    s3eu = client(endpoint, "s3", d, "eu-west-1")
    sses3 = f"sse-s3-{DATA}"
    s3eu.create_bucket(Bucket=sses3, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    s3eu.put_bucket_encryption(Bucket=sses3, ServerSideEncryptionConfiguration={
        "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]})
    w.buckets[sses3] = DATA

    # A bucket outside the synced regions: must not appear.
    s3ap = client(endpoint, "s3", d, "ap-southeast-2")
    s3ap.create_bucket(Bucket=f"out-of-scope-{DATA}",
                       CreateBucketConfiguration={"LocationConstraint": "ap-southeast-2"})

    # Shared with the whole organisation, on aws/s3: a principal of another member account may read
    # it, but the aws/s3 key admits only DATA's own principals (docs/key-types.md).
    org_shared = f"org-shared-{DATA}"
    s3.create_bucket(Bucket=org_shared)
    s3.put_bucket_encryption(Bucket=org_shared, ServerSideEncryptionConfiguration={
        "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms"}, "BucketKeyEnabled": True}]})
    s3.put_bucket_policy(Bucket=org_shared, Policy=json.dumps({
        "Version": "2012-10-17",
        "Statement": [{"Sid": "OrganisationRead", "Effect": "Allow", "Principal": "*",
                       "Action": ["s3:GetObject", "s3:ListBucket"],
                       "Resource": [f"arn:aws:s3:::{org_shared}", f"arn:aws:s3:::{org_shared}/*"],
                       "Condition": {"StringEquals": {"aws:PrincipalOrgID": w.org_id}}}]}))
    s3.put_bucket_ownership_controls(Bucket=org_shared,
                                     OwnershipControls={"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]})
    w.buckets[org_shared] = DATA

    # The same failure beyond S3, silent too: a secret on aws/secretsmanager that COMPUTE's reader is
    # let read, and a queue on aws/sqs that an EventBridge rule delivers to (docs/shared-resources.md).
    sm = client(endpoint, "secretsmanager", d)
    secret = sm.create_secret(Name="orders-db-credentials", SecretString="demo, never read by the sync")["ARN"]
    sm.put_resource_policy(SecretId=secret, ResourcePolicy=json.dumps({"Version": "2012-10-17", "Statement": [{
        "Sid": "ComputeReadsCredentials", "Effect": "Allow", "Principal": {"AWS": COMPUTE_READER},
        "Action": "secretsmanager:GetSecretValue", "Resource": "*"}]}))
    w.secrets["orders-db-credentials"] = secret
    sqs = client(endpoint, "sqs", d)
    url = sqs.create_queue(QueueName="order-events", Attributes={"KmsMasterKeyId": "alias/aws/sqs"})["QueueUrl"]
    queue = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sqs.set_queue_attributes(QueueUrl=url, Attributes={"Policy": json.dumps({"Version": "2012-10-17", "Statement": [{
        "Sid": "OrderRuleDelivers", "Effect": "Allow", "Principal": {"Service": "events.amazonaws.com"},
        "Action": "sqs:SendMessage", "Resource": queue,
        "Condition": {"ArnEquals": {"aws:SourceArn": f"arn:aws:events:us-east-1:{DATA}:rule/order-events"}}}]})})
    w.queues["order-events"] = queue
    # A database snapshot shared with COMPUTE for disaster recovery, under aws/rds: COMPUTE can't restore
    # or copy it (found during the DR test); an Aurora snapshot and an EBS snapshot, not shared.
    rds, ec2 = client(endpoint, "rds", d), client(endpoint, "ec2", d)
    rds.create_db_instance(DBInstanceIdentifier="orders-db", DBInstanceClass="db.t3.micro", Engine="postgres",
                           AllocatedStorage=20, MasterUsername="orders", MasterUserPassword="demo-not-a-secret",
                           StorageEncrypted=True, KmsKeyId="alias/aws/rds")
    rds.create_db_snapshot(DBSnapshotIdentifier="orders-db-dr", DBInstanceIdentifier="orders-db")
    rds.modify_db_snapshot_attribute(DBSnapshotIdentifier="orders-db-dr", AttributeName="restore",
                                     ValuesToAdd=[COMPUTE])
    rds.create_db_cluster(DBClusterIdentifier="reports", Engine="aurora-postgresql", MasterUsername="reports",
                          MasterUserPassword="demo-not-a-secret")
    rds.create_db_cluster_snapshot(DBClusterSnapshotIdentifier="reports-nightly", DBClusterIdentifier="reports")
    volume = ec2.create_volume(AvailabilityZone="us-east-1a", Size=1)["VolumeId"]
    scratch = ec2.create_snapshot(VolumeId=volume, Description="scratch volume")["SnapshotId"]
    ec2.register_image(Name="build-agent", RootDeviceName="/dev/xvda", BlockDeviceMappings=[
        {"DeviceName": "/dev/xvda", "Ebs": {"SnapshotId": scratch}}])
    # and a topic that is not shared, on a customer managed key: nothing to find
    sns = client(endpoint, "sns", d)
    w.topics["data-lake-alerts"] = sns.create_topic(Name="data-lake-alerts", Attributes={
        "KmsMasterKeyId": rot["Arn"]})["TopicArn"]

    _shape_rotation_status(w, periods)

    c = as_account(COMPUTE)
    ckms = client(endpoint, "kms", c)
    w.keys["compute_cmk"] = create_key(ckms, Description="compute cmk")
    cs3 = client(endpoint, "s3", c)
    cs3.create_bucket(Bucket=f"compute-scratch-{COMPUTE}")
    w.buckets[f"compute-scratch-{COMPUTE}"] = COMPUTE
    # DATA's nightly backups are copied to COMPUTE for recovery, into a vault that lets DATA copy in, but
    # DATA's vault is on aws/backup (every default vault's key), which COMPUTE can't use: every copy job
    # fails, and the recovery copies don't exist (docs/shared-resources.md).
    cbackup = client(endpoint, "backup", c)
    dr = cbackup.create_backup_vault(BackupVaultName="dr-copies",
                                     EncryptionKeyArn=w.keys["compute_cmk"]["Arn"])["BackupVaultArn"]
    cbackup.put_backup_vault_access_policy(BackupVaultName="dr-copies", Policy=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Sid": "DataCopiesIn", "Effect": "Allow",
                                                "Principal": {"AWS": f"arn:aws:iam::{DATA}:root"},
                                                "Action": "backup:CopyIntoBackupVault", "Resource": "*"}]}))
    dbackup = client(endpoint, "backup", d)
    dbackup.create_backup_vault(BackupVaultName="orders-backups")
    dbackup.create_backup_plan(BackupPlan={"BackupPlanName": "orders-nightly", "Rules": [{
        "RuleName": "nightly-copy-to-dr", "TargetBackupVaultName": "orders-backups",
        "CopyActions": [{"DestinationBackupVaultArn": dr}]}]})
    return w


def _make_aws_managed(account: str, region: str, key_id: str, policy: str, description: str) -> None:
    # AWS rotates AWS managed keys yearly; GetKeyRotationStatus reports true.
    shape_key(account, region, key_id, key_manager="AWS", policy=policy, description=description,
               key_rotation_status=True)


def _shape_rotation_status(w: World, periods: dict[str, int]) -> None:
    """moto's GetKeyRotationStatus returns only KeyRotationEnabled; AWS also returns KeyId,
    RotationPeriodInDays and NextRotationDate for keys with rotation on."""
    import datetime as dt

    created = {k["Arn"]: k["CreationDate"] for k in w.keys.values()}

    def rewrite(req: dict[str, Any], resp: dict[str, Any]) -> dict[str, Any]:
        arn = req.get("KeyId", "")
        resp.setdefault("KeyId", arn)
        if resp.get("KeyRotationEnabled") and arn in periods:
            period = periods[arn]
            resp["RotationPeriodInDays"] = period
            start = created.get(arn) or dt.datetime.now(dt.timezone.utc)
            resp["NextRotationDate"] = (start + dt.timedelta(days=period)).timestamp()
        return resp

    w.server.rewrites[("kms", "GetKeyRotationStatus")] = rewrite


def shape_key(account: str, region: str, key_id: str, **attrs: Any) -> None:
    """Set attributes of moto's key model where moto's answer differs from AWS's."""
    from moto.kms.models import kms_backends
    k = kms_backends[account][region].keys[key_id]
    for name, value in attrs.items():
        setattr(k, name, value)


def create_key(kms: Any, **kw: Any) -> dict[str, Any]:
    # moto reports KeyUsage and MultiRegion as null when CreateKey omits them; AWS defaults them.
    kw.setdefault("KeyUsage", "ENCRYPT_DECRYPT")
    kw.setdefault("MultiRegion", False)
    return kms.create_key(**kw)["KeyMetadata"]




# ---------------------------------------------------------------------------------------------
# The organisation, and S3 answers shaped where moto differs from AWS

def build_organisation(endpoint: str, management: dict[str, str], members: dict[str, str]) -> str:
    """An organisation managed by the account of `management` (credentials), with `members` (account id
    -> name) in it; returns its id. DescribeOrganization then answers it in every member account.

    moto has no invitation handshake (InviteAccountToOrganization, AcceptHandshake) and CreateAccount
    makes up the new account's id, so each member is created, then given its real id in moto's model
    and marked as joined by invitation, as an existing account that accepted one would be."""
    from moto.organizations.models import organizations_backends
    org = client(endpoint, "organizations", management)
    o = org.create_organization(FeatureSet="ALL")["Organization"]
    backend = organizations_backends[o["MasterAccountId"]]["aws"]
    for account, name in members.items():
        made = org.create_account(Email=f"{name}@example.com", AccountName=name)["CreateAccountStatus"]["AccountId"]
        member = backend.get_account_by_id(made)
        organizations_backends.master_accounts.pop(made, None)
        member.id, member.joined_method = account, "INVITED"
        organizations_backends.master_accounts[account] = (o["MasterAccountId"], "aws")
    return o["Id"]


# moto gives every account this one canonical user id; AWS gives each account its own.
MOTO_CANONICAL_USER = "75aa57f09aa0c8caeab4f8c24e99d10f8e7faeebf76c078efc7c6caea54ba06a"


def canonical_user_id(account: str) -> str:
    """The S3 canonical user id of an account in the worlds (64 hex digits, as AWS's are)."""
    return hashlib.sha256(f"canonical user of {account}".encode()).hexdigest()


def _bucket_account(bucket: str) -> str | None:
    from moto.s3.models import s3_backends
    found = s3_backends.bucket_accounts.get(bucket)
    return found[1] if found else None


def shape_iam_answers(server: Any) -> None:
    """GetAccountAuthorizationDetails: moto's managed policies lack PolicyName and PolicyId, which AWS
    returns (ManagedPolicyDetail); they are added at the emulator's edge, the id made up from the ARN."""

    def details(detail: bytes, raw: bytes) -> bytes:
        def add(m: re.Match) -> str:
            arn = m.group(1)
            pid = "ANPA" + hashlib.sha256(arn.encode()).hexdigest()[:17].upper()
            return (f"<member><PolicyName>{arn.rsplit('/', 1)[-1]}</PolicyName><PolicyId>{pid}</PolicyId>"
                    f"<Arn>{arn}</Arn>")

        return re.sub(r"<member>\s*<Arn>(arn:[^<]+:policy/[^<]+)</Arn>", add, raw.decode()).encode()

    server.raw_rewrites[("iam", "GetAccountAuthorizationDetails")] = details


def shape_ec2_answers(server: Any) -> None:
    """DescribeImages: moto's EBS block device mappings leave out Encrypted and KmsKeyId, which AWS
    returns (EbsBlockDevice); they are filled in from moto's own snapshot model at the emulator's edge.
    GetEbsDefaultKmsKeyId, which moto lacks, is answered from its model as AWS documents it."""

    def snapshot(snapshot_id: str) -> Any:
        from moto.ec2.models import ec2_backends
        for account in list(ec2_backends.keys()):
            for backend in list(ec2_backends[account].values()):
                s = getattr(backend, "snapshots", {}).get(snapshot_id)
                if s is not None:
                    return s
        return None

    def images(detail: bytes, raw: bytes) -> bytes:
        def add(m: re.Match) -> str:
            s = snapshot(m.group(1))
            if s is None or "<encrypted>" in m.group(0):
                return m.group(0)
            extra = f"<encrypted>{str(bool(s.encrypted)).lower()}</encrypted>"
            if s.encrypted and s.kms_key_id:
                extra += f"<kmsKeyId>{s.kms_key_id}</kmsKeyId>"
            return m.group(0) + extra

        return re.sub(r"<snapshotId>(snap-[0-9a-f]+)</snapshotId>", add, raw.decode()).encode()

    server.raw_rewrites[("ec2", "DescribeImages")] = images

    def ebs_default_key(account: str, region: str, detail: bytes) -> tuple[str, bytes]:
        # GetEbsDefaultKmsKeyId is not in moto: the key set with ModifyEbsDefaultKmsKeyId (moto keeps it),
        # else AWS's answer for an account that never set one, the aws/ebs alias ARN
        from moto.ec2.models import ec2_backends
        backend = ec2_backends[account][region] if account in ec2_backends else None
        key = getattr(backend, "default_kms_key_id", "") or f"arn:aws:kms:{region}:{account}:alias/aws/ebs"
        return "text/xml", (f'<GetEbsDefaultKmsKeyIdResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/">'
                            f"<requestId>0</requestId><kmsKeyId>{key}</kmsKeyId></GetEbsDefaultKmsKeyIdResponse>"
                            ).encode()

    server.answers[("ec2", "GetEbsDefaultKmsKeyId")] = ebs_default_key


def shape_backup_answers(server: Any) -> None:
    """AWS Backup at the emulator's edge (moto 5.2 lacks vault access policies): PutBackupVaultAccessPolicy
    and GetBackupVaultAccessPolicy kept per account, Region and vault, a vault without one answering
    ResourceNotFoundException ("... has no associated POLICY") as AWS does; ListBackupVaults gives a vault
    created without a key its Region's aws/backup key (moto leaves EncryptionKeyArn out; AWS always sets it)."""
    from urllib.parse import unquote
    policies: dict[tuple[str, str, str], str] = {}

    def vault_of(detail: bytes) -> str:
        return unquote(detail.decode(errors="replace").split("?")[0].split("/")[2])

    def put(account: str, region: str, detail: bytes, body: bytes) -> tuple[str, bytes]:
        policies[(account, region, vault_of(detail))] = json.loads(body or b"{}").get("Policy") or ""
        return "application/json", b"{}"

    def get(account: str, region: str, detail: bytes) -> tuple[str, bytes, str] | tuple[str, bytes]:
        name = vault_of(detail)
        arn = f"arn:aws:backup:{region}:{account}:backup-vault:{name}"
        if (account, region, name) not in policies:
            return ("application/json", json.dumps({"__type": "ResourceNotFoundException",
                                                    "message": f"Backup Vault {arn} has no associated POLICY"}
                                                   ).encode(), "400 Bad Request")
        return "application/json", json.dumps({"BackupVaultName": name, "BackupVaultArn": arn,
                                               "Policy": policies[(account, region, name)]}).encode()

    def vaults(detail: bytes, raw: bytes, region: str) -> bytes:
        answer = json.loads(raw)
        for v in answer.get("BackupVaultList") or []:
            if not v.get("EncryptionKeyArn"):
                account = str(v.get("BackupVaultArn", "")).split(":")[4]
                v["EncryptionKeyArn"] = f"arn:aws:kms:{region}:{account}:alias/aws/backup"
        return json.dumps(answer).encode()

    server.answers[("backup", "PutBackupVaultAccessPolicy")] = put
    server.answers[("backup", "GetBackupVaultAccessPolicy")] = get
    server.raw_rewrites[("backup", "ListBackupVaults")] = vaults


def shape_s3_access_answers(server: Any) -> None:
    """Shape four moto answers at the emulator's edge to what AWS returns (docs/architecture.md):
    - GetBucketAcl: the owner (and the owner's grants) carry the bucket account's own canonical user id.
    - ListBuckets: the Owner is the calling account's own canonical user id (moto's is one for all).
    - ListAccessPoints: AWS lists the access points of the endpoint's Region; moto keeps them per
      partition and answers all of them in every Region (each ARN naming us-east-1). It also omits
      BucketAccountId, which AWS returns.
    - ListMultiRegionAccessPoints: the Region reports lack BucketAccountId, which AWS returns."""

    def acl(detail: bytes, raw: bytes) -> bytes:
        bucket = detail.decode(errors="replace").split("?")[0].strip("/").split("/")[0]
        account = _bucket_account(bucket)
        if not account:
            return raw
        return raw.replace(MOTO_CANONICAL_USER.encode(), canonical_user_id(account).encode())

    def owner(_detail: bytes, raw: bytes, _region: str, account: str) -> bytes:
        if not account:
            return raw
        own = f"<ID>{canonical_user_id(account)}</ID>".encode()
        return re.sub(rb"<Owner>.*?</Owner>", lambda m: re.sub(rb"<ID>[^<]*</ID>", own, m.group(0)), raw, count=1,
                      flags=re.DOTALL)

    def access_points(detail: bytes, raw: bytes, region: str) -> bytes:
        def keep(m: re.Match) -> str:
            ap = m.group(0)
            arn = re.search(r"<AccessPointArn>arn:[^:]+:s3:([^:]*):", ap)
            if region and arn and arn.group(1) != region:
                return ""
            bucket = re.search(r"<Bucket>([^<]+)</Bucket>", ap)
            account = _bucket_account(bucket.group(1)) if bucket else None
            if account and "<BucketAccountId>" not in ap:
                ap = ap.replace("</AccessPoint>", f"<BucketAccountId>{account}</BucketAccountId></AccessPoint>")
            return ap

        return re.sub(r"<AccessPoint>.*?</AccessPoint>", keep, raw.decode(), flags=re.S).encode()

    def mraps(detail: bytes, raw: bytes) -> bytes:
        def region_report(m: re.Match) -> str:
            report = m.group(0)
            bucket = re.search(r"<Bucket>([^<]+)</Bucket>", report)
            account = _bucket_account(bucket.group(1)) if bucket else None
            if account and "<BucketAccountId>" not in report:
                report = report.replace("</Bucket>", f"</Bucket><BucketAccountId>{account}</BucketAccountId>", 1)
            return report

        return re.sub(r"<Region><Bucket>.*?</Region>", region_report, raw.decode(), flags=re.S).encode()

    server.raw_rewrites[("s3", "GetBucketAcl")] = acl
    server.raw_rewrites[("s3", "ListBuckets")] = owner
    server.raw_rewrites[("s3control", "ListAccessPoints")] = access_points
    server.raw_rewrites[("s3control", "ListMultiRegionAccessPoints")] = mraps
