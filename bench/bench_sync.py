#!/usr/bin/env python3
"""End-to-end benchmark of `aws-encryption sync` against bench/fake_aws.py, plus the DuckDB writer alone.

1. Starts fake_aws.py (loopback, port 0) with a world of N accounts x R regions x K keys per region
   and B buckets per account, writes a CloudQuery spec (one role per account, the fake as
   custom endpoint, path-style S3) and runs the `aws-encryption sync SPEC` console script as a child
   process, with dummy base credentials. It measures the child's wall time and peak RSS
   (os.wait4 rusage of that child only), asks the fake how many calls it served, counts the rows
   per table in the DuckDB file (read-only) and compares them with what the world should give.
2. Writer alone: ~100k plugin-shaped rows of aws_kms_keys / aws_kms_key_grants / aws_s3_buckets
   (built with the plugin's own row functions, plugin.tables.schema.rows_to_batch and add_cq_columns),
   ingested by DuckDBWriter into a fresh file (migrate + write + commit), per batch size.

Prints one table of figures. Targets: writer >= 100,000 rows/s; peak RSS of the sync < 500 MB;
0 sync errors without throttling.

Usage:
  /tmp/venv/bin/python bench/bench_sync.py                 # default world, ~2 min
  /tmp/venv/bin/python bench/bench_sync.py --quick         # tiny world, ~15 s
  /tmp/venv/bin/python bench/bench_sync.py --throttle-fraction 0.05
  /tmp/venv/bin/python bench/bench_sync.py --skip-writer | --skip-sync
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections import Counter
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import fake_aws  # noqa: E402

BASE_AKID = "AKIABENCHSCANNER0001"  # dummy base credentials: the fake's "scanner" account


# ---------------------------------------------------------------------------------------------
# The fake


class Fake:
    def __init__(self, args: argparse.Namespace, workdir: Path) -> None:
        self._start([sys.executable, str(HERE / "fake_aws.py"), "--port", "0", "--accounts", str(args.accounts),
                     "--regions", str(args.regions), "--keys", str(args.keys), "--buckets", str(args.buckets),
                     "--latency-ms", str(args.latency_ms), "--throttle-fraction", str(args.throttle_fraction),
                     "--seed", str(args.seed)], workdir / "fake_aws.log")

    def _start(self, cmd: list[str], log: Path) -> None:
        """Runs fake_aws.py (`cmd`; its stderr to `log`) and waits for its `PORT <n>` line."""
        self.log = open(log, "w")
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=self.log, text=True)
        line = self.proc.stdout.readline()  # type: ignore[union-attr]
        if not line.startswith("PORT "):
            self.proc.kill()
            raise SystemExit(f"fake_aws.py did not start (see {log}): {line!r}")
        self.port = int(line.split()[1])
        self.url = f"http://127.0.0.1:{self.port}"

    def stats(self) -> dict[str, Any]:
        with urllib.request.urlopen(self.url + "/__stats", timeout=30) as r:
            return json.loads(r.read())

    def reset(self) -> None:
        urllib.request.urlopen(urllib.request.Request(self.url + "/__reset", method="POST"), timeout=30).read()

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()


# ---------------------------------------------------------------------------------------------
# The sync


def write_spec(path: Path, world: fake_aws.World, url: str, db: Path, concurrency: int) -> None:
    import yaml

    source = {
        "kind": "source",
        "spec": {
            "name": "aws-encryption", "path": "aws-encryption", "registry": "local", "version": "v0.1.0",
            "tables": ["*"], "destinations": ["duckdb"],
            "spec": {
                "accounts": [{"id": a, "role_arn": f"arn:aws:iam::{a}:role/audit"} for a in world.accounts],
                "regions": list(world.regions),
                "concurrency": concurrency,
                "custom_endpoint_url": url,
                "custom_endpoint_hostname_immutable": True,
                "custom_endpoint_partition_id": "aws",
                "custom_endpoint_signing_region": "us-east-1",
            },
        },
    }
    dest = {"kind": "destination",
            "spec": {"name": "duckdb", "path": "aws-encryption-duckdb", "registry": "local", "version": "v0.1.0",
                     "write_mode": "overwrite-delete-stale", "spec": {"connection_string": str(db)}}}
    path.write_text(yaml.safe_dump_all([source, dest], sort_keys=False))


def child_env(workdir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(AWS_ACCESS_KEY_ID=BASE_AKID, AWS_SECRET_ACCESS_KEY="bench-dummy-secret",
               AWS_DEFAULT_REGION="us-east-1", AWS_CONFIG_FILE=str(workdir / "no-aws-config"),
               AWS_SHARED_CREDENTIALS_FILE=str(workdir / "no-aws-credentials"), AWS_EC2_METADATA_DISABLED="true",
               NO_PROXY="127.0.0.1,localhost", no_proxy="127.0.0.1,localhost")
    for k in ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy", "ALL_PROXY", "all_proxy"):
        env.pop(k, None)
    return env


def run_sync(spec: Path, workdir: Path, timeout: float) -> dict[str, Any]:
    exe = Path(sys.executable).parent / "aws-encryption"
    if not exe.exists():
        raise SystemExit(f"{exe} not found: install the project in this virtualenv (pip install -e .)")
    out = open(workdir / "sync.stdout", "w")
    err = open(workdir / "sync.stderr", "w")
    t0 = time.perf_counter()
    proc = subprocess.Popen([str(exe), "sync", str(spec)], stdout=out, stderr=err, env=child_env(workdir),
                            cwd=str(workdir))
    killed = threading.Event()

    def watchdog() -> None:
        if not done.wait(timeout):
            killed.set()
            os.kill(proc.pid, signal.SIGKILL)

    done = threading.Event()
    threading.Thread(target=watchdog, daemon=True).start()
    rss: list[tuple[float, float]] = []

    def sample_rss() -> None:  # RSS over time, to tell a fixed footprint from growth with the data
        while not done.wait(0.25):
            try:
                for ln in Path(f"/proc/{proc.pid}/status").read_text().splitlines():
                    if ln.startswith("VmRSS:"):
                        rss.append((time.perf_counter() - t0, int(ln.split()[1]) / 1024))
            except OSError:
                return

    threading.Thread(target=sample_rss, daemon=True).start()
    _, status, ru = os.wait4(proc.pid, 0)  # rusage of this child only (the fake is another child)
    wall = time.perf_counter() - t0
    done.set()
    proc.returncode = os.waitstatus_to_exitcode(status)
    out.close()
    err.close()
    return {"wall": wall, "rc": proc.returncode, "maxrss_mb": ru.ru_maxrss / 1024,
            "cpu_s": ru.ru_utime + ru.ru_stime, "user_s": ru.ru_utime, "sys_s": ru.ru_stime,
            "timed_out": killed.is_set(), "rss_timeline": rss,
            "stdout": (workdir / "sync.stdout").read_text(), "stderr": (workdir / "sync.stderr").read_text()}


def count_rows(db: Path) -> tuple[dict[str, int], list[tuple]]:
    import duckdb

    con = duckdb.connect(str(db), read_only=True)
    try:
        names = [r[0] for r in con.execute("SELECT table_name FROM duckdb_tables() ORDER BY 1").fetchall()]
        counts = {n: con.execute(f'SELECT count(*) FROM "{n}"').fetchone()[0] for n in names}
        errors: list[tuple] = []
        if "aws_encryption_sync_errors" in names:
            errors = con.execute(
                "SELECT service, operation, error_code, count(*) AS n, any_value(message), any_value(resource_arn) "
                "FROM aws_encryption_sync_errors GROUP BY ALL ORDER BY n DESC").fetchall()
        return counts, errors
    finally:
        con.close()


def expected_rows(world: fake_aws.World) -> dict[str, int]:
    """Rows a correct sync of the world gives, using the plugin's own rules for which call is made."""
    from plugin.tables.kms.key_rules import supports_auto_rotation, supports_rotation_list

    srv = fake_aws.Server(world, 0, 0)
    exp: Counter = Counter()
    for a in world.accounts:
        for r in world.regions:
            keys, _ = world.keys(a, r)
            exp["aws_kms_aliases"] += len(world.aliases(a, r))
            exp["aws_ec2_regional_configs"] += 1   # the EBS defaults: one row per account and region
            exp["aws_s3_access_points"] += len(world.access_points(a, r))
            for k in keys:
                meta = world.key_metadata(a, r, k)
                exp["aws_kms_keys"] += 1
                exp["aws_kms_key_policies"] += 1
                exp["aws_kms_key_grants"] += len(world.grants(a, r, k))
                if supports_auto_rotation(meta):
                    exp["aws_kms_key_rotation_statuses"] += 1
                if supports_rotation_list(meta):
                    exp["aws_kms_key_rotations"] += len(world.rotations(k))
        for b in world.buckets(a):
            exp["aws_s3_buckets"] += 1
            exp["aws_s3_bucket_policies"] += int(world.has_bucket_policy(b))
            for op, table in (("GetBucketEncryption", "aws_s3_bucket_encryption_rules"),
                              ("GetPublicAccessBlock", "aws_s3_bucket_public_access_blocks"),
                              ("GetBucketOwnershipControls", "aws_s3_bucket_ownership_controls")):
                try:
                    srv.s3_op(op, b)
                    exp[table] += 1
                except fake_aws.ApiError:
                    pass
        exp["aws_s3_accounts"] += 1   # GetPublicAccessBlock: a row also when the account has none
        exp.update(world.iam_rows(a))
        exp.update(world.shared_rows(a))   # secrets, queues, topics: one row each
        exp.update(world.snapshot_rows(a))   # EBS snapshots (+ one attributes row each), DB snapshots
        exp.update(world.image_rows(a))   # AMIs, one launch permission row per account, org, OU or "all"
        exp.update(world.backup_rows(a))   # backup vaults and plans, one row each
    exp["aws_encryption_sync_errors"] = 0
    return dict(exp)


# ---------------------------------------------------------------------------------------------
# The writer alone


class _Ctx:
    """What a table's row function reads from its context."""

    def __init__(self, account_id: str, region: str) -> None:
        self.account_id, self.region = account_id, region


def writer_rows(target: int, seed: int) -> dict[str, list[dict[str, Any]]]:
    """~target plugin-shaped rows: aws_kms_keys (40 %), their grants (~35 %), aws_s3_buckets (25 %)."""
    from plugin.aws.calls import Parent
    from plugin.tables import by_name

    t = by_name()
    keys_t, grants_t, buckets_t = t["aws_kms_keys"], t["aws_kms_key_grants"], t["aws_s3_buckets"]
    n_keys = int(target * 0.4)
    n_buckets = int(target * 0.25)
    per_region = 2500
    n_acc = max(1, -(-n_keys // per_region))
    world = fake_aws.World(n_acc, 1, per_region, -(-n_buckets // n_acc), seed)
    region = world.regions[0]
    rows: dict[str, list[dict[str, Any]]] = {keys_t.name: [], grants_t.name: [], buckets_t.name: []}
    srv = fake_aws.Server(world, 0, 0)
    for a in world.accounts:
        ctx = _Ctx(a, region)
        keys, _ = world.keys(a, region)
        for k in keys:
            if len(rows[keys_t.name]) >= n_keys:
                break
            meta = world.key_metadata(a, region, k)
            item = dict(meta)
            item["_meta"] = meta
            if k.symmetric:
                item["_rotation"] = world.rotation_status(k)
            item["_tags"] = {x["TagKey"]: x["TagValue"] for x in world.tags(k)}
            for ts in ("CreationDate", "DeletionDate", "ValidTo"):
                if ts in item:
                    item[ts] = dt.datetime.fromtimestamp(item[ts], dt.timezone.utc)
            row = keys_t.make_row(ctx, item, None)
            rows[keys_t.name].append(row)
            parent = Parent(keys_t, row, item)
            for g in world.grants(a, region, k):
                g = dict(g, CreationDate=dt.datetime.fromtimestamp(g["CreationDate"], dt.timezone.utc),
                         _key_arn=k.arn)
                rows[grants_t.name].append(grants_t.make_row(ctx, g, parent))
        for b in world.buckets(a):
            if len(rows[buckets_t.name]) >= n_buckets:
                break
            ps = None if not world.has_bucket_policy(b) else {"IsPublic": world.bucket_public(b)}
            try:
                srv.s3_op("GetBucketTagging", b)
                tags = {"Team": fake_aws.APPS[b.h % len(fake_aws.APPS)], "ManagedBy": "terraform"}
            except fake_aws.ApiError:
                tags = None
            item = {"Name": b.name, "CreationDate": dt.datetime.fromtimestamp(b.created, dt.timezone.utc),
                    "BucketRegion": b.region, "_arn": f"arn:aws:s3:::{b.name}", "_region": b.region,
                    "_policy_status": ps, "_tags": tags}
            rows[buckets_t.name].append(buckets_t.make_row(_Ctx(a, b.region), item, None))
    return rows


def bench_writer(target_rows: int, batch_sizes: list[int], seed: int, workdir: Path,
                 repeat: int = 3) -> list[dict[str, Any]]:
    from plugin.store.writer import DuckDBWriter
    from plugin.store.duckdb_types import add_cq_columns
    from plugin.tables.schema import rows_to_batch
    from plugin.tables import by_name

    tdefs = by_name()
    t0 = time.perf_counter()
    rows = writer_rows(target_rows, seed)
    t_rows = time.perf_counter() - t0
    total = sum(len(v) for v in rows.values())
    results = []
    for bs in batch_sizes:
        t0 = time.perf_counter()
        batches = []
        schemas = {}
        for name, rs in rows.items():
            schemas[name] = tdefs[name].arrow_schema()
            for i in range(0, len(rs), bs):
                batches.append(rows_to_batch(schemas[name], rs[i:i + bs]))
        t_build = time.perf_counter() - t0
        rec: dict[str, Any] = {"batch": bs, "rows": total, "batches": len(batches), "rows_s_build": t_rows,
                               "build_s": t_build, "per_table": {k: len(v) for k, v in rows.items()}, "runs": []}
        try:
            for _ in range(repeat):
                db = workdir / f"writer-{bs}.duckdb"
                if db.exists():
                    db.unlink()
                sync_time = dt.datetime.now(dt.timezone.utc)
                gc.collect()
                t0 = time.perf_counter()
                with DuckDBWriter(db) as w:
                    for name, sch in schemas.items():
                        w.migrate(add_cq_columns(sch, "bench", sync_time))
                    for b in batches:
                        w.write(add_cq_columns(b, "bench", sync_time))
                rec["runs"].append(time.perf_counter() - t0)
            runs = sorted(rec["runs"])
            rec["write_s"] = runs[len(runs) // 2]  # median
            rec["rows_per_s"] = total / rec["write_s"]
            rec["best_rows_per_s"] = total / runs[0]
            rec["worst_rows_per_s"] = total / runs[-1]
            import duckdb
            con = duckdb.connect(str(db), read_only=True)
            rec["check"] = {n: con.execute(f'SELECT count(*) FROM "{n}"').fetchone()[0] for n in rows}
            con.close()
            rec["ok"] = rec["check"] == rec["per_table"]
        except Exception as e:  # the writer is being finished elsewhere: report, don't fix
            rec["error"] = f"{type(e).__name__}: {e}"
        results.append(rec)
    return results


# ---------------------------------------------------------------------------------------------
# Report


def finish(args: argparse.Namespace, figures: dict[str, Any], workdir: Path, kept_prefix: str = "") -> None:
    """The end of a bench run: the figures to --json, and the work directory kept (--keep) or removed."""
    if args.json:
        Path(args.json).write_text(json.dumps(figures, indent=2, default=str))
    if args.keep:
        print(f"{kept_prefix}work directory kept: {workdir}")
    else:
        shutil.rmtree(workdir, ignore_errors=True)


def fmt(n: float, d: int = 0) -> str:
    return f"{n:,.{d}f}"


def main() -> int:
    ap = argparse.ArgumentParser(description="Benchmark aws-encryption sync against fake_aws.py, and the writer.")
    ap.add_argument("--accounts", type=int, default=2)
    ap.add_argument("--regions", type=int, default=1)
    ap.add_argument("--keys", type=int, default=2500, help="KMS keys per account and region")
    ap.add_argument("--buckets", type=int, default=1100, help="S3 buckets per account (>1000: 2 ListBuckets pages)")
    ap.add_argument("--latency-ms", type=float, default=30.0)
    ap.add_argument("--throttle-fraction", type=float, default=0.0)
    ap.add_argument("--concurrency", type=int, default=32)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--timeout", type=float, default=900, help="kill the sync after this many seconds")
    ap.add_argument("--quick", action="store_true", help="tiny world (1 account x 1 region x 100 keys, 60 buckets) "
                                                         "and 20k writer rows")
    ap.add_argument("--writer-rows", type=int, default=100_000)
    ap.add_argument("--writer-batches", default="1000,10000", help="batch sizes for the writer benchmark")
    ap.add_argument("--writer-repeat", type=int, default=3, help="runs per batch size; the median is reported")
    ap.add_argument("--skip-sync", action="store_true")
    ap.add_argument("--skip-writer", action="store_true")
    ap.add_argument("--keep", action="store_true", help="keep the work directory (spec, logs, DuckDB files)")
    ap.add_argument("--json", help="also write the figures to this JSON file")
    args = ap.parse_args()
    if args.quick:
        args.accounts, args.regions, args.keys, args.buckets = 1, 1, 100, 60
        args.writer_rows = min(args.writer_rows, 20_000)

    workdir = Path(tempfile.mkdtemp(prefix="aws-enc-bench-"))
    report: dict[str, Any] = {"args": vars(args), "workdir": str(workdir)}
    problems: list[str] = []
    try:
        if not args.skip_sync:
            sync_part(args, workdir, report, problems)
        if not args.skip_writer:
            sizes = [int(x) for x in args.writer_batches.split(",") if x.strip()]
            report["writer"] = bench_writer(args.writer_rows, sizes, args.seed, workdir, args.writer_repeat)
    finally:
        print_report(report, problems)
        finish(args, report, workdir, kept_prefix="\n")
    return 1 if problems else 0


def sync_part(args: argparse.Namespace, workdir: Path, report: dict[str, Any], problems: list[str]) -> None:
    world = fake_aws.World(args.accounts, args.regions, args.keys, args.buckets, args.seed)
    t0 = time.perf_counter()
    fake = Fake(args, workdir)
    report["fake_start_s"] = time.perf_counter() - t0
    try:
        db = workdir / "bench.duckdb"
        spec = workdir / "spec.yml"
        write_spec(spec, world, fake.url, db, args.concurrency)
        fake.reset()
        before = fake.stats()
        res = run_sync(spec, workdir, args.timeout)
        after = fake.stats()
    finally:
        fake.stop()
    report["sync"] = {k: v for k, v in res.items() if k not in ("stdout", "stderr")}
    report["fake"] = after
    report["fake_cpu_s"] = after["cpu_s"] - before["cpu_s"]
    if res["rc"] != 0 or res["timed_out"]:
        problems.append(f"sync exited with {res['rc']}{' (timed out)' if res['timed_out'] else ''}: "
                        f"{res['stderr'].strip()[-2000:]}")
    if db.exists() and res["rc"] == 0:
        counts, errors = count_rows(db)
    else:
        counts, errors = {}, []
    report["rows"] = counts
    report["errors"] = errors
    report["expected"] = expected_rows(world)
    report["stderr_tail"] = res["stderr"].strip().splitlines()[-5:]
    if args.throttle_fraction == 0 and counts.get("aws_encryption_sync_errors", 0):
        problems.append(f"{counts['aws_encryption_sync_errors']} sync errors without throttling")
    for t, n in report["expected"].items():
        if t == "aws_encryption_sync_errors":
            continue
        if counts and counts.get(t) != n:
            problems.append(f"{t}: {counts.get(t)} rows, the world has {n}")
    if after.get("cache_miss"):
        report["note_cache_miss"] = after["cache_miss"]


def print_report(rep: dict[str, Any], problems: list[str]) -> None:
    a = rep["args"]
    lines: list[tuple[str, str]] = []
    if "sync" in rep:
        s, f = rep["sync"], rep["fake"]
        nkeys = a["accounts"] * a["regions"] * a["keys"]
        nb = a["accounts"] * a["buckets"]
        lines.append(("world", f"{a['accounts']} accounts x {a['regions']} regions x {a['keys']} keys + "
                               f"{a['buckets']} buckets/account = {fmt(nkeys)} keys, {fmt(nb)} buckets"))
        lines.append(("fake latency / throttle fraction", f"{a['latency_ms']:g} ms / {a['throttle_fraction']:g}"))
        lines.append(("plugin concurrency", str(a["concurrency"])))
        calls = f["total"]
        by_svc: Counter = Counter()
        for k, v in f["ops"].items():
            by_svc[k.split(".")[0]] += v
        lines.append(("API calls served by the fake",
                      f"{fmt(calls)} ({', '.join(f'{k} {fmt(v)}' for k, v in sorted(by_svc.items()))}; "
                      f"throttled {fmt(f['throttled'])}; S3 calls signed for the wrong region "
                      f"{fmt(f['s3_wrong_region'])})"))
        total_rows = sum(rep["rows"].values())
        lines.append(("sync wall time", f"{s['wall']:.1f} s (exit {s['rc']}{', TIMED OUT' if s['timed_out'] else ''})"))
        lines.append(("total rows", fmt(total_rows)))
        lines.append(("whole-sync rows/s", fmt(total_rows / s["wall"])))
        lines.append(("whole-sync calls/s", fmt(calls / s["wall"])))
        lines.append(("sync CPU (user+sys) / per call", f"{s['cpu_s']:.1f} s ({s['user_s']:.1f}+{s['sys_s']:.1f}) / "
                                                       f"{s['cpu_s'] / max(calls, 1) * 1000:.2f} ms"))
        rss = s["maxrss_mb"]
        tl = s.get("rss_timeline") or []
        shape = ""
        if tl:
            pts = [tl[min(len(tl) - 1, int(len(tl) * q))] for q in (0.1, 0.25, 0.5, 0.75)] + [tl[-1]]
            shape = "; RSS at " + ", ".join(f"{t:.0f}s {m:.0f}" for t, m in pts)
        lines.append(("peak RSS of the sync", f"{rss:.0f} MB (target < 500 MB: {'PASS' if rss < 500 else 'FAIL'}{shape})"))
        nerr = rep["rows"].get("aws_encryption_sync_errors", 0)
        lines.append(("sync errors (aws_encryption_sync_errors)", fmt(nerr)))
        for svc, op, code, n, msg, res in rep["errors"][:8]:
            lines.append(("  error", f"{n} x {svc}:{op} {code}: {str(msg)[:90]} ({str(res)[:70]})"))
        lines.append(("fake CPU during the sync", f"{rep['fake_cpu_s']:.1f} s = {rep['fake_cpu_s'] / s['wall'] * 100:.0f} % "
                                                  f"of one core (cache misses {f.get('cache_miss', 0)})"))
        exp = rep["expected"]
        for t in sorted(set(exp) | set(rep["rows"])):
            got, want = rep["rows"].get(t), exp.get(t)
            if want is None:
                mark = "  (derived table, not checked)"
            elif got == want or (t == "aws_encryption_sync_errors" and a["throttle_fraction"]):
                mark = ""
            else:
                mark = f"  <-- the world has {want}"
            lines.append((f"  rows {t}", f"{fmt(got) if got is not None else '-'}{mark}"))
    for w in rep.get("writer", []):
        name = f"writer alone, {fmt(w['batch'])}-row batches"
        if "error" in w:
            lines.append((name, f"ERROR {w['error']}"))
            problems.append(f"writer ({w['batch']}-row batches): {w['error']}")
            continue
        r = w["rows_per_s"]
        per = ", ".join(f"{k} {fmt(v)}" for k, v in w["per_table"].items())
        lines.append((name, f"{fmt(r)} rows/s median of {len(w['runs'])} (best {fmt(w['best_rows_per_s'])}, worst "
                            f"{fmt(w['worst_rows_per_s'])}; {fmt(w['rows'])} rows in {w['write_s']:.2f} s, "
                            f"{w['batches']} batches, migrate+write+commit; target >= 100,000: "
                            f"{'PASS' if r >= 100_000 else 'FAIL'}"
                            f"{'' if w['ok'] else '; ROW COUNT MISMATCH ' + str(w['check'])})"))
        lines.append(("  building those batches", f"{w['build_s']:.2f} s = {fmt(w['rows'] / w['build_s'])} rows/s "
                                                  f"(rows_to_batch, not in the figure above); rows: {per}"))
    width = max((len(k) for k, _ in lines), default=10)
    print("\n" + "=" * (width + 60))
    print("aws-encryption benchmark")
    print("=" * (width + 60))
    for k, v in lines:
        print(f"{k:<{width}}  {v}")
    print("=" * (width + 60))
    if problems:
        print("PROBLEMS:")
        for p in problems:
            print(f"  - {p}")


if __name__ == "__main__":
    sys.exit(main())
