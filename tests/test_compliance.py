"""`--compliance`: references parsed from check headers, the bundled catalogues, the per-control
status from a small set of results, and the command (which checks run, the view, the exit status).

Fast tier: hand-made checks and results, and the command in this process on the small posture
database of tests/test_check_runner.py with its fixture checks (--no-bundled).
"""

from __future__ import annotations

import datetime as dt
import json
import re
import subprocess
from pathlib import Path
from typing import Any, Callable

import pytest

from plugin.checks import report
from plugin.checks.compliance import Control, Framework, framework_keys, load_framework, map_checks, refs
from plugin.checks.files import split_ref
from plugin.checks.files import bundled_queries_dir, load_checks, parse_check
from plugin.checks.mutelist import MuteEntry, Mutelist, apply_mutelist
from plugin.checks.runner import CheckResult, Finding

from .test_check_runner import CHECKS, K_DENIED, K_NOROT, make_db


def check(cid: str, compliance: str, severity: str = "high") -> Any:
    return parse_check(f"-- id: {cid}\n-- title: {cid}\n-- severity: {severity}\n-- description: d\n"
                       f"-- remediation: r\n-- compliance: {compliance}\nSELECT 1", Path(f"{cid}.sql"))


# ---------------------------------------------------------------------------------------------
# Header references

def test_references_split_at_the_colon_outside_parentheses() -> None:
    c = check("x", "AWS Security Hub: S3.17 (stricter: the key must be usable by the bucket's readers); "
                   "CIS AWS Foundations 3.0.0: 3.6 (intent); PCI DSS 4.0: 3.7.4")
    got = [(r.framework, r.control, r.remark) for r in refs(c)]
    assert got == [("AWS Security Hub", "S3.17", "stricter: the key must be usable by the bucket's readers"),
                   ("CIS AWS Foundations 3.0.0", "3.6", "intent"), ("PCI DSS 4.0", "3.7.4", "")]
    assert split_ref("NIST SP 800-53 Rev. 5: SC-12 (note: x)") == ("NIST SP 800-53 Rev. 5", "SC-12 (note: x)")


def test_json_report_keeps_a_remark_with_a_colon_in_its_control() -> None:
    c = check("x", "AWS Security Hub: S3.17 (stricter: the key must be usable)")
    doc = json.loads(report.render(report.Report(database="d", results=[CheckResult(c, [])]), "json"))
    assert doc["checks"][0]["compliance"] == [{"framework": "AWS Security Hub",
                                               "control": "S3.17 (stricter: the key must be usable)"}]


# ---------------------------------------------------------------------------------------------
# The catalogues

@pytest.mark.parametrize("key", ["aws-security-hub", "cis-aws-3.0", "pci-dss-4.0"])
def test_the_bundled_catalogues_load(key: str) -> None:
    assert key in framework_keys()
    f = load_framework(key)
    assert f.key == key and f.title and f.names and f.controls
    assert len({c.id for c in f.controls}) == len(f.controls)
    assert all(c.scope in ("kms", "s3", "not-applicable") and bool(c.why) == (c.scope == "not-applicable")
               for c in f.controls)


def test_catalogue_contents_that_users_rely_on() -> None:
    sh = {c.id: c for c in load_framework("aws-security-hub").controls}
    assert {f"KMS.{i}" for i in range(1, 6)} <= set(sh) and all(sh[f"KMS.{i}"].scope == "kms" for i in range(1, 6))
    assert sh["S3.17"].scope == "s3" and sh["S3.5"].scope == "s3" and sh["S3.13"].scope == "not-applicable"
    assert not any(cid.startswith(("EC2.", "RDS.", "CloudTrail.")) for cid in sh)   # outside KMS/S3: not listed
    cis = {c.id: c.scope for c in load_framework("cis-aws-3.0").controls}
    assert {"2.1.1", "2.1.2", "2.1.3", "2.1.4", "3.6"} <= set(cis) and cis["3.6"] == "kms"
    pci = {c.id: c.scope for c in load_framework("pci-dss-4.0").controls}
    assert pci["3.7.4"] == "kms" and pci["4.2.1"] == "s3" and "3.6.4" not in pci   # v4.0 numbering


def test_every_bundled_reference_to_a_catalogued_framework_is_placed() -> None:
    """Each header reference a catalogue claims is either a listed control or in the unlisted note:
    nothing falls through silently, whatever checks others add."""
    checks = load_checks([bundled_queries_dir()])
    for key in framework_keys():
        f = load_framework(key)
        m = map_checks(f, checks)
        for c in checks:
            for r in refs(c):
                if f.claims(r):
                    listed = f.control(r.control)
                    assert (listed and c in [x for x, _ in m.by_control[listed.id]]) or c in m.unlisted[r.control]


def test_an_unknown_framework_or_a_bad_catalogue_is_an_input_error(tmp_path: Path) -> None:
    from plugin.checks.files import CheckError
    with pytest.raises(CheckError, match=r"unknown framework 'iso-27001' \(one of aws-security-hub, cis-aws-3.0, pci"):
        load_framework("iso-27001")
    (tmp_path / "bad.yaml").write_text("title: t\nnames: [X]\ncontrols:\n  - {id: A.1, title: a, scope: ec2}\n")
    with pytest.raises(CheckError, match="scope is one of kms, s3, not-applicable"):
        load_framework("bad", tmp_path)


# ---------------------------------------------------------------------------------------------
# Per-control status

FW = Framework("test-fw", "Test framework", ("Test FW",), (
    Control("K.1", "keys rotate", "kms"), Control("K.2", "keys are private", "kms"),
    Control("K.3", "keys are described", "kms"), Control("S.1", "buckets use KMS", "s3"),
    Control("S.2", "buckets block public access", "s3"), Control("S.3", "buckets replicate", "not-applicable", "resilience"),
    Control("S.4", "buckets are tagged", "s3"), Control("S.5", "buckets are logged", "s3")))


def _results() -> list[CheckResult]:
    def r(cid: str, ref: str, statuses: list[str], error: str | None = None) -> CheckResult:
        return CheckResult(check(cid, ref), [Finding(f"arn:aws:kms:eu-west-1:111111111111:key/{cid}{i}", "111111111111",
                                                    "eu-west-1", s, "why") for i, s in enumerate(statuses)], error)
    return [r("rotation", "Test FW: K.1", ["pass", "fail", "skip"]),
            r("private", "Test FW: K.2 (stricter: named accounts too)", ["pass", "pass"]),
            r("described", "Test FW: K.3", ["pass", "error"]),
            r("sse_kms", "Test FW: S.1; Other: 9.9", ["pass", "fail"]),
            r("broken", "Test FW: S.4", ["error"], error="Catalog Error: no such table"),
            r("empty", "Test FW: S.5", ["skip"]),
            r("outside", "Test FW: EC2.1", ["fail"])]


def test_each_control_gets_the_status_of_its_worst_finding() -> None:
    rs = _results()
    m = Mutelist("m.yml", [MuteEntry(1, 1, "sse_kms", "accepted")])
    rep = report.Report(database="d", results=rs, framework=FW, muting=apply_mutelist(m, rs, dt.date(2026, 1, 1)))
    view = rep.compliance
    assert view is not None
    status = {c.control.id: c.status for c in view.controls}
    assert status == {"K.1": "fail", "K.2": "pass", "K.3": "error", "S.1": "muted", "S.2": "not covered",
                      "S.3": "not applicable", "S.4": "error", "S.5": "no resources"}
    k1 = next(c for c in view.controls if c.control.id == "K.1")
    assert k1.counts == {"pass": 1, "fail": 1, "error": 0, "skip": 1, "muted": 0}
    assert next(c for c in view.controls if c.control.id == "S.4").failed_to_run == ["broken"]
    assert view.unlisted == {"EC2.1": ["outside"]}
    assert view.tally()["not covered"] == 1 and view.tally()["fail"] == 1


def test_the_view_in_table_json_and_markdown() -> None:
    rep = report.Report(database="d", results=_results(), framework=FW)
    doc = json.loads(report.render(rep, "json"))["compliance"]
    assert doc["framework"] == "test-fw"
    by = {c["id"]: c for c in doc["controls"]}
    assert by["K.1"]["status"] == "fail" and by["S.2"]["status"] == "not covered" and by["S.2"]["checks"] == []
    assert by["K.2"]["checks"] == [{"id": "private", "remark": "stricter: named accounts too", "failed_to_run": False}]
    assert by["S.3"] == {**by["S.3"], "status": "not applicable", "why": "resilience"}
    assert doc["unlisted"] == [{"control": "EC2.1", "checks": ["outside"]}]
    table = report.render(rep, "table")
    assert re.search(r"^FAIL\s+K\.1\s+keys rotate$", table, re.M)
    assert re.search(r"^NOT COVERED\s+S\.2\s+buckets block public access$", table, re.M)
    assert "private (stricter: named accounts too) [2 pass]" in table
    assert "not run: checks mapped to ids this catalogue does not list" in " ".join(table.split())
    assert max(len(line) for line in table.splitlines()) <= 100
    md = report.render(rep, "markdown")
    assert "| K.1 | fail | keys rotate |" in md and "| S.5 | no resources |" in md


def test_a_normal_run_has_no_view() -> None:
    rep = report.Report(database="d", results=_results())
    assert rep.compliance is None and json.loads(report.render(rep, "json"))["compliance"] is None
    assert "Compliance:" not in report.render(rep, "table")


# ---------------------------------------------------------------------------------------------
# The command

@pytest.fixture
def run(run_check: Callable[..., subprocess.CompletedProcess]) -> Callable[..., subprocess.CompletedProcess]:
    return run_check


def test_a_compliance_run_runs_the_mapped_checks_and_reports_per_control(tmp_path: Path, run: Callable[..., Any]) -> None:
    db = make_db(tmp_path / "posture.duckdb")
    args = (str(db), "--no-bundled", "--queries", str(CHECKS), "--compliance", "aws-security-hub", "--format", "json")
    p = run(*args)
    doc = json.loads(p.stdout)
    # kms_rotation_off (KMS.4) and s3_bucket_public (S3.8) map to the catalogue; the others do not run.
    assert {c["id"] for c in doc["checks"]} == {"kms_rotation_off", "s3_bucket_public"}
    status = {c["id"]: c["status"] for c in doc["compliance"]["controls"]}
    assert status["KMS.4"] == "fail" and status["S3.8"] == "fail" and status["KMS.1"] == "not covered"
    assert status["S3.13"] == "not applicable"
    assert p.returncode == 1                       # s3_bucket_public is critical: the usual rules
    assert doc["exit_status"] == 1
    ml = tmp_path / "m.yml"
    ml.write_text("- check: s3_bucket_public\n  reason: public website\n"
                  f"- check: kms_rotation_off\n  resources: [\"{K_DENIED}\"]\n  reason: denied on purpose\n")
    p = run(*args, "--mutelist", str(ml))
    doc = json.loads(p.stdout)
    status = {c["id"]: c["status"] for c in doc["compliance"]["controls"]}
    assert status["S3.8"] == "muted" and status["KMS.4"] == "fail"     # K_NOROT still fails (medium)
    assert p.returncode == 0                       # muted critical; medium below --fail-on high
    table = run(str(db), "--no-bundled", "--queries", str(CHECKS), "--compliance", "cis-aws-3.0",
                "--format", "table").stdout
    assert re.search(r"^FAIL\s+3\.6\s+Ensure rotation", table, re.M)
    assert f"{K_NOROT}" in table


def test_checks_mapped_to_ids_the_catalogue_does_not_list_are_named_and_not_run(tmp_path: Path,
                                                                                 run: Callable[..., Any]) -> None:
    db = make_db(tmp_path / "posture.duckdb")
    (tmp_path / "q").mkdir()
    (tmp_path / "q" / "old_numbering.sql").write_text(
        "-- id: old_numbering\n-- title: t\n-- severity: high\n-- description: d\n-- remediation: r\n"
        "-- compliance: PCI DSS 4.0: 3.6.4\nSELECT arn AS resource_arn, account_id, region, 'fail' AS status, "
        "'x' AS reason FROM aws_kms_keys")
    args = (str(db), "--no-bundled", "--queries", str(CHECKS), "--queries", str(tmp_path / "q"), "--compliance",
            "pci-dss-4.0")
    doc = json.loads(run(*args, "--format", "json").stdout)
    assert doc["compliance"]["unlisted"] == [{"control": "3.6.4", "checks": ["old_numbering"]}]
    assert doc["checks"] == [] and {c["status"] for c in doc["compliance"]["controls"]} <= {"not covered",
                                                                                          "not applicable"}
    table = " ".join(run(*args, "--format", "table").stdout.split())
    assert ("not run: checks mapped to ids this catalogue does not list (outside KMS and S3, or not a control of "
            "it): 3.6.4 (old_numbering)") in table


def test_compliance_options_are_checked_before_anything_runs(tmp_path: Path, run: Callable[..., Any]) -> None:
    missing = str(tmp_path / "missing.duckdb")
    for args, needle in ((("--compliance", "iso-27001"), "--compliance: unknown framework 'iso-27001'"),
                         (("--compliance", "cis-aws-3.0", "--check", "kms_rotation_off"), "does not take --check"),
                         (("--compliance", "cis-aws-3.0", "--severity", "high"), "--severity")):
        p = run(missing, "--no-bundled", "--queries", str(CHECKS), *args)
        assert p.returncode == 2 and p.stdout == ""
        [line] = p.stderr.splitlines()
        assert needle in line, line
