"""Nothing read from AWS can be turned against the reader, and `sql`/`check` touch no other file.

Hostile text (terminal escapes, bidi overrides, spreadsheet formulas, markdown links and images,
HTML, table breaks) sits in a posture database built here with DuckDB, and a custom check echoes it
as failing findings. The reports and `sql` output must show it inert. Then `sql` and custom checks
try to write, attach, read and install: each attempt is a one-line error (exit 2) or a check error,
and no file appears or changes.
"""

from __future__ import annotations

import csv
import hashlib
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

from plugin.cli import main as cli
from plugin.checks import report
from plugin.checks import files as ckf
from plugin.checks import runner as ck
from plugin.checks.report.safe_text import for_csv, for_markdown, for_terminal

from .helpers import run_in_pty

REPO = Path(__file__).resolve().parent.parent

TERMINAL = "\x1b[2J\x1b[H\x1b[1;32mpassed\x1b[0m\x1b]0;pwned\x07\x1b[8m"
BIDI = "key\u202eflow\u2066x\u2069"
FORMULA = "=cmd|' /C calc'!A0"
LINKS = "![t](https://evil.example/p.png) [Fix](https://evil.example)"
HTML = "<img src=x onerror=alert(1)>"
PIPE = "a|b"
C1 = "\x9b2J\r\x08overwrite"
ROW_BREAK = 'ok\r=HYPERLINK("https://evil.example","x")'  # a bare CR could start a new CSV row
HOSTILE = [TERMINAL, BIDI, FORMULA, LINKS, HTML, PIPE, C1, ROW_BREAK]
FINDINGS = len(HOSTILE) + 1  # make_db adds a row with hostile ARN, account and region

# What must never reach a terminal from the data: ESC, BEL, CR, BS, other C0 but \t and \n, DEL, C1, bidi.
UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")
OUR_COLOURS = re.compile(r"\x1b\[(?:1;31|31|32|2|33|36|1|0)m")  # report._ANSI plus the reset

CHECK = """-- id: hostile_echo
-- title: Keys say [Fix](https://evil.example) <b>now</b>
-- severity: high
-- description: Echoes every key's description as a failing finding.
-- remediation: Nothing to remediate.
SELECT arn AS resource_arn, account_id, region, 'fail' AS status, description AS reason
FROM aws_kms_keys ORDER BY arn
"""


def make_db(path: Path) -> Path:
    """aws_kms_keys whose text columns carry the hostile strings (description, ARN, account, region)."""
    con = duckdb.connect(str(path))
    con.execute("CREATE TABLE aws_kms_keys (arn VARCHAR, account_id VARCHAR, region VARCHAR, description VARCHAR)")
    rows = [(f"arn:aws:kms:us-east-1:111111111111:key/k{i}", "111111111111", "us-east-1", h)
            for i, h in enumerate(HOSTILE)]
    rows.append((f"arn:aws:kms:us-east-1:111111111111:key/{TERMINAL}", FORMULA, f"us-east-1{BIDI}", "plain"))
    con.executemany("INSERT INTO aws_kms_keys VALUES (?, ?, ?, ?)", rows)
    con.close()
    return path


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return make_db(tmp_path / "posture.duckdb")


@pytest.fixture
def check_file(tmp_path: Path) -> Path:
    (tmp_path / "checks").mkdir()
    f = tmp_path / "checks" / "hostile_echo.sql"
    f.write_text(CHECK)
    return f


def _report(db: Path, check_file: Path) -> report.Report:
    results = ck.run_checks(db, ckf.load_checks([check_file]))
    assert results[0].error is None, results[0].error
    assert {f.reason for f in results[0].rows} >= set(HOSTILE)  # the data really is hostile
    return report.Report(database=str(db), results=results)


@pytest.fixture
def command(monkeypatch: pytest.MonkeyPatch,
            capsys: pytest.CaptureFixture[str]) -> Callable[..., subprocess.CompletedProcess]:
    """The command, in this process with NO_COLOR=1 and its stdout not a terminal: exit status, stdout and
    stderr as a CompletedProcess. Captured without newline translation, so a CR stays visible."""
    monkeypatch.chdir(REPO)
    monkeypatch.setenv("NO_COLOR", "1")

    def call(*args: str) -> subprocess.CompletedProcess:
        capsys.readouterr()
        code = cli.main(list(args))
        out, err = capsys.readouterr()
        return subprocess.CompletedProcess(["aws-encryption", *args], code, out, err)
    return call


def _sha(p: Path) -> str:
    return hashlib.sha256(p.read_bytes()).hexdigest()


# ---------------------------------------------------------------------------------------------
# safe_text on its own

def test_for_terminal_removes_escapes_controls_and_bidi_but_keeps_text() -> None:
    assert for_terminal(TERMINAL) == "passed"
    assert for_terminal(BIDI) == "keyflowx"
    assert for_terminal(C1) == "2Joverwrite"
    assert for_terminal("tab\there\nnext line, ünïcödé, 鍵") == "tab\there\nnext line, ünïcödé, 鍵"
    assert for_terminal("\x1b]8;;https://evil.example\x1b\\click\x1b]8;;\x1b\\") == "click"  # OSC 8 hyperlink
    assert not UNSAFE.search(for_terminal("".join(chr(c) for c in range(0x00, 0xA0)) + "\u202a\u202e\u2066\u2069"))


def test_for_csv_quotes_formula_cells_only() -> None:
    for cell in (FORMULA, "+1+cmd", "-2+3", "@SUM(A1)", "\tx", "\rx", "=HYPERLINK(\"https://evil.example\")"):
        assert for_csv(cell) == "'" + cell
    for cell in ("arn:aws:kms:us-east-1:1:key/x", "111111111111", "-1", "+2.5", "-3e4", "", "a=b"):
        assert for_csv(cell) == cell


def test_for_markdown_leaves_no_link_image_html_or_cell_break() -> None:
    out = for_markdown(f"{LINKS} {HTML} {PIPE} www.evil.example mail@evil.example\nnext")
    assert "](" not in out.replace("\\](", "") and "![" not in out.replace("\\!\\[", "")
    assert "<" not in out and "://" not in out and "www." not in out and "@" not in out
    assert re.search(r"(?<!\\)\|", out) is None and "\n" not in out
    assert for_markdown("arn:aws:s3:::data-lake in account 222222222222.") == \
        "arn:aws:s3:::data-lake in account 222222222222."  # ordinary text is unchanged


# ---------------------------------------------------------------------------------------------
# check reports

def test_check_table_end_to_end_without_colour(db: Path, check_file: Path, command: Any) -> None:
    p = command("check", str(db), "--no-bundled", "--queries", str(check_file), "--format", "table")
    assert p.returncode == 1, p.stderr
    assert not UNSAFE.search(p.stdout), repr(UNSAFE.findall(p.stdout))
    assert f"Failures ({FINDINGS})" in p.stdout
    lines = p.stdout.splitlines()
    assert not [x for x in lines if x.startswith("passed")]  # the data can't print a verdict of its own
    assert any(x.startswith("FAILED") for x in lines)  # our verdict is still there, unhidden
    assert "arn:aws:kms:us-east-1:111111111111:key/passed" in p.stdout
    assert f"account {FORMULA}" in " ".join(p.stdout.split())  # a terminal shows the text as it is


def test_check_table_with_colour_has_only_our_colour_codes(db: Path, check_file: Path) -> None:
    text = report.render(_report(db, check_file), "table", color=True)
    assert "\x1b[31m" in text  # colour is on
    assert not UNSAFE.search(OUR_COLOURS.sub("", text)), repr(UNSAFE.findall(OUR_COLOURS.sub("", text)))


@pytest.mark.e2e
def test_check_table_on_a_terminal_end_to_end(db: Path, check_file: Path) -> None:
    code, out, err = run_in_pty([sys.executable, "-m", "plugin.cli", "check", str(db), "--no-bundled", "--queries",
                                 str(check_file)], REPO, {k: v for k, v in os.environ.items() if k != "NO_COLOR"})
    assert code == 1, err
    assert "\x1b[" in out and f"Failures ({FINDINGS})" in out
    assert not UNSAFE.search(OUR_COLOURS.sub("", out).replace("\r\n", "\n"))


def test_check_csv_neutralises_formula_cells(db: Path, check_file: Path, command: Any) -> None:
    p = command("check", str(db), "--no-bundled", "--queries", str(check_file), "--format", "csv")
    assert p.returncode == 1, p.stderr
    rows = list(csv.DictReader(io.StringIO(p.stdout, newline="")))
    assert len(rows) == FINDINGS
    assert "'" + FORMULA in {r["reason"] for r in rows}
    assert "'" + FORMULA in {r["account_id"] for r in rows}
    for r in rows:
        for cell in r.values():
            assert not cell.startswith(("=", "+", "-", "@", "\t", "\r")), cell


def test_check_markdown_has_no_link_image_or_html_from_the_data(db: Path, check_file: Path, command: Any) -> None:
    p = command("check", str(db), "--no-bundled", "--queries", str(check_file), "--format", "markdown")
    assert p.returncode == 1, p.stderr
    md = p.stdout
    unescaped = re.sub(r"\\.", "", md)  # what a renderer sees as syntax once escapes are consumed
    assert "](" not in unescaped and "![" not in unescaped
    assert "<img" not in md and "<b>" not in md and "://" not in md
    assert not UNSAFE.search(md)
    rows = [x for x in md.splitlines() if x.startswith("| `hostile_echo` | high | arn:")]
    assert len(rows) == FINDINGS
    for row in rows:  # six cells each: the data's `|` can't split one
        assert len(re.findall(r"(?<!\\)\|", row)) == 7, row
    assert "a\\|b" in md


def test_json_keeps_the_data_exactly(db: Path, check_file: Path) -> None:
    doc = json.loads(report.render(_report(db, check_file), "json"))
    assert {f["reason"] for f in doc["checks"][0]["findings"]} >= set(HOSTILE)


# ---------------------------------------------------------------------------------------------
# sql output

def test_sql_table_strips_controls_end_to_end(db: Path, command: Any) -> None:
    p = command("sql", str(db), "SELECT arn, account_id, region, description FROM aws_kms_keys ORDER BY arn",
             "--format", "table")
    assert p.returncode == 0, p.stderr
    assert not UNSAFE.search(p.stdout), repr(UNSAFE.findall(p.stdout))
    assert f"({FINDINGS} rows)" in p.stdout and "passed" in p.stdout


def test_sql_csv_neutralises_formula_cells_end_to_end(db: Path, command: Any) -> None:
    p = command("sql", str(db), "SELECT description, account_id, -1 AS n FROM aws_kms_keys ORDER BY arn",
             "--format", "csv")
    assert p.returncode == 0, p.stderr
    rows = list(csv.reader(io.StringIO(p.stdout, newline="")))
    assert rows[0] == ["description", "account_id", "n"]
    cells = [c for r in rows[1:] for c in r]
    assert "'" + FORMULA in cells
    assert {r[2] for r in rows[1:]} == {"-1"}  # numbers stay numbers
    assert not [c for c in cells if c.startswith(("=", "+", "@", "\t", "\r")) or c.startswith("-") and c != "-1"]


# ---------------------------------------------------------------------------------------------
# sql and custom checks are read-only for every file

def _sql_inproc(db: Path, sql: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = cli.main(["sql", str(db), sql, "--format", "csv"])
    out, err = capsys.readouterr()
    return code, out, err


def _assert_one_line_error(code: int, err: str, *needles: str) -> None:
    assert code == 2, err
    lines = err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("aws-encryption: "), err
    for n in needles:
        assert n in lines[0], lines[0]


@pytest.mark.parametrize("attempt", [
    "copy", "copy_after_set", "attach_other", "attach_other_rw", "read_text", "read_csv", "install", "load",
    "set_external_access", "hardlink"])
def test_sql_touches_no_other_file(attempt: str, db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    other = tmp_path / "other.duckdb"
    duckdb.connect(str(other)).execute("CREATE TABLE t (a INTEGER)").close()
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-CONTENT\n")
    link = tmp_path / "link.duckdb"
    os.link(db, link)
    out_file = tmp_path / "x.csv"
    before = {p: _sha(p) for p in (db, other, secret)}
    sql = {
        "copy": f"COPY (SELECT 1) TO '{out_file}'",
        "copy_after_set": f"SET enable_external_access = true; COPY (SELECT 1) TO '{out_file}'",
        "attach_other": f"ATTACH '{other}' AS o",
        "attach_other_rw": f"ATTACH '{other}' AS o (READ_WRITE); CREATE TABLE o.pwned AS SELECT 1 AS a",
        "read_text": f"SELECT content FROM read_text('{secret}')",
        "read_csv": f"SELECT * FROM read_csv('{secret}')",
        "install": "INSTALL httpfs",
        "load": "LOAD httpfs",
        "set_external_access": "SET enable_external_access = true",
        "hardlink": f"ATTACH '{link}' AS l (READ_WRITE); DELETE FROM l.aws_kms_keys",
    }[attempt]
    code, out, err = _sql_inproc(db, sql, capsys)
    _assert_one_line_error(code, err, "query failed")
    assert "TOP-SECRET" not in out + err
    assert not out_file.exists()
    assert {p: _sha(p) for p in before} == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["link.duckdb", "other.duckdb", "posture.duckdb",
                                                         "secret.txt"]
    con = duckdb.connect(str(db), read_only=True)
    try:
        assert con.execute("SELECT count(*) FROM aws_kms_keys").fetchone() == (FINDINGS,)
    finally:
        con.close()


def test_sql_still_reads_the_database(db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = _sql_inproc(db, "SELECT count(*) AS n, current_setting('TimeZone') AS tz FROM aws_kms_keys",
                                 capsys)
    assert (code, err) == (0, "") and out.splitlines() == ["n,tz", f"{FINDINGS},UTC"]


@pytest.mark.parametrize("sql", ["", "   ", "-- only a comment"])
def test_sql_without_a_statement_is_a_one_line_error(sql: str, db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = _sql_inproc(db, sql, capsys)
    _assert_one_line_error(code, err)
    assert out == ""


def test_sql_empty_query_end_to_end(db: Path, command: Any) -> None:
    p = command("sql", str(db), "")
    assert p.returncode == 2 and p.stdout == "" and "Traceback" not in p.stderr
    assert len(p.stderr.splitlines()) == 1 and "no SQL" in p.stderr


def test_a_custom_check_cannot_write_a_file(db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    leak = tmp_path / "leak.csv"
    checks = tmp_path / "writer"
    checks.mkdir()
    (checks / "exfiltrate.sql").write_text(CHECK.replace("hostile_echo", "exfiltrate").split("SELECT")[0]
                                           + f"COPY (SELECT * FROM aws_kms_keys) TO '{leak}';\n"
                                           "SELECT arn AS resource_arn, account_id, region, 'pass' AS status, "
                                           "'ok' AS reason FROM aws_kms_keys")
    before = _sha(db)
    cli.main(["check", str(db), "--no-bundled", "--queries", str(checks), "--format", "json", "--fail-on", "none"])
    [result] = json.loads(capsys.readouterr().out)["checks"]
    assert result["id"] == "exfiltrate" and result["error"] and "disabled by configuration" in result["error"]
    assert [f["status"] for f in result["findings"]] == ["error"]
    assert not leak.exists() and _sha(db) == before


def test_a_custom_check_cannot_turn_the_sandbox_off(db: Path, tmp_path: Path) -> None:
    checks = tmp_path / "unlock"
    checks.mkdir()
    (checks / "unlock.sql").write_text(CHECK.replace("hostile_echo", "unlock").split("SELECT")[0]
                                       + "SET lock_configuration = false;\n"
                                       "SELECT '' AS resource_arn, '' AS account_id, '' AS region, 'pass' AS status, "
                                       "'' AS reason")
    [r] = ck.run_checks(db, ckf.load_checks([checks]))
    assert r.error and "locked" in r.error


def test_a_posture_database_with_an_unreplayed_wal_still_opens(tmp_path: Path) -> None:
    """The sandbox must not lock the database itself out: a WAL left by a crash is still replayed."""
    path = tmp_path / "crashed.duckdb"
    subprocess.run([sys.executable, "-c", (
        "import duckdb, os, sys\n"
        "c = duckdb.connect(sys.argv[1])\n"
        "c.execute('PRAGMA disable_checkpoint_on_shutdown')\n"
        "c.execute(\"SET wal_autocheckpoint = '1TB'\")\n"
        "c.execute('CREATE TABLE aws_kms_keys (arn VARCHAR)')\n"
        "c.execute(\"INSERT INTO aws_kms_keys VALUES ('k')\")\n"
        "os._exit(0)\n"), str(path)], check=True, timeout=60)
    assert Path(str(path) + ".wal").exists()
    con = ck.open_read_only(path)
    try:
        assert con.execute("SELECT arn FROM aws_kms_keys").fetchall() == [("k",)]
    finally:
        con.close()
