"""Run the plugin in-process, exactly as the gRPC server does, and collect what it emits."""

from __future__ import annotations

import json
from contextlib import contextmanager
from typing import Any, Iterator

import pyarrow as pa
import pytest
from cloudquery.sdk import message
from cloudquery.sdk import plugin as sdk_plugin

from plugin.source.plugin import AwsEncryptionPlugin


class SyncResult:
    def __init__(self) -> None:
        self.rows: dict[str, list[dict[str, Any]]] = {}
        self.schemas: dict[str, pa.Schema] = {}
        self.batches: dict[str, int] = {}
        self.engine: Any = None   # the SyncEngine that ran (its `index`: what the sync saw)

    def table(self, name: str) -> list[dict[str, Any]]:
        return self.rows.get(name, [])

    def errors(self, **match: Any) -> list[dict[str, Any]]:
        return [e for e in self.table("aws_encryption_sync_errors")
                if all(e.get(k) == v for k, v in match.items())]

    def one(self, table: str, **match: Any) -> dict[str, Any]:
        found = [r for r in self.table(table) if all(r.get(k) == v for k, v in match.items())]
        assert len(found) == 1, f"{table} rows matching {match}: {len(found)}"
        return found[0]


def run_sync(spec: dict[str, Any], tables: list[str] | None = None, skip: list[str] | None = None,
             skip_dependent: bool = False) -> SyncResult:
    p = AwsEncryptionPlugin()
    p.init(json.dumps(spec).encode())
    res = SyncResult()
    opts = sdk_plugin.SyncOptions(tables=tables or ["*"], skip_tables=skip or [],
                                  skip_dependent_tables=skip_dependent)
    for m in p.sync(opts):
        if isinstance(m, message.SyncMigrateTableMessage):
            res.schemas[m.table.metadata[b"cq:table_name"].decode()] = m.table
        elif isinstance(m, message.SyncInsertMessage):
            name = m.record.schema.metadata[b"cq:table_name"].decode()
            res.batches[name] = res.batches.get(name, 0) + 1
            res.rows.setdefault(name, []).extend(m.record.to_pylist())
    res.engine = p.last_engine
    return res


@contextmanager
def environment(env: dict[str, str]) -> Iterator[None]:
    """`env` in os.environ for the block only, through pytest's MonkeyPatch (undone on leaving it): for
    module-scoped fixtures, which cannot take the function-scoped `monkeypatch`, and for part of a test."""
    with pytest.MonkeyPatch.context() as mp:
        for k, v in env.items():
            mp.setenv(k, v)
        yield


def run_in_pty(cmd: list[str], cwd: Any, env: dict[str, str], columns: int | None = None) -> tuple[int, str, str]:
    """Run `cmd` with its stdout on a pseudo-terminal (as a person's shell would), `columns` wide when
    given: (exit status, what the terminal received, stderr)."""
    import os
    import pty
    import subprocess
    master, slave = pty.openpty()
    try:
        if columns is not None:
            import fcntl
            import struct
            import termios
            fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, columns, 0, 0))
        p = subprocess.run(cmd, cwd=cwd, stdin=subprocess.DEVNULL, stdout=slave, stderr=subprocess.PIPE,
                           timeout=120, env=env)
        os.close(slave)
        slave = -1
        chunks = []
        while True:
            try:
                data = os.read(master, 65536)
            except OSError:
                break
            if not data:
                break
            chunks.append(data)
        return p.returncode, b"".join(chunks).decode(), p.stderr.decode(errors="replace")
    finally:
        if slave >= 0:
            os.close(slave)
        os.close(master)


# Columns AWS changes between two syncs of an unchanged world: every sync's AssumeRole updates its
# audit role's RoleLastUsed (moto's server does too). Row comparisons between syncs leave them out.
VOLATILE_COLUMNS = frozenset({"role_last_used"})


def stable_columns(table: Any) -> list[str]:
    return [c for c in table.column_names() if c not in VOLATILE_COLUMNS]
