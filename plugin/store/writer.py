"""Write CloudQuery Arrow records into a DuckDB file exactly as the hub `cloudquery/duckdb` does.

One module for both write paths: the `aws-encryption-duckdb` destination plugin that the CloudQuery
CLI drives, and the in-process `aws-encryption sync`. Tables, column types, constraints, write
modes, migrations and delete-stale follow the hub destination (reference s5), so a file written by
either path answers the same SQL.

What differs from the hub, on purpose:
- The whole sync is ONE transaction (the hub commits per batch). A failed, interrupted or killed
  sync leaves the previous sync's rows exactly as they were; DuckDB discards an uncommitted
  transaction when the file is next opened.
- Files that are not DuckDB databases are refused before DuckDB touches them, and a file locked by
  another process is reported with that process's PID.
- No `cloudquery_sync_summaries` table.

Usage:
    with DuckDBWriter(path, write_mode="overwrite-delete-stale", migrate_mode="safe") as w:
        w.migrate(schema)
        w.write(batch)
        w.delete_stale(table, source_name, sync_time)
    # committed here; an exception inside the block rolls everything back
"""

from __future__ import annotations

import datetime as dt
import itertools
import logging
import os
import re
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any, TypeVar

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

WRITE_MODES = ("overwrite-delete-stale", "overwrite", "append")
MIGRATE_MODES = ("safe", "forced")
DEFAULT_WRITE_MODE = "overwrite-delete-stale"
DEFAULT_MIGRATE_MODE = "safe"

SYNC_TIME_COLUMN = "_cq_sync_time"
# Scopes the sync could not read (plugin/tables/sync_coverage.py); delete-stale keeps their rows.
COVERAGE_TABLE = "aws_encryption_sync_coverage"
SOURCE_NAME_COLUMN = "_cq_source_name"

TABLE_NAME_KEY = b"cq:table_name"
PRIMARY_KEY_KEY = b"cq:extension:primary_key"
UNIQUE_KEY = b"cq:extension:unique"

# A DuckDB database file starts with an 8-byte checksum followed by this magic (storage format).
DUCKDB_MAGIC = b"DUCK"
DUCKDB_MAGIC_OFFSET = 8

_LOCK_RE = re.compile(r"Conflicting lock is held in (?P<process>.*?) \(PID (?P<pid>\d+)\)")
_view_ids = itertools.count(1)


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
# Arrow -> DuckDB types and DDL (hub `arrowToDuckDB`, `createTableIfNotExist`)

_SIMPLE_TYPES: list[tuple[Any, str]] = [
    (pa.types.is_boolean, "BOOLEAN"),
    (pa.types.is_int8, "TINYINT"),
    (pa.types.is_int16, "SMALLINT"),
    (pa.types.is_int32, "INTEGER"),
    (pa.types.is_int64, "BIGINT"),
    (pa.types.is_uint8, "UINTEGER"),
    (pa.types.is_uint16, "UINTEGER"),
    (pa.types.is_uint32, "UINTEGER"),
    (pa.types.is_uint64, "UBIGINT"),
    (pa.types.is_float32, "FLOAT"),
    (pa.types.is_float64, "DOUBLE"),
    (pa.types.is_string, "VARCHAR"),
    (pa.types.is_large_string, "VARCHAR"),
    (pa.types.is_binary, "BLOB"),
    (pa.types.is_large_binary, "BLOB"),
    (pa.types.is_fixed_size_binary, "BLOB"),
    (pa.types.is_timestamp, "TIMESTAMP"),
    (pa.types.is_date, "TIMESTAMP"),
    (pa.types.is_struct, "JSON"),
    (pa.types.is_map, "JSON"),
]


def _extension_name(t: pa.DataType) -> str | None:
    return t.extension_name if isinstance(t, pa.BaseExtensionType) else None


def _is_list(t: pa.DataType) -> bool:
    return pa.types.is_list(t) or pa.types.is_large_list(t) or pa.types.is_fixed_size_list(t)


def duckdb_type(t: pa.DataType) -> str:
    """The DuckDB column type the hub destination creates for an Arrow type."""
    ext = _extension_name(t)
    if ext == "json":
        return "JSON"
    if ext in ("uuid", "arrow.uuid"):
        return "UUID"
    if _is_list(t):
        return duckdb_type(t.value_type) + "[]"
    for test, name in _SIMPLE_TYPES:
        if test(t):
            return name
    return "VARCHAR"


def quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def _meta_true(field: pa.Field, key: bytes) -> bool:
    return (field.metadata or {}).get(key, b"").lower() == b"true"


@dataclass(frozen=True)
class ColumnDef:
    """One column as DuckDB stores it (type in DuckDB's upper-case spelling)."""

    name: str
    type: str
    primary_key: bool = False
    unique: bool = False
    not_null: bool = False

    def ddl(self) -> str:
        return (quote(self.name) + " " + self.type + (" UNIQUE" if self.unique else "")
                + (" NOT NULL" if self.not_null else ""))


def column_defs(schema: pa.Schema, write_mode: str = DEFAULT_WRITE_MODE) -> list[ColumnDef]:
    """The table's columns; `append` drops PK and UNIQUE, as the CLI does for that mode."""
    keep_keys = write_mode != "append"
    out = []
    for f in schema:
        pk = keep_keys and _meta_true(f, PRIMARY_KEY_KEY)
        unique = keep_keys and _meta_true(f, UNIQUE_KEY)
        typ = duckdb_type(f.type)
        if (pk or unique) and typ.endswith("[]"):
            # DuckDB cannot index lists; the hub stores key lists as text (`keyListColumn`).
            typ = "VARCHAR"
        # DuckDB forces PK columns NOT NULL; declaring it keeps schema comparisons stable.
        out.append(ColumnDef(f.name, typ, pk, unique, pk or not f.nullable))
    return out


def create_table_sql(table: str, columns: list[ColumnDef]) -> str:
    parts = [c.ddl() for c in columns]
    pks = [quote(c.name) for c in columns if c.primary_key]
    if pks:
        parts.append("PRIMARY KEY (" + ", ".join(pks) + ")")
    return f"CREATE TABLE IF NOT EXISTS {quote(table)} (" + ", ".join(parts) + ")"


def table_name(schema: pa.Schema) -> str:
    name = (schema.metadata or {}).get(TABLE_NAME_KEY)
    if not name:
        raise SchemaError("Arrow schema has no cq:table_name metadata; cannot tell which table to write")
    return name.decode()


# ---------------------------------------------------------------------------------------------
# The `_cq_sync_time` / `_cq_source_name` columns the CLI adds to every record

def _cq_fields() -> list[pa.Field]:
    # Exactly what CLI v6.21.1 sends: nullable, and no field metadata at all (so no PK or unique).
    return [pa.field(SYNC_TIME_COLUMN, pa.timestamp("us", tz="UTC"), nullable=True),
            pa.field(SOURCE_NAME_COLUMN, pa.string(), nullable=True)]


T = TypeVar("T", pa.RecordBatch, pa.Table, pa.Schema)


def add_cq_columns(batch_or_schema: T, source_name: str, sync_time: dt.datetime) -> T:
    """Prepend `_cq_sync_time` and `_cq_source_name`, as the CLI does before records reach a destination.

    Accepts a Schema, RecordBatch or Table and returns the same kind. Existing columns of those
    names are replaced, so calling it twice is harmless.
    """
    if isinstance(batch_or_schema, pa.Schema):
        rest = [f for f in batch_or_schema if f.name not in (SYNC_TIME_COLUMN, SOURCE_NAME_COLUMN)]
        return pa.schema([*_cq_fields(), *rest], metadata=batch_or_schema.metadata)
    data = batch_or_schema
    keep = [i for i, f in enumerate(data.schema) if f.name not in (SYNC_TIME_COLUMN, SOURCE_NAME_COLUMN)]
    n = data.num_rows
    ts = _utc(sync_time).replace(tzinfo=dt.timezone.utc)
    arrays = [pa.array([ts] * n, type=pa.timestamp("us", tz="UTC")),
              pa.array([source_name] * n, type=pa.string()),
              *[data.column(i) for i in keep]]
    schema = pa.schema([*_cq_fields(), *[data.schema.field(i) for i in keep]], metadata=data.schema.metadata)
    if isinstance(data, pa.Table):
        return pa.Table.from_arrays(arrays, schema=schema)
    return pa.RecordBatch.from_arrays(arrays, schema=schema)


def _utc(t: dt.datetime) -> dt.datetime:
    """Naive UTC, the form DuckDB's TIMESTAMP holds CloudQuery times in."""
    if t.tzinfo is not None:
        t = t.astimezone(dt.timezone.utc).replace(tzinfo=None)
    return t


# ---------------------------------------------------------------------------------------------
# Arrow data -> what DuckDB's Arrow scan reads as the right types

def _needs_conversion(t: pa.DataType) -> bool:
    if isinstance(t, pa.BaseExtensionType):
        return _extension_name(t) != "arrow.uuid"  # DuckDB already reads Arrow's own uuid as UUID
    if pa.types.is_timestamp(t):
        return t.tz is not None
    if _is_list(t):
        return _needs_conversion(t.value_type)
    return False


def _convert_array(arr: pa.Array) -> pa.Array:
    t = arr.type
    ext = _extension_name(t)
    if ext == "json":
        # DuckDB sees CloudQuery's json extension as BLOB and would store it as an escaped string.
        return arr.storage.cast(pa.string())
    if ext == "uuid":
        # Arrow's canonical uuid extension is read by DuckDB as UUID; the storage is the same 16 bytes.
        storage = arr.storage
        if storage.type != pa.binary(16):
            storage = storage.cast(pa.binary(16))
        return pa.ExtensionArray.from_storage(pa.uuid(), storage)
    if ext == "arrow.uuid":
        return arr
    if isinstance(t, pa.BaseExtensionType):
        return _convert_array(arr.storage)
    if pa.types.is_timestamp(t) and t.tz is not None:
        # Naive UTC in Arrow, so DuckDB's session time zone cannot shift the stored value.
        return arr.cast(pa.timestamp(t.unit))
    if (pa.types.is_list(t) or pa.types.is_large_list(t)) and _needs_conversion(t.value_type):
        return _convert_list(arr)
    return arr


def _convert_list(arr: pa.Array) -> pa.Array:
    # Rebuild from this (possibly sliced) array's own span of values: Arrow refuses a null
    # bitmap together with sliced offsets.
    start, end = arr.offsets[0].as_py(), arr.offsets[-1].as_py()
    offsets = pc.subtract(arr.offsets, pa.scalar(start, arr.offsets.type)).cast(pa.int32())
    values = _convert_array(arr.values.slice(start, end - start))
    return pa.ListArray.from_arrays(offsets, values, mask=arr.is_null() if arr.null_count else None)


def _converted_type(t: pa.DataType) -> pa.DataType:
    """The type `_convert_array` turns `t` into."""
    ext = _extension_name(t)
    if ext == "json":
        return pa.string()
    if ext in ("uuid", "arrow.uuid"):
        return pa.uuid()
    if isinstance(t, pa.BaseExtensionType):
        return _converted_type(t.storage_type)
    if pa.types.is_timestamp(t) and t.tz is not None:
        return pa.timestamp(t.unit)
    if (pa.types.is_list(t) or pa.types.is_large_list(t)) and _needs_conversion(t.value_type):
        return pa.list_(_converted_type(t.value_type))
    return t


def to_duckdb_arrow(data: pa.RecordBatch | pa.Table) -> pa.Table:
    """A Table whose columns DuckDB reads with the destination's types (JSON text, UUID, naive UTC)."""
    table = pa.Table.from_batches([data]) if isinstance(data, pa.RecordBatch) else data
    columns, fields = [], []
    for f, col in zip(table.schema, table.columns):
        if _needs_conversion(f.type):
            col = pa.chunked_array([_convert_array(c) for c in col.chunks], type=_converted_type(f.type))
        columns.append(col)
        fields.append(pa.field(f.name, col.type, f.nullable))
    return pa.Table.from_arrays(columns, schema=pa.schema(fields))


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


def _check_existing_file(p: Path) -> None:
    if not p.is_file():
        raise NotADuckDBFileError(f"database {p} is not a regular file, not a DuckDB database")
    try:
        with open(p, "rb") as fh:
            head = fh.read(DUCKDB_MAGIC_OFFSET + len(DUCKDB_MAGIC))
    except OSError as e:
        raise NotWritableError(f"database {p} cannot be read: {e.strerror}") from None
    if not head:
        raise NotADuckDBFileError(f"database {p} is an empty file, not a DuckDB database; "
                                  "remove it to create a new database there")
    if head[DUCKDB_MAGIC_OFFSET:] != DUCKDB_MAGIC:
        raise NotADuckDBFileError(f"database {p} is not a DuckDB database file (no DUCK header); "
                                  "left unchanged")
    if not os.access(p, os.W_OK):
        raise NotWritableError(f"database {p} is not writable (permission denied)")


def _first_line(e: BaseException) -> str:
    return str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__


def open_database(path: str | os.PathLike[str]) -> duckdb.DuckDBPyConnection:
    """Open (or create) the database read-write, translating DuckDB's errors into WriterErrors."""
    p = check_database_path(path)
    try:
        return duckdb.connect(str(p))
    except duckdb.Error as e:
        raise _open_error(p, e) from None


def _open_error(p: Path, e: duckdb.Error) -> WriterError:
    msg = str(e)
    m = _LOCK_RE.search(msg)
    if m:
        return DatabaseLockedError(str(p), int(m.group("pid")), m.group("process"))
    if "Could not set lock" in msg:
        return DatabaseLockedError(str(p), None, "another process")
    if "Permission denied" in msg or "Read-only file system" in msg:
        return NotWritableError(f"database {p} is not writable: {_first_line(e)}")
    if "not a valid DuckDB database file" in msg:
        return NotADuckDBFileError(f"database {p} is not a DuckDB database file: {_first_line(e)}")
    return WriterError(f"cannot open database {p}: {_first_line(e)}")


def check_can_open(path: str | os.PathLike[str]) -> None:
    """Check that a sync could write `path`: an existing file is opened (lock, format); a new one is not created."""
    p = check_database_path(path)
    if p.exists():
        open_database(p).close()


# ---------------------------------------------------------------------------------------------
# The writer

@dataclass
class _TableState:
    columns: dict[str, ColumnDef]
    primary_keys: list[str]
    # UNIQUE columns outside the primary key can conflict even after the delete-by-PK.
    unique_outside_pk: bool

    @classmethod
    def of(cls, columns: list[ColumnDef]) -> "_TableState":
        pks = [c.name for c in columns if c.primary_key]
        return cls({c.name: c for c in columns}, pks, any(c.unique and c.name not in pks for c in columns))


class DuckDBWriter:
    """One sync into one DuckDB file, as one transaction. Use as a context manager."""

    def __init__(self, path: str | os.PathLike[str], write_mode: str = DEFAULT_WRITE_MODE,
                 migrate_mode: str = DEFAULT_MIGRATE_MODE, logger: Any = None,
                 attach: list[str] | None = None) -> None:
        if write_mode not in WRITE_MODES:
            raise SchemaError(f"write_mode: expected one of {', '.join(WRITE_MODES)}, got {write_mode!r}")
        if migrate_mode not in MIGRATE_MODES:
            raise SchemaError(f"migrate_mode: expected one of {', '.join(MIGRATE_MODES)}, got {migrate_mode!r}")
        self.path = os.fspath(path)
        self.write_mode = write_mode
        self.migrate_mode = migrate_mode
        self._logger = logger
        self._con: duckdb.DuckDBPyConnection | None = None
        self._tables: dict[str, _TableState] = {}
        self.rows_written: dict[str, int] = {}
        self.rows_deleted: dict[str, int] = {}
        self.rows_kept: dict[str, int] = {}   # stale rows of unread scopes kept (delete_stale)
        # Other databases to read (merge), attached read-only before the transaction starts:
        # DuckDB can't ATTACH inside one. path -> alias
        self.attached: dict[str, str] = {str(a): f"__cq_merge_{i}" for i, a in enumerate(attach or [])}

    # -- lifecycle ------------------------------------------------------------------------------

    def __enter__(self) -> "DuckDBWriter":
        self.open()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        try:
            if exc_type is None:
                self.commit()
            else:
                self.rollback()
        finally:
            self.close()

    def open(self) -> None:
        """Open the file and start the sync's transaction."""
        con = open_database(self.path)
        try:
            # Belt and braces with the Arrow-side conversion: no implicit cast may use local time.
            con.execute("SET TimeZone='UTC'")
            # One DuckDB thread: the writer shares 2 cores with the sync's own threads, and measured
            # 10-20% faster this way (bench/README.md, writer alone).
            con.execute("SET threads=1")
            for path, alias in self.attached.items():
                con.execute(f"ATTACH {_sql_literal(str(check_database_path(path)))} AS {quote(alias)} (READ_ONLY)")
            con.execute("BEGIN TRANSACTION")
        except duckdb.Error as e:
            con.close()
            raise WriterError(f"database {self.path}: cannot start a transaction: {_first_line(e)}") from None
        self._con = con

    def commit(self) -> None:
        con = self._connection()
        try:
            con.execute("COMMIT")
        except duckdb.Error as e:
            raise WriterError(f"database {self.path}: commit failed, nothing was written: {_first_line(e)}") from None
        self._log("committed", rows=sum(self.rows_written.values()), deleted=sum(self.rows_deleted.values()))

    def rollback(self) -> None:
        if self._con is None:
            return
        try:
            self._con.execute("ROLLBACK")
        except duckdb.Error:
            # Closing without COMMIT discards the transaction anyway.
            pass
        self._log("rolled back; the database keeps its previous contents")

    def close(self) -> None:
        if self._con is not None:
            self._con.close()
            self._con = None

    def _connection(self) -> duckdb.DuckDBPyConnection:
        if self._con is None:
            raise WriterError(f"database {self.path}: writer is not open (use it as a context manager)")
        return self._con

    def _log(self, event: str, **kw: Any) -> None:
        if self._logger is None:
            return
        if isinstance(self._logger, logging.Logger):
            # The stdlib logger takes no keyword fields; structlog's (the plugin's) does.
            fields = " ".join(f"{k}={v}" for k, v in {"database": self.path, **kw}.items())
            self._logger.info("%s %s", event, fields)
        else:
            self._logger.info(event, database=self.path, **kw)

    def _exec(self, sql: str, params: list[Any] | None = None) -> duckdb.DuckDBPyConnection:
        try:
            return self._connection().execute(sql, params)
        except duckdb.Error as e:
            raise WriterError(f"database {self.path}: {_first_line(e)} (in: {sql[:120]})") from None

    # -- migration ------------------------------------------------------------------------------

    def migrate(self, schema: pa.Schema, force: bool = False) -> None:
        """Create the table, or bring an existing one up to `schema` (safe: add nullable columns only).

        `force` (the CLI's `migrate_force`) or `migrate_mode="forced"` drops and recreates a table
        whose change cannot be applied safely; otherwise that raises MigrationError.
        """
        name = table_name(schema)
        wanted = column_defs(schema, self.write_mode)
        existing = self._existing_columns(name)
        if existing is None:
            self._exec(create_table_sql(name, wanted))
            self._tables[name] = _TableState.of(wanted)
            return
        adds, blockers = plan_migration(existing, wanted)
        if not blockers:
            for c in adds:
                self._log("adding column", table=name, column=c.name, type=c.type)
                self._exec(f"ALTER TABLE {quote(name)} ADD COLUMN {quote(c.name)} {c.type}")
            self._tables[name] = _TableState.of(existing + adds)
            return
        if not (force or self.migrate_mode == "forced"):
            raise MigrationError(f"database {self.path}: table {name} needs a migration that can lose data ("
                                 + "; ".join(blockers) + "); set migrate_mode: forced to drop and recreate it")
        self._log("recreating table (forced migration)", table=name, changes="; ".join(blockers))
        self._exec(f"DROP TABLE {quote(name)}")
        self._exec(create_table_sql(name, wanted))
        self._tables[name] = _TableState.of(wanted)

    def _existing_columns(self, table: str) -> list[ColumnDef] | None:
        cols = self._exec(
            "SELECT column_name, data_type, NOT is_nullable FROM duckdb_columns() "
            "WHERE database_name = current_database() AND schema_name = 'main' AND table_name = ? "
            "ORDER BY column_index", [table]).fetchall()
        if not cols:
            return None
        constraints = self._exec(
            "SELECT constraint_type, constraint_column_names FROM duckdb_constraints() "
            "WHERE database_name = current_database() AND schema_name = 'main' AND table_name = ?",
            [table]).fetchall()
        pks = {c for kind, names in constraints if kind == "PRIMARY KEY" for c in names}
        uniques = {names[0] for kind, names in constraints if kind == "UNIQUE" and len(names) == 1}
        return [ColumnDef(n, t.upper(), n in pks, n in uniques, bool(nn) or n in pks) for n, t, nn in cols]

    # -- writing --------------------------------------------------------------------------------

    def write(self, data: pa.RecordBatch | pa.Table) -> int:
        """Write a batch (one table): upsert on the PK, or plain insert in append mode. Returns rows written."""
        name = table_name(data.schema)
        if name not in self._tables:
            self.migrate(data.schema)
        if data.num_rows == 0:
            return 0
        state = self._tables[name]
        unknown = [f.name for f in data.schema if f.name not in state.columns]
        if unknown:
            raise SchemaError(f"database {self.path}: table {name} has no column {unknown[0]}; "
                              "migrate the table with this schema first")
        upsert = bool(state.primary_keys) and self.write_mode != "append"
        arrow = to_duckdb_arrow(data)
        view = f"__cq_incoming_{next(_view_ids)}"
        con = self._connection()
        con.register(view, arrow)
        try:
            if upsert:
                self._delete_existing(name, view, state.primary_keys)
            # ON CONFLICT halves insert speed; it is only needed when the batch itself repeats a key.
            on_conflict = upsert and (state.unique_outside_pk or _has_duplicate_keys(arrow, state.primary_keys))
            self._insert(name, view, data.schema, state, on_conflict)
        finally:
            con.unregister(view)
        self.rows_written[name] = self.rows_written.get(name, 0) + data.num_rows
        return data.num_rows

    def _delete_existing(self, table: str, view: str, pks: list[str]) -> None:
        # DuckDB cannot UPDATE list columns in ON CONFLICT (hub write.go `deleteInsert`); inside our
        # transaction the delete-then-insert is atomic, unlike the hub's.
        cond = " AND ".join(f"{quote(table)}.{quote(k)} = {quote(view)}.{quote(k)}" for k in pks)
        self._exec(f"DELETE FROM {quote(table)} USING {quote(view)} WHERE {cond}")

    def _insert(self, table: str, view: str, schema: pa.Schema, state: _TableState, on_conflict: bool) -> None:
        names = [f.name for f in schema]
        select = ", ".join(_select_expr(f, state.columns[f.name]) for f in schema)
        # Duplicate keys inside one batch keep the first row, as the hub does.
        conflict = " ON CONFLICT DO NOTHING" if on_conflict else ""
        self._exec(f"INSERT INTO {quote(table)} (" + ", ".join(map(quote, names)) + f") SELECT {select} "
                   f"FROM {quote(view)}{conflict}")

    # -- merge ----------------------------------------------------------------------------------

    def merge_from(self, other: str | os.PathLike[str], table: str, schema: pa.Schema) -> int:
        """Copy `table` from another posture database into this one, upserting on the PK.

        For `aws-encryption merge` of per-shard files: `other` must have been passed in `attach=`;
        the rows keep their `_cq_sync_time` and `_cq_source_name`. Returns the rows copied (0 when
        the other file has no such table).
        """
        if table not in self._tables:
            self.migrate(schema)
        state = self._tables[table]
        con = self._connection()
        alias = self.attached.get(str(other))
        if alias is None:
            raise WriterError(f"database {self.path}: {other} was not attached when the writer opened")
        exists = con.execute("SELECT count(*) FROM duckdb_tables() WHERE database_name = ? AND table_name = ?",
                             [alias, table]).fetchone()[0]
        if not exists:
            return 0
        cols = [r[0] for r in con.execute(
            "SELECT column_name FROM duckdb_columns() WHERE database_name = ? AND table_name = ? "
            "ORDER BY column_index", [alias, table]).fetchall()]
        unknown = [c for c in cols if c not in state.columns]
        if unknown:
            raise SchemaError(f"database {other}: table {table} has a column {unknown[0]} this version does not know")
        src = f"{quote(alias)}.{quote(table)}"
        if state.primary_keys and self.write_mode != "append":
            cond = " AND ".join(f"{quote(table)}.{quote(k)} = src.{quote(k)}" for k in state.primary_keys)
            self._exec(f"DELETE FROM {quote(table)} USING {src} AS src WHERE {cond}")
        n = con.execute(f"SELECT count(*) FROM {src}").fetchone()[0]
        self._exec(f"INSERT INTO {quote(table)} (" + ", ".join(map(quote, cols)) + ") SELECT " +
                   ", ".join(map(quote, cols)) + f" FROM {src}")
        self.rows_written[table] = self.rows_written.get(table, 0) + n
        return n

    # -- delete stale ---------------------------------------------------------------------------

    def delete_stale(self, table: str, source_name: str, sync_time: dt.datetime) -> int:
        """Remove `source_name`'s rows older than `sync_time` (overwrite-delete-stale only). Returns rows deleted.

        Rows of a scope this sync could not read are kept (module docstring of
        plugin/tables/sync_coverage.py): an `error` row of aws_encryption_sync_coverage written by this
        same sync that lists `table` protects that table's rows of its account (and region), and gets
        the number of rows kept and their newest sync time."""
        if self.write_mode != "overwrite-delete-stale":
            return 0
        if table not in self._tables and self._existing_columns(table) is None:
            return 0
        where = f"{quote(SOURCE_NAME_COLUMN)} = ? AND {quote(SYNC_TIME_COLUMN)} < ?"
        params: list[Any] = [source_name, _utc(sync_time)]
        keep = self._keep_unread(table, source_name, sync_time, where, params)
        if keep is not None:
            where += f" AND NOT ({keep[0]})"
            params += keep[1]
        cur = self._exec(f"DELETE FROM {quote(table)} WHERE {where}", params)
        n = int(cur.fetchone()[0])
        self.rows_deleted[table] = self.rows_deleted.get(table, 0) + n
        return n

    def _keep_unread(self, table: str, source_name: str, sync_time: dt.datetime, stale: str,
                     stale_params: list[Any]) -> tuple[str, list[Any]] | None:
        """The condition matching `table`'s stale rows that belong to an unread scope, or None."""
        if table == COVERAGE_TABLE or self._existing_columns(COVERAGE_TABLE) is None:
            return None
        columns = {c.name for c in self._existing_columns(table) or []}
        if "account_id" not in columns:
            return None
        scopes = self._exec(
            f"SELECT account_id, region, table_name, operation FROM {quote(COVERAGE_TABLE)} "
            f"WHERE {quote(SOURCE_NAME_COLUMN)} = ? AND {quote(SYNC_TIME_COLUMN)} = ? AND status = 'error' "
            "AND list_contains(tables, ?)", [source_name, _utc(sync_time), table]).fetchall()
        conds: list[str] = []
        params: list[Any] = []
        for account, region, scope_table, operation in scopes:
            cond, cparams = "TRUE", []
            if account:
                cond, cparams = "account_id = ?", [account]
                if region and "region" in columns:
                    cond, cparams = cond + " AND region = ?", cparams + [region]
            kept, newest = self._exec(f"SELECT count(*), max({quote(SYNC_TIME_COLUMN)}) FROM {quote(table)} "
                                      f"WHERE {stale} AND {cond}", stale_params + cparams).fetchone()
            self._exec(
                f"UPDATE {quote(COVERAGE_TABLE)} SET kept_rows = coalesce(kept_rows, 0) + ?, "
                "kept_sync_time = greatest(kept_sync_time, CAST(? AS TIMESTAMP)) "  # greatest skips NULLs
                f"WHERE {quote(SOURCE_NAME_COLUMN)} = ? AND {quote(SYNC_TIME_COLUMN)} = ? AND account_id = ? "
                "AND region = ? AND table_name = ? AND operation = ? AND status = 'error'",
                [kept, newest, source_name, _utc(sync_time), account, region, scope_table, operation])
            if kept:
                self.rows_kept[table] = self.rows_kept.get(table, 0) + kept
                self._log("kept rows of an unread scope", table=table, account=account or "*",
                          region=region or "*", rows=kept)
            conds.append(f"({cond})")
            params += cparams
        return (" OR ".join(conds), params) if conds else None


def _has_duplicate_keys(data: pa.Table, pks: list[str]) -> bool:
    try:
        keys = pa.table({k: _storage(data.column(k)) for k in pks})
        if len(pks) == 1:
            return pc.count_distinct(keys.column(0), mode="all").as_py() != data.num_rows
        return keys.group_by(pks).aggregate([]).num_rows != data.num_rows
    except (pa.ArrowNotImplementedError, pa.ArrowInvalid):
        # Key types Arrow cannot hash: let DuckDB resolve duplicates (ON CONFLICT) instead.
        return True


def _storage(col: pa.ChunkedArray) -> pa.ChunkedArray:
    if isinstance(col.type, pa.BaseExtensionType):
        return pa.chunked_array([c.storage for c in col.chunks], type=col.type.storage_type)
    return col


def _select_expr(field: pa.Field, target: ColumnDef) -> str:
    col = quote(field.name)
    t = field.type.storage_type if isinstance(field.type, pa.BaseExtensionType) and \
        _extension_name(field.type) not in ("json", "uuid") else field.type
    if pa.types.is_struct(t) or pa.types.is_map(t):
        return f"to_json({col})"
    if _is_list(t) and not target.type.endswith("[]"):
        return f"CAST({col} AS {target.type})"
    return col


def plan_migration(existing: list[ColumnDef], wanted: list[ColumnDef]) -> tuple[list[ColumnDef], list[str]]:
    """(columns safe to add, reasons a safe migration is impossible), as the hub's `canAutoMigrate`."""
    have = {c.name: c for c in existing}
    want = {c.name: c for c in wanted}
    adds, blockers = [], []
    for c in wanted:
        old = have.get(c.name)
        if old is None:
            if c.primary_key or c.not_null:
                blockers.append(f"new column {c.name} is {'a primary key' if c.primary_key else 'NOT NULL'}")
            else:
                adds.append(c)
            continue
        blockers.extend(_column_changes(old, c))
    for c in existing:
        if c.name not in want and (c.primary_key or c.not_null):
            blockers.append(f"column {c.name} ({'primary key' if c.primary_key else 'NOT NULL'}) was removed")
    return adds, blockers


def _column_changes(old: ColumnDef, new: ColumnDef) -> list[str]:
    out = []
    if old.type != new.type:
        out.append(f"column {new.name} type changed from {old.type} to {new.type}")
    if old.primary_key != new.primary_key:
        out.append(f"column {new.name} {'joined' if new.primary_key else 'left'} the primary key")
    elif old.not_null != new.not_null:
        out.append(f"column {new.name} became {'NOT NULL' if new.not_null else 'nullable'}")
    if old.unique != new.unique:
        out.append(f"column {new.name} {'gained' if new.unique else 'lost'} its UNIQUE constraint")
    return out


def _sql_literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"
