"""`aws-encryption sql DB "SELECT ..."`: ad-hoc queries over a posture database, read-only."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any, TextIO

import duckdb

from .checks import plain
from .duckdb_writer import DatabaseLockedError, _LOCK_RE, _first_line


class SqlError(ValueError):
    """Bad input: no such database, not a database, or SQL that fails; one line."""


def query(db: str, sql: str) -> tuple[list[str], list[tuple[Any, ...]]]:
    p = Path(db)
    if not p.is_file():
        raise SqlError(f"database {db} does not exist")
    try:
        con = duckdb.connect(str(p), read_only=True)
    except duckdb.Error as e:
        m = _LOCK_RE.search(str(e))
        if m:
            raise SqlError(str(DatabaseLockedError(db, int(m.group("pid")), m.group("process")))) from None
        raise SqlError(f"cannot open database {db}: {_first_line(e)}") from None
    try:
        con.execute("SET TimeZone='UTC'")
        cur = con.execute(sql)
        if cur.description is None:
            return [], []
        cols = [d[0] for d in cur.description]
        return cols, cur.fetchall()
    except duckdb.Error as e:
        raise SqlError(f"query failed: {_first_line(e)}") from None
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


def write(cols: list[str], rows: list[tuple[Any, ...]], fmt: str, out: TextIO, max_width: int = 60) -> None:
    if fmt == "json":
        for r in rows:
            out.write(json.dumps({c: plain(v) for c, v in zip(cols, r)}) + "\n")
        return
    if fmt == "csv":
        w = csv.writer(out)
        w.writerow(cols)
        for r in rows:
            w.writerow([_cell(v) for v in r])
        return
    cells = [[_cell(v) for v in r] for r in rows]
    cells = [[c if len(c) <= max_width else c[: max_width - 1] + "…" for c in r] for r in cells]
    widths = [max([len(c)] + [len(r[i]) for r in cells]) for i, c in enumerate(cols)]
    out.write("  ".join(c.ljust(w) for c, w in zip(cols, widths)).rstrip() + "\n")
    out.write("  ".join("-" * w for w in widths) + "\n")
    for r in cells:
        out.write("  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() + "\n")
    out.write(f"({len(rows)} row{'s' if len(rows) != 1 else ''})\n")
