"""`aws-encryption sync --processes N`: N shard processes, one writer.

Python spends 1-3 ms of CPU per AWS call, so one process tops out at a few hundred calls per second
(docs/performance.md, "One process, one core"). The parent starts N workers (`python -m plugin.source.shard_workers`), each syncing
shard i/N of every source with the in-process engine and streaming its Arrow batches back over a
pipe; the parent alone writes them into the DuckDB file, in one transaction, and deletes stale
rows once every worker has finished. A worker that fails makes the whole sync fail and roll back:
the previous data stays.

Frames on a worker's stdout: 1 byte kind + 4 bytes big-endian length + payload. Kind B: an Arrow
IPC stream holding one RecordBatch (table name in the schema metadata); kind S: the worker's
summary as JSON.
"""

from __future__ import annotations

import json
import os
import queue
import struct
import subprocess
import sys
import threading
from typing import Any, BinaryIO, Iterator

import pyarrow as pa

_HEADER = struct.Struct(">cI")


def write_frame(out: BinaryIO, kind: bytes, payload: bytes) -> None:
    out.write(_HEADER.pack(kind, len(payload)))
    out.write(payload)


def read_frames(inp: BinaryIO) -> Iterator[tuple[bytes, bytes]]:
    while True:
        head = inp.read(_HEADER.size)
        if not head:
            return
        if len(head) < _HEADER.size:
            raise EOFError("truncated frame header from worker")
        kind, n = _HEADER.unpack(head)
        payload = inp.read(n)
        if len(payload) < n:
            raise EOFError("truncated frame from worker")
        yield kind, payload


def batch_bytes(batch: pa.RecordBatch) -> bytes:
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, batch.schema) as w:
        w.write_batch(batch)
    return sink.getvalue().to_pybytes()


def batch_from_bytes(data: bytes) -> pa.RecordBatch:
    return pa.ipc.open_stream(data).read_next_batch()


class WorkerFailed(RuntimeError):
    pass


def run_workers(spec_files: list[str], source: str, processes: int, tables: list[str] | None,
                skip_tables: list[str] | None) -> Iterator[tuple[str, Any]]:
    """Yield ("batch", RecordBatch) and ("summary", dict) from N workers for one source."""
    q: queue.Queue = queue.Queue(maxsize=64)
    procs: list[subprocess.Popen] = []
    for i in range(1, processes + 1):
        cmd = [sys.executable, "-m", "plugin.source.shard_workers", "--source", source, "--shard", f"{i}/{processes}"]
        if tables:
            cmd += ["--tables", ",".join(tables)]
        if skip_tables is not None:
            cmd += ["--skip-tables", ",".join(skip_tables)]
        procs.append(subprocess.Popen(cmd + list(spec_files), stdout=subprocess.PIPE, stdin=subprocess.DEVNULL,
                                      env=os.environ.copy()))

    def pump(p: subprocess.Popen) -> None:
        try:
            assert p.stdout is not None
            for kind, payload in read_frames(p.stdout):
                q.put(("batch", batch_from_bytes(payload)) if kind == b"B" else ("summary", json.loads(payload)))
        except Exception as e:  # noqa: BLE001 - reported below as a worker failure
            q.put(("error", f"worker {p.pid}: {e}"))
        finally:
            q.put(("done", p))

    threads = [threading.Thread(target=pump, args=(p,), daemon=True) for p in procs]
    for t in threads:
        t.start()
    running = len(procs)
    try:
        while running:
            kind, value = q.get()
            if kind == "done":
                running -= 1
                rc = value.wait()
                if rc != 0:
                    raise WorkerFailed(f"shard worker {procs.index(value) + 1}/{processes} exited with status {rc}")
            elif kind == "error":
                raise WorkerFailed(value)
            else:
                yield kind, value
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
            p.wait()


def _worker_main(argv: list[str]) -> int:
    """One shard of one source: sync it in-process and stream batches to stdout."""
    import argparse
    import logging

    from .engine import SyncEngine
    from .plugin import select_tables
    from ..aws.redact import install_log_redaction
    from .sharding import Shard
    from ..cli.yaml_specs import load

    ap = argparse.ArgumentParser(prog="aws-encryption shard worker")
    ap.add_argument("specs", nargs="+")
    ap.add_argument("--source", required=True)
    ap.add_argument("--shard", required=True)
    ap.add_argument("--tables")
    ap.add_argument("--skip-tables")
    args = ap.parse_args(argv)
    # Ctrl-C reaches the whole process group: the parent handles it (rolls back, kills the workers).
    import signal
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr, format="%(levelname)s %(name)s: %(message)s")
    install_log_redaction()
    plan = load(args.specs)
    src = next(s for s in plan.sources if s.name == args.source)
    tables = args.tables.split(",") if args.tables else src.tables
    skip = args.skip_tables.split(",") if args.skip_tables is not None else src.skip_tables
    skip = [x for x in skip if x]
    defs = select_tables(tables, skip, src.skip_dependent_tables)
    engine = SyncEngine(src.spec, defs, shard=Shard.parse(args.shard), batch_size=10_000)
    out = sys.stdout.buffer
    for _t, batch in engine.run():
        write_frame(out, b"B", batch_bytes(batch))
    p = engine.progress
    write_frame(out, b"S", json.dumps({"rows": p.rows, "errors": p.errors, "accounts_total": p.accounts_total,
                                       "accounts_read": p.accounts_read, "unread": p.unread}).encode())
    out.flush()
    return 0


if __name__ == "__main__":
    sys.exit(_worker_main(sys.argv[1:]))
