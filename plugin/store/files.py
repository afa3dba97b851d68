"""The posture database file: opened only when it is what it claims to be, with one-line errors.

Files that are not DuckDB databases are refused before DuckDB touches them (the header's magic), a
file locked by another process is reported with that process's PID, and SQL we did not write (the
checks, `aws-encryption sql`) gets a read-only, sandboxed connection (`open_read_only`).

A file we create is in DuckDB's v1.4.0 storage format unless asked for `latest`
(STORAGE_VERSIONS): DuckDB 2.x writes a format DuckDB 1.x refuses ("version number 999"), which
shuts out the 1.4 LTS CLI, JDBC/DBeaver 1.x, go-duckdb and the hub's duckdb destination. An
existing file is opened as it is and keeps its format: DuckDB can't lower a file's storage version,
and ATTACH ... (STORAGE_VERSION 'latest') on an existing file would raise it for good.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import duckdb

from .formats import DEFAULT_STORAGE_VERSION, STORAGE_VERSIONS


# A DuckDB database file starts with an 8-byte checksum followed by this magic (storage format).
DUCKDB_MAGIC = b"DUCK"
DUCKDB_MAGIC_OFFSET = 8

_LOCK_RE = re.compile(r"Conflicting lock is held in (?P<process>.*?) \(PID (?P<pid>\d+)\)")


class WriterError(Exception):
    """Any failure of the DuckDB writer; the message is one line and names the database file."""


class DatabaseLockedError(WriterError):
    """Another process has the database file open."""

    def __init__(self, path: str, pid: int | None, process: str) -> None:
        who = f"PID {pid} ({process})" if pid is not None else process or "another process"
        super().__init__(f"database {path} is locked by {who}")
        self.path, self.pid, self.process = path, pid, process


class NotWritableError(WriterError):
    """The database file, or the directory it would be created in, cannot be written."""


class NotADuckDBFileError(WriterError):
    """The path holds a file that is not a DuckDB database; it is left untouched."""


class MigrationError(WriterError):
    """A table's schema changed in a way `migrate_mode: safe` will not apply."""


class SchemaError(WriterError):
    """The Arrow data cannot be written (no table name, unknown table, bad mode)."""


# ---------------------------------------------------------------------------------------------
# Opening the file safely

def check_database_path(path: str | os.PathLike[str]) -> Path:
    """Refuse paths DuckDB must not touch; raises before anything is created or written."""
    p = Path(os.path.expanduser(os.fspath(path)))
    if p.is_dir():
        raise NotWritableError(f"database {p} is a directory, not a DuckDB database file")
    if p.exists():
        _check_existing_file(p)
        return p
    parent = p.parent if str(p.parent) else Path(".")
    if not parent.exists():
        raise NotWritableError(f"cannot create database {p}: directory {parent} does not exist")
    if not parent.is_dir():
        raise NotWritableError(f"cannot create database {p}: {parent} is not a directory")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise NotWritableError(f"cannot create database {p}: directory {parent} is not writable")
    return p


def _header(p: Path | str) -> bytes:
    """The first bytes of the file, up to and including where DuckDB's magic sits."""
    try:
        with open(p, "rb") as fh:
            return fh.read(DUCKDB_MAGIC_OFFSET + len(DUCKDB_MAGIC))
    except OSError as e:
        raise NotWritableError(f"database {p} cannot be read: {e.strerror or e}") from None


def _check_existing_file(p: Path) -> None:
    if not p.is_file():
        raise NotADuckDBFileError(f"database {p} is not a regular file, not a DuckDB database")
    head = _header(p)
    if not head:
        raise NotADuckDBFileError(f"database {p} is an empty file, not a DuckDB database; "
                                  "remove it to create a new database there")
    if head[DUCKDB_MAGIC_OFFSET:] != DUCKDB_MAGIC:
        raise NotADuckDBFileError(f"database {p} is not a DuckDB database file (no DUCK header); "
                                  "left unchanged")
    if not os.access(p, os.W_OK):
        raise NotWritableError(f"database {p} is not writable (permission denied)")


def first_line(e: BaseException) -> str:
    return str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__


def check_storage_version(value: object, field: str = "duckdb_storage_version") -> str:
    """`value` when it is one of STORAGE_VERSIONS; else a one-line WriterError naming `field`."""
    if value not in STORAGE_VERSIONS:
        shown = repr(value) if len(repr(value)) <= 40 else repr(value)[:39] + "\u2026"
        raise WriterError(f"{field}: expected one of {', '.join(STORAGE_VERSIONS)}, got {shown}")
    return value  # type: ignore[return-value]


def storage_version_of(requests: list[tuple[str, str]]) -> str:
    """The one storage version for a file several sources write, from (source name, version) pairs:
    the version they all ask for (the default when there are none); a WriterError naming two
    sources that disagree."""
    versions = {v for _, v in requests}
    if len(versions) > 1:
        (a, va), (b, vb) = requests[0], next((n, v) for n, v in requests if v != requests[0][1])
        raise WriterError(f"sources {a} and {b} write one database file but ask for different "
                          f"duckdb_storage_version ({va}, {vb}); expected the same value in every source")
    return check_storage_version(versions.pop()) if versions else DEFAULT_STORAGE_VERSION


def open_database(path: str | os.PathLike[str],
                  storage_version: str = DEFAULT_STORAGE_VERSION) -> duckdb.DuckDBPyConnection:
    """Open (or create) the database read-write, translating DuckDB's errors into WriterErrors.

    A new file is created in `storage_version`'s format; an existing one keeps its own (module
    docstring)."""
    check_storage_version(storage_version)
    p = check_database_path(path)
    # storage_compatibility_version at connect is DuckDB's equivalent of ATTACH ... (STORAGE_VERSION)
    # for the file it creates. Not passed for an existing file: it is opened exactly as before.
    config = {} if p.exists() else {"storage_compatibility_version": storage_version}
    try:
        return duckdb.connect(str(p), config=config)
    except duckdb.Error as e:
        raise _open_error(p, e) from None


def storage_format(con: duckdb.DuckDBPyConnection, database: str | None = None) -> str:
    """The storage format of an open database as DuckDB tags it (`v1.4.0+`: DuckDB 1.4.0 and later
    read it), or "" when this DuckDB doesn't say."""
    try:
        row = con.execute("SELECT tags['storage_version'] FROM duckdb_databases() WHERE database_name = "
                          + ("current_database()" if database is None else "?"),
                          [] if database is None else [database]).fetchone()
    except duckdb.Error:
        return ""
    return str(row[0]) if row and row[0] else ""


def format_version(tag: str) -> tuple[int, ...] | None:
    """(1, 4, 0) of `v1.4.0+`; None when the tag is not of that form."""
    m = re.fullmatch(r"v(\d+)\.(\d+)\.(\d+)\+?", tag.strip())
    return tuple(int(g) for g in m.groups()) if m else None


def _locked(p: Path | str, e: duckdb.Error) -> DatabaseLockedError | None:
    """DuckDB's lock conflict as our error, naming the other process when DuckDB does."""
    msg = str(e)
    m = _LOCK_RE.search(msg)
    if m:
        return DatabaseLockedError(str(p), int(m.group("pid")), m.group("process"))
    if "Could not set lock" in msg:
        return DatabaseLockedError(str(p), None, "another process")
    return None


def _open_error(p: Path, e: duckdb.Error) -> WriterError:
    msg = str(e)
    locked = _locked(p, e)
    if locked is not None:
        return locked
    if "Permission denied" in msg or "Read-only file system" in msg:
        return NotWritableError(f"database {p} is not writable: {first_line(e)}")
    if "not a valid DuckDB database file" in msg:
        return NotADuckDBFileError(f"database {p} is not a DuckDB database file: {first_line(e)}")
    return WriterError(f"cannot open database {p}: {first_line(e)}")


def check_can_open(path: str | os.PathLike[str]) -> None:
    """Check that a sync could write `path`: an existing file is opened (lock, format); a new one is not created."""
    p = check_database_path(path)
    if p.exists():
        open_database(p).close()


# ---------------------------------------------------------------------------------------------
# Read-only, for SQL we did not write

# DuckDB settings for every connection that runs SQL we did not write (`check`, `check --queries`,
# `sql`): read_only protects the posture database, these protect every other file. External access
# off refuses COPY TO, ATTACH, EXPORT, read_text/read_csv/glob, http(s) URLs and INSTALL/LOAD; with
# extensions neither installed nor loaded on demand, a query can't fetch code either. DuckDB still
# opens (and replays the WAL of) the database file itself.
SANDBOX_CONFIG: dict[str, Any] = {
    "enable_external_access": False,
    "autoinstall_known_extensions": False,
    "autoload_known_extensions": False,
}


def sandboxed_connect(path: Path) -> duckdb.DuckDBPyConnection:
    """`path` opened read-only with SANDBOX_CONFIG, the session time zone UTC, and the configuration
    locked, so the SQL that follows can't `SET enable_external_access = true` (or anything else)."""
    con = duckdb.connect(str(path), read_only=True, config=dict(SANDBOX_CONFIG))
    try:
        # TimeZone is the ICU extension's setting: connect(config=) rejects it, and after the lock
        # SET refuses it, so it is set here, in between.
        con.execute("SET TimeZone = 'UTC'")
        con.execute("SET lock_configuration = true")
    except BaseException:
        con.close()
        raise
    return con


def open_read_only(db_path: str | os.PathLike[str]) -> duckdb.DuckDBPyConnection:
    """The posture database for SQL we did not write (`check`, `sql`, the demo): read-only, sandboxed
    (see SANDBOX_CONFIG), UTC. A WriterError (one line) when it is missing, not a file, not DuckDB,
    locked or unopenable."""
    p = Path(db_path)
    if not p.exists():
        raise WriterError(f"database {db_path} does not exist")
    if not p.is_file():
        raise NotADuckDBFileError(f"database {db_path} is not a file")
    if _header(db_path)[DUCKDB_MAGIC_OFFSET:] != DUCKDB_MAGIC:
        raise NotADuckDBFileError(f"database {db_path} is not a DuckDB database file")
    try:
        return sandboxed_connect(p)
    except duckdb.Error as e:
        locked = _locked(db_path, e)
        if locked is not None:
            raise locked from None
        if "not a valid DuckDB database file" in str(e):
            raise NotADuckDBFileError(f"database {db_path} is not a DuckDB database file") from None
        raise WriterError(f"cannot open database {db_path}: {first_line(e)}") from None
