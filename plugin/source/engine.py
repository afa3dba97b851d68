"""The sync engine: accounts -> (account, region, table) units -> per-resource tasks -> row batches.

One thread pool of `concurrency` workers runs everything. Account set-up (credentials, identity,
regions) runs `initialization_concurrency` at a time. Each account then submits its units with
regions interleaved; each unit lists its resources and submits one task per resource, which makes
the per-resource calls, emits the row and resolves the children. So per-key and per-bucket calls
fan out across the pool, and many accounts and regions are in flight at once.

Rows flow one way, through a bounded queue, to the caller's thread, which groups them per table
into multi-row Arrow RecordBatches (`batch_size` rows, or whatever is pending after
`flush_seconds`). Nothing a worker raises is lost: it becomes a row of the sync errors table.
"""

from __future__ import annotations

import gc
import logging
import queue
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field, replace
from typing import Any, Callable, Iterator

import pyarrow as pa

from ..aws.clients import AccountSession, ClientFactory, CredentialsError
from ..aws.errors import describe
from ..aws.calls import Ctx, Parent, SyncError
from .sync_index import Index
from ..aws.pacing import Pacer
from .sharding import ALL, Shard
from ..tables.schema import TableDef, rows_to_batch
from .spec import Account, Spec
from ..tables import quotas, retryable_codes
from ..tables.account_setup import enabled_regions
from ..tables.aws_encryption.sync_coverage import ERROR, OK, SYNC_COVERAGE
from ..tables.aws_encryption.sync_errors import SYNC_ERRORS

log = logging.getLogger("aws_encryption.sync")

_DONE = object()


@dataclass
class Progress:
    """Counters the command line shows; updated by workers, read by the caller."""

    rows: dict[str, int] = field(default_factory=dict)
    errors: int = 0
    accounts_done: int = 0
    accounts_total: int = 0
    units_done: int = 0
    units_total: int = 0
    current: str = ""
    # Accounts whose credentials, identity and regions were resolved (the sync read something of them).
    accounts_read: int = 0
    # Scopes (account set-up, listings, organisation discovery) that could not be read, as
    # (account_id, region, "service:Operation", error_code, message): what `sync` reports as not read.
    unread: list[tuple[str, str, str, str, str]] = field(default_factory=list)


class SyncEngine:
    def __init__(self, spec: Spec, tables: list[TableDef], *, batch_size: int = 1000,
                 flush_seconds: float = 2.0, factory: ClientFactory | None = None,
                 on_unit: Callable[[str, str, str, int], None] | None = None, shard: Shard = ALL) -> None:
        """`tables`: the selected top-level tables, children already filtered."""
        self.spec = spec
        self.shard = shard
        self.tables = [t for t in tables if t.name not in (SYNC_ERRORS.name, SYNC_COVERAGE.name)]
        self.errors_selected = any(t.name == SYNC_ERRORS.name for t in tables)
        self.coverage_selected = any(t.name == SYNC_COVERAGE.name for t in tables)
        self.batch_size = batch_size
        self.flush_seconds = flush_seconds
        self.factory = factory or ClientFactory(spec)
        self.on_unit = on_unit
        self.progress = Progress()
        # Workers append rows to per-table buffers under one lock; only a full buffer (or the end)
        # crosses the queue. A queue operation per row cost a thread hand-off per row (profiled: the
        # second largest cost of ours after botocore). Four full batches in flight at most: the
        # backpressure that keeps memory flat when the writer is slower than AWS.
        self._q: queue.Queue = queue.Queue(maxsize=4)
        self._rows: dict[str, list[dict[str, Any]]] = {}
        self._row_tables: dict[str, TableDef] = {}
        self._rlock = threading.Lock()
        self._pending = 0
        self._plock = threading.Lock()
        self._pool: ThreadPoolExecutor | None = None
        self._init_sem = threading.BoundedSemaphore(spec.initialization_concurrency)
        self._stop = threading.Event()
        self.index = Index()
        self.index.selected_tables = frozenset(n for t in self.tables for n in _subtree(t))
        # How many selected tables share each account-level listing (the IAM tables share one answer,
        # released once they all took their rows)
        for t in self.tables:
            if t.scope == "account" and t.listing:
                self.index.listing_readers[t.listing] = self.index.listing_readers.get(t.listing, 0) + 1
        self.pacer = Pacer(quotas())
        self.retry_codes = retryable_codes()
        # Accounts whose principals are "inside": the spec's trusted accounts and every synced account.
        self._trusted: set[str] = set(spec.trusted_accounts) | {a.id for a in spec.accounts if a.id}
        self._deferred: list[tuple[Ctx, TableDef, Parent]] = []
        self._emitted_ids: set[Any] = set()   # _cq_id of error and coverage rows: one each per sync
        self._dlock = threading.Lock()

    # -- task bookkeeping ---------------------------------------------------------------------
    def _submit(self, fn: Callable[..., None], *args: Any) -> None:
        if self._stop.is_set():  # interrupted: the pool is shutting down, nothing new starts
            return
        with self._plock:
            self._pending += 1
        assert self._pool is not None
        try:
            self._pool.submit(self._run, fn, *args)
        except RuntimeError:  # shut down between the check and the submit
            with self._plock:
                self._pending -= 1

    def _run(self, fn: Callable[..., None], *args: Any) -> None:
        try:
            if not self._stop.is_set():
                fn(*args)
        except Exception as e:  # a bug or an unexpected answer: keep it as data, keep going
            log.exception("internal error in %s", getattr(fn, "__name__", fn))
            code, msg = describe(e)
            self._error(SyncError("", "", "", "aws-encryption", getattr(fn, "__name__", "task"), "",
                                  code, msg))
        finally:
            with self._plock:
                self._pending -= 1
                done = self._pending == 0
            if done:
                self._q.put(_DONE)

    def _emit(self, table: TableDef, row: dict[str, Any]) -> None:
        with self._rlock:
            buf = self._rows.get(table.name)
            if buf is None:
                buf = self._rows[table.name] = []
                self._row_tables[table.name] = table
            buf.append(row)
            self.progress.rows[table.name] = self.progress.rows.get(table.name, 0) + 1
            if len(buf) < self.batch_size:
                return
            self._rows[table.name] = []
        while not self._stop.is_set():
            try:
                self._q.put((table, buf), timeout=0.5)
                return
            except queue.Full:
                continue

    def _take_partial(self) -> list[tuple[TableDef, list[dict[str, Any]]]]:
        with self._rlock:
            out = [(self._row_tables[n], rows) for n, rows in self._rows.items() if rows]
            self._rows = {}
        return out

    def _account_error(self, err: SyncError) -> None:
        """Failures of account-level work: recorded by the one shard that owns the account."""
        if self.shard.owns(err.account_id, "*"):
            self._error(err)

    def _error(self, err: SyncError) -> None:
        row = self._error_row(err)
        if row is not None:
            self._emit(SYNC_ERRORS, row)

    def _error_row(self, err: SyncError) -> dict[str, Any] | None:
        """Count and log a failure; its sync errors row (SYNC_ERRORS), or None when that table is not
        synced or the same (account, region, table, call, resource) already failed in this sync."""
        with self._plock:
            self.progress.errors += 1
        log.warning("AWS call failed: account=%s region=%s table=%s operation=%s:%s resource=%s code=%s: %s",
                    err.account_id, err.region, err.table_name, err.service, err.operation,
                    err.resource_arn, err.error_code, err.message)
        if not self.errors_selected:
            return None
        return self._first(SYNC_ERRORS.make_row(None, asdict(err)))

    def _first(self, row: dict[str, Any]) -> dict[str, Any] | None:
        """`row` the first time its `_cq_id` comes up in this sync, else None (one row per key)."""
        with self._plock:
            if row["_cq_id"] in self._emitted_ids:
                return None
            self._emitted_ids.add(row["_cq_id"])
        return row

    def _cover(self, account_id: str, region: str, table_name: str, call: str, status: str, *,
               code: str = "", message: str = "", resources: int | None = None,
               tables: list[str] | None = None) -> None:
        """Record one scope as read (`ok`) or not (`error`) in the coverage table (SYNC_COVERAGE).

        An unread scope is also logged at error level: the CloudQuery CLI counts a plugin's
        error-level log lines in its summary ("Errors: N"), and lists `table` as a table that
        finished with an error."""
        service, _, operation = call.partition(":")
        if status == ERROR:
            self.index.mark_unread(account_id, region, call, code)
            with self._plock:
                self.progress.unread.append((account_id, region, call, code, message))
            log.error("table resolver finished with error", extra={"cq_fields": {
                "table": table_name or SYNC_COVERAGE.name, "account_id": account_id,
                "region": region, "operation": call, "error_code": code, "reason": message,
                "consequence": "not read; rows of earlier syncs for this scope are kept"}})
        if not self.coverage_selected:
            return
        row = self._first(SYNC_COVERAGE.make_row(None, {
            "account_id": account_id, "region": region, "table_name": table_name, "service": service,
            "operation": operation, "status": status, "error_code": code, "message": message, "resources": resources,
            "tables": sorted(tables or []), "kept_rows": None, "kept_sync_time": None}))
        if row is not None:
            self._emit(SYNC_COVERAGE, row)

    def _account_tables(self) -> list[str]:
        """Every selected table whose rows belong to a synced account (what an unread account loses)."""
        out: list[str] = []

        def walk(t: TableDef) -> None:
            out.append(t.name)
            for c in t.children:
                walk(c)

        for t in self.tables:
            if t.scope in ("region", "account"):
                walk(t)
        return out

    def _account_failed(self, err: SyncError) -> None:
        """Account set-up failed: an error row and an unread account scope (one shard records them)."""
        if not self.shard.owns(err.account_id, "*"):
            return
        self._error(err)
        self._cover(err.account_id, "", "", f"{err.service}:{err.operation}", ERROR, code=err.error_code,
                    message=err.message, tables=self._account_tables())

    # -- work ---------------------------------------------------------------------------------
    def _accounts(self) -> list[Account]:
        if self.spec.accounts:
            return list(self.spec.accounts)
        # No accounts: the default credentials' account, as the official plugin does.
        return [Account(id="", default_region="us-east-1")]

    def _discover(self) -> None:
        """Organisation discovery, then every member account is opened like a listed one."""
        from . import discovery
        table = discovery.TABLE
        service, _, operation = table.listing.partition(":")
        failed: list[SyncError] = []

        def note(err: SyncError) -> None:
            failed.append(err)
            if self.shard.first:
                self._error(err)

        d = discovery.discover(self.spec, self.factory, note)
        if d is None:
            # Nobody knows which accounts were meant: every account's earlier rows are kept.
            if self.shard.first:
                err = failed[0] if failed else SyncError("", "", table.name, service, operation, "", "Unknown",
                                                         "organisation discovery failed")
                self._cover("", "", table.name, f"{err.service}:{err.operation}", ERROR, code=err.error_code,
                            message=err.message, tables=[table.name, *self._account_tables()])
            return
        if self.shard.first:
            self._cover(d.admin.account_id if d.admin else "", "", table.name, table.listing, OK,
                        resources=len(d.members), tables=[table.name])
        with self._plock:
            self._trusted.update(a["Id"] for a in d.org_accounts)
            self.progress.accounts_total = len(d.members)
        if d.organization:
            # Every account discovery listed is in the admin's organisation, synced or not.
            org_id, master = d.organization.get("Id"), d.organization.get("MasterAccountId")
            for a in d.org_accounts:
                self.index.set_org(a["Id"], org_id, master)
        if d.admin is not None:
            for t in self.tables:
                if t.scope == "org" and (self.shard.first or t.every_shard):
                    self._org_unit(t, d, table)
        via = d.trusted_via or d.admin
        for m in d.members:
            self._submit(self._open_account, m, via)

    def _org_unit(self, t: TableDef, d: Any, discovery_table: TableDef) -> None:
        """One table of the organisation, read by the admin (rows in the first shard; an `every_shard`
        table is also read by the others, for their Index). Discovery's own table records its
        coverage itself; another's listing failure makes it an unread scope."""
        assert t.resolve is not None and d.admin is not None
        failed: list[SyncError] = []

        def note(err: SyncError) -> None:
            if not err.resource_arn:
                failed.append(err)
            self._error(err)

        ctx = Ctx(d.admin, d.admin.global_region, t.name, note, index=self.index, shard=self.shard, stop=self._stop)
        n = 0
        for item in t.resolve(ctx, d):
            n += 1
            self._resolve_tree(ctx, t, item, None)
        if t is discovery_table or not t.listing or not self.shard.first or self._stop.is_set():
            return
        if failed:
            err = failed[0]
            self._cover(d.admin.account_id, "", t.name, f"{err.service}:{err.operation}", ERROR,
                        code=err.error_code, message=err.message, resources=n, tables=_subtree(t))
        else:
            self._cover(d.admin.account_id, "", t.name, t.listing, OK, resources=n, tables=_subtree(t))

    def _open_account(self, account: Account, via: AccountSession | None = None) -> None:
        with self._init_sem:
            region0 = self.spec.custom_endpoint_signing_region or account.default_region or "us-east-1"
            try:
                acc = self.factory.open(account, via)
            except CredentialsError as e:
                code, msg = describe(e.cause)
                self._account_failed(SyncError(account.id, region0, "", e.service, e.operation, account.role_arn,
                                               code, msg))
                self._account_finished()
                return
            with self._plock:
                self._trusted.add(acc.account_id)
            regions = self._regions(acc)
        if regions is None:
            self._account_finished()
            return
        with self._plock:
            self.progress.accounts_read += 1
            self.index.synced_accounts[acc.account_id] = (acc, tuple(regions))
        if self.shard.owns(acc.account_id, "*"):
            self._cover(acc.account_id, "", "", acc.identity_call, OK, resources=len(regions), tables=self._account_tables())
        if not regions:
            self._account_finished()
            return
        units: list[tuple[AccountSession, str, TableDef]] = []
        for region in regions:
            if not self.shard.owns(acc.account_id, region):
                continue
            for t in self.tables:
                if t.scope == "region":
                    units.append((acc, region, t))
        mine = self.shard.owns(acc.account_id, "*") or any(self.shard.owns(acc.account_id, r) for r in regions)
        for t in self.tables:
            if t.scope == "account" and (mine or t.every_shard):
                units.insert(0, (acc, acc.global_region, t))
        with self._plock:
            self.progress.units_total += len(units)
        remaining = [len(units)]
        for u in units:
            self._submit(self._unit, u, regions, remaining)

    def _account_finished(self) -> None:
        with self._plock:
            self.progress.accounts_done += 1

    def _regions(self, acc: AccountSession) -> list[str] | None:
        """The account's regions: the spec's, or for "*" its enabled ones; None when they could not be
        discovered (recorded as an unread account)."""
        configured = acc.account.regions or self.spec.regions
        if configured and configured != ["*"]:
            return list(configured)
        found = enabled_regions(Ctx(acc, acc.global_region, "", self._account_error, stop=self._stop))
        if isinstance(found, SyncError):
            self._account_failed(replace(found, account_id=acc.account_id))
            return None
        return found

    def _unit(self, unit: tuple[AccountSession, str, TableDef], regions: list[str], remaining: list[int]) -> None:
        acc, region, table = unit
        ctx = Ctx(acc, region, table.name, self._error, regions=tuple(regions), index=self.index,
                  trusted=frozenset(self._trusted), shard=self.shard,
                  account_error=self._account_error, pacer=self.pacer, stop=self._stop,
                  retry_codes=self.retry_codes)
        counter = _UnitCounter(self, acc, region, table, remaining)
        assert table.resolve is not None
        # Failures of the listing itself (calls about no particular resource) make the scope unread.
        failed: list[SyncError] = []

        def watch(record: Callable[[SyncError], None]) -> Callable[[SyncError], None]:
            def note(err: SyncError) -> None:
                if not err.resource_arn:
                    failed.append(err)
                record(err)
            return note

        listed = [0]
        lctx = replace(ctx, on_error=watch(ctx.on_error), account_error=watch(self._account_error), listed=listed)
        for item in table.resolve(lctx, None):
            counter.add()
            self._submit(self._resource, ctx, table, item, counter)
        if table.listing and not self._stop.is_set():
            scope_region = region if table.scope == "region" else ""
            if failed:
                err = failed[0]
                self._cover(acc.account_id, scope_region, table.name, f"{err.service}:{err.operation}", ERROR,
                            code=err.error_code, message=err.message, resources=listed[0], tables=_subtree(table))
            elif table.scope == "region" or self.shard.owns(acc.account_id, "*"):
                self._cover(acc.account_id, scope_region, table.name, table.listing, OK, resources=listed[0],
                            tables=_subtree(table))
        counter.listing_done()

    def _static_unit(self, table: TableDef) -> None:
        """Reference tables: the same rows every sync, no AWS call."""
        assert table.resolve is not None
        for item in table.resolve(None, None):
            self._resolve_tree(None, table, item, None)  # type: ignore[arg-type]

    def _resource(self, ctx: Ctx, table: TableDef, item: dict[str, Any], counter: "_UnitCounter") -> None:
        """One key or bucket: its own calls, its row, its children; a bug here costs this resource only."""
        try:
            region = item.get("_region")
            if region:
                ctx = ctx.with_region(region)
            if table.enrich is not None:
                item = table.enrich(ctx, item) or item
            self._resolve_tree(ctx, table, item, None)
        except Exception as e:  # a bug or an unexpected answer for this resource: data, not a crash
            log.exception("internal error resolving %s", table.name)
            code, msg = describe(e)
            arn = item.get("KeyArn") or item.get("_arn") or item.get("Arn") or ""
            self._error(SyncError(ctx.account_id, ctx.region, table.name, "aws-encryption", "resolve", arn,
                                  code, msg))
        finally:
            counter.done()

    def _resolve_tree(self, ctx: Ctx, table: TableDef, item: dict[str, Any], parent: Parent | None) -> None:
        row = table.make_row(ctx, item, parent)
        self._emit(table, row)
        if table.on_row is not None:
            table.on_row(ctx, row, item)
        me = Parent(table, row, item)
        for child in table.children:
            cctx = ctx.with_table(child.name)
            if child.deferred:
                if child.prefetch is not None:
                    child.prefetch(cctx, me)
                with self._dlock:
                    self._deferred.append((cctx, child, me))
                continue
            assert child.resolve is not None
            for citem in child.resolve(cctx, me):
                self._resolve_tree(cctx, child, citem, me)

    def _derived(self) -> Iterator[tuple[TableDef, dict[str, Any]]]:
        """Rows of the derived tables, once every AWS call is done (no AWS call here)."""
        trusted = frozenset(self._trusted)
        for cctx, child, parent in self._deferred:
            cctx = replace(cctx, trusted=trusted)
            try:
                assert child.resolve is not None
                for citem in child.resolve(cctx, parent):
                    yield child, child.make_row(cctx, citem, parent)
            except Exception as e:  # keep going; the failure is data
                log.exception("internal error deriving %s", child.name)
                code, msg = describe(e)
                row = self._error_row(SyncError(cctx.account_id, cctx.region, child.name, "aws-encryption", "derive",
                                                parent.row.get("arn", ""), code, msg))
                if row is not None:
                    yield SYNC_ERRORS, row
        self._deferred = []

    # -- the caller's side --------------------------------------------------------------------
    def run(self) -> Iterator[tuple[TableDef, pa.RecordBatch]]:
        """Yield (table, RecordBatch) until every account, unit and resource is done."""
        schemas: dict[str, pa.Schema] = {}
        last_flush = time.monotonic()
        _tune_gc()
        accounts = self._accounts()
        self.progress.accounts_total = len(accounts)
        self._pool = ThreadPoolExecutor(max_workers=self.spec.concurrency, thread_name_prefix="aws-enc")
        try:
            with self._plock:
                self._pending += 1
            for t in self.tables:
                if t.scope == "static" and self.shard.first:
                    self._submit(self._static_unit, t)
            if self.spec.org is not None:
                self._submit(self._discover)
            else:
                for a in accounts:
                    self._submit(self._open_account, a)
            with self._plock:
                self._pending -= 1
                if self._pending == 0:
                    self._q.put(_DONE)

            def batch(t: TableDef, rows: list[dict[str, Any]]) -> tuple[TableDef, pa.RecordBatch]:
                if t.name not in schemas:
                    schemas[t.name] = t.arrow_schema()
                return t, rows_to_batch(schemas[t.name], rows)

            while True:
                try:
                    msg = self._q.get(timeout=0.25)
                except queue.Empty:
                    msg = None
                if msg is _DONE:
                    break
                if msg is not None:
                    yield batch(*msg)
                if time.monotonic() - last_flush >= self.flush_seconds:
                    for t, rows in self._take_partial():
                        yield batch(t, rows)
                    last_flush = time.monotonic()
            def drain() -> Iterator[tuple[TableDef, pa.RecordBatch]]:
                while True:
                    try:
                        msg = self._q.get_nowait()
                    except queue.Empty:
                        return
                    if msg is not _DONE:
                        yield batch(*msg)

            yield from drain()  # full batches queued just before the last task ended
            derived: dict[str, list[dict[str, Any]]] = {}
            dtables: dict[str, TableDef] = {}
            for t, row in self._derived():
                if t.name not in dtables:  # the status line names the derived table being computed
                    self.progress.current = f"deriving {t.name}"
                dtables[t.name] = t
                rows = derived.setdefault(t.name, [])
                rows.append(row)
                self.progress.rows[t.name] = self.progress.rows.get(t.name, 0) + 1
                if len(rows) >= self.batch_size:
                    derived[t.name] = []
                    yield batch(t, rows)
            for name, rows in derived.items():
                if rows:
                    yield batch(dtables[name], rows)
            # Rows emitted while deriving (a shard's DescribeKey of another shard's key fails) and the
            # last partial buffers.
            yield from drain()
            for t, rows in self._take_partial():
                yield batch(t, rows)
        finally:
            # Interrupted (Ctrl-C, SIGTERM, the consumer gone): nothing new starts, listings stop between
            # pages, and nobody waits for the calls in flight (up to request_timeout each); their
            # threads end on their own. The caller rolls the writer back.
            self._stop.set()
            self._pool.shutdown(wait=False, cancel_futures=True)


def _subtree(t: TableDef) -> list[str]:
    return [t.name, *(n for c in t.children for n in _subtree(c))]


def _tune_gc() -> None:
    """Fewer cyclic-GC passes: a sync allocates millions of short-lived, acyclic objects (botocore
    responses, rows), and the default gen-0 threshold of 700 spent ~5% of the CPU collecting them
    (measured with gc.callbacks on the benchmark world). Imported modules are frozen out of the
    full collections."""
    if gc.get_threshold()[0] < 10_000:
        gc.freeze()
        gc.set_threshold(10_000, 20, 20)


class _UnitCounter:
    """Knows when a unit (its listing and every resource task) is finished, for progress."""

    def __init__(self, engine: SyncEngine, acc: AccountSession, region: str, table: TableDef,
                 remaining: list[int]) -> None:
        self.engine, self.acc, self.region, self.table = engine, acc, region, table
        self.remaining = remaining
        self.n = 0
        self.open = 1
        self.lock = threading.Lock()

    def add(self) -> None:
        with self.lock:
            self.n += 1
            self.open += 1

    def done(self) -> None:
        self._dec()

    def listing_done(self) -> None:
        self._dec()

    def _dec(self) -> None:
        with self.lock:
            self.open -= 1
            finished = self.open == 0
        if not finished:
            return
        e = self.engine
        with e._plock:
            e.progress.units_done += 1
            e.progress.current = f"{self.acc.account_id} {self.region} {self.table.name}"
            self.remaining[0] -= 1
            account_done = self.remaining[0] == 0
            if account_done:
                e.progress.accounts_done += 1
        if e.on_unit is not None:
            e.on_unit(self.acc.account_id, self.region, self.table.name, self.n)
        if account_done:
            self.acc.release()

