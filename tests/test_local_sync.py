"""`aws-encryption sync` (in-process) and `cloudquery sync` (real CLI, our destination) agree,
replace stale rows, never lose the previous sync, and refuse bad input before any AWS call."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import duckdb
import pytest
import yaml

from plugin.demo.world import COMPUTE, DATA
from plugin.tables import all_tables

from .access_world import ACCESS
from .cli import run_cli, write_specs
from .helpers import stable_columns
from .grpc_client import plugin_executable

pytestmark = pytest.mark.e2e  # the installed command and the real CloudQuery CLI, as subprocesses


def _aws_encryption(args: list[str], cwd: Path, env: dict[str, str], **kw) -> subprocess.CompletedProcess:
    return subprocess.run([plugin_executable(), *args], cwd=cwd, env={**os.environ, **env}, capture_output=True,
                          text=True, timeout=kw.pop("timeout", 180), **kw)


def _dump(db: Path) -> dict[str, list[tuple]]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        out = {}
        for t in all_tables():
            cols = stable_columns(t)
            out[t.name] = sorted(con.execute(
                f'SELECT _cq_source_name, {", ".join(chr(34) + c + chr(34) for c in cols)} FROM "{t.name}"').fetchall(),
                key=repr)
        return out
    finally:
        con.close()


def _types(db: Path, table: str) -> dict[str, str]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return {r[0]: r[1] for r in con.execute(f'DESCRIBE "{table}"').fetchall()}
    finally:
        con.close()


def _both_syncs_equal(world, spec: dict, tmp_path: Path) -> dict[str, list[tuple]]:
    """The spec synced by the real CloudQuery CLI and by `aws-encryption sync`: every table's rows and
    types equal; the local database's rows."""
    write_specs(tmp_path / "cli.yml", spec, db=str(tmp_path / "cli.duckdb"))
    r = run_cli(["sync", str(tmp_path / "cli.yml")], tmp_path, world.env)
    assert r.returncode == 0, r.stdout + r.stderr
    write_specs(tmp_path / "local.yml", spec, db=str(tmp_path / "local.duckdb"))
    r = _aws_encryption(["sync", "local.yml"], tmp_path, world.env)
    assert r.returncode == 0, r.stderr
    assert "synced into" in r.stdout and "aws_kms_keys" in r.stdout
    cli, local = _dump(tmp_path / "cli.duckdb"), _dump(tmp_path / "local.duckdb")
    for t in all_tables():
        assert cli[t.name] == local[t.name], t.name
        assert _types(tmp_path / "cli.duckdb", t.name) == _types(tmp_path / "local.duckdb", t.name), t.name
    return local


def test_in_process_and_cli_sync_write_the_same_database(world, access, tmp_path):
    # ACCESS brings a row to every S3 access-path table (tests/access_world.py)
    local = _both_syncs_equal(world, world.spec(accounts=[DATA, COMPUTE, ACCESS]), tmp_path)
    assert len(local["aws_kms_keys"]) == 8 + 1  # ACCESS has one key (the log bucket's); the replica key is PEER's
    assert len(local["aws_s3_buckets"]) == len(world.buckets) + len(access.buckets)
    for t in ("aws_s3_bucket_grants", "aws_s3_bucket_replications", "aws_s3_bucket_loggings", "aws_s3_access_points",
              "aws_s3_multi_region_access_points", "aws_organizations"):
        assert local[t], f"{t}: no rows to compare"
    # the hub destination's type mapping
    types = _types(tmp_path / "local.duckdb", "aws_kms_keys")
    assert list(types)[:4] == ["_cq_sync_time", "_cq_source_name", "_cq_id", "_cq_parent_id"]
    assert (types["_cq_sync_time"], types["_cq_source_name"], types["_cq_id"]) == ("TIMESTAMP", "VARCHAR", "UUID")
    assert (types["tags"], types["encryption_algorithms"], types["creation_date"]) == ("JSON", "VARCHAR[]", "TIMESTAMP")
    assert (types["enabled"], types["pending_deletion_window_in_days"]) == ("BOOLEAN", "BIGINT")
    # timestamps are UTC wall-clock values, as the hub writes them
    con = duckdb.connect(str(tmp_path / "local.duckdb"), read_only=True)
    k = world.keys["rotating"]
    created = con.execute("SELECT creation_date FROM aws_kms_keys WHERE arn = ?", [k["Arn"]]).fetchone()[0]
    con.close()
    assert created == k["CreationDate"].astimezone(__import__("datetime").timezone.utc).replace(tzinfo=None)


def test_the_shared_resource_tables_through_the_real_cli_equal_the_embedded_sync(world, shared, tmp_path):
    """Secrets, queues, topics, EBS and RDS snapshots, backup vaults and plans, and their access paths
    (tests/shared_world.py)."""
    from .shared_world import SHR_CONSUMER, SHR_OWNER
    local = _both_syncs_equal(world, world.spec(accounts=[SHR_OWNER, SHR_CONSUMER], regions=["us-east-1"]), tmp_path)
    for t in ("aws_secretsmanager_secrets", "aws_secretsmanager_secret_access_paths", "aws_sqs_queues",
              "aws_sqs_queue_access_paths", "aws_sns_topics", "aws_sns_topic_access_paths", "aws_ec2_ebs_snapshots",
              "aws_ec2_ebs_snapshot_attributes", "aws_ec2_ebs_snapshot_access_paths", "aws_rds_db_snapshots",
              "aws_rds_db_snapshot_access_paths", "aws_rds_cluster_snapshots", "aws_rds_cluster_snapshot_access_paths",
              "aws_backup_vaults", "aws_backup_vault_access_paths", "aws_backup_plans"):
        assert local[t], f"{t}: no rows to compare"


def test_the_s3_controls_tables_through_the_real_cli_equal_the_embedded_sync(world, worlds, tmp_path):
    """aws_s3_accounts (the accounts' own Block Public Access, one row each; none configured is a row with
    config_exists false) and the access points' own settings (tests/s3_controls_world.py)."""
    from .s3_controls_world import ACCOUNTS, S3C_BLOCKED, S3C_OPEN, S3C_PARTIAL
    local = _both_syncs_equal(world, world.spec(accounts=ACCOUNTS, regions=["us-east-1"]), tmp_path)
    assert sorted(r[3:] for r in local["aws_s3_accounts"]) == [  # after _cq_source_name, _cq_id, _cq_parent_id
        (S3C_OPEN, None, None, None, None, False), (S3C_BLOCKED, True, True, True, True, True),
        (S3C_PARTIAL, True, False, True, False, True)]
    assert _types(tmp_path / "local.duckdb", "aws_s3_accounts")["config_exists"] == "BOOLEAN"
    assert all(r[-1] is not None for r in local["aws_s3_access_points"]), "public_access_block_configuration"
    assert local["aws_s3_multi_region_access_points"]

def test_resync_replaces_stale_rows_and_keeps_other_sources(world, tmp_path):
    db = tmp_path / "posture.duckdb"
    kms, s3 = world.admin("kms", DATA), world.admin("s3", DATA)
    doomed = kms.create_key(Description="deleted between syncs", KeyUsage="ENCRYPT_DECRYPT",
                            MultiRegion=False)["KeyMetadata"]
    added = f"added-{uuid.uuid4().hex[:10]}"
    try:
        write_specs(tmp_path / "other.yml", world.spec(accounts=[COMPUTE]), db=str(db), source_name="other")
        assert _aws_encryption(["sync", "other.yml"], tmp_path, world.env).returncode == 0
        write_specs(tmp_path / "main.yml", world.spec(accounts=[DATA]), db=str(db))
        assert _aws_encryption(["sync", "main.yml"], tmp_path, world.env).returncode == 0
        before = _dump(db)
        assert any(doomed["Arn"] in r for r in before["aws_kms_keys"])

        # The world changes: the key's deletion completes, a bucket is added.
        from moto.kms.models import kms_backends
        kms_backends[DATA]["us-east-1"].delete_key(doomed["KeyId"])
        s3.create_bucket(Bucket=added)
        r = _aws_encryption(["sync", "main.yml"], tmp_path, world.env)
        assert r.returncode == 0, r.stderr
        assert "stale rows removed" in r.stdout
        after = _dump(db)
    finally:
        s3.delete_bucket(Bucket=added)
    for table in ("aws_kms_keys", "aws_kms_key_policies", "aws_kms_key_rotation_statuses"):
        assert not any(doomed["Arn"] in r for r in after[table]), table
    assert any(r[1:] and added in r for r in after["aws_s3_buckets"])
    for t in all_tables():
        other_before = [r for r in before[t.name] if r[0] == "other"]
        other_after = [r for r in after[t.name] if r[0] == "other"]
        assert other_before == other_after, t.name
    assert [r for r in after["aws_kms_keys"] if r[0] == "other"], "the other source's rows are still there"


def test_killed_sync_leaves_the_previous_sync_intact(world, tmp_path):
    db = tmp_path / "posture.duckdb"
    write_specs(tmp_path / "spec.yml", world.spec(accounts=[DATA, COMPUTE], request_timeout=300), db=str(db))
    r = _aws_encryption(["sync", "spec.yml"], tmp_path, world.env)
    assert r.returncode == 0, r.stderr
    previous = _dump(db)
    release = threading.Event()

    def hang(service, op, body):  # COMPUTE's key policies never answer: the sync is stuck mid-way
        if service == "kms" and op == "GetKeyPolicy" and f":{COMPUTE}:key/".encode() in body:
            release.wait(120)
        return None

    world.server.faults.append(hang)
    proc = subprocess.Popen([plugin_executable(), "sync", "spec.yml", "--log-level", "info"], cwd=tmp_path,
                            env={**os.environ, **world.env}, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    try:
        seen = []
        deadline = time.time() + 60
        while time.time() < deadline:
            line = proc.stderr.readline()
            seen.append(line)
            if "wrote" in line and "rows to" in line:
                break
        else:
            pytest.fail("no rows flowed: " + "".join(seen[-5:]))
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        release.set()
        world.server.faults.remove(hang)
    assert proc.returncode == -signal.SIGKILL
    assert _dump(db) == previous
    # and the file still takes a sync
    assert _aws_encryption(["sync", "spec.yml"], tmp_path, world.env).returncode == 0


def _sha(p: Path) -> str:
    return hashlib.sha256(p.read_bytes()).hexdigest()


def _docs(*docs: dict) -> str:
    return "---\n".join(yaml.safe_dump(d) for d in docs)


SOURCE = {"kind": "source", "spec": {"name": "aws-encryption", "path": "aws-encryption", "registry": "local",
                                     "version": "v0.1.0", "tables": ["*"], "destinations": ["duckdb"],
                                     "spec": {"regions": ["us-east-1"]}}}


def _dest(path: str = "aws-encryption-duckdb", db: str = "posture.duckdb") -> dict:
    return {"kind": "destination", "spec": {"name": "duckdb", "path": path, "registry": "local",
                                            "spec": {"connection_string": db}}}


@pytest.mark.parametrize("case, expected", [
    ("no-source", "no `kind: source` document"),
    ("two-sources", "two sources are named 'aws-encryption'"),
    ("not-duckdb", "is not DuckDB"),
    ("unwritable", "does not exist"),
    ("not-a-database", "is not a DuckDB database file"),
    ("bad-plugin-spec", "spec field regions[0]"),
    ("unset-variable", "environment variable AWS_ENC_NOT_SET is not set"),
])
def test_bad_input_is_one_line_exit_2_and_touches_nothing(world, tmp_path, case, expected):
    db = tmp_path / "posture.duckdb"
    if case == "not-a-database":
        db.write_text("id,name\n1,not a database\n")
    else:
        con = duckdb.connect(str(db))
        con.execute("CREATE TABLE keep_me AS SELECT 42 AS answer")
        con.close()
    before = _sha(db)
    src = json.loads(json.dumps(SOURCE))
    src["spec"]["spec"] = world.spec(accounts=[DATA])
    docs = {
        "no-source": [_dest()],
        "two-sources": [src, src, _dest()],
        "not-duckdb": [src, _dest(path="cloudquery/postgresql")],
        "unwritable": [src, _dest(db=str(tmp_path / "missing-dir" / "p.duckdb"))],
        "not-a-database": [src, _dest()],
        "bad-plugin-spec": [{**src, "spec": {**src["spec"], "spec": {"regions": ["mars-1"]}}}, _dest()],
        "unset-variable": [{**src, "spec": {**src["spec"], "spec": {"regions": ["${AWS_ENC_NOT_SET}"]}}}, _dest()],
    }[case]
    (tmp_path / "spec.yml").write_text(_docs(*docs))
    mark = world.server.mark()
    env = {k: v for k, v in world.env.items()}
    r = _aws_encryption(["sync", "spec.yml"], tmp_path, env)
    assert r.returncode == 2, r.stderr
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and expected in lines[0], r.stderr
    assert _sha(db) == before
    assert world.server.since(mark) == [], "no AWS call before the input is known good"


def test_second_writer_gets_locked_by_pid(world, tmp_path):
    db = tmp_path / "posture.duckdb"
    holder = subprocess.Popen([sys.executable, "-c", "import duckdb,sys,time; c=duckdb.connect(sys.argv[1]); "
                               "print('open', flush=True); time.sleep(60)", str(db)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "open"
        write_specs(tmp_path / "spec.yml", world.spec(accounts=[DATA]), db=str(db))
        r = _aws_encryption(["sync", "spec.yml"], tmp_path, world.env)
    finally:
        holder.kill()
        holder.wait()
    assert r.returncode == 2
    assert f"is locked by PID {holder.pid}" in r.stderr and len(r.stderr.strip().splitlines()) == 1


def test_sql_command(world, tmp_path):
    db = tmp_path / "posture.duckdb"
    write_specs(tmp_path / "spec.yml", world.spec(accounts=[DATA]), db=str(db))
    assert _aws_encryption(["sync", "spec.yml"], tmp_path, world.env).returncode == 0
    q = "SELECT count(*) AS n, list(DISTINCT region ORDER BY region) AS regions FROM aws_kms_keys"
    r = _aws_encryption(["sql", str(db), q, "--format", "json"], tmp_path, {})
    assert r.returncode == 0 and json.loads(r.stdout) == [{"n": 7, "regions": ["eu-west-1", "us-east-1"]}]
    r = _aws_encryption(["sql", str(db), q, "--format", "jsonl"], tmp_path, {})
    assert r.returncode == 0 and json.loads(r.stdout) == {"n": 7, "regions": ["eu-west-1", "us-east-1"]}
    r = _aws_encryption(["sql", str(db), "SELECT name, region FROM aws_s3_buckets ORDER BY name"], tmp_path, {})
    assert r.stdout.splitlines()[0] == "name,region"  # csv in a pipe
    assert f"data-lake-{DATA},us-east-1" in r.stdout
    r = _aws_encryption(["sql", str(db), "SELECT * FROM no_such_table"], tmp_path, {})
    assert r.returncode == 2 and "no_such_table" in r.stderr and len(r.stderr.strip().splitlines()) == 1
    r = _aws_encryption(["sql", str(db), "DELETE FROM aws_kms_keys"], tmp_path, {})
    assert r.returncode == 2 and "read-only" in r.stderr.lower()
    r = _aws_encryption(["sql", str(tmp_path / "nope.duckdb"), "SELECT 1"], tmp_path, {})
    assert r.returncode == 2 and "does not exist" in r.stderr


def test_sync_then_check(world, tmp_path):
    db = tmp_path / "posture.duckdb"
    write_specs(tmp_path / "spec.yml", world.spec(), db=str(db))
    r = _aws_encryption(["sync", "spec.yml", "--check", "--format", "json"], tmp_path, world.env)
    assert r.returncode == 1, r.stderr  # the data lake's aws/s3 finding is high
    assert "synced into" in r.stderr    # the summary goes to stderr so stdout is the report
    report = json.loads(r.stdout)
    by_id = {c["id"]: c for c in report["checks"]}
    lake = [f for f in by_id["s3_aws_managed_key_cross_account"]["findings"]
            if f["resource_arn"] == f"arn:aws:s3:::data-lake-{DATA}"]
    assert lake and lake[0]["status"] == "fail"
    # COMPUTE's audit role can't read rotation statuses: error findings make the data incomplete
    r = _aws_encryption(["sync", "spec.yml", "--check", "--fail-on", "none", "--format", "json"], tmp_path, world.env)
    assert r.returncode == 1 and "incomplete" in json.loads(r.stdout)["verdict"]
    r = _aws_encryption(["sync", "spec.yml", "--check", "--fail-on", "none", "--allow-incomplete", "--format", "json"],
                        tmp_path, world.env)
    assert r.returncode == 0


def test_the_status_line_says_when_the_derived_tables_are_computed(world, tmp_path):
    """After the AWS calls, the derived tables (access paths, permissions) take a while on a large
    organisation: the status line names the one being computed instead of the last AWS unit."""
    import io

    from plugin.cli.sync import run
    from plugin.cli.yaml_specs import SourcePlan, SyncPlan
    from plugin.source.spec import parse_spec
    from .helpers import environment

    plan = SyncPlan(sources=[SourcePlan(name="aws-encryption", spec=parse_spec(world.spec()), tables=["*"],
                                        skip_tables=[], skip_dependent_tables=True, file="spec.yml")],
                    db_path=str(tmp_path / "posture.duckdb"))
    out = io.StringIO()
    with environment(world.env):
        run(plan, progress=out)
    last = out.getvalue().rstrip("\n").split("\r")[-1]
    assert "accounts 2/2" in last and "deriving aws_" in last, last
