"""Hostile or broken AWS answers become error rows in bounded time and memory, and the rest of the
sync goes on; Ctrl-C / SIGTERM end a sync within about 2 s whatever is in flight, data intact.

The endpoint is tests/hostile_aws.py, a small fake that misbehaves on purpose.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path
from typing import Iterator

import duckdb
import pytest
import yaml

from plugin.aws.calls import MAX_PAGES

from .grpc_client import plugin_executable
from .helpers import SyncResult, run_sync
from .hostile_aws import KEY_ARN, HostileAWS, spec

pytestmark = pytest.mark.e2e  # a fake AWS endpoint of its own (tests/hostile_aws.py) and the installed command


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[HostileAWS]:
    for k in ("AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(k, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    server = HostileAWS().start()
    yield server
    server.stop()


def _coverage(res: SyncResult, operation: str) -> dict:
    [row] = [r for r in res.table("aws_encryption_sync_coverage") if r["operation"] == operation]
    return row


def test_a_200_with_a_malformed_body_is_an_error_not_zero_keys(aws):
    aws.mode = "malformed"
    res = run_sync(spec(aws.url))
    [err] = res.errors(operation="ListKeys")
    assert err["error_code"] == "MalformedResponse" and "no Keys list" in err["message"]
    cov = _coverage(res, "ListKeys")
    assert (cov["status"], cov["error_code"]) == ("error", "MalformedResponse")
    # the rest of the account was read
    assert _coverage(res, "ListAliases")["status"] == "ok"


def test_a_page_token_that_never_ends_stops_at_the_page_limit(aws):
    aws.mode = "endless"
    t0 = time.monotonic()
    res = run_sync(spec(aws.url))
    assert time.monotonic() - t0 < 90
    assert aws.count("ListKeys") == MAX_PAGES
    [err] = res.errors(operation="ListKeys")
    assert err["error_code"] == "PaginationLoop" and f"after {MAX_PAGES} pages" in err["message"]
    assert _coverage(res, "ListKeys")["status"] == "error"


def test_a_repeated_page_token_is_an_error(aws):
    aws.mode = "repeat"
    res = run_sync(spec(aws.url))
    assert aws.count("ListKeys") == 2
    [err] = res.errors(operation="ListKeys")
    assert err["error_code"] == "PaginationLoop" and "twice" in err["message"]
    cov = _coverage(res, "ListKeys")
    assert cov["status"] == "error" and cov["resources"] == 1  # the first page, before the loop showed


@pytest.mark.parametrize("mode,code", [("deep_policy", "PolicyMalformed"), ("huge_policy", "PolicyTooLarge")])
def test_policies_beyond_what_aws_allows_are_errors_of_that_key(aws, mode, code):
    aws.mode = mode
    res = run_sync(spec(aws.url))
    [err] = res.errors(operation="GetKeyPolicy")
    assert (err["error_code"], err["resource_arn"]) == (code, KEY_ARN)
    assert res.one("aws_kms_keys", arn=KEY_ARN)["key_state"] == "Enabled"  # the key itself is there
    assert not res.table("aws_kms_key_policies")  # the document is not stored
    assert _coverage(res, "ListKeys")["status"] == "ok"


def test_an_answer_nested_deeper_than_python_parses_is_an_error_of_that_key(aws):
    aws.mode = "deep_body"
    res = run_sync(spec(aws.url))
    [err] = res.errors(operation="DescribeKey")
    assert err["resource_arn"] == KEY_ARN
    assert res.one("aws_kms_keys", arn=KEY_ARN)["key_state"] is None  # written with arn and key id only


def test_a_region_without_queues_is_read_not_malformed(aws):
    res = run_sync(spec(aws.url))
    assert aws.count("ListQueues") == 1
    assert not res.errors(operation="ListQueues")
    assert _coverage(res, "ListQueues")["status"] == "ok"


def test_a_cut_off_iam_answer_is_an_unread_scope_of_every_iam_table(aws):
    aws.mode = "iam_malformed"
    res = run_sync(spec(aws.url))
    assert aws.count("GetAccountAuthorizationDetails") == 1  # one call, shared by the IAM tables
    errs = res.errors(operation="GetAccountAuthorizationDetails")
    assert {e["table_name"] for e in errs} == {"aws_iam_roles", "aws_iam_users", "aws_iam_groups", "aws_iam_policies",
                                                "aws_iam_kms_decrypt_statements"}
    assert not res.table("aws_iam_roles")
    covs = [r for r in res.table("aws_encryption_sync_coverage") if r["operation"] == "GetAccountAuthorizationDetails"]
    assert len(covs) == 5 and {c["status"] for c in covs} == {"error"}
    assert _coverage(res, "ListKeys")["status"] == "ok"  # the rest of the account was read


def test_iam_documents_that_are_not_json_are_kept_and_never_read_as_allowing(aws):
    from plugin.analysis.evaluator import Request
    from plugin.analysis.identity import evaluate_identity
    aws.mode = "iam_junk"
    res = run_sync(spec(aws.url))
    assert not res.errors(operation="GetAccountAuthorizationDetails")
    role = res.one("aws_iam_roles", role_name="junk")
    assert role["assume_role_policy_document"] == b'"{not json"'  # stored as the JSON string it is, URL-decoded
    [inline] = res.table("aws_iam_role_policies")
    assert inline["policy_document"] == b'"[[["'
    model = res.engine.index.identities_of("123456789012")
    d = evaluate_identity(model.find(role["arn"]), Request(principal=role["arn"], action="s3:GetObject",
                                                           resource="arn:aws:s3:::b/k"))
    assert d.verdict == "depends"
    assert "could not be analysed" in d.reason and "policy/gone was not read" in d.reason


def _spec_file(tmp_path: Path, url: str, db: Path) -> Path:
    p = tmp_path / "spec.yml"
    p.write_text(yaml.safe_dump_all([
        {"kind": "source", "spec": {"name": "aws-encryption", "path": "aws-encryption", "registry": "local",
                                    "version": "v0.1.0", "tables": ["*"], "destinations": ["duckdb"],
                                    "spec": spec(url, request_timeout=60)}},
        {"kind": "destination", "spec": {"name": "duckdb", "path": "aws-encryption-duckdb", "registry": "local",
                                         "spec": {"connection_string": str(db)}}}]))
    return p


def _rows(db: Path) -> list[tuple]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute("SELECT arn, _cq_sync_time FROM aws_kms_keys ORDER BY arn").fetchall()
    finally:
        con.close()


@pytest.mark.parametrize("sig,code", [(signal.SIGTERM, 143), (signal.SIGINT, 130)])
def test_interrupt_during_a_hanging_call_ends_within_seconds_with_the_data_intact(aws, tmp_path, sig, code):
    db = tmp_path / "posture.duckdb"
    spec_file = _spec_file(tmp_path, aws.url, db)
    env = {**os.environ, "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}
    r = subprocess.run([plugin_executable(), "sync", str(spec_file)], env=env, capture_output=True, text=True,
                       timeout=120)
    assert r.returncode == 0, r.stderr
    before = _rows(db)
    assert before

    aws.mode = "hang"  # ListKeys accepts the request and never answers (request_timeout is 60 s)
    p = subprocess.Popen([plugin_executable(), "sync", str(spec_file)], env=env, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
    try:
        assert aws.hanging.wait(60), "the sync never reached the hanging call"
        time.sleep(0.3)
        t0 = time.monotonic()
        p.send_signal(sig)
        p.wait(timeout=30)
        elapsed = time.monotonic() - t0
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
    err = p.stderr.read() if p.stderr else ""
    assert p.returncode == code, err
    assert elapsed < 3, f"took {elapsed:.1f} s to exit"
    assert "keeps its previous contents" in err and "Traceback" not in err
    assert _rows(db) == before
