"""The real CloudQuery CLI syncing our source (on the moto world) into our DuckDB destination."""

from __future__ import annotations

import datetime as dt
import shutil
import subprocess
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any, Iterator

import duckdb
import grpc
import pyarrow as pa
import pytest
from cloudquery.plugin_v3 import arrow, plugin_pb2, plugin_pb2_grpc
from google.protobuf.timestamp_pb2 import Timestamp

from plugin.demo.world import COMPUTE, DATA, World

from .cli import run_cli, write_specs
from .grpc_client import plugin_executable

pytestmark = pytest.mark.e2e  # the real CloudQuery CLI and our destination's server process


def write_spec(dir: Path, world: World, *, source_name: str, accounts: list[str], write_mode: str,
               tables: list[str] | None = None, db: str = "posture.duckdb") -> Path:
    return write_specs(dir / f"{source_name}-{write_mode}.yml", world.spec(accounts=accounts), db=db,
                       source_name=source_name, tables=tables or ["aws_kms_keys", "aws_s3_buckets"],
                       write_mode=write_mode)


def cloudquery(dir: Path, world: World, *args: str) -> subprocess.CompletedProcess[str]:
    return run_cli(list(args), dir, world.env, timeout=120)


def sync(dir: Path, world: World, **kw: Any) -> None:
    r = cloudquery(dir, world, "sync", str(write_spec(dir, world, **kw)))
    assert r.returncode == 0, r.stdout[-1500:] + r.stderr[-1500:] + _log_tail(dir)


def _log_tail(dir: Path) -> str:
    log = dir / "cloudquery.log"
    return "\n".join(log.read_text().splitlines()[-15:]) if log.exists() else ""


def rows(db: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute(sql).fetchall()


def bucket_names(db: Path, source: str) -> set[str]:
    return {r[0] for r in rows(db, f"SELECT name FROM aws_s3_buckets WHERE _cq_source_name = '{source}'")}


def test_cli_sync_upserts_deletes_stale_and_leaves_other_sources_alone(tmp_path: Path, world: World) -> None:
    db = tmp_path / "posture.duckdb"
    # Two sources share the file; they cover different accounts, so their _cq_ids never collide.
    sync(tmp_path, world, source_name="aws-compute", accounts=[COMPUTE], write_mode="overwrite-delete-stale")
    sync(tmp_path, world, source_name="aws", accounts=[DATA], write_mode="overwrite-delete-stale")
    compute_before = rows(db, "SELECT * FROM aws_s3_buckets WHERE _cq_source_name = 'aws-compute' ORDER BY arn")
    assert {r[0] for r in rows(db, "SELECT DISTINCT account_id FROM aws_kms_keys WHERE _cq_source_name = 'aws'")} \
        == {DATA}
    assert rows(db, "SELECT count(*) FROM aws_kms_keys WHERE _cq_source_name = 'aws'")[0][0] >= 6
    assert bucket_names(db, "aws") == {n for n, a in world.buckets.items() if a == DATA}
    assert bucket_names(db, "aws-compute") == {n for n, a in world.buckets.items() if a == COMPUTE}

    types = dict(rows(db, "SELECT column_name, data_type FROM duckdb_columns() WHERE table_name = 'aws_kms_keys'"))
    assert list(types)[:3] == ["_cq_sync_time", "_cq_source_name", "_cq_id"]
    assert (types["_cq_sync_time"], types["_cq_id"], types["tags"], types["encryption_algorithms"],
            types["creation_date"]) == ("TIMESTAMP", "UUID", "JSON", "VARCHAR[]", "TIMESTAMP")
    assert rows(db, "SELECT constraint_column_names FROM duckdb_constraints() "
                    "WHERE table_name = 'aws_kms_keys' AND constraint_type = 'PRIMARY KEY'") == [(["_cq_id"],)]
    rotating = world.keys["rotating"]["Arn"]
    assert rows(db, f"SELECT tags->>'team', json_type(tags) FROM aws_kms_keys WHERE arn = '{rotating}'") == \
        [("data", "OBJECT")]

    added = f"added-{uuid.uuid4().hex[:12]}"
    s3 = world.admin("s3", DATA)
    s3.create_bucket(Bucket=added)
    try:
        sync(tmp_path, world, source_name="aws", accounts=[DATA], write_mode="overwrite-delete-stale")
        assert added in bucket_names(db, "aws")
        assert rows(db, "SELECT count(DISTINCT _cq_sync_time) FROM aws_s3_buckets "
                        "WHERE _cq_source_name = 'aws'") == [(1,)]
    finally:
        s3.delete_bucket(Bucket=added)
    # The bucket is gone: the next sync's delete-stale removes its row, and only its row.
    sync(tmp_path, world, source_name="aws", accounts=[DATA], write_mode="overwrite-delete-stale")
    assert bucket_names(db, "aws") == {n for n, a in world.buckets.items() if a == DATA}
    assert rows(db, "SELECT * FROM aws_s3_buckets WHERE _cq_source_name = 'aws-compute' ORDER BY arn") \
        == compute_before


def test_cli_append_mode_creates_no_keys_and_deletes_nothing(tmp_path: Path, world: World) -> None:
    db = tmp_path / "posture.duckdb"
    for _ in range(2):
        sync(tmp_path, world, source_name="aws", accounts=[DATA], write_mode="append", tables=["aws_s3_buckets"])
    n = len([b for b, a in world.buckets.items() if a == DATA])
    assert rows(db, "SELECT count(*), count(DISTINCT _cq_id), count(DISTINCT _cq_sync_time) "
                    "FROM aws_s3_buckets") == [(2 * n, n, 2)]
    assert rows(db, "SELECT constraint_type FROM duckdb_constraints() WHERE table_name = 'aws_s3_buckets' "
                    "AND constraint_type IN ('PRIMARY KEY', 'UNIQUE')") == []


def test_cli_refuses_a_file_that_is_not_duckdb_and_leaves_it_unchanged(tmp_path: Path, world: World) -> None:
    db = tmp_path / "posture.duckdb"
    db.write_text("account,bucket\n111111111111,data-lake\n")
    before = db.read_bytes()
    spec = write_spec(tmp_path, world, source_name="aws", accounts=[DATA], write_mode="overwrite-delete-stale")
    r = cloudquery(tmp_path, world, "sync", str(spec))
    out = r.stdout + r.stderr + _log_tail(tmp_path)
    assert r.returncode != 0
    assert "failed to init destination duckdb" in out and f"database {db.name} is not a DuckDB database file" in out
    assert db.read_bytes() == before
    r = cloudquery(tmp_path, world, "test-connection", str(spec))
    assert r.returncode != 0
    assert "not a DuckDB database file" in r.stdout + r.stderr + _log_tail(tmp_path)
    assert db.read_bytes() == before


# ---------------------------------------------------------------------------------------------
# The Write stream over gRPC, as the CLI drives it, to cancel it at a chosen moment

def _write_requests(batch: pa.RecordBatch, sync_time: dt.datetime, hold: threading.Event | None = None
                    ) -> Iterator[plugin_pb2.Write.Request]:
    yield plugin_pb2.Write.Request(migrate_table=plugin_pb2.Write.MessageMigrateTable(
        table=arrow.schema_to_bytes(batch.schema)))
    yield plugin_pb2.Write.Request(insert=plugin_pb2.Write.MessageInsert(record=arrow.record_to_bytes(batch)))
    ts = Timestamp()
    ts.FromDatetime(sync_time)
    yield plugin_pb2.Write.Request(delete=plugin_pb2.Write.MessageDeleteStale(
        table_name="aws_kms_keys", source_name="aws", sync_time=ts))
    if hold is not None:
        hold.wait(30)  # the CLI stalls here (e.g. on another destination) and is then interrupted


def test_a_write_stream_the_cli_cancels_is_rolled_back(tmp_path: Path) -> None:
    from .test_duckdb_writer import T1, T2, key_row, keys_batch

    sock_dir = Path(tempfile.mkdtemp(prefix="cqd-", dir="/tmp"))  # unix socket paths are short
    server = subprocess.Popen([plugin_executable("aws-encryption-duckdb"), "serve", "--network", "unix",
                               "--address", str(sock_dir / "s.sock"), "--log-format", "json"],
                              cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        with grpc.insecure_channel(f"unix:{sock_dir / 's.sock'}") as channel:
            grpc.channel_ready_future(channel).result(timeout=30)
            stub = plugin_pb2_grpc.PluginStub(channel)
            stub.Init(plugin_pb2.Init.Request(spec=b'{"connection_string": "p.duckdb"}'))
            stub.Write(_write_requests(keys_batch([key_row(i) for i in range(50)], sync_time=T1), T1))
            before = rows(tmp_path / "p.duckdb", "SELECT * FROM aws_kms_keys ORDER BY arn")
            assert len(before) == 50

            hold = threading.Event()
            call = stub.Write.future(_write_requests(
                keys_batch([key_row(i, description="new") for i in range(3)], sync_time=T2), T2, hold))
            time.sleep(1.0)  # everything, delete-stale included, has reached the destination
            call.cancel()
            hold.set()
            with pytest.raises(grpc.FutureCancelledError):
                call.result()
            time.sleep(1.0)  # rollback and close
            assert rows(tmp_path / "p.duckdb", "SELECT * FROM aws_kms_keys ORDER BY arn") == before
            stub.Close(plugin_pb2.Close.Request())
    finally:
        server.terminate()
        server.wait(timeout=30)
        shutil.rmtree(sock_dir, ignore_errors=True)
