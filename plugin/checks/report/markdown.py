"""`--format markdown`: a summary table, a table per check and a table of failures (at most
MARKDOWN_MAX_ROWS rows), for a PR comment or `$GITHUB_STEP_SUMMARY`. Text from AWS is escaped so
it can't add links, images, HTML or table cells (safe_text.for_markdown)."""

from __future__ import annotations

from typing import Any

from ... import NAME
from ..files import SEVERITIES, SEVERITY_RANK
from .model import Report, ReportFormat, coverage_lines, sorted_findings, verdict
from .safe_text import for_markdown

MARKDOWN_MAX_ROWS = 250


def _md(text: Any) -> str:
    """Literal text in a table cell: no links, images, HTML, autolinks or cell breaks (safe_text)."""
    return for_markdown(text)


def render_markdown(report: Report) -> str:
    s = report.summary
    out = [f"## {NAME} check: {_md(report.database)}", ""]  # not a code span: a backtick in the path would end it
    out.append(f"**{verdict(report)}** · {s['checks']} checks · {s['findings']} findings · {report.timestamp}")
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
        found = sorted_findings(report, (status,))
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

FORMAT = ReportFormat("markdown", (".md", ".markdown"), lambda report, color: render_markdown(report))
