"""`--format markdown`: a summary table, a table per check, the per-control view of a `--compliance`
run, and tables of failures, errors and muted findings (at most MARKDOWN_MAX_ROWS rows each), for a
PR comment or `$GITHUB_STEP_SUMMARY`. With `--mutelist` the counts have a Muted column and a quote
block says what the file did (expired and unused entries). Text from AWS, check files and the
mutelist is escaped so it can't add links, images, HTML or table cells (safe_text.for_markdown)."""

from __future__ import annotations

from typing import Any

from ... import NAME
from ..files import SEVERITIES, SEVERITY_RANK
from .controls import control_markdown
from .model import Report, ReportFormat, coverage_lines, mutelist_lines, sorted_findings, verdict
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
    sts = ("fail", "pass", "skip", "error", *(("muted",) if report.muting is not None else ()))
    heads = " | ".join(st.capitalize() for st in sts)
    align = "---:|" * len(sts)
    out.append(f"| Severity | Checks | {heads} |")
    out.append(f"|---|---:|{align}")
    for sev in SEVERITIES:
        b = s["by_severity"][sev]
        out.append(f"| {sev} | {b['checks']} | " + " | ".join(str(b[st]) for st in sts) + " |")
    t = s["status"]
    out.append(f"| **total** | {s['checks']} | " + " | ".join(str(t[st]) for st in sts) + " |")
    results = [r for r in report.results if not report.only_failed
               or any(report.counts(r).get(st) for st in ("fail", "error", "muted"))]
    if results:
        out += ["", f"| Check | Severity | Title | {heads} |", f"|---|---|---|{align}"]
        for r in sorted(results, key=lambda r: (-SEVERITY_RANK[r.check.severity], r.check.id)):
            c = report.counts(r)
            out.append(f"| `{r.check.id}` | {r.check.severity} | {_md(r.check.title)} | "
                       + " | ".join(str(c[st]) for st in sts) + " |")
    view = report.compliance
    if view is not None:
        out += control_markdown(view)
    for title, status in (("Failures", "fail"), ("Errors", "error"), ("Muted", "muted")):
        found = sorted_findings(report, (status,))
        if not found:
            continue
        muted = status == "muted"
        out += ["", f"### {title} ({len(found)})", "",
                "| Check | Severity | Resource | Account | Region | Reason |" + (" Muted because |" if muted else ""),
                "|---|---|---|---|---|---|" + ("---|" if muted else "")]
        for check, f in found[:MARKDOWN_MAX_ROWS]:
            entry = report.mute_of(check, f)
            why = (f" {_md(f'{entry.reason} ({entry.label}; was {f.status})')} |" if entry is not None else "")
            out.append(f"| `{check.id}` | {check.severity} | {_md(f.resource_arn)} | {_md(f.account_id)} "
                       f"| {_md(f.region)} | {_md(f.reason)} |" + why)
        if len(found) > MARKDOWN_MAX_ROWS:
            out += ["", f"_{len(found) - MARKDOWN_MAX_ROWS} more not shown; see the json or csv output._"]
    ml = mutelist_lines(report)
    if ml:
        out.append("")
        for line in ml:
            tag, _, rest = line.partition(" ")
            out.append(f"> **{tag}** {_md(rest)}  " if tag in ("EXPIRED", "UNUSED") else f"> {_md(line)}  ")
    return "\n".join(out) + "\n"

FORMAT = ReportFormat("markdown", (".md", ".markdown"), lambda report, color: render_markdown(report))
