"""The check runner (plugin/checks.py), its reports (plugin/report.py) and `aws-encryption check`.

Real DuckDB files in tmp_path, the fixture checks of tests/check_fixtures/ (checks/: valid checks,
one with parameters and one whose SQL fails; contract/: checks breaking the result contract;
bad_header/: a check with a misspelt header key), and the command: in-process (`run`, `run_fixtures`,
`inproc`: its exit status and output are what the process would give), and the installed console
script as a subprocess where that is the point (a pipe, a terminal; marked e2e).
CLI runs pass --no-bundled so that the checks other people add to queries/ don't change them.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any, Callable

import duckdb
import pytest

import plugin
from plugin.checks import files as ckf
from plugin.checks import runner as ck
from plugin.cli import main as cli
from plugin.checks import report
from plugin.cli import check as check_cli
from plugin.checks.files import CheckError, CheckFileError

from .grpc_client import plugin_executable
from .helpers import run_in_pty

REPO = Path(__file__).resolve().parent.parent
FIXTURES = REPO / "tests" / "check_fixtures"
CHECKS = FIXTURES / "checks"
CONTRACT = FIXTURES / "contract"
BAD_HEADER = FIXTURES / "bad_header"

A1, A2 = "111111111111", "222222222222"
KEY = "arn:aws:kms:eu-west-1:111111111111:key/"
K_OK, K_NOROT, K_DENIED, K_AWS = KEY + "aaaa", KEY + "bbbb", KEY + "cccc", KEY + "dddd"
B_LAKE, B_PRIV = "arn:aws:s3:::data-lake", "arn:aws:s3:::private"

# What the fixture checks must find in make_db(): check id -> {resource: status}.
EXPECTED = {
    "kms_rotation_off": {K_OK: "pass", K_NOROT: "fail", K_DENIED: "error", K_AWS: "skip"},
    "kms_key_too_old": {K_OK: "pass", K_NOROT: "fail", K_DENIED: "pass", K_AWS: "skip"},
    "s3_bucket_public": {B_LAKE: "fail", B_PRIV: "pass"},
    "s3_bucket_key_disabled": {B_LAKE: "fail", B_PRIV: "skip"},
    "s3_missing_table": {"": "error"},
}
SEVERITY = {"kms_rotation_off": "medium", "kms_key_too_old": "high", "s3_bucket_public": "critical",
            "s3_bucket_key_disabled": "low", "s3_missing_table": "info"}


def make_db(path: Path) -> Path:
    """A small posture database: four keys, two buckets, one denied GetKeyRotationStatus."""
    con = duckdb.connect(str(path))
    con.execute("""CREATE TABLE aws_kms_keys (arn VARCHAR, account_id VARCHAR, region VARCHAR, key_manager VARCHAR,
                   rotation_enabled BOOLEAN, creation_date TIMESTAMP, tags JSON)""")
    now = "now()::TIMESTAMP"
    con.execute(f"""INSERT INTO aws_kms_keys VALUES
        ('{K_OK}', '{A1}', 'eu-west-1', 'CUSTOMER', true, {now} - INTERVAL 10 DAY, '{{"team": "data"}}'),
        ('{K_NOROT}', '{A1}', 'eu-west-1', 'CUSTOMER', false, {now} - INTERVAL 800 DAY, NULL),
        ('{K_DENIED}', '{A1}', 'eu-west-1', 'CUSTOMER', NULL, {now} - INTERVAL 100 DAY, NULL),
        ('{K_AWS}', '{A1}', 'eu-west-1', 'AWS', NULL, {now} - INTERVAL 1000 DAY, NULL)""")
    con.execute("CREATE TABLE aws_s3_buckets (arn VARCHAR, account_id VARCHAR, region VARCHAR, name VARCHAR, "
                "policy_status JSON)")
    con.execute(f"""INSERT INTO aws_s3_buckets VALUES
        ('{B_LAKE}', '{A2}', 'us-east-1', 'data-lake', '{{"IsPublic": true}}'),
        ('{B_PRIV}', '{A2}', 'us-east-1', 'private', '{{"IsPublic": false}}')""")
    con.execute("CREATE TABLE aws_s3_bucket_encryption_rules (bucket_arn VARCHAR, account_id VARCHAR, "
                "bucket_key_enabled BOOLEAN)")
    con.execute(f"INSERT INTO aws_s3_bucket_encryption_rules VALUES ('{B_LAKE}', '{A2}', false)")
    con.execute("""CREATE TABLE aws_encryption_sync_errors (account_id VARCHAR, region VARCHAR, table_name VARCHAR,
                   service VARCHAR, operation VARCHAR, resource_arn VARCHAR, error_code VARCHAR, message VARCHAR)""")
    con.execute(f"""INSERT INTO aws_encryption_sync_errors VALUES ('{A1}', 'eu-west-1', 'aws_kms_keys', 'kms',
                    'GetKeyRotationStatus', '{K_DENIED}', 'AccessDeniedException', 'denied')""")
    make_coverage(con)
    con.close()
    return path


def make_coverage(con: duckdb.DuckDBPyConnection, unread: tuple[str, str, str, str] | None = None) -> None:
    """aws_encryption_sync_coverage of a sync that read both accounts completely, or left `unread`
    (account, region, table, operation) unread."""
    con.execute("""CREATE TABLE IF NOT EXISTS aws_encryption_sync_coverage (_cq_sync_time TIMESTAMP,
                   _cq_source_name VARCHAR, account_id VARCHAR, region VARCHAR, table_name VARCHAR, service VARCHAR,
                   operation VARCHAR, status VARCHAR, error_code VARCHAR, message VARCHAR, resources BIGINT,
                   tables VARCHAR[], kept_rows BIGINT, kept_sync_time TIMESTAMP)""")
    rows = [(A1, "", "", "sts", "AssumeRole"), (A1, "eu-west-1", "aws_kms_keys", "kms", "ListKeys"),
            (A2, "", "", "sts", "AssumeRole"), (A2, "", "aws_s3_buckets", "s3", "ListBuckets")]
    for account, region, table, service, op in rows:
        failed = unread is not None and unread == (account, region, table, op)
        con.execute("INSERT INTO aws_encryption_sync_coverage VALUES (TIMESTAMP '2026-11-29 10:00:00', "
                    "'aws-encryption', ?, ?, ?, ?, ?, ?, ?, ?, 1, [], ?, ?)",
                    [account, region, table, service, op, "error" if failed else "ok",
                     "AccessDeniedException" if failed else "", "denied" if failed else "",
                     4 if failed else None, "2026-11-28 10:00:00" if failed else None])


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return make_db(tmp_path / "posture.duckdb")


FIXTURE_ARGS = ("--no-bundled", "--queries", str(CHECKS))


def run_installed(*args: str) -> subprocess.CompletedProcess:
    """The installed `aws-encryption check ARGS`, as a subprocess with its output in a pipe."""
    return subprocess.run([plugin_executable(), "check", *args], cwd=REPO, capture_output=True, text=True,
                          timeout=120)


@pytest.fixture
def run(monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> Callable[..., subprocess.CompletedProcess]:
    """`aws-encryption check ARGS` in this process, from the repository root, its stdout not a terminal:
    exit status, stdout and stderr as a CompletedProcess (the subprocess tests cover the installed command)."""
    monkeypatch.chdir(REPO)

    def call(*args: str) -> subprocess.CompletedProcess:
        capsys.readouterr()
        code = cli.main(["check", *args])
        out, err = capsys.readouterr()
        return subprocess.CompletedProcess(["aws-encryption", "check", *args], code, out, err)
    return call


@pytest.fixture
def run_fixtures(run: Callable[..., subprocess.CompletedProcess]) -> Callable[..., subprocess.CompletedProcess]:
    """`aws-encryption check DB --no-bundled --queries CHECKS ARGS` in this process."""
    return lambda db, *args: run(str(db), *FIXTURE_ARGS, *args)


@pytest.fixture
def inproc(run_fixtures: Callable[..., subprocess.CompletedProcess]) -> Callable[..., tuple[int, str]]:
    """`run_fixtures` for a report: (exit status, stdout), and nothing on stderr."""
    def call(db: Path, *args: str) -> tuple[int, str]:
        p = run_fixtures(db, *args)
        assert p.stderr == "", p.stderr
        return p.returncode, p.stdout
    return call


def assert_usage_error(p: subprocess.CompletedProcess, *needles: str) -> str:
    assert p.returncode == 2, (p.returncode, p.stdout, p.stderr)
    assert p.stdout == ""
    lines = p.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("aws-encryption: "), p.stderr
    for n in needles:
        assert n in lines[0], (n, lines[0])
    return lines[0]


def statuses(results: list[ck.CheckResult]) -> dict[str, dict[str, str]]:
    return {r.check.id: {f.resource_arn: f.status for f in r.rows} for r in results}


# ---------------------------------------------------------------------------------------------
# Loading check files

def test_header_is_parsed_into_the_check_metadata() -> None:
    checks = {c.id: c for c in ckf.load_checks([CHECKS])}
    assert sorted(checks) == sorted(EXPECTED)
    c = checks["kms_rotation_off"]
    assert (c.title, c.severity, c.resource_type) == (
        "Customer managed KMS keys have automatic rotation enabled", "medium", "AwsKmsKey")
    assert c.description.startswith("Test fixture. Customer managed keys should rotate their key material automatically;")
    assert c.description.endswith("is an error, not a pass or a fail.")  # continuation lines joined
    assert c.remediation_cli == "aws kms enable-key-rotation --key-id <key-arn>"
    assert c.references == ["https://docs.aws.amazon.com/kms/latest/developerguide/rotate-keys.html",
                            "https://docs.aws.amazon.com/securityhub/latest/userguide/kms-controls.html"]
    assert c.compliance == [("CIS AWS Foundations 3.0.0", "3.6"), ("AWS Security Hub", "KMS.4")]
    assert c.peers == ["prowler kms_cmk_rotation_enabled", "steampipe kms_cmk_rotation_enabled"]
    assert c.params == {} and c.sql.startswith("SELECT") and "-- id:" not in c.sql
    assert c.path == CHECKS / "kms_rotation_off.sql" and not c.bundled
    assert checks["kms_key_too_old"].params == {"max_age_days": "365", "manager": "CUSTOMER"}


HEADER = """-- id: {id}
-- title: T
-- severity: high
-- description: D
-- remediation: R
"""


@pytest.mark.parametrize("name, text, key, problem", [
    ("no_severity", "-- id: no_severity\n-- title: T\n-- description: D\n-- remediation: R\nSELECT 1",
     "severity", "missing"),
    ("unknown_key", HEADER.format(id="unknown_key") + "-- sevrity: high\nSELECT 1", "sevrity", "unknown key"),
    ("wrong_stem", HEADER.format(id="other_id") + "SELECT 1", "id", "differs from the file name"),
    ("Bad-Name", HEADER.format(id="Bad-Name") + "SELECT 1", "id", "must match [a-z0-9_]+"),
    ("bad_severity", HEADER.format(id="bad_severity").replace("high", "urgent") + "SELECT 1", "severity",
     "'urgent' is not one of critical, high, medium, low, info"),
    ("twice", HEADER.format(id="twice") + "-- title: again\nSELECT 1", "title", "given twice"),
    ("empty_value", HEADER.format(id="empty_value") + "-- risk:\nSELECT 1", "risk", "empty value"),
    ("bad_reference", HEADER.format(id="bad_reference") + "-- references: docs.aws.amazon.com/kms\nSELECT 1",
     "references", "not an http(s) URL"),
    ("bad_compliance", HEADER.format(id="bad_compliance") + "-- compliance: CIS 3.6\nSELECT 1", "compliance",
     "not 'framework: control'"),
    ("bad_params", HEADER.format(id="bad_params") + "-- params: max_age_days\nSELECT 1", "params", "name=default"),
    ("undeclared_param", HEADER.format(id="undeclared_param") + "SELECT /*param:days*/3", "params",
     "does not declare it"),
    ("unused_param", HEADER.format(id="unused_param") + "-- params: days=3\nSELECT 3", "params",
     "declared but not used"),
    ("default_differs", HEADER.format(id="default_differs") + "-- params: days=3\nSELECT /*param:days*/4",
     "params", "default of days is 3 but the SQL has 4"),
    ("marker_without_default", HEADER.format(id="marker_without_default") + "-- params: days=3\nSELECT /*param:days*/ 3",
     "params", "followed directly by its default"),
])
def test_bad_headers_name_the_file_and_the_key(tmp_path: Path, name: str, text: str, key: str, problem: str) -> None:
    (tmp_path / f"{name}.sql").write_text(text)
    with pytest.raises(CheckFileError) as e:
        ckf.load_checks([tmp_path])
    msg = str(e.value)
    assert f"{name}.sql" in msg and f"'{key}'" in msg and problem in msg, msg
    assert "\n" not in msg


def test_a_file_without_header_or_sql_is_rejected(tmp_path: Path) -> None:
    (tmp_path / "plain.sql").write_text("SELECT 1\n")
    with pytest.raises(CheckFileError, match=r"plain\.sql: no metadata header"):
        ckf.load_checks([tmp_path])
    (tmp_path / "plain.sql").unlink()
    (tmp_path / "only_header.sql").write_text(HEADER.format(id="only_header"))
    with pytest.raises(CheckFileError, match=r"only_header\.sql: no SQL after the header"):
        ckf.load_checks([tmp_path])


def test_header_ends_at_the_first_other_line(tmp_path: Path) -> None:
    text = HEADER.format(id="ends") + "\n-- note: a comment in the SQL, not a header key\nSELECT 1 AS x\n"
    (tmp_path / "ends.sql").write_text(text)
    [c] = ckf.load_checks([tmp_path])
    assert c.sql.startswith("-- note: a comment in the SQL") and c.risk == ""


def test_an_id_defined_twice_and_a_missing_directory_are_errors(tmp_path: Path) -> None:
    (tmp_path / "s3_bucket_public.sql").write_text((CHECKS / "s3_bucket_public.sql").read_text())
    with pytest.raises(CheckError, match="check s3_bucket_public is defined twice"):
        ckf.load_checks([CHECKS, tmp_path])
    with pytest.raises(CheckError, match="check directory .*nowhere does not exist"):
        ckf.load_checks([tmp_path / "nowhere"])
    # a single file is accepted too
    assert [c.id for c in ckf.load_checks([CHECKS / "s3_bucket_public.sql"])] == ["s3_bucket_public"]


def test_bundled_queries_dir_prefers_the_checkout_then_the_package(tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    pkg = tmp_path / "site" / "plugin"
    pkg.mkdir(parents=True)
    monkeypatch.setattr(plugin, "__file__", str(pkg / "__init__.py"))
    assert ckf.bundled_queries_dir() == pkg / "queries"
    (tmp_path / "site" / "queries").mkdir()
    assert ckf.bundled_queries_dir() == tmp_path / "site" / "queries"


# ---------------------------------------------------------------------------------------------
# Parameters

def test_params_are_substituted_typed_and_quoted() -> None:
    [c] = ckf.load_checks([CHECKS / "kms_key_too_old.sql"])
    sql, used = ckf.render_sql(c)
    assert sql == c.sql and used == {"max_age_days": "365", "manager": "CUSTOMER"}  # defaults: runs unchanged
    sql, used = ckf.render_sql(c, {"max_age_days": "30", "manager": "O'Brien"})
    assert "/*param:" not in sql and "> 30 THEN" in sql and "<> 'O''Brien'" in sql and "'CUSTOMER'" not in sql
    assert used == {"max_age_days": "30", "manager": "O'Brien"}
    sql, used = ckf.render_sql(c, {"kms_key_too_old.max_age_days": "7", "max_age_days": "30"})
    assert used["max_age_days"] == "7"  # CHECK_ID.NAME beats NAME
    with pytest.raises(CheckError, match="expects a number"):
        ckf.render_sql(c, {"max_age_days": "1; DROP TABLE aws_kms_keys"})


def test_param_names_and_values_are_validated() -> None:
    checks = ckf.load_checks([CHECKS])
    assert ckf.parse_params(["max_age_days=30", "kms_key_too_old.manager=AWS"]) == {
        "max_age_days": "30", "kms_key_too_old.manager": "AWS"}
    for bad in ("max_age_days", "=3", "Max=3", "a.b.c=1"):
        with pytest.raises(CheckError, match="expected NAME=VALUE"):
            ckf.parse_params([bad])
    ckf.validate_params(checks, {"max_age_days": "1.5", "manager": "42"})
    with pytest.raises(CheckError, match="no check declares a parameter days"):
        ckf.validate_params(checks, {"days": "3"})
    with pytest.raises(CheckError, match="check s3_bucket_public has no parameter manager"):
        ckf.validate_params(checks, {"s3_bucket_public.manager": "x"})
    with pytest.raises(CheckError, match="kms_key_too_old expects a number for max_age_days"):
        ckf.validate_params(checks, {"max_age_days": "a year"})


def test_param_values_change_the_results(db: Path) -> None:
    [c] = ckf.load_checks([CHECKS / "kms_key_too_old.sql"])
    [default] = ck.run_checks(db, [c])
    [lenient] = ck.run_checks(db, [c], {"max_age_days": "5000"})
    [strict] = ck.run_checks(db, [c], {"max_age_days": "1"})
    [quoted] = ck.run_checks(db, [c], {"manager": "it's nobody"})
    assert default.counts() == {"pass": 2, "fail": 1, "skip": 1, "error": 0}
    assert lenient.counts()["fail"] == 0 and strict.counts()["fail"] == 3
    assert quoted.error is None and quoted.counts() == {"pass": 0, "fail": 0, "skip": 4, "error": 0}
    assert "it's nobody keys" in quoted.rows[0].reason
    assert strict.params == {"max_age_days": "1", "manager": "CUSTOMER"}


# ---------------------------------------------------------------------------------------------
# Running

def test_run_checks_returns_every_evaluated_resource(db: Path) -> None:
    checks = ckf.load_checks([CHECKS])
    results = ck.run_checks(db, checks)
    assert statuses(results) == EXPECTED
    by_id = {r.check.id: r for r in results}
    rot = by_id["kms_rotation_off"]
    assert rot.error is None and rot.elapsed_ms >= 0
    denied = next(f for f in rot.rows if f.resource_arn == K_DENIED)
    assert (denied.account_id, denied.region) == (A1, "eu-west-1")
    assert "could not be read: AccessDeniedException" in denied.reason
    assert denied.details == {"key_manager": "CUSTOMER"}  # extra columns are details
    old = next(f for f in by_id["kms_key_too_old"].rows if f.resource_arn == K_NOROT)
    assert old.details["age_days"] == 800 and isinstance(old.details["creation_date"], str)


def test_a_failing_check_is_an_error_result_and_the_others_still_run(db: Path) -> None:
    results = ck.run_checks(db, ckf.load_checks([CHECKS]))
    broken = next(r for r in results if r.check.id == "s3_missing_table")
    assert broken.error and "aws_s3_table_that_does_not_exist does not exist" in broken.error
    assert [(f.resource_arn, f.status) for f in broken.rows] == [("", "error")]
    assert broken.rows[0].reason == f"check failed: {broken.error}"
    assert all(r.error is None for r in results if r is not broken)


def test_results_outside_the_contract_are_check_errors(db: Path) -> None:
    results = {r.check.id: r for r in ck.run_checks(db, ckf.load_checks([CONTRACT]))}
    bad = results["bad_status_value"]
    assert "status 'alarm'" in bad.error and "pass, fail, skip or error" in bad.error
    assert [f.status for f in bad.rows] == ["error"]
    missing = results["missing_columns"]
    assert "no column region, reason" in missing.error


def test_the_sql_runs_unchanged_in_plain_duckdb(db: Path) -> None:
    """The check file minus its header is ordinary SQL: same rows through duckdb as through the runner."""
    results = {r.check.id: r for r in ck.run_checks(db, ckf.load_checks([CHECKS]))}
    con = duckdb.connect(str(db), read_only=True)
    con.execute("SET TimeZone = 'UTC'")
    for c in ckf.load_checks([CHECKS]):
        if c.id == "s3_missing_table":
            continue
        rows = con.execute(c.sql).fetchall()
        assert [(r[0], r[3], r[4]) for r in rows] == [
            (f.resource_arn, f.status, f.reason) for f in results[c.id].rows]
    con.close()


def test_hub_destination_layout(tmp_path: Path) -> None:
    """Every fixture check and every bundled check runs, without a check error, on a database with the
    exact DDL the hub cloudquery/duckdb destination creates (also: what `aws-encryption sync` writes)."""
    from plugin.store.duckdb_types import add_cq_columns, column_defs, create_table_sql
    from plugin.tables import all_tables

    path = tmp_path / "hub.duckdb"
    con = duckdb.connect(str(path))
    for t in all_tables():
        schema = add_cq_columns(t.arrow_schema(), "aws", dt.datetime(2025, 1, 1, tzinfo=dt.timezone.utc))
        con.execute(create_table_sql(t.name, column_defs(schema)))
    con.close()
    bundled = ckf.bundled_queries_dir()
    dirs = [CHECKS] + ([bundled] if bundled.is_dir() else [])
    checks = [c for c in ckf.load_checks(dirs) if c.id != "s3_missing_table"]
    results = ck.run_checks(path, checks)
    assert {r.check.id: r.error for r in results} == {c.id: None for c in checks}
    assert "kms_rotation_off" in {r.check.id for r in results}


def test_database_input_errors(tmp_path: Path) -> None:
    checks = ckf.load_checks([CHECKS])
    with pytest.raises(CheckError, match=r"database .*nope\.duckdb does not exist"):
        ck.run_checks(tmp_path / "nope.duckdb", checks)
    text = tmp_path / "notes.txt"
    text.write_text("not a database at all\n" * 400)
    with pytest.raises(CheckError, match="is not a DuckDB database file"):
        ck.run_checks(text, checks)
    other = tmp_path / "other.duckdb"
    duckdb.connect(str(other)).execute("CREATE TABLE aws_ec2_instances (arn VARCHAR)").close()
    with pytest.raises(CheckError, match=r"other\.duckdb holds no aws-encryption tables"):
        ck.run_checks(other, checks)


def test_a_database_with_only_one_of_our_tables_is_accepted(tmp_path: Path) -> None:
    path = tmp_path / "errors_only.duckdb"
    duckdb.connect(str(path)).execute("CREATE TABLE aws_encryption_sync_errors (resource_arn VARCHAR)").close()
    results = ck.run_checks(path, ckf.load_checks([CHECKS / "s3_bucket_public.sql"]))
    assert results[0].error and "aws_s3_buckets" in results[0].error


def test_the_database_is_opened_read_only(db: Path) -> None:
    (tmp := db.parent / "writer").mkdir()
    (tmp / "writes.sql").write_text(HEADER.format(id="writes")
                                    + "CREATE TABLE x AS SELECT 1 AS resource_arn")
    [r] = ck.run_checks(db, ckf.load_checks([tmp]))
    assert r.error and "read-only" in r.error.lower()


def test_a_locked_database_names_the_process(db: Path, run_fixtures: Any) -> None:
    holder = subprocess.Popen(
        [sys.executable, "-c", "import duckdb, sys, time; c = duckdb.connect(sys.argv[1]); "
                               "print('ready', flush=True); time.sleep(60)", str(db)],
        stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "ready"
        with pytest.raises(CheckError, match=rf"is locked by PID {holder.pid}"):
            ck.run_checks(db, ckf.load_checks([CHECKS]))
        p = run_fixtures(db)
        assert_usage_error(p, f"locked by PID {holder.pid}")
    finally:
        holder.kill()
        holder.wait()


# ---------------------------------------------------------------------------------------------
# Summaries, selection and the exit decision

def test_summarize_counts_per_check_severity_and_status(db: Path) -> None:
    s = ck.summarize(ck.run_checks(db, ckf.load_checks([CHECKS])))
    assert s["checks"] == 5 and s["checks_failed_to_run"] == 1 and s["findings"] == 13
    assert s["status"] == {"pass": 4, "fail": 4, "skip": 3, "error": 2}
    assert s["by_severity"]["medium"] == {"checks": 1, "pass": 1, "fail": 1, "skip": 1, "error": 1}
    assert s["by_severity"]["info"] == {"checks": 1, "pass": 0, "fail": 0, "skip": 0, "error": 1}
    assert s["by_check"]["s3_bucket_public"] == {"severity": "critical", "pass": 1, "fail": 1, "skip": 0,
                                                 "error": 0, "error_message": None}


def test_severity_filter_and_check_selection() -> None:
    checks = ckf.load_checks([CHECKS])
    assert ckf.parse_severity_filter("high") == {"critical", "high"}
    assert ckf.parse_severity_filter("medium,low") == {"medium", "low"}
    assert ckf.parse_severity_filter("info") == set(ckf.SEVERITIES)
    with pytest.raises(CheckError, match="unknown severity 'severe'"):
        ckf.parse_severity_filter("severe")
    ids = [c.id for c in ckf.select_checks(checks, ["s3_bucket_public,kms_rotation_off"], {"critical"})]
    assert ids == ["s3_bucket_public"]
    with pytest.raises(CheckError, match="unknown check id kms_nope .known: kms_key_too_old, kms_rotation_off"):
        ckf.select_checks(checks, ["kms_nope"])


@pytest.mark.parametrize("fail_on, fail_on_error, expected", [
    ("high", False, {("s3_bucket_public", B_LAKE), ("kms_key_too_old", K_NOROT)}),
    ("critical", False, {("s3_bucket_public", B_LAKE)}),
    ("medium", False, {("s3_bucket_public", B_LAKE), ("kms_key_too_old", K_NOROT), ("kms_rotation_off", K_NOROT)}),
    ("medium", True, {("s3_bucket_public", B_LAKE), ("kms_key_too_old", K_NOROT), ("kms_rotation_off", K_NOROT),
                      ("kms_rotation_off", K_DENIED)}),
    ("info", True, {("s3_bucket_public", B_LAKE), ("kms_key_too_old", K_NOROT), ("kms_rotation_off", K_NOROT),
                    ("kms_rotation_off", K_DENIED), ("s3_bucket_key_disabled", B_LAKE), ("s3_missing_table", "")}),
    ("none", True, set()),
])
def test_failing_findings_follow_fail_on(db: Path, fail_on: str, fail_on_error: bool, expected: set) -> None:
    results = ck.run_checks(db, ckf.load_checks([CHECKS]))
    got = {(c.id, f.resource_arn) for c, f in ck.failing(results, fail_on, fail_on_error)}
    assert got == expected


# ---------------------------------------------------------------------------------------------
# The command: exit status and one-line errors

@pytest.mark.e2e
def test_exit_1_when_a_high_or_critical_check_fails(db: Path) -> None:
    p = run_installed(str(db), *FIXTURE_ARGS)
    assert p.returncode == 1, p.stderr
    assert p.stderr == ""
    doc = json.loads(p.stdout)  # json is the default in a pipe
    assert doc["exit_status"] == 1 and doc["fail_on"] == "high"


@pytest.mark.parametrize("args, code", [
    (["--check", "kms_rotation_off"], 1),                           # its error finding: incomplete
    (["--check", "kms_rotation_off", "--allow-incomplete"], 0),     # medium fails, default --fail-on high
    (["--check", "kms_rotation_off", "--fail-on", "medium", "--allow-incomplete"], 1),
    (["--fail-on", "none"], 1),                                     # findings never fail, incompleteness does
    (["--fail-on", "none", "--allow-incomplete"], 0),
    (["--check", "s3_bucket_key_disabled", "--fail-on", "low"], 1),
    (["--check", "s3_bucket_key_disabled"], 0),                     # complete, and low is below high
    (["--check", "kms_key_too_old", "--fail-on", "critical"], 0),   # high fails, only critical counts
    (["--check", "s3_bucket_public", "--fail-on", "critical"], 1),
    (["--check", "kms_key_too_old", "--param", "max_age_days=5000"], 0),
    (["--check", "s3_missing_table", "--fail-on", "info"], 1),      # a check that failed to run: incomplete
    (["--check", "s3_missing_table", "--fail-on", "info", "--allow-incomplete"], 0),
    (["--check", "s3_missing_table", "--fail-on", "info", "--allow-incomplete", "--fail-on-error"], 1),
    (["--check", "s3_missing_table", "--fail-on", "low", "--allow-incomplete", "--fail-on-error"], 0),  # below
])
def test_exit_status(db: Path, inproc: Any, args: list[str], code: int) -> None:
    got, out = inproc(db, "--format", "json", *args)
    assert got == code, out[-2000:]
    assert json.loads(out)["exit_status"] == code


def test_unread_scope_or_unknown_coverage_fails_unless_allowed(tmp_path: Path, inproc: Any) -> None:
    path = tmp_path / "unread.duckdb"
    make_db(path)
    con = duckdb.connect(str(path))
    con.execute("DROP TABLE aws_encryption_sync_coverage")
    make_coverage(con, unread=(A1, "eu-west-1", "aws_kms_keys", "ListKeys"))
    con.close()
    code, out = inproc(path, "--check", "s3_bucket_key_disabled", "--format", "json")
    doc = json.loads(out)
    assert code == 1 and doc["verdict"].startswith("INCOMPLETE: passed")
    [u] = doc["coverage"]["unread"]
    assert (u["account_id"], u["region"], u["operation"], u["kept_rows"]) == (A1, "eu-west-1", "kms:ListKeys", 4)
    assert {a["account_id"]: a["status"] for a in doc["coverage"]["accounts"]} == {A1: "partly read", A2: "read"}
    assert inproc(path, "--check", "s3_bucket_key_disabled", "--allow-incomplete")[0] == 0
    code, table = inproc(path, "--check", "s3_bucket_key_disabled", "--format", "table")
    head = " ".join(" ".join(table.splitlines()[:8]).split())
    assert "NOT READ (1): the checks below say nothing about these" in head
    assert f"account {A1} region eu-west-1 aws_kms_keys: kms:ListKeys AccessDeniedException; " \
           "4 rows kept from 2026-11-28 10:00 UTC" in head
    con = duckdb.connect(str(path))
    con.execute("DROP TABLE aws_encryption_sync_coverage")
    con.close()
    code, out = inproc(path, "--check", "s3_bucket_key_disabled", "--format", "json")
    assert code == 1 and "no aws_encryption_sync_coverage table" in json.loads(out)["verdict"]


@pytest.mark.e2e
def test_missing_database_file(tmp_path: Path) -> None:
    assert_usage_error(run_installed(str(tmp_path / "missing.duckdb"), *FIXTURE_ARGS), "database",
                       "missing.duckdb does not exist")


def test_database_without_our_tables(tmp_path: Path, run_fixtures: Any) -> None:
    path = tmp_path / "empty.duckdb"
    duckdb.connect(str(path)).execute("CREATE TABLE t (x INT)").close()
    assert_usage_error(run_fixtures(path), "empty.duckdb holds no aws-encryption tables")


def test_not_a_duckdb_file(tmp_path: Path, run_fixtures: Any) -> None:
    path = tmp_path / "posture.csv"
    path.write_text("a,b\n" * 2000)
    assert_usage_error(run_fixtures(path), "is not a DuckDB database file")


def test_unknown_check_id(db: Path, run_fixtures: Any) -> None:
    assert_usage_error(run_fixtures(db, "--check", "s3_bucket_public", "--check", "kms_typo"),
                       "unknown check id kms_typo", "known: kms_key_too_old")


@pytest.mark.parametrize("param, needle", [
    ("max_age_days", "expected NAME=VALUE"),
    ("days=3", "no check declares a parameter days"),
    ("max_age_days=soon", "expects a number for max_age_days"),
    ("s3_bucket_public.max_age_days=3", "check s3_bucket_public has no parameter max_age_days"),
])
def test_bad_param(db: Path, run_fixtures: Any, param: str, needle: str) -> None:
    assert_usage_error(run_fixtures(db, "--param", param), needle)


def test_bad_header_is_a_usage_error(db: Path, run_fixtures: Any) -> None:
    line = assert_usage_error(run_fixtures(db, "--queries", str(BAD_HEADER)), "kms_bad_header.sql",
                              "'remedation'", "unknown key")
    assert "tests/check_fixtures/bad_header/kms_bad_header.sql" in line  # relative to the working directory


def test_bad_severity_and_queries_dir(db: Path, tmp_path: Path, run_fixtures: Any) -> None:
    assert_usage_error(run_fixtures(db, "--severity", "urgent"), "unknown severity 'urgent'")
    assert_usage_error(run_fixtures(db, "--queries", str(tmp_path / "mine")), "mine does not exist")


def test_unwritable_output(db: Path, tmp_path: Path, run_fixtures: Any) -> None:
    assert_usage_error(run_fixtures(db, "--output", str(tmp_path / "no" / "such" / "dir" / "r.json")),
                       "--output", "r.json", "does not exist or is not writable")


def test_no_checks_at_all_is_fine_and_said(db: Path, run: Any) -> None:
    p = run(str(db), "--no-bundled", "--format", "table")
    assert p.returncode == 0, p.stderr
    assert "0 checks loaded" in p.stdout and "passed" in p.stdout


def test_bundled_checks_are_loaded_from_the_bundled_dir(db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    empty = tmp_path / "queries"
    empty.mkdir()
    monkeypatch.setattr(check_cli, "bundled_queries_dir", lambda: empty)
    assert cli.main(["check", str(db), "--format", "json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["checks"] == [] and doc["notes"] == [f"no bundled checks: {empty} is empty",
                                                     "0 checks loaded: nothing to run"]
    (empty / "s3_bucket_public.sql").write_text((CHECKS / "s3_bucket_public.sql").read_text())
    monkeypatch.setattr(ckf, "bundled_queries_dir", lambda: empty)  # load_checks marks it bundled
    assert cli.main(["check", str(db), "--format", "sarif"]) == 1
    sarif = json.loads(capsys.readouterr().out)
    [res] = sarif["runs"][0]["results"]
    assert res["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "queries/s3_bucket_public.sql"


# ---------------------------------------------------------------------------------------------
# Formats

def test_json_document(db: Path, inproc: Any) -> None:
    code, out = inproc(db, "--format", "json", "--fail-on", "none", "--allow-incomplete")
    assert code == 0
    doc = json.loads(out)
    assert doc["tool"] == {"name": "aws-encryption", "version": plugin.__version__}
    assert doc["database"] == str(db)
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", doc["generated_at"])
    assert doc["summary"]["status"] == {"pass": 4, "fail": 4, "skip": 3, "error": 2}
    got = {c["id"]: {f["resource_arn"]: f["status"] for f in c["findings"]} for c in doc["checks"]}
    assert got == EXPECTED
    rot = next(c for c in doc["checks"] if c["id"] == "kms_rotation_off")
    assert rot["compliance"] == [{"framework": "CIS AWS Foundations 3.0.0", "control": "3.6"},
                                 {"framework": "AWS Security Hub", "control": "KMS.4"}]
    assert rot["status_counts"] == {"pass": 1, "fail": 1, "skip": 1, "error": 1} and rot["error"] is None
    assert rot["path"] == "tests/check_fixtures/checks/kms_rotation_off.sql"
    old = next(c for c in doc["checks"] if c["id"] == "kms_key_too_old")
    assert old["params"] == {"max_age_days": "365", "manager": "CUSTOMER"}
    broken = next(c for c in doc["checks"] if c["id"] == "s3_missing_table")
    assert "does not exist" in broken["error"]


def test_only_failed_keeps_fail_and_error_findings_and_all_counts(db: Path, inproc: Any) -> None:
    doc = json.loads(inproc(db, "--format", "json", "--only-failed")[1])
    got = {c["id"]: {f["resource_arn"]: f["status"] for f in c["findings"]} for c in doc["checks"]}
    assert got == {cid: {a: s for a, s in m.items() if s in ("fail", "error")} for cid, m in EXPECTED.items()}
    assert doc["summary"]["status"] == {"pass": 4, "fail": 4, "skip": 3, "error": 2}
    out = inproc(db, "--format", "csv", "--only-failed")[1]
    assert {r["status"] for r in csv.DictReader(io.StringIO(out))} == {"fail", "error"}
    assert len(json.loads(inproc(db, "--format", "ocsf", "--only-failed")[1])) == 6
    table = inproc(db, "--format", "table", "--only-failed", "--check", "kms_key_too_old,kms_rotation_off",
                   "--param", "max_age_days=5000")[1]
    assert "kms_rotation_off" in table and not re.search(r"^kms_key_too_old\s", table, re.M)  # no fail or error


@pytest.mark.parametrize("severity, ids", [
    ("high", {"s3_bucket_public", "kms_key_too_old"}),
    ("medium,info", {"kms_rotation_off", "s3_missing_table"}),
    ("critical", {"s3_bucket_public"}),
])
def test_severity_option(db: Path, inproc: Any, severity: str, ids: set[str]) -> None:
    doc = json.loads(inproc(db, "--format", "json", "--severity", severity)[1])
    assert {c["id"] for c in doc["checks"]} == ids


def _triples_json(doc: dict[str, Any]) -> set[tuple[str, str, str, str]]:
    return {(c["id"], f["resource_arn"], f["status"], f["reason"]) for c in doc["checks"] for f in c["findings"]}


def test_json_csv_and_ocsf_hold_the_same_findings(db: Path, inproc: Any) -> None:
    from_json = _triples_json(json.loads(inproc(db, "--format", "json")[1]))
    rows = list(csv.DictReader(io.StringIO(inproc(db, "--format", "csv")[1])))
    assert list(rows[0]) == ["check_id", "severity", "title", "resource_arn", "account_id", "region", "status",
                             "reason"]
    assert all(r["severity"] == SEVERITY[r["check_id"]] for r in rows)
    from_csv = {(r["check_id"], r["resource_arn"], r["status"], r["reason"]) for r in rows}
    ocsf = json.loads(inproc(db, "--format", "ocsf")[1])
    back = {"Pass": "pass", "Fail": "fail", "Warning": "error", "Not Applicable": "skip"}
    from_ocsf = {(o["unmapped"]["check_id"], o.get("resource", {}).get("uid", ""), back[o["compliance"]["status"]],
                  o["message"]) for o in ocsf}
    assert len(rows) == len(ocsf) == 13
    assert from_json == from_csv == from_ocsf and len(from_json) == 13


def test_ocsf_compliance_findings(db: Path, inproc: Any) -> None:
    ocsf = json.loads(inproc(db, "--format", "ocsf")[1])
    sev = {"info": (1, "Informational"), "low": (2, "Low"), "medium": (3, "Medium"), "high": (4, "High"),
           "critical": (5, "Critical")}
    status = {"pass": 1, "fail": 3, "error": 2, "skip": 99}
    uids = set()
    for o in ocsf:
        cid = o["unmapped"]["check_id"]
        assert (o["class_uid"], o["category_uid"], o["activity_id"], o["type_uid"]) == (2003, 2, 1, 200301)
        assert o["type_uid"] == o["class_uid"] * 100 + o["activity_id"]
        assert (o["severity_id"], o["severity"]) == sev[SEVERITY[cid]]
        assert o["metadata"]["version"] == "1.1.0" and o["metadata"]["product"]["name"] == "aws-encryption"
        assert o["metadata"]["product"]["version"] == plugin.__version__
        assert isinstance(o["time"], int) and o["time"] > 1_600_000_000_000  # epoch milliseconds
        assert o["finding_info"]["title"] and re.fullmatch(r"[0-9a-f]{64}", o["finding_info"]["uid"])
        uids.add(o["finding_info"]["uid"])
        assert o["cloud"]["provider"] == "AWS"
        assert o["compliance"]["standards"] and o["compliance"]["status_id"] == status[o["unmapped"]["check_status"]]
        assert o["remediation"]["desc"]
        if o.get("resource"):
            r = o["resource"]
            assert r["uid"].startswith("arn:aws:") and r["cloud_partition"] == "aws"
            assert r["owner"]["account"]["uid"] == o["cloud"]["account"]["uid"] in (A1, A2)
            assert r["region"] == o["cloud"]["region"]
        else:
            assert cid == "s3_missing_table"
    assert len(uids) == len(ocsf)
    rot = next(o for o in ocsf if o["unmapped"]["check_id"] == "kms_rotation_off")
    assert rot["compliance"]["requirements"] == ["CIS AWS Foundations 3.0.0: 3.6", "AWS Security Hub: KMS.4"]
    assert rot["resource"]["type"] == "AwsKmsKey"


def test_sarif_is_structurally_valid(db: Path, inproc: Any) -> None:
    code, out = inproc(db, "--format", "sarif")
    assert code == 1
    doc = json.loads(out)
    assert doc["$schema"] == "https://json.schemastore.org/sarif-2.1.0.json" and doc["version"] == "2.1.0"
    [run_] = doc["runs"]
    driver = run_["tool"]["driver"]
    assert driver["name"] == "aws-encryption" and driver["version"] == plugin.__version__
    rules = driver["rules"]
    assert [r["id"] for r in rules] == sorted(EXPECTED) and len({r["id"] for r in rules}) == len(rules)
    for r in rules:
        assert r["shortDescription"]["text"] and r["fullDescription"]["text"] and r["help"]["text"]
        assert r["properties"]["severity"] == SEVERITY[r["id"]] and "security" in r["properties"]["tags"]
        assert r["defaultConfiguration"]["level"] in ("error", "warning", "note")
    rot = next(r for r in rules if r["id"] == "kms_rotation_off")
    assert rot["helpUri"] == "https://docs.aws.amazon.com/kms/latest/developerguide/rotate-keys.html"
    assert "AWS Security Hub: KMS.4" in rot["properties"]["tags"]
    assert rot["help"]["text"].startswith("Enable automatic rotation on the key.")
    assert "aws kms enable-key-rotation" in rot["help"]["text"]
    level = {"critical": "error", "high": "error", "medium": "warning", "low": "note", "info": "note"}
    got = set()
    for res in run_["results"]:
        rule = rules[res["ruleIndex"]]
        assert res["ruleId"] == rule["id"]
        assert res["message"]["text"]
        if res["kind"] == "fail":
            assert res["level"] == level[SEVERITY[res["ruleId"]]]
        else:
            assert (res["kind"], res["level"]) == ("review", "none")
        [loc] = res["locations"]
        assert loc["physicalLocation"]["artifactLocation"]["uri"] == f"tests/check_fixtures/checks/{res['ruleId']}.sql"
        assert loc["physicalLocation"]["region"]["startLine"] == 1
        [logical] = loc["logicalLocations"]
        assert logical["kind"] == "resource" and logical["fullyQualifiedName"].startswith("arn:aws:")
        assert re.fullmatch(r"[0-9a-f]{64}", res["partialFingerprints"]["awsEncryptionFinding/v1"])
        got.add((res["ruleId"], logical["fullyQualifiedName"], res["kind"]))
    assert got == {(c, a, "fail" if s == "fail" else "review") for c, m in EXPECTED.items() for a, s in m.items()
                   if s in ("fail", "error") and c != "s3_missing_table"}
    fps = [r["partialFingerprints"]["awsEncryptionFinding/v1"] for r in run_["results"]]
    assert len(set(fps)) == len(fps)
    [inv] = run_["invocations"]
    assert inv["executionSuccessful"] is False
    [note] = inv["toolExecutionNotifications"]
    assert note["level"] == "error" and note["associatedRule"]["id"] == "s3_missing_table"
    assert rules[note["associatedRule"]["index"]]["id"] == "s3_missing_table"
    assert "does not exist" in note["message"]["text"]
    # fingerprints are stable across runs (and databases)
    again = json.loads(inproc(db, "--format", "sarif")[1])["runs"][0]["results"]
    assert [r["partialFingerprints"] for r in again] == [r["partialFingerprints"] for r in run_["results"]]


def test_markdown_report(db: Path, inproc: Any) -> None:
    code, md = inproc(db, "--format", "markdown")
    assert code == 1
    assert md.startswith("## aws-encryption check:") and "**FAILED: 2 failing findings at or above high" in md
    assert "| critical | 1 | 1 | 1 | 0 | 0 |" in md
    assert "| `kms_rotation_off` | medium | Customer managed KMS keys have automatic rotation enabled | 1 | 1 | 1 | 1 |" in md
    assert "### Failures (4)" in md and "### Errors (2)" in md
    assert f"| `s3_bucket_public` | critical | {B_LAKE} | {A2} | us-east-1 | Bucket data-lake in account" in md
    for line in md.splitlines():
        if line.startswith("|"):
            assert line.count("|") - line.count("\\|") in (7, 8, 9), line


def test_table_report_is_readable_in_100_columns(db: Path, run_fixtures: Any) -> None:
    p = run_fixtures(db, "--format", "table")
    assert p.returncode == 1
    out = p.stdout
    assert "\x1b[" not in out  # no colours in a pipe
    assert max(len(line) for line in out.splitlines()) <= 100
    assert re.search(r"^critical\s+1\s+1\s+1\s+0\s+0$", out, re.M)
    assert re.search(r"^kms_rotation_off\s+medium\s+1\s+1\s+1\s+1$", out, re.M)
    assert "Failures (4)" in out and "Errors (2)" in out
    assert f"{K_NOROT}  account {A1}  region eu-west-1" in out
    assert f"Key {K_NOROT} in account {A1} has automatic rotation disabled." in " ".join(out.split())
    assert " ".join(out.split()).endswith(
        "FAILED: 2 failing findings at or above high; incomplete: 1 check failed to run (s3_missing_table); "
        "1 error finding (inputs the sync could not read) (exit 1)")


def _tty_run(db: Path, env: dict[str, str]) -> str:
    code, out, err = run_in_pty([plugin_executable(), "check", str(db), *FIXTURE_ARGS], REPO,
                                {k: v for k, v in {**os.environ, **env}.items() if v is not None})
    assert code == 1, err
    return out


@pytest.mark.e2e
def test_terminal_gets_a_table_with_colours_unless_no_color(db: Path) -> None:
    env = {k: None for k in ("NO_COLOR",)}
    coloured = _tty_run(db, env)  # type: ignore[arg-type]
    assert "Failures (4)" in coloured and "\x1b[31m" in coloured
    plain = _tty_run(db, {"NO_COLOR": "1"})
    assert "Failures (4)" in plain and "\x1b[" not in plain


def test_output_file(db: Path, tmp_path: Path, run_fixtures: Any) -> None:
    out = tmp_path / "report.sarif"
    p = run_fixtures(db, "--output", str(out))
    assert p.returncode == 1 and p.stdout == "" and p.stderr == ""
    assert json.loads(out.read_text())["version"] == "2.1.0"  # format from the extension
    out2 = tmp_path / "report.txt"
    p = run_fixtures(db, "--output", str(out2), "--format", "csv", "--fail-on", "none", "--allow-incomplete")
    assert p.returncode == 0 and p.stdout == ""
    assert out2.read_text().startswith("check_id,severity,title,")
    out3 = tmp_path / "summary.md"
    run_fixtures(db, "--output", str(out3))
    assert out3.read_text().startswith("## aws-encryption check:")
    umask = os.umask(0)
    os.umask(umask)
    assert out3.stat().st_mode & 0o777 == 0o666 & ~umask  # an ordinary file, not mkstemp's 0600
    assert sorted(x.name for x in tmp_path.iterdir() if x.name.startswith(".")) == []  # no temp files left


def test_format_for_output_extensions() -> None:
    assert report.format_for(None, True) == "table" and report.format_for(None, False) == "json"
    assert [report.format_for(n, False) for n in ("a.sarif", "a.sarif.json", "a.ocsf.json", "a.csv", "a.md",
                                                  "a.markdown", "a.txt", "a.json", "a.out")] == [
        "sarif", "sarif", "ocsf", "csv", "markdown", "markdown", "table", "json", "json"]
