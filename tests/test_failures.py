"""Per-resource failures are data: recorded with account, region and call; the rest syncs."""

from __future__ import annotations

from plugin.demo.world import COMPUTE, DATA, DENIED, audit_role_arn

from .helpers import run_sync


def test_throttled_calls_in_one_account_do_not_stop_the_other(scanner_env):
    w = scanner_env
    # The emulator throttles every GetKeyPolicy on COMPUTE's keys, as KMS does past its quota.
    def throttle(service, op, body):
        if service == "kms" and op == "GetKeyPolicy" and f":{COMPUTE}:key/" in body.decode():
            return 400, "ThrottlingException"
        return None

    w.server.faults.append(throttle)
    try:
        mark = w.server.mark()
        res = run_sync(w.spec(max_retries=2))
        calls = w.server.since(mark)
    finally:
        w.server.faults.remove(throttle)
    key = w.keys["compute_cmk"]["Arn"]
    errs = res.errors(operation="GetKeyPolicy")
    assert [(e["account_id"], e["resource_arn"], e["error_code"]) for e in errs] == [
        (COMPUTE, key, "ThrottlingException")]
    # retried: max_retries=2 means three attempts in all
    attempts = [c for c in calls if c[1] == "GetKeyPolicy" and key.encode() in c[2]]
    assert len(attempts) == 3
    # the throttled key's other tables and every DATA policy are there
    assert res.one("aws_kms_keys", arn=key)
    data_keys = {r["arn"] for r in res.table("aws_kms_keys") if r["account_id"] == DATA}
    data_policies = {r["key_arn"] for r in res.table("aws_kms_key_policies") if r["account_id"] == DATA}
    assert data_keys and data_policies == data_keys


def test_role_that_cannot_be_assumed_is_an_error_naming_the_account(scanner_env):
    w = scanner_env
    res = run_sync(w.spec(accounts=[DENIED, DATA]))
    errs = res.errors(account_id=DENIED)
    assert len(errs) == 1
    e = errs[0]
    assert (e["service"], e["operation"], e["error_code"]) == ("sts", "AssumeRole", "AccessDenied")
    assert e["resource_arn"] == audit_role_arn(DENIED)
    assert {r["account_id"] for r in res.table("aws_kms_keys")} == {DATA}


def test_credentials_for_the_wrong_account_are_refused(scanner_env):
    """An accounts entry whose credentials land in another account syncs nothing for it."""
    w = scanner_env
    spec = w.spec(accounts=[DATA])
    spec["accounts"] = [{"id": "444444444444"}]  # the scanner's own keys belong to 123456789012
    res = run_sync(spec)
    errs = res.errors(account_id="444444444444")
    assert [e["error_code"] for e in errs] == ["AccountMismatch"]
    assert "123456789012" in errs[0]["message"]
    assert not res.table("aws_kms_keys")


def test_table_selection_makes_only_the_calls_it_needs(scanner_env):
    w = scanner_env
    mark = w.server.mark()
    res = run_sync(w.spec(accounts=[DATA]), tables=["aws_kms_keys"], skip_dependent=True)
    ops = {op for _, op, _ in w.server.since(mark)}
    assert res.table("aws_kms_keys")
    assert set(res.rows) <= {"aws_kms_keys", "aws_encryption_sync_errors", "aws_encryption_sync_coverage"}
    assert not ops & {"GetKeyPolicy", "ListGrants", "ListKeyRotations", "ListBuckets", "ListAliases"}


def test_sync_errors_table_comes_with_any_selection(scanner_env):
    w = scanner_env
    res = run_sync(w.spec(accounts=[COMPUTE]), tables=["aws_kms_keys"], skip_dependent=True)
    assert res.errors(operation="GetKeyRotationStatus")
    res = run_sync(w.spec(accounts=[COMPUTE]), tables=["aws_kms_keys"], skip=["aws_encryption_sync_errors"],
                   skip_dependent=True)
    assert "aws_encryption_sync_errors" not in res.rows


def test_a_region_that_never_answers_is_an_error_and_the_rest_completes(scanner_env):
    import threading
    import time
    w = scanner_env
    release = threading.Event()

    def hang_eu(service, op, detail, region):
        if region == "eu-west-1" and service == "kms":
            release.wait(60)  # the endpoint accepts the connection and never answers
        return None

    w.server.faults.append(hang_eu)
    t0 = time.monotonic()
    try:
        # max_retries 10 (the default): a timeout is retried once, not ten times (22 s of timeouts per call)
        res = run_sync(w.spec(accounts=[DATA], request_timeout=2, max_retries=10))
    finally:
        elapsed = time.monotonic() - t0
        release.set()
        w.server.faults.remove(hang_eu)
    eu = [e for e in res.table("aws_encryption_sync_errors") if e["region"] == "eu-west-1"]
    assert {e["operation"] for e in eu} == {"ListKeys", "ListAliases"}
    assert {e["error_code"] for e in eu} <= {"Timeout", "RegionUnavailable"}
    assert "Timeout" in {e["error_code"] for e in eu}
    # us-east-1 synced completely, and the sync did not wait on eu-west-1 more than its timeouts
    assert {r["region"] for r in res.table("aws_kms_keys")} == {"us-east-1"}
    assert len([r for r in res.table("aws_kms_keys") if r["region"] == "us-east-1"]) == 6
    assert res.one("aws_s3_buckets", name=f"sse-s3-{DATA}")["region"] == "eu-west-1"  # S3 answers there
    assert elapsed < 20
