"""Write CloudQuery Arrow records into a DuckDB file exactly as the hub `cloudquery/duckdb` does.

One module for both write paths: the `aws-encryption-duckdb` destination plugin that the CloudQuery
CLI drives, and the in-process `aws-encryption sync`. Tables, column types, constraints, write
modes, migrations and delete-stale follow the hub destination (docs/cloudquery.md, "The hub DuckDB destination"), so a file written by
either path answers the same SQL.

What differs from the hub, on purpose:
- The whole sync is ONE transaction (the hub commits per batch). A failed, interrupted or killed
  sync leaves the previous sync's rows exactly as they were; DuckDB discards an uncommitted
  transaction when the file is next opened.
- Files that are not DuckDB databases are refused before DuckDB touches them, and a file locked by
  another process is reported with that process's PID.
- No `cloudquery_sync_summaries` table.
- A file it creates is in DuckDB's v1.4.0 storage format by default (`storage_version`), so DuckDB
  1.4 LTS clients open it; an existing file keeps its format (plugin/store/files.py).

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
from dataclasses import dataclass
from types import TracebackType
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from .duckdb_types import (COVERAGE_TABLE, DEFAULT_MIGRATE_MODE, DEFAULT_WRITE_MODE, MIGRATE_MODES,
                           SOURCE_NAME_COLUMN, SYNC_TIME_COLUMN, WRITE_MODES, ColumnDef, _extension_name, _is_list,
                           _utc, column_defs, create_table_sql, plan_migration, quote, table_name, to_duckdb_arrow)
from .files import (DEFAULT_STORAGE_VERSION, MigrationError, SchemaError, WriterError, check_database_path,
                    check_storage_version, first_line, format_version, open_database, storage_format)


_log = logging.getLogger("aws_encryption.store")


_view_ids = itertools.count(1)


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
                 attach: list[str] | None = None, storage_version: str = DEFAULT_STORAGE_VERSION) -> None:
        if write_mode not in WRITE_MODES:
            raise SchemaError(f"write_mode: expected one of {', '.join(WRITE_MODES)}, got {write_mode!r}")
        if migrate_mode not in MIGRATE_MODES:
            raise SchemaError(f"migrate_mode: expected one of {', '.join(MIGRATE_MODES)}, got {migrate_mode!r}")
        try:
            check_storage_version(storage_version)
        except WriterError as e:
            raise SchemaError(str(e)) from None
        self.path = os.fspath(path)
        # The format a new file is created in; `storage_format` is the file's own once open.
        self.storage_version = storage_version
        self.storage_format = ""
        self.write_mode = write_mode
        self.migrate_mode = migrate_mode
        self._logger = logger
        self._con: duckdb.DuckDBPyConnection | None = None
        self._tables: dict[str, _TableState] = {}
        self._column_names: dict[str, set[str] | None] = {}   # tables this sync did not migrate
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
        existed = os.path.exists(os.path.expanduser(self.path))
        con = open_database(self.path, self.storage_version)
        try:
            self.storage_format = storage_format(con)
            if existed:
                self._check_kept_format()
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
            raise WriterError(f"database {self.path}: cannot start a transaction: {first_line(e)}") from None
        self._con = con

    def _check_kept_format(self) -> None:
        """An existing file keeps its storage format; say so when that is newer than was asked for."""
        have = format_version(self.storage_format)
        if self.storage_version == "latest" or have is None or have <= (1, 4, 0):
            return
        msg = (f"database {self.path} is in DuckDB's {self.storage_format} storage format, which DuckDB "
               f"1.x can't open; an existing file keeps its format (duckdb_storage_version "
               f"{self.storage_version} applies to new files): move it away and sync again to get a "
               "v1.4.0 file")
        if self._logger is None:
            _log.warning("%s", msg)
        elif isinstance(self._logger, logging.Logger):
            self._logger.warning("%s", msg)
        else:
            self._logger.warning("existing database keeps its storage format", database=self.path,
                                 storage_format=self.storage_format, requested=self.storage_version,
                                 hint="move it away and sync again to get a v1.4.0 file; DuckDB 1.x can't open it")

    def commit(self) -> None:
        con = self._connection()
        try:
            con.execute("COMMIT")
        except duckdb.Error as e:
            raise WriterError(f"database {self.path}: commit failed, nothing was written: {first_line(e)}") from None
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
            raise WriterError(f"database {self.path}: {first_line(e)} (in: {sql[:120]})") from None

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
        plugin/tables/aws_encryption/sync_coverage.py): an `error` row of aws_encryption_sync_coverage written by this
        same sync that lists `table` protects that table's rows of its account (and region), and gets
        the number of rows kept and their newest sync time."""
        if self.write_mode != "overwrite-delete-stale":
            return 0
        if self._columns_of(table) is None:
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

    def _columns_of(self, table: str) -> set[str] | None:
        """The table's column names (None: no such table): from this sync's migration when it made or
        changed the table, else asked once (the end of a sync asks for every table)."""
        if table in self._tables:
            return set(self._tables[table].columns)
        if table not in self._column_names:
            cols = self._existing_columns(table)
            self._column_names[table] = None if cols is None else {c.name for c in cols}
        return self._column_names[table]

    def _keep_unread(self, table: str, source_name: str, sync_time: dt.datetime, stale: str,
                     stale_params: list[Any]) -> tuple[str, list[Any]] | None:
        """The condition matching `table`'s stale rows that belong to an unread scope, or None."""
        if table == COVERAGE_TABLE or self._columns_of(COVERAGE_TABLE) is None:
            return None
        columns = self._columns_of(table) or set()
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


def _sql_literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"
