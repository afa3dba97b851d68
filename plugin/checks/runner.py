"""Running checks on a posture database, read-only, and what their results mean.

A check returns one row per resource it evaluated (`resource_arn`, `account_id`, `region`, `status`
pass/fail/skip/error, `reason`); a check that fails to run is an error of that check, not of the run.
The database is opened read-only and sandboxed (plugin/store/files.py). The result contract and how
severity and incomplete data decide the exit status are specified in docs/check-format.md.
"""

from __future__ import annotations

import datetime as dt
import decimal
import hashlib
import json
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb

from ..store import files as store_files
from ..store.files import WriterError, first_line
from .coverage import Coverage, read_coverage
from .files import OUR_TABLES, REQUIRED_COLUMNS, SEVERITIES, SEVERITY_RANK, STATUSES, Check, CheckError, render_sql


@dataclass
class Finding:
    resource_arn: str
    account_id: str
    region: str
    status: str
    reason: str
    details: dict[str, Any] = field(default_factory=dict)


@dataclass
class CheckResult:
    check: Check
    rows: list[Finding]
    error: str | None = None
    elapsed_ms: float = 0.0
    params: dict[str, str] = field(default_factory=dict)  # the values used (defaults or --param)

    def counts(self) -> dict[str, int]:
        c = {s: 0 for s in STATUSES}
        for f in self.rows:
            c[f.status] += 1
        return c


# ---------------------------------------------------------------------------------------------
# Running

def open_read_only(db_path: str | Path) -> duckdb.DuckDBPyConnection:
    """The posture database, read-only and sandboxed (plugin/store/files.py); CheckError (one line)
    when it can't be opened."""
    from .views import create_views
    try:
        con = store_files.open_read_only(db_path)
    except WriterError as e:
        raise CheckError(str(e)) from None
    create_views(con)
    return con


def our_tables(con: duckdb.DuckDBPyConnection) -> list[str]:
    names = ", ".join(f"'{t}'" for t in OUR_TABLES)
    rows = con.execute(f"SELECT DISTINCT table_name FROM information_schema.tables "
                       f"WHERE table_catalog = current_database() AND table_name IN ({names})").fetchall()
    return sorted(r[0] for r in rows)


def run_checks(db_path: str | Path, checks: list[Check], params: dict[str, str] | None = None) -> list[CheckResult]:
    """Run each check on the database, read-only, in order. A failing check is an error result,
    not an exception; CheckError only for the database itself (missing, locked, not DuckDB, none of
    our tables) or a bad parameter value."""
    return run_with_coverage(db_path, checks, params)[0]


def run_with_coverage(db_path: str | Path, checks: list[Check],
                      params: dict[str, str] | None = None) -> tuple[list[CheckResult], "Coverage"]:
    """`run_checks`, plus what the latest sync could and could not read (`read_coverage`)."""
    params = params or {}
    rendered = [render_sql(c, params) for c in checks]  # bad values fail before the database is opened
    con = open_read_only(db_path)  # sandboxed, time zone already UTC (the configuration is locked)
    try:
        if not our_tables(con):
            raise CheckError(f"{db_path} holds no aws-encryption tables "
                             f"(none of {', '.join(OUR_TABLES)}); is it a posture database?")
        coverage = read_coverage(con)
        results = []
        for c, (sql, used) in zip(checks, rendered):
            results.append(_run_one(con, c, sql, used))
        return results, coverage
    finally:
        con.close()


def _run_one(con: duckdb.DuckDBPyConnection, check: Check, sql: str, used: dict[str, str]) -> CheckResult:
    t0 = time.perf_counter()

    def failed(msg: str) -> CheckResult:
        return CheckResult(check, [Finding("", "", "", "error", f"check failed: {msg}")], error=msg,
                           elapsed_ms=_ms(t0), params=used)

    try:
        cur = con.execute(sql)
        if cur.description is None:
            return failed("the SQL returns no result set")
        cols = [d[0] for d in cur.description]
        rows = cur.fetchall()
    except duckdb.Error as e:
        return failed(first_line(e))
    index: dict[str, int] = {}
    for i, col in enumerate(cols):
        index.setdefault(col.lower(), i)
    missing = [c for c in REQUIRED_COLUMNS if c not in index]
    if missing:
        return failed(f"the result has no column {', '.join(missing)} "
                      f"(required: {', '.join(REQUIRED_COLUMNS)})")
    core = {index[c] for c in REQUIRED_COLUMNS}
    extra = [(c, i) for i, c in enumerate(cols) if i not in core]
    findings = []
    for n, r in enumerate(rows, 1):
        status = r[index["status"]]
        if status not in STATUSES:
            return failed(f"row {n} has status {status!r}; a check returns pass, fail, skip or error")
        findings.append(Finding(
            resource_arn=_text(r[index["resource_arn"]]), account_id=_text(r[index["account_id"]]),
            region=_text(r[index["region"]]), status=status, reason=_text(r[index["reason"]]),
            details={c: plain(r[i]) for c, i in extra}))
    return CheckResult(check, findings, None, _ms(t0), used)


def _ms(t0: float) -> float:
    return round((time.perf_counter() - t0) * 1000, 3)


def _text(v: Any) -> str:
    return "" if v is None else str(plain(v))


def plain(v: Any) -> Any:
    """A JSON-friendly value: timestamps as ISO 8601, UUIDs and decimals as strings, JSON text parsed."""
    if isinstance(v, (dt.datetime, dt.date, dt.time)):
        return v.isoformat()
    if isinstance(v, dt.timedelta):
        return str(v)
    if isinstance(v, (uuid.UUID, decimal.Decimal)):
        return str(v)
    if isinstance(v, bytes):
        return v.hex()
    if isinstance(v, (list, tuple)):
        return [plain(x) for x in v]
    if isinstance(v, dict):
        return {str(k): plain(x) for k, x in v.items()}
    if isinstance(v, str) and v[:1] in "{[":
        try:
            return json.loads(v)
        except ValueError:
            return v
    return v


# ---------------------------------------------------------------------------------------------
# Summaries and the exit status

def summarize(results: list[CheckResult]) -> dict[str, Any]:
    """Counts per status, per severity and per check (every severity and status present, zeros included)."""
    status = {s: 0 for s in STATUSES}
    by_severity = {sev: {"checks": 0, **{s: 0 for s in STATUSES}} for sev in SEVERITIES}
    by_check: dict[str, dict[str, Any]] = {}
    for r in results:
        c = r.counts()
        by_severity[r.check.severity]["checks"] += 1
        for s, n in c.items():
            status[s] += n
            by_severity[r.check.severity][s] += n
        by_check[r.check.id] = {"severity": r.check.severity, **c, "error_message": r.error}
    return {"checks": len(results), "checks_failed_to_run": sum(1 for r in results if r.error),
            "findings": sum(status.values()), "status": status, "by_severity": by_severity,
            "by_check": by_check}


def parse_fail_on(value: str) -> int | None:
    """The minimum severity rank that fails the run, None for `none`."""
    v = value.strip().lower()
    if v == "none":
        return None
    if v not in SEVERITY_RANK:
        raise CheckError(f"--fail-on: '{value}' is not one of {', '.join(SEVERITIES)}, none")
    return SEVERITY_RANK[v]


def failing(results: list[CheckResult], fail_on: str = "high", fail_on_error: bool = False) -> list[tuple[Check, Finding]]:
    """The findings that make the run fail: `fail` (and with fail_on_error `error`) findings of checks
    at or above `fail_on`."""
    threshold = parse_fail_on(fail_on)
    if threshold is None:
        return []
    counted = {"fail", "error"} if fail_on_error else {"fail"}
    return [(r.check, f) for r in results if SEVERITY_RANK[r.check.severity] >= threshold
            for f in r.rows if f.status in counted]


def finding_uid(check_id: str, resource_arn: str) -> str:
    """A stable identifier of (check, resource): the same across runs and databases."""
    return hashlib.sha256(f"aws-encryption/{check_id}/{resource_arn}".encode()).hexdigest()
