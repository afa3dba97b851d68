"""The checks' shared views (queries/views/): created on every read-only connection, resolved the way
the checks need, and left out (not fatal) on a file that lacks a table they read."""

from __future__ import annotations

from pathlib import Path

import duckdb

from plugin.checks.runner import open_read_only

KEY = "arn:aws:kms:us-east-1:111111111111:key/k-1"
OTHER = "arn:aws:kms:eu-west-1:111111111111:key/k-1"   # the same id in another Region: not the queue's key


def _posture(path: Path, with_images: bool = True) -> None:
    con = duckdb.connect(str(path))
    con.execute("CREATE TABLE aws_kms_keys (arn VARCHAR, key_id VARCHAR, account_id VARCHAR, region VARCHAR)")
    con.execute("INSERT INTO aws_kms_keys VALUES (?, 'k-1', '111111111111', 'us-east-1'), "
                "(?, 'k-1', '111111111111', 'eu-west-1')", [KEY, OTHER])
    con.execute("CREATE TABLE aws_kms_aliases (alias_name VARCHAR, alias_arn VARCHAR, target_key_id VARCHAR, "
                "account_id VARCHAR, region VARCHAR)")
    con.execute("INSERT INTO aws_kms_aliases VALUES ('alias/orders', "
                "'arn:aws:kms:us-east-1:111111111111:alias/orders', 'k-1', '111111111111', 'us-east-1')")
    con.execute("CREATE TABLE aws_s3_bucket_encryption_keys (bucket_arn VARCHAR, account_id VARCHAR, "
                "bucket_region VARCHAR, resolved_key_arn VARCHAR)")
    con.execute("INSERT INTO aws_s3_bucket_encryption_keys VALUES ('arn:aws:s3:::b', '111111111111', 'us-east-1', ?)",
                [KEY])
    for t, col in (("aws_secretsmanager_secrets", "kms_key_id"), ("aws_sqs_queues", "kms_master_key_id"),
                   ("aws_sns_topics", "kms_master_key_id"), ("aws_ec2_ebs_snapshots", "kms_key_id"),
                   ("aws_rds_db_snapshots", "kms_key_id"), ("aws_rds_cluster_snapshots", "kms_key_id"),
                   ("aws_backup_vaults", "encryption_key_arn")):
        con.execute(f"CREATE TABLE {t} (arn VARCHAR, account_id VARCHAR, region VARCHAR, {col} VARCHAR)")
    con.execute("INSERT INTO aws_sqs_queues VALUES ('arn:aws:sqs:us-east-1:111111111111:q', '111111111111', "
                "'us-east-1', 'alias/orders')")
    con.execute("INSERT INTO aws_sns_topics VALUES ('arn:aws:sns:us-east-1:111111111111:t', '111111111111', "
                "'us-east-1', 'k-1')")
    if with_images:
        con.execute("CREATE TABLE aws_ec2_images (arn VARCHAR, account_id VARCHAR, region VARCHAR, "
                    "block_device_mappings JSON)")
        con.execute("INSERT INTO aws_ec2_images VALUES ('arn:aws:ec2:us-east-1::image/ami-1', '111111111111', "
                    "'us-east-1', ?)", ['[{"DeviceName": "/dev/xvda", "Ebs": {"KmsKeyId": "%s"}}, '
                                        '{"DeviceName": "/dev/sdb", "Ebs": {}}]' % KEY])
    con.close()


def test_key_users_resolve_by_arn_id_and_alias_in_the_resources_own_region(tmp_path):
    db = tmp_path / "p.duckdb"
    _posture(db)
    con = open_read_only(db)
    try:
        rows = con.execute("SELECT key_arn, resource_type, resource_arn FROM aws_encryption_key_users "
                           "ORDER BY resource_arn").fetchall()
    finally:
        con.close()
    assert rows == [(KEY, "AMI", "arn:aws:ec2:us-east-1::image/ami-1"),
                    (KEY, "S3 bucket", "arn:aws:s3:::b"),
                    (KEY, "topic", "arn:aws:sns:us-east-1:111111111111:t"),
                    (KEY, "queue", "arn:aws:sqs:us-east-1:111111111111:q")]


def test_a_file_without_a_table_the_view_reads_still_opens_without_it(tmp_path):
    db = tmp_path / "old.duckdb"
    _posture(db, with_images=False)
    con = open_read_only(db)
    try:
        assert con.execute("SELECT count(*) FROM aws_kms_keys").fetchone() == (2,)
        views = con.execute("SELECT view_name FROM duckdb_views() WHERE NOT internal").fetchall()
    finally:
        con.close()
    assert ("aws_encryption_key_users",) not in views
