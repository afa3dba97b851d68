"""`aws-encryption sql DB "SELECT ..."`: ad-hoc queries over a posture database, read-only.

The database is opened like `check` opens it (`checks.open_read_only`): read-only, time zone UTC,
external access off and the configuration locked, so a query can't write, read or fetch any other
file (`COPY ... TO`, `ATTACH`, `read_text`, `INSTALL`). Every failure is one line (`SqlError`, exit 2).

Output:
- `json`: one JSON array, an object per row on its own line; `jsonl`: one object per line (JSON
  Lines). Both ASCII-escaped (`\\uXXXX`), so no control character, escape sequence or bidi override
  reaches a terminal, and a parser gets the exact text back.
- `csv`: string cells that a spreadsheet would evaluate as a formula are prefixed with `'`
  (`safe_text.for_csv`).
- `table`: escape sequences and control characters removed, newlines and tabs shown as spaces
  (`safe_text.for_terminal`). Every value is shown whole: when the line would be wider than
  `max_width` (the terminal's width by default), the widest columns wrap inside their column,
  preferably after a space, `:` or `/` (`fit_widths`, `wrap`).
"""

from __future__ import annotations

import csv
import json
import math
import unicodedata
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


FORMATS = ("table", "csv", "json", "jsonl")
MIN_COLUMN = 8     # a column is never narrower than this (or its header's longest word) when wrapped
MIN_MAX_WIDTH = 20


def write(cols: list[str], rows: list[tuple[Any, ...]], fmt: str, out: TextIO, max_width: int | None = None) -> None:
    """`rows` in `fmt`. For `table`, `max_width` is the widest a line may be (None: no limit)."""
    if fmt == "jsonl":
        for r in rows:
            out.write(_json_row(cols, r) + "\n")
        return
    if fmt == "json":  # one array, an object per line: valid JSON, written row by row
        out.write("[")
        for i, r in enumerate(rows):
            out.write(("," if i else "") + "\n" + _json_row(cols, r))
        out.write("\n]\n" if rows else "]\n")
        return
    if fmt == "csv":
        w = csv.writer(out)
        w.writerow([for_csv(c) for c in cols])  # a PIVOT's column names come from the data
        for r in rows:
            w.writerow([_csv_cell(v) for v in r])
        return
    header = [_table_cell(c) for c in cols]
    cells = [[_table_cell(v) for v in r] for r in rows]
    natural = [max([display_width(c)] + [display_width(r[i]) for r in cells]) for i, c in enumerate(header)]
    widths = fit_widths(natural, header, max_width)
    for line in _table_row(header, widths):
        out.write(line)
    out.write("  ".join("-" * w for w in widths) + "\n")
    for r in cells:
        for line in _table_row(r, widths):
            out.write(line)
    out.write(f"({len(rows)} row{'s' if len(rows) != 1 else ''})\n")


def _json_row(cols: list[str], r: tuple[Any, ...]) -> str:
    # ensure_ascii: every non-ASCII character is a \u escape, so nothing in the data reaches a terminal
    # as a control, bidi override or escape sequence; a JSON parser gets the exact text back.
    return json.dumps({c: _finite(plain(v)) for c, v in zip(cols, r)}, ensure_ascii=True)


def _finite(v: Any) -> Any:
    """NaN and infinities as strings: JSON has no literal for them (json.dumps would write invalid JSON)."""
    if isinstance(v, float) and not math.isfinite(v):
        return "NaN" if math.isnan(v) else ("Infinity" if v > 0 else "-Infinity")
    if isinstance(v, list):
        return [_finite(x) for x in v]
    if isinstance(v, dict):
        return {k: _finite(x) for k, x in v.items()}
    return v


# ---------------------------------------------------------------------------------------------
# The table: every value whole; columns wider than their share of the line wrap inside their column.

def display_width(s: str) -> int:
    """Terminal columns of `s`: East Asian wide and full-width characters take two, combining marks none."""
    if s.isascii():
        return len(s)
    return sum(0 if unicodedata.combining(ch) else 2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in s)


def fit_widths(natural: list[int], header: list[str], max_width: int | None) -> list[int]:
    """Column widths whose line (two spaces between columns) fits `max_width`: columns within their fair
    share keep their width, the wider ones share the rest equally. A column never goes below MIN_COLUMN
    or its header's longest word, so a very narrow limit can still be exceeded (values are never cut)."""
    gaps = 2 * (len(natural) - 1)
    if max_width is None or sum(natural) + gaps <= max_width:
        return list(natural)
    floor = [min(n, max(MIN_COLUMN, max((display_width(w) for w in h.split()), default=0)))
             for n, h in zip(natural, header)]
    widths = list(natural)
    wide = set(range(len(natural)))
    room = max_width - gaps
    while wide:
        share = room // len(wide) if room > 0 else 0
        narrow = {i for i in wide if natural[i] <= share}
        if not narrow:
            break
        for i in narrow:
            room -= natural[i]
        wide -= narrow
    if wide:
        share, extra = divmod(max(room, 0), len(wide))
        for k, i in enumerate(sorted(wide)):
            widths[i] = max(floor[i], share + (1 if k < extra else 0))
    return widths


_BREAK_AFTER = frozenset(" /:,;-_.=")


def wrap(text: str, width: int) -> list[str]:
    """`text` in lines of at most `width` columns, nothing dropped but the spaces lines break at. A line
    ends after a space or a separator (`/ : , ; - _ . =`) in its second half where there is one (an ARN
    breaks after `:` or `/`), else it is cut at the width."""
    if display_width(text) <= width:
        return [text]
    lines = []
    while display_width(text) > width:
        cut, used = 0, 0
        for i, ch in enumerate(text):  # the most characters that fit
            w = display_width(ch)
            if used + w > width:
                break
            used += w
            cut = i + 1
        cut = max(cut, 1)
        if text[cut] == " ":  # the line ends where a word does: break at the space
            line, text = text[:cut], text[cut + 1:]
        else:
            brk = max((i + 1 for i in range(cut // 2, cut) if text[i] in _BREAK_AFTER), default=0)
            cut = brk or cut
            line, text = text[:cut], text[cut:]
        lines.append(line.rstrip(" ") or line)
    if text:
        lines.append(text)
    return lines


def _pad(s: str, width: int) -> str:
    return s + " " * max(width - display_width(s), 0)


def _table_row(cells: list[str], widths: list[int]) -> list[str]:
    wrapped = [wrap(c, w) for c, w in zip(cells, widths)]
    height = max((len(w) for w in wrapped), default=1)
    return ["  ".join(_pad(w[k] if k < len(w) else "", width) for w, width in zip(wrapped, widths)).rstrip() + "\n"
            for k in range(height)]
