"""`sync --ray` refused before any AWS call: Ray missing, a misplaced spec file, options that don't go
together. Each is exit 2 and one stderr line; the canary endpoint counts any AWS request."""

from __future__ import annotations

import os
import pickle
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from plugin.cli.yaml_specs import load
from plugin.source.ray_shards import ShardTask

from .test_bad_specs import _Canary, canary  # noqa: F401 - the fixture

# The CLI with `import ray` failing, as in an install without the `ray` extra.
_NO_RAY = ("import sys; sys.modules['ray'] = None; from plugin.cli.main import main; "
           "sys.argv[0] = 'aws-encryption'; sys.exit(main())")


def _spec(tmp_path: Path, endpoint: str) -> Path:
    docs = [
        {"kind": "source", "spec": {"name": "aws-encryption", "path": "aws-encryption", "registry": "local",
                                    "version": "v0.1.0", "tables": ["*"], "destinations": ["duckdb"],
                                    "spec": {"accounts": [{"id": "111111111111"}], "regions": ["us-east-1"],
                                             "custom_endpoint_url": endpoint,
                                             "custom_endpoint_partition_id": "aws",
                                             "custom_endpoint_signing_region": "us-east-1",
                                             "custom_endpoint_hostname_immutable": True}}},
        {"kind": "destination", "spec": {"name": "duckdb", "path": "aws-encryption-duckdb", "registry": "local",
                                         "version": "v0.1.0",
                                         "spec": {"connection_string": str(tmp_path / "posture.duckdb")}}},
    ]
    p = tmp_path / "spec.yml"
    p.write_text(yaml.safe_dump_all(docs))
    return p


def _run(tmp_path: Path, *args: str, no_ray: bool = False) -> subprocess.CompletedProcess:
    cmd = [sys.executable, "-c", _NO_RAY] if no_ray else [sys.executable, "-m", "plugin.cli"]
    return subprocess.run([*cmd, *args], cwd=tmp_path, capture_output=True, text=True, timeout=60,
                          env={**os.environ, "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"})


@pytest.mark.parametrize("args, no_ray, says", [
    (["sync", "spec.yml", "--ray"], True, "--ray needs Ray: pip install 'cq-source-aws-encryption[ray]'"),
    (["sync", "spec.yml", "--ray", "auto"], True, "--ray needs Ray: pip install"),
    (["sync", "--ray", "spec.yml", "spec.yml"], False, "--ray: 'spec.yml' is a file, not a cluster address"),
    (["sync", "spec.yml", "--ray", "--processes", "2"], False, "--ray: not together with --processes or --shard"),
    (["sync", "spec.yml", "--ray", "--shard", "1/2"], False, "--ray: not together with --processes or --shard"),
    (["sync", "spec.yml", "--ray", "--ray-tasks", "0"], False, "--ray-tasks: expected a number >= 1, got 0"),
    (["sync", "spec.yml", "--ray-tasks", "4"], False, "--ray-tasks: only with --ray"),
])
def test_ray_options_refused_before_any_aws_call(tmp_path, canary, args, no_ray, says):  # noqa: F811
    _spec(tmp_path, canary)
    before = _Canary.hits
    r = _run(tmp_path, *args, no_ray=no_ray)
    assert r.returncode == 2, r.stdout + r.stderr
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and says in lines[0], r.stderr
    assert _Canary.hits == before, "an AWS call was made"
    assert not (tmp_path / "posture.duckdb").exists()


def test_a_shard_task_carries_no_credentials(tmp_path, canary, monkeypatch):  # noqa: F811
    """What Ray ships to a worker (pickled into the object store) is the spec and the table selection:
    the driver's keys are not in it, whatever the environment holds."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAEXAMPLEKEYID0001")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "driver-secret-never-shipped")
    monkeypatch.setenv("AWS_SESSION_TOKEN", "driver-session-token-never-shipped")
    src = load([str(_spec(tmp_path, canary))]).sources[0]
    blob = pickle.dumps(ShardTask(src.spec, src.tables, src.skip_tables, src.skip_dependent_tables, "1/2"))
    for secret in ("AKIAEXAMPLEKEYID0001", "driver-secret-never-shipped", "driver-session-token-never-shipped"):
        assert secret.encode() not in blob
    assert b"111111111111" in blob  # the blob is the spec (the test would pass on an empty one otherwise)
