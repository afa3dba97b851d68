"""Every table, synced from the demo world, checked column by column against what AWS returns."""

from __future__ import annotations

import json
import uuid
from typing import Any, Iterator

import pytest

from plugin.demo.world import COMPUTE, COMPUTE_READER, DATA, World, aws_managed_s3_policy, cmk_policy
from plugin.tables.schema import cq_id

from .helpers import SyncResult, environment, run_sync


@pytest.fixture(scope="module")
def synced(world: World) -> Iterator[tuple[World, SyncResult, list]]:
    with environment(world.env):
        mark = world.server.mark()
        res = run_sync(world.spec())
        yield world, res, world.server.since(mark)


def _uuid(b: Any) -> uuid.UUID:
    return uuid.UUID(bytes=b)


def _json(b: Any) -> Any:
    return None if b is None else json.loads(b)


def test_kms_key_customer_managed_rotating(synced):
    w, res, _ = synced
    k = w.keys["rotating"]
    row = res.one("aws_kms_keys", arn=k["Arn"])
    assert _uuid(row["_cq_id"]) == cq_id({"arn": k["Arn"]})
    assert row["_cq_parent_id"] is None
    assert row["account_id"] == DATA and row["region"] == "us-east-1"
    assert row["rotation_enabled"] is True
    assert _json(row["tags"]) == {"team": "data"}
    assert row["replica_keys"] is None
    assert row["key_id"] == k["KeyId"]
    assert row["aws_account_id"] == DATA
    assert row["cloud_hsm_cluster_id"] is None and row["custom_key_store_id"] is None
    assert row["creation_date"] == k["CreationDate"]
    assert row["customer_master_key_spec"] == "SYMMETRIC_DEFAULT"
    assert row["deletion_date"] is None
    assert row["description"] == "data lake cmk, rotating"
    assert row["enabled"] is True
    assert row["encryption_algorithms"] == ["SYMMETRIC_DEFAULT"]
    assert row["key_manager"] == "CUSTOMER"
    assert row["key_spec"] == "SYMMETRIC_DEFAULT"
    assert row["key_state"] == "Enabled"
    assert row["origin"] == "AWS_KMS"
    assert row["pending_deletion_window_in_days"] is None
    assert row["valid_to"] is None and row["xks_key_configuration"] is None


def test_kms_key_aws_managed_has_no_rotation_or_tags(synced):
    w, res, calls = synced
    k = w.keys["aws_s3"]
    row = res.one("aws_kms_keys", arn=k["Arn"])
    assert row["key_manager"] == "AWS"
    assert row["description"].startswith("Default key that protects my S3 objects")
    # AWS rejects tagging AWS managed keys and rotates them itself: neither call is made.
    assert row["tags"] is None and row["rotation_enabled"] is None
    made = {(op, json.loads(body or b"{}").get("KeyId")) for svc, op, body in calls if svc == "kms"}
    assert ("ListResourceTags", k["Arn"]) not in made
    assert ("GetKeyRotationStatus", k["Arn"]) not in made
    assert ("GetKeyPolicy", k["Arn"]) in made


@pytest.mark.parametrize("name", ["external", "asymmetric"])
def test_kms_rotation_not_called_where_unsupported(synced, name):
    w, res, calls = synced
    k = w.keys[name]
    row = res.one("aws_kms_keys", arn=k["Arn"])
    assert row["rotation_enabled"] is None
    assert not res.errors(resource_arn=k["Arn"])
    made = {(op, json.loads(body or b"{}").get("KeyId")) for svc, op, body in calls if svc == "kms"}
    assert ("GetKeyRotationStatus", k["Arn"]) not in made
    assert not [r for r in res.table("aws_kms_key_rotation_statuses") if r["key_arn"] == k["Arn"]]


def test_kms_key_kinds(synced):
    w, res, _ = synced
    ext = res.one("aws_kms_keys", arn=w.keys["external"]["Arn"])
    assert ext["origin"] == "EXTERNAL" and ext["key_state"] == "PendingImport"
    asym = res.one("aws_kms_keys", arn=w.keys["asymmetric"]["Arn"])
    assert asym["key_spec"] == "RSA_2048" and asym["key_usage"] == "SIGN_VERIFY"
    assert asym["signing_algorithms"] and all(a.startswith("RSASSA") for a in asym["signing_algorithms"])
    pend = res.one("aws_kms_keys", arn=w.keys["pending_deletion"]["Arn"])
    assert pend["key_state"] == "PendingDeletion" and pend["deletion_date"] is not None
    assert pend["enabled"] is False
    eu = res.one("aws_kms_keys", arn=w.keys["eu"]["Arn"])
    assert eu["region"] == "eu-west-1"
    accounts = {r["account_id"] for r in res.table("aws_kms_keys")}
    assert accounts == {DATA, COMPUTE}


def test_kms_key_policies(synced):
    w, res, _ = synced
    k = w.keys["rotating"]
    parent = res.one("aws_kms_keys", arn=k["Arn"])
    row = res.one("aws_kms_key_policies", key_arn=k["Arn"])
    assert _uuid(row["_cq_id"]) == cq_id({"key_arn": k["Arn"], "name": "default"})
    assert row["_cq_parent_id"] == parent["_cq_id"]
    assert row["account_id"] == DATA and row["region"] == "us-east-1" and row["name"] == "default"
    assert _json(row["policy"]) == json.loads(cmk_policy(DATA, COMPUTE_READER))
    aws_s3 = res.one("aws_kms_key_policies", key_arn=w.keys["aws_s3"]["Arn"])
    assert _json(aws_s3["policy"]) == json.loads(aws_managed_s3_policy(DATA, "us-east-1"))
    # one policy per key the sync could describe
    assert len(res.table("aws_kms_key_policies")) == len(res.table("aws_kms_keys"))


def test_kms_key_grants(synced):
    w, res, _ = synced
    k = w.keys["rotating"]
    row = res.one("aws_kms_key_grants", grant_id=w.grants["compute"])
    assert _uuid(row["_cq_id"]) == cq_id({"key_arn": k["Arn"], "grant_id": w.grants["compute"]})
    assert row["_cq_parent_id"] == res.one("aws_kms_keys", arn=k["Arn"])["_cq_id"]
    assert row["account_id"] == DATA and row["region"] == "us-east-1"
    assert row["key_arn"] == k["Arn"]
    assert row["grantee_principal"] == COMPUTE_READER
    assert row["name"] == "compute-read"
    assert sorted(row["operations"]) == ["Decrypt", "DescribeKey"]
    assert row["key_id"] in (k["KeyId"], k["Arn"])
    # moto's ListGrants omits CreationDate and IssuingAccount (AWS returns both); NULL here.
    assert row["retiring_principal"] is None


def test_kms_rotation_statuses(synced):
    w, res, _ = synced
    k = w.keys["rotating"]
    row = res.one("aws_kms_key_rotation_statuses", key_arn=k["Arn"])
    assert _uuid(row["_cq_id"]) == cq_id({"key_arn": k["Arn"]})
    assert row["_cq_parent_id"] == res.one("aws_kms_keys", arn=k["Arn"])["_cq_id"]
    assert row["account_id"] == DATA and row["region"] == "us-east-1"
    assert row["key_id"] == k["KeyId"]
    assert row["key_rotation_enabled"] is True
    assert row["rotation_period_in_days"] == 180
    assert row["next_rotation_date"] is not None
    off = res.one("aws_kms_key_rotation_statuses", key_arn=w.keys["no_rotation"]["Arn"])
    assert off["key_rotation_enabled"] is False


def test_kms_key_rotations(synced):
    w, res, _ = synced
    k = w.keys["rotating"]
    rows = [r for r in res.table("aws_kms_key_rotations") if r["key_arn"] == k["Arn"]]
    assert len(rows) == 1
    row = rows[0]
    assert row["rotation_type"] == "ON_DEMAND"
    assert row["rotation_date"] is not None
    assert _uuid(row["_cq_id"]) == cq_id({"key_arn": k["Arn"], "rotation_date": row["rotation_date"]})
    assert row["_cq_parent_id"] == res.one("aws_kms_keys", arn=k["Arn"])["_cq_id"]
    assert row["account_id"] == DATA and row["key_id"] == k["KeyId"]


def test_kms_aliases(synced):
    w, res, _ = synced
    arn = f"arn:aws:kms:us-east-1:{DATA}:alias/data-lake-cmk"
    row = res.one("aws_kms_aliases", arn=arn)
    assert _uuid(row["_cq_id"]) == cq_id({"arn": arn})
    assert row["_cq_parent_id"] is None
    assert row["account_id"] == DATA and row["region"] == "us-east-1"
    assert row["alias_arn"] == arn and row["alias_name"] == "alias/data-lake-cmk"
    assert row["target_key_id"] == w.keys["rotating"]["KeyId"]
    s3_alias = res.one("aws_kms_aliases", arn=f"arn:aws:kms:us-east-1:{DATA}:alias/aws/s3")
    assert s3_alias["alias_name"] == "alias/aws/s3"


def test_s3_buckets(synced):
    w, res, _ = synced
    name = f"data-lake-{DATA}"
    arn = f"arn:aws:s3:::{name}"
    row = res.one("aws_s3_buckets", arn=arn)
    assert _uuid(row["_cq_id"]) == cq_id({"arn": arn})
    assert row["_cq_parent_id"] is None
    assert row["account_id"] == DATA and row["name"] == name and row["region"] == "us-east-1"
    assert row["creation_date"] is not None
    assert _json(row["policy_status"]) == {"IsPublic": False}
    assert _json(row["tags"]) == {"purpose": "data-lake"}
    eu = res.one("aws_s3_buckets", name=f"sse-s3-{DATA}")
    assert eu["region"] == "eu-west-1" and eu["tags"] is None and eu["policy_status"] is None
    names = {r["name"] for r in res.table("aws_s3_buckets")}
    assert names == set(w.buckets), "buckets outside the synced regions are not synced"


def test_s3_encryption_rules(synced):
    w, res, _ = synced
    lake = f"arn:aws:s3:::data-lake-{DATA}"
    row = res.one("aws_s3_bucket_encryption_rules", bucket_arn=lake)
    assert _uuid(row["_cq_id"]) == cq_id({"bucket_arn": lake})
    assert row["_cq_parent_id"] == res.one("aws_s3_buckets", arn=lake)["_cq_id"]
    assert row["account_id"] == DATA
    assert _json(row["apply_server_side_encryption_by_default"]) == {"SSEAlgorithm": "aws:kms"}
    assert row["bucket_key_enabled"] is False
    cmk = res.one("aws_s3_bucket_encryption_rules", bucket_arn=f"arn:aws:s3:::cmk-bucket-{DATA}")
    assert _json(cmk["apply_server_side_encryption_by_default"]) == {
        "SSEAlgorithm": "aws:kms", "KMSMasterKeyID": w.keys["rotating"]["Arn"]}
    assert cmk["bucket_key_enabled"] is True
    sse = res.one("aws_s3_bucket_encryption_rules", bucket_arn=f"arn:aws:s3:::sse-s3-{DATA}")
    assert _json(sse["apply_server_side_encryption_by_default"])["SSEAlgorithm"] == "AES256"


def test_s3_bucket_policies(synced):
    w, res, _ = synced
    lake = f"arn:aws:s3:::data-lake-{DATA}"
    row = res.one("aws_s3_bucket_policies", bucket_arn=lake)
    assert _uuid(row["_cq_id"]) == cq_id({"bucket_arn": lake})
    assert row["_cq_parent_id"] == res.one("aws_s3_buckets", arn=lake)["_cq_id"]
    assert row["account_id"] == DATA
    doc = _json(row["policy_json"])
    assert doc["Statement"][0]["Principal"] == {"AWS": COMPUTE_READER}
    assert json.loads(row["policy"]) == doc
    # the data lake and the organisation-wide share (org-shared-...) have one
    assert len(res.table("aws_s3_bucket_policies")) == 2, "buckets without a policy have no row"


def test_s3_public_access_blocks_and_ownership(synced):
    w, res, _ = synced
    arn = f"arn:aws:s3:::cmk-bucket-{DATA}"
    pab = res.one("aws_s3_bucket_public_access_blocks", bucket_arn=arn)
    assert _uuid(pab["_cq_id"]) == cq_id({"bucket_arn": arn})
    assert pab["account_id"] == DATA
    assert _json(pab["public_access_block_configuration"]) == {
        "BlockPublicAcls": True, "IgnorePublicAcls": True, "BlockPublicPolicy": True, "RestrictPublicBuckets": True}
    own = res.one("aws_s3_bucket_ownership_controls", bucket_arn=arn)
    assert own["object_ownership"] == "BucketOwnerEnforced"
    assert _uuid(own["_cq_id"]) == cq_id({"bucket_arn": arn, "object_ownership": "BucketOwnerEnforced"})
    assert own["_cq_parent_id"] == res.one("aws_s3_buckets", arn=arn)["_cq_id"]


def test_denied_call_is_an_error_row_and_the_rest_syncs(synced):
    w, res, _ = synced
    k = w.keys["compute_cmk"]
    errs = res.errors(account_id=COMPUTE, operation="GetKeyRotationStatus")
    assert len(errs) == 1
    e = errs[0]
    assert e["resource_arn"] == k["Arn"] and e["error_code"] == "AccessDenied"
    assert e["service"] == "kms" and e["table_name"] == "aws_kms_keys" and e["region"] == "us-east-1"
    assert "kms:GetKeyRotationStatus" in e["message"]
    assert _uuid(e["_cq_id"]) == cq_id({k2: e[k2] for k2 in ("account_id", "region", "table_name", "service",
                                                             "operation", "resource_arn")})
    # unknown, not false: the rotation columns of that key are NULL and it has no status row
    assert res.one("aws_kms_keys", arn=k["Arn"])["rotation_enabled"] is None
    assert not [r for r in res.table("aws_kms_key_rotation_statuses") if r["key_arn"] == k["Arn"]]
    # everything else of both accounts is there; the data account had no error at all
    assert res.one("aws_kms_key_policies", key_arn=k["Arn"])
    assert res.one("aws_s3_buckets", name=f"compute-scratch-{COMPUTE}")
    assert not res.errors(account_id=DATA)
    assert len(res.table("aws_encryption_sync_errors")) == 1


def test_rows_leave_in_multi_row_batches(synced):
    _, res, _ = synced
    aliases = res.table("aws_kms_aliases")
    assert len(aliases) > 20
    assert res.batches["aws_kms_aliases"] < len(aliases) / 5


def test_schemas_match_declarations(synced):
    from plugin.tables import all_tables
    _, res, _ = synced
    for t in all_tables():
        assert res.schemas[t.name].names == t.column_names()
        assert res.schemas[t.name].names[:2] == ["_cq_id", "_cq_parent_id"]


def test_key_type_classification_and_reference_table(synced):
    w, res, _ = synced
    kinds = {name: res.one("aws_kms_keys", arn=w.keys[name]["Arn"])["key_type"]
             for name in ("rotating", "aws_s3", "external", "asymmetric", "pending_deletion")}
    assert kinds == {
        "rotating": "customer_managed_aws_key_material",
        "aws_s3": "aws_managed",
        "external": "customer_managed_external_key_material",
        "asymmetric": "customer_managed_aws_key_material",
        "pending_deletion": "customer_managed_aws_key_material",
    }
    types = {r["key_type"]: r for r in res.table("aws_encryption_key_types")}
    assert set(types) == {"customer_managed_aws_key_material", "customer_managed_external_key_material",
                          "customer_managed_custom_key_store", "aws_managed", "aws_owned"}
    assert types["aws_managed"]["multi_account_access"] == "no"
    assert types["aws_managed"]["automatic_rotation"] == "required"
    assert types["customer_managed_external_key_material"]["automatic_rotation"] == "no"
    assert types["customer_managed_aws_key_material"]["automatic_rotation"] == "optional"
    assert types["aws_owned"]["can_view_metadata"] == "no"
    # every key's type is a row of the reference table
    assert {r["key_type"] for r in res.table("aws_kms_keys")} <= set(types)
