"""`--format csv`: one row per finding: check_id, severity, title, resource_arn, account_id, region,
status, reason. With `--mutelist`, a muted finding's status is `muted`, and two more columns say its
own status and the entry's reason (`muted_status`, `mute_reason`; empty for the others). Cells that a
spreadsheet would run as a formula are neutralised (safe_text.for_csv): mutelist reasons included."""

from __future__ import annotations

import csv
import io

from .model import Report, ReportFormat
from .safe_text import for_csv

CSV_COLUMNS = ("check_id", "severity", "title", "resource_arn", "account_id", "region", "status", "reason")
MUTE_COLUMNS = ("muted_status", "mute_reason")


def _csv_cell(v: str) -> str:
    # With "\n" as row end the csv module quotes a cell holding "\n" but not a bare "\r", which
    # spreadsheets (and csv readers) take as a row break: a new row could start with a formula.
    return for_csv(v).replace("\r\n", "\n").replace("\r", "\n")


def render_csv(report: Report) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    muting = report.muting is not None
    w.writerow(CSV_COLUMNS + (MUTE_COLUMNS if muting else ()))
    for r in report.results:
        for f in report.shown(r):
            row = [r.check.id, r.check.severity, r.check.title, f.resource_arn, f.account_id, f.region,
                   report.status_of(r.check, f), f.reason]
            if muting:
                entry = report.mute_of(r.check, f)
                row += [f.status, entry.reason] if entry is not None else ["", ""]
            w.writerow([_csv_cell(v) for v in row])
    return buf.getvalue()

FORMAT = ReportFormat("csv", (".csv",), lambda report, color: render_csv(report))
