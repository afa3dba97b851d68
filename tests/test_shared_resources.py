"""Secrets, queues and topics shared with another account or an AWS service (tests/shared_world.py):
per service, the silent case fails naming the resource, who it is shared with and the fix; its twin
(a customer managed key that admits them) passes; an unreadable policy or attribute is an error.

| service | silent case | twin | unreadable |
|---|---|---|---|
| Secrets Manager | secret on aws/secretsmanager shared with another account: GetSecretValue fails on KMS | CMK admitting the account through secretsmanager | GetResourcePolicy denied |
| SQS | queue on aws/sqs that EventBridge delivers to: messages dropped | CMK admitting events.amazonaws.com; SSE-SQS (AWS owned) | GetQueueAttributes denied |
| SNS | topic on aws/sns another account publishes to | CMK admitting the account through sns | GetTopicAttributes denied |
| Secrets Manager, CMK | key does not admit the account: fails with the key statement to add | | |
"""

from __future__ import annotations

from pathlib import Path
from typing import Iterator

import duckdb
import pytest

from .shared_world import SHR_CONSUMER, SHR_OWNER
from .test_checks import _refused_statuses, _statuses, _sync

MANAGED = "shared_resource_aws_managed_key"
UNUSABLE = "shared_resource_key_unusable"


@pytest.fixture(scope="module")
def synced(world, shared, tmp_path_factory) -> Iterator[tuple[Path, dict]]:
    db = tmp_path_factory.mktemp("shared") / "posture.duckdb"
    _sync(world, db, [SHR_OWNER, SHR_CONSUMER], regions=["us-east-1"])
    yield db, _statuses(db)


@pytest.mark.parametrize("kind, case, who, consequence, fix", [
    ("secrets", "aws-managed", f"account {SHR_CONSUMER} (read, statement ConsumerReads)",
     "its GetSecretValue fails with AccessDenied from KMS", "aws secretsmanager update-secret --secret-id {arn} "
                                                            "--kms-key-id <customer-managed-key-arn>"),
    ("queues", "aws-managed", "service events.amazonaws.com (send, statement EventBridgeSends)",
     "its messages are refused (SendMessage fails with KMS.AccessDeniedException), and AWS services delivering to "
     "the queue (EventBridge, SNS, S3 event notifications) drop them silently",
     "aws sqs set-queue-attributes --queue-url "),
    ("topics", "aws-managed", f"account {SHR_CONSUMER} (publish, statement ConsumerPublishes)",
     "its Publish fails with KMS access denied", "aws sns set-topic-attributes --topic-arn {arn} "
                                                "--attribute-name KmsMasterKeyId"),
])
def test_shared_under_an_aws_managed_key_fails_and_its_twin_passes(synced, shared, kind, case, who, consequence, fix):
    _, res = synced
    arn = getattr(shared, kind)[case]
    status, reason = res[MANAGED][arn]
    assert status == "fail", reason
    assert "encrypted with its service's AWS managed key" in reason
    assert f"shares it with {who}: {consequence}" in reason
    assert fix.format(arn=arn) in reason
    twin = getattr(shared, kind)["ok"]
    assert res[MANAGED][twin] == ("pass", "Not on an AWS managed key (customer_managed_aws_key_material).")
    status, reason = res[UNUSABLE][twin]
    assert status == "pass" and "may use key" in reason


def test_the_key_inventory_covers_every_resource_type(synced, shared):
    _, res = synced
    inv = res["encryption_key_inventory"]
    assert inv[shared.secrets["aws-managed"]] == (
        "pass", "Secret encrypted with AWS managed key (aws/<service>) (alias/aws/secretsmanager).")
    assert inv[shared.queues["sse-sqs"]] == ("pass", "Queue encrypted with an AWS owned key (SSE-SQS).")
    assert inv[shared.topics["ok"]][1].startswith("Topic encrypted with Customer managed key: AWS-provided key material")
    assert inv[shared.snapshots["public"]] == ("pass", "EBS snapshot not encrypted with KMS.")
    assert inv[shared.snapshots["aws-managed"]][1].startswith("EBS snapshot encrypted with AWS managed key")
    assert inv[shared.db_snapshots["nokey"]][1] == (
        f"RDS DB snapshot encrypted with Customer managed key: AWS-provided key material "
        f"({shared.keys['db-snapshot-nokey']}).")
    status, reason = inv[shared.topics["foreign-key"]]
    assert status == "error" and "whose type is unknown" in reason and "999988887777" in reason


def test_shared_under_a_key_the_sync_could_not_describe_is_an_error(synced, shared):
    _, res = synced
    arn = shared.secrets["foreign-key"]
    for check in (MANAGED, UNUSABLE):
        status, reason = res[check][arn]
        assert status == "error", (check, reason)
    reason = res[MANAGED][arn][1]
    assert f"Shared (account {SHR_CONSUMER}), but whether its key" in reason and "999988887777" in reason


def test_sse_sqs_needs_no_key_permission(synced, shared):
    _, res = synced
    assert res[MANAGED][shared.queues["sse-sqs"]] == ("pass", "Not on an AWS managed key (aws_owned).")
    assert res[UNUSABLE][shared.queues["sse-sqs"]][0] == "skip"


def test_customer_managed_key_not_admitting_the_account_fails_with_the_statement_to_add(synced, shared):
    _, res = synced
    status, reason = res[UNUSABLE][shared.secrets["nokey"]]
    assert status == "fail"
    assert (f"Key {shared.keys['secret-nokey']}: account {SHR_CONSUMER} (read, statement ConsumerReads) gets no "
            "kms:Decrypt: its GetSecretValue fails with AccessDenied from KMS") in reason
    assert ('"Principal": {"AWS": "arn:aws:iam::515151515151:root"}, "Action": "kms:Decrypt", "Resource": "*", '
            '"Condition": {"StringEquals": {"kms:ViaService": "secretsmanager.us-east-1.amazonaws.com"}}}') in reason
    assert f"aws kms create-grant --key-id {shared.keys['secret-nokey']}" in reason


def _denied(world, tmp_path: Path, op: str, name: bytes, code: str) -> tuple[Path, dict]:
    """A sync of SHR_OWNER in which `op` on the resource `name` is refused with `code`, and its checks."""
    db = tmp_path / "denied.duckdb"
    return db, _refused_statuses(world, db, [SHR_OWNER], op, name, code)


def test_the_secret_values_are_never_read(world, synced):
    calls = {(svc, op) for svc, op, _ in world.server.since(0)}
    assert ("secretsmanager", "GetSecretValue") not in calls
    assert ("sqs", "ReceiveMessage") not in calls


@pytest.mark.parametrize("kind, case, service, op", [
    ("secrets", "denied", "secretsmanager", "GetResourcePolicy"),
    ("queues", "ok", "sqs", "GetQueueAttributes"),
    ("topics", "ok", "sns", "GetTopicAttributes"),
])
def test_an_unreadable_policy_is_an_error(world, shared, tmp_path, kind, case, service, op):
    arn = getattr(shared, kind)[case]
    name = arn.rsplit(":", 1)[-1].encode()
    db, res = _denied(world, tmp_path, op, name, "AccessDenied")
    for check in (MANAGED, UNUSABLE):
        status, reason = res[check][arn]
        assert status == "error", (check, reason)
        assert "could not be read, so who it admits is unknown" in reason
    con = duckdb.connect(str(db), read_only=True)
    try:
        errors = con.execute("SELECT operation, error_code FROM aws_encryption_sync_errors WHERE resource_arn LIKE ?",
                             [f"%{name.decode()}%"]).fetchall()
    finally:
        con.close()
    assert (op, "AccessDenied") in errors


SNAPSHOT = "snapshot_shared_key_unusable"
PUBLIC = "snapshot_public"


def test_ebs_snapshot_shared_under_aws_ebs_fails_and_its_twin_passes(synced, shared):
    _, res = synced
    arn = shared.snapshots["aws-managed"]
    status, reason = res[SNAPSHOT][arn]
    assert status == "fail", reason
    assert (f"Shared, but account {SHR_CONSUMER} gets no kms:CreateGrant, kms:Decrypt, kms:DescribeKey, "
            "kms:ReEncryptFrom on the AWS managed key") in reason
    assert f"(it admits only account {SHR_OWNER}): it can't create a volume from the snapshot" in reason
    assert f"Fix: aws ec2 copy-snapshot --source-snapshot-id {arn.rsplit('/', 1)[1]} --source-region us-east-1" in reason
    assert res[SNAPSHOT][shared.snapshots["ok"]] == (
        "pass", f"Shared with account {SHR_CONSUMER}, who may use its key (or it is not encrypted).")


def test_rds_snapshot_shared_under_a_key_that_does_not_admit_the_account(synced, shared):
    _, res = synced
    status, reason = res[SNAPSHOT][shared.db_snapshots["nokey"]]
    assert status == "fail"
    assert f"account {SHR_CONSUMER} gets no kms:CreateGrant, kms:DescribeKey on key {shared.keys['db-snapshot-nokey']}" \
        in reason
    assert "it can't restore or copy the snapshot: found during a DR test" in reason
    assert '"kms:ViaService": "rds.us-east-1.amazonaws.com"' in reason
    # its twin: an Aurora cluster snapshot under a key that admits the account through RDS
    assert res[SNAPSHOT][shared.db_snapshots["cluster-ok"]] == (
        "pass", f"Shared with account {SHR_CONSUMER}, who may use its key (or it is not encrypted).")


def test_an_ami_shared_under_a_key_the_account_cant_use_fails_at_launch(synced, shared):
    _, res = synced
    status, reason = res[SNAPSHOT][shared.images["nokey"]]
    assert status == "fail"
    assert (f"Shared, but account {SHR_CONSUMER} gets no kms:CreateGrant, kms:Decrypt, kms:DescribeKey, "
            f"kms:ReEncryptFrom on key {shared.keys['ami-nokey']}: its instances fail to launch") in reason
    assert '"kms:ViaService": "ec2.us-east-1.amazonaws.com"' in reason
    assert res[SNAPSHOT][shared.images["ok"]] == (
        "pass", f"Shared with account {SHR_CONSUMER}, who may use its key (or it is not encrypted).")
    inv = res["encryption_key_inventory"][shared.images["nokey"]]
    assert inv == ("pass", f"AMI encrypted with Customer managed key: AWS-provided key material "
                           f"({shared.keys['ami-nokey']}).")


def test_the_regions_ebs_default_key(world, shared, tmp_path):
    db = tmp_path / "regions.duckdb"
    _sync(world, db, [SHR_OWNER], regions=["us-east-1", "eu-west-1"])
    res = _statuses(db)["ebs_default_key_aws_managed"]
    status, reason = res[f"arn:aws:ec2:us-east-1:{SHR_OWNER}:ebs-default-key"]
    assert status == "fail"
    assert "The Region's EBS default key is the AWS managed aws/ebs" in reason
    assert f"are shared with account {SHR_CONSUMER}, everyone (public): new volumes" in reason
    assert "modify-ebs-default-kms-key-id" in reason
    assert res[f"arn:aws:ec2:eu-west-1:{SHR_OWNER}:ebs-default-key"] == (
        "pass", f"The Region's EBS default key is customer_managed_aws_key_material ({shared.keys['ebs-default-eu']}).")
    # unread: an error, never a pass
    db2, res2 = _denied(world, tmp_path, "GetEbsEncryptionByDefault", b"", "UnauthorizedOperation")
    status, reason = res2["ebs_default_key_aws_managed"][f"arn:aws:ec2:us-east-1:{SHR_OWNER}:ebs-default-key"]
    assert status == "error" and "could not be read (UnauthorizedOperation)" in reason


def test_a_public_snapshot_fails_naming_what_it_exposes(synced, shared):
    _, res = synced
    status, reason = res[PUBLIC][shared.snapshots["public"]]
    assert status == "fail"
    sid = shared.snapshots["public"].rsplit("/", 1)[1]
    assert reason == ('The EBS snapshot is shared with everyone ("all"): any AWS account may use it, and it is not '
                      f'encrypted: its data is public. Fix: aws ec2 modify-snapshot-attribute --snapshot-id {sid} '
                      '--attribute createVolumePermission --operation-type remove --group-names all --region us-east-1, '
                      'then share it with the accounts that need it.')
    assert res[PUBLIC][shared.snapshots["ok"]] == ("pass", "Not shared with everyone.")


@pytest.mark.parametrize("kind, case, op, code, attribute", [
    ("snapshots", "ok", "DescribeSnapshotAttribute", "UnauthorizedOperation", "createVolumePermission attribute of snapshot"),
    ("db_snapshots", "nokey", "DescribeDBSnapshotAttributes", "AccessDenied", "restore attribute of DB snapshot"),
    ("images", "ok", "DescribeImageAttribute", "UnauthorizedOperation", "launchPermission attribute of AMI"),
])
def test_an_unreadable_snapshot_attribute_is_an_error(world, shared, tmp_path, kind, case, op, code, attribute):
    arn = getattr(shared, kind)[case]
    name = arn.rsplit("/", 1)[-1].rsplit(":", 1)[-1].encode()
    _, res = _denied(world, tmp_path, op, name, code)
    for check in (SNAPSHOT, PUBLIC):
        status, reason = res[check][arn]
        assert status == "error", (check, reason)
        assert f"the {attribute}" in reason and "could not be read" in reason


BACKUP = "backup_copy_key_unusable"


def test_backup_copies_under_aws_backup_fail_and_their_twins_pass(synced, shared):
    """AWS Backup, through moto's server; the vault access policy and a default vault's key are answered at the
    emulator's edge as AWS documents them (plugin/demo/world.py shape_backup_answers: moto 5.2 has no vault
    access policy, and leaves EncryptionKeyArn out of a vault created without a key)."""
    _, res = synced
    dest = f"arn:aws:backup:us-east-1:{SHR_CONSUMER}:backup-vault:shr-dest"
    # a copy rule sends the default-key vault's recovery points to the consumer: the consumer can't use aws/backup
    status, reason = res[BACKUP][shared.vaults["aws-managed-source"]]
    assert status == "fail", reason
    assert (f"account {SHR_CONSUMER} receives copies of the recovery points of backup vault "
            f"{shared.vaults['aws-managed-source']} (rule aws-managed-source-to-consumer of backup plan shr-plan to "
            f"{dest}); but key alias/aws/backup is AWS managed (aws/backup): its policy admits only account "
            f"{SHR_OWNER} through backup, so it gets no kms:Decrypt, kms:DescribeKey, kms:CreateGrant: its copy jobs "
            "fail on the source key") in reason
    assert "Fix: aws backup create-backup-vault --backup-vault-name shr-vault-aws-managed-source-cmk" in reason
    # its twin: the vault's customer managed key admits the consumer through AWS Backup
    status, reason = res[BACKUP][shared.vaults["cmk-source"]]
    assert status == "pass", reason
    assert f"account {SHR_CONSUMER} (copy to)" in reason and shared.keys["vault-source-ok"] in reason
    # the consumer may copy into a vault on aws/backup: AWS Backup refuses copies of EBS, RDS ...
    status, reason = res[BACKUP][shared.vaults["aws-managed-dest"]]
    assert status == "fail", reason
    assert (f"account {SHR_CONSUMER} may copy recovery points into backup vault {shared.vaults['aws-managed-dest']} "
            "(backup:CopyIntoBackupVault, statement ConsumerCopiesIn); but its key alias/aws/backup is AWS managed "
            "(aws/backup), and AWS Backup takes copies from another account only into a backup vault with a "
            "customer managed key") in reason
    # its twin: a customer managed key of the vault's own account, which AWS Backup uses itself
    assert res[BACKUP][shared.vaults["cmk-dest"]] == (
        "pass", f"Cross-account copies work with key {shared.keys['vault-dest']}: account {SHR_CONSUMER} (copy into).")
    assert res[BACKUP][shared.vaults["plain"]] == ("skip", "No copy to or from another account.")
    inv = res["encryption_key_inventory"]
    assert inv[shared.vaults["plain"]][1].startswith("Backup vault encrypted with AWS managed key")


@pytest.mark.parametrize("op, case, unread", [
    ("GetBackupVaultAccessPolicy", "cmk-dest", "the policy of backup vault {arn} could not be read"),
    ("GetBackupPlan", "cmk-source", f"the copy rules of the backup plans of {SHR_OWNER} in us-east-1 could not be read, "
                                    "so where the recovery points of backup vault {arn} are copied to is unknown"),
])
def test_an_unreadable_vault_policy_or_backup_plan_is_an_error(world, shared, tmp_path, op, case, unread):
    arn = shared.vaults[case]
    # REST paths: the vault's name, or (any) backup plan's id
    name = b"shr-vault-cmk-dest" if op == "GetBackupVaultAccessPolicy" else b"/backup/plans/"
    _, res = _denied(world, tmp_path, op, name, "AccessDeniedException")
    status, reason = res[BACKUP][arn]
    assert status == "error", reason
    assert unread.format(arn=arn) in reason
    if op == "GetBackupPlan":   # every vault of the Region: which one the unread plan copies from is unknown
        assert res[BACKUP][shared.vaults["plain"]][0] == "error"


def test_an_ami_whose_other_volume_is_under_a_key_the_account_cant_use_fails(synced, shared):
    """Launching needs the key of every encrypted volume of the AMI, not only its root's (moto's AMI model has
    the root device only: the extra mapping is given at the emulator's edge, tests/shared_world.py)."""
    _, res = synced
    status, reason = res[SNAPSHOT][shared.images["two-devices"]]
    assert status == "fail", reason
    assert (f"Shared, but account {SHR_CONSUMER} gets no kms:CreateGrant, kms:Decrypt, kms:DescribeKey, "
            f"kms:ReEncryptFrom on key {shared.keys['ami-nokey']} of its /dev/sdb volume") in reason
