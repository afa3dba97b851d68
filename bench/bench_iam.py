#!/usr/bin/env python3
"""What reading IAM adds to a sync: one paginated `iam:GetAccountAuthorizationDetails` per account
(plugin/tables/iam/authorization_details.py, MaxItems=1000, Marker while IsTruncated), against
bench/fake_aws.py with its injected latency, as the other benches.

(a) Default IAM (the fake's 5 roles, 2 users, 1 group, 10 customer managed policies and the attached
    AWS managed ones per account) on N accounts x R regions x K keys + B buckets per account:
    * the whole sync with every table vs the same sync with `skip_tables: [aws_iam_*]`: the calls and
      the wall and CPU time IAM adds, per account;
    * isolated: a sync of `tables: [aws_iam_*]` vs one of `tables: [aws_encryption_key_types]` (no
      AWS call of its own: the account set-up only): the IAM read's own cost per account with the KMS
      and S3 work out of the way (less noise than the difference of two whole syncs).
(b) One heavy account (--heavy-roles 1,000 roles, --heavy-policies 2,000 customer managed policies) on a
    small KMS/S3 world: the sync with vs without the IAM tables: wall time, IAM pages, peak RSS.

Every sync runs `aws-encryption sync SPEC` as a child process (bench_org.run_child: wall, CPU of the
process tree, ru_maxrss, RSS of the tree sampled every 0.25 s). The fake counts the calls. Rows of the
IAM tables are checked against the world (fake_aws.World.iam_rows) and the sync must have no errors.

Usage:
  /work/venv/bin/python bench/bench_iam.py                 # ~2 min on 2 cores
  /work/venv/bin/python bench/bench_iam.py --only heavy --heavy-roles 3000 --heavy-policies 5000
  ... --accounts 20 --regions 3 --keys 100 --buckets 200 --processes 2 (bench_org.py's world) --json FILE --keep
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import bench_org
import bench_sync
import fake_aws

IAM_OP = "iam.GetAccountAuthorizationDetails"
IAM_TABLES = "aws_iam_*"
# A table without any AWS call (fixed rows): its sync only opens the accounts (AssumeRole,
# GetCallerIdentity), the baseline of the isolated IAM read.
BASELINE_TABLE = "aws_encryption_key_types"
PARTS = ["default", "heavy"]


def log(msg: str) -> None:
    print(f"[bench_iam {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


class Runner:
    def __init__(self, args: argparse.Namespace, workdir: Path) -> None:
        self.a = args
        self.dir = workdir
        self.env = bench_sync.child_env(workdir)
        self.problems: list[str] = []
        fake_aws.NOW = bench_org.PINNED_NOW

    def spec(self, fake: bench_org.Fake, name: str, tables: list[str] | None, skip: list[str] | None) -> tuple[Path, Path]:
        db = self.dir / f"{name}.duckdb"
        for p in (db, Path(str(db) + ".wal")):
            if p.exists():
                p.unlink()
        path = self.dir / f"{name}.yml"
        bench_sync.write_spec(path, fake.world, fake.url, db, self.a.concurrency)
        docs = list(yaml.safe_load_all(path.read_text()))
        src = next(d for d in docs if d["kind"] == "source")["spec"]
        if tables is not None:
            src["tables"] = tables
        if skip is not None:
            src["skip_tables"] = skip
        path.write_text(yaml.safe_dump_all(docs, sort_keys=False))
        return path, db

    def sync(self, fake: bench_org.Fake, name: str, tables: list[str] | None = None,
             skip: list[str] | None = None) -> dict[str, Any]:
        spec, db = self.spec(fake, name, tables, skip)
        cmd = [str(bench_org.VENV_BIN / "aws-encryption"), "sync", str(spec)]
        if self.a.processes > 1:
            cmd += ["--processes", str(self.a.processes)]
        fake.reset()
        f0 = fake.stats()
        what = f"tables {tables}" if tables else (f"skip_tables {skip}" if skip else "every table")
        log(f"{name}: aws-encryption sync ({what}) ...")
        r = bench_org.run_child(cmd, self.env, self.dir, self.a.timeout, name)
        f1 = fake.stats()
        r.update(name=name, tables=tables, skip=skip, ops=f1["ops"], calls=f1["total"],
                 fake_cpu_s=f1["cpu_s"] - f0["cpu_s"], fake_errors=f1["errors"])
        r["iam_calls"] = r["ops"].get(IAM_OP, 0)
        r["others_cores"] = bench_org.others_cores(r)
        if r["rc"] != 0 or r["timed_out"]:
            self.problems.append(f"{name}: sync exited {r['rc']}{' (timed out)' if r['timed_out'] else ''}: "
                                 f"{r['stderr'].strip()[-600:]}")
            r["rows"], r["sync_errors"] = {}, []
        else:
            r["rows"], r["sync_errors"] = bench_sync.count_rows(db)
            nerr = r["rows"].get("aws_encryption_sync_errors", 0)
            if nerr:
                self.problems.append(f"{name}: {nerr} sync errors: {r['sync_errors'][:3]}")
        log(f"{name}: {r['wall']:.1f} s, CPU {r['cpu_s']:.1f} s, {r['calls']:,} calls ({r['iam_calls']} IAM), "
            f"peak RSS {r['maxrss_mb']:.0f} MB (tree {r['peak_tree_rss_mb']:.0f} MB), exit {r['rc']}")
        for k in ("stdout", "stderr"):
            r[k] = r[k][-1500:]
        return r

    def check_iam_rows(self, r: dict[str, Any], world: fake_aws.World) -> str:
        exp: dict[str, int] = {}
        for a in world.accounts:
            for t, n in world.iam_rows(a).items():
                exp[t] = exp.get(t, 0) + n
        bad = [f"{t}: {r['rows'].get(t)} rows, the world has {n}" for t, n in exp.items() if r["rows"].get(t) != n]
        for b in bad:
            self.problems.append(f"{r['name']}: {b}")
        got = sum(r["rows"].get(t, 0) for t in exp)
        return f"{got:,} IAM rows = the world's" if not bad else "IAM rows DIFFER: " + "; ".join(bad)

    def fake(self, name: str, accounts: int, keys: int, buckets: int,
             iam: tuple[int, int, int, int] = fake_aws.IAM_DEFAULT) -> bench_org.Fake:
        f = bench_org.Fake(self.dir, name, accounts, self.a.regions, keys, buckets, self.a.latency_ms, 0,
                           self.a.seed, iam=iam)
        log(f"fake {name} on {f.url} (started in {f.start_s:.1f} s): {accounts} accounts x {self.a.regions} regions "
            f"x {keys} keys + {buckets} buckets, IAM roles/users/groups/policies {iam}")
        return f


def row(label: str, r: dict[str, Any], extra: str = "") -> str:
    return (f"  {label:<42} {r['wall']:7.1f} s  CPU {r['cpu_s']:6.1f} s  {r['calls']:>7,} calls  "
            f"{r['iam_calls']:>4} IAM  peak RSS {r['maxrss_mb']:5.0f} MB (tree {r['peak_tree_rss_mb']:5.0f})  "
            f"others {r['others_cores']:.2f} cores{extra}")


def part_default(rn: Runner, out: dict[str, Any]) -> list[str]:
    a = rn.a
    fake = rn.fake("default", a.accounts, a.keys, a.buckets)
    try:
        with_iam = rn.sync(fake, "default-with-iam")
        without = rn.sync(fake, "default-without-iam", skip=[IAM_TABLES])
        iam_only = rn.sync(fake, "default-iam-only", tables=[IAM_TABLES])
        base = rn.sync(fake, "default-setup-only", tables=[BASELINE_TABLE])
    finally:
        fake.stop()
    world = fake.world
    n = len(world.accounts)
    check = rn.check_iam_rows(with_iam, world) if with_iam["rows"] else "not checked"
    if iam_only["rows"]:
        rn.check_iam_rows(iam_only, world)
    items = sum(len(world.iam(x)) for x in world.accounts)
    d_calls = with_iam["calls"] - without["calls"]
    d_wall, d_cpu = with_iam["wall"] - without["wall"], with_iam["cpu_s"] - without["cpu_s"]
    i_wall, i_cpu = iam_only["wall"] - base["wall"], iam_only["cpu_s"] - base["cpu_s"]
    i_calls = iam_only["calls"] - base["calls"]
    out["default"] = {"runs": [with_iam, without, iam_only, base], "accounts": n, "iam_items": items,
                      "added_calls": d_calls, "added_wall_s": d_wall, "added_cpu_s": d_cpu,
                      "isolated_wall_s": i_wall, "isolated_cpu_s": i_cpu, "isolated_calls": i_calls}
    p = f" --processes {a.processes}" if a.processes > 1 else ""
    return [
        (f"(a) default IAM: {n} accounts x {a.regions} region(s) x {a.keys} keys + {a.buckets} buckets/account, "
         f"each with IAM {fake_aws.IAM_DEFAULT[0]} roles / {fake_aws.IAM_DEFAULT[1]} users / "
         f"{fake_aws.IAM_DEFAULT[2]} group / {fake_aws.IAM_DEFAULT[3]} customer managed policies "
         f"({items / n:.1f} items per account with the attached AWS managed ones), {a.latency_ms:g} ms latency, "
         f"sync{p or ' (1 process)'}"),
        row("sync, every table", with_iam, f"  ({check})"),
        row("sync, skip_tables aws_iam_*", without),
        (f"  {'IAM adds':<42} {d_wall:+7.1f} s  CPU {d_cpu:+6.1f} s  {d_calls:>+7,} calls = "
         f"{d_calls / n:.1f} call(s)/account; per account {d_wall / n * 1000:+.0f} ms wall, "
         f"{d_cpu / n * 1000:+.0f} ms CPU"),
        row("isolated: tables aws_iam_*", iam_only),
        row(f"isolated: tables {BASELINE_TABLE}", base, "  (no call but the account set-up)"),
        (f"  {'IAM read, isolated':<42} {i_wall:+7.1f} s  CPU {i_cpu:+6.1f} s  {i_calls:>+7,} calls = "
         f"{i_calls / n:.1f} call(s)/account; per account "
         f"{i_wall / n * 1000:+.0f} ms wall, {i_cpu / n * 1000:+.0f} ms CPU"),
    ]


def part_heavy(rn: Runner, out: dict[str, Any]) -> list[str]:
    a = rn.a
    iam = (a.heavy_roles, fake_aws.IAM_DEFAULT[1], fake_aws.IAM_DEFAULT[2], a.heavy_policies)
    fake = rn.fake("heavy", 1, a.heavy_keys, a.heavy_buckets, iam=iam)
    try:
        with_iam = rn.sync(fake, "heavy-with-iam")
        without = rn.sync(fake, "heavy-without-iam", skip=[IAM_TABLES])
    finally:
        fake.stop()
    world = fake.world
    acct = world.accounts[0]
    items = len(world.iam(acct))
    size_mb = sum(len(x) for _, x, _ in world.iam(acct)) / 2**20
    check = rn.check_iam_rows(with_iam, world) if with_iam["rows"] else "not checked"
    expect_pages = max(1, -(-items // 1000)) * a.processes
    if with_iam["iam_calls"] != expect_pages:
        rn.problems.append(f"heavy: {with_iam['iam_calls']} IAM pages, expected {expect_pages}")
    d_wall, d_cpu = with_iam["wall"] - without["wall"], with_iam["cpu_s"] - without["cpu_s"]
    d_rss = with_iam["maxrss_mb"] - without["maxrss_mb"]
    out["heavy"] = {"runs": [with_iam, without], "iam_items": items, "iam_xml_mb": size_mb,
                    "pages": with_iam["iam_calls"], "added_wall_s": d_wall, "added_cpu_s": d_cpu,
                    "added_rss_mb": d_rss}
    rows = with_iam["rows"]
    return [
        (f"(b) heavy account: 1 account x {a.regions} region(s) x {a.heavy_keys} keys + {a.heavy_buckets} buckets, "
         f"IAM {iam[0]:,} roles / {iam[1]} users / {iam[2]} group / {iam[3]:,} customer managed policies = "
         f"{items:,} items ({size_mb:.1f} MB of XML), {a.latency_ms:g} ms latency"),
        row("sync, every table", with_iam, f"  {with_iam['iam_calls']} IAM pages (MaxItems 1000); {check}"),
        row("sync, skip_tables aws_iam_*", without),
        (f"  {'IAM adds':<42} {d_wall:+7.1f} s  CPU {d_cpu:+6.1f} s  {with_iam['calls'] - without['calls']:>+7,} "
         f"calls  peak RSS {d_rss:+.0f} MB"),
        "  rows: " + ", ".join(f"{t} {rows.get(t, 0):,}" for t in sorted(rows) if t.startswith("aws_iam_")),
    ]


def main() -> int:
    ap = argparse.ArgumentParser(description="What reading IAM adds to a sync, against bench/fake_aws.py.")
    ap.add_argument("--accounts", type=int, default=20, help="(a) accounts")
    ap.add_argument("--regions", type=int, default=1)
    ap.add_argument("--keys", type=int, default=20, help="(a) KMS keys per account and region")
    ap.add_argument("--buckets", type=int, default=20, help="(a) S3 buckets per account")
    ap.add_argument("--heavy-roles", type=int, default=1000)
    ap.add_argument("--heavy-policies", type=int, default=2000)
    ap.add_argument("--heavy-keys", type=int, default=20, help="(b) KMS keys per region of the heavy account")
    ap.add_argument("--heavy-buckets", type=int, default=20, help="(b) S3 buckets of the heavy account")
    ap.add_argument("--processes", type=int, default=1, help="sync --processes (IAM is read by every shard)")
    ap.add_argument("--latency-ms", type=float, default=30.0)
    ap.add_argument("--concurrency", type=int, default=32)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--timeout", type=float, default=900, help="kill any one sync after this many seconds")
    ap.add_argument("--only", default=",".join(PARTS), help=f"comma-separated subset of {','.join(PARTS)}")
    ap.add_argument("--keep", action="store_true", help="keep the work directory (specs, DuckDB files, logs)")
    ap.add_argument("--json", help="write every figure and run to this file")
    args = ap.parse_args()
    only = [x.strip() for x in args.only.split(",") if x.strip()]
    bad = [x for x in only if x not in PARTS]
    if bad:
        ap.error(f"--only: unknown {bad}; choose from {PARTS}")
    workdir = Path(tempfile.mkdtemp(prefix="aws-enc-iam-"))
    rn = Runner(args, workdir)
    out: dict[str, Any] = {"args": vars(args)}
    lines: list[str] = []
    t0 = time.perf_counter()
    log(f"work directory {workdir}")
    try:
        if "default" in only:
            lines += part_default(rn, out)
        if "heavy" in only:
            lines += ([""] if lines else []) + part_heavy(rn, out)
    except KeyboardInterrupt:
        rn.problems.append("interrupted")
    finally:
        total = time.perf_counter() - t0
        print("\n" + "=" * 120)
        print(f"aws-encryption IAM benchmark: total run {total:.0f} s; concurrency {args.concurrency}; "
              f"load average now {bench_org.os.getloadavg()[0]:.1f}")
        print("=" * 120)
        print("\n".join(lines))
        if rn.problems:
            print("\nPROBLEMS:")
            for p in rn.problems:
                print(f"  - {p}")
        print("=" * 120)
        out.update(problems=rn.problems, total_s=total)
        bench_sync.finish(args, out, workdir)
    return 1 if rn.problems else 0


if __name__ == "__main__":
    sys.exit(main())
