"""Secrets, queues and topics shared with another account or an AWS service, each silent case with its
correct twin (tests only; the table of them is tests/test_shared_resources.py).

Accounts, both synced:
- SHR_OWNER 525252525252: the secrets `shr-secret-<case>`, queues `shr-queue-<case>`, topics
  `shr-topic-<case>` and their customer managed keys.
- SHR_CONSUMER 515151515151: the other account they are shared with.

Built with the demo world's building blocks before IAM enforcement (see conftest).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from plugin.demo.world import AUDIT_ROLE, allow_policy, client, create_key

SHR_OWNER = "525252525252"
SHR_CONSUMER = "515151515151"
CONSUMER_ROOT = f"arn:aws:iam::{SHR_CONSUMER}:root"
RULE = f"arn:aws:events:us-east-1:{SHR_OWNER}:rule/orders-to-queue"


@dataclass
class SharedCases:
    secrets: dict[str, str] = field(default_factory=dict)   # case -> secret ARN
    queues: dict[str, str] = field(default_factory=dict)    # case -> queue ARN
    topics: dict[str, str] = field(default_factory=dict)    # case -> topic ARN
    keys: dict[str, str] = field(default_factory=dict)      # case -> key ARN
    snapshots: dict[str, str] = field(default_factory=dict)  # case -> EBS snapshot ARN
    db_snapshots: dict[str, str] = field(default_factory=dict)  # case -> RDS DB snapshot ARN
    images: dict[str, str] = field(default_factory=dict)        # case -> AMI ARN
    vaults: dict[str, str] = field(default_factory=dict)        # case -> backup vault ARN


def _doc(statements: list[dict[str, Any]]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": statements})


def _key(kms: Any, description: str, *statements: dict[str, Any]) -> str:
    root = {"Sid": "Enable IAM User Permissions", "Effect": "Allow",
            "Principal": {"AWS": f"arn:aws:iam::{SHR_OWNER}:root"}, "Action": "kms:*", "Resource": "*"}
    return create_key(kms, Description=description, Policy=_doc([root, *statements]))["Arn"]


def _snapshot_key_of_its_volume(snapshot_id: str, key: str | None) -> None:
    """moto leaves an encrypted snapshot's KmsKeyId out (or the region's default); AWS gives it its
    volume's key: the one named, else the region's EBS default key (aws/ebs)."""
    from moto.ec2.models import ec2_backends
    backend = ec2_backends[SHR_OWNER]["us-east-1"]
    snapshot = backend.snapshots[snapshot_id]
    if snapshot.encrypted:
        snapshot.kms_key_id = key or backend.default_kms_key_id


def _image_root_is(image_id: str, snapshot_id: str) -> None:
    """moto's RegisterImage ignores the block device mappings given and snapshots a new unencrypted volume;
    AWS registers the AMI on the snapshot named."""
    from moto.ec2.models import ec2_backends
    backend = ec2_backends[SHR_OWNER]["us-east-1"]
    backend.amis[image_id].ebs_snapshot = backend.snapshots[snapshot_id]


def _image_devices_are(image_id: str, devices: list[tuple[str, str]]) -> None:
    """moto's AMI model has its root device only; AWS registers every block device mapping given (here:
    extra EBS devices on the snapshots named; the edge fills in their Encrypted and KmsKeyId)."""
    from moto.ec2.models import ec2_backends
    ami = ec2_backends[SHR_OWNER]["us-east-1"].amis[image_id]
    base = type(ami)

    class AmiWithDevices(base):  # type: ignore[misc, valid-type]
        @property
        def block_device_mappings(self) -> list[dict[str, Any]]:
            return base.block_device_mappings.fget(self) + [  # type: ignore[attr-defined]
                {"DeviceName": d, "Ebs": {"SnapshotId": sid, "VolumeSize": 1, "DeleteOnTermination": True,
                                          "VolumeType": "gp3"}} for d, sid in devices]

    ami.__class__ = AmiWithDevices


def _aws_ebs_is_aws_managed(kms: Any) -> None:
    """moto creates aws/ebs as a customer managed key; AWS's is AWS managed, with the documented policy."""
    from plugin.analysis.shared_resources import aws_managed_policy
    from plugin.demo.world import shape_key
    key_id = kms.describe_key(KeyId="alias/aws/ebs")["KeyMetadata"]["KeyId"]
    shape_key(SHR_OWNER, "us-east-1", key_id, key_manager="AWS", description="Default key for EBS",
              policy=aws_managed_policy(SHR_OWNER, "us-east-1", "ec2"), key_rotation_status=True)


def build_shared(endpoint: str, audit_actions: list[str], trust_policy: str) -> SharedCases:
    sts = client(endpoint, "sts")

    def setup(account: str) -> dict[str, str]:
        return sts.assume_role(RoleArn=f"arn:aws:iam::{account}:role/setup", RoleSessionName="setup")["Credentials"]

    owner, consumer = setup(SHR_OWNER), setup(SHR_CONSUMER)
    for creds in (owner, consumer):
        iam = client(endpoint, "iam", creds)
        iam.create_role(RoleName=AUDIT_ROLE, AssumeRolePolicyDocument=trust_policy)
        iam.put_role_policy(RoleName=AUDIT_ROLE, PolicyName="least-privilege",
                            PolicyDocument=allow_policy(audit_actions))
    client(endpoint, "iam").put_user_policy(UserName="scanner", PolicyName="assume-shared", PolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": [
            f"arn:aws:iam::{a}:role/{AUDIT_ROLE}" for a in (SHR_OWNER, SHR_CONSUMER)]}]}))
    c = SharedCases()
    kms, sm = client(endpoint, "kms", owner), client(endpoint, "secretsmanager", owner)
    sqs, sns = client(endpoint, "sqs", owner), client(endpoint, "sns", owner)

    def admits(principal: dict[str, Any], service: str, *ops: str) -> dict[str, Any]:
        return {"Sid": "AllowSharing", "Effect": "Allow", "Principal": principal, "Action": list(ops), "Resource": "*",
                "Condition": {"StringEquals": {"kms:ViaService": f"{service}.us-east-1.amazonaws.com"}}}

    # Secrets Manager: shared with the consumer account's IAM
    c.keys["secret-ok"] = _key(kms, "secrets, admits the consumer",
                               admits({"AWS": CONSUMER_ROOT}, "secretsmanager", "kms:Decrypt"))
    c.keys["secret-nokey"] = _key(kms, "secrets, owner only")
    foreign = "arn:aws:kms:us-east-1:999988887777:key/11111111-2222-3333-4444-555555555555"
    for case, key in (("aws-managed", None), ("ok", c.keys["secret-ok"]), ("nokey", c.keys["secret-nokey"]),
                      ("denied", None), ("foreign-key", foreign)):
        arn = sm.create_secret(Name=f"shr-secret-{case}", SecretString="not read by the sync",
                               **({"KmsKeyId": key} if key else {}))["ARN"]
        sm.put_resource_policy(SecretId=arn, ResourcePolicy=_doc([{
            "Sid": "ConsumerReads", "Effect": "Allow", "Principal": {"AWS": CONSUMER_ROOT},
            "Action": "secretsmanager:GetSecretValue", "Resource": "*"}]))
        c.secrets[case] = arn

    # SQS: EventBridge delivers to the queue
    c.keys["queue-ok"] = _key(kms, "queue, admits EventBridge",
                              {"Sid": "AllowEventBridge", "Effect": "Allow", "Principal": {"Service": "events.amazonaws.com"},
                               "Action": ["kms:GenerateDataKey", "kms:Decrypt"], "Resource": "*"})
    for case, key in (("aws-managed", "alias/aws/sqs"), ("ok", c.keys["queue-ok"]), ("sse-sqs", None)):
        url = sqs.create_queue(QueueName=f"shr-queue-{case}", Attributes={
            **({"KmsMasterKeyId": key} if key else {"SqsManagedSseEnabled": "true"})})["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        sqs.set_queue_attributes(QueueUrl=url, Attributes={"Policy": _doc([{
            "Sid": "EventBridgeSends", "Effect": "Allow", "Principal": {"Service": "events.amazonaws.com"},
            "Action": "sqs:SendMessage", "Resource": arn, "Condition": {"ArnEquals": {"aws:SourceArn": RULE}}}])})
        c.queues[case] = arn

    # SNS: the consumer account publishes
    c.keys["topic-ok"] = _key(kms, "topic, admits the consumer",
                              admits({"AWS": CONSUMER_ROOT}, "sns", "kms:GenerateDataKey", "kms:Decrypt"))
    for case, key in (("aws-managed", "alias/aws/sns"), ("ok", c.keys["topic-ok"])):
        arn = sns.create_topic(Name=f"shr-topic-{case}", Attributes={"KmsMasterKeyId": key})["TopicArn"]
        sns.set_topic_attributes(TopicArn=arn, AttributeName="Policy", AttributeValue=_doc([{
            "Sid": "ConsumerPublishes", "Effect": "Allow", "Principal": {"AWS": CONSUMER_ROOT},
            "Action": "sns:Publish", "Resource": arn}]))
        c.topics[case] = arn
    # a topic under a key of an account this sync can't see: its key type is unknown
    c.topics["foreign-key"] = sns.create_topic(Name="shr-topic-foreign-key", Attributes={
        "KmsMasterKeyId": "arn:aws:kms:us-east-1:999988887777:key/11111111-2222-3333-4444-555555555555"})["TopicArn"]

    # EBS snapshots shared with the consumer (createVolumePermission), and one with everyone
    ec2, rds = client(endpoint, "ec2", owner), client(endpoint, "rds", owner)
    c.keys["snapshot-ok"] = _key(kms, "snapshots, admits the consumer", admits(
        {"AWS": CONSUMER_ROOT}, "ec2", "kms:CreateGrant", "kms:Decrypt", "kms:DescribeKey", "kms:ReEncryptFrom"))
    for case, enc in (("aws-managed", {"Encrypted": True}), ("ok", {"Encrypted": True, "KmsKeyId": c.keys["snapshot-ok"]}),
                      ("public", {"Encrypted": False})):
        vol = ec2.create_volume(AvailabilityZone="us-east-1a", Size=1, **enc)["VolumeId"]
        sid = ec2.create_snapshot(VolumeId=vol, Description=f"shr-snapshot-{case}")["SnapshotId"]
        who = {"GroupNames": ["all"]} if case == "public" else {"UserIds": [SHR_CONSUMER]}
        ec2.modify_snapshot_attribute(SnapshotId=sid, Attribute="createVolumePermission", OperationType="add", **who)
        c.snapshots[case] = f"arn:aws:ec2:us-east-1::snapshot/{sid}"
        _snapshot_key_of_its_volume(sid, enc.get("KmsKeyId"))
    _aws_ebs_is_aws_managed(kms)

    # an AMI shared with the consumer whose root snapshot is under a key that does not admit it
    c.keys["ami-nokey"] = _key(kms, "AMI, owner only")
    vol = ec2.create_volume(AvailabilityZone="us-east-1a", Size=8, Encrypted=True, KmsKeyId=c.keys["ami-nokey"])["VolumeId"]
    root = ec2.create_snapshot(VolumeId=vol, Description="shr-ami-root")["SnapshotId"]
    _snapshot_key_of_its_volume(root, c.keys["ami-nokey"])
    ami = ec2.register_image(Name="shr-ami-nokey", RootDeviceName="/dev/xvda", Architecture="x86_64",
                             VirtualizationType="hvm", BlockDeviceMappings=[
                                 {"DeviceName": "/dev/xvda", "Ebs": {"SnapshotId": root, "Encrypted": True}}])["ImageId"]
    _image_root_is(ami, root)
    ec2.modify_image_attribute(ImageId=ami, LaunchPermission={"Add": [{"UserId": SHR_CONSUMER}]})
    c.images["nokey"] = f"arn:aws:ec2:us-east-1::image/{ami}"
    # its twin: an AMI on the snapshot key that admits the consumer through EC2
    ok_root = next(s for s in client(endpoint, "ec2", owner).describe_snapshots(OwnerIds=["self"])["Snapshots"]
                   if s.get("KmsKeyId") == c.keys["snapshot-ok"])["SnapshotId"]
    ok_ami = ec2.register_image(Name="shr-ami-ok", RootDeviceName="/dev/xvda", BlockDeviceMappings=[
        {"DeviceName": "/dev/xvda", "Ebs": {"SnapshotId": ok_root}}])["ImageId"]
    _image_root_is(ok_ami, ok_root)
    ec2.modify_image_attribute(ImageId=ok_ami, LaunchPermission={"Add": [{"UserId": SHR_CONSUMER}]})
    c.images["ok"] = f"arn:aws:ec2:us-east-1::image/{ok_ami}"
    # an AMI whose root volume's key admits the consumer, but whose /dev/sdb volume's key does not
    vol = ec2.create_volume(AvailabilityZone="us-east-1a", Size=1, Encrypted=True, KmsKeyId=c.keys["ami-nokey"])["VolumeId"]
    data = ec2.create_snapshot(VolumeId=vol, Description="shr-ami-data")["SnapshotId"]
    _snapshot_key_of_its_volume(data, c.keys["ami-nokey"])
    two = ec2.register_image(Name="shr-ami-two-devices", RootDeviceName="/dev/xvda", BlockDeviceMappings=[
        {"DeviceName": "/dev/xvda", "Ebs": {"SnapshotId": ok_root}},
        {"DeviceName": "/dev/sdb", "Ebs": {"SnapshotId": data}}])["ImageId"]
    _image_root_is(two, ok_root)
    _image_devices_are(two, [("/dev/sdb", data)])
    ec2.modify_image_attribute(ImageId=two, LaunchPermission={"Add": [{"UserId": SHR_CONSUMER}]})
    c.images["two-devices"] = f"arn:aws:ec2:us-east-1::image/{two}"

    # eu-west-1 shares a snapshot too, but its EBS default key is a customer managed key
    kms_eu, ec2_eu = client(endpoint, "kms", owner, "eu-west-1"), client(endpoint, "ec2", owner, "eu-west-1")
    c.keys["ebs-default-eu"] = _key(kms_eu, "EBS default, eu-west-1")
    ec2_eu.modify_ebs_default_kms_key_id(KmsKeyId=c.keys["ebs-default-eu"])
    vol = ec2_eu.create_volume(AvailabilityZone="eu-west-1a", Size=1)["VolumeId"]
    sid = ec2_eu.create_snapshot(VolumeId=vol, Description="shr-eu")["SnapshotId"]
    ec2_eu.modify_snapshot_attribute(SnapshotId=sid, Attribute="createVolumePermission", OperationType="add",
                                     UserIds=[SHR_CONSUMER])

    # an RDS DB snapshot shared (restore) with the consumer, under a key that does not admit it
    c.keys["db-snapshot-nokey"] = _key(kms, "database, owner only")
    rds.create_db_instance(DBInstanceIdentifier="shr-db", DBInstanceClass="db.t3.micro", Engine="postgres",
                           AllocatedStorage=20, MasterUsername="admin", MasterUserPassword="not-a-secret-1",
                           StorageEncrypted=True, KmsKeyId=c.keys["db-snapshot-nokey"])
    snap = rds.create_db_snapshot(DBSnapshotIdentifier="shr-db-snapshot-nokey", DBInstanceIdentifier="shr-db")
    rds.modify_db_snapshot_attribute(DBSnapshotIdentifier="shr-db-snapshot-nokey", AttributeName="restore",
                                     ValuesToAdd=[SHR_CONSUMER])
    c.db_snapshots["nokey"] = snap["DBSnapshot"]["DBSnapshotArn"]
    # its twin, an Aurora cluster snapshot under a key that admits the consumer through RDS
    c.keys["cluster-snapshot-ok"] = _key(kms, "aurora, admits the consumer",
                                         admits({"AWS": CONSUMER_ROOT}, "rds", "kms:CreateGrant", "kms:DescribeKey"))
    rds.create_db_cluster(DBClusterIdentifier="shr-aurora", Engine="aurora-postgresql", MasterUsername="admin",
                          MasterUserPassword="not-a-secret-1", StorageEncrypted=True,
                          KmsKeyId=c.keys["cluster-snapshot-ok"])
    cs = rds.create_db_cluster_snapshot(DBClusterSnapshotIdentifier="shr-aurora-snapshot-ok",
                                        DBClusterIdentifier="shr-aurora")["DBClusterSnapshot"]
    rds.modify_db_cluster_snapshot_attribute(DBClusterSnapshotIdentifier="shr-aurora-snapshot-ok",
                                             AttributeName="restore", ValuesToAdd=[SHR_CONSUMER])
    c.db_snapshots["cluster-ok"] = cs["DBClusterSnapshotArn"]
    _backup_vaults(endpoint, owner, consumer, kms, c, admits)
    return c


def _backup_vaults(endpoint: str, owner: Any, consumer: Any, kms: Any, c: SharedCases, admits: Any) -> None:
    """Vaults the consumer copies into (the vault access policy) and vaults a backup plan copies to the
    consumer's vault (a copy rule), each on aws/backup and on a customer managed key."""
    backup = client(endpoint, "backup", owner)
    dest = client(endpoint, "backup", consumer).create_backup_vault(BackupVaultName="shr-dest")["BackupVaultArn"]
    c.keys["vault-dest"] = _key(kms, "backup vault, owner only")
    c.keys["vault-source-ok"] = _key(kms, "backup vault, admits the consumer", admits(
        {"AWS": CONSUMER_ROOT}, "backup", "kms:Decrypt", "kms:DescribeKey", "kms:CreateGrant"))
    for case, key in (("aws-managed-dest", None), ("cmk-dest", c.keys["vault-dest"]),
                      ("aws-managed-source", None), ("cmk-source", c.keys["vault-source-ok"]), ("plain", None)):
        arn = backup.create_backup_vault(BackupVaultName=f"shr-vault-{case}",
                                         **({"EncryptionKeyArn": key} if key else {}))["BackupVaultArn"]
        c.vaults[case] = arn
        if case.endswith("-dest"):
            backup.put_backup_vault_access_policy(BackupVaultName=f"shr-vault-{case}", Policy=_doc([{
                "Sid": "ConsumerCopiesIn", "Effect": "Allow", "Principal": {"AWS": CONSUMER_ROOT},
                "Action": "backup:CopyIntoBackupVault", "Resource": "*"}]))
    backup.create_backup_plan(BackupPlan={"BackupPlanName": "shr-plan", "Rules": [
        {"RuleName": f"{case}-to-consumer", "TargetBackupVaultName": f"shr-vault-{case}",
         "CopyActions": [{"DestinationBackupVaultArn": dest}]} for case in ("aws-managed-source", "cmk-source")]})
