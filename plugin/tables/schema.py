"""Declarative table definitions and their Arrow form.

A table declares its columns, the AWS API calls that fill it (used for docs/tables/, the IAM
policy and the least-privilege test) and its parent. Resolvers produce plain dict rows keyed by
column name; `RowBatcher` turns many rows into one multi-row Arrow RecordBatch, which is what the
SDK should have done (it emits one RecordBatch per row).
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import json
import uuid
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable

import pyarrow as pa
from cloudquery.sdk.schema import Column, Table
from cloudquery.sdk.types import JSONType, UUIDType

JSON = JSONType()
UUID = UUIDType()
STR = pa.string()
BOOL = pa.bool_()
INT = pa.int64()
TS = pa.timestamp("us", tz="UTC")
STR_LIST = pa.list_(pa.string())

# Arrow field metadata the Go SDK uses for primary-key components (docs/cloudquery.md, "The _cq_id column").
PK_COMPONENT_KEY = "cq:extension:primary_key_component"


class CQColumn(Column):
    """An SDK Column that also carries the primary-key-component flag in its Arrow metadata."""

    def __init__(self, *args: Any, primary_key_component: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.primary_key_component = primary_key_component

    def to_arrow_field(self) -> pa.Field:
        f = super().to_arrow_field()
        md = dict(f.metadata or {})
        md[PK_COMPONENT_KEY.encode()] = b"true" if self.primary_key_component else b"false"
        return f.with_metadata(md)


@dataclass(frozen=True)
class Col:
    name: str
    type: pa.DataType
    description: str = ""


@dataclass
class TableDef:
    """One table: its columns (after `_cq_id`/`_cq_parent_id`), its parent and its API calls."""

    name: str
    title: str
    description: str
    columns: list[Col]
    pk_components: list[str]
    api_calls: list[str]
    parent: str | None = None
    # Columns we add beyond the official CloudQuery AWS plugin (marked (ours) in docs/tables/).
    extra_columns: list[str] = field(default_factory=list)
    notes: str = ""
    # How rows are produced. Top-level tables: `resolve(ctx, None)` lists items once per unit
    # ("region": per account x region, "account": once per account); each item then runs, in the
    # thread pool, `enrich(ctx, item)` (per-resource calls), `to_row` and the children's
    # `resolve(ctx, parent)`.
    scope: str = ""
    # The listing call of a top-level table ("kms:ListKeys"): when it fails, the scope (account,
    # region) is recorded as unread in aws_encryption_sync_coverage and its earlier rows are kept.
    listing: str = ""
    # An "account" table whose resolve runs in every shard, also those that own none of the account's
    # work (it emits its rows in the shard that owns the account's account-level work): for what
    # every shard's Index must know of every account, such as its organisation.
    every_shard: bool = False
    resolve: Callable[..., Iterable[dict[str, Any]]] | None = None
    enrich: Callable[..., dict[str, Any] | None] | None = None
    to_row: Callable[..., dict[str, Any]] | None = None
    children: list["TableDef"] = field(default_factory=list)
    # Called with (ctx, row, item) after a row is emitted; feeds the sync's Index.
    on_row: Callable[..., None] | None = None
    # Derived children are resolved after every AWS call of the sync is done (they need the Index);
    # `prefetch(ctx, parent)` runs in the resource task first, for calls they depend on.
    deferred: bool = False
    prefetch: Callable[..., None] | None = None

    def all_columns(self) -> list[Col]:
        return [
            Col("_cq_id", UUID, "Internal CQ ID of the row"),
            Col("_cq_parent_id", UUID, "Internal CQ ID of the parent row"),
            *self.columns,
        ]

    def make_row(self, ctx: Any, item: dict[str, Any], parent: Any = None) -> dict[str, Any]:
        row = self.to_row(ctx, item, parent) if self.to_row else project(item, self.columns)
        names = {c.name for c in self.columns}
        if "account_id" in names and "account_id" not in row:
            row["account_id"] = ctx.account_id
        if "region" in names and "region" not in row:
            row["region"] = ctx.region
        row["_cq_id"] = cq_id({k: row.get(k) for k in self.pk_components})
        row["_cq_parent_id"] = parent.row["_cq_id"] if parent is not None else None
        return row

    def column_names(self) -> list[str]:
        return [c.name for c in self.all_columns()]

    def to_sdk_table(self, relations: list[Table] | None = None) -> Table:
        cols = []
        for c in self.all_columns():
            if c.name == "_cq_id":
                cols.append(CQColumn(c.name, c.type, c.description, primary_key=True,
                                     not_null=True, unique=True))
            else:
                cols.append(CQColumn(c.name, c.type, c.description,
                                     primary_key_component=c.name in self.pk_components))
        return Table(self.name, cols, title=self.title, description=self.description,
                     relations=relations or [])

    def arrow_schema(self) -> pa.Schema:
        return self.to_sdk_table().to_arrow_schema()


def cq_id(components: dict[str, Any]) -> uuid.UUID:
    """CloudQuery's deterministic `_cq_id` (plugin-sdk `CalculateCQID`; docs/cloudquery.md)."""
    h = hashlib.sha256()
    for name in sorted(components):
        h.update(name.encode())
        h.update(_scalar_string(components[name]).encode())
    d = hashlib.sha1(b"\x00" * 16 + h.digest()).digest()[:16]
    return uuid.UUID(bytes=d, version=5)


def _scalar_string(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, dt.datetime):
        return v.astimezone(dt.timezone.utc).strftime("%Y-%m-%d %H:%M:%S.%f").rstrip("0").rstrip(".") + "Z"
    return str(v)


def _json_default(o: Any) -> Any:
    if isinstance(o, (dt.datetime, dt.date)):
        if isinstance(o, dt.datetime) and o.tzinfo is not None:
            o = o.astimezone(dt.timezone.utc)
            return o.strftime("%Y-%m-%dT%H:%M:%S") + ("." + f"{o.microsecond:06d}".rstrip("0") if o.microsecond else "") + "Z"
        return o.isoformat()
    if isinstance(o, (bytes, bytearray)):
        return o.decode("utf-8", "replace")
    if isinstance(o, set):
        return sorted(o)
    raise TypeError(f"not JSON serialisable: {type(o).__name__}")


def dumps_json(v: Any) -> str:
    """Go-compatible compact JSON (docs/cloudquery.md, "JSON values"); datetimes as RFC 3339 in UTC."""
    return json.dumps(v, separators=(",", ":"), ensure_ascii=False, default=_json_default)


def _to_json_bytes(v: Any) -> bytes | None:
    if v is None:
        return None
    if isinstance(v, str):
        # Strings are stored verbatim when they are valid JSON (e.g. a key policy document).
        try:
            json.loads(v)
            return v.encode()
        except (ValueError, RecursionError):  # RecursionError: nested deeper than Python parses
            return dumps_json(v).encode()
    return dumps_json(v).encode()


def _to_ts(v: Any) -> dt.datetime | None:
    if v is None:
        return None
    if isinstance(v, dt.datetime):
        if v.tzinfo is None:
            return v.replace(tzinfo=dt.timezone.utc)
        return v.astimezone(dt.timezone.utc)
    if isinstance(v, str):
        return _to_ts(dt.datetime.fromisoformat(v.replace("Z", "+00:00")))
    raise TypeError(f"expected a timestamp, got {type(v).__name__}")


def build_array(col_type: pa.DataType, values: list[Any]) -> pa.Array:
    if isinstance(col_type, JSONType):
        storage = pa.array([_to_json_bytes(v) for v in values], type=pa.binary())
        return pa.ExtensionArray.from_storage(JSON, storage)
    if isinstance(col_type, UUIDType):
        storage = pa.array([None if v is None else (v.bytes if isinstance(v, uuid.UUID) else uuid.UUID(str(v)).bytes)
                            for v in values], type=pa.binary(16))
        return pa.ExtensionArray.from_storage(UUID, storage)
    if pa.types.is_timestamp(col_type):
        return pa.array([_to_ts(v) for v in values], type=col_type)
    if pa.types.is_list(col_type) or pa.types.is_string(col_type):
        # Almost every value is already a str (or a list of str): let Arrow's C++ converter take them
        # as they are, and stringify in Python only when it refuses (profiling: the per-element
        # Python pass was a fifth of the sync's CPU).
        try:
            return pa.array(values, type=col_type)
        except (pa.ArrowTypeError, pa.ArrowInvalid, TypeError):
            pass
        if pa.types.is_list(col_type):
            return pa.array([None if v is None else [None if x is None else str(x) for x in v] for v in values],
                            type=col_type)
        return pa.array([None if v is None else str(v) for v in values], type=col_type)
    return pa.array(values, type=col_type)


def rows_to_batch(schema: pa.Schema, rows: list[dict[str, Any]]) -> pa.RecordBatch:
    arrays = [build_array(f.type, [r.get(f.name) for r in rows]) for f in schema]
    return pa.RecordBatch.from_arrays(arrays, schema=schema)


@functools.lru_cache(maxsize=4096)
def snake(name: str) -> str:
    """PascalCase AWS field name -> the snake_case column name CloudQuery derives from it."""
    special = {"AWSAccountId": "aws_account_id", "KMSMasterKeyID": "kms_master_key_id"}
    if name in special:
        return special[name]
    out = []
    for i, ch in enumerate(name):
        if ch.isupper() and i and (not name[i - 1].isupper() or (i + 1 < len(name) and name[i + 1].islower())):
            out.append("_")
        out.append(ch.lower())
    return "".join(out)


def project(item: dict[str, Any], columns: Iterable[Col], **fixed: Any) -> dict[str, Any]:
    """Map an AWS response dict onto columns by snake_casing its keys; `fixed` wins."""
    by_snake = {snake(k): v for k, v in item.items()}
    row = {}
    for c in columns:
        if c.name in fixed:
            row[c.name] = fixed[c.name]
        elif c.name in by_snake:
            row[c.name] = by_snake[c.name]
    return row



def walk(tables: Iterable[TableDef]) -> list[TableDef]:
    """The tables and all their descendants, parents first, in declaration order: the one tree walk."""
    out: list[TableDef] = []

    def visit(t: TableDef) -> None:
        out.append(t)
        for c in t.children:
            visit(c)

    for t in tables:
        visit(t)
    return out
