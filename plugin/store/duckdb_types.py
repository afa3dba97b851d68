"""Arrow -> DuckDB, as the hub `cloudquery/duckdb` destination does it: column types and DDL
(`arrowToDuckDB`, `createTableIfNotExist`), the `_cq_sync_time` / `_cq_source_name` columns the CLI
adds, the conversion of Arrow values DuckDB can't take as they are, and safe-migration planning.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, TypeVar

import pyarrow as pa
import pyarrow.compute as pc

from .files import SchemaError


WRITE_MODES = ("overwrite-delete-stale", "overwrite", "append")
MIGRATE_MODES = ("safe", "forced")
DEFAULT_WRITE_MODE = "overwrite-delete-stale"
DEFAULT_MIGRATE_MODE = "safe"

SYNC_TIME_COLUMN = "_cq_sync_time"
# Scopes the sync could not read (plugin/tables/aws_encryption/sync_coverage.py); delete-stale keeps their rows.
COVERAGE_TABLE = "aws_encryption_sync_coverage"
SOURCE_NAME_COLUMN = "_cq_source_name"

TABLE_NAME_KEY = b"cq:table_name"
PRIMARY_KEY_KEY = b"cq:extension:primary_key"
UNIQUE_KEY = b"cq:extension:unique"


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
# Migrations (hub `canAutoMigrate`)

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
