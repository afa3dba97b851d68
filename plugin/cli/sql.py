"""`aws-encryption sql DB "SELECT ..."`: ad-hoc queries over a posture database, read-only.

The database is opened like `check` opens it (`checks.open_read_only`): read-only, time zone UTC,
external access off and the configuration locked, so a query can't write, read or fetch any other
file (`COPY ... TO`, `ATTACH`, `read_text`, `INSTALL`). Every failure is one line (`SqlError`, exit 2).

Output: `json` (one object per row, JSON-escaped), `csv` (string cells that a spreadsheet would
evaluate as a formula are prefixed with `'`, `safe_text.for_csv`), `table` (escape sequences and
control characters removed, newlines and tabs shown as spaces, `safe_text.for_terminal`).
"""

from __future__ import annotations

import csv
import json
from typing import Any, TextIO

import duckdb

from ..checks.files import CheckError
from ..checks.runner import open_read_only, plain
from ..store.files import first_line
from ..checks.report.safe_text import for_csv, for_terminal


class SqlError(ValueError):
    """Bad input: no such database, not a database, or SQL that fails; one line."""


def query(db: str, sql: str) -> tuple[list[str], list[tuple[Any, ...]]]:
    if not sql.strip():
        raise SqlError('no SQL given; e.g. aws-encryption sql DB "SELECT count(*) FROM aws_kms_keys"')
    try:
        con = open_read_only(db)
    except CheckError as e:
        raise SqlError(str(e)) from None
    try:
        cur = con.execute(sql)
        if cur is None:  # DuckDB returns None for text without a statement (only comments)
            raise SqlError("the SQL holds no statement to run")
        if cur.description is None:
            return [], []
        cols = [d[0] for d in cur.description]
        return cols, cur.fetchall()
    except duckdb.Error as e:
        raise SqlError(f"query failed: {first_line(e)}") from None
    finally:
        con.close()


def _cell(v: Any) -> str:
    if v is None:
        return ""
    if not isinstance(v, str):  # JSON text stays as stored; other values the way `check` prints them
        v = plain(v)
    if isinstance(v, (list, dict)):
        return json.dumps(v)
    return str(v)


def _csv_cell(v: Any) -> str:
    # Only text can carry someone else's formula; numbers, dates and lists are formatted by us.
    return for_csv(v) if isinstance(v, str) else _cell(v)


def _table_cell(v: Any) -> str:
    return for_terminal(_cell(v)).replace("\n", " ").replace("\t", " ")


def write(cols: list[str], rows: list[tuple[Any, ...]], fmt: str, out: TextIO, max_width: int = 60) -> None:
    if fmt == "json":
        for r in rows:
            out.write(json.dumps({c: plain(v) for c, v in zip(cols, r)}) + "\n")
        return
    if fmt == "csv":
        w = csv.writer(out)
        w.writerow([for_csv(c) for c in cols])  # a PIVOT's column names come from the data
        for r in rows:
            w.writerow([_csv_cell(v) for v in r])
        return
    cols = [_table_cell(c) for c in cols]
    cells = [[_table_cell(v) for v in r] for r in rows]
    cells = [[c if len(c) <= max_width else c[: max_width - 1] + "…" for c in r] for r in cells]
    widths = [max([len(c)] + [len(r[i]) for r in cells]) for i, c in enumerate(cols)]
    out.write("  ".join(c.ljust(w) for c, w in zip(cols, widths)).rstrip() + "\n")
    out.write("  ".join("-" * w for w in widths) + "\n")
    for r in cells:
        out.write("  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() + "\n")
    out.write(f"({len(rows)} row{'s' if len(rows) != 1 else ''})\n")
