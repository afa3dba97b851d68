"""`--format table`: for people at a terminal. A summary per severity (fail/pass/skip/error counts,
and muted with a mutelist), what the sync could not read (first screen), a line per check, the
per-control view of a `--compliance` run, then every failing finding (check, severity, resource,
account, region, reason), every error, every muted finding with its reason, what the mutelist did
(expired and unused entries), and the verdict; laid out for 100 columns; colours only on a terminal
and when NO_COLOR is unset or empty. Text from AWS, check files, the mutelist and the command line is
escaped (safe_text.for_terminal) before our own colours are added."""

from __future__ import annotations

import textwrap

from ... import NAME
from ..files import SEVERITIES, SEVERITY_RANK
from .controls import control_lines
from .model import Report, ReportFormat, coverage_lines, mutelist_lines, sorted_findings, verdict
from .safe_text import for_terminal

WIDTH = 100


_ANSI = {"fail": "31", "pass": "32", "skip": "2", "error": "33", "muted": "2", "critical": "1;31", "high": "31",
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
    statuses = ("fail", "pass", "skip", "error", *(("muted",) if report.muting is not None else ()))
    lines.append("")
    lines.append(f"{'severity':<10}{'checks':>7}" + "".join(f"{st:>7}" for st in statuses))
    for sev in SEVERITIES:
        s = summary["by_severity"][sev]
        lines.append(paint(f"{sev:<10}", sev) + f"{s['checks']:>7}" + "".join(num(s[st], st) for st in statuses))
    t = summary["status"]
    lines.append(f"{'total':<10}{summary['checks']:>7}" + "".join(num(t[st], st) for st in statuses))

    results = [r for r in report.results
               if not report.only_failed or any(report.counts(r).get(st) for st in ("fail", "error", "muted"))]
    if results:
        idw = min(max(len(r.check.id) for r in results), WIDTH - 10 - 7 * len(statuses) - 2)
        lines.append("")
        lines.append(f"{'check':<{idw}}  {'severity':<10}" + "".join(f"{st:>7}" for st in statuses))
        for r in sorted(results, key=lambda r: (-SEVERITY_RANK[r.check.severity], r.check.id)):
            c = report.counts(r)
            cid = for_terminal(r.check.id if len(r.check.id) <= idw else r.check.id[: idw - 1] + "…")
            lines.append(f"{cid:<{idw}}  " + paint(f"{r.check.severity:<10}", r.check.severity)
                         + "".join(num(c[st], st) for st in statuses))
    elif report.only_failed and report.results:
        lines.append("")
        lines.append("no check has failing or error findings")

    view = report.compliance
    if view is not None:
        lines.append("")
        body = control_lines(view, WIDTH)
        head = body.index("")
        lines += [paint(line, "bold") for line in body[:head]] + body[head:]

    for title, status in (("Failures", "fail"), ("Errors", "error"), ("Muted", "muted")):
        found = sorted_findings(report, (status,))
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
            entry = report.mute_of(check, f)
            if entry is not None:
                until = f" until {entry.expires.isoformat()}" if entry.expires else ""
                lines.extend(textwrap.wrap(for_terminal(f"muted ({f.status}) by {entry.label}{until}: {entry.reason}"),
                                           WIDTH, initial_indent="    ", subsequent_indent="      ",
                                           break_on_hyphens=False))
    ml = mutelist_lines(report)
    if ml:
        lines.append("")
        for line in ml:
            for part in textwrap.wrap(for_terminal(line), WIDTH, subsequent_indent="      ",
                                      break_on_hyphens=False) or [""]:
                lines.append(paint(part, "error") if line.startswith("EXPIRED") else part)
    lines.append("")
    text = verdict(report)
    for part in textwrap.wrap(text, WIDTH, subsequent_indent="  ", break_on_hyphens=False):
        lines.append(paint(part, "fail" if report.exit_status else "pass"))
    return "\n".join(lines) + "\n"

FORMAT = ReportFormat("table", (".txt",), render_table)
