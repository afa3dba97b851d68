#!/usr/bin/env python3
"""Organisation-scale benchmark: the five figures of the benchmark issue, one table per run.

World (default): 20 accounts x 3 regions x 100 KMS keys per region, 200 S3 buckets per account, and
the fake's default 2 secrets, 2 queues, 2 topics, 2 EBS snapshots and 2 DB snapshots (1 manual, 1
automated), 2 backup vaults and 1 backup plan per account and region, 30 ms per request, served by
bench/fake_aws.py on loopback.

  floor    (a) `aws-encryption sync` 1 process and (b) bench/floor.py 1 process (the same AWS calls by a
           minimal boto3 loop, no Arrow, no DuckDB); target: sync <= 1.3 x floor. With `scaling` also
           run, the 2-process pair (sync --processes 2, floor --processes 2) is reported too.
           The fake's per-operation counts of both are compared (a mismatch is printed).
  scaling  calls/s of the sync with --processes 1, 2, 4; target: 2 processes >= 1.6 x 1 process.
  throttle the sync against a fake that throttles 10 % of KMS, S3, S3 Control, Secrets Manager, SQS,
           SNS, EC2, RDS and AWS Backup requests, at --throttle-processes
           (default 2); target: identical rows to the unthrottled run at the same process count
           (every table, every column but _cq_sync_time) and wall <= 1.5 x unthrottled.
  memory   peak RSS (whole process tree, sampled every 0.25 s) of the sync on the world and on a 4x
           world (--mem-scale keys: 400 keys/region and 800 buckets/account; accounts: 80 accounts),
           both with --mem-processes (default 2); target: 4x world < 2 x the 1x world's peak.
  ray      `sync --ray ADDRESS` on a real multi-node Ray cluster on this machine (ray.cluster_utils:
           a head without CPUs plus worker nodes of one CPU each, started with the bench's base
           credentials in their environment): one node, then two nodes; and `sync --processes 2` on the
           same world. Targets: two nodes >= 1.6x one node; Ray on two nodes <= 1.2x `--processes 2`
           (Ray's overhead); the rows of the two-node run equal those of `--processes 2`.
  prowler  `prowler aws --services kms s3` (its own venv) against the same fake, for --prowler-accounts
           account(s) of the world (Prowler scans one account per run), against ours = `aws-encryption
           sync` + `aws-encryption check` of the same account(s); target: ours >= 10x faster.

Every fake answers with the same clock (fake_aws.NOW is pinned), so the rows of two syncs against two
fakes are comparable. Wall time, CPU (user+sys of the process and its waited-for children, os.wait4)
and RSS are measured from outside, on the child processes.

Usage:
  /tmp/venv/bin/python bench/bench_org.py                       # all five figures, ~25 min on 2 cores (see README)
  /tmp/venv/bin/python bench/bench_org.py --quick               # tiny world, ~3 min
  /tmp/venv/bin/python bench/bench_org.py --only floor,scaling  # a subset
  ... --keep (keep specs, DuckDB files, logs) --json FILE --prowler-venv DIR --prowler-accounts N
"""

from __future__ import annotations

import argparse
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(HERE))
import fake_aws  # noqa: E402
import bench_sync  # noqa: E402

FIGURES = ["floor", "scaling", "throttle", "memory", "prowler", "ray"]
PINNED_NOW = int(time.time()) // 86_400 * 86_400  # midnight today: every fake of this run uses the same clock
PAGE = os.sysconf("SC_PAGE_SIZE")
VENV_BIN = Path(sys.executable).parent


def log(msg: str) -> None:
    print(f"[bench_org {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


# ---------------------------------------------------------------------------------------------
# The fake, with a pinned clock


class Fake(bench_sync.Fake):
    """bench_sync's fake with the clock pinned, the IAM sizes, and its World in `world`."""

    def __init__(self, workdir: Path, name: str, accounts: int, regions: int, keys: int, buckets: int,
                 latency_ms: float, throttle: float, seed: int,
                 iam: tuple[int, int, int, int] = fake_aws.IAM_DEFAULT, iam_heavy_accounts: int = 0) -> None:
        self.world = fake_aws.World(accounts, regions, keys, buckets, seed, iam=iam,
                                    iam_heavy_accounts=iam_heavy_accounts)
        code = (f"import sys; sys.path.insert(0, {str(HERE)!r}); import fake_aws; "
                f"fake_aws.NOW = {PINNED_NOW}; fake_aws.main(sys.argv[1:])")
        self.args = ["--port", "0", "--accounts", str(accounts), "--regions", str(regions), "--keys", str(keys),
                     "--buckets", str(buckets), "--latency-ms", str(latency_ms), "--throttle-fraction",
                     str(throttle), "--seed", str(seed), "--iam-roles", str(iam[0]), "--iam-users", str(iam[1]),
                     "--iam-groups", str(iam[2]), "--iam-policies", str(iam[3]),
                     "--iam-heavy-accounts", str(iam_heavy_accounts)]
        t0 = time.perf_counter()
        self._start([sys.executable, "-c", code, *self.args], workdir / f"fake-{name}.log")
        self.start_s = time.perf_counter() - t0


# ---------------------------------------------------------------------------------------------
# Measured child processes


def _tree_rss(root: int, per_pid: dict[int, int] | None = None) -> tuple[int, int, int]:
    """(sum of RSS, largest single RSS, number of processes) of `root` and its descendants, in bytes;
    `per_pid` gets each process's peak."""
    children: dict[int, list[int]] = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/stat") as f:
                st = f.read()
            ppid = int(st[st.rindex(")") + 2:].split()[1])
        except (OSError, ValueError):
            continue
        children.setdefault(ppid, []).append(int(d))
    total = biggest = n = 0
    todo = [root]
    while todo:
        pid = todo.pop()
        try:
            with open(f"/proc/{pid}/statm") as f:
                rss = int(f.read().split()[1]) * PAGE
        except (OSError, ValueError, IndexError):
            continue
        total += rss
        biggest = max(biggest, rss)
        if per_pid is not None:
            per_pid[pid] = max(per_pid.get(pid, 0), rss)
        n += 1
        todo.extend(children.get(pid, []))
    return total, biggest, n


def machine_busy_s() -> float:
    """CPU seconds the whole machine has been busy (all cores), from /proc/stat."""
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:9]]
    return (sum(v) - v[3] - v[4]) / os.sysconf("SC_CLK_TCK")  # minus idle and iowait


def run_child(cmd: list[str], env: dict[str, str], cwd: Path, timeout: float, name: str,
              stop: Any = None) -> dict[str, Any]:
    """Run and measure one child; `stop()` (polled every 0.25 s) True ends it early (a windowed run)."""
    out = open(cwd / f"{name}.stdout", "w")
    err = open(cwd / f"{name}.stderr", "w")
    load0 = os.getloadavg()[0]
    busy0 = machine_busy_s()
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=out, stderr=err, env=env, cwd=str(cwd), start_new_session=True)
    done = threading.Event()
    killed = threading.Event()
    stopped = threading.Event()
    peak = {"tree": 0, "single": 0, "procs": 0}
    timeline: list[tuple[float, float]] = []
    per_pid: dict[int, int] = {}

    def watch() -> None:
        last = 0.0
        while not done.wait(0.25):
            tot, big, n = _tree_rss(proc.pid, per_pid)
            peak["tree"] = max(peak["tree"], tot)
            peak["single"] = max(peak["single"], big)
            peak["procs"] = max(peak["procs"], n)
            now = time.perf_counter() - t0
            if now - last >= 2:
                timeline.append((round(now, 1), round(tot / 2**20)))
                last = now
            if now > timeout and not killed.is_set():
                killed.set()
                try:
                    os.killpg(proc.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            if stop is not None and not stopped.is_set() and stop():
                stopped.set()
                try:
                    os.killpg(proc.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass

    th = threading.Thread(target=watch, daemon=True)
    th.start()
    _, status, ru = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    busy = machine_busy_s() - busy0
    done.set()
    th.join()
    out.close()
    err.close()
    return {"cmd": cmd, "wall": wall, "rc": os.waitstatus_to_exitcode(status), "timed_out": killed.is_set(),
            "stopped": stopped.is_set(),
            "cpu_s": ru.ru_utime + ru.ru_stime, "user_s": ru.ru_utime, "sys_s": ru.ru_stime,
            "maxrss_mb": ru.ru_maxrss / 1024, "peak_tree_rss_mb": peak["tree"] / 2**20,
            "peak_single_rss_mb": peak["single"] / 2**20, "procs": peak["procs"], "rss_timeline": timeline,
            # the root first (for `sync --processes N`: the writer), then its children (the shard workers)
            "peak_rss_by_process_mb": [round(per_pid.get(proc.pid, 0) / 2**20)]
                                      + sorted((round(v / 2**20) for k, v in per_pid.items() if k != proc.pid),
                                               reverse=True),
            "load_before": load0, "load_after": os.getloadavg()[0], "machine_busy_s": busy,
            "stdout": (cwd / f"{name}.stdout").read_text(errors="replace")[-4000:],
            "stderr": (cwd / f"{name}.stderr").read_text(errors="replace")[-4000:]}


WARMUP_S = 5.0  # a throughput window starts this long after the fake's first request (start-up, listings)


def window_rate(timeline: list[tuple[float, int]], window: float) -> float | None:
    """Requests/s the fake served between first request + WARMUP_S and + WARMUP_S + window."""
    first = next((t for t, n in timeline if n > 0), None)
    if first is None or not window:
        return None

    def at(t: float) -> float | None:
        for (t0, n0), (t1, n1) in zip(timeline, timeline[1:]):
            if t0 <= t <= t1:
                return n0 + (n1 - n0) * ((t - t0) / (t1 - t0) if t1 > t0 else 0)
        return None

    a, b = at(first + WARMUP_S), at(first + WARMUP_S + window)
    return None if a is None or b is None else (b - a) / window


def others_cores(r: dict[str, Any]) -> float:
    """Average cores used by everything else on the machine during a run (not the child, not the fake)."""
    return max(0.0, r["machine_busy_s"] - r["cpu_s"] - r.get("fake_cpu_s", 0.0)) / r["wall"]


def ops_of(stats: dict[str, Any]) -> dict[str, int]:
    return {k: v for k, v in stats["ops"].items()}


# ---------------------------------------------------------------------------------------------
# The bench


class Bench:
    def __init__(self, args: argparse.Namespace, workdir: Path) -> None:
        self.a = args
        self.dir = workdir
        self.env = bench_sync.child_env(workdir)
        self.fakes: dict[str, Fake] = {}
        self.runs: dict[str, dict[str, Any]] = {}
        self.rows: list[dict[str, Any]] = []   # the figures table
        self.notes: list[str] = []
        self.problems: list[str] = []
        fake_aws.NOW = PINNED_NOW  # expected_rows() computes with the fakes' clock

    # -- fakes and specs ------------------------------------------------------------------------
    def fake(self, name: str) -> Fake:
        f = self.fakes.get(name)
        if f is None:
            a = self.a
            if name == "1x":
                f = Fake(self.dir, name, a.accounts, a.regions, a.keys, a.buckets, a.latency_ms, 0, a.seed)
            elif name == "throttled":
                f = Fake(self.dir, name, a.accounts, a.regions, a.keys, a.buckets, a.latency_ms,
                         a.throttle_fraction, a.seed)
            elif name == "4x":
                acc, k, b = self.world4x()
                f = Fake(self.dir, name, acc, a.regions, k, b, a.latency_ms, 0, a.seed)
            else:
                raise KeyError(name)
            log(f"fake {name} on {f.url} (started in {f.start_s:.1f} s)")
            self.fakes[name] = f
        return f

    def stop_fake(self, name: str) -> None:
        f = self.fakes.pop(name, None)
        if f is not None:
            f.stop()

    def world4x(self) -> tuple[int, int, int]:
        a = self.a
        if a.mem_scale == "accounts":
            return a.accounts * 4, a.keys, a.buckets
        return a.accounts, a.keys * 4, a.buckets * 4

    def spec(self, fake: Fake, name: str, accounts: list[str] | None = None) -> tuple[Path, Path]:
        world = fake.world
        if accounts is not None:
            world = fake_aws.World(0, len(world.regions), 0, 0, world.seed)
            world.accounts = accounts
        db = self.dir / f"{name}.duckdb"
        for p in (db, Path(str(db) + ".wal")):
            if p.exists():
                p.unlink()
        path = self.dir / f"{name}.yml"
        bench_sync.write_spec(path, world, fake.url, db, self.a.concurrency)
        return path, db

    # -- one measured sync / floor --------------------------------------------------------------
    def sync(self, fake_name: str, processes: int, name: str, check_rows: bool = True,
             window: float = 0.0, extra: list[str] | None = None) -> dict[str, Any]:
        """One measured sync. With `window`, a throughput run: it is stopped once the fake has seen
        requests for WARMUP + window seconds, and only its calls/s over that window count."""
        if name in self.runs:
            return self.runs[name]
        fake = self.fake(fake_name)
        spec, db = self.spec(fake, name)
        cmd = [str(VENV_BIN / "aws-encryption"), "sync", str(spec)]
        if processes > 1:
            cmd += ["--processes", str(processes)]
        cmd += extra or []
        fake.reset()
        f0 = fake.stats()
        log(f"{name}: {' '.join(cmd[1:])}{f' (throughput window {window:g} s)' if window else ''} ...")
        timeline: list[tuple[float, int]] = []   # (seconds since start, requests the fake has served)
        done = threading.Event()
        t0 = time.perf_counter()

        def poll() -> None:
            while not done.wait(0.5):
                try:
                    timeline.append((time.perf_counter() - t0, fake.stats()["total"]))
                except OSError:
                    pass

        def stop() -> bool:
            first = next((t for t, n in timeline if n > 0), None)
            return first is not None and timeline[-1][0] >= first + WARMUP_S + window

        th = threading.Thread(target=poll, daemon=True)
        th.start()
        r = run_child(cmd, self.env, self.dir, self.a.timeout, name, stop=stop if window else None)
        done.set()
        th.join()
        r["request_timeline"] = timeline
        r["window_s"] = window
        f1 = fake.stats()
        r.update(kind="sync", processes=processes, fake=fake_name, db=str(db), spec=str(spec),
                 ops=ops_of(f1), calls=f1["total"], throttled=f1["throttled"], span_s=f1["span_s"],
                 fake_cpu_s=f1["cpu_s"] - f0["cpu_s"], fake_errors=f1["errors"])
        r["calls_per_s"] = r["calls"] / r["wall"]
        r["window_calls_per_s"] = window_rate(timeline, self.a.scaling_window)
        r["others_cores"] = others_cores(r)
        log(f"{name}: {r['wall']:.1f} s, {r['calls']} calls = {r['calls_per_s']:.0f}/s"
            f" ({r['window_calls_per_s'] or 0:.0f}/s in the window), CPU {r['cpu_s']:.1f} s, "
            f"others' CPU {r['others_cores']:.2f} cores, peak tree RSS {r['peak_tree_rss_mb']:.0f} MB, exit {r['rc']}"
            f"{' TIMED OUT' if r['timed_out'] else ''}{' (stopped after its window)' if r['stopped'] else ''}")
        if window:
            self.runs[name] = r
            return r
        if r["rc"] != 0 or r["timed_out"]:
            self.problems.append(f"{name}: sync exited {r['rc']}{' (timed out)' if r['timed_out'] else ''}: "
                                 f"{r['stderr'].strip()[-600:]}")
        elif check_rows:
            counts, errors = bench_sync.count_rows(db)
            r["rows"] = counts
            r["sync_errors"] = errors
            exp = bench_sync.expected_rows(fake.world)
            bad = [f"{t}: {counts.get(t)} rows, the world has {n}" for t, n in exp.items()
                   if t != "aws_encryption_sync_errors" and counts.get(t) != n]
            nerr = counts.get("aws_encryption_sync_errors", 0)
            if nerr:
                bad.append(f"{nerr} sync errors: {errors[:3]}")
            r["row_problems"] = bad
            for b in bad:
                self.problems.append(f"{name}: {b}")
        self.runs[name] = r
        return r

    def floor(self, fake_name: str, processes: int, name: str) -> dict[str, Any]:
        if name in self.runs:
            return self.runs[name]
        fake = self.fake(fake_name)
        spec, _ = self.spec(fake, name)
        out = self.dir / f"{name}.json"
        cmd = [sys.executable, str(HERE / "floor.py"), str(spec), "--processes", str(processes), "--split",
               self.a.floor_split, "--json", str(out)]
        fake.reset()
        f0 = fake.stats()
        log(f"{name}: floor.py --processes {processes} --split {self.a.floor_split} ...")
        r = run_child(cmd, self.env, self.dir, self.a.timeout, name)
        f1 = fake.stats()
        r.update(kind="floor", processes=processes, fake=fake_name, spec=str(spec), ops=ops_of(f1),
                 calls=f1["total"], throttled=f1["throttled"], span_s=f1["span_s"],
                 fake_cpu_s=f1["cpu_s"] - f0["cpu_s"])
        r["calls_per_s"] = r["calls"] / r["wall"]
        r["others_cores"] = others_cores(r)
        if out.exists():
            r["floor"] = json.loads(out.read_text())
        log(f"{name}: {r['wall']:.1f} s, {r['calls']} calls = {r['calls_per_s']:.0f}/s, CPU {r['cpu_s']:.1f} s, "
            f"exit {r['rc']}")
        if r["rc"] != 0 or r["timed_out"]:
            self.problems.append(f"{name}: floor exited {r['rc']}: {r['stderr'].strip()[-600:]}")
        self.runs[name] = r
        return r

    # -- the figures ----------------------------------------------------------------------------
    def fig_floor(self) -> None:
        for p in self.a.floor_processes:
            s = self.sync("1x", p, f"sync-p{p}")
            f = self.floor("1x", p, f"floor-p{p}")
            self._floor_row(s, f, p)

    def _floor_row(self, s: dict[str, Any], f: dict[str, Any], p: int) -> None:
        ratio = s["wall"] / f["wall"]
        diff = compare_ops(s["ops"], f["ops"])
        self.runs[f"ops-diff-p{p}"] = {"diff": diff}
        calls = (f"calls: sync {s['calls']:,}, floor {f['calls']:,}"
                 + ("; per-operation counts equal" if not diff else
                    "; DIFFER: " + ", ".join(f"{op} sync {a} floor {b}" for op, a, b in diff)))
        if diff and not (p > 1 and self.a.floor_split == "account"
                         and {op for op, _, _ in diff} <= {"sts.AssumeRole", "sts.GetCallerIdentity",
                                                            "s3.ListBuckets",
                                                            "organizations.DescribeOrganization",
                                                            "iam.GetAccountAuthorizationDetails",
                                                            "s3control.ListMultiRegionAccessPoints",
                                                            "s3control.GetMultiRegionAccessPointPolicy"}):
            self.problems.append(f"floor vs sync at {p} process(es): per-operation call counts differ: {diff}")
        self.rows.append({
            "figure": f"1. floor, {p} process{'es' if p > 1 else ''}",
            "measured": f"sync {s['wall']:.1f} s vs floor {f['wall']:.1f} s = {ratio:.2f}x "
                        f"(CPU/call: sync {s['cpu_s'] / s['calls'] * 1000:.2f} ms, floor "
                        f"{f['cpu_s'] / f['calls'] * 1000:.2f} ms; {busy(s, f)}); {calls}",
            "target": "sync <= 1.3x floor", "ok": ratio <= 1.3,
            "cmd": f"{self.cli()} --only floor --floor-processes {p}  |  aws-encryption sync SPEC"
                   f"{f' --processes {p}' if p > 1 else ''}  vs  python bench/floor.py SPEC --processes {p}",
        })

    def fig_scaling(self) -> None:
        w = self.a.scaling_window
        # Three throughput windows back to back (or whole runs with --scaling-window 0): this machine's
        # speed drifts by +-20 % over minutes, so the rates that are compared are measured minutes
        # apart at most, each over the same part of its run.
        r = {p: self.sync("1x", p, f"sync-p{p}-window" if w else f"sync-p{p}", window=w) for p in (1, 2, 4)}
        key = "window_calls_per_s" if w else "calls_per_s"
        # a run that ended before its window did (a small world) counts with its whole-run rate
        rate = {p: r[p].get(key) or r[p]["calls_per_s"] for p in r}
        base = rate[1] or float("nan")
        x2, x4 = rate[2] / base, rate[4] / base
        fl = self.runs.get("floor-p2")
        extra = f"; floor 2 processes {fl['calls_per_s']:.0f}/s over its whole run" if fl else ""
        whole = self.runs.get("sync-p2")
        how = (f"calls/s the fake served from {WARMUP_S:g} s after the first request, over {w:g} s of each run, "
               f"the three runs back to back"
               + (f"; the whole 2-process sync: {whole['calls_per_s']:.0f}/s" if whole else "")
               if w else "calls/s over whole syncs")
        self.rows.append({
            "figure": "2. scaling (calls/s)",
            "measured": f"1 proc {rate[1]:.0f}/s, 2 procs {rate[2]:.0f}/s = {x2:.2f}x, 4 procs {rate[4]:.0f}/s "
                        f"= {x4:.2f}x ({how}{extra}; {busy(r[1], r[2], r[4])})",
            "target": "2 procs >= 1.6x 1 proc", "ok": x2 >= 1.6,
            "cmd": f"{self.cli()} --only scaling  |  aws-encryption sync SPEC --processes 1|2|4",
        })

    def fig_ray(self) -> None:
        try:
            import ray
            from ray.cluster_utils import Cluster
        except ImportError:
            self.rows.append({"figure": "6. Ray", "measured": "Ray is not installed (pip install -e '.[ray]')",
                              "target": "-", "ok": None, "cmd": f"{self.cli()} --only ray"})
            return
        store = 200 * 2**20
        saved = dict(os.environ)
        os.environ.update({k: v for k, v in self.env.items() if k.startswith("AWS_")})  # the workers' credentials
        try:
            cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": 0, "object_store_memory": store,
                                                                      "include_dashboard": False})
            cluster.add_node(num_cpus=1, object_store_memory=store)
            cluster.wait_for_nodes()
        finally:
            os.environ.clear()
            os.environ.update(saved)
        try:
            one = self.sync("1x", 1, "ray-1-node", extra=["--ray", cluster.address])
            with_env = dict(os.environ)
            os.environ.update({k: v for k, v in self.env.items() if k.startswith("AWS_")})
            try:
                cluster.add_node(num_cpus=1, object_store_memory=store)
                cluster.wait_for_nodes()
            finally:
                os.environ.clear()
                os.environ.update(with_env)
            two = self.sync("1x", 1, "ray-2-nodes", extra=["--ray", cluster.address])
        finally:
            ray.shutdown()
            cluster.shutdown()
        procs = self.sync("1x", 2, "sync-p2")
        speedup, overhead = one["wall"] / two["wall"], two["wall"] / procs["wall"]
        diff = compare_dbs(Path(two["db"]), Path(procs["db"]))
        if diff:
            self.problems.append(f"ray 2 nodes vs --processes 2: rows differ: {diff}")
        # One node of one CPU runs one task, shard 1/1: the unsharded sync. Two nodes run two shards.
        diff1 = compare_dbs(Path(one["db"]), Path(two["db"]))
        if diff1:
            self.problems.append(f"ray 1 node (unsharded) vs 2 nodes (2 shards): rows differ: {diff1}")
        self.rows.append({
            "figure": "6. Ray, two nodes vs one",
            "measured": f"1 node {one['wall']:.1f} s, 2 nodes {two['wall']:.1f} s = {speedup:.2f}x; rows "
                        f"{'equal' if not diff1 else 'DIFFER'} ({busy(one, two)})",
            "target": "2 nodes >= 1.6x 1 node", "ok": speedup >= 1.6 and not diff1,
            "cmd": f"{self.cli()} --only ray  |  aws-encryption sync SPEC --ray ADDRESS (1, then 2 nodes of 1 CPU)",
        })
        self.rows.append({
            "figure": "6. Ray overhead",
            "measured": f"Ray 2 nodes {two['wall']:.1f} s vs --processes 2 {procs['wall']:.1f} s = {overhead:.2f}x; "
                        f"rows {'equal' if not diff else 'DIFFER'} ({busy(two, procs)})",
            "target": "Ray 2 nodes <= 1.2x --processes 2", "ok": overhead <= 1.2 and not diff,
            "cmd": f"{self.cli()} --only ray  |  aws-encryption sync SPEC --ray ADDRESS  vs  --processes 2",
        })

    def fig_throttle(self) -> None:
        p = self.a.throttle_processes
        base = self.sync("1x", p, f"sync-p{p}")
        t = self.sync("throttled", p, f"sync-throttled-p{p}")
        ratio = t["wall"] / base["wall"]
        same: str
        ok_rows = False
        if t["rc"] == 0 and base["rc"] == 0 and not t["timed_out"]:
            diffs = compare_dbs(Path(base["db"]), Path(t["db"]))
            t["row_diffs"] = diffs
            ok_rows = not diffs
            same = ("rows identical in every table (all columns but _cq_sync_time)" if ok_rows else
                    "rows DIFFER: " + "; ".join(f"{k}: {v}" for k, v in list(diffs.items())[:6]))
        else:
            same = "sync did not complete"
        self.rows.append({
            "figure": f"3. throttling 10 %, {p} process{'es' if p > 1 else ''}",
            "measured": f"{t['wall']:.1f} s vs {base['wall']:.1f} s unthrottled = {ratio:.2f}x; "
                        f"{t.get('throttled', 0):,} of {t['calls']:,} calls throttled; {same} ({busy(base, t)})",
            "target": "completes, identical rows, <= 1.5x", "ok": ok_rows and ratio <= 1.5,
            "cmd": f"{self.cli()} --only throttle  |  fake_aws.py --throttle-fraction {self.a.throttle_fraction} "
                   f"+ aws-encryption sync SPEC --processes {p}",
        })

    def fig_memory(self) -> None:
        p = self.a.mem_processes
        r1 = self.sync("1x", p, f"sync-p{p}")
        self.stop_fake("throttled")
        acc, k, b = self.world4x()
        overlap = "prowler" in self.a.only and self.a.overlap_prowler
        if overlap:
            # The 4x run only measures memory, so Prowler and our side of figure 5 can run meanwhile,
            # both under the same load (conservative for us: the load costs our CPU-bound sync more).
            self.fake("4x")
            th = threading.Thread(target=self.sync, args=("4x", p, f"sync-4x-p{p}"), daemon=True)
            th.start()
            time.sleep(2)
            self.fig_prowler(loaded=True)
            th.join()
        r4 = self.sync("4x", p, f"sync-4x-p{p}")
        self.stop_fake("4x")
        ratio = r4["peak_tree_rss_mb"] / r1["peak_tree_rss_mb"]
        self.rows.append({
            "figure": "4. memory (peak RSS)",
            "measured": f"1x {r1['peak_tree_rss_mb']:.0f} MB -> 4x {r4['peak_tree_rss_mb']:.0f} MB = {ratio:.2f}x "
                        f"(process tree, {p} process{'es' if p > 1 else ''}; largest single process "
                        f"{r1['peak_single_rss_mb']:.0f} -> {r4['peak_single_rss_mb']:.0f} MB; per process, parent "
                        f"first: {r1.get('peak_rss_by_process_mb')} -> {r4.get('peak_rss_by_process_mb')} MB); "
                        f"4x = {acc} accounts x "
                        f"{self.a.regions} regions x {k} keys + {b} buckets/account, {r4['wall']:.0f} s"
                        f"{' (figure 5 ran meanwhile)' if overlap else ''} ({busy(r1, r4)})",
            "target": "4x world < 2x peak", "ok": ratio < 2,
            "cmd": f"{self.cli()} --only memory  |  aws-encryption sync SPEC --processes {p} on both worlds",
        })

    def fig_prowler(self, loaded: bool = False) -> None:
        if any(r["figure"].startswith("5.") for r in self.rows):
            return  # already measured alongside the memory figure
        venv = find_prowler_venv(self.a.prowler_venv)
        if venv is None:
            venv = install_prowler(Path("/tmp/prowler-venv"), self.a.prowler_install_timeout)
        fake = self.fake("1x")
        accts = fake.world.accounts[:self.a.prowler_accounts]
        if venv is None:
            self.rows.append({"figure": "5. Prowler", "measured": "not measured: no Prowler venv and the install "
                                                                 "failed (see prowler-install.log)",
                              "target": "ours >= 10x faster", "ok": None, "cmd": f"{self.cli()} --only prowler"})
            return
        # ours on the same accounts: sync + check, with each --prowler-ours-processes count
        ours_runs = []
        for p in self.a.prowler_ours_processes:
            fake.reset()
            spec, db = self.spec(fake, f"ours-prowler-p{p}", accts)
            log(f"ours on {len(accts)} account(s), {p} process(es): sync + check ...")
            cmd = [str(VENV_BIN / "aws-encryption"), "sync", str(spec)] + (["--processes", str(p)] if p > 1 else [])
            s = run_child(cmd, self.env, self.dir, self.a.timeout, f"ours-prowler-sync-p{p}")
            n = fake.stats()["total"]
            c = run_child([str(VENV_BIN / "aws-encryption"), "check", str(db), "--format", "json", "--output",
                           str(self.dir / f"ours-check-p{p}.json")], self.env, self.dir, self.a.timeout,
                          f"ours-prowler-check-p{p}")
            log(f"ours ({p} process(es)): sync {s['wall']:.1f} s ({n} calls) + check {c['wall']:.1f} s "
                f"(exit {s['rc']}/{c['rc']})")
            ours_runs.append({"processes": p, "sync": s, "check": c, "calls": n, "wall": s["wall"] + c["wall"],
                              "ok": s["rc"] == 0 and c["rc"] in (0, 1)})
        first = ours_runs[0]
        s, c, ours_calls, ours, ok_ours = first["sync"], first["check"], first["calls"], first["wall"], first["ok"]
        runs = []
        for acct in accts:
            runs.append(run_prowler(venv, fake, acct, self.dir, self.env, self.a.prowler_timeout))
        pw = sum(r["wall"] for r in runs)
        completed = all(r["completed"] for r in runs)
        unsupported: Counter = Counter()
        errors: Counter = Counter()
        for r in runs:
            unsupported.update(r["unsupported"])
            errors.update(r["errors"])
        self.runs["prowler"] = {"runs": runs, "ours": ours_runs, "venv": str(venv)}
        calls = sum(r["calls"] for r in runs)
        unsup = ", ".join(f"{k} ({v})" for k, v in sorted(unsupported.items())) or "none"
        speed = pw / ours if ours else 0.0
        measured = (f"Prowler {pw:.1f} s ({'completed' if completed else 'DID NOT COMPLETE'}, {calls:,} calls, "
                    f"{sum(r['findings'] for r in runs)} findings) vs ours {ours:.1f} s (sync {s['wall']:.1f} s, "
                    f"{ours_calls:,} calls + check {c['wall']:.1f} s, {first['processes']} process"
                    f"{'es' if first['processes'] > 1 else ''}) on {len(accts)} account(s) = {speed:.1f}x"
                    + "".join(f"; with --processes {o['processes']}: ours {o['wall']:.1f} s = {pw / o['wall']:.1f}x"
                              for o in ours_runs[1:] if o["ok"])
                    + "; "
                    f"calls Prowler made that the fake does not serve (answered with an error, so Prowler's time is a "
                    f"lower bound): {unsup}")
        if loaded:
            measured += ("; measured while the 4x memory sync ran (both sides under the same load, which slows our "
                         "CPU-bound sync more than Prowler's mostly latency-bound calls)")
        full = next((self.runs[n] for n in ("sync-p1", "sync-p2") if n in self.runs), None)
        if full and full.get("rc") == 0 and len(accts) < len(fake.world.accounts):
            n = len(fake.world.accounts)
            est = pw / len(accts) * n
            fc = run_child([str(VENV_BIN / "aws-encryption"), "check", full["db"], "--format", "json", "--output",
                            str(self.dir / "whole-check.json")], self.env, self.dir, self.a.timeout, "whole-check")
            whole = full["wall"] + fc["wall"]
            self.runs["prowler"]["whole_world_check"] = fc
            measured += (f". Whole world ({n} accounts; Prowler scans one account per run, so {n} sequential runs, "
                         f"EXTRAPOLATED from the measured one(s)): Prowler ~{est:.0f} s vs ours {whole:.0f} s "
                         f"(sync --processes {full['processes']} {full['wall']:.1f} s + check {fc['wall']:.1f} s, measured) = "
                         f"{est / whole:.1f}x")
        self.rows.append({
            "figure": f"5. Prowler, {len(accts)} account(s)",
            "measured": measured if (completed and ok_ours) else "not measured (see the details): " + measured,
            "target": "ours >= 10x faster", "ok": (speed >= 10) if (completed and ok_ours) else None,
            "cmd": f"{self.cli()} --only prowler  |  prowler aws --services kms s3 --region ... with "
                   f"AWS_ENDPOINT_URL=<fake>  vs  aws-encryption sync SPEC && aws-encryption check DB",
        })

    def cli(self) -> str:
        q = " --quick" if self.a.quick else ""
        return f"python bench/bench_org.py{q}"


def busy(*runs: dict[str, Any]) -> str:
    """How much of the 2 cores other processes took during these runs (the figures are only as clean as this)."""
    return "others' CPU during the runs: " + " / ".join(f"{r.get('others_cores', 0):.2f}" for r in runs) + " cores"


def compare_ops(a: dict[str, int], b: dict[str, int]) -> list[tuple[str, int, int]]:
    return [(op, a.get(op, 0), b.get(op, 0)) for op in sorted(set(a) | set(b)) if a.get(op, 0) != b.get(op, 0)]


def compare_dbs(a: Path, b: Path) -> dict[str, str]:
    """Per table, rows in one file and not in the other (EXCEPT ALL, every column but _cq_sync_time)."""
    import duckdb

    con = duckdb.connect()
    try:
        con.execute(f"ATTACH '{a}' AS a (READ_ONLY)")
        con.execute(f"ATTACH '{b}' AS b (READ_ONLY)")
        ta = {r[0] for r in con.execute("SELECT table_name FROM duckdb_tables() WHERE database_name = 'a'").fetchall()}
        tb = {r[0] for r in con.execute("SELECT table_name FROM duckdb_tables() WHERE database_name = 'b'").fetchall()}
        out: dict[str, str] = {}
        for t in sorted(ta ^ tb):
            out[t] = "table only in " + ("unthrottled" if t in ta else "throttled")
        for t in sorted(ta & tb):
            cols = [r[0] for r in con.execute(
                "SELECT column_name FROM duckdb_columns() WHERE database_name = 'a' AND table_name = ? "
                "ORDER BY column_index", [t]).fetchall() if r[0] != "_cq_sync_time"]
            sel = ", ".join(f'"{c}"' for c in cols)
            only_a = con.execute(f'SELECT count(*) FROM (SELECT {sel} FROM a."{t}" EXCEPT ALL '
                                 f'SELECT {sel} FROM b."{t}")').fetchone()[0]
            only_b = con.execute(f'SELECT count(*) FROM (SELECT {sel} FROM b."{t}" EXCEPT ALL '
                                 f'SELECT {sel} FROM a."{t}")').fetchone()[0]
            if only_a or only_b:
                out[t] = f"{only_a} rows only unthrottled, {only_b} only throttled"
        return out
    finally:
        con.close()


# ---------------------------------------------------------------------------------------------
# Prowler


def find_prowler_venv(given: str | None) -> Path | None:
    cands: list[Path] = []
    if given:
        cands.append(Path(given))
    readme = HERE / "prowler" / "README.md"
    if readme.exists():
        cands += [Path(m) for m in re.findall(r"(/[\w./~-]*prowler[\w.-]*venv)", readme.read_text())]
    cands += [Path("/tmp/prowler-venv"), Path.home() / ".cache" / "aws-encryption-bench" / "prowler-venv"]
    for c in cands:
        c = c.expanduser()
        if (c / "bin" / "prowler").exists():
            return c
    return None


def install_prowler(venv: Path, timeout: float) -> Path | None:
    log(f"no Prowler venv found: python3 -m venv {venv} && pip install prowler (bounded by {timeout:.0f} s)")
    logf = open(venv.parent / f"{venv.name}-install.log", "a")
    try:
        subprocess.run(["python3", "-m", "venv", str(venv)], check=True, stdout=logf, stderr=logf, timeout=120)
        subprocess.run([str(venv / "bin" / "pip"), "install", "prowler"], check=True, stdout=logf, stderr=logf,
                       timeout=timeout)
    except (subprocess.SubprocessError, OSError) as e:
        log(f"Prowler install failed: {e}")
        return None
    finally:
        logf.close()
    return venv if (venv / "bin" / "prowler").exists() else None


_PROWLER_ERR = re.compile(r"An error occurred \(([^)]+)\) when calling the (\w+) operation")
_PROWLER_CONN = re.compile(r'EndpointConnectionError\[\d+\]: Could not connect to the endpoint URL: "?(http[^"\s]+)')
_PROWLER_PARSE = re.compile(r'"filename": "([\w.]+):\d+", "level": "ERROR", "module": "\w+", '
                            r'"message": "ResponseParserError')


def run_prowler(venv: Path, fake: Fake, acct: str, workdir: Path, base_env: dict[str, str],
                timeout: float) -> dict[str, Any]:
    import boto3

    sts = boto3.client("sts", endpoint_url=fake.url, region_name="us-east-1",
                       aws_access_key_id=bench_sync.BASE_AKID, aws_secret_access_key="bench-dummy-secret")
    creds = sts.assume_role(RoleArn=f"arn:aws:iam::{acct}:role/audit", RoleSessionName="prowler")["Credentials"]
    home = workdir / f"prowler-home-{acct}"
    home.mkdir(exist_ok=True)
    (home / "aws-config").write_text("[default]\nregion = us-east-1\ns3 =\n    addressing_style = path\n")
    (home / "aws-credentials").write_text("")
    env = {"PATH": f"{venv / 'bin'}:/usr/bin:/bin", "HOME": str(home), "LANG": "C.UTF-8",
           "AWS_ENDPOINT_URL": fake.url, "AWS_ACCESS_KEY_ID": creds["AccessKeyId"],
           "AWS_SECRET_ACCESS_KEY": creds["SecretAccessKey"], "AWS_SESSION_TOKEN": creds["SessionToken"],
           "AWS_DEFAULT_REGION": "us-east-1", "AWS_CONFIG_FILE": str(home / "aws-config"),
           "AWS_SHARED_CREDENTIALS_FILE": str(home / "aws-credentials"), "AWS_EC2_METADATA_DISABLED": "true",
           "NO_PROXY": "127.0.0.1,localhost", "no_proxy": "127.0.0.1,localhost"}
    outdir = workdir / "prowler-out"
    outdir.mkdir(exist_ok=True)
    name = f"prowler-{acct}"
    logf = workdir / f"{name}.log"
    cmd = [str(venv / "bin" / "prowler"), "aws", "--services", "kms", "s3", "--region", *fake.world.regions,
           "--output-formats", "json-ocsf", "--output-directory", str(outdir), "--output-filename", name,
           "--no-banner", "--no-color", "--ignore-exit-code-3", "--skip-sh-update", "--log-level", "INFO",
           "--log-file", str(logf)]
    fake.reset()
    log(f"prowler on {acct}: {' '.join(cmd[1:6])} ... (timeout {timeout:.0f} s)")
    started = time.time()
    r = run_child(cmd, env, workdir, timeout, name)
    st = fake.stats()
    out = outdir / f"{name}.ocsf.json"
    findings = 0
    if out.exists():
        try:
            findings = len(json.loads(out.read_text() or "[]"))
        except ValueError:
            pass
    text = logf.read_text(errors="replace") if logf.exists() else ""
    errors: Counter = Counter()
    for code, op in _PROWLER_ERR.findall(text + r["stdout"] + r["stderr"]):
        errors[f"{op}:{code}"] += 1
    for url in _PROWLER_CONN.findall(text):  # s3control: botocore prefixes the host with the account id
        errors[f"s3control {url.split('/v20180820', 1)[-1]}:EndpointConnectionError (host {url.split('/')[2]})"] += 1
    for m in _PROWLER_PARSE.findall(text):
        errors[f"{m}:ResponseParserError (JSON error body where XML was expected)"] += 1
    # what the fake could not answer: unknown services/operations, and S3 subresources it doesn't implement
    fake_unserved: Counter = Counter()  # as the fake counts them (it can't name an unknown S3 subresource)
    for k, v in st["ops"].items():
        if k.endswith(".unknown") or k.endswith(".Unsupported"):
            fake_unserved[k] += v
    unsupported: Counter = Counter()     # as Prowler names them
    for e, n in errors.items():
        op, code = e.split(":", 1)
        if code.startswith(("NotImplemented", "UnknownOperationException", "UnknownServiceException", "InvalidAction",
                            "EndpointConnectionError", "ResponseParserError")):
            unsupported[f"{op} ({code.split(' (')[0]})"] += n
    # Prowler's own log: process start -> first line (imports, check and compliance loading), -> the end
    # of the scan ("Extracting audit statistics"), as bench/prowler/compare.py does
    stamps = [(time.mktime(time.strptime(ts[:19], "%Y-%m-%d %H:%M:%S")) + int(ts[20:23]) / 1000, msg)
              for ts, msg in re.findall(r'^\{"timestamp": "([^"]+)".*?"message": "(.{0,40})', text, re.M)]
    startup = scan = None
    if stamps:
        startup = stamps[0][0] - started
        end = next((t for t, m in stamps if m.startswith("Extracting audit statistics")), None)
        scan = end - stamps[0][0] if end else None
    completed = r["rc"] in (0, 3) and not r["timed_out"] and out.exists()
    log(f"prowler on {acct}: {r['wall']:.1f} s, exit {r['rc']}, {st['total']} calls, {findings} findings, "
        f"{sum(errors.values())} logged AWS errors")
    return {"account": acct, "wall": r["wall"], "rc": r["rc"], "timed_out": r["timed_out"], "completed": completed,
            "findings": findings, "calls": st["total"], "startup_s": startup, "scan_s": scan, "ops": st["ops"],
            "fake_errors": st["errors"],
            "errors": dict(errors), "unsupported": dict(unsupported), "fake_unserved": dict(fake_unserved),
            "cpu_s": r["cpu_s"],
            "peak_rss_mb": r["peak_tree_rss_mb"], "stderr": r["stderr"][-1500:]}


# ---------------------------------------------------------------------------------------------
# Report


def print_report(b: Bench, total_s: float) -> None:
    a = b.a
    print("\n" + "=" * 120)
    print(f"aws-encryption organisation benchmark: {a.accounts} accounts x {a.regions} regions x {a.keys} keys/region, "
          f"{a.buckets} buckets/account, {a.latency_ms:g} ms latency, concurrency {a.concurrency}; "
          f"total run {total_s:.0f} s; load average now {os.getloadavg()[0]:.1f}")
    print("=" * 120)
    b.rows.sort(key=lambda r: r["figure"])  # figure 5 may have been measured during figure 4
    w = max((len(r["figure"]) for r in b.rows), default=10)
    print(f"{'figure':<{w}}  {'result':<6}  {'target':<36}  measured")
    for r in b.rows:
        res = "n/a" if r["ok"] is None else ("PASS" if r["ok"] else "FAIL")
        print(f"{r['figure']:<{w}}  {res:<6}  {r['target']:<36}  {r['measured']}")
    print("\nreproduce:")
    for r in b.rows:
        print(f"  {r['figure']:<{w}}  {r['cmd']}")
    print("\nruns (wall; span = first to last AWS request, as the fake saw them; calls served by the fake; calls/s; "
          "CPU user+sys of the process tree; CPU per call; peak RSS of the process tree / largest process; "
          "others = average cores used by other processes on the machine during the run, from /proc/stat):")
    for name, r in b.runs.items():
        if "wall" not in r or "calls" not in r:
            continue
        print(f"  {name:<22} {r['wall']:7.1f} s  span {r.get('span_s', 0):6.1f} s  {r['calls']:>7,} calls  "
              f"{r['calls_per_s']:6.0f}/s  CPU {r['cpu_s']:6.1f} s "
              f"= {r['cpu_s'] / max(r['calls'], 1) * 1000:.2f} ms/call  RSS {r['peak_tree_rss_mb']:5.0f} / "
              f"{r['peak_single_rss_mb']:4.0f} MB  others {r.get('others_cores', 0):.2f} cores  fake CPU {r['fake_cpu_s']:.1f} s"
              f"{'  throttled ' + format(r['throttled'], ',') if r.get('throttled') else ''}"
              + (f"  peak RSS per process (parent first) {r['peak_rss_by_process_mb']} MB"
                 if len(r.get("peak_rss_by_process_mb") or []) > 1 else ""))
    for p in (1, 2):
        d = b.runs.get(f"ops-diff-p{p}")
        s, f = b.runs.get(f"sync-p{p}"), b.runs.get(f"floor-p{p}")
        if s and f:
            print(f"\nper-operation calls, sync vs floor, {p} process(es) (counted by the fake):")
            for op in sorted(set(s["ops"]) | set(f["ops"])):
                x, y = s["ops"].get(op, 0), f["ops"].get(op, 0)
                print(f"  {op:<32} {x:>7,} {y:>7,}{'   <-- differs' if x != y else ''}")
            if d and d["diff"] and p > 1 and a.floor_split == "account":
                print("  (--split account: the floor opens each account and lists its buckets in one process; "
                      "`sync --processes N` does it in every shard, see plugin/source/sharding.py)")
    pr = b.runs.get("prowler")
    if pr:
        print("\nProwler runs:")
        for r in pr["runs"]:
            print(f"  account {r['account']}: {r['wall']:.1f} s, exit {r['rc']}{' TIMED OUT' if r['timed_out'] else ''}, "
                  f"{r['calls']:,} calls, {r['findings']} findings, CPU {r['cpu_s']:.1f} s, peak RSS {r['peak_rss_mb']:.0f} MB"
                  + (f"; start-up (to its first log line) {r['startup_s']:.1f} s" if r.get("startup_s") is not None else "")
                  + (f", scan {r['scan_s']:.1f} s" if r.get("scan_s") is not None else ""))
            top = sorted(r["ops"].items(), key=lambda kv: -kv[1])[:14]
            print("    calls: " + ", ".join(f"{k} {v}" for k, v in top))
            if r["fake_unserved"]:
                print("    requests the fake could not serve (fake's count): "
                      + ", ".join(f"{k} x{v}" for k, v in sorted(r["fake_unserved"].items())))
            if r["errors"]:
                print("    errors Prowler logged: " + ", ".join(f"{k} x{v}" for k, v in sorted(r["errors"].items())[:30]))
    if b.notes:
        print("\nnotes:")
        for n in b.notes:
            print(f"  - {n}")
    if b.problems:
        print("\nPROBLEMS:")
        for p in b.problems:
            print(f"  - {p}")
    print("=" * 120)


def main() -> int:
    ap = argparse.ArgumentParser(description="The benchmark issue's five figures against bench/fake_aws.py.")
    ap.add_argument("--accounts", type=int, default=20)
    ap.add_argument("--regions", type=int, default=3)
    ap.add_argument("--keys", type=int, default=100, help="KMS keys per account and region")
    ap.add_argument("--buckets", type=int, default=200, help="S3 buckets per account")
    ap.add_argument("--latency-ms", type=float, default=30.0)
    ap.add_argument("--concurrency", type=int, default=32)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--throttle-fraction", type=float, default=0.10)
    ap.add_argument("--throttle-processes", type=int, default=2,
                    help="process count of the throttled sync and of its unthrottled reference (default 2: shorter)")
    ap.add_argument("--mem-processes", type=int, default=2, help="process count of both memory runs")
    ap.add_argument("--mem-scale", choices=["keys", "accounts"], default="keys",
                    help="4x world: 4x keys per region and 4x buckets per account (default), or 4x accounts")
    ap.add_argument("--floor-processes", default="2",
                    help="process counts of the floor comparison (default 2, the count the other figures use; '1,2' both)")
    ap.add_argument("--scaling-window", type=float, default=25.0,
                    help=f"scaling: calls/s over this many seconds of each run, from {WARMUP_S:g} s after its first "
                         "request; the 1- and 4-process runs stop after it (0: whole runs, ~4 min more)")
    ap.add_argument("--overlap-prowler", action="store_true",
                    help="run figure 5 alongside the 4x memory run (~2 min less). Not the default: the load slowed "
                         "our CPU-bound side more than Prowler (measured 9.4x loaded against 10.6x alone)")
    ap.add_argument("--floor-split", choices=["account", "shard"], default="account",
                    help="how floor.py splits work over processes (see bench/floor.py)")
    ap.add_argument("--prowler-venv", help="a venv with Prowler (default: bench/prowler/README.md's, /tmp/prowler-venv, "
                                           "~/.cache/aws-encryption-bench/prowler-venv; installed if none)")
    ap.add_argument("--prowler-accounts", type=int, default=1, help="accounts Prowler scans (one run each)")
    ap.add_argument("--prowler-timeout", type=float, default=300)
    ap.add_argument("--prowler-ours-processes", default="2,1",
                    help="process counts of our sync + check on Prowler's account(s); the first decides PASS/FAIL")
    ap.add_argument("--prowler-install-timeout", type=float, default=900)
    ap.add_argument("--only", default=",".join(FIGURES), help=f"comma-separated subset of {','.join(FIGURES)}")
    ap.add_argument("--timeout", type=float, default=900, help="kill any one sync or floor run after this many seconds")
    ap.add_argument("--quick", action="store_true", help="tiny world: 2 accounts x 2 regions x 20 keys, 30 buckets")
    ap.add_argument("--keep", action="store_true", help="keep the work directory")
    ap.add_argument("--json", help="write every figure and run to this file")
    args = ap.parse_args()
    if args.quick:
        args.accounts, args.regions, args.keys, args.buckets = 2, 2, 20, 30
    args.only = [x.strip() for x in args.only.split(",") if x.strip()]
    args.prowler_ours_processes = [int(x) for x in args.prowler_ours_processes.split(",") if x.strip()] or [1]
    args.floor_processes = [int(x) for x in args.floor_processes.split(",") if x.strip()] or [2]
    bad = [x for x in args.only if x not in FIGURES]
    if bad:
        ap.error(f"--only: unknown {bad}; choose from {FIGURES}")

    workdir = Path(tempfile.mkdtemp(prefix="aws-enc-org-"))
    b = Bench(args, workdir)
    t0 = time.perf_counter()
    log(f"work directory {workdir}; figures {args.only}")
    try:
        for fig in FIGURES:  # fixed order: the runs are shared between figures
            if fig in args.only:
                getattr(b, f"fig_{fig}")()
                if fig in ("throttle",):
                    b.stop_fake("throttled")
    except KeyboardInterrupt:
        b.problems.append("interrupted")
    finally:
        for name in list(b.fakes):
            b.stop_fake(name)
        total = time.perf_counter() - t0
        print_report(b, total)
        bench_sync.finish(args, {"args": vars(args), "figures": b.rows, "runs": b.runs, "problems": b.problems,
                                 "total_s": total}, workdir)
    failed = [r for r in b.rows if r["ok"] is False]
    return 1 if (failed or b.problems) else 0


if __name__ == "__main__":
    sys.exit(main())
