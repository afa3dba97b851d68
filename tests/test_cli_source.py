"""Our source plugin driven by the real CloudQuery CLI: docs, test-connection, registry local and grpc."""

from __future__ import annotations

import re
import subprocess
import time

import pytest

from plugin.demo.world import COMPUTE, DATA, DENIED
from plugin.tables import all_tables

from .cli import run_cli, write_specs
from .grpc_client import free_port, plugin_executable

pytestmark = pytest.mark.e2e  # the real CloudQuery CLI and our plugin server processes


def test_cloudquery_tables_documents_every_table(world, tmp_path):
    spec = write_specs(tmp_path / "spec.yml", world.spec())
    r = run_cli(["tables", str(spec), "--output-dir", "docs", "--format", "markdown"], tmp_path, world.env)
    assert r.returncode == 0, r.stderr + r.stdout
    docs = tmp_path / "docs" / "aws-encryption"
    for t in all_tables():
        md = (docs / f"{t.name}.md").read_text()
        cols = re.findall(r"^\|([a-z_]+)(?: \(PK\))?\|`", md, re.M)
        assert cols == t.column_names(), t.name
        assert "|_cq_id (PK)|`uuid`|" in md
        line = next(x for x in md.splitlines() if "calculate the value of `_cq_id`" in x)
        assert re.findall(r"\*\*([a-z_]+)\*\*", line) == t.pk_components, line
        if t.parent:
            assert f"This table depends on [{t.parent}]({t.parent}.md)" in md
    keys = (docs / "aws_kms_keys.md").read_text()
    assert "|encryption_algorithms|`list<item: utf8, nullable>`|" in keys
    assert "|tags|`json`|" in keys and "|creation_date|`timestamp[us, tz=UTC]`|" in keys


def test_test_connection_succeeds_for_good_credentials(world, tmp_path):
    spec = write_specs(tmp_path / "spec.yml", world.spec(accounts=[DATA, COMPUTE]))
    r = run_cli(["test-connection", str(spec)], tmp_path, world.env)
    assert r.returncode == 0, r.stderr + r.stdout


def test_test_connection_names_the_account_whose_role_cannot_be_assumed(world, tmp_path):
    spec = write_specs(tmp_path / "spec.yml", world.spec(accounts=[DATA, DENIED]))
    r = run_cli(["test-connection", str(spec)], tmp_path, world.env)
    out = r.stdout + r.stderr
    assert r.returncode != 0
    assert DENIED in out and "AssumeRole" in out and "AccessDenied" in out
    assert DATA not in out.split("AssumeRole")[0].splitlines()[-1]  # only the failing account is blamed


def test_registry_grpc(world, tmp_path):
    port = free_port()
    proc = subprocess.Popen([plugin_executable(), "serve", "--address", f"127.0.0.1:{port}"],
                            env={**__import__("os").environ, **world.env},
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        _wait_port(port)
        spec = write_specs(tmp_path / "spec.yml", world.spec(accounts=[DATA]), registry="grpc",
                           source_path=f"127.0.0.1:{port}")
        r = run_cli(["test-connection", str(spec)], tmp_path, world.env)
        assert r.returncode == 0, r.stderr + r.stdout
        r = run_cli(["tables", str(spec), "--output-dir", "docs", "--format", "markdown"], tmp_path, world.env)
        assert r.returncode == 0, r.stderr + r.stdout
        assert (tmp_path / "docs" / "aws-encryption" / "aws_kms_keys.md").exists()
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_bad_spec_is_reported_by_the_cli(world, tmp_path):
    spec = write_specs(tmp_path / "spec.yml", {"regions": ["us-east-1"], "accounts": [{"id": "1234"}]})
    r = run_cli(["test-connection", str(spec)], tmp_path, world.env)
    assert r.returncode != 0
    assert "accounts[0].id" in r.stdout + r.stderr


def _wait_port(port: int, timeout: float = 20) -> None:
    import socket
    end = time.time() + timeout
    while time.time() < end:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    pytest.fail(f"plugin server did not listen on {port}")


def test_main_py_serve_and_version(world, tmp_path):
    """CloudQuery's `python main.py serve` convention, and `aws-encryption --version`."""
    import json
    import os
    import sys
    from pathlib import Path

    import grpc
    from cloudquery.plugin_v3 import plugin_pb2, plugin_pb2_grpc

    from plugin import __version__

    root = Path(__file__).resolve().parent.parent
    v = subprocess.run([plugin_executable(), "--version"], capture_output=True, text=True)
    assert v.returncode == 0 and v.stdout.strip() == f"aws-encryption {__version__}"
    port = free_port()
    proc = subprocess.Popen([sys.executable, "main.py", "serve", "--address", f"127.0.0.1:{port}"], cwd=root,
                            env={**os.environ, **world.env}, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        _wait_port(port)
        with grpc.insecure_channel(f"127.0.0.1:{port}") as ch:
            stub = plugin_pb2_grpc.PluginStub(ch)
            assert stub.GetName(plugin_pb2.GetName.Request()).name == "aws-encryption"
            assert stub.GetVersion(plugin_pb2.GetVersion.Request()).version == __version__
            schema = json.loads(stub.GetSpecSchema(plugin_pb2.GetSpecSchema.Request()).json_schema)
            assert schema["additionalProperties"] is False and "accounts" in schema["properties"]
    finally:
        proc.terminate()
        assert proc.wait(timeout=10) in (0, -15)
