"""`aws-encryption sync --ray`: the shards as tasks of a real multi-node Ray cluster on this machine
(`ray.cluster_utils.Cluster`: a head without CPUs and two nodes of one CPU each, separate raylets and
object stores), against moto's server.

The workers get their base credentials from their own environment (the nodes are started with the
world's scanner keys); the driver runs without any AWS credentials, so a sync that reads anything
proves that no credentials travelled with the tasks."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import threading
import time
from pathlib import Path
from typing import Any

import pytest

ray = pytest.importorskip("ray", reason="the `ray` extra is not installed")
from ray.cluster_utils import Cluster  # noqa: E402

from .cli import write_specs  # noqa: E402
from .grpc_client import plugin_executable  # noqa: E402
from .helpers import environment  # noqa: E402
from .test_sharding import ACCOUNTS, _rows  # noqa: E402

pytestmark = pytest.mark.e2e

_STORE = 80 * 2**20
# A dead node is noticed within ~1.5 s instead of Ray's default ~30 s (health checks every 0.5 s).
_FAST_FAILURE = {"health_check_initial_delay_ms": 0, "health_check_period_ms": 500,
                 "health_check_timeout_ms": 500, "health_check_failure_threshold": 3}


def _driver_env(world: Any) -> dict[str, str]:
    """The driver's environment: no AWS credentials at all (the workers have their own)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    assert not set(world.env) & set(env)
    return env


@pytest.fixture(scope="module")
def cluster(world):
    with environment(world.env):  # what the nodes' workers inherit: their base credentials
        c = Cluster(initialize_head=True, head_node_args={
            "num_cpus": 0, "object_store_memory": _STORE, "include_dashboard": False,
            "_system_config": _FAST_FAILURE})
        nodes = [c.add_node(num_cpus=1, object_store_memory=_STORE) for _ in range(2)]
        c.wait_for_nodes()
    c.workers = nodes  # type: ignore[attr-defined]
    yield c
    c.shutdown()


@pytest.fixture(scope="module")
def embedded(world, tmp_path_factory):
    """The rows of an embedded (in-process, unsharded) sync of the same accounts."""
    tmp = tmp_path_factory.mktemp("embedded")
    db = tmp / "all.duckdb"
    write_specs(tmp / "all.yml", world.spec(accounts=ACCOUNTS), db=str(db))
    mark = world.server.mark()
    r = subprocess.run([plugin_executable(), "sync", "all.yml"], cwd=tmp, env={**os.environ, **world.env},
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    embedded_db[:] = [db]
    calls[:] = [world.server.mark() - mark]
    return _rows(db)


embedded_db: list[Path] = []
calls: list[int] = []   # AWS calls of one whole sync


def _quarter_done(world: Any, d: "_Driver") -> None:
    """Wait until the shards made a quarter of a whole sync's AWS calls (both are running: the head has
    no CPU and each node one, so the two tasks start together, one per node)."""
    mark = world.server.mark()
    d.wait_for(lambda: world.server.mark() - mark > calls[0] // 4)
    assert not any("finished on node" in x for _, x in d.lines), "a shard ended before the disturbance"


def _spec(world: Any, tmp_path: Path, name: str) -> tuple[Path, Path]:
    db = tmp_path / f"{name}.duckdb"
    return write_specs(tmp_path / f"{name}.yml", world.spec(accounts=ACCOUNTS), db=str(db)), db


def test_ray_sync_on_two_nodes_equals_the_embedded_sync(world, cluster, tmp_path, embedded):
    spec, db = _spec(world, tmp_path, "ray")
    r = subprocess.run([plugin_executable(), "sync", str(spec), "--ray", cluster.address], cwd=tmp_path,
                       env=_driver_env(world), capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    assert _rows(db) == embedded
    nodes = {line.rsplit("started on node ", 1)[1].split()[0] for line in r.stderr.splitlines()
             if "started on node " in line}
    assert nodes == {n.node_id[:12] for n in cluster.workers}, f"both nodes ran a shard: {r.stderr[-2000:]}"


def test_ray_without_an_address_starts_a_local_ray(world, cluster, tmp_path, embedded):
    spec, db = _spec(world, tmp_path, "local")
    r = subprocess.run([plugin_executable(), "sync", str(spec), "--ray", "--ray-tasks", "3"], cwd=tmp_path,
                       env={**os.environ, **world.env}, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    assert _rows(db) == embedded
    assert "(3/3 shards)" in r.stderr, r.stderr
    # Its own Ray, not the test cluster that runs on this machine too.
    assert not any(n.node_id[:12] in r.stderr for n in cluster.workers), r.stderr


class _Driver:
    """A `sync --ray` driver whose stderr lines are collected, with the time each arrived."""

    def __init__(self, cmd: list[str], cwd: Path, env: dict[str, str]) -> None:
        self.t0 = time.monotonic()
        self.lines: list[tuple[float, str]] = []
        self.p = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                  text=True)
        self._t = threading.Thread(target=self._read, daemon=True)
        self._t.start()

    def _read(self) -> None:
        assert self.p.stderr is not None
        for line in self.p.stderr:
            self.lines.append((time.monotonic() - self.t0, line.rstrip()))

    def wait_for(self, predicate: Any, timeout: float = 120) -> None:
        end = time.monotonic() + timeout
        while not predicate():
            assert self.p.poll() is None, "\n".join(x for _, x in self.lines)[-3000:]
            assert time.monotonic() < end, "\n".join(x for _, x in self.lines)[-3000:]
            time.sleep(0.05)

    def text(self) -> str:
        self._t.join(timeout=10)
        return "\n".join(x for _, x in self.lines)


@pytest.fixture
def slow_aws(world):
    """Every AWS answer 40 ms late (at the emulator's edge), so that a sync is still running when the
    test disturbs it."""
    def delay(_service: str, _op: str, _body: bytes) -> None:
        time.sleep(0.04)

    world.server.faults.append(delay)
    yield
    world.server.faults.remove(delay)


def test_ctrl_c_cancels_the_tasks_and_keeps_the_previous_data(world, cluster, tmp_path, embedded, slow_aws):
    spec, db = _spec(world, tmp_path, "interrupted")
    shutil.copy(embedded_db[0], db)  # the previous sync's data
    d = _Driver([plugin_executable(), "sync", str(spec), "--ray", cluster.address], tmp_path, _driver_env(world))
    _quarter_done(world, d)
    d.p.send_signal(signal.SIGINT)
    assert d.p.wait(timeout=60) == 130, d.text()
    assert "interrupted; the database keeps its previous contents" in d.text()
    assert _rows(db) == embedded
    # The tasks were cancelled: AWS stops hearing from the workers.
    time.sleep(2)
    before = world.server.mark()
    time.sleep(3)
    assert world.server.mark() == before, "workers still call AWS after the driver was interrupted"


def test_a_node_killed_mid_sync_has_its_shard_retried_and_the_rows_stay_equal(world, cluster, tmp_path, embedded,
                                                                              slow_aws):
    spec, db = _spec(world, tmp_path, "fault")
    d = _Driver([plugin_executable(), "sync", str(spec), "--ray", cluster.address], tmp_path, _driver_env(world))
    victim, survivor = cluster.workers[1].node_id[:12], cluster.workers[0].node_id[:12]
    _quarter_done(world, d)
    t_kill = time.monotonic() - d.t0
    cluster.remove_node(cluster.workers[1], allow_graceful=False)
    assert d.p.wait(timeout=300) == 0, d.text()
    out = d.text()
    finished = [(t, x) for t, x in d.lines if "finished on node" in x]
    # Both shards' results come from the node that lived: the victim's shard ran again there.
    assert len(finished) == 2 and all(survivor in x for _, x in finished), out
    assert _rows(db) == embedded, "rows differ from the undisturbed sync (duplicates or loss)"
    timeline = [f"{t:5.1f}s {x}" for t, x in d.lines if "started on node" in x or "finished on node" in x]
    timeline.append(f"{t_kill:5.1f}s node {victim} killed (raylet and workers, no warning)")
    print("\n".join(sorted(timeline, key=lambda x: float(x.split("s", 1)[0]))))
    # Leave the cluster as the module found it.
    cluster.workers[1] = cluster.add_node(num_cpus=1, object_store_memory=_STORE)
    cluster.wait_for_nodes()
