"""Posture checks: plain SQL files with a metadata header, run read-only on a posture database.

Where checks live
-----------------
Bundled checks are the `*.sql` files of `queries/` at the repository root when running from a
checkout, or of `plugin/queries/` inside the installed package (`bundled_queries_dir()`).
`aws-encryption check DB --queries DIR` adds the user's own checks, in the same format (DIR may
also be a single `.sql` file). Two checks with the same id are an error, also across directories.

The check file format
---------------------
One check per file; the file name is the check id plus `.sql`::

    -- id: kms_cmk_rotation_disabled
    -- title: Customer managed KMS keys have automatic rotation enabled
    -- severity: medium
    -- resource_type: AwsKmsKey
    -- description: Customer managed symmetric keys should rotate their key material
    --   every year; a header value continues on the following lines that start
    --   with `--` and two or more spaces.
    -- risk: ...
    -- remediation: Enable automatic rotation of the key.
    -- remediation_cli: aws kms enable-key-rotation --key-id <key-arn>
    -- references: https://docs.aws.amazon.com/kms/latest/developerguide/rotate-keys.html, https://...
    -- compliance: CIS AWS Foundations 3.0.0: 3.6; AWS Security Hub: KMS.4
    -- peers: prowler kms_cmk_rotation_enabled; steampipe kms_cmk_rotation_enabled
    -- params: max_age_days=365
    SELECT ...

* The header is the leading block of `-- key: value` lines (exactly one space after `--`, a
  lower-case key); a line starting with `--` and two or more spaces continues the previous value
  (joined with one space). The header ends at the first other line, blank lines included; the
  rest of the file is the SQL. Leading blank lines are ignored.
* Required keys: `id` (`[a-z0-9_]+`, equal to the file stem), `title`, `severity` (one of
  critical, high, medium, low, info), `description`, `remediation`. Optional: `resource_type`
  (the Security Hub / Prowler resource type, e.g. AwsKmsKey, AwsS3Bucket), `risk`,
  `remediation_cli`, `references` (comma-separated http(s) URLs), `compliance` (semicolon-separated
  `framework: control`, split at the last colon), `peers` (semicolon-separated free text),
  `params` (comma-separated `name=default`). Unknown, repeated, empty or invalid keys are errors
  naming the file and the key (the CLI exits 2).

Parameters
----------
Inside the SQL a parameter is written `/*param:NAME*/DEFAULT`, the default being a number
(`365`, `0.5`, `-1`) or a single-quoted SQL string (`'CUSTOMER'`); the SQL therefore runs unchanged
anywhere (DuckDB shell, `aws-encryption sql`) with its defaults. Every parameter used must be
declared in `params` with the same default, and every declared one must be used.
`--param NAME=VALUE` (or `--param CHECK_ID.NAME=VALUE` for one check) replaces marker and default
with VALUE: unquoted when the default is a number (VALUE must then be a number), otherwise as a
single-quoted SQL string with quotes doubled. A name no loaded check declares is an error.

The result contract
-------------------
A check returns one row per resource it evaluated, not only the failures, with at least the
columns `resource_arn`, `account_id`, `region`, `status` and `reason` (matched case-insensitively);
other columns are kept as the finding's `details`. `status` is `pass`, `fail`, `skip` (not
applicable) or `error` (the sync could not read what the check needs, e.g. a row of
`aws_encryption_sync_errors`); `reason` is a sentence naming the principal, key, account or date
that decides it. A check whose SQL fails, that lacks a required column or that returns another
status is an error *of that check*: its result has `error` set and one synthetic `error` finding
(empty resource) carrying the message, and the other checks still run. Only a database holding none
of aws_kms_keys / aws_s3_buckets / aws_encryption_sync_errors is an input error ("holds no
aws-encryption tables"); so is a missing, locked or non-DuckDB file.

The database is opened read-only (`duckdb.connect(path, read_only=True)`), with the session time
zone set to UTC, and sandboxed (`open_read_only`): no file but the database itself (no COPY TO,
ATTACH, read_text/read_csv, extension installs), configuration locked. The checks only use the
tables by name in the default schema, so they run the same on a file written by `aws-encryption
sync`, by our `aws-encryption-duckdb` destination or by the hub `cloudquery/duckdb` destination
(same DDL).

Severity and the exit status
----------------------------
critical > high > medium > low > info. The command fails (exit 1) when a `fail` finding belongs
to a check whose severity is at or above `--fail-on` (default `high`; `none`: findings never fail),
and also when the data is incomplete (plugin/report.py `Report.incomplete`): a scope the latest
sync could not read (`read_coverage`), no coverage table at all, a check that failed to run, or
any `error` finding. `--allow-incomplete` reports those without failing; `--fail-on-error` then
still counts `error` findings like `fail` findings (same severity threshold).
"""

from __future__ import annotations

import datetime as dt
import decimal
import hashlib
import json
import re
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

import duckdb

import plugin

from ..store import files
from ..store.files import WriterError, first_line

SEVERITIES: tuple[str, ...] = ("critical", "high", "medium", "low", "info")
SEVERITY_RANK: dict[str, int] = {s: len(SEVERITIES) - i for i, s in enumerate(SEVERITIES)}  # info=1 .. critical=5
STATUSES: tuple[str, ...] = ("pass", "fail", "skip", "error")
OUR_TABLES: tuple[str, ...] = ("aws_kms_keys", "aws_s3_buckets", "aws_encryption_sync_errors",
                               "aws_encryption_sync_coverage")
REQUIRED_COLUMNS: tuple[str, ...] = ("resource_arn", "account_id", "region", "status", "reason")

REQUIRED_KEYS: tuple[str, ...] = ("id", "title", "severity", "description", "remediation")
OPTIONAL_KEYS: tuple[str, ...] = ("resource_type", "risk", "remediation_cli", "references", "compliance",
                                  "peers", "params")
KNOWN_KEYS = REQUIRED_KEYS + OPTIONAL_KEYS

_ID_RE = re.compile(r"[a-z0-9_]+")
_KEY_LINE = re.compile(r"-- ([a-z_][a-z0-9_]*):(?:[ \t]+(.*)|[ \t]*)$")
_CONTINUATION = re.compile(r"--[ \t]{2,}(\S.*)$")
_PARAM_NAME = re.compile(r"[a-z_][a-z0-9_]*")
_NUMBER = re.compile(r"-?\d+(?:\.\d+)?")
_MARKER = re.compile(r"/\*param:([^*]*)\*/")
_LITERAL = re.compile(r"-?\d+(?:\.\d+)?|'(?:[^']|'')*'")


class CheckError(ValueError):
    """Bad input for the check runner (check file, parameter, selection, database): one line, exit 2."""


class CheckFileError(CheckError):
    """A check file that cannot be loaded; the message names the file and the header key."""


@dataclass
class Check:
    """One check: its header metadata, its SQL (with the parameter markers) and where it came from."""

    id: str
    title: str
    severity: str
    description: str
    remediation: str
    sql: str
    path: Path
    resource_type: str = ""
    risk: str = ""
    remediation_cli: str = ""
    references: list[str] = field(default_factory=list)
    compliance: list[tuple[str, str]] = field(default_factory=list)  # (framework, control)
    peers: list[str] = field(default_factory=list)
    params: dict[str, str] = field(default_factory=dict)  # name -> default, as written in `params:`
    bundled: bool = False

    @property
    def source_uri(self) -> str:
        """The check file as a repository-relative URI: `queries/<id>.sql` for bundled checks,
        else the path relative to the working directory (absolute if outside it), with `/`."""
        if self.bundled:
            return f"queries/{self.path.name}"
        return display_path(self.path).replace("\\", "/")


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


def display_path(p: Path) -> str:
    try:
        return str(p.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(p)


def bundled_queries_dir() -> Path:
    """`queries/` at the repository root in a checkout, else `queries/` inside the installed package."""
    root = Path(plugin.__file__).parent.parent / "queries"
    if root.exists():
        return root
    return Path(plugin.__file__).parent / "queries"


# ---------------------------------------------------------------------------------------------
# Loading

def load_checks(dirs: Iterable[Path]) -> list[Check]:
    """Every `*.sql` file of each directory (or the file itself), sorted by name within a directory.

    Raises CheckError for a directory that does not exist, CheckFileError for a bad file and
    CheckError for an id defined twice."""
    bundled = bundled_queries_dir().resolve()
    checks: list[Check] = []
    seen: dict[str, Path] = {}
    for d in dirs:
        d = Path(d)
        if d.is_file():
            files = [d]
        elif d.is_dir():
            files = sorted(p for p in d.glob("*.sql") if p.is_file())
        else:
            raise CheckError(f"check directory {d} does not exist")
        is_bundled = d.resolve() == bundled
        for f in files:
            c = parse_check_file(f, bundled=is_bundled)
            if c.id in seen:
                raise CheckError(f"check {c.id} is defined twice: {display_path(seen[c.id])} and {display_path(f)}")
            seen[c.id] = f
            checks.append(c)
    return checks


def parse_check_file(path: Path, bundled: bool = False) -> Check:
    where = display_path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise CheckFileError(f"{where}: not UTF-8 text") from None
    except OSError as e:
        raise CheckFileError(f"{where}: cannot read: {e.strerror or e}") from None
    return parse_check(text, path, bundled=bundled)


def parse_check(text: str, path: Path, bundled: bool = False) -> Check:
    where = display_path(path)

    def bad(key: str, problem: str) -> CheckFileError:
        return CheckFileError(f"{where}: header key '{key}': {problem}")

    lines = text.splitlines()
    i = 0
    while i < len(lines) and not lines[i].strip():
        i += 1
    header: dict[str, str] = {}
    current: str | None = None
    while i < len(lines):
        line = lines[i].rstrip()
        cont = _CONTINUATION.match(line)
        if cont and current is not None:
            header[current] = (header[current] + " " + cont.group(1).strip()).strip()
            i += 1
            continue
        m = _KEY_LINE.match(line)
        if not m:
            break
        key, value = m.group(1), (m.group(2) or "").strip()
        if key not in KNOWN_KEYS:
            raise bad(key, f"unknown key (known: {', '.join(KNOWN_KEYS)})")
        if key in header:
            raise bad(key, "given twice")
        header[key] = value
        current = key
        i += 1
    sql = "\n".join(lines[i:]).strip()
    if not header:
        raise CheckFileError(f"{where}: no metadata header (the file must start with '-- id: {path.stem}')")
    for key in REQUIRED_KEYS:
        if key not in header:
            raise bad(key, "missing (required: " + ", ".join(REQUIRED_KEYS) + ")")
    for key, value in header.items():
        if not value:
            raise bad(key, "empty value")

    cid = header["id"]
    if not _ID_RE.fullmatch(cid):
        raise bad("id", f"'{cid}' must match [a-z0-9_]+")
    if cid != path.stem:
        raise bad("id", f"'{cid}' differs from the file name '{path.name}' (the id must equal the file stem)")
    severity = header["severity"]
    if severity not in SEVERITIES:
        raise bad("severity", f"'{severity}' is not one of {', '.join(SEVERITIES)}")

    references = _split(header.get("references", ""), ",")
    for r in references:
        if not re.match(r"https?://\S+$", r):
            raise bad("references", f"'{r}' is not an http(s) URL")
    compliance: list[tuple[str, str]] = []
    for item in _split(header.get("compliance", ""), ";"):
        framework, sep, control = item.rpartition(":")
        if not sep or not framework.strip() or not control.strip():
            raise bad("compliance", f"'{item}' is not 'framework: control'")
        compliance.append((framework.strip(), control.strip()))
    peers = _split(header.get("peers", ""), ";")
    params: dict[str, str] = {}
    for item in _split(header.get("params", ""), ","):
        name, sep, default = item.partition("=")
        name, default = name.strip(), default.strip()
        if not sep or not _PARAM_NAME.fullmatch(name) or not default:
            raise bad("params", f"'{item}' is not name=default (name matching [a-z_][a-z0-9_]*)")
        if name in params:
            raise bad("params", f"'{name}' declared twice")
        params[name] = default

    if not sql:
        raise CheckFileError(f"{where}: no SQL after the header")
    _check_markers(sql, params, bad)
    return Check(id=cid, title=header["title"], severity=severity, description=header["description"],
                 remediation=header["remediation"], sql=sql, path=path,
                 resource_type=header.get("resource_type", ""), risk=header.get("risk", ""),
                 remediation_cli=header.get("remediation_cli", ""), references=references,
                 compliance=compliance, peers=peers, params=params, bundled=bundled)


def _split(value: str, sep: str) -> list[str]:
    return [x.strip() for x in value.split(sep) if x.strip()]


def _unquote(literal: str) -> str:
    return literal[1:-1].replace("''", "'") if literal.startswith("'") else literal


def _check_markers(sql: str, params: dict[str, str], bad: Any) -> None:
    used: set[str] = set()
    for m in _MARKER.finditer(sql):
        name = m.group(1)
        if name not in params:
            raise bad("params", f"the SQL uses /*param:{name}*/ but params does not declare it")
        lit = _LITERAL.match(sql, m.end())
        if not lit:
            raise bad("params", f"/*param:{name}*/ must be followed directly by its default "
                                "(a number or a 'quoted string')")
        if _unquote(lit.group(0)) != _unquote(params[name]):
            raise bad("params", f"default of {name} is {params[name]} but the SQL has {lit.group(0)}")
        used.add(name)
    unused = sorted(set(params) - used)
    if unused:
        raise bad("params", f"declared but not used in the SQL as /*param:NAME*/default: {', '.join(unused)}")


def _default_literal(sql: str, name: str) -> str:
    for m in _MARKER.finditer(sql):
        if m.group(1) == name:
            lit = _LITERAL.match(sql, m.end())
            assert lit is not None  # validated at load time
            return lit.group(0)
    raise KeyError(name)


# ---------------------------------------------------------------------------------------------
# Selection and parameters

def parse_severity_filter(value: str) -> set[str]:
    """`high` means high and above; `medium,low` means exactly those."""
    items = [x.strip().lower() for x in value.split(",") if x.strip()]
    if not items:
        raise CheckError("--severity needs a severity or a comma-separated list of them")
    for s in items:
        if s not in SEVERITIES:
            raise CheckError(f"--severity: unknown severity '{s}' (one of {', '.join(SEVERITIES)})")
    if len(items) == 1:
        return {s for s in SEVERITIES if SEVERITY_RANK[s] >= SEVERITY_RANK[items[0]]}
    return set(items)


def select_checks(checks: list[Check], ids: Iterable[str] | None = None,
                  severities: set[str] | None = None) -> list[Check]:
    by_id = {c.id: c for c in checks}
    selected = checks
    if ids:
        wanted: list[str] = []
        for raw in ids:
            wanted.extend(x.strip() for x in raw.split(",") if x.strip())
        unknown = [w for w in wanted if w not in by_id]
        if unknown:
            known = ", ".join(sorted(by_id)) or "none loaded"
            raise CheckError(f"unknown check id {', '.join(unknown)} (known: {known})")
        keep = set(wanted)
        selected = [c for c in checks if c.id in keep]
    if severities is not None:
        selected = [c for c in selected if c.severity in severities]
    return selected


def parse_params(items: Iterable[str] | None) -> dict[str, str]:
    """`NAME=VALUE` strings (from `--param`) into a dict; a repeated name keeps the last value."""
    out: dict[str, str] = {}
    for item in items or []:
        name, sep, value = item.partition("=")
        name = name.strip()
        cid, dot, pname = name.rpartition(".")
        if not sep or not _PARAM_NAME.fullmatch(pname) or (dot and not _ID_RE.fullmatch(cid)):
            raise CheckError(f"--param {item}: expected NAME=VALUE or CHECK_ID.NAME=VALUE")
        out[name] = value
    return out


def validate_params(checks: list[Check], params: dict[str, str]) -> None:
    """Every name must be declared by one of `checks` (the CLI passes all loaded checks, so a --param
    for a check left out by --check/--severity is accepted); numeric defaults need numeric values."""
    pool = checks
    declared = {n for c in pool for n in c.params}
    ids = {c.id: c for c in pool}
    for key, value in params.items():
        if "." in key:
            cid, name = key.split(".", 1)
            if cid not in ids or name not in ids[cid].params:
                raise CheckError(f"--param {key}: check {cid} has no parameter {name}"
                                 + (f" (it has: {', '.join(ids[cid].params) or 'none'})" if cid in ids else ""))
            targets = [ids[cid]]
        else:
            if key not in declared:
                raise CheckError(f"--param {key}: no check declares a parameter {key}"
                                 + (f" (declared: {', '.join(sorted(declared))})" if declared else ""))
            targets = [c for c in pool if key in c.params]
        name = key.split(".", 1)[-1]
        for c in targets:
            if not _default_literal(c.sql, name).startswith("'") and not _NUMBER.fullmatch(value.strip()):
                raise CheckError(f"--param {key}={value}: {c.id} expects a number for {name}")


def render_sql(check: Check, params: dict[str, str] | None = None) -> tuple[str, dict[str, str]]:
    """The check's SQL with each `/*param:NAME*/DEFAULT` replaced by its value, and the values used."""
    params = params or {}
    used: dict[str, str] = {}

    def value_for(name: str) -> str | None:
        return params.get(f"{check.id}.{name}", params.get(name))

    out: list[str] = []
    pos = 0
    for m in _MARKER.finditer(check.sql):
        name = m.group(1)
        lit = _LITERAL.match(check.sql, m.end())
        assert lit is not None  # validated at load time
        default = lit.group(0)
        value = value_for(name)
        if value is None:
            rendered, shown = m.group(0) + default, _unquote(default)  # untouched: the file's SQL
        elif default.startswith("'"):
            rendered, shown = "'" + value.replace("'", "''") + "'", value
        else:
            v = value.strip()
            if not _NUMBER.fullmatch(v):
                raise CheckError(f"--param {name}={value}: {check.id} expects a number")
            rendered, shown = v, v
        out.append(check.sql[pos:m.start()])
        out.append(rendered)
        pos = lit.end()
        used[name] = shown
    out.append(check.sql[pos:])
    return "".join(out), used


# ---------------------------------------------------------------------------------------------
# Running

def open_read_only(db_path: str | Path) -> duckdb.DuckDBPyConnection:
    """The posture database, read-only and sandboxed (plugin/store/files.py); CheckError (one line)
    when it can't be opened."""
    try:
        return files.open_read_only(db_path)
    except WriterError as e:
        raise CheckError(str(e)) from None


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


# ---------------------------------------------------------------------------------------------
# Coverage: what the latest sync read (aws_encryption_sync_coverage, see plugin/tables/sync_coverage.py)

COVERAGE_TABLE = "aws_encryption_sync_coverage"
ORG_TABLE = "aws_organizations_accounts"


@dataclass
class UnreadScope:
    """One account set-up, listing or discovery the latest sync could not read."""

    account_id: str
    region: str
    table_name: str
    operation: str          # service:Operation
    error_code: str
    message: str
    kept_rows: int | None   # rows of earlier syncs kept for it (None: not known, another writer)
    kept_sync_time: dt.datetime | None

    @property
    def where(self) -> str:
        if self.table_name == ORG_TABLE:
            return "organisation discovery"
        who = f"account {self.account_id}" if self.account_id else "the default credentials' account"
        return who + (f" region {self.region}" if self.region else "") + (
            f" {self.table_name}" if self.table_name else "")


@dataclass
class AccountData:
    """How fresh one account's data is: `read` (all of it by the latest sync), `partly read`, `not read`."""

    account_id: str
    status: str
    synced: dt.datetime | None          # the latest sync that touched it
    oldest_data: dt.datetime | None     # the oldest sync time among its kept rows (None: all fresh, or none kept)


@dataclass
class Coverage:
    available: bool                     # the database has aws_encryption_sync_coverage
    unread: list[UnreadScope] = field(default_factory=list)
    accounts: list[AccountData] = field(default_factory=list)
    sync_time: dt.datetime | None = None

    @property
    def complete(self) -> bool:
        return self.available and not self.unread


def read_coverage(con: duckdb.DuckDBPyConnection) -> Coverage:
    """The latest sync's coverage rows: per scope its newest sync (older rows linger with write_mode
    overwrite/append), `error` winning over `ok` for a scope read by several shard processes."""
    exists = con.execute("SELECT count(*) FROM duckdb_tables() WHERE database_name = current_database() "
                         "AND schema_name = 'main' AND table_name = ?", [COVERAGE_TABLE]).fetchone()[0]
    if not exists:
        return Coverage(available=False)
    rows = con.execute(f"""
        WITH latest AS (
            SELECT c.*, max(c._cq_sync_time) OVER (PARTITION BY c._cq_source_name, c.account_id, c.region,
                                                   c.table_name) AS newest
            FROM {COVERAGE_TABLE} c)
        SELECT account_id, region, table_name, service || ':' || operation, status, error_code, message,
               kept_rows, kept_sync_time, _cq_sync_time
        FROM latest WHERE _cq_sync_time = newest
        ORDER BY account_id, region, table_name, operation""").fetchall()
    cov = Coverage(available=True)
    per_account: dict[str, list[tuple[Any, ...]]] = {}
    for r in rows:
        account, region, table, op, status, code, msg, kept, kept_time, synced = r
        if cov.sync_time is None or (synced is not None and synced > cov.sync_time):
            cov.sync_time = synced
        if status == "error":
            cov.unread.append(UnreadScope(account, region, table, op, code or "", msg or "", kept, kept_time))
        if account and table != ORG_TABLE:
            per_account.setdefault(account, []).append(r)
    for account, rs in per_account.items():
        setup_ok = any(r[2] == "" and r[4] == "ok" for r in rs)
        failed = [r for r in rs if r[4] == "error"]
        status = "read" if not failed else ("partly read" if setup_ok else "not read")
        kept_times = [r[8] for r in failed if r[8] is not None]
        cov.accounts.append(AccountData(account, status, max((r[9] for r in rs if r[9] is not None), default=None),
                                        min(kept_times) if kept_times else None))
    return cov


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
