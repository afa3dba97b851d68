"""Snapshot the rows a sync of the demo world produces, to prove a refactoring changed no row.

    python bench/snapshot_demo.py OUT.jsonl      # prints the snapshot's sha256

Builds the demo world (plugin/demo/world.py) on moto's server with moto's random generator seeded,
syncs DATA and COMPUTE with `aws-encryption sync` (the console script, so the script runs unchanged
on any version of the code), and writes every row of every table as canonical JSON lines, sorted.
What a run can't reproduce is normalised, nothing else:
- `_cq_sync_time` is dropped;
- timestamps become their offset in whole days from the run's start (`now-730d`): moto stamps
  resources with the wall clock;
- `_cq_id` / `_cq_parent_id` become `<table>:<primary-key values, normalised>` and the parent row's
  token, after checking that each `_cq_id` is unique: the ids hash timestamps (rotation dates), and
  the tree they form is what must not change.
Two runs of the same code print the same hash; so must the code before and after a refactoring.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import subprocess
import sys
import tempfile
import uuid
from pathlib import Path
from typing import Any

import duckdb
import requests
import yaml

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from plugin.demo.server import RecordingMotoServer, enable_iam_enforcement  # noqa: E402
from plugin.demo.world import COMPUTE, DATA, build_world  # noqa: E402

SEED = 42


def _norm(v: Any, start: dt.datetime) -> Any:
    if isinstance(v, dt.datetime):
        t = v if v.tzinfo else v.replace(tzinfo=dt.timezone.utc)
        return f"now{round((t - start).total_seconds() / 86400):+d}d"
    if isinstance(v, dt.date):
        return f"now{(v - start.date()).days:+d}d"
    if isinstance(v, uuid.UUID):
        return str(v)
    if isinstance(v, (list, tuple)):
        return [_norm(x, start) for x in v]
    if isinstance(v, dict):
        return {k: _norm(x, start) for k, x in v.items()}
    return v


def snapshot(db: Path, start: dt.datetime) -> list[str]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        tables = [r[0] for r in con.execute("SELECT table_name FROM duckdb_tables() ORDER BY 1").fetchall()]
        rows: dict[str, list[dict[str, Any]]] = {}
        token: dict[tuple[str, str], str] = {}
        by_id: dict[str, str] = {}
        for t in tables:
            cur = con.execute(f'SELECT * FROM "{t}"')
            cols = [d[0] for d in cur.description]
            rows[t] = [dict(zip(cols, r)) for r in cur.fetchall()]
        for t, rs in rows.items():
            for r in rs:
                if "_cq_id" not in r:
                    continue
                rid = str(r["_cq_id"])
                assert (t, rid) not in token, f"duplicate _cq_id {rid} in {t}"
                key = {k: _norm(v, start) for k, v in r.items() if k not in ("_cq_id", "_cq_parent_id",
                                                                           "_cq_sync_time", "_cq_source_name")}
                token[(t, rid)] = t + ":" + hashlib.sha256(json.dumps(key, sort_keys=True, default=str)
                                                           .encode()).hexdigest()[:16]
                # ids are unique per table (CloudQuery hashes primary-key names and values, not the
                # table): a parent is found by id in the first table, by name, that has it
                by_id.setdefault(rid, token[(t, rid)])
        out = []
        for t, rs in rows.items():
            for r in rs:
                r = dict(r)
                r.pop("_cq_sync_time", None)
                if "_cq_id" in r:
                    r["_cq_id"] = token[(t, str(r["_cq_id"]))]
                if r.get("_cq_parent_id") is not None:
                    r["_cq_parent_id"] = by_id.get(str(r["_cq_parent_id"]), "<missing parent>")
                out.append(json.dumps({"table": t, **_norm(r, start)}, sort_keys=True, default=str))
        return sorted(out)
    finally:
        con.close()


def main(argv: list[str]) -> int:
    out = Path(argv[0]) if argv else Path("demo-snapshot.jsonl")
    start = dt.datetime.now(dt.timezone.utc)
    os.environ.update({"AWS_ACCESS_KEY_ID": "snapshot", "AWS_SECRET_ACCESS_KEY": "snapshot",
                       "AWS_DEFAULT_REGION": "us-east-1", "AWS_CONFIG_FILE": os.devnull,
                       "AWS_SHARED_CREDENTIALS_FILE": os.devnull, "AWS_EC2_METADATA_DISABLED": "true"})
    import logging
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    server = RecordingMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        endpoint = f"http://{host}:{port}"
        requests.post(f"{endpoint}/moto-api/seed?a={SEED}", timeout=10).raise_for_status()
        actions = json.loads((REPO / "plugin" / "iam_policy.json").read_text())["Statement"][0]["Action"]
        world = build_world(endpoint, actions, server)
        enable_iam_enforcement(endpoint)
        with tempfile.TemporaryDirectory() as tmp:
            db = Path(tmp) / "demo.duckdb"
            spec = world.spec(accounts=[DATA, COMPUTE], concurrency=8)
            docs = [{"kind": "source", "spec": {"name": "aws-encryption", "path": "aws-encryption",
                                                "registry": "local", "version": "v0.1.0", "tables": ["*"],
                                                "destinations": ["duckdb"], "spec": spec}},
                    {"kind": "destination", "spec": {"name": "duckdb", "path": "aws-encryption-duckdb",
                                                     "registry": "local", "version": "v0.1.0",
                                                     "spec": {"connection_string": str(db)}}}]
            (Path(tmp) / "spec.yml").write_text(yaml.safe_dump_all(docs, sort_keys=False))
            exe = Path(sys.executable).parent / "aws-encryption"
            r = subprocess.run([str(exe), "sync", str(Path(tmp) / "spec.yml")], env={**os.environ, **world.env},
                               capture_output=True, text=True, timeout=600)
            if r.returncode not in (0,):
                sys.stderr.write(r.stdout + r.stderr)
                return 1
            lines = snapshot(db, start)
    finally:
        server.stop()
    text = "\n".join(lines) + "\n"
    out.write_text(text)
    print(f"{hashlib.sha256(text.encode()).hexdigest()}  {out} ({len(lines)} rows)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
