"""`aws-encryption sync --ray [ADDRESS]`: the shards of a sync as Ray tasks, one writer on the driver.

The driver makes no AWS call. It plans N shard tasks (`i/N`, the same hash of (account, region) as
`cloudquery sync --shard` and `--processes`, which is what makes the rows the same everywhere) and
Ray runs them on the cluster's workers. Each task is one in-process sync of its shard (the engine's
thread pool and pacing, as today); it opens the accounts itself with the worker's own base
credentials (environment, instance profile, IRSA): the task's arguments are the spec, which holds
role ARNs and profile names, never keys. A task returns its rows as Arrow record batches (the table
in each schema's metadata), which Ray keeps in its object store without copies; the driver writes
each finished task's batches into the DuckDB file, in the one transaction of the sync.

Why whole-shard tasks, returned at the end (docs/ray.md has the long version):
- A task's result is all or nothing: a worker or node that dies mid-task leaves no rows behind,
  Ray runs the task again elsewhere (`max_retries`, system failures only), and only the attempt
  that finished is written. No duplicates, no loss, no bookkeeping of partial attempts.
- Every shard opens every account and reads its IAM (so that each evaluates principals alike), so
  more tasks repeat that per-account work: the default is one task per CPU of the cluster.
  `--ray-tasks` trades that for smaller results and finer load balance.
- Back-pressure: the driver fetches one finished result at a time and frees it once written; the
  others wait in the object store, which spills to disk when full.
- A shard that fails for AWS reasons finishes normally: its failures are error rows, as today.
  A task that raises (a bug) is not retried: the sync fails and the database keeps its previous
  rows, as with `--processes`.
"""

from __future__ import annotations

import importlib
import logging
import sys
import time
from dataclasses import dataclass
from typing import Any, Iterator

from .spec import Spec

log = logging.getLogger("aws_encryption.ray")

INSTALL_HINT = "--ray needs Ray: pip install 'cq-source-aws-encryption[ray]' (on the driver and every node)"
# Retries of a task whose worker process or node died (Ray's system failures); an exception raised by
# the task itself is never retried.
MAX_RETRIES = 3


def _ray_env() -> None:
    """Read by Ray when it is imported: every worker line as it is ("[repeated 2x across cluster]" would
    hide which shard said what), prefixes coloured on a terminal only (Ray colours them everywhere)."""
    import os
    os.environ.setdefault("RAY_DEDUP_LOGS", "0")
    os.environ.setdefault("RAY_COLOR_PREFIX", "1" if sys.stderr.isatty() else "0")


def ray_available() -> bool:
    _ray_env()
    try:
        importlib.import_module("ray")
    except ImportError:
        return False
    return True


@dataclass(frozen=True)
class ShardTask:
    """What a task needs: the source's spec and table selection. No credentials: the worker has its own."""

    spec: Spec
    tables: list[str]
    skip_tables: list[str]
    skip_dependent_tables: bool
    shard: str   # "i/N"


def run_shard(task: ShardTask) -> dict[str, Any]:
    """One shard, on a Ray worker: sync it in-process and return its batches and its summary."""
    import ray

    from ..aws.redact import install_log_redaction
    from .engine import SyncEngine
    from .plugin import select_tables
    from .sharding import Shard

    import pyarrow as pa

    _worker_logging()
    install_log_redaction()
    node = ray.get_runtime_context().get_node_id()
    t0 = time.monotonic()
    # Forwarded to the driver's terminal by Ray: the run's timeline (which attempt ran where).
    print(f"shard {task.shard} started on node {node[:12]}", file=sys.stderr, flush=True)
    defs = select_tables(task.tables, task.skip_tables, task.skip_dependent_tables)
    engine = SyncEngine(task.spec, defs, shard=Shard.parse(task.shard), batch_size=10_000)
    # One Arrow table per table: the driver writes each with one upsert, not one per 10,000-row batch
    # (its writes are the part of a Ray sync that does not run in parallel).
    per_table: dict[str, list[Any]] = {}
    for t, batch in engine.run():
        per_table.setdefault(t.name, []).append(batch)
    batches = [pa.Table.from_batches(bs) for bs in per_table.values()]
    p = engine.progress
    from .. import __version__
    return {"batches": batches, "node": node, "version": __version__, "seconds": time.monotonic() - t0,
            "summary": {"rows": p.rows, "errors": p.errors, "accounts_total": p.accounts_total,
                        "accounts_read": p.accounts_read, "unread": p.unread}}


def _worker_logging() -> None:
    root = logging.getLogger()
    if not root.handlers:
        logging.basicConfig(level=logging.WARNING, stream=sys.stderr, format="%(levelname)s %(name)s: %(message)s")


class RayFailed(RuntimeError):
    pass


def run_ray(spec: Spec, tables: list[str], skip_tables: list[str], skip_dependent_tables: bool,
            address: str | None, tasks: int | None = None) -> Iterator[tuple[str, Any]]:
    """Yield ("batch", Arrow table), ("summary", dict) and ("progress", text) from the shard tasks of one source.

    `address`: None starts a local Ray; "auto" or host:port joins a running cluster. Closing the
    generator (Ctrl-C, SIGTERM, a failed write) cancels every task still running."""
    _ray_env()
    import ray

    from .. import __version__

    started_here = not ray.is_initialized()
    if started_here:
        # Workers log to the driver's stderr (the timeline, failed AWS calls); Ray's own INFO lines don't.
        # "local": always a new Ray on this machine, never one that happens to run here already.
        ray.init(address=address or "local", logging_level=logging.WARNING, include_dashboard=False,
                 configure_logging=True, log_to_driver=True)
    try:
        n = tasks or max(1, int(ray.cluster_resources().get("CPU", 1)))
        remote = ray.remote(run_shard).options(num_cpus=1, max_retries=MAX_RETRIES, retry_exceptions=False,
                                               scheduling_strategy="SPREAD", name="aws-encryption shard")
        refs = {remote.remote(ShardTask(spec, tables, skip_tables, skip_dependent_tables, f"{i}/{n}")): f"{i}/{n}"
                for i in range(1, n + 1)}
        log.info("%d shard tasks on a cluster of %s CPUs", n, ray.cluster_resources().get("CPU"))
        pending = list(refs)
        finished = 0
        try:
            while pending:
                done, pending = ray.wait(pending, num_returns=1, timeout=1.0)
                for ref in done:
                    try:
                        result = ray.get(ref)
                    except ray.exceptions.RayError as e:
                        raise RayFailed(f"shard {refs[ref]} failed: {_first_line(e)}") from None
                    if result["version"] != __version__:
                        raise RayFailed(f"shard {refs[ref]} ran aws-encryption {result['version']} on node "
                                        f"{result['node'][:12]}, the driver has {__version__}: install the same "
                                        "version on every node")
                    finished += 1
                    yield "progress", (f"shard {refs[ref]} finished on node {result['node'][:12]} in "
                                       f"{result['seconds']:.1f}s ({finished}/{n} shards)")
                    batches, summary = result["batches"], result["summary"]
                    del result
                    while batches:
                        yield "batch", batches.pop(0)
                    yield "summary", summary
        finally:
            for ref in pending:
                ray.cancel(ref, force=True, recursive=True)
    finally:
        if started_here:
            ray.shutdown()


def _first_line(e: BaseException) -> str:
    text = str(e).strip().splitlines()
    return text[-1][:300] if text else type(e).__name__
