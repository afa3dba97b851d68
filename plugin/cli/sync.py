"""`aws-encryption sync`: the plugin run in-process, straight into a DuckDB file.

Same spec files, same tables, same DuckDB layout as `cloudquery sync` with our destination, but no
CLI, no gRPC and no hub login. The whole sync is one transaction: Ctrl-C, SIGTERM, a crash or a
SIGKILL leave the previous sync's rows intact; a finished sync replaces the rows of its source
name (delete-stale by `_cq_source_name` and `_cq_sync_time`, as the CLI does).
"""

from __future__ import annotations

import datetime as dt
import logging
import signal
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Generator, TextIO

from ..store.writer import DuckDBWriter
from ..store.duckdb_types import add_cq_columns
from ..store.files import check_can_open, storage_version_of
from ..source.engine import SyncEngine
from ..source.plugin import select_tables
from ..tables.schema import walk
from ..aws.redact import install_log_redaction
from ..source.sharding import ALL, Shard
from .yaml_specs import SourcePlan, SyncPlan

log = logging.getLogger("aws_encryption.local_sync")


@dataclass
class SyncSummary:
    rows: dict[str, int] = field(default_factory=dict)
    errors: int = 0
    elapsed: float = 0.0
    db_path: str = ""
    deleted: int = 0
    accounts_total: int = 0
    accounts_read: int = 0
    # Scopes not read: (account_id, region, "service:Operation", error_code, message)
    unread: list[tuple[str, str, str, str, str]] = field(default_factory=list)
    kept: int = 0   # rows of unread scopes kept from earlier syncs

    @property
    def nothing_read(self) -> bool:
        """No account could be read at all (credentials, identity or regions failed for every one)."""
        return self.accounts_read == 0


class Interrupted(Exception):
    """SIGTERM during a sync (Ctrl-C is KeyboardInterrupt)."""


def run(plan: SyncPlan, *, tables: list[str] | None = None, skip_tables: list[str] | None = None,
        progress: TextIO | None = None, shard: Shard = ALL, processes: int = 1,
        spec_files: list[str] | None = None, ray: RayOptions | None = None) -> SyncSummary:
    """Sync every source of `plan` into its DuckDB file; raises WriterError/ValueError before any AWS call
    when the file or the table selection can't be used. `processes` > 1 runs that many shard processes
    on this machine, `ray` runs the shards as tasks of a Ray cluster; either way this process alone
    writes."""
    install_log_redaction()
    selections = check_before_sync(plan, tables=tables, skip_tables=skip_tables)
    sync_time = dt.datetime.now(dt.timezone.utc)
    summary = SyncSummary(db_path=plan.db_path)
    t0 = time.monotonic()
    old = _install_sigterm()
    try:
        with DuckDBWriter(plan.db_path, write_mode=plan.write_mode, migrate_mode=plan.migrate_mode,
                          storage_version=_storage_version(plan)) as w:
            for src, defs in selections:
                tdefs = walk(defs)
                for t in tdefs:
                    w.migrate(add_cq_columns(t.arrow_schema(), src.name, sync_time))
                if ray is not None:
                    from ..source.ray_shards import run_ray
                    _write_shards(w, src.name, sync_time, summary, progress, run_ray(
                        src.spec, tables or src.tables, skip_tables if skip_tables is not None else src.skip_tables,
                        src.skip_dependent_tables, ray.address, ray.tasks))
                elif processes > 1:
                    from ..source.shard_workers import run_workers
                    _write_shards(w, src.name, sync_time, summary, None,
                                  run_workers(spec_files or [], src.name, processes, tables, skip_tables))
                else:
                    # 10,000-row batches: the writer upserts per batch, and fewer, larger batches are
                    # 2-3x faster (bench/README.md)
                    engine = SyncEngine(src.spec, defs, shard=shard, batch_size=10_000)
                    ticker = _Ticker(engine, src.name, progress) if progress is not None else None
                    try:
                        for t, batch in engine.run():
                            w.write(add_cq_columns(batch, src.name, sync_time))
                            log.info("wrote %d rows to %s (not committed yet)", batch.num_rows, t.name)
                    finally:
                        if ticker:
                            ticker.stop()
                    _add_progress(summary, {"rows": engine.progress.rows, "errors": engine.progress.errors,
                                            "accounts_total": engine.progress.accounts_total,
                                            "accounts_read": engine.progress.accounts_read,
                                            "unread": engine.progress.unread})
                # One shard alone must not delete the other shards' rows: stale rows are removed by
                # the sync that saw every shard (unsharded, or --processes).
                if plan.write_mode == "overwrite-delete-stale" and shard.total <= 1:
                    for t in tdefs:
                        summary.deleted += w.delete_stale(t.name, src.name, sync_time)
            summary.kept = sum(w.rows_kept.values())
    finally:
        signal.signal(signal.SIGTERM, old)
    summary.elapsed = time.monotonic() - t0
    return summary


def check_before_sync(plan: SyncPlan, *, tables: list[str] | None = None,
                      skip_tables: list[str] | None = None) -> list[tuple[SourcePlan, list[Any]]]:
    """Everything a sync checks before its first AWS call, after the spec files loaded (`yaml_specs.load`):
    the database file can be used (WriterError: missing directory, not DuckDB, locked) and every
    source's table patterns match (ValueError). Returns each source with its table definitions.
    `aws-encryption validate` runs exactly this."""
    check_can_open(plan.db_path)
    _storage_version(plan)  # the sources (and the destination) agree
    selections = []
    for src in plan.sources:
        defs = select_tables(tables or src.tables, skip_tables if skip_tables is not None else src.skip_tables,
                             src.skip_dependent_tables)
        selections.append((src, defs))
    return selections


@dataclass(frozen=True)
class RayOptions:
    address: str | None = None   # None: a local Ray; "auto" or host:port: a running cluster
    tasks: int | None = None     # None: one shard task per CPU of the cluster


def _write_shards(w: DuckDBWriter, source: str, sync_time: dt.datetime, summary: SyncSummary,
                  progress: TextIO | None, events: Generator[tuple[str, Any], None, None]) -> None:
    """Shard results (from processes or Ray tasks) into the one writer; closing `events` on any way out
    stops the shards still running."""
    try:
        for kind, value in events:
            if kind == "batch":
                w.write(add_cq_columns(value, source, sync_time))
            elif kind == "summary":
                _add_progress(summary, value, shard_process=True)
            elif progress is not None:
                progress.write(f"{source}: {value}\n")
                progress.flush()
    finally:
        events.close()


def _add_progress(summary: SyncSummary, p: dict[str, Any], shard_process: bool = False) -> None:
    for name, n in p["rows"].items():
        summary.rows[name] = summary.rows.get(name, 0) + n
    summary.errors += p["errors"]
    # Every shard process opens every account: they count once, not once per process.
    if shard_process:
        summary.accounts_total = max(summary.accounts_total, p.get("accounts_total", 0))
        summary.accounts_read = max(summary.accounts_read, p.get("accounts_read", 0))
    else:
        summary.accounts_total += p.get("accounts_total", 0)
        summary.accounts_read += p.get("accounts_read", 0)
    for u in p.get("unread", []):
        if tuple(u) not in summary.unread:
            summary.unread.append(tuple(u))


def _install_sigterm() -> Any:
    def handler(_sig: int, _frame: Any) -> None:
        raise Interrupted("terminated")

    try:
        return signal.signal(signal.SIGTERM, handler)
    except ValueError:  # not the main thread
        return signal.getsignal(signal.SIGTERM)


class _Ticker:
    """One status line, rewritten in place on a terminal, per account/region/table progress."""

    def __init__(self, engine: SyncEngine, source: str, out: TextIO) -> None:
        self.engine, self.source, self.out = engine, source, out
        self._stop = threading.Event()
        self._t = threading.Thread(target=self._loop, daemon=True)
        self._t.start()

    def _line(self) -> str:
        p = self.engine.progress
        rows = sum(p.rows.values())
        return (f"\r{self.source}: accounts {p.accounts_done}/{p.accounts_total}  units {p.units_done}/"
                f"{p.units_total}  rows {rows}  errors {p.errors}  {p.current[:60]:<60}")

    def _loop(self) -> None:
        while not self._stop.wait(0.2):
            self.out.write(self._line())
            self.out.flush()

    def stop(self) -> None:
        self._stop.set()
        self._t.join()
        self.out.write(self._line() + "\n")
        self.out.flush()


def format_summary(s: SyncSummary) -> str:
    lines = [f"synced into {s.db_path} in {s.elapsed:.1f}s: {sum(s.rows.values())} rows, "
             f"{s.errors} failed AWS calls (see aws_encryption_sync_errors), {s.deleted} stale rows removed"]
    if s.unread:
        lines.append(f"NOT READ ({len(s.unread)} scope{'s' if len(s.unread) != 1 else ''}; "
                     f"{s.kept} rows of earlier syncs kept for them, see aws_encryption_sync_coverage):")
        for account, region, call, code, message in sorted(s.unread)[:20]:
            where = "  ".join(x for x in (f"account {account}" if account else "every account",
                                          f"region {region}" if region else "") if x)
            lines.append(f"  {where}  {call}: {code}: {message[:160]}")
        if len(s.unread) > 20:
            lines.append(f"  ... and {len(s.unread) - 20} more")
    if s.nothing_read:
        lines.append("no account could be read: nothing was synced (exit 1)")
    width = max((len(k) for k in s.rows), default=10)
    for name in sorted(s.rows):
        lines.append(f"  {name:<{width}}  {s.rows[name]:>8}")
    return "\n".join(lines)


class FieldsFormatter(logging.Formatter):
    """Log lines for people: the message, then the record's structured fields (`extra={"cq_fields":
    {...}}`, which the gRPC server sends to the CloudQuery CLI as JSON fields) as key=value."""

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        fields = getattr(record, "cq_fields", None)
        if fields:
            line += " " + " ".join(f"{k}={v}" for k, v in fields.items())
        return line


def is_tty(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except Exception:
        return False


def _storage_version(plan: SyncPlan) -> str:
    """The file format every source (and the destination's spec, when it says) asks for."""
    asks = [(s.name, s.spec.duckdb_storage_version) for s in plan.sources]
    if plan.storage_version is not None:
        asks.append(("the destination", plan.storage_version))
    return storage_version_of(asks)
