"""Nothing unread ever passes: every account, region and listing the sync could not read is an `error`
finding, its earlier rows are kept (not refreshed), and `check` / `sync` exit codes say so.

Each scenario runs the command line in-process (plugin.cli.main: the same code as the console
script) against moto's server, with faults injected at the emulator's edge as AWS would answer.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any, Callable, Iterator

import duckdb
import pytest
import yaml

from plugin.cli import main as cli
from plugin.demo.world import AUDIT_ROLE, COMPUTE, DATA, World

from .check_world import CHECKS


def _no_credentials(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No credentials anywhere botocore looks: environment, files, instance metadata."""
    for k in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.delenv(k, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-credentials"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-config"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")


def _write_spec(tmp_path: Path, spec: dict[str, Any], db: Path, name: str = "spec.yml") -> Path:
    p = tmp_path / name
    docs = [{"kind": "source", "spec": {"name": "aws-encryption", "path": "aws-encryption", "registry": "local",
                                        "version": "v0.1.0", "tables": ["*"], "destinations": ["duckdb"],
                                        "spec": spec}},
            {"kind": "destination", "spec": {"name": "duckdb", "path": "aws-encryption-duckdb", "registry": "local",
                                             "version": "v0.1.0", "spec": {"connection_string": str(db)}}}]
    p.write_text(yaml.safe_dump_all(docs, sort_keys=False))
    return p


def _main(capsys: pytest.CaptureFixture, *argv: str) -> tuple[int, str, str]:
    capsys.readouterr()
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def _check(capsys: pytest.CaptureFixture, db: Path, *extra: str) -> tuple[int, dict[str, Any]]:
    code, out, _ = _main(capsys, "check", str(db), "--format", "json", *extra)
    return code, json.loads(out)


def _findings(doc: dict[str, Any], check_id: str) -> list[dict[str, Any]]:
    return next(c["findings"] for c in doc["checks"] if c["id"] == check_id)


def _count(db: Path, sql: str, *params: Any) -> Any:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(sql, list(params)).fetchone()[0]
    finally:
        con.close()


@pytest.fixture
def fault(world: World) -> Iterator[Callable[[Callable[..., Any]], None]]:
    added: list[Any] = []

    def add(f: Callable[..., Any]) -> None:
        world.server.faults.append(f)
        added.append(f)

    yield add
    for f in added:
        world.server.faults.remove(f)


def _deny_assume_role(account: str) -> Callable[..., Any]:
    def f(service: str, op: str, body: bytes) -> Any:
        text = body.decode(errors="replace")
        if service == "sts" and op == "AssumeRole" and account in text and AUDIT_ROLE in text:
            return 403, "AccessDenied"
        return None
    return f


# ---------------------------------------------------------------------------------------------
# Scenarios

def test_no_credentials_at_all_fails_sync_and_check_and_names_each_account(scanner_env, tmp_path, capsys,
                                                                         monkeypatch):
    w = scanner_env
    _no_credentials(monkeypatch, tmp_path)
    db = tmp_path / "posture.duckdb"
    spec = _write_spec(tmp_path, w.spec(accounts=[DATA, COMPUTE]), db)

    code, out, err = _main(capsys, "sync", str(spec))
    assert code == 1
    assert "no account could be read" in out and DATA in out and COMPUTE in out

    code, doc = _check(capsys, db)
    assert code == 1 and doc["exit_status"] == 1
    unread = {(u["account_id"], u["operation"], u["error_code"]) for u in doc["coverage"]["unread"]}
    assert unread == {(DATA, "config:LoadCredentials", "NoCredentials"),
                      (COMPUTE, "config:LoadCredentials", "NoCredentials")}
    errors = [f for f in _findings(doc, "sync_coverage") if f["status"] == "error"]
    assert {f["account_id"] for f in errors} == {DATA, COMPUTE}
    assert all("could not be read" in f["reason"] and "NoCredentials" in f["reason"] for f in errors)
    assert doc["verdict"].startswith("INCOMPLETE")
    # the options that used to let it pass do not
    assert _check(capsys, db, "--fail-on-error", "--fail-on", "low")[0] == 1
    # opting out is explicit
    assert _check(capsys, db, "--allow-incomplete")[0] == 0

    # sync --check: same exit, and the table report says so on its first screen
    code, out, _ = _main(capsys, "sync", str(spec), "--check", "--format", "table")
    assert code == 1
    first_screen = "\n".join(out.splitlines()[:25])
    assert "NOT READ (2)" in first_screen and DATA in first_screen and COMPUTE in first_screen


def test_default_credentials_missing_with_no_accounts_listed(scanner_env, tmp_path, capsys, monkeypatch):
    w = scanner_env
    _no_credentials(monkeypatch, tmp_path)
    db = tmp_path / "posture.duckdb"
    spec = w.spec()
    spec.pop("accounts")
    assert _main(capsys, "sync", str(_write_spec(tmp_path, spec, db)))[0] == 1
    code, doc = _check(capsys, db)
    assert code == 1
    [f] = [f for f in _findings(doc, "sync_coverage") if f["status"] == "error"]
    assert f["resource_arn"] == "default-credentials/config:LoadCredentials"
    assert "of the default credentials could not be read" in f["reason"]


def test_assume_role_failing_for_one_account_keeps_its_rows_and_its_failing_finding(scanner_env, tmp_path, capsys,
                                                                                    fault):
    w = scanner_env
    db = tmp_path / "posture.duckdb"
    spec = _write_spec(tmp_path, w.spec(accounts=[DATA, COMPUTE]), db)
    assert _main(capsys, "sync", str(spec))[0] == 0
    code, doc = _check(capsys, db)
    lake = f"arn:aws:s3:::data-lake-{DATA}"
    assert code == 1
    assert {f["resource_arn"]: f["status"] for f in _findings(doc, "s3_aws_managed_key_cross_account")}[lake] == "fail"
    before = {t: _count(db, f"SELECT count(*) FROM {t} WHERE account_id = ?", DATA)
              for t in ("aws_kms_keys", "aws_s3_buckets", "aws_kms_key_policies", "aws_s3_bucket_permissions")}
    first_sync = _count(db, "SELECT max(_cq_sync_time) FROM aws_kms_keys")

    fault(_deny_assume_role(DATA))
    code, out, _ = _main(capsys, "sync", str(spec))
    assert code == 0  # COMPUTE was read
    assert f"account {DATA}" in out and "sts:AssumeRole: AccessDenied" in out and "NOT READ (1 scope" in out
    after = {t: _count(db, f"SELECT count(*) FROM {t} WHERE account_id = ?", DATA) for t in before}
    assert after == before and all(before.values())
    # kept, not refreshed: they carry the first sync's time
    assert _count(db, "SELECT max(_cq_sync_time) FROM aws_kms_keys WHERE account_id = ?", DATA) == first_sync
    assert _count(db, "SELECT max(_cq_sync_time) FROM aws_kms_keys WHERE account_id = ?", COMPUTE) > first_sync
    kept = _count(db, "SELECT kept_rows FROM aws_encryption_sync_coverage WHERE account_id = ? AND status = 'error'",
                  DATA)
    assert kept >= sum(before.values())

    code, doc = _check(capsys, db)
    assert code == 1
    assert {f["resource_arn"]: f["status"] for f in _findings(doc, "s3_aws_managed_key_cross_account")}[lake] == "fail"
    [err] = [f for f in _findings(doc, "sync_coverage") if f["status"] == "error"]
    assert err["resource_arn"] == f"{DATA}/sts:AssumeRole" and err["account_id"] == DATA
    assert "AccessDenied" in err["reason"] and "kept, not refreshed" in err["reason"]
    accounts = {a["account_id"]: a for a in doc["coverage"]["accounts"]}
    assert accounts[DATA]["status"] == "not read" and accounts[COMPUTE]["status"] == "read"
    assert accounts[DATA]["oldest_data"] == first_sync.strftime("%Y-%m-%dT%H:%M:%SZ")
    passes = {f["account_id"] for f in _findings(doc, "sync_coverage") if f["status"] == "pass"}
    assert passes == {COMPUTE}
    # the failing finding still fails the run even when incompleteness is allowed
    assert _check(capsys, db, "--allow-incomplete")[0] == 1


def test_list_keys_denied_in_one_region(scanner_env, tmp_path, capsys, fault):
    w = scanner_env
    db = tmp_path / "posture.duckdb"
    spec = _write_spec(tmp_path, w.spec(accounts=[DATA]), db)
    assert _main(capsys, "sync", str(spec))[0] == 0
    eu_keys = _count(db, "SELECT count(*) FROM aws_kms_keys WHERE region = 'eu-west-1'")
    us_keys = _count(db, "SELECT count(*) FROM aws_kms_keys WHERE region = 'us-east-1'")
    assert eu_keys and us_keys

    fault(lambda service, op, body, region: (400, "AccessDeniedException")
          if (service, op, region) == ("kms", "ListKeys", "eu-west-1") else None)
    assert _main(capsys, "sync", str(spec))[0] == 0
    assert _count(db, "SELECT count(*) FROM aws_kms_keys WHERE region = 'eu-west-1'") == eu_keys
    assert _count(db, "SELECT count(*) FROM aws_kms_keys WHERE region = 'us-east-1'") == us_keys

    code, doc = _check(capsys, db, "--fail-on", "none")
    assert code == 1
    [u] = doc["coverage"]["unread"]
    assert (u["account_id"], u["region"], u["table_name"], u["operation"], u["error_code"]) == (
        DATA, "eu-west-1", "aws_kms_keys", "kms:ListKeys", "AccessDeniedException")
    assert u["kept_rows"] >= eu_keys
    [f] = [f for f in _findings(doc, "sync_coverage") if f["status"] == "error"]
    assert f["resource_arn"] == f"{DATA}/eu-west-1/kms:ListKeys" and f["region"] == "eu-west-1"
    assert _check(capsys, db, "--fail-on", "none", "--allow-incomplete")[0] == 0


def test_list_buckets_denied(scanner_env, tmp_path, capsys, fault):
    w = scanner_env
    db = tmp_path / "posture.duckdb"
    spec = _write_spec(tmp_path, w.spec(accounts=[DATA]), db)
    assert _main(capsys, "sync", str(spec))[0] == 0
    buckets = _count(db, "SELECT count(*) FROM aws_s3_buckets")
    assert buckets

    fault(lambda service, op, body: (403, "AccessDenied") if (service, op) == ("s3", "ListBuckets") else None)
    assert _main(capsys, "sync", str(spec))[0] == 0
    assert _count(db, "SELECT count(*) FROM aws_s3_buckets") == buckets
    code, doc = _check(capsys, db, "--fail-on", "none")
    assert code == 1
    [u] = doc["coverage"]["unread"]
    assert (u["account_id"], u["region"], u["operation"], u["error_code"]) == (DATA, "", "s3:ListBuckets",
                                                                             "AccessDenied")
    # the kept buckets still carry their findings
    lake = f"arn:aws:s3:::data-lake-{DATA}"
    assert {f["resource_arn"]: f["status"] for f in _findings(doc, "s3_aws_managed_key_cross_account")}[lake] == "fail"


def test_get_bucket_policy_denied_is_error_never_pass(scanner_env, check_cases, tmp_path, capsys, fault):
    w = scanner_env
    db = tmp_path / "posture.duckdb"
    spec = _write_spec(tmp_path, w.spec(accounts=[CHECKS]), db)
    bucket = check_cases.buckets["cmk-shared-nokey"]
    name = bucket.split(":::")[1]
    assert _main(capsys, "sync", str(spec))[0] == 0
    code, doc = _check(capsys, db)
    status = {f["resource_arn"]: f for f in _findings(doc, "s3_key_unusable_by_bucket_principals")}
    assert status[bucket]["status"] == "fail"

    fault(lambda service, op, body: (403, "AccessDenied")
          if (service, op) == ("s3", "GetBucketPolicy") and name.encode() in body else None)
    assert _main(capsys, "sync", str(spec))[0] == 0
    code, doc = _check(capsys, db, "--fail-on", "none")
    found = {f["resource_arn"]: f for f in _findings(doc, "s3_key_unusable_by_bucket_principals")}[bucket]
    assert found["status"] == "error"
    assert "bucket policy or ACL could not be read (AccessDenied)" in found["reason"]
    assert code == 1  # an error finding makes the run incomplete
    assert any("error finding" in r for r in doc["incomplete"])
    assert _check(capsys, db, "--fail-on", "none", "--allow-incomplete")[0] == 0


def test_checks_whose_tables_are_missing_fail_the_run(scanner_env, tmp_path, capsys):
    w = scanner_env
    db = tmp_path / "posture.duckdb"
    spec = _write_spec(tmp_path, w.spec(accounts=[DATA]), db)
    assert _main(capsys, "sync", str(spec), "--tables", "aws_kms_keys")[0] == 0
    code, doc = _check(capsys, db, "--fail-on", "none")
    assert code == 1
    assert doc["summary"]["checks_failed_to_run"] > 0
    assert any("failed to run" in r for r in doc["incomplete"])
    assert "INCOMPLETE" in doc["verdict"]


def test_region_typo_is_a_spec_error(scanner_env, tmp_path, capsys):
    w = scanner_env
    db = tmp_path / "posture.duckdb"
    spec = _write_spec(tmp_path, w.spec(accounts=[DATA], regions=["us-eest-1"]), db)
    code, _, err = _main(capsys, "sync", str(spec))
    assert code == 2 and "us-east-1" in err and not db.exists()


def test_sync_check_validates_its_options_before_any_aws_call(scanner_env, tmp_path, capsys):
    w = scanner_env
    db = tmp_path / "posture.duckdb"
    spec = _write_spec(tmp_path, w.spec(accounts=[DATA]), db)
    mark = w.server.mark()
    for bad in (["--fail-on", "bogus"], ["--format", "bogus"], ["--param", "nope=1"], ["--check-id", "nope"],
                ["--severity", "urgent"], ["--queries", str(tmp_path / "no-such-dir")],
                ["--output", str(tmp_path / "no-such-dir" / "r.json")]):
        try:
            code = _main(capsys, "sync", str(spec), "--check", *bad)[0]
        except SystemExit as e:  # argparse's own choices
            code = e.code
        assert code == 2, bad
    assert not w.server.since(mark) and not db.exists()


@pytest.fixture(scope="module")
def unread_db(world: World, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A database whose latest sync could not assume DATA's role."""
    tmp = tmp_path_factory.mktemp("unread")
    db = tmp / "posture.duckdb"
    spec = _write_spec(tmp, world.spec(accounts=[DATA, COMPUTE]), db)
    deny = _deny_assume_role(DATA)
    world.server.faults.append(deny)
    try:
        with pytest.MonkeyPatch.context() as mp:
            for k, v in world.env.items():
                mp.setenv(k, v)
            assert cli.main(["sync", str(spec)]) == 0
    finally:
        world.server.faults.remove(deny)
    yield db


@pytest.mark.parametrize("fmt", ["table", "json", "sarif", "ocsf", "csv", "markdown"])
def test_every_format_names_the_unread_scope(unread_db, capsys, fmt):
    code, out, _ = _main(capsys, "check", str(unread_db), "--format", fmt)
    assert code == 1
    assert f"{DATA}/sts:AssumeRole" in out or (fmt == "table" and f"account {DATA}: sts:AssumeRole" in out)
    assert "AccessDenied" in out
    if fmt == "sarif":
        notes = json.loads(out)["runs"][0]["invocations"][0]["toolExecutionNotifications"]
        assert any(DATA in n["message"]["text"] and n["level"] == "error" for n in notes)
    if fmt == "ocsf":
        found = [f for f in json.loads(out) if f["unmapped"]["check_id"] == "sync_coverage"
                 and f["unmapped"]["check_status"] == "error"]
        assert found and found[0]["cloud"]["account"]["uid"] == DATA


def test_cloudquery_cli_counts_an_unreadable_account_as_an_error(world, tmp_path):
    """The real CLI (registry: local) counts a plugin's error-level log lines in its summary."""
    from .cli import run_cli, write_specs
    from plugin.demo.world import DENIED
    spec = write_specs(tmp_path / "spec.yml", world.spec(accounts=[DATA, DENIED]))
    r = run_cli(["sync", str(spec), "--log-level", "info"], tmp_path, world.env)
    assert r.returncode == 0, r.stderr + r.stdout
    out = r.stdout + r.stderr
    m = re.search(r"Errors: (\d+)", out)
    assert m and int(m.group(1)) >= 1, out
    log = (tmp_path / "cloudquery.log").read_text()
    line = next(x for x in log.splitlines() if "table resolver finished with error" in x and DENIED in x)
    assert "sts:AssumeRole" in line and "AccessDenied" in line
    # and the row is in the database the CLI's destination wrote
    assert _count(tmp_path / "posture.duckdb", "SELECT count(*) FROM aws_encryption_sync_coverage WHERE "
                  "account_id = ? AND status = 'error'", DENIED) == 1


def test_a_missing_profile_is_an_unread_account(scanner_env, tmp_path, capsys, monkeypatch):
    """The README's real-account flow with a profile that does not exist."""
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "credentials"))
    db = tmp_path / "posture.duckdb"
    spec = scanner_env.spec(accounts=[])
    spec["accounts"] = [{"id": DATA, "local_profile": "no-such-profile"}]
    code, out, _ = _main(capsys, "sync", str(_write_spec(tmp_path, spec, db)))
    assert code == 1 and "no account could be read" in out
    code, doc = _check(capsys, db)
    [u] = doc["coverage"]["unread"]
    assert code == 1 and (u["account_id"], u["operation"]) == (DATA, "config:LoadProfile")
