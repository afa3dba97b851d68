"""`--format csv`: one row per finding: check_id, severity, title, resource_arn, account_id, region,
status, reason. Cells that a spreadsheet would run as a formula are neutralised (safe_text.for_csv)."""

from __future__ import annotations

import csv
import io

from .model import Report, ReportFormat
from .safe_text import for_csv

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

FORMAT = ReportFormat("csv", (".csv",), lambda report, color: render_csv(report))
