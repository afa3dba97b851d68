"""`--mutelist`: which findings an entry mutes, expiry against a fixed day, how every format shows a
muted finding, the exit status, and one clear line for a bad file before anything runs.

Fast tier: mutelists in tmp_path, reports built from hand-made results, and the command in this
process on the small posture database of tests/test_check_runner.py (make_db) with its fixture
checks (--no-bundled), or on a database built here for tags.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
import subprocess
from pathlib import Path
from typing import Any, Callable

import duckdb
import pytest

from plugin.checks import report
from plugin.checks.files import parse_check
from plugin.checks.mutelist import MutelistError, apply_mutelist, load_mutelist
from plugin.checks.runner import CheckResult, Finding
from plugin.checks.tags import resource_tags
from plugin.cli import main as cli

from .test_check_runner import A1, A2, B_LAKE, CHECKS, K_DENIED, K_NOROT, REPO, make_coverage, make_db

TODAY = dt.date(2026, 3, 1)
KEY_A = "arn:aws:kms:eu-west-1:111111111111:key/aaaa"
KEY_B = "arn:aws:kms:us-east-1:222222222222:key/bbbb"
BUCKET = "arn:aws:s3:::www-assets"


def check(cid: str, severity: str = "high") -> Any:
    return parse_check(f"-- id: {cid}\n-- title: Title of {cid}\n-- severity: {severity}\n"
                       f"-- description: d\n-- remediation: r\nSELECT 1", Path(f"{cid}.sql"))


def mutelist(tmp_path: Path, text: str, name: str = "mutelist.yml") -> Path:
    p = tmp_path / name
    p.write_text(text)
    return p


def results() -> list[CheckResult]:
    """Two checks: a high one failing on a key in each account and passing on a bucket; a medium one
    with an error finding."""
    rot = CheckResult(check("kms_rotation"), [
        Finding(KEY_A, A1, "eu-west-1", "fail", "Key A does not rotate."),
        Finding(KEY_B, A2, "us-east-1", "fail", "Key B does not rotate."),
        Finding(BUCKET, A2, "", "pass", "not a key")])
    pub = CheckResult(check("s3_public", "medium"), [
        Finding(BUCKET, A2, "", "error", "The bucket policy could not be read.")])
    return [rot, pub]


def muted(tmp_path: Path, text: str, tags: dict[str, dict[str, str]] | None = None,
          today: dt.date = TODAY) -> dict[tuple[str, str], str]:
    """(check id, resource) -> the status the report shows, for the entries in `text`."""
    rs = results()
    m = apply_mutelist(load_mutelist(str(mutelist(tmp_path, text))), rs, today, tags)
    rep = report.Report(database="x", results=rs, muting=m)
    return {(r.check.id, f.resource_arn): rep.status_of(r.check, f) for r in rs for f in r.rows}


# ---------------------------------------------------------------------------------------------
# Matching

@pytest.mark.parametrize("entry, muted_keys", [
    ("check: kms_rotation", {KEY_A, KEY_B}),
    ("check: kms_*\n  account: \"111111111111\"", {KEY_A}),
    ("check: \"*\"\n  account: \"2222*\"", {KEY_B, BUCKET}),          # * with a narrowing field: both checks
    ("check: kms_rotation\n  region: eu-*", {KEY_A}),
    ("check: kms_rotation\n  resources: [\"arn:aws:kms:us-east-1:*:key/*\"]", {KEY_B}),
    ("check: kms_rotation\n  resources: [\"arn:aws:kms:*:key/b???\", \"nothing\"]", {KEY_B}),
    ("check: kms_rotation\n  resources: [\"arn:aws:kms:*:key/B*\"]", set()),   # case-sensitive
    ("check: s3_*\n  region: \"*\"\n  resources: [\"arn:aws:s3:::www-*\"]", {BUCKET}),
    ("check: kms_rotatio", set()),                                     # whole id, not a prefix
])
def test_entries_match_check_account_region_and_resource(tmp_path: Path, entry: str, muted_keys: set[str]) -> None:
    shown = muted(tmp_path, f"- {entry}\n  reason: accepted (SEC-1)\n")
    assert {arn for (_, arn), st in shown.items() if st == "muted"} == muted_keys
    assert shown[("kms_rotation", BUCKET)] == "pass"  # a pass is never muted


def test_tags_match_known_tags_only(tmp_path: Path) -> None:
    text = "- check: kms_rotation\n  tags: {team: data, env: \"prod*\"}\n  reason: accepted\n"
    tags = {KEY_A: {"team": "data", "env": "production"}, KEY_B: {"team": "data", "env": "dev"}}
    assert muted(tmp_path, text, tags)[("kms_rotation", KEY_A)] == "muted"
    assert muted(tmp_path, text, tags)[("kms_rotation", KEY_B)] == "fail"      # env does not match
    assert muted(tmp_path, text, {KEY_A: {"team": "data"}})[("kms_rotation", KEY_A)] == "fail"  # env missing
    assert muted(tmp_path, text, {})[("kms_rotation", KEY_A)] == "fail"        # tags unknown: no match


def test_tags_are_read_from_every_table_with_arn_and_tags(tmp_path: Path) -> None:
    db = tmp_path / "t.duckdb"
    con = duckdb.connect(str(db))
    con.execute("CREATE TABLE aws_kms_keys (arn VARCHAR, account_id VARCHAR, region VARCHAR, tags JSON)")
    con.execute(f"""INSERT INTO aws_kms_keys VALUES ('{KEY_A}', '{A1}', 'eu-west-1', '{{"team": "data"}}'),
                    ('{KEY_B}', '{A2}', 'us-east-1', NULL)""")
    con.execute("CREATE TABLE aws_s3_buckets (arn VARCHAR, tags JSON)")
    con.execute(f"""INSERT INTO aws_s3_buckets VALUES ('{BUCKET}', '[{{"Key": "app", "Value": "web"}}]')""")
    con.close()
    assert resource_tags(db, [KEY_A, KEY_B, BUCKET, "arn:aws:s3:::other"]) == {
        KEY_A: {"team": "data"}, BUCKET: {"app": "web"}}   # KEY_B: NULL tags are unknown


def test_the_command_mutes_by_tags_from_the_database(tmp_path: Path, run: Callable[..., Any]) -> None:
    db = make_db(tmp_path / "posture.duckdb")   # K_OK has {"team": "data"}, K_NOROT NULL tags
    con = duckdb.connect(str(db))
    con.execute(f"UPDATE aws_kms_keys SET tags = '{{\"team\": \"data\"}}' WHERE arn = '{K_NOROT}'")
    con.close()
    ml = mutelist(tmp_path, "- check: kms_rotation_off\n  tags: {team: data}\n  reason: data team keys\n"
                            "- check: kms_key_too_old\n  tags: {team: web}\n  reason: web team keys\n")
    p = run(str(db), "--check", "kms_rotation_off,kms_key_too_old", "--mutelist", str(ml), "--format", "json")
    doc = json.loads(p.stdout)
    status = {(c["id"], f["resource_arn"]): f["status"] for c in doc["checks"] for f in c["findings"]}
    assert status[("kms_rotation_off", K_NOROT)] == "muted"     # tagged team=data in the database
    assert status[("kms_rotation_off", K_DENIED)] == "error"    # its tags are NULL: unknown, not muted
    assert status[("kms_key_too_old", K_NOROT)] == "fail"       # team=web does not match
    assert [u["entry"] for u in doc["mutelist"]["unused"]] == [2]


# ---------------------------------------------------------------------------------------------
# Expiry

def test_an_entry_mutes_through_its_expiry_day_and_is_reported_after(tmp_path: Path) -> None:
    text = "- check: kms_rotation\n  account: \"111111111111\"\n  reason: until the migration\n  expires: 2026-03-01\n"
    assert muted(tmp_path, text, today=dt.date(2026, 3, 1))[("kms_rotation", KEY_A)] == "muted"
    rs = results()
    m = apply_mutelist(load_mutelist(str(mutelist(tmp_path, text))), rs, dt.date(2026, 3, 2))
    rep = report.Report(database="x", results=rs, muting=m, generated_at=dt.datetime(2026, 3, 2, tzinfo=dt.timezone.utc))
    assert rep.status_of(rs[0].check, rs[0].rows[0]) == "fail"       # the finding keeps its real status
    assert [(e.index, n) for e, n in m.expired] == [(1, 1)] and m.count == 0
    assert rep.exit_status == 1                                        # and fails the run again
    table = " ".join(report.render(rep, "table").split())
    assert "EXPIRED entry 1 (line 1; check kms_rotation): expired 2026-03-01, no longer mutes (1 finding" in table
    assert "(1 mutelist entry expired)" in report.render(rep, "table")
    doc = json.loads(report.render(rep, "json"))
    assert doc["mutelist"]["expired"] == [{"entry": 1, "line": 1, "check": "kms_rotation", "reason": "until the migration",
                                           "expires": "2026-03-01", "would_mute": 1}]
    md = report.render(rep, "markdown")
    assert "> **EXPIRED** entry 1" in md
    [note] = json.loads(report.render(rep, "sarif"))["runs"][0]["invocations"][0]["toolConfigurationNotifications"]
    assert note["level"] == "warning" and note["message"]["text"].startswith("EXPIRED entry 1")


def test_live_entries_that_match_nothing_are_reported_as_unused(tmp_path: Path) -> None:
    rs = results()
    ml = load_mutelist(str(mutelist(tmp_path, "- check: kms_rotation\n  region: ap-*\n  reason: r\n")))
    rep = report.Report(database="x", results=rs, muting=apply_mutelist(ml, rs, TODAY))
    assert "UNUSED entry 1 (line 1; check kms_rotation): matched no fail or error finding" in report.render(rep, "table")
    assert json.loads(report.render(rep, "json"))["mutelist"]["unused"][0]["entry"] == 1


# ---------------------------------------------------------------------------------------------
# Every format

@pytest.fixture
def muted_report(tmp_path: Path) -> report.Report:
    """KEY_A's failure and the bucket's error muted; KEY_B still failing."""
    rs = results()
    ml = load_mutelist(str(mutelist(tmp_path, "- check: kms_rotation\n  account: \"111111111111\"\n"
                                              "  reason: legacy key (MIG-7)\n  expires: 2026-12-31\n"
                                              "- check: s3_public\n  resources: [\"arn:aws:s3:::www-*\"]\n"
                                              "  reason: website bucket\n")))
    return report.Report(database="x", results=rs, muting=apply_mutelist(ml, rs, TODAY), fail_on="high")


def test_json_shows_muted_status_reason_and_honest_counts(muted_report: report.Report) -> None:
    doc = json.loads(report.render(muted_report, "json"))
    f = {x["resource_arn"]: x for c in doc["checks"] for x in c["findings"] if c["id"] == "kms_rotation"}
    assert f[KEY_A]["status"] == "muted" and f[KEY_B]["status"] == "fail"
    assert f[KEY_A]["muted"] == {"status": "fail", "entry": 1, "line": 1, "check": "kms_rotation",
                                 "reason": "legacy key (MIG-7)", "expires": "2026-12-31"}
    assert doc["summary"]["status"] == {"pass": 1, "fail": 1, "skip": 0, "error": 0, "muted": 2}
    assert doc["summary"]["by_severity"]["high"] == {"checks": 1, "pass": 1, "fail": 1, "skip": 0, "error": 0, "muted": 1}
    assert doc["checks"][1]["status_counts"] == {"pass": 0, "fail": 0, "skip": 0, "error": 0, "muted": 1}
    assert doc["mutelist"]["muted"] == 2 and doc["summary"]["findings"] == 4


def test_sarif_muted_results_carry_external_suppressions(muted_report: report.Report) -> None:
    run_ = json.loads(report.render(muted_report, "sarif"))["runs"][0]
    by = {r["locations"][0]["logicalLocations"][0]["fullyQualifiedName"] + "/" + r["ruleId"]: r for r in run_["results"]}
    [s] = by[f"{KEY_A}/kms_rotation"]["suppressions"]
    assert s["kind"] == "external" and s["status"] == "accepted" and s["justification"] == "legacy key (MIG-7)"
    assert by[f"{KEY_B}/kms_rotation"]["suppressions"] == []   # all results carry the array, or none
    assert by[f"{BUCKET}/s3_public"]["suppressions"][0]["justification"] == "website bucket"
    assert run_["invocations"][0]["properties"]["exit_status"] == 1  # KEY_B still fails


def test_ocsf_muted_findings_are_suppressed(muted_report: report.Report) -> None:
    items = {(o["unmapped"]["check_id"], o["resource"]["uid"]): o for o in json.loads(report.render(muted_report, "ocsf"))}
    a = items[("kms_rotation", KEY_A)]
    assert (a["status_id"], a["status"], a["comment"]) == (3, "Suppressed", "legacy key (MIG-7)")
    assert a["compliance"]["status"] == "Fail" and a["unmapped"]["check_status"] == "muted"  # what the check found
    assert (items[("kms_rotation", KEY_B)]["status_id"], items[("kms_rotation", KEY_B)]["status"]) == (1, "New")
    assert items[("s3_public", BUCKET)]["compliance"]["status"] == "Warning"


def test_csv_table_and_markdown_show_muted(muted_report: report.Report) -> None:
    rows = list(csv.DictReader(io.StringIO(report.render(muted_report, "csv"))))
    a = next(r for r in rows if r["resource_arn"] == KEY_A)
    assert (a["status"], a["muted_status"], a["mute_reason"]) == ("muted", "fail", "legacy key (MIG-7)")
    assert next(r for r in rows if r["resource_arn"] == KEY_B)["mute_reason"] == ""
    table = report.render(muted_report, "table")
    assert re.search(r"^severity\s+checks\s+fail\s+pass\s+skip\s+error\s+muted$", table, re.M)
    assert re.search(r"^high\s+1\s+1\s+1\s+0\s+0\s+1$", table, re.M)
    assert "Failures (1)" in table and "Muted (2)" in table
    assert "muted (fail) by entry 1 (line 1; check kms_rotation) until 2026-12-31: legacy key (MIG-7)" in " ".join(table.split())
    assert max(len(line) for line in table.splitlines()) <= 100
    md = report.render(muted_report, "markdown")
    assert "| Severity | Checks | Fail | Pass | Skip | Error | Muted |" in md and "### Muted (2)" in md
    assert "| high | 1 | 1 | 1 | 0 | 0 | 1 |" in md


def test_without_a_mutelist_nothing_changes() -> None:
    rep = report.Report(database="x", results=results())
    doc = json.loads(report.render(rep, "json"))
    assert doc["mutelist"] is None and "muted" not in doc["summary"]["status"]
    assert "suppressions" not in json.loads(report.render(rep, "sarif"))["runs"][0]["results"][0]
    assert next(csv.reader(io.StringIO(report.render(rep, "csv"))))[-1] == "reason"


def test_hostile_reasons_are_escaped_or_refused(tmp_path: Path) -> None:
    rs = results()
    reason = "=HYPERLINK(\"https://evil.example\") [Fix](https://evil.example) <img src=x> a|b"
    ml = load_mutelist(str(mutelist(tmp_path, f"- check: kms_rotation\n  reason: '{reason}'\n")))
    rep = report.Report(database="x", results=rs, muting=apply_mutelist(ml, rs, TODAY))
    a = next(r for r in csv.DictReader(io.StringIO(report.render(rep, "csv"))) if r["resource_arn"] == KEY_A)
    assert a["mute_reason"] == "'" + reason      # not a formula
    muted_rows = report.render(rep, "markdown").split("### Muted", 1)[1]
    assert "](" not in muted_rows.replace("\\](", "") and "<img" not in muted_rows and "://" not in muted_rows
    assert all(line.count("|") - line.count("\\|") == 8 for line in muted_rows.splitlines() if line.startswith("|"))
    with pytest.raises(MutelistError, match=r"entry 1 .*field reason: expected printable text"):
        load_mutelist(str(mutelist(tmp_path, '- check: kms_rotation\n  reason: "ok\\x1b[2J"\n', "esc.yml")))


# ---------------------------------------------------------------------------------------------
# The command: exit status, and bad files

@pytest.fixture
def run(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Callable[..., subprocess.CompletedProcess]:
    """`aws-encryption check DB --no-bundled --queries <fixture checks> ARGS` in this process."""
    monkeypatch.chdir(REPO)

    def call(*args: str, fixtures: bool = True) -> subprocess.CompletedProcess:
        capsys.readouterr()
        argv = ["check", *args[:1], *(["--no-bundled", "--queries", str(CHECKS)] if fixtures else []), *args[1:]]
        code = cli.main(argv)
        out, err = capsys.readouterr()
        return subprocess.CompletedProcess(argv, code, out, err)
    return call


def test_a_muted_high_failure_does_not_fail_the_run(tmp_path: Path, run: Callable[..., Any]) -> None:
    db = make_db(tmp_path / "posture.duckdb")
    assert run(str(db), "--check", "s3_bucket_public", "--format", "json").returncode == 1  # critical fail
    ml = mutelist(tmp_path, f"- check: s3_bucket_public\n  resources: [\"{B_LAKE}\"]\n  reason: public website\n")
    p = run(str(db), "--check", "s3_bucket_public", "--format", "json", "--mutelist", str(ml))
    assert p.returncode == 0, p.stdout
    doc = json.loads(p.stdout)
    assert doc["verdict"].startswith("passed: no failing finding at or above high (1 finding muted)")
    other = mutelist(tmp_path, "- check: s3_bucket_public\n  account: \"999999999999\"\n  reason: another account\n", "o.yml")
    assert run(str(db), "--check", "s3_bucket_public", "--mutelist", str(other)).returncode == 1   # not muted


def test_muted_errors_and_unread_scopes_are_not_incomplete(tmp_path: Path, run: Callable[..., Any]) -> None:
    db = tmp_path / "posture.duckdb"
    make_db(db)
    con = duckdb.connect(str(db))
    con.execute("DROP TABLE aws_encryption_sync_coverage")
    make_coverage(con, unread=(A2, "", "aws_s3_buckets", "ListBuckets"))
    con.close()
    coverage = str(REPO / "queries" / "sync_coverage.sql")
    base = ("--queries", coverage, "--check", "kms_rotation_off,sync_coverage", "--format", "table")
    assert run(str(db), *base).returncode == 1       # an error finding and an unread scope
    ml = mutelist(tmp_path, f"- check: kms_rotation_off\n  resources: [\"{K_DENIED}\"]\n  reason: denied on purpose\n"
                            f"- check: sync_coverage\n  account: \"{A2}\"\n  reason: account being rebuilt\n")
    p = run(str(db), *base, "--mutelist", str(ml))
    assert p.returncode == 0, p.stdout                # kms_rotation_off is medium: below --fail-on high
    text = " ".join(p.stdout.split())
    assert "aws_s3_buckets: s3:ListBuckets AccessDeniedException; 4 rows kept" in text and "UTC (muted)" in text
    assert "Muted (2)" in p.stdout


def _usage_error(p: subprocess.CompletedProcess) -> str:
    assert p.returncode == 2 and p.stdout == "", (p.returncode, p.stdout, p.stderr)
    [line] = p.stderr.splitlines()
    assert line.startswith("aws-encryption: ") and len(line.encode()) <= 270, line
    return line


@pytest.mark.parametrize("text, needles", [
    ("- check: kms_rotation_off\n\treason: tab-indented\n", ["line 2", "not valid YAML"]),
    ("check: kms_rotation_off\nreason: x\n", ["expected a list of entries"]),
    ("", ["empty; expected a list of entries"]),
    ("- check: kms_rotation_off\n  reson: typo\n  reason: x\n",
     ["entry 1 (line 1; check kms_rotation_off)", "unknown field 'reson' (did you mean reason?)"]),
    ("- check: kms_rotation_off\n  reason: x\n- check: kms_key_too_old\n  resources: [\"arn:aws:kms:*\"]\n",
     ["entry 2 (line 3; check kms_key_too_old, resource arn:aws:kms:*)", "field reason: required"]),
    ("- check: kms_rotation_off\n  reason: x\n  expires: 31/12/2026\n",
     ["entry 1", "field expires: expected a date YYYY-MM-DD", '"31/12/2026"']),
    ("- check: kms_rotation_off\n  reason: x\n  expires: 2026-02-30\n", ["field expires", '"2026-02-30"']),
    ("- check: kms_rotation_off\n  reason: x\n  account: 111111111111\n", ["field account: expected a quoted"]),
    ("- check: kms_rotation_off\n  reason: x\n  region: EU West\n", ["field region: expected a region or a pattern"]),
    ("- check: kms_rotation_off\n  reason: x\n  resources: \"arn:aws:kms:*\"\n", ["field resources: expected a list"]),
    ("- check: kms_rotation_off\n  reason: x\n  resources: [\"arn:aws:kms:* key\", \" \"]\n", ["field resources"]),
    ("- check: kms_rotation_off\n  reason: x\n  tags: {env: 1}\n", ["field tags.env: expected a quoted tag value"]),
    ("- check: kms_rotaton_off\n  reason: x\n",
     ["entry 1", "no loaded check has the id 'kms_rotaton_off' (did you mean kms_rotation_off?)"]),
    ("- check: \"*\"\n  reason: everything\n", ["would mute every finding"]),
    ("- check: kms_rotation_off\n  reason: \"  \"\n", ["field reason: expected why the finding is accepted"]),
])
def test_a_bad_mutelist_is_one_line_naming_the_entry_and_field(tmp_path: Path, run: Callable[..., Any],
                                                                text: str, needles: list[str]) -> None:
    ml = mutelist(tmp_path, text)
    # The database does not exist: the mutelist is refused first, before anything runs.
    line = _usage_error(run(str(tmp_path / "missing.duckdb"), "--mutelist", str(ml)))
    assert str(ml) in line
    for n in needles:
        assert n in line, (n, line)


def test_an_unreadable_or_huge_mutelist_is_one_line(tmp_path: Path, run: Callable[..., Any]) -> None:
    assert "cannot read the file" in _usage_error(run(str(tmp_path / "x.duckdb"), "--mutelist", str(tmp_path / "no.yml")))
    big = mutelist(tmp_path, "# x\n" * 300_000, "big.yml")
    assert "larger than 1 MiB" in _usage_error(run(str(tmp_path / "x.duckdb"), "--mutelist", str(big)))
    bomb = mutelist(tmp_path, "a: &a [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{c}: &{c} [{', '.join(['*' + p] * 10)}]\n" for p, c in zip("abcdef", "bcdefg")), "bomb.yml")
    assert "expands to more than" in _usage_error(run(str(tmp_path / "x.duckdb"), "--mutelist", str(bomb)))


def test_sync_check_refuses_a_bad_mutelist_before_any_aws_call(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                                capsys: pytest.CaptureFixture[str]) -> None:
    import plugin.cli.sync as sync_module

    def no_sync(*a: Any, **k: Any) -> None:
        raise AssertionError("the sync ran")
    monkeypatch.setattr(sync_module, "run", no_sync)
    monkeypatch.chdir(tmp_path)
    ml = mutelist(tmp_path, "- check: kms_cmk_rotation_disabled\n")
    code = cli.main(["sync", str(REPO / "examples" / "real-account-profile.yml"), "--check", "--mutelist", str(ml)])
    out, err = capsys.readouterr()
    assert code == 2 and out == ""
    [line] = err.splitlines()
    assert "entry 1 (line 1; check kms_cmk_rotation_disabled): field reason: required" in line


def test_the_example_mutelist_is_valid_for_the_bundled_checks() -> None:
    from plugin.checks.files import bundled_queries_dir, load_checks
    ml = load_mutelist(str(REPO / "examples" / "mutelist" / "mutelist.yml"))
    ml.check_ids(c.id for c in load_checks([bundled_queries_dir()]))
    assert ml.entries and all(e.reason and e.expires for e in ml.entries)
