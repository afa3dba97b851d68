"""Every bundled check on synced fixtures, each status it can return, including `error`."""

from __future__ import annotations

from pathlib import Path
from typing import Iterator

import pytest

from plugin.checks.files import bundled_queries_dir, load_checks
from plugin.checks.runner import run_checks
from plugin.cli.sync import run
from plugin.cli.yaml_specs import SourcePlan, SyncPlan
from plugin.demo.world import COMPUTE, COMPUTE_READER, DATA, DENIED, World
from plugin.source.spec import parse_spec

from .check_world import CENTRAL, CHECKS
from .helpers import environment


def _sync(world: World, db: Path, accounts: list[str], **extra) -> None:
    raw = world.spec(accounts=accounts, **extra)
    plan = SyncPlan(sources=[SourcePlan(name="aws-encryption", spec=parse_spec(raw), tables=["*"],
                                        skip_tables=[], skip_dependent_tables=False, file="test")],
                    db_path=str(db))
    with environment(world.env):
        run(plan)


def _refused_statuses(world: World, db: Path, accounts: list[str], op: str, needle: bytes, code: str,
                      status: int = 403, regions: tuple[str, ...] = ("us-east-1",)) -> dict[str, dict[str, tuple[str, str]]]:
    """The checks of a sync of `accounts` in which every `op` request naming `needle` is refused with `code`
    at the emulator (as AWS refuses it on the wire)."""
    world.server.faults.append(lambda svc, o, body: (status, code) if o == op and needle in body else None)
    try:
        _sync(world, db, accounts, regions=list(regions))
    finally:
        world.server.faults.pop()
    return _statuses(db)


def _statuses(db: Path) -> dict[str, dict[str, tuple[str, str]]]:
    results = run_checks(str(db), load_checks([bundled_queries_dir()]))
    out: dict[str, dict[str, tuple[str, str]]] = {}
    for r in results:
        assert r.error is None, f"{r.check.id}: {r.error}"
        out[r.check.id] = {f.resource_arn: (f.status, f.reason) for f in r.rows}
    return out


@pytest.fixture(scope="module")
def results(world: World, check_cases, tmp_path_factory) -> Iterator[dict]:
    db = tmp_path_factory.mktemp("checks") / "posture.duckdb"
    _sync(world, db, [DATA, COMPUTE, CHECKS, CENTRAL])
    yield _statuses(db)


def _s(results, check: str, arn: str) -> str:
    return results[check][arn][0]


def _r(results, check: str, arn: str) -> str:
    return results[check][arn][1]


def test_every_bundled_check_has_a_test_here():
    ids = {c.id for c in load_checks([bundled_queries_dir()])}
    tested = {"s3_aws_managed_key_cross_account", "s3_key_unusable_by_bucket_principals",
              "kms_cmk_rotation_disabled", "kms_key_manual_rotation_overdue", "kms_key_policy_public",
              "kms_key_external_access", "s3_encryption_key_unusable_state",
              "s3_encryption_key_alias_or_foreign_region", "s3_sse_kms_bucket_key_disabled", "s3_sse_c_not_blocked",
              "encryption_key_inventory", "sync_coverage", "s3_bucket_policy_enforces_key",
              "s3_key_in_another_account_unusable", "s3_log_target_sse_kms", "s3_replication_replica_key_unusable"}
    # tested in tests/test_chain.py
    tested |= {"cross_account_access_chain_broken", "cross_account_intent_not_admitted",
               "kms_decrypt_allowed_on_all_keys_in_iam"}
    tested |= {"shared_resource_aws_managed_key", "shared_resource_key_unusable",  # tests/test_shared_resources.py
               "snapshot_shared_key_unusable", "snapshot_public", "ebs_default_key_aws_managed",
               "backup_copy_key_unusable"}
    tested |= {"kms_key_pending_deletion_or_disabled", "kms_cmk_unused", "kms_key_multi_region",  # test_kms_controls.py
               "kms_imported_key_material_expiring", "kms_key_external_admin"}
    tested |= {"s3_bucket_tls_not_required", "s3_bucket_public_access_block_disabled",  # tests/test_s3_controls.py
               "s3_account_public_access_block_disabled", "s3_bucket_acls_enabled", "s3_bucket_publicly_accessible",
               "s3_access_point_public_access_block_disabled",
               "s3_multi_region_access_point_public_access_block_disabled"}
    assert ids == tested


def test_s3_aws_managed_key_cross_account(results, world, check_cases):
    c = "s3_aws_managed_key_cross_account"
    lake = f"arn:aws:s3:::data-lake-{DATA}"
    assert _s(results, c, lake) == "fail"
    assert COMPUTE in _r(results, c, lake) and "AccessDenied" in _r(results, c, lake)
    assert world.keys["aws_s3"]["Arn"] in _r(results, c, lake)
    assert _s(results, c, check_cases.buckets["aws-s3-private"]) == "pass"
    assert _s(results, c, f"arn:aws:s3:::cmk-bucket-{DATA}") == "skip"
    assert _s(results, c, f"arn:aws:s3:::sse-s3-{DATA}") == "skip"


def test_s3_key_unusable_by_bucket_principals(results, check_cases):
    c = "s3_key_unusable_by_bucket_principals"
    nokey = check_cases.buckets["cmk-shared-nokey"]
    assert _s(results, c, nokey) == "fail"
    reason = _r(results, c, nokey)
    # the principal, read and write, the bucket statement, the operations the key lacks, and the fix
    assert f"{COMPUTE_READER} may read (bucket policy, statement Share)" in reason
    assert f"{COMPUTE_READER} may write (bucket policy, statement Share)" in reason
    assert "gives no kms:GenerateDataKey, kms:Decrypt" in reason and "gives no kms:Decrypt" in reason
    assert f'"AWS": "{COMPUTE_READER}"' in reason and "kms:ViaService" in reason
    assert f"aws kms create-grant --key-id {check_cases.keys['private-cmk']}" in reason
    assert _s(results, c, check_cases.buckets["cmk-shared-ok"]) == "pass"
    assert _s(results, c, f"arn:aws:s3:::data-lake-{DATA}") == "skip"  # aws/s3: the other check's case


def test_kms_cmk_rotation_disabled(results, world, check_cases):
    c = "kms_cmk_rotation_disabled"
    assert _s(results, c, world.keys["rotating"]["Arn"]) == "pass"
    assert "180 days" in _r(results, c, world.keys["rotating"]["Arn"])
    assert _s(results, c, world.keys["no_rotation"]["Arn"]) == "fail"
    for name in ("aws_s3", "external", "asymmetric", "pending_deletion"):
        assert _s(results, c, world.keys[name]["Arn"]) == "skip", name
    assert _s(results, c, world.keys["compute_cmk"]["Arn"]) == "error"
    assert "AccessDenied" in _r(results, c, world.keys["compute_cmk"]["Arn"])


def test_kms_key_manual_rotation_overdue(results, world, check_cases):
    c = "kms_key_manual_rotation_overdue"
    old = check_cases.keys["imported-old"]
    assert _s(results, c, old) == "fail" and "Never rotated" in _r(results, c, old)
    assert _s(results, c, check_cases.keys["imported-new"]) == "pass"
    assert _s(results, c, world.keys["rotating"]["Arn"]) == "skip"
    assert _s(results, c, world.keys["external"]["Arn"]) == "skip"  # PendingImport: nothing to rotate yet


def test_kms_key_policy_public(results, world, check_cases):
    c = "kms_key_policy_public"
    assert _s(results, c, check_cases.keys["public"]) == "fail"
    assert "Anyone" in _r(results, c, check_cases.keys["public"])
    assert _s(results, c, check_cases.keys["restricted-wildcard"]) == "pass"
    assert _s(results, c, world.keys["aws_s3"]["Arn"]) == "pass"


def test_kms_key_external_access(results, world, check_cases):
    c = "kms_key_external_access"
    # COMPUTE is synced here, so the rotating key's grant to it is inside the trusted set
    assert _s(results, c, world.keys["rotating"]["Arn"]) == "pass"
    assert _s(results, c, check_cases.keys["shared-cmk"]) == "pass"


def test_kms_key_external_access_fails_for_an_unsynced_account(world, check_cases, tmp_path):
    db = tmp_path / "data-only.duckdb"
    _sync(world, db, [DATA])
    res = _statuses(db)["kms_key_external_access"]
    status, reason = res[world.keys["rotating"]["Arn"]]
    assert status == "fail" and COMPUTE in reason and "grant" in reason


def test_s3_encryption_key_unusable_state(results, check_cases):
    c = "s3_encryption_key_unusable_state"
    assert _s(results, c, check_cases.buckets["dying-key"]) == "fail"
    assert "PendingDeletion" in _r(results, c, check_cases.buckets["dying-key"])
    assert _s(results, c, check_cases.buckets["missing-key"]) == "fail"
    assert "does not exist" in _r(results, c, check_cases.buckets["missing-key"])
    assert _s(results, c, check_cases.buckets["cmk-shared-ok"]) == "pass"
    assert _s(results, c, f"arn:aws:s3:::sse-s3-{DATA}") == "skip"


def test_s3_encryption_key_alias_or_foreign_region(results, check_cases):
    c = "s3_encryption_key_alias_or_foreign_region"
    assert _s(results, c, check_cases.buckets["by-alias"]) == "fail"
    assert "alias/chk-private" in _r(results, c, check_cases.buckets["by-alias"])
    assert _s(results, c, check_cases.buckets["foreign-region"]) == "fail"
    assert "eu-west-1" in _r(results, c, check_cases.buckets["foreign-region"])
    assert _s(results, c, check_cases.buckets["cmk-shared-ok"]) == "pass"
    assert _s(results, c, check_cases.buckets["aws-s3-private"]) == "skip"


def test_s3_sse_kms_bucket_key_disabled(results, check_cases):
    c = "s3_sse_kms_bucket_key_disabled"
    assert _s(results, c, f"arn:aws:s3:::data-lake-{DATA}") == "fail"
    assert _s(results, c, check_cases.buckets["cmk-shared-ok"]) == "pass"
    assert _s(results, c, check_cases.buckets["dsse"]) == "skip"
    assert _s(results, c, check_cases.buckets["sse-c-blocked"]) == "skip"


def test_s3_sse_c_not_blocked(results, check_cases):
    c = "s3_sse_c_not_blocked"
    assert _s(results, c, check_cases.buckets["sse-c-blocked"]) == "pass"
    assert _s(results, c, check_cases.buckets["aws-s3-private"]) == "fail"
    assert _s(results, c, f"arn:aws:s3:::compute-scratch-{COMPUTE}") == "fail"


def test_encryption_key_inventory(results, world, check_cases):
    c = "encryption_key_inventory"
    assert _s(results, c, world.keys["aws_s3"]["Arn"]) == "pass"
    assert "AWS managed" in _r(results, c, world.keys["aws_s3"]["Arn"])
    assert "AWS owned" in _r(results, c, f"arn:aws:s3:::sse-s3-{DATA}")
    assert all(s in ("pass", "error") for s, _ in results[c].values())


def test_unreadable_inputs_are_errors_not_passes(world, check_cases, tmp_path):
    """With the calls each check depends on denied, every check says `error` for those resources."""
    deny_ops = {"GetBucketEncryption", "GetBucketPolicy", "GetKeyPolicy", "ListGrants", "DescribeKey"}
    res = _statuses_denied(world, tmp_path, lambda op, detail: op in deny_ops and (
        CHECKS.encode() in detail or b"chk-" in detail))
    bucket = check_cases.buckets["cmk-shared-nokey"]
    key = check_cases.keys["public"]
    for check in ("s3_aws_managed_key_cross_account", "s3_key_unusable_by_bucket_principals",
                  "s3_encryption_key_unusable_state", "s3_encryption_key_alias_or_foreign_region",
                  "s3_sse_kms_bucket_key_disabled", "s3_sse_c_not_blocked", "encryption_key_inventory",
                  "s3_key_in_another_account_unusable", "s3_bucket_policy_enforces_key"):
        assert res[check][bucket][0] == "error", check
        assert "could not be read" in res[check][bucket][1], check
    for check in ("kms_cmk_rotation_disabled", "kms_key_manual_rotation_overdue", "kms_key_policy_public",
                  "kms_key_external_access", "encryption_key_inventory"):
        assert res[check][key][0] == "error", check


def test_sync_coverage(results, tmp_path, world):
    c = "sync_coverage"
    assert {arn: status for arn, (status, _) in results[c].items()} == {
        f"{a}/sts:AssumeRole": "pass" for a in (DATA, COMPUTE, CHECKS, CENTRAL)}
    # ListKeys, ListAliases and ListAccessPoints per region; ListBuckets, MRAPs, DescribeOrganization per account,
    # and GetAccountAuthorizationDetails (one call per account, a listing for each of the five IAM tables cut from it);
    # ListSecrets, ListQueues, ListTopics, DescribeSnapshots, DescribeImages, GetEbsEncryptionByDefault,
    # DescribeDBSnapshots, DescribeDBClusterSnapshots, ListBackupVaults and ListBackupPlans per region;
    # the account's Block Public Access (s3control GetPublicAccessBlock, aws_s3_accounts) once
    assert "2 regions, 35 listings" in _r(results, c, f"{DATA}/sts:AssumeRole")
    db = tmp_path / "denied.duckdb"
    _sync(world, db, [DENIED, DATA])
    res = _statuses(db)[c]
    assert res[f"{DATA}/sts:AssumeRole"][0] == "pass"
    status, reason = res[f"{DENIED}/sts:AssumeRole"]
    assert status == "error" and f"Account {DENIED} could not be read: sts:AssumeRole failed (AccessDenied" in reason
    assert "no earlier data of it is kept" in reason


def test_an_unknown_key_type_is_an_error_not_a_skip(world, check_cases, tmp_path):
    """DescribeKey denied: the bucket's key type is unknown, so the checks that depend on it say error."""
    res = _statuses_denied(world, tmp_path, lambda op, detail: op == "DescribeKey" and CHECKS.encode() in detail)
    shared = check_cases.buckets["cmk-shared-nokey"]  # shared with COMPUTE, key in the same account
    for check in ("s3_aws_managed_key_cross_account", "encryption_key_inventory"):
        status, reason = res[check][shared]
        assert status == "error", (check, reason)
        assert "unknown" in reason, (check, reason)
    # the key policy itself was read: it decides, type or no type
    status, reason = res["s3_key_unusable_by_bucket_principals"][shared]
    assert status == "fail" and "gives no kms:Decrypt" in reason
    # the same unknown key on a bucket shared with nobody: its type can't change the verdict
    assert res["s3_key_unusable_by_bucket_principals"][check_cases.buckets["by-alias"]][0] == "pass"


def test_rotations_that_could_not_be_listed_are_an_error(world, check_cases, tmp_path):
    old = check_cases.keys["imported-old"]

    res = _statuses_denied(world, tmp_path, lambda op, detail: op == "ListKeyRotations" and old.encode() in detail)
    status, reason = res["kms_key_manual_rotation_overdue"][old]
    assert status == "error" and "could not be listed" in reason


def _statuses_denied(world: World, tmp_path: Path, denied) -> dict[str, dict[str, tuple[str, str]]]:
    """The checks' results on CHECKS synced while AWS denies the calls `denied(op, detail)` picks."""
    def deny(service, op, detail):
        if not denied(op, detail):
            return None
        return (403, "AccessDenied") if service == "s3" else (400, "AccessDeniedException")

    world.server.faults.append(deny)
    try:
        db = tmp_path / "denied.duckdb"
        _sync(world, db, [CHECKS], max_retries=0)
    finally:
        world.server.faults.remove(deny)
    return _statuses(db)


def test_s3_bucket_policy_enforces_key(results, check_cases):
    c = "s3_bucket_policy_enforces_key"
    assert _s(results, c, check_cases.buckets["enforced-key"]) == "pass"
    assert _s(results, c, check_cases.buckets["cmk-shared-ok"]) == "fail"
    assert "s3:x-amz-server-side-encryption-aws-kms-key-id" in _r(results, c, check_cases.buckets["cmk-shared-ok"])
    assert _s(results, c, f"arn:aws:s3:::sse-s3-{DATA}") == "skip"


def test_s3_key_in_another_account_unusable(results, check_cases):
    c = "s3_key_in_another_account_unusable"
    closed = check_cases.buckets["central-closed"]
    assert _s(results, c, closed) == "fail"
    reason = _r(results, c, closed)
    assert check_cases.keys["central-closed"] in reason and f"own account {CHECKS}" in reason
    assert "kms:GenerateDataKey" in reason and f'"AWS": "arn:aws:iam::{CHECKS}:root"' in reason
    assert _s(results, c, check_cases.buckets["central-admits"]) == "pass"
    assert _s(results, c, check_cases.buckets["cmk-shared-ok"]) == "skip"  # its key is its own account's


def test_s3_key_in_another_account_that_was_not_synced_is_an_error(world, check_cases, tmp_path):
    db = tmp_path / "no-central.duckdb"
    _sync(world, db, [CHECKS])
    status, reason = _statuses(db)["s3_key_in_another_account_unusable"][check_cases.buckets["central-admits"]]
    assert status == "error" and "unknown" in reason
