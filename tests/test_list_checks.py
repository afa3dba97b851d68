"""`aws-encryption check --list-checks`: every loaded check with its severity, framework controls and
peers, as a table or JSON, without a database; with `--compliance`, the framework's catalogue and
the checks mapped to each control. Read from the check headers, so checks others add appear too.
"""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path
from typing import Any, Callable

import pytest

from plugin.checks.compliance import load_framework, refs
from plugin.checks.files import bundled_queries_dir, load_checks

from .test_check_runner import CHECKS

BUNDLED = load_checks([bundled_queries_dir()])


@pytest.fixture
def run(run_check: Callable[..., subprocess.CompletedProcess]) -> Callable[..., subprocess.CompletedProcess]:
    return run_check


def test_the_table_lists_every_bundled_check_with_its_severity(run: Callable[..., Any]) -> None:
    p = run("--list-checks")
    assert p.returncode == 0 and p.stderr == ""
    for c in BUNDLED:
        assert re.search(rf"^{re.escape(c.id)}\s+{c.severity}\s+\S", p.stdout, re.M), c.id
    assert p.stdout.rstrip().endswith(f"{len(BUNDLED)} checks")
    assert max(len(line) for line in p.stdout.splitlines()) <= 100
    text = " ".join(p.stdout.split())
    for c in BUNDLED:   # every control id a header names is on the list, with its framework's --compliance name
        for r in refs(c):
            if r.framework == "AWS Security Hub":
                assert f"aws-security-hub {r.control}" in text, (c.id, r)


def test_json_lists_every_bundled_check_with_severity_frameworks_and_peers(run: Callable[..., Any]) -> None:
    p = run("--list-checks", "--format", "json")
    assert p.returncode == 0
    got = {c["id"]: c for c in json.loads(p.stdout)["checks"]}
    assert set(got) == {c.id for c in BUNDLED}
    for c in BUNDLED:
        assert got[c.id]["severity"] == c.severity and got[c.id]["title"] == c.title
        assert got[c.id]["peers"] == c.peers
        assert [(f["framework"], f["control"]) for f in got[c.id]["frameworks"]] == [(r.framework, r.control)
                                                                                   for r in refs(c)]
    # a framework a catalogue claims is named by its --compliance value
    claimed = [f for c in got.values() for f in c["frameworks"] if f["framework"] == "AWS Security Hub"]
    assert all(f["compliance"] == "aws-security-hub" for f in claimed)


def test_queries_and_selection_narrow_the_list(run: Callable[..., Any]) -> None:
    doc = json.loads(run("--list-checks", "--no-bundled", "--queries", str(CHECKS), "--format", "json").stdout)
    assert {c["id"] for c in doc["checks"]} == {p.stem for p in CHECKS.glob("*.sql")}
    rot = next(c for c in doc["checks"] if c["id"] == "kms_rotation_off")
    assert [(f["compliance"], f["control"]) for f in rot["frameworks"]] == [("cis-aws-3.0", "3.6"),
                                                                           ("aws-security-hub", "KMS.4")]
    doc = json.loads(run("--list-checks", "--no-bundled", "--queries", str(CHECKS), "--severity", "critical",
                         "--format", "json").stdout)
    assert [c["id"] for c in doc["checks"]] == ["s3_bucket_public"]


@pytest.mark.parametrize("key", ["aws-security-hub", "cis-aws-3.0", "pci-dss-4.0"])
def test_a_catalogue_lists_its_controls_and_the_checks_mapped_to_them(run: Callable[..., Any], key: str) -> None:
    framework = load_framework(key)
    doc = json.loads(run("--list-checks", "--compliance", key, "--format", "json").stdout)
    assert [c["id"] for c in doc["controls"]] == [c.id for c in framework.controls]
    mapped = {c["id"]: {x["id"] for x in c["checks"]} for c in doc["controls"]}
    for c in BUNDLED:
        for r in refs(c):
            control = framework.control(r.control) if framework.claims(r) else None
            if control is not None:
                assert c.id in mapped[control.id], (c.id, r)
    table = run("--list-checks", "--compliance", key).stdout
    for c in framework.controls:
        assert re.search(rf"^{re.escape(c.id)}\s+{c.scope}\s+", table, re.M), c.id
        if c.scope != "not-applicable" and not mapped[c.id]:
            assert f"{c.id}" in table
    assert ("not covered: no loaded check maps to it" in table) == any(
        not v and c.scope != "not-applicable" for c, v in zip(framework.controls, mapped.values()))


def test_list_checks_input_errors(run: Callable[..., Any], tmp_path: Path) -> None:
    for args, needle in ((("--list-checks", str(tmp_path / "p.duckdb")), "give no database"),
                         (("--list-checks", "--format", "csv"), "--list-checks prints a table or json"),
                         ((), "the posture database (DuckDB file) is required, unless --list-checks")):
        p = run(*args)
        assert p.returncode == 2 and p.stdout == "", p
        [line] = p.stderr.splitlines()
        assert needle in line, line


def test_hostile_check_text_is_escaped_in_the_table(run: Callable[..., Any], tmp_path: Path) -> None:
    (tmp_path / "evil_check.sql").write_text(
        "-- id: evil_check\n-- title: Keys \x1b[2J\x1b[1;32mpassed\x1b[0m now\n-- severity: high\n"
        "-- description: d\n-- remediation: r\n-- peers: a\u202eb\nSELECT 1")
    out = run("--list-checks", "--no-bundled", "--queries", str(tmp_path)).stdout
    assert "\x1b" not in out and "\u202e" not in out and "Keys passed now" in out
