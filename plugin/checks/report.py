"""`aws-encryption check DB`: run the posture checks and report them for people and pipelines.

Formats (`--format`; default `table` when stdout is a terminal and `json` otherwise; with
`--output FILE` the default follows the file's extension: .json, .csv, .sarif / .sarif.json,
.ocsf.json, .md / .markdown, .txt = table, anything else json):

* `table`: a summary per severity (fail/pass/skip/error counts), a line per check, then every
  failing finding (check, severity, resource, account, region, reason) and every error; laid out for
  100 columns; colours only on a terminal and when NO_COLOR is unset or empty.
* `json`: one document {"tool", "database", "generated_at", "fail_on", "notes", "summary",
  "checks": [{metadata..., "params", "status_counts", "error", "elapsed_ms", "findings": [...]}]}.
* `csv`: one row per finding: check_id, severity, title, resource_arn, account_id, region, status,
  reason.
* `sarif`: SARIF 2.1.0, one run; a rule per check that ran; a result per `fail` finding, level
  from the severity (critical/high error, medium warning, low/info note). `error` findings (the sync
  could not read what the check needs) are results with kind `review` and level `none` (SARIF's
  "could not determine", not a failure); a check whose SQL failed is a toolExecutionNotification of
  level error instead (and `executionSuccessful` is false). Every result has the check file as its
  physical location (`queries/<id>.sql` for bundled checks, line 1), so GitHub code scanning accepts
  the upload, the resource ARN as its logical location, and partialFingerprints from a hash of
  (check id, resource ARN); `primaryLocationLineHash` is set to the same hash so that upload-sarif
  does not compute one from the file line (identical for every result of a check).
* `ocsf`: a JSON array of OCSF 1.1.0 Compliance Findings (class_uid 2003), one per finding. See
  `ocsf_findings` for the mapping and where it departs from what was asked.
* `markdown`: a summary table, a table per check and a table of failures (at most
  MARKDOWN_MAX_ROWS rows), for a PR comment or `$GITHUB_STEP_SUMMARY`.

`--only-failed` keeps only `fail` and `error` findings in every format (errors are kept: they are
checks that could not conclude), and in table/markdown only the checks that have some; the counts
(per severity, per check, summary) stay those of all findings. `--output FILE` writes the
report to FILE (replaced atomically) and nothing to stdout.

Exit status (`Report.exit_status`): 1 when a `fail` finding is at or above `--fail-on` (default
high; `none`: findings never fail), or when the data is incomplete (`Report.incomplete`: scopes the
sync could not read, unknown coverage, checks that failed to run, `error` findings) unless
`--allow-incomplete`; else 0. 2 for bad input (no such file, not a posture database, locked, bad
check file, unknown check id, bad --param/--severity, unwritable --output), with a one-line message.
The table report's first screen lists the unread scopes (`coverage_lines`).
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import io
import json
import os
import tempfile
import textwrap
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from .. import NAME, __version__
from .safe_text import for_csv, for_markdown, for_terminal
from .runner import SEVERITIES, SEVERITY_RANK, Check, CheckError, CheckResult, Coverage, Finding, bundled_queries_dir, failing, finding_uid, load_checks, parse_fail_on, parse_params, parse_severity_filter, run_with_coverage, select_checks, summarize, validate_params

FORMATS = ("table", "json", "csv", "sarif", "ocsf", "markdown")
# The bundled check that turns aws_encryption_sync_coverage into findings; it runs whenever the
# bundled checks do, whatever --check/--severity select, so no format can leave unread scopes out.
COVERAGE_CHECK = "sync_coverage"
WIDTH = 100
MARKDOWN_MAX_ROWS = 250
SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
OCSF_VERSION = "1.1.0"


@dataclass
class Report:
    database: str
    results: list[CheckResult]
    generated_at: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.timezone.utc))
    fail_on: str = "high"
    fail_on_error: bool = False
    only_failed: bool = False
    notes: list[str] = field(default_factory=list)
    # What the latest sync read; None when not looked at (reports built by hand).
    coverage: Coverage | None = None
    allow_incomplete: bool = False

    @property
    def summary(self) -> dict[str, Any]:
        return summarize(self.results)

    @property
    def failing(self) -> list[tuple[Check, Finding]]:
        return failing(self.results, self.fail_on, self.fail_on_error)

    @property
    def incomplete(self) -> list[str]:
        """Why the report does not cover everything: unread scopes, checks that failed to run, error
        findings. Each fails the run unless --allow-incomplete (never a silent pass)."""
        out: list[str] = []
        cov = self.coverage
        if cov is not None and not cov.available:
            out.append("the database has no aws_encryption_sync_coverage table, so what the sync read is unknown")
        elif cov is not None and cov.unread:
            n = len(cov.unread)
            out.append(f"{n} account{'s' if n != 1 else ''}, region{'s' if n != 1 else ''} or listing"
                       f"{'s' if n != 1 else ''} not read by the sync")
        broken = [r.check.id for r in self.results if r.error]
        if broken:
            out.append(f"{len(broken)} check{'s' if len(broken) != 1 else ''} failed to run "
                       f"({', '.join(broken[:5])}{', ...' if len(broken) > 5 else ''})")
        errors = sum(1 for r in self.results if not r.error and r.check.id != COVERAGE_CHECK
                     for f in r.rows if f.status == "error")
        if errors:
            out.append(f"{errors} error finding{'s' if errors != 1 else ''} (inputs the sync could not read)")
        return out

    @property
    def exit_status(self) -> int:
        return 1 if self.failing or (self.incomplete and not self.allow_incomplete) else 0

    def shown(self, r: CheckResult) -> list[Finding]:
        return [f for f in r.rows if f.status in ("fail", "error")] if self.only_failed else list(r.rows)

    @property
    def timestamp(self) -> str:
        return self.generated_at.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def render(report: Report, fmt: str, color: bool = False) -> str:
    if fmt == "table":
        return render_table(report, color)
    if fmt == "json":
        return json.dumps(json_document(report), indent=2, ensure_ascii=False) + "\n"
    if fmt == "csv":
        return render_csv(report)
    if fmt == "sarif":
        return json.dumps(sarif_document(report), indent=2, ensure_ascii=False) + "\n"
    if fmt == "ocsf":
        return json.dumps(ocsf_findings(report), indent=2, ensure_ascii=False) + "\n"
    if fmt == "markdown":
        return render_markdown(report)
    raise CheckError(f"unknown format {fmt} (one of {', '.join(FORMATS)})")


def format_for(output: str | None, is_tty: bool) -> str:
    if output is None:
        return "table" if is_tty else "json"
    name = output.lower()
    for suffix, fmt in ((".sarif.json", "sarif"), (".ocsf.json", "ocsf"), (".sarif", "sarif"), (".csv", "csv"),
                        (".md", "markdown"), (".markdown", "markdown"), (".txt", "table"), (".json", "json")):
        if name.endswith(suffix):
            return fmt
    return "json"


def _sorted_findings(report: Report, statuses: tuple[str, ...]) -> list[tuple[Check, Finding]]:
    out = [(r.check, f) for r in report.results for f in r.rows if f.status in statuses]
    out.sort(key=lambda cf: (-SEVERITY_RANK[cf[0].severity], cf[0].id, cf[1].resource_arn))
    return out


def _verdict(report: Report) -> str:
    n = len(report.failing)
    what = "failing or error" if report.fail_on_error else "failing"
    if parse_fail_on(report.fail_on) is None:
        head = "--fail-on none: findings never fail the run"
    elif n:
        head = f"FAILED: {n} {what} finding{'s' if n != 1 else ''} at or above {report.fail_on}"
    else:
        head = f"passed: no {what} finding at or above {report.fail_on}"
    gaps = report.incomplete
    if gaps and report.allow_incomplete:
        tail = "; incomplete, allowed by --allow-incomplete: " + "; ".join(gaps)
    elif gaps:
        head = ("FAILED: " + head[len("FAILED: "):]) if n else "INCOMPLETE: " + head
        tail = "; incomplete: " + "; ".join(gaps)
    else:
        tail = ""
    return f"{head}{tail} (exit {report.exit_status})"


def coverage_lines(report: Report, limit: int = 10) -> list[str]:
    """What the latest sync could not read and how old each account's data is, for the first screen."""
    cov = report.coverage
    if cov is None:
        return []
    if not cov.available:
        return ["coverage: unknown (no aws_encryption_sync_coverage table: synced by another tool, an older "
                "version, or with the table skipped)"]
    when = cov.sync_time.strftime("%Y-%m-%d %H:%M UTC") if cov.sync_time else "?"
    counts: dict[str, int] = {}
    for a in cov.accounts:
        counts[a.status] = counts.get(a.status, 0) + 1
    line = f"data: sync of {when}; accounts " + ", ".join(f"{n} {st}" for st, n in sorted(counts.items())) \
        if counts else f"data: sync of {when}; no account read"
    out = [line]
    if not cov.unread:
        return out
    out.append(f"NOT READ ({len(cov.unread)}): the checks below say nothing about these")
    for u in cov.unread[:limit]:
        if u.kept_rows:
            kept = f"{u.kept_rows} rows kept from {u.kept_sync_time:%Y-%m-%d %H:%M} UTC"
        elif u.kept_rows == 0:
            kept = "no earlier data"
        else:
            kept = "earlier data not tracked"
        out.append(f"  {u.where}: {u.operation} {u.error_code}; {kept}")
    if len(cov.unread) > limit:
        out.append(f"  ... {len(cov.unread) - limit} more (findings of {COVERAGE_CHECK})")
    return out


def coverage_json(cov: Coverage | None) -> dict[str, Any] | None:
    if cov is None:
        return None

    def ts(v: dt.datetime | None) -> str | None:
        return v.strftime("%Y-%m-%dT%H:%M:%SZ") if v is not None else None

    return {
        "available": cov.available, "complete": cov.complete, "sync_time": ts(cov.sync_time),
        "accounts": [{"account_id": a.account_id, "status": a.status, "synced": ts(a.synced),
                      "oldest_data": ts(a.oldest_data)} for a in cov.accounts],
        "unread": [{"account_id": u.account_id, "region": u.region, "table_name": u.table_name,
                    "operation": u.operation, "error_code": u.error_code, "message": u.message,
                    "kept_rows": u.kept_rows, "kept_sync_time": ts(u.kept_sync_time), "where": u.where}
                   for u in cov.unread],
    }


# ---------------------------------------------------------------------------------------------
# table

_ANSI = {"fail": "31", "pass": "32", "skip": "2", "error": "33", "critical": "1;31", "high": "31",
         "medium": "33", "low": "36", "info": "2", "bold": "1"}


def render_table(report: Report, color: bool = False) -> str:
    def paint(text: str, style: str) -> str:
        return f"\x1b[{_ANSI[style]}m{text}\x1b[0m" if color and style in _ANSI else text

    def num(n: int, status: str, width: int = 7) -> str:
        s = str(n).rjust(width)
        return paint(s, status) if n and status != "pass" else s

    summary = report.summary
    lines: list[str] = []
    head = f"{NAME} check  {summary['checks']} check{'s' if summary['checks'] != 1 else ''}  {report.timestamp}"
    lines.append(paint(head, "bold"))
    # Text from AWS, check files and the command line is escaped before we paint: only our colours reach the tty.
    lines.append(f"database {for_terminal(report.database)}")
    for note in report.notes:
        lines.append(f"note: {for_terminal(note)}")
    for line in coverage_lines(report):
        for part in textwrap.wrap(for_terminal(line), WIDTH, subsequent_indent="      ", break_on_hyphens=False,
                                  drop_whitespace=False) or [""]:
            lines.append(paint(part, "error") if line.startswith("NOT READ") else part.rstrip())
    lines.append("")
    lines.append(f"{'severity':<10}{'checks':>7}{'fail':>7}{'pass':>7}{'skip':>7}{'error':>7}")
    for sev in SEVERITIES:
        s = summary["by_severity"][sev]
        lines.append(paint(f"{sev:<10}", sev) + f"{s['checks']:>7}"
                     + "".join(num(s[st], st) for st in ("fail", "pass", "skip", "error")))
    t = summary["status"]
    lines.append(f"{'total':<10}{summary['checks']:>7}" + "".join(num(t[st], st) for st in ("fail", "pass", "skip", "error")))

    results = [r for r in report.results if not report.only_failed or r.counts()["fail"] or r.counts()["error"]]
    if results:
        idw = min(max(len(r.check.id) for r in results), WIDTH - 10 - 24 - 2)
        lines.append("")
        lines.append(f"{'check':<{idw}}  {'severity':<10}{'fail':>7}{'pass':>7}{'skip':>7}{'error':>7}")
        for r in sorted(results, key=lambda r: (-SEVERITY_RANK[r.check.severity], r.check.id)):
            c = r.counts()
            cid = for_terminal(r.check.id if len(r.check.id) <= idw else r.check.id[: idw - 1] + "…")
            lines.append(f"{cid:<{idw}}  " + paint(f"{r.check.severity:<10}", r.check.severity)
                         + "".join(num(c[st], st) for st in ("fail", "pass", "skip", "error")))
    elif report.only_failed and report.results:
        lines.append("")
        lines.append("no check has failing or error findings")

    for title, status in (("Failures", "fail"), ("Errors", "error")):
        found = _sorted_findings(report, (status,))
        if not found:
            continue
        lines.append("")
        lines.append(paint(f"{title} ({len(found)})", "bold"))
        for check, f in found:
            lines.append("")
            lines.append(paint(f"  {check.severity.upper():<9}", check.severity) + for_terminal(check.id))
            where = "  ".join(for_terminal(x) for x in (
                f.resource_arn, f"account {f.account_id}" if f.account_id else "",
                f"region {f.region}" if f.region else "") if x)
            if where:
                lines.extend(textwrap.wrap(where, WIDTH, initial_indent="    ", subsequent_indent="      ",
                                           break_on_hyphens=False))
            lines.extend(textwrap.wrap(for_terminal(f.reason) or "(no reason given)", WIDTH, initial_indent="    ",
                                       subsequent_indent="    ", break_on_hyphens=False))
    lines.append("")
    verdict = _verdict(report)
    for part in textwrap.wrap(verdict, WIDTH, subsequent_indent="  ", break_on_hyphens=False):
        lines.append(paint(part, "fail" if report.exit_status else "pass"))
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------------------------------------
# json / csv

def _check_meta(c: Check) -> dict[str, Any]:
    return {"id": c.id, "title": c.title, "severity": c.severity, "resource_type": c.resource_type,
            "description": c.description, "risk": c.risk, "remediation": c.remediation,
            "remediation_cli": c.remediation_cli, "references": c.references,
            "compliance": [{"framework": fw, "control": ctl} for fw, ctl in c.compliance],
            "peers": c.peers, "path": c.source_uri}


def _finding_json(check: Check, f: Finding) -> dict[str, Any]:
    return {"uid": finding_uid(check.id, f.resource_arn), "resource_arn": f.resource_arn,
            "account_id": f.account_id, "region": f.region, "status": f.status, "reason": f.reason,
            "details": f.details}


def json_document(report: Report) -> dict[str, Any]:
    return {
        "tool": {"name": NAME, "version": __version__},
        "database": report.database,
        "generated_at": report.timestamp,
        "fail_on": report.fail_on,
        "fail_on_error": report.fail_on_error,
        "only_failed": report.only_failed,
        "allow_incomplete": report.allow_incomplete,
        "exit_status": report.exit_status,
        "verdict": _verdict(report),
        "incomplete": report.incomplete,
        "notes": report.notes,
        "coverage": coverage_json(report.coverage),
        "summary": report.summary,
        "checks": [{**_check_meta(r.check), "params": r.params, "status_counts": r.counts(), "error": r.error,
                    "elapsed_ms": r.elapsed_ms, "findings": [_finding_json(r.check, f) for f in report.shown(r)]}
                   for r in report.results],
    }


CSV_COLUMNS = ("check_id", "severity", "title", "resource_arn", "account_id", "region", "status", "reason")


def _csv_cell(v: str) -> str:
    # With "\n" as row end the csv module quotes a cell holding "\n" but not a bare "\r", which
    # spreadsheets (and csv readers) take as a row break: a new row could start with a formula.
    return for_csv(v).replace("\r\n", "\n").replace("\r", "\n")


def render_csv(report: Report) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(CSV_COLUMNS)
    for r in report.results:
        for f in report.shown(r):
            w.writerow([_csv_cell(v) for v in (r.check.id, r.check.severity, r.check.title, f.resource_arn,
                                               f.account_id, f.region, f.status, f.reason)])
    return buf.getvalue()


# ---------------------------------------------------------------------------------------------
# SARIF 2.1.0

SARIF_LEVEL = {"critical": "error", "high": "error", "medium": "warning", "low": "note", "info": "note"}
# GitHub code scanning ranks security results by this property (>= 9.0 critical, 7.0-8.9 high, ...).
SECURITY_SEVERITY = {"critical": "9.5", "high": "8.0", "medium": "5.5", "low": "3.0"}


def _rule_name(check_id: str) -> str:
    return "".join(p.capitalize() for p in check_id.split("_") if p)


def _help_text(c: Check) -> str:
    text = c.remediation
    if c.remediation_cli:
        text += f"\n\nAWS CLI: {c.remediation_cli}"
    if c.references:
        text += "\n\nReferences:\n" + "\n".join(f"- {u}" for u in c.references)
    return text


def _help_markdown(c: Check) -> str:
    text = c.remediation
    if c.risk:
        text = f"**Risk.** {c.risk}\n\n**Remediation.** {text}"
    if c.remediation_cli:
        text += f"\n\n```sh\n{c.remediation_cli}\n```"
    if c.compliance:
        text += "\n\n" + "\n".join(f"- {fw}: {ctl}" for fw, ctl in c.compliance)
    if c.references:
        text += "\n\n" + "\n".join(f"- <{u}>" for u in c.references)
    return text


def sarif_document(report: Report) -> dict[str, Any]:
    rules: list[dict[str, Any]] = []
    index: dict[str, int] = {}
    for r in report.results:
        c = r.check
        index[c.id] = len(rules)
        rule: dict[str, Any] = {
            "id": c.id,
            "name": _rule_name(c.id),
            "shortDescription": {"text": c.title},
            "fullDescription": {"text": c.description + (f" Risk: {c.risk}" if c.risk else "")},
            "help": {"text": _help_text(c), "markdown": _help_markdown(c)},
            "defaultConfiguration": {"level": SARIF_LEVEL[c.severity]},
            "properties": {
                "severity": c.severity,
                "tags": ["security", "aws", *(f"{fw}: {ctl}" for fw, ctl in c.compliance)],
                **({"security-severity": SECURITY_SEVERITY[c.severity]} if c.severity in SECURITY_SEVERITY else {}),
                **({"resource_type": c.resource_type} if c.resource_type else {}),
            },
        }
        if c.references:
            rule["helpUri"] = c.references[0]
        rules.append(rule)

    results: list[dict[str, Any]] = []
    notifications: list[dict[str, Any]] = []
    for r in report.results:
        c = r.check
        if r.error:
            notifications.append({
                "level": "error",
                "message": {"text": f"check {c.id} failed to run: {r.error}"},
                # `descriptor` would name a notification descriptor; the check is the associated rule.
                "associatedRule": {"id": c.id, "index": index[c.id]},
            })
            continue
        for f in r.rows:
            if f.status not in ("fail", "error"):
                continue
            uid = finding_uid(c.id, f.resource_arn)
            res: dict[str, Any] = {
                "ruleId": c.id,
                "ruleIndex": index[c.id],
                "message": {"text": f.reason or c.title},
                "locations": [{
                    "physicalLocation": {"artifactLocation": {"uri": c.source_uri}, "region": {"startLine": 1}},
                    "logicalLocations": [{"fullyQualifiedName": f.resource_arn or c.id,
                                          "name": _arn_name(f.resource_arn) or c.id, "kind": "resource"}],
                }],
                "partialFingerprints": {"awsEncryptionFinding/v1": uid, "primaryLocationLineHash": f"{uid[:16]}:1"},
                "properties": {"account_id": f.account_id, "region": f.region, "status": f.status,
                               "severity": c.severity},
            }
            if f.status == "fail":
                res["kind"] = "fail"
                res["level"] = SARIF_LEVEL[c.severity]
            else:
                res["kind"] = "review"
                res["level"] = "none"
            results.append(res)

    # Scopes the sync could not read: the run's results say nothing about them.
    for u in (report.coverage.unread if report.coverage is not None else []):
        notifications.append({"level": "error", "message": {
            "text": f"not read by the sync: {u.where}: {u.operation} failed ({u.error_code}: {u.message[:300]})"}})
    if report.coverage is not None and not report.coverage.available:
        notifications.append({"level": "warning", "message": {"text": coverage_lines(report)[0]}})
    invocation: dict[str, Any] = {"executionSuccessful": not any(r.error for r in report.results),
                                  "endTimeUtc": report.timestamp,
                                  "properties": {"exit_status": report.exit_status, "incomplete": report.incomplete}}
    if notifications:
        invocation["toolExecutionNotifications"] = notifications
    return {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {"name": NAME, "version": __version__, "semanticVersion": __version__,
                                "rules": rules}},
            "invocations": [invocation],
            "results": results,
            "properties": {"database": report.database},
        }],
    }


def _arn_name(arn: str) -> str:
    if not arn:
        return ""
    tail = arn.split(":", 5)[-1]
    return tail.rsplit("/", 1)[-1] or tail


# ---------------------------------------------------------------------------------------------
# OCSF 1.1.0 Compliance Finding

OCSF_SEVERITY = {"info": (1, "Informational"), "low": (2, "Low"), "medium": (3, "Medium"), "high": (4, "High"),
                 "critical": (5, "Critical")}
# compliance.status_id in OCSF 1.1.0: 0 Unknown, 1 Pass, 2 Warning ("did not yield a result due to
# missing information"), 3 Fail, 99 Other.
OCSF_COMPLIANCE_STATUS = {"pass": (1, "Pass"), "fail": (3, "Fail"), "error": (2, "Warning"),
                          "skip": (99, "Not Applicable")}


def ocsf_findings(report: Report) -> list[dict[str, Any]]:
    """One OCSF 1.1.0 Compliance Finding (class_uid 2003, activity Create) per finding.

    Checked against the OCSF 1.1.0 schema export; where it differs from what the issue sketched:
    * 1.1.0 Compliance Finding has `resource` (one resource_details object), not `resources`
      (added in 1.3.0 when `resource` was deprecated), so the resource is in `resource`;
      resource_details has no `account` in 1.1.0: the account is `resource.owner.account` and
      `cloud.account` (type_id 10, AWS Account).
    * compliance.status: fail -> Fail (3), pass -> Pass (1), error -> Warning (2): the schema defines
      Warning as "did not yield a result due to missing information", which is what `error` means;
      skip (not applicable) has no 1.1.0 value and is Other (99) with status "Not Applicable".
    * The finding's own status_id is 1 (New) for every finding: it is a triage state set by the consumer.
    * Check id, details and the remediation CLI go to `unmapped` (no 1.1.0 attribute for them).
    """
    time_ms = int(report.generated_at.timestamp() * 1000)
    out: list[dict[str, Any]] = []
    for r in report.results:
        c = r.check
        sev_id, sev = OCSF_SEVERITY[c.severity]
        for f in report.shown(r):
            st_id, st = OCSF_COMPLIANCE_STATUS[f.status]
            account = {"uid": f.account_id, "type_id": 10, "type": "AWS Account"} if f.account_id else None
            cloud: dict[str, Any] = {"provider": "AWS"}
            if f.region:
                cloud["region"] = f.region
            if account:
                cloud["account"] = account
            item: dict[str, Any] = {
                "class_uid": 2003, "class_name": "Compliance Finding",
                "category_uid": 2, "category_name": "Findings",
                "activity_id": 1, "activity_name": "Create",
                "type_uid": 200301, "type_name": "Compliance Finding: Create",
                "severity_id": sev_id, "severity": sev,
                "status_id": 1, "status": "New",
                "time": time_ms,
                "message": f.reason,
                "metadata": {"version": OCSF_VERSION, "profiles": ["cloud"],
                             "product": {"name": NAME, "vendor_name": NAME, "version": __version__}},
                "finding_info": {"uid": finding_uid(c.id, f.resource_arn), "title": c.title, "desc": c.description,
                                 "types": [c.resource_type] if c.resource_type else []},
                "cloud": cloud,
                "compliance": {
                    "control": c.id,
                    "standards": sorted({fw for fw, _ in c.compliance}) or [NAME],
                    "requirements": [f"{fw}: {ctl}" for fw, ctl in c.compliance],
                    "status_id": st_id, "status": st, "status_detail": f.reason,
                },
                "remediation": {"desc": c.remediation + (f" AWS CLI: {c.remediation_cli}" if c.remediation_cli else ""),
                                "references": c.references},
                "unmapped": {"check_id": c.id, "check_status": f.status, "details": f.details,
                             "remediation_cli": c.remediation_cli},
            }
            if f.resource_arn:
                resource: dict[str, Any] = {"uid": f.resource_arn, "name": _arn_name(f.resource_arn)}
                if c.resource_type:
                    resource["type"] = c.resource_type
                if f.region:
                    resource["region"] = f.region
                parts = f.resource_arn.split(":")
                if len(parts) > 2 and parts[0] == "arn":
                    resource["cloud_partition"] = parts[1]
                if account:
                    resource["owner"] = {"account": account}
                if f.details:
                    resource["data"] = f.details
                item["resource"] = resource
            out.append(item)
    return out


# ---------------------------------------------------------------------------------------------
# markdown

def _md(text: Any) -> str:
    """Literal text in a table cell: no links, images, HTML, autolinks or cell breaks (safe_text)."""
    return for_markdown(text)


def render_markdown(report: Report) -> str:
    s = report.summary
    out = [f"## {NAME} check: {_md(report.database)}", ""]  # not a code span: a backtick in the path would end it
    out.append(f"**{_verdict(report)}** · {s['checks']} checks · {s['findings']} findings · {report.timestamp}")
    out.append("")
    for note in report.notes:
        out.append(f"> {_md(note)}")
        out.append("")
    cov = coverage_lines(report)
    if cov:
        out += [f"> {_md(line.strip())}  " for line in cov] + [""]
    out.append("| Severity | Checks | Fail | Pass | Skip | Error |")
    out.append("|---|---:|---:|---:|---:|---:|")
    for sev in SEVERITIES:
        b = s["by_severity"][sev]
        out.append(f"| {sev} | {b['checks']} | {b['fail']} | {b['pass']} | {b['skip']} | {b['error']} |")
    t = s["status"]
    out.append(f"| **total** | {s['checks']} | {t['fail']} | {t['pass']} | {t['skip']} | {t['error']} |")
    results = [r for r in report.results if not report.only_failed or r.counts()["fail"] or r.counts()["error"]]
    if results:
        out += ["", "| Check | Severity | Title | Fail | Pass | Skip | Error |", "|---|---|---|---:|---:|---:|---:|"]
        for r in sorted(results, key=lambda r: (-SEVERITY_RANK[r.check.severity], r.check.id)):
            c = r.counts()
            out.append(f"| `{r.check.id}` | {r.check.severity} | {_md(r.check.title)} | {c['fail']} | {c['pass']} "
                       f"| {c['skip']} | {c['error']} |")
    for title, status in (("Failures", "fail"), ("Errors", "error")):
        found = _sorted_findings(report, (status,))
        if not found:
            continue
        out += ["", f"### {title} ({len(found)})", "", "| Check | Severity | Resource | Account | Region | Reason |",
                "|---|---|---|---|---|---|"]
        for check, f in found[:MARKDOWN_MAX_ROWS]:
            out.append(f"| `{check.id}` | {check.severity} | {_md(f.resource_arn)} | {_md(f.account_id)} "
                       f"| {_md(f.region)} | {_md(f.reason)} |")
        if len(found) > MARKDOWN_MAX_ROWS:
            out += ["", f"_{len(found) - MARKDOWN_MAX_ROWS} more not shown; see the json or csv output._"]
    return "\n".join(out) + "\n"


# ---------------------------------------------------------------------------------------------
# The command

def add_check_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("db", help="the posture database (DuckDB file), opened read-only")
    add_report_options(p)


def add_report_options(p: argparse.ArgumentParser, select_flag: str = "--check") -> None:
    """The options of `check` after the database; `sync --check` takes them too (with `--check-id`
    for choosing checks, since its own `--check` turns checking on)."""
    p.add_argument(select_flag, dest="check", action="append", metavar="ID",
                   help="run only this check (repeatable, or comma-separated); sync_coverage always runs with "
                        "the bundled checks")
    p.add_argument("--severity", metavar="SEV",
                   help="only checks of this severity or above (e.g. high), or exactly a comma-separated list")
    p.add_argument("--only-failed", action="store_true",
                   help="report only fail and error findings (counts still cover all)")
    p.add_argument("--queries", action="append", metavar="DIR",
                   help="also run the checks in DIR (or one .sql file); repeatable")
    p.add_argument("--no-bundled", action="store_true", help="do not run the bundled checks")
    p.add_argument("--param", action="append", metavar="NAME=VALUE",
                   help="set a check parameter (NAME or CHECK_ID.NAME); repeatable")
    p.add_argument("--format", choices=FORMATS,
                   help="default: table on a terminal, json otherwise (with --output: from the extension)")
    p.add_argument("--output", metavar="FILE", help="write the report to FILE instead of stdout")
    p.add_argument("--fail-on", default="high", choices=[*SEVERITIES, "none"],
                   help="exit 1 when a check of this severity or above fails (default: high)")
    p.add_argument("--fail-on-error", action="store_true",
                   help="also count error findings of checks at or above --fail-on as failing findings, even "
                        "with --allow-incomplete")
    p.add_argument("--allow-incomplete", action="store_true",
                   help="do not fail (exit 1) because the data is incomplete: accounts, regions or listings the "
                        "sync could not read, checks that failed to run, error findings (they are still reported)")


@dataclass
class CheckRun:
    """A `check` invocation validated before anything runs (so `sync --check` fails before any AWS call)."""

    checks: list[Check]
    params: dict[str, str]
    fmt: str | None
    output: Path | None
    notes: list[str]
    args: argparse.Namespace


def prepare_check(args: argparse.Namespace) -> CheckRun:
    """Load and select the checks, parse every option; CheckError (exit 2) for anything wrong."""
    notes: list[str] = []
    dirs: list[Path] = []
    bundled_dir: Path | None = None
    if not args.no_bundled:
        bundled = bundled_queries_dir()
        if bundled.is_dir() and any(bundled.glob("*.sql")):
            dirs.append(bundled)
            bundled_dir = bundled
        else:
            notes.append(f"no bundled checks: {bundled} is {'empty' if bundled.is_dir() else 'missing'}")
    dirs += [Path(q) for q in args.queries or []]
    checks = load_checks(dirs)
    params = parse_params(args.param)
    validate_params(checks, params)
    severities = parse_severity_filter(args.severity) if args.severity else None
    selected = select_checks(checks, args.check, severities)
    parse_fail_on(args.fail_on)
    if args.format is not None and args.format not in FORMATS:
        raise CheckError(f"--format: unknown format {args.format} (one of {', '.join(FORMATS)})")
    output = Path(args.output) if args.output else None
    if output is not None:
        parent = output.parent if str(output.parent) else Path(".")
        if not parent.is_dir() or not os.access(parent, os.W_OK):
            raise CheckError(f"--output {args.output}: directory {parent} does not exist or is not writable")
    if not checks:
        notes.append("0 checks loaded: nothing to run")
    elif not selected:
        notes.append("0 checks selected by --check/--severity: nothing to run")
    coverage = next((c for c in checks if c.id == COVERAGE_CHECK and bundled_dir is not None), None)
    if coverage is not None and coverage not in selected:
        selected = [coverage, *selected]
    return CheckRun(selected, params, args.format, output, notes, args)


def check_command(args: argparse.Namespace, stdout: TextIO) -> int:
    """Run `check` with parsed arguments; returns 0 or 1, raises CheckError for bad input (exit 2)."""
    return run_check(prepare_check(args), args.db, stdout)


def run_check(run: CheckRun, db: str, stdout: TextIO) -> int:
    """Run prepared checks on `db` and write the report; the exit status (0 or 1)."""
    args = run.args
    results, coverage = run_with_coverage(db, run.checks, run.params)
    report = Report(database=db, results=results, fail_on=args.fail_on, fail_on_error=args.fail_on_error,
                    only_failed=args.only_failed, notes=run.notes, coverage=coverage,
                    allow_incomplete=args.allow_incomplete)
    is_tty = bool(getattr(stdout, "isatty", lambda: False)())
    fmt = run.fmt or format_for(args.output, is_tty)
    color = fmt == "table" and run.output is None and is_tty and not os.environ.get("NO_COLOR")
    text = render(report, fmt, color=color)
    if run.output is not None:
        _write_atomically(run.output, text)
    else:
        stdout.write(text)
        stdout.flush()
    return report.exit_status


def _write_atomically(path: Path, text: str) -> None:
    parent = path.parent if str(path.parent) else Path(".")
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=parent)
    except OSError as e:
        raise CheckError(f"cannot write {path}: {e.strerror or e}") from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as f:
            f.write(text)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp creates 0600; the report is an ordinary file
        os.replace(tmp, path)
    except OSError as e:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise CheckError(f"cannot write {path}: {e.strerror or e}") from None
