"""`check --format html`: one self-contained page (plugin/checks/report/html.py) and its cross-account
picture (plugin/checks/report/graph.py).

Fast tier: the page's structure, parsed with html.parser, from a Report built by hand and from a small
posture database built here with DuckDB; hostile text from AWS is inert; the graph's extraction and
its size cap. End-to-end (a real browser, or moto's server): the page rendered by headless Chromium
(Debian's `chromium`) without console messages, its DOM (summary, SVG nodes and edges, the filter
kept in the URL fragment) and a non-trivial screenshot; and the page of a database synced from the
demo world. Without `chromium` on PATH the browser tests try `apt-get install -y chromium` (as root,
with apt, within a few minutes; not with AWS_ENCRYPTION_TEST_NO_APT=1), else they skip saying why.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import shutil
import struct
import subprocess
import zlib
from html.parser import HTMLParser
from pathlib import Path
from typing import Any, Iterator

import duckdb
import pytest

from plugin.checks.files import Check
from plugin.checks.mutelist import MuteEntry, Mutelist, apply_mutelist
from plugin.checks.report import FORMATS, Report, format_for, render
from plugin.checks.report.graph import AccessGraph, extract_graph, load_graph
from plugin.checks.report.html import VERDICT_COLORS
from plugin.checks.runner import CheckResult, Finding
from plugin.cli import main as cli

REPO = Path(__file__).resolve().parent.parent

OWNER, READER, THIRD = "111111111111", "222222222222", "333333333333"
LAKE = f"arn:aws:s3:::data-lake-{OWNER}"
SECRET = f"arn:aws:secretsmanager:us-east-1:{OWNER}:secret:db-creds-AbCdEf"
QUEUE = f"arn:aws:sqs:us-east-1:{OWNER}:order-events"
AWS_S3_KEY = f"arn:aws:kms:us-east-1:{OWNER}:key/4dfc62c0-3987-474b-9b8d-203db4f61c00"
CMK = f"arn:aws:kms:us-east-1:{OWNER}:key/6bf3f872-143e-405d-9200-f17a7d31d876"

# Markup and script in the data: a reason, an ARN, a title, an account, evidence, a mutelist reason.
PAYLOAD = ('</td></details><script>console.error("pwned-script")</script>'
           '<img src=x onerror="console.error(\'pwned-img\')">')
HOSTILE_ARN = ('arn:aws:s3:::evil"><svg onload="console.error(\'pwned-svg\')">'
               '<script>console.error("pwned-arn")</script>')
BIDI = "key\u202eflow"

S3_COLUMNS = ("account_id", "bucket_arn", "bucket_region", "path", "principal", "principal_type", "principal_account",
              "principal_org_id", "principal_label", "access", "bucket_verdict", "key_arn", "key_type",
              "key_account_id", "key_verdict")
SHARED_COLUMNS = ("account_id", "region", "resource_arn", "resource_type", "principal", "principal_type",
                  "principal_account", "principal_org_id", "principal_label", "access", "resource_verdict",
                  "key_reference", "key_arn", "key_type", "key_account_id", "key_verdict")


def _s3_row(bucket: str, principal_account: str | None, verdict: str, *, path: str = "bucket_policy",
            ptype: str = "principal", key: str = AWS_S3_KEY, bucket_verdict: str = "allow",
            principal: str | None = None, owner: str = OWNER) -> tuple:
    principal = principal or (f"arn:aws:iam::{principal_account}:role/reader" if principal_account else "*")
    return (owner, bucket, "us-east-1", path, principal, ptype, principal_account, None, principal, "read",
            bucket_verdict, key, "aws_managed" if key == AWS_S3_KEY else "customer_managed_aws_key_material", owner,
            verdict)


def make_posture(path: Path | str, s3_rows: list[tuple] | None = None,
                 hostile: bool = False) -> duckdb.DuckDBPyConnection:
    """A posture database holding what graph.py reads: the S3 and SQS/secret access paths, keys, aliases."""
    con = duckdb.connect(str(path))
    con.execute(f"CREATE TABLE aws_s3_bucket_access_paths ({', '.join(c + ' VARCHAR' for c in S3_COLUMNS)})")
    con.execute(f"CREATE TABLE aws_sqs_queue_access_paths ({', '.join(c + ' VARCHAR' for c in SHARED_COLUMNS)})")
    con.execute(f"CREATE TABLE aws_secretsmanager_secret_access_paths "
                f"({', '.join(c + ' VARCHAR' for c in SHARED_COLUMNS)})")
    con.execute("CREATE TABLE aws_kms_keys (arn VARCHAR, account_id VARCHAR, region VARCHAR, key_state VARCHAR, "
                "description VARCHAR)")
    con.execute("CREATE TABLE aws_kms_aliases (account_id VARCHAR, alias_name VARCHAR, target_key_id VARCHAR)")
    rows = s3_rows if s3_rows is not None else [
        _s3_row(LAKE, READER, "not_allowed"),
        _s3_row(LAKE, THIRD, "allow", key=CMK),
        _s3_row(LAKE, OWNER, "allow"),                                   # the owner's own role: not shared
        _s3_row(LAKE, None, "allow", path="owner", ptype="account", principal=f"arn:aws:iam::{OWNER}:root"),
        _s3_row(LAKE, None, "unknown", ptype="unknown", principal="?"),  # could not be read: an error finding
        _s3_row(f"arn:aws:s3:::refused-{OWNER}", READER, "not_allowed", bucket_verdict="deny"),  # the bucket refuses
    ]
    if hostile:
        rows.append(_s3_row(HOSTILE_ARN, READER, "deny", principal=PAYLOAD))
    con.executemany(f"INSERT INTO aws_s3_bucket_access_paths VALUES ({', '.join('?' * len(S3_COLUMNS))})", rows)
    con.execute("INSERT INTO aws_sqs_queue_access_paths VALUES (?, 'us-east-1', ?, 'AwsSqsQueue', "
                "'events.amazonaws.com', 'service', NULL, NULL, 'service events.amazonaws.com', 'send', 'allow', "
                "'alias/aws/sqs', NULL, 'aws_managed', ?, 'not_allowed')", [OWNER, QUEUE, OWNER])
    con.execute("INSERT INTO aws_secretsmanager_secret_access_paths VALUES (?, 'us-east-1', ?, "
                "'AwsSecretsManagerSecret', ?, 'account', ?, NULL, ?, 'read', 'allow', ?, ?, "
                "'customer_managed_aws_key_material', ?, 'unknown')",
                [OWNER, SECRET, f"arn:aws:iam::{READER}:root", READER, f"account {READER}", CMK, CMK, OWNER])
    con.executemany("INSERT INTO aws_kms_keys VALUES (?, ?, 'us-east-1', ?, ?)", [
        (AWS_S3_KEY, OWNER, "Enabled", "Default key that protects my S3 objects"),
        (CMK, OWNER, "Enabled", "data lake cmk" + (PAYLOAD if hostile else ""))])
    con.executemany("INSERT INTO aws_kms_aliases VALUES (?, ?, ?)", [
        (OWNER, "alias/aws/s3", AWS_S3_KEY.rsplit("/", 1)[1]), (OWNER, "alias/data-lake-cmk", CMK.rsplit("/", 1)[1])])
    return con


def _check(cid: str, severity: str, title: str = "", **kw: Any) -> Check:
    return Check(id=cid, title=title or f"{cid} title", severity=severity, description=f"{cid} description",
                 remediation=kw.pop("remediation", f"Remediate {cid}."), sql="SELECT 1",
                 path=REPO / "queries" / f"{cid}.sql", bundled=True, **kw)


def hand_report(hostile: bool = False, muted: bool = True) -> Report:
    """A realistic report: failing, erroring, passing, skipped and muted findings over two accounts,
    remediation text and commands, evidence columns, and the graph of make_posture's database."""
    cross = _check("s3_aws_managed_key_cross_account", "high", "Buckets shared with other accounts are not on aws/s3",
                   remediation="Encrypt the bucket with a customer managed key whose policy admits the readers.",
                   remediation_cli="aws s3api put-bucket-encryption --bucket <bucket> --server-side-encryption-"
                                   "configuration '{...}'",
                   references=["https://docs.aws.amazon.com/kms/latest/developerguide/key-policy-modifying.html",
                               "javascript:console.error('pwned-href')"],
                   risk="Readers get AccessDenied from KMS.")
    rotation = _check("kms_cmk_rotation_disabled", "medium", "Customer managed keys rotate",
                      remediation_cli="aws kms enable-key-rotation --key-id <key-arn>")
    unused = _check("kms_cmk_unused", "low", "Customer managed keys are in use")
    inventory = _check("encryption_key_inventory", "info", "Key inventory")
    reason = (f"Default encryption uses the AWS managed key {AWS_S3_KEY}, but arn:aws:iam::{READER}:role/reader may "
              "read objects: their requests fail with AccessDenied from KMS. Fix: aws s3api put-bucket-encryption "
              f"--bucket data-lake-{OWNER} --server-side-encryption-configuration '{{\"Rules\":[]}}'")
    rows = [Finding(LAKE, OWNER, "us-east-1", "fail", reason, {"key_arn": AWS_S3_KEY, "readers": [READER]}),
            Finding(f"arn:aws:s3:::scratch-{READER}", READER, "us-east-1", "pass", "Not shared."),
            Finding(f"arn:aws:s3:::muted-{OWNER}", OWNER, "eu-west-1", "fail", "Shared with the public website.")]
    if hostile:
        rows.append(Finding(HOSTILE_ARN, f"{READER}{BIDI}", "us-east-1", "fail", PAYLOAD, {PAYLOAD: PAYLOAD}))
        cross = _check(cross.id, "high", f"Title {PAYLOAD}", remediation=f"Remediate {PAYLOAD}",
                       remediation_cli=f"aws s3api {PAYLOAD}", references=cross.references)
    results = [
        CheckResult(cross, rows),
        CheckResult(rotation, [Finding(CMK, OWNER, "us-east-1", "fail", "Automatic rotation is off. Fix: aws kms "
                                       f"enable-key-rotation --key-id {CMK}"),
                               Finding(AWS_S3_KEY, OWNER, "us-east-1", "skip", "AWS managed: rotated by AWS."),
                               Finding(f"arn:aws:kms:us-east-1:{READER}:key/x", READER, "us-east-1", "error",
                                       "GetKeyRotationStatus was denied (AccessDeniedException).")]),
        CheckResult(unused, [Finding(CMK, OWNER, "us-east-1", "pass", "Used by data-lake.")]),
        CheckResult(inventory, [Finding(AWS_S3_KEY, OWNER, "us-east-1", "pass", "AWS managed key.")]),
    ]
    report = Report(database="/tmp/posture.duckdb", results=results, fail_on="high",
                    generated_at=dt.datetime(2026, 11, 30, 12, 0, tzinfo=dt.timezone.utc))
    if muted:
        entry = MuteEntry(index=1, line=1, check=cross.id,
                          reason=f"Public website assets (SEC-1){PAYLOAD if hostile else ''}",
                          resources=(f"arn:aws:s3:::muted-{OWNER}",))
        report.muting = apply_mutelist(Mutelist("mutelist.yml", [entry]), results, dt.date(2026, 11, 30))
    report.graph = extract_graph(make_posture(":memory:", hostile=hostile))
    return report


class Page(HTMLParser):
    """The elements of a page: (tag, attributes) in order, the text, and every script's body."""

    def __init__(self, text: str) -> None:
        super().__init__(convert_charrefs=True)
        self.elements: list[tuple[str, dict[str, str]]] = []
        self.text: list[str] = []
        self.scripts: list[str] = []
        self._in_script = False
        self.feed(text)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.elements.append((tag, {k: v or "" for k, v in attrs}))
        self._in_script = tag == "script"
        if self._in_script:
            self.scripts.append("")

    handle_startendtag = handle_starttag

    def handle_endtag(self, tag: str) -> None:
        self._in_script = False

    def handle_data(self, data: str) -> None:
        if self._in_script:
            self.scripts[-1] += data
        else:
            self.text.append(data)

    def by(self, tag: str | None = None, **attrs: str) -> list[dict[str, str]]:
        return [a for t, a in self.elements if (tag is None or t == tag)
                and all(a.get(k.replace("_", "-")) == v for k, v in attrs.items())]

    def ids(self) -> set[str]:
        return {a["id"] for _, a in self.elements if "id" in a}


def assert_self_contained(text: str, page: Page) -> None:
    """Nothing is fetched: no external script, style, font, image or frame; one inline script; a CSP."""
    tags = {t for t, _ in page.elements}
    assert not tags & {"link", "iframe", "object", "embed", "img", "base", "form-action", "meta-refresh"}
    for t, a in page.elements:
        assert "src" not in a, (t, a)
        assert not any(k.startswith("on") for k in a), (t, a)  # no inline handlers at all
        if t != "a":
            assert "href" not in a and "xlink:href" not in a, (t, a)
        else:
            assert a["href"].startswith("https://"), a
    assert len(page.by("script")) == 1
    assert "@import" not in text and "url(" not in text and "@font-face" not in text
    csp = page.by("meta", http_equiv="Content-Security-Policy")
    assert csp and "default-src 'none'" in csp[0]["content"] and "unsafe-inline" not in csp[0]["content"]


# ---------------------------------------------------------------------------------------------
# Fast: the format, the page, escaping, the graph

def test_html_is_a_format_chosen_by_extension() -> None:
    assert "html" in FORMATS
    assert format_for("report.html", False) == "html" and format_for("out/REPORT.HTM", True) == "html"
    assert format_for("report.json", False) == "json"


def test_page_has_summary_graph_and_filterable_findings() -> None:
    report = hand_report()
    text = render(report, "html")
    page = Page(text)
    assert_self_contained(text, page)
    assert {"verdict", "summary", "by-severity", "by-account", "by-check", "graph", "access-graph", "findings",
            "filters", "finding-list", "shown-count"} <= page.ids()
    body = " ".join(page.text)
    assert "FAILED: 1 failing finding at or above high" in body and "1 finding muted" in body
    # Counts per status with the muted column, per severity, per account and per check.
    assert [a["data-value"] for a in page.by("button", data_filter="status")] == [
        "fail", "error", "muted", "pass", "skip"]
    assert {a["data-value"] for a in page.by("button", data_filter="account")} == {OWNER, READER}
    assert {a["data-value"] for a in page.by("button", data_filter="check")} == {
        "s3_aws_managed_key_cross_account", "kms_cmk_rotation_disabled", "kms_cmk_unused", "encryption_key_inventory"}
    # One finding element per finding, with what the filters read.
    findings = page.by("details")
    assert len(findings) == 8
    assert sorted(f["data-status"] for f in findings) == [
        "error", "fail", "fail", "muted", "pass", "pass", "pass", "skip"]
    assert {f["data-severity"] for f in findings} == {"high", "medium", "low", "info"}
    assert {f["data-account"] for f in findings} == {OWNER, READER}
    # The filters: status, severity, check, account, free text; fail/error/muted shown first.
    assert {a["value"] for a in page.by("input", name="status") if "checked" in a} == {"fail", "error", "muted"}
    assert len(page.by("input", name="severity")) == 5 and page.by("input", name="q")
    assert {a["value"] for a in page.by("option")} >= {"", "kms_cmk_unused", OWNER, READER}
    # Reason, the fix it names, evidence, remediation and its command, the mute's reason.
    assert "Fix" in body and "aws s3api put-bucket-encryption --bucket data-lake-111111111111" in body
    assert "Encrypt the bucket with a customer managed key whose policy admits the readers." in body
    assert "aws kms enable-key-rotation --key-id <key-arn>" in body and "Evidence" in body and "key_arn" in body
    assert "Public website assets (SEC-1)" in body
    # Only http(s) references are links.
    assert {a["href"] for a in page.by("a")} == {
        "https://docs.aws.amazon.com/kms/latest/developerguide/key-policy-modifying.html"}
    assert "javascript:console.error('pwned-href')" in body  # shown, not a link


def test_graph_nodes_and_edges_on_the_page() -> None:
    page = Page(render(hand_report(), "html"))
    nodes = {a["data-node"]: a for a in page.by("g") if "data-node" in a}
    kinds: dict[str, set[str]] = {}
    for nid, a in nodes.items():
        kinds.setdefault(a["data-kind"], set()).add(nid)
    assert kinds["owner"] == {f"owner:{OWNER}"}
    assert kinds["resource"] == {LAKE, QUEUE, SECRET}
    assert kinds["reader"] == {f"account:{READER}", f"account:{THIRD}", "service:events.amazonaws.com"}
    assert kinds["key"] == {f"key:{AWS_S3_KEY}", f"key:{CMK}", f"key:{OWNER}:us-east-1:alias/aws/sqs"}
    edges = [a for a in page.by("path") if "access" in a.get("class", "").split()]
    verdicts = {(a["data-from"], a["data-to"]): a["data-verdict"] for a in edges}
    assert verdicts == {(f"key:{AWS_S3_KEY}", f"account:{READER}"): "not_allowed",
                        (f"key:{CMK}", f"account:{THIRD}"): "allow",
                        (f"key:{CMK}", f"account:{READER}"): "unknown",
                        (f"key:{OWNER}:us-east-1:alias/aws/sqs", "service:events.amazonaws.com"): "not_allowed"}
    assert all(a["stroke"] == VERDICT_COLORS[a["data-verdict"]] for a in edges)
    assert len([a for a in page.by("path") if "encrypts" in a.get("class", "")]) == 4  # the lake has two keys
    body = " ".join(page.text)
    assert "3 shared resources, 4 resource-to-reader paths, " in body and "2 broken" in body
    assert "alias/aws/s3" in body and "alias/data-lake-cmk" in body


def test_hostile_text_is_inert() -> None:
    text = render(hand_report(hostile=True), "html")
    page = Page(text)
    assert_self_contained(text, page)
    assert len(page.by("svg", id="access-graph")) == 1
    # Every SVG is ours: the graph, the legend's swatches and the summary bars.
    assert len(page.by("svg")) == 1 + 6 + len(page.by("svg", **{"class": "bar"}))
    assert "pwned" not in page.scripts[0] and "<svg onload" not in text and "<img" not in text
    assert "<script>console" not in text
    body = " ".join(page.text)
    assert PAYLOAD in body  # shown as text, exactly
    assert HOSTILE_ARN in body
    assert "\u202e" not in text and f"{READER}keyflow" in body  # bidi controls removed
    # ... in the graph too: the hostile bucket is a node, its name and its principal text only.
    nodes = {a["data-node"] for a in page.by("g") if "data-node" in a}
    assert HOSTILE_ARN in nodes


def test_html_without_access_path_tables_or_findings() -> None:
    report = Report(database="x.duckdb", results=[])
    page = Page(render(report, "html"))
    assert "access-graph" not in page.ids() and "No access-path tables" in " ".join(page.text)
    report.graph = AccessGraph(tables=["aws_s3_bucket_access_paths"])
    assert "No resource is shared" in " ".join(Page(render(report, "html")).text)


def test_graph_extraction_keeps_other_account_paths() -> None:
    g = extract_graph(make_posture(":memory:"))
    assert g is not None and not g.problems
    assert [n.id for n in g.resources] == [LAKE, QUEUE, SECRET]  # most broken first; the refused bucket left out
    assert {n.id for n in g.readers} == {f"account:{READER}", f"account:{THIRD}", "service:events.amazonaws.com"}
    assert (g.total_resources, g.total_edges, g.total_broken) == (3, 4, 2)
    lake = {(e.target, e.key): e for e in g.edges if e.kind == "access" and e.source == LAKE}
    assert lake[(f"account:{READER}", f"key:{AWS_S3_KEY}")].verdict == "not_allowed"
    assert lake[(f"account:{THIRD}", f"key:{CMK}")].verdict == "allow"
    assert not any(e.target == f"account:{OWNER}" for e in g.edges)  # the owner's own role is not shared
    key = next(n for n in g.keys if n.id == f"key:{AWS_S3_KEY}")
    assert key.label == "alias/aws/s3" and "AWS managed" in key.sub and "protects my S3" in key.title
    assert extract_graph(duckdb.connect(":memory:")) is None  # no access-path table


def test_graph_cap_keeps_the_most_broken_resources_and_says_how_many_are_left_out() -> None:
    rows = []
    for i in range(50):  # 50 buckets; every fifth is broken for 2 readers, the others allow 1
        bucket = f"arn:aws:s3:::b{i:02d}"
        if i % 5 == 0:
            rows += [_s3_row(bucket, f"{400000000000 + i}", "not_allowed"), _s3_row(bucket, READER, "deny")]
        else:
            rows.append(_s3_row(bucket, f"{500000000000 + i}", "allow", key=CMK))
    g = extract_graph(make_posture(":memory:", s3_rows=rows), max_resources=12, max_readers=8)
    assert g.total_resources == 52 and g.total_broken == 21  # + the queue and the secret
    assert g.omitted_resources == 40 and len(g.resources) == 12
    assert {n.id for n in g.resources[:11]} == {f"arn:aws:s3:::b{i:02d}" for i in range(0, 50, 5)} | {QUEUE}
    assert g.omitted_edges == g.total_edges - len([e for e in g.edges if e.kind == "access"])
    # 12 readers (10 accounts, READER, the service): READER and the 6 first others kept, 5 folded into one.
    readers = {n.id for n in g.readers}
    assert len(readers) == 8 and "more:readers" in readers and f"account:{READER}" in readers
    assert g.omitted_readers == 5
    assert any(e.target == "more:readers" and e.verdict == "not_allowed" for e in g.edges)
    assert any(e.target == f"account:{READER}" and e.verdict == "deny" for e in g.edges)  # the most broken stays
    page = Page(render(Report(database="x", results=[], graph=g), "html"))
    assert "40 resources" in " ".join(page.text) and "readers folded into one node" in " ".join(page.text)


def test_check_command_writes_the_html_report_with_the_graph(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    db = tmp_path / "posture.duckdb"
    make_posture(db, hostile=True).close()
    (tmp_path / "checks").mkdir()
    (tmp_path / "checks" / "key_echo.sql").write_text(
        "-- id: key_echo\n-- title: Keys\n-- severity: high\n-- description: d\n-- remediation: r\n"
        "SELECT arn AS resource_arn, account_id, region, 'fail' AS status, description AS reason FROM aws_kms_keys\n")
    monkeypatch.chdir(REPO)
    out = tmp_path / "report.html"
    code = cli.main(["check", str(db), "--no-bundled", "--queries", str(tmp_path / "checks"), "--output", str(out),
                     "--allow-incomplete"])
    assert code == 1  # high fails
    text = out.read_text()
    page = Page(text)
    assert_self_contained(text, page)
    resources = {a["data-node"] for a in page.by("g") if a.get("data-kind") == "resource"}
    assert resources == {LAKE, QUEUE, SECRET, HOSTILE_ARN}
    assert PAYLOAD in " ".join(page.text) and "<img" not in text
    # Other formats do not read the graph.
    code = cli.main(["check", str(db), "--no-bundled", "--queries", str(tmp_path / "checks"), "--output",
                     str(tmp_path / "r.json")])
    assert "access-graph" not in (tmp_path / "r.json").read_text()


def test_load_graph_of_a_missing_database_says_why() -> None:
    g = load_graph("/nonexistent/posture.duckdb")
    assert g is not None and g.problems and not g.resources


# ---------------------------------------------------------------------------------------------
# Headless Chromium

APT_BUDGET_S = 420  # apt-get update plus install, at most


@pytest.fixture(scope="session")
def chromium() -> str:
    """Debian's chromium: on PATH, or installed with apt-get as root within APT_BUDGET_S; else skip."""
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found:
        return found
    why = _install_chromium()
    found = shutil.which("chromium")
    if not found:
        pytest.skip(f"no headless browser: chromium is not on PATH and {why}")
    return found


def _install_chromium() -> str:
    if os.environ.get("AWS_ENCRYPTION_TEST_NO_APT"):
        return "AWS_ENCRYPTION_TEST_NO_APT is set (install it: apt-get install -y chromium)"
    if not hasattr(os, "geteuid") or os.geteuid() != 0 or not shutil.which("apt-get"):
        return "it can't be installed here (needs root and apt-get: apt-get install -y chromium)"
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    deadline = dt.datetime.now() + dt.timedelta(seconds=APT_BUDGET_S)
    for step in (["apt-get", "install", "-y", "-q", "chromium"], ["apt-get", "update", "-q"],
                 ["apt-get", "install", "-y", "-q", "chromium"]):
        left = (deadline - dt.datetime.now()).total_seconds()
        if left <= 5:
            return f"apt-get install -y chromium did not finish within {APT_BUDGET_S} s"
        try:
            subprocess.run(step, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL, timeout=left, check=False)
        except (subprocess.TimeoutExpired, OSError) as e:
            return f"{' '.join(step)} failed ({type(e).__name__})"
        if shutil.which("chromium"):
            return "installed"
    return "apt-get install -y chromium failed"


CONSOLE = re.compile(r":CONSOLE(?::\d+|\(\d+\))\]\s*(.*)")


def run_chromium(binary: str, page: Path, tmp: Path, *flags: str, fragment: str = "") -> tuple[str, list[str]]:
    """Chromium headless on file://page: its stdout and the console messages it logged (any at all
    is a failure of ours: the page logs nothing, and CSP refusals and uncaught errors are logged)."""
    p = subprocess.run(
        [binary, "--headless", "--disable-gpu", "--no-sandbox", "--no-first-run", "--disable-extensions",
         "--hide-scrollbars", "--enable-logging=stderr", "--v=0", f"--user-data-dir={tmp / 'chromium-profile'}",
         *flags, page.resolve().as_uri() + fragment],
        capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL)
    assert p.returncode == 0, p.stderr[-2000:]
    return p.stdout, [m.group(1) for m in CONSOLE.finditer(p.stderr)]


def png_pixels(data: bytes) -> tuple[int, int, list[bytes], int]:
    """A PNG's width, height, rows of pixels and bytes per pixel: 8-bit RGB or RGBA, not interlaced."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    pos, idat = 8, b""
    width = height = bpp = 0
    while pos < len(data):
        n, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + n]
        if kind == b"IHDR":
            width, height, depth, ctype, _, _, interlace = struct.unpack(">IIBBBBB", body)
            assert depth == 8 and ctype in (2, 6) and interlace == 0, (depth, ctype, interlace)
            bpp = 3 if ctype == 2 else 4
        elif kind == b"IDAT":
            idat += body
        pos += 12 + n
    raw = zlib.decompress(idat)
    stride = width * bpp
    rows: list[bytes] = []
    prev = bytearray(stride)
    for y in range(height):
        kind = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        if kind == 1:
            for i in range(bpp, stride):
                line[i] = (line[i] + line[i - bpp]) & 255
        elif kind == 2:
            line = bytearray((a + b) & 255 for a, b in zip(line, prev))
        elif kind == 3:
            for i in range(stride):
                line[i] = (line[i] + ((line[i - bpp] if i >= bpp else 0) + prev[i]) // 2) & 255
        elif kind == 4:
            for i in range(stride):
                a = line[i - bpp] if i >= bpp else 0
                b, c = prev[i], (prev[i - bpp] if i >= bpp else 0)
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        rows.append(bytes(line))
        prev = line
    return width, height, rows, bpp


def assert_screenshot(path: Path, colour: str) -> None:
    """A real picture: a PNG of the window's size, many colours, and the graph's `colour` in it."""
    data = path.read_bytes()
    assert len(data) > 20_000, len(data)
    width, height, rows, bpp = png_pixels(data)
    assert (width, height) == (1400, 2000)
    want = bytes.fromhex(colour.lstrip("#"))
    colours: set[bytes] = set()
    hits = 0
    for row in rows:
        for x in range(0, width * bpp, bpp):
            px = row[x:x + 3]
            colours.add(px)
            hits += px == want
    assert len(colours) > 100, len(colours)  # not a blank or single-colour page
    assert hits > 50, f"no {colour} pixels: the graph's broken edges are not drawn"


def _page_checks(dom: str, console: list[str]) -> Page:
    assert console == [], console
    assert 'data-ready="1"' in dom  # the script ran to its end
    page = Page(dom)
    assert {"summary", "by-severity", "by-account", "by-check", "access-graph", "findings"} <= page.ids()
    return page


@pytest.mark.e2e
def test_chromium_renders_the_page_with_no_console_message(chromium: str, tmp_path: Path) -> None:
    html_file = tmp_path / "report.html"
    html_file.write_text(render(hand_report(hostile=True), "html"), encoding="utf-8")
    dom, console = run_chromium(chromium, html_file, tmp_path, "--dump-dom")
    page = _page_checks(dom, console)  # no console message: no CSP refusal, no script error, nothing "pwned"
    assert not page.by("img") and len(page.by("script")) == 1
    nodes = {a["data-node"]: a["data-kind"] for a in page.by("g") if "data-node" in a}
    assert nodes[LAKE] == "resource" and nodes[HOSTILE_ARN] == "resource"
    assert nodes[f"account:{READER}"] == "reader" and nodes[f"owner:{OWNER}"] == "owner"
    assert any(a.get("data-verdict") == "not_allowed" for a in page.by("path"))
    body = " ".join(page.text)
    assert PAYLOAD in body and "Summary" in body and "Cross-account access" in body
    # Shown by default: fail, error and muted; pass and skip hidden until chosen.
    shown = [a for a in page.by("details") if "hidden" not in a]
    assert sorted(a["data-status"] for a in shown) == ["error", "fail", "fail", "fail", "muted"]

    shot = tmp_path / "report.png"
    _, console = run_chromium(chromium, html_file, tmp_path, f"--screenshot={shot}", "--window-size=1400,2000")
    assert console == [], console
    assert_screenshot(shot, VERDICT_COLORS["not_allowed"])


@pytest.mark.e2e
def test_chromium_applies_the_filter_kept_in_the_fragment(chromium: str, tmp_path: Path) -> None:
    html_file = tmp_path / "report.html"
    html_file.write_text(render(hand_report(), "html"), encoding="utf-8")
    dom, console = run_chromium(chromium, html_file, tmp_path, "--dump-dom",
                                fragment="#status=fail,pass&severity=high,medium,low,info&q=data-lake-1")
    page = _page_checks(dom, console)
    shown = [a for a in page.by("details") if "hidden" not in a]
    assert [(a["data-status"], a["data-check"]) for a in shown] == [("fail", "s3_aws_managed_key_cross_account")]
    assert re.search(r'id="shown-count">1<', dom)
    dom, console = run_chromium(chromium, html_file, tmp_path, "--dump-dom",
                                fragment=f"#status=fail,error,muted,pass,skip&severity=medium&account={READER}")
    shown = [a for a in _page_checks(dom, console).by("details") if "hidden" not in a]
    assert [(a["data-status"], a["data-account"]) for a in shown] == [("error", READER)]


# ---------------------------------------------------------------------------------------------
# End to end: a database synced from the demo world

@pytest.fixture
def demo_db(world: Any, tmp_path: Path) -> Iterator[Path]:
    from plugin.demo.world import COMPUTE, DATA

    from .test_checks import _sync
    db = tmp_path / "posture.duckdb"
    _sync(world, db, [DATA, COMPUTE])
    yield db


def test_html_report_of_the_demo_world(demo_db: Path, chromium: str, tmp_path: Path,
                                       monkeypatch: pytest.MonkeyPatch) -> None:
    from plugin.demo.world import COMPUTE, DATA
    monkeypatch.chdir(REPO)
    out = tmp_path / "report.html"
    assert cli.main(["check", str(demo_db), "--output", str(out)]) == 1
    page = Page(out.read_text())
    nodes = {a["data-node"]: a for a in page.by("g") if "data-node" in a}
    lake = next(n for n in nodes if n.startswith("arn:aws:s3:::data-lake-"))
    assert nodes[lake]["data-kind"] == "resource"
    assert any(n.startswith("arn:aws:secretsmanager:") for n in nodes)
    compute = f"account:{COMPUTE}"
    assert nodes[compute]["data-kind"] == "reader" and nodes[f"owner:{DATA}"]["data-kind"] == "owner"
    broken = [a for a in page.by("path") if a.get("data-verdict") in ("not_allowed", "deny")]
    assert any(a["data-to"] == compute for a in broken)
    assert any(a.get("data-filter") == "check" and a.get("data-value") == "s3_aws_managed_key_cross_account"
               for a in page.by("button"))

    dom, console = run_chromium(chromium, out, tmp_path, "--dump-dom")
    assert _page_checks(dom, console).by("g", data_node=lake)
    shot = tmp_path / "report.png"
    _, console = run_chromium(chromium, out, tmp_path, f"--screenshot={shot}", "--window-size=1400,2000")
    assert console == [], console
    assert_screenshot(shot, VERDICT_COLORS["not_allowed"])
