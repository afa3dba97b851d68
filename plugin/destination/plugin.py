"""`aws-encryption-duckdb`: a DuckDB destination plugin for the CloudQuery CLI (`registry: local`).

It writes what the hub `cloudquery/duckdb` destination writes (same tables, types, constraints,
upsert and delete-stale; see plugin/store/writer.py), with one difference that matters for a
posture database: each Write stream (one `cloudquery sync`) is ONE transaction, committed only
after the last delete-stale. A failed or killed sync leaves the previous sync in place.

    kind: destination
    spec:
      name: duckdb
      path: /path/to/aws-encryption-duckdb
      registry: local
      write_mode: overwrite-delete-stale   # or overwrite, append
      spec:
        connection_string: ./posture.duckdb
        batch_size: 10000
        batch_size_bytes: 67108864
        debug: false
        duckdb_storage_version: v1.4.0     # or latest; the format of a file this creates

The destination never sees `write_mode`: the CLI keeps it and expresses it through the messages it
sends. Observed with CLI v6.21.1:
- every schema and record starts with `_cq_sync_time` (timestamp[us, UTC]) and `_cq_source_name`
  (utf8), nullable, without field metadata;
- `overwrite-delete-stale`: schemas keep `cq:extension:primary_key`/`unique` on `_cq_id`; after the
  last insert, one delete-stale per migrated table (tables without rows too), with the sync time
  the records carry;
- `overwrite`: the same schemas, no delete-stale;
- `append`: the primary-key and unique metadata keys are removed (`_cq_id` stays NOT NULL), no
  delete-stale;
- `migrate_mode: forced` sets `migrate_force` on every migrate message;
- when the source fails, the CLI returns without finishing the stream: it is cancelled.
So the writer upserts when a schema has a primary key, inserts when it has none, and deletes
stale rows when asked.

`duckdb_storage_version` (ours; the hub destination has no such field) is the DuckDB storage format
of a file the destination creates: `v1.4.0` (default), which DuckDB 1.4 LTS and every later DuckDB
open, or `latest`, this DuckDB's newest, which DuckDB 1.x refuses. An existing file keeps its format.

Fixes over cloudquery-plugin-sdk 0.1.57's servicer for the Write side (SDK bugs #7 and #14 in
docs/cloudquery.md):
- the SDK round-trips each migrate schema through an SDK `Table`; we keep the CLI's Arrow schema.
- grpc ends the request iterator quietly when the CLI cancels the stream, and the SDK then
  returns as if the sync had finished; we commit only a stream the CLI half-closed.
- delete-record messages raised `NotImplementedError`; they get a clear error.
- `close()` raised `NotImplementedError`; write errors reach the CLI as one line.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from typing import Any, Iterator

import grpc
import pyarrow as pa
from cloudquery.plugin_v3 import arrow, plugin_pb2
from cloudquery.sdk import plugin
from cloudquery.sdk.internal.servers.plugin_v3 import PluginServicer
from cloudquery.sdk.internal.servers.plugin_v3.plugin import sanitize_spec
from cloudquery.sdk.message import (WriteDeleteStale, WriteInsertMessage, WriteMessage,
                                    WriteMigrateTableMessage)
from cloudquery.sdk.schema import Table

from .. import TEAM, __version__
from ..store.duckdb_types import DEFAULT_WRITE_MODE, table_name
from ..store.files import (DEFAULT_STORAGE_VERSION, STORAGE_VERSIONS, DatabaseLockedError, NotADuckDBFileError,
                           NotWritableError, WriterError, check_can_open)
from ..store.writer import DuckDBWriter

NAME = "aws-encryption-duckdb"
DEFAULT_CONNECTION_STRING = "./posture.duckdb"
# Larger than the hub's 1000 rows: each batch costs one DELETE ... USING join over the whole table
# (10k-row batches upsert ~3x faster than 1k). Batches only bound memory here; the whole sync is
# one transaction whatever their size.
DEFAULT_BATCH_SIZE = 10_000
DEFAULT_BATCH_SIZE_BYTES = 64 << 20


class SpecError(ValueError):
    pass


@dataclass(frozen=True)
class Spec:
    connection_string: str = DEFAULT_CONNECTION_STRING
    batch_size: int = DEFAULT_BATCH_SIZE
    batch_size_bytes: int = DEFAULT_BATCH_SIZE_BYTES
    debug: bool = False
    duckdb_storage_version: str = DEFAULT_STORAGE_VERSION


_FIELDS: dict[str, tuple[type, str]] = {
    "connection_string": (str, "path of the DuckDB database file"),
    "batch_size": (int, "rows buffered per table before they are written"),
    "batch_size_bytes": (int, "bytes buffered per table before they are written"),
    "debug": (bool, "log every message received from the CLI"),
    "duckdb_storage_version": (str, f"DuckDB storage format of a file this creates: {' or '.join(STORAGE_VERSIONS)} "
                               f"(default {DEFAULT_STORAGE_VERSION}, which DuckDB 1.4 and later open); "
                               "an existing file keeps its format"),
}
# String fields that take one of a few values.
_CHOICES: dict[str, tuple[str, ...]] = {"duckdb_storage_version": STORAGE_VERSIONS}


def parse_spec(raw: bytes | str | dict[str, Any] | None) -> Spec:
    """The destination spec; raises SpecError naming the field, like the hub plugin's JSON-schema check."""
    if isinstance(raw, dict):
        obj: Any = raw
    else:
        try:
            obj = json.loads(raw or b"{}") or {}
        except ValueError as e:
            raise SpecError(f"spec: not valid JSON ({e})") from None
    if not isinstance(obj, dict):
        raise SpecError(f"spec: expected a mapping, got {json.dumps(obj)[:80]}")
    unknown = sorted(set(obj) - set(_FIELDS))
    if unknown:
        raise SpecError(f"spec: unknown field {unknown[0]!r}; allowed fields are {', '.join(_FIELDS)}")
    values = {}
    for key, value in obj.items():
        if value is None:
            continue
        values[key] = _check_field(key, value)
    spec = Spec(**values)
    if spec.connection_string.startswith("md:"):
        raise SpecError("spec field connection_string: MotherDuck (md:) is not supported; expected a file path")
    return spec


def _check_field(key: str, value: Any) -> Any:
    typ = _FIELDS[key][0]
    if key in _CHOICES:
        if value not in _CHOICES[key]:
            raise SpecError(f"spec field {key}: expected one of {', '.join(_CHOICES[key])}, "
                            f"got {json.dumps(value)[:60]}")
    elif typ is int:
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise SpecError(f"spec field {key}: expected a positive integer, got {json.dumps(value)}")
    elif not isinstance(value, typ):
        raise SpecError(f"spec field {key}: expected a {'boolean' if typ is bool else 'string'}, "
                        f"got {json.dumps(value)}")
    elif key == "connection_string" and not value:
        raise SpecError("spec field connection_string: expected a file path, got \"\"")
    return value


def json_schema() -> str:
    kinds = {str: {"type": "string", "minLength": 1}, int: {"type": "integer", "minimum": 1},
             bool: {"type": "boolean"}}
    return json.dumps({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "type": "object",
        "additionalProperties": False,
        "properties": {k: {**kinds[t], **({"enum": list(_CHOICES[k])} if k in _CHOICES else {}), "description": d}
                       for k, (t, d) in _FIELDS.items()},
    }, indent=2)


# ---------------------------------------------------------------------------------------------
# Messages: the SDK's, with the Arrow schema kept

class ArrowMigrateTableMessage(WriteMigrateTableMessage):
    """A migrate message that carries the CLI's Arrow schema unchanged (`schema`)."""

    def __init__(self, schema: pa.Schema, migrate_force: bool) -> None:
        super().__init__(table=None, migrate_force=migrate_force)  # type: ignore[arg-type]
        self.schema = schema


class StreamCancelled(Exception):
    """The CLI went away before finishing the Write stream; nothing may be committed."""


def _schema_of(msg: WriteMigrateTableMessage) -> pa.Schema:
    schema = getattr(msg, "schema", None)
    if schema is not None:
        return schema
    table: Table = msg.table
    return table.to_arrow_schema()


class _Buffer:
    """Per-table batching, so each DuckDB statement works on many rows, not one record."""

    def __init__(self, batch_size: int, batch_size_bytes: int) -> None:
        self.batch_size, self.batch_size_bytes = batch_size, batch_size_bytes
        self._batches: dict[str, list[pa.RecordBatch]] = {}
        self._rows: dict[str, int] = {}
        self._bytes: dict[str, int] = {}

    def add(self, name: str, batch: pa.RecordBatch) -> bool:
        """Buffer a batch; True when the table's buffer is full."""
        self._batches.setdefault(name, []).append(batch)
        self._rows[name] = self._rows.get(name, 0) + batch.num_rows
        self._bytes[name] = self._bytes.get(name, 0) + batch.nbytes
        return self._rows[name] >= self.batch_size or self._bytes[name] >= self.batch_size_bytes

    def take(self, name: str) -> list[pa.Table]:
        batches = self._batches.pop(name, [])
        self._rows.pop(name, None)
        self._bytes.pop(name, None)
        # One table per run of identical schemas (a migration may change a table's schema mid-stream).
        out: list[list[pa.RecordBatch]] = []
        for b in batches:
            if out and out[-1][0].schema.equals(b.schema):
                out[-1].append(b)
            else:
                out.append([b])
        return [pa.Table.from_batches(group) for group in out]

    def names(self) -> list[str]:
        return list(self._batches)


# ---------------------------------------------------------------------------------------------
# The plugin

class DuckDBDestination(plugin.Plugin):
    def __init__(self) -> None:
        super().__init__(NAME, __version__, plugin.plugin.Options(team=TEAM, kind="destination",
                                                                 json_schema=json_schema()))
        self._spec = Spec()
        self._logger: Any = None

    def set_logger(self, logger: Any) -> None:
        self._logger = logger

    @property
    def spec(self) -> Spec:
        return self._spec

    def init(self, spec: bytes, no_connection: bool = False) -> None:
        try:
            self._spec = parse_spec(spec)
        except SpecError as e:
            raise ValueError(str(e)) from None
        if no_connection:
            return
        try:
            # Fail at Init, before the source starts: a locked, foreign or unwritable file.
            check_can_open(self._spec.connection_string)
        except WriterError as e:
            raise ValueError(str(e)) from None

    def get_tables(self, options: plugin.TableOptions) -> list[Table]:
        return []

    def write(self, msgs: Iterator[WriteMessage]) -> None:
        """Consume one Write stream as one transaction: commit at its clean end, roll back otherwise."""
        buf = _Buffer(self._spec.batch_size, self._spec.batch_size_bytes)
        # The CLI applies write_mode itself (module docstring); the writer follows the messages.
        with DuckDBWriter(self._spec.connection_string, write_mode=DEFAULT_WRITE_MODE,
                          logger=self._logger, storage_version=self._spec.duckdb_storage_version) as writer:
            for msg in msgs:
                self._debug(msg)
                self._handle(writer, buf, msg)
            for name in buf.names():
                self._flush(writer, buf, name)
            self._log("sync written", database=self._spec.connection_string,
                      rows=sum(writer.rows_written.values()), tables=len(writer.rows_written))

    def _handle(self, writer: DuckDBWriter, buf: _Buffer, msg: WriteMessage) -> None:
        if isinstance(msg, WriteInsertMessage):
            name = table_name(msg.record.schema)
            if buf.add(name, msg.record):
                self._flush(writer, buf, name)
        elif isinstance(msg, WriteMigrateTableMessage):
            schema = _schema_of(msg)
            self._flush(writer, buf, table_name(schema))
            writer.migrate(schema, force=bool(msg.migrate_force))
        elif isinstance(msg, WriteDeleteStale):
            # Every buffered row is written before stale rows go: this table's (the CLI's order) and
            # aws_encryption_sync_coverage's, which decides which stale rows are kept.
            for name in buf.names():
                self._flush(writer, buf, name)
            n = writer.delete_stale(msg.table_name, msg.source_name, msg.sync_time)
            self._log("deleted stale rows", table=msg.table_name, source=msg.source_name, rows=n)
        else:
            raise WriterError(f"unsupported write message {type(msg).__name__}")

    def _flush(self, writer: DuckDBWriter, buf: _Buffer, name: str) -> None:
        for table in buf.take(name):
            writer.write(table)

    def _log(self, event: str, **kw: Any) -> None:
        if self._logger is not None:
            self._logger.info(event, **kw)

    def _debug(self, msg: WriteMessage) -> None:
        if not self._spec.debug or self._logger is None:
            return
        if isinstance(msg, WriteInsertMessage):
            self._logger.info("write insert", table=table_name(msg.record.schema), rows=msg.record.num_rows,
                              columns=msg.record.schema.names)
        elif isinstance(msg, WriteMigrateTableMessage):
            s = _schema_of(msg)
            self._logger.info("write migrate_table", table=table_name(s), migrate_force=msg.migrate_force,
                              fields=[_describe_field(f) for f in s])
        elif isinstance(msg, WriteDeleteStale):
            self._logger.info("write delete_stale", table=msg.table_name, source=msg.source_name,
                              sync_time=msg.sync_time.isoformat())

    def test_connection(self, spec: bytes) -> tuple[bool, str, str]:
        """(success, failure_code, failure_description) for `cloudquery test-connection`."""
        try:
            s = parse_spec(spec)
            check_can_open(s.connection_string)
        except SpecError as e:
            return False, "INVALID_SPEC", str(e)
        except DatabaseLockedError as e:
            return False, "DATABASE_LOCKED", str(e)
        except NotADuckDBFileError as e:
            return False, "NOT_A_DUCKDB_DATABASE", str(e)
        except NotWritableError as e:
            return False, "NOT_WRITABLE", str(e)
        except WriterError as e:
            return False, "CANNOT_OPEN", str(e)
        return True, "", ""

    def close(self) -> None:
        return None


def _describe_field(f: pa.Field) -> str:
    md = {k.decode(): v.decode() for k, v in (f.metadata or {}).items() if v not in (b"false", b"")}
    return f"{f.name}:{f.type}{'' if f.nullable else ' not null'}{' ' + json.dumps(md) if md else ''}"


# ---------------------------------------------------------------------------------------------
# gRPC

class DestinationServicer(PluginServicer):
    def __init__(self, p: DuckDBDestination, logger: Any) -> None:
        super().__init__(p, logger)
        self._p = p

    def Init(self, request: Any, context: Any) -> Any:
        try:
            return super().Init(request, context)
        except ValueError as e:
            self._logger.error("invalid destination spec", error=str(e))
            context.abort(grpc.StatusCode.INVALID_ARGUMENT, str(e))

    def Write(self, request_iterator: Iterator[Any], context: Any) -> Any:
        try:
            self._p.write(_messages(request_iterator, context))
        except StreamCancelled as e:
            self._logger.error("write stream cancelled; database unchanged", error=str(e))
            context.abort(grpc.StatusCode.CANCELLED, str(e))
        except WriterError as e:
            self._logger.error("write failed; database unchanged", error=str(e))
            context.abort(grpc.StatusCode.INTERNAL, str(e))
        except Exception as e:  # anything else still rolled back; the CLI gets one line, the log the trace
            self._logger.exception("write failed; database unchanged")
            context.abort(grpc.StatusCode.INTERNAL, f"{NAME}: {type(e).__name__}: {e}")
        return plugin_pb2.Write.Response()

    def TestConnection(self, request: Any, context: Any) -> Any:
        ok, code, desc = self._p.test_connection(sanitize_spec(request.spec))
        return plugin_pb2.TestConnection.Response(success=ok, failure_code=code, failure_description=desc)


# How long a finished request stream waits for a cancellation to surface before it commits. grpc
# reports a client's cancel as the end of the request stream first and as a cancellation a moment
# later (two completion events); a clean half-close is never followed by one until we reply.
CANCEL_GRACE_SECONDS = 0.5


def _messages(requests: Iterator[Any], context: Any) -> Iterator[WriteMessage]:
    terminated = threading.Event()
    if not context.add_callback(terminated.set):
        raise StreamCancelled("the write stream was already closed; nothing written")
    try:
        yield from _parse(requests)
    except grpc.RpcError:
        raise StreamCancelled("the CLI cancelled the write stream before the sync finished; rolled back") from None
    if terminated.wait(CANCEL_GRACE_SECONDS) or not context.is_active():
        raise StreamCancelled("the CLI cancelled the write stream before the sync finished; rolled back")


def _parse(requests: Iterator[Any]) -> Iterator[WriteMessage]:
    for req in requests:
        kind = req.WhichOneof("message")
        if kind == "migrate_table":
            yield ArrowMigrateTableMessage(arrow.new_schema_from_bytes(req.migrate_table.table),
                                           req.migrate_table.migrate_force)
        elif kind == "insert":
            yield WriteInsertMessage(record=arrow.new_record_from_bytes(req.insert.record))
        elif kind == "delete":
            name = req.delete.table_name or table_name(arrow.new_schema_from_bytes(req.delete.table))
            yield WriteDeleteStale(table_name=name, source_name=req.delete.source_name,
                                   sync_time=req.delete.sync_time.ToDatetime())
        elif kind == "delete_record":
            raise WriterError(f"delete-record messages (table {req.delete_record.table_name}) are not supported "
                              "by this destination")
        elif kind is not None:
            raise WriterError(f"unsupported write message {kind}")


def build_servicer(logger: Any) -> Any:
    p = DuckDBDestination()
    p.set_logger(logger)
    return DestinationServicer(p, logger)
