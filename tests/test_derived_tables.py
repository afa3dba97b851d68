"""Who can use each key and read each bucket (the permission and encryption-key tables), from the demo world."""

from __future__ import annotations

from typing import Iterator

import pytest

from plugin.demo.world import COMPUTE, COMPUTE_READER, DATA, World

from .helpers import SyncResult, environment, run_sync


@pytest.fixture(scope="module")
def data_only(world: World) -> Iterator[tuple[World, SyncResult]]:
    """DATA alone: COMPUTE is then outside the trusted set."""
    with environment(world.env):
        yield world, run_sync(world.spec(accounts=[DATA]))


@pytest.fixture(scope="module")
def both(world: World) -> Iterator[tuple[World, SyncResult]]:
    with environment(world.env):
        yield world, run_sync(world.spec())


def test_data_lake_bucket_admits_the_compute_role_to_read_objects(both):
    w, res = both
    lake = f"arn:aws:s3:::data-lake-{DATA}"
    rows = [r for r in res.table("aws_s3_bucket_permissions") if r["bucket_arn"] == lake]
    assert len(rows) == 1
    r = rows[0]
    assert (r["principal_type"], r["principal"], r["principal_account"]) == ("AWS", COMPUTE_READER, COMPUTE)
    assert r["effect"] == "Allow" and r["statement_id"] == "ComputeRead" and r["source"] == "bucket_policy"
    assert r["grants_object_read"] is True and r["grants_object_write"] is False and r["grants_list"] is True
    assert r["is_public"] is False
    # COMPUTE is synced too, so it is inside: trusted, not external
    assert r["trust"] == "synced_account" and r["is_external"] is False
    assert r["_cq_parent_id"] == res.one("aws_s3_buckets", arn=lake)["_cq_id"]


def test_data_lake_bucket_resolves_to_the_aws_managed_s3_key(both):
    w, res = both
    lake = f"arn:aws:s3:::data-lake-{DATA}"
    e = res.one("aws_s3_bucket_encryption_keys", bucket_arn=lake)
    assert e["sse_algorithm"] == "SSE-KMS" and e["encryption_configured"] is True
    assert e["key_reference"] is None and e["reference_type"] == "default_aws_managed"
    assert e["resolved_key_arn"] == w.keys["aws_s3"]["Arn"]
    assert (e["key_account_id"], e["key_region"], e["same_account"], e["same_region"]) == (DATA, "us-east-1", True, True)
    assert e["key_known"] is True and e["key_manager"] == "AWS" and e["key_type"] == "aws_managed"
    assert e["key_state"] == "Enabled" and e["key_origin"] == "AWS_KMS"


def test_aws_s3_key_is_usable_only_by_its_account_via_s3(both):
    w, res = both
    arn = w.keys["aws_s3"]["Arn"]
    rows = [r for r in res.table("aws_kms_key_permissions") if r["key_arn"] == arn]
    use = [r for r in rows if r["allows_decrypt"]]
    assert len(use) == 1
    u = use[0]
    assert (u["principal"], u["principal_account"], u["trust"]) == ("*", DATA, "owner")
    assert u["via_services"] == ["s3.us-east-1.amazonaws.com"] and u["caller_accounts"] == [DATA]
    assert u["is_public"] is False and u["is_external"] is False and u["allows_generate_data_key"] is True
    assert {r["principal_account"] for r in rows} == {DATA}, "no other account appears anywhere"
    meta = [r for r in rows if r["statement_id"] == "Allow direct access to key metadata to the account"]
    assert len(meta) == 1 and meta[0]["allows_decrypt"] is False and meta[0]["allows_describe_key"] is True
    assert not any(r["source"] == "grant" for r in rows)


def test_grant_to_an_unsynced_account_is_external(data_only):
    w, res = data_only
    arn = w.keys["rotating"]["Arn"]
    g = res.one("aws_kms_key_permissions", key_arn=arn, source="grant")
    assert g["statement_id"] == w.grants["compute"] and g["principal"] == COMPUTE_READER
    assert g["principal_account"] == COMPUTE and g["is_external"] is True and g["trust"] == "external"
    assert g["allows_decrypt"] is True and g["allows_encrypt"] is False
    assert sorted(g["actions"]) == ["kms:Decrypt", "kms:DescribeKey"]
    # the key policy's statement naming the compute role is external too; the root statement is the owner
    pol = [r for r in res.table("aws_kms_key_permissions") if r["key_arn"] == arn and r["source"] == "key_policy"]
    by_sid = {r["statement_id"]: r for r in pol}
    assert by_sid["Allow use of the key"]["trust"] == "external" and by_sid["Allow use of the key"]["is_external"]
    assert by_sid["Enable IAM User Permissions"]["trust"] == "owner"
    assert by_sid["Enable IAM User Permissions"]["allows_put_key_policy"] is True


def test_grant_to_a_synced_account_is_inside(both):
    w, res = both
    g = res.one("aws_kms_key_permissions", key_arn=w.keys["rotating"]["Arn"], source="grant")
    assert g["trust"] == "synced_account" and g["is_external"] is False


def test_trusted_accounts_from_the_spec(world):
    with environment(world.env):
        res = run_sync(world.spec(accounts=[DATA], trusted_accounts=[COMPUTE]),
                       tables=["aws_kms_keys", "aws_kms_key_permissions"])
    g = res.one("aws_kms_key_permissions", key_arn=world.keys["rotating"]["Arn"], source="grant")
    assert g["trust"] == "trusted_account" and g["is_external"] is False


def test_other_encryption_key_rows(both):
    w, res = both
    cmk = res.one("aws_s3_bucket_encryption_keys", bucket_arn=f"arn:aws:s3:::cmk-bucket-{DATA}")
    assert cmk["reference_type"] == "key_arn" and cmk["key_reference"] == w.keys["rotating"]["Arn"]
    assert cmk["resolved_key_arn"] == w.keys["rotating"]["Arn"] and cmk["key_known"] is True
    assert cmk["key_type"] == "customer_managed_aws_key_material" and cmk["bucket_key_enabled"] is True
    sse = res.one("aws_s3_bucket_encryption_keys", bucket_arn=f"arn:aws:s3:::sse-s3-{DATA}")
    assert sse["sse_algorithm"] == "SSE-S3" and sse["key_type"] == "aws_owned" and sse["resolved_key_arn"] is None
    scratch = res.one("aws_s3_bucket_encryption_keys", bucket_arn=f"arn:aws:s3:::compute-scratch-{COMPUTE}")
    # no configuration: S3's default SSE-S3
    assert scratch["encryption_configured"] is False and scratch["sse_algorithm"] == "SSE-S3"


def test_derived_tables_need_no_extra_calls(world):
    """Selecting only the derived tables still makes only the calls they depend on."""
    with environment(world.env):
        mark = world.server.mark()
        res = run_sync(world.spec(accounts=[DATA]),
                       tables=["aws_s3_buckets", "aws_s3_bucket_encryption_keys", "aws_s3_bucket_permissions"],
                       skip_dependent=True)
        ops = [op for _, op, _ in world.server.since(mark)]
    assert res.table("aws_s3_bucket_encryption_keys") and res.table("aws_s3_bucket_permissions")
    assert "aws_s3_bucket_encryption_rules" not in res.rows
    assert ops.count("GetBucketEncryption") == len(res.table("aws_s3_buckets"))
    assert ops.count("GetBucketPolicy") == len(res.table("aws_s3_buckets"))
    assert "ListKeys" not in ops


def test_unreadable_encryption_is_null_not_sse_s3(world):
    def deny(service, op, body):
        return (403, "AccessDenied") if op == "GetBucketEncryption" else None

    world.server.faults.append(deny)
    try:
        with environment(world.env):
            res = run_sync(world.spec(accounts=[DATA], max_retries=0),
                           tables=["aws_s3_buckets", "aws_s3_bucket_encryption_keys"], skip_dependent=True)
    finally:
        world.server.faults.remove(deny)
    rows = res.table("aws_s3_bucket_encryption_keys")
    assert rows and all(r["sse_algorithm"] is None and r["encryption_configured"] is None for r in rows)
    assert len(res.errors(operation="GetBucketEncryption")) == len(rows)
