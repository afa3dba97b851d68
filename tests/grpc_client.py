"""Drive our plugin server over gRPC exactly as the CloudQuery CLI does (Init, Sync, TestConnection)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import grpc
import pyarrow as pa
from cloudquery.plugin_v3 import plugin_pb2, plugin_pb2_grpc


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def plugin_executable(name: str = "aws-encryption") -> str:
    exe = Path(sys.executable).parent / name
    if not exe.exists():
        import shutil
        found = shutil.which(name)
        assert found, f"{name} is not installed (pip install -e .)"
        return found
    return str(exe)


class PluginServer:
    """`aws-encryption serve` on a free loopback port; `flags` are added to its command line and the
    environment variables in `drop_env` are removed from its environment."""

    def __init__(self, env: dict[str, str], log_level: str = "info", log_file: Path | None = None,
                 flags: tuple[str, ...] | list[str] = (), drop_env: tuple[str, ...] = ()) -> None:
        self.port = free_port()
        self.log_file = log_file
        out = open(log_file, "wb") if log_file else subprocess.DEVNULL
        base = {k: v for k, v in os.environ.items() if k not in drop_env}
        self.proc = subprocess.Popen(
            [plugin_executable(), "serve", "--address", f"127.0.0.1:{self.port}", "--log-format", "json",
             "--log-level", log_level, *flags],
            env={**base, **env}, stdout=out, stderr=subprocess.STDOUT)
        self.channel = grpc.insecure_channel(f"127.0.0.1:{self.port}")
        grpc.channel_ready_future(self.channel).result(timeout=30)
        self.stub = plugin_pb2_grpc.PluginStub(self.channel)

    def init(self, spec: bytes) -> Any:
        return self.stub.Init(plugin_pb2.Init.Request(spec=spec))

    def test_connection(self, spec: bytes) -> Any:
        return self.stub.TestConnection(plugin_pb2.TestConnection.Request(spec=spec))

    def sync(self, tables: list[str] | None = None) -> dict[str, list[dict[str, Any]]]:
        rows: dict[str, list[dict[str, Any]]] = {}
        req = plugin_pb2.Sync.Request(tables=tables or ["*"], skip_tables=[])
        for msg in self.stub.Sync(req):
            if msg.WhichOneof("message") == "insert":
                rb = pa.ipc.open_stream(msg.insert.record).read_all()
                name = rb.schema.metadata[b"cq:table_name"].decode()
                rows.setdefault(name, []).extend(rb.to_pylist())
        return rows

    def stop(self) -> str:
        self.channel.close()
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        time.sleep(0.1)
        return self.log_file.read_text(errors="replace") if self.log_file else ""
