"""The shared DuckDB writer against real DuckDB files: what the hub destination writes, and no data lost."""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import textwrap
import uuid
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pytest

from plugin.store.files import DatabaseLockedError, MigrationError, NotADuckDBFileError, NotWritableError, WriterError, check_can_open
from plugin.store.writer import DuckDBWriter
from plugin.store.duckdb_types import add_cq_columns, duckdb_type
from plugin.tables.schema import JSON, UUID, rows_to_batch
from plugin.tables import by_name

KEYS = by_name()["aws_kms_keys"]
T1 = dt.datetime(2025, 3, 1, 12, 0, 0, tzinfo=dt.timezone.utc)
T2 = T1 + dt.timedelta(hours=1)
REPO = Path(__file__).resolve().parent.parent


def key_row(i: int, **over: Any) -> dict[str, Any]:
    arn = f"arn:aws:kms:us-east-1:111111111111:key/{i:08d}-0000-0000-0000-000000000000"
    row = {
        "_cq_id": uuid.uuid5(uuid.NAMESPACE_URL, arn), "_cq_parent_id": None,
        "account_id": "111111111111", "region": "us-east-1", "arn": arn, "key_id": arn.rsplit("/", 1)[1],
        "rotation_enabled": i % 2 == 0, "tags": {"team": "data", "n": i}, "replica_keys": None,
        "creation_date": dt.datetime(2024, 1, 2, 3, 4, 5, 678901, tzinfo=dt.timezone.utc),
        "description": f"key {i}", "enabled": True, "encryption_algorithms": ["SYMMETRIC_DEFAULT"],
        "key_manager": "CUSTOMER", "key_state": "Enabled", "key_usage": "ENCRYPT_DECRYPT",
        "pending_deletion_window_in_days": None, "mac_algorithms": None, "signing_algorithms": [],
    }
    row.update(over)
    return row


def keys_batch(rows: list[dict[str, Any]], source: str = "aws", sync_time: dt.datetime = T1,
               schema: pa.Schema | None = None) -> pa.RecordBatch:
    return add_cq_columns(rows_to_batch(schema or KEYS.arrow_schema(), rows), source, sync_time)


def sync(path: Path, batch: pa.RecordBatch, source: str = "aws", sync_time: dt.datetime = T1,
         **kw: Any) -> None:
    """One complete sync of one table, as the CLI drives it: migrate, insert, delete stale, commit."""
    with DuckDBWriter(path, **kw) as w:
        w.migrate(batch.schema)
        w.write(batch)
        w.delete_stale("aws_kms_keys", source, sync_time)


def query(path: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(path), read_only=True) as con:
        return con.execute(sql).fetchall()


def descriptions(path: Path) -> dict[str, str]:
    return dict(query(path, "SELECT arn, description FROM aws_kms_keys"))


# ---------------------------------------------------------------------------------------------
# Tables and types

def test_table_columns_types_and_constraints_match_the_hub_destination(tmp_path: Path) -> None:
    db = tmp_path / "p.duckdb"
    sync(db, keys_batch([key_row(1)]))
    cols = query(db, "SELECT column_name, data_type, is_nullable FROM duckdb_columns() "
                     "WHERE table_name = 'aws_kms_keys' ORDER BY column_index")
    names = [c[0] for c in cols]
    types = {c[0]: c[1] for c in cols}
    assert names[:4] == ["_cq_sync_time", "_cq_source_name", "_cq_id", "_cq_parent_id"]
    assert names[2:] == KEYS.column_names()
    assert types["_cq_sync_time"] == "TIMESTAMP" and types["_cq_source_name"] == "VARCHAR"
    assert types["_cq_id"] == "UUID" and types["_cq_parent_id"] == "UUID"
    assert types["tags"] == "JSON" and types["multi_region_configuration"] == "JSON"
    assert types["encryption_algorithms"] == "VARCHAR[]"
    assert types["creation_date"] == "TIMESTAMP" and types["deletion_date"] == "TIMESTAMP"
    assert types["rotation_enabled"] == "BOOLEAN" and types["pending_deletion_window_in_days"] == "BIGINT"
    assert types["arn"] == "VARCHAR"
    assert {c[0]: c[2] for c in cols}["_cq_id"] is False
    constraints = {(kind, tuple(cols)) for kind, cols in query(
        db, "SELECT constraint_type, constraint_column_names FROM duckdb_constraints() "
            "WHERE table_name = 'aws_kms_keys' AND constraint_type IN ('PRIMARY KEY', 'UNIQUE')")}
    assert constraints == {("PRIMARY KEY", ("_cq_id",)), ("UNIQUE", ("_cq_id",))}
    assert query(db, "SELECT table_name FROM duckdb_tables()") == [("aws_kms_keys",)]


def test_values_land_as_json_uuid_arrays_and_naive_utc(tmp_path: Path) -> None:
    db = tmp_path / "p.duckdb"
    row = key_row(1, multi_region_configuration={"MultiRegionKeyType": "PRIMARY", "ReplicaKeys": []})
    sync(db, keys_batch([row], sync_time=T1))
    with duckdb.connect(str(db), read_only=True) as con:
        # A reader in another time zone must still see the UTC wall-clock values.
        con.execute("SET TimeZone='America/New_York'")
        got = con.execute(
            "SELECT _cq_sync_time, _cq_source_name, _cq_id, tags->>'team', json_type(tags), tags::VARCHAR, "
            "multi_region_configuration->>'MultiRegionKeyType', encryption_algorithms, signing_algorithms, "
            "mac_algorithms, creation_date, replica_keys FROM aws_kms_keys").fetchone()
    assert got == (T1.replace(tzinfo=None), "aws", row["_cq_id"], "data", "OBJECT", '{"team":"data","n":1}',
                   "PRIMARY", ["SYMMETRIC_DEFAULT"], [], None, dt.datetime(2024, 1, 2, 3, 4, 5, 678901), None)


@pytest.mark.parametrize("arrow_type, expected", [
    (pa.string(), "VARCHAR"), (pa.large_string(), "VARCHAR"), (pa.bool_(), "BOOLEAN"),
    (pa.int8(), "TINYINT"), (pa.int16(), "SMALLINT"), (pa.int32(), "INTEGER"), (pa.int64(), "BIGINT"),
    (pa.uint8(), "UINTEGER"), (pa.uint32(), "UINTEGER"), (pa.uint64(), "UBIGINT"),
    (pa.float32(), "FLOAT"), (pa.float64(), "DOUBLE"), (pa.binary(), "BLOB"), (JSON, "JSON"), (UUID, "UUID"),
    (pa.timestamp("s"), "TIMESTAMP"), (pa.timestamp("ns", tz="Europe/Paris"), "TIMESTAMP"),
    (pa.date32(), "TIMESTAMP"), (pa.list_(pa.string()), "VARCHAR[]"), (pa.list_(pa.int64()), "BIGINT[]"),
    (pa.struct([("a", pa.int64())]), "JSON"), (pa.map_(pa.string(), pa.string()), "JSON"),
    (pa.decimal128(10, 2), "VARCHAR"),
])
def test_arrow_to_duckdb_type_mapping(arrow_type: pa.DataType, expected: str) -> None:
    assert duckdb_type(arrow_type) == expected


def test_other_arrow_types_are_written_with_the_hub_types(tmp_path: Path) -> None:
    db = tmp_path / "p.duckdb"
    paris = dt.timezone(dt.timedelta(hours=1))
    schema = pa.schema([
        pa.field("id", pa.int32(), nullable=False, metadata={b"cq:extension:primary_key": b"true"}),
        pa.field("when_ns", pa.timestamp("ns", tz="Europe/Paris")),
        pa.field("day", pa.date32()),
        pa.field("obj", pa.struct([("a", pa.int64()), ("b", pa.string())])),
        pa.field("nums", pa.list_(pa.int64())),
        pa.field("docs", pa.list_(JSON)),
        pa.field("small", pa.uint8()),
        pa.field("raw", pa.binary()),
    ], metadata={b"cq:table_name": b"misc"})
    batch = pa.RecordBatch.from_arrays([
        pa.array([1], pa.int32()),
        pa.array([dt.datetime(2025, 1, 1, 13, 0, tzinfo=paris)], pa.timestamp("ns", tz="Europe/Paris")),
        pa.array([dt.date(2025, 1, 2)], pa.date32()),
        pa.array([{"a": 1, "b": "x"}], pa.struct([("a", pa.int64()), ("b", pa.string())])),
        pa.array([[1, 2]], pa.list_(pa.int64())),
        pa.ListArray.from_arrays(pa.array([0, 1], pa.int32()),
                                 pa.ExtensionArray.from_storage(JSON, pa.array([b'{"k":true}'], pa.binary()))),
        pa.array([7], pa.uint8()),
        pa.array([b"\x00\x01"], pa.binary()),
    ], schema=schema)
    with DuckDBWriter(db) as w:
        w.write(batch)  # migrates on first sight of the table
    assert query(db, "SELECT data_type FROM duckdb_columns() WHERE table_name = 'misc' ORDER BY column_index") == [
        ("INTEGER",), ("TIMESTAMP",), ("TIMESTAMP",), ("JSON",), ("BIGINT[]",), ("JSON[]",), ("UINTEGER",),
        ("BLOB",)]
    assert query(db, "SELECT when_ns, day, obj::VARCHAR, nums, docs[1]->>'k', small, raw FROM misc") == [
        (dt.datetime(2025, 1, 1, 12, 0), dt.datetime(2025, 1, 2), '{"a":1,"b":"x"}', [1, 2], "true", 7,
         b"\x00\x01")]


def test_json_lists_survive_slices_and_null_lists(tmp_path: Path) -> None:
    db = tmp_path / "p.duckdb"
    schema = pa.schema([pa.field("id", pa.int64(), nullable=False, metadata={b"cq:extension:primary_key": b"true"}),
                        pa.field("docs", pa.list_(JSON)), pa.field("big", pa.large_list(JSON))],
                       metadata={b"cq:table_name": b"lists"})
    docs = pa.ExtensionArray.from_storage(JSON, pa.array([b'{"a":1}', b"[2]"], pa.binary()))
    null_middle = pa.array([False, True, False])
    batch = pa.RecordBatch.from_arrays([
        pa.array([1, 2, 3]),
        pa.ListArray.from_arrays(pa.array([0, 1, 1, 2], pa.int32()), docs, mask=null_middle),
        pa.LargeListArray.from_arrays(pa.array([0, 1, 1, 2], pa.int64()), docs, mask=null_middle),
    ], schema=schema)
    with DuckDBWriter(db) as w:
        w.write(batch.slice(1, 2))  # a slice: offsets no longer start at zero
        w.write(batch.slice(0, 1))
    assert query(db, "SELECT id, docs, big, json_type(docs[1]) FROM lists ORDER BY id") == [
        (1, ['{"a":1}'], ['{"a":1}'], "OBJECT"), (2, None, None, None), (3, ["[2]"], ["[2]"], "ARRAY")]


def test_add_cq_columns_prepends_what_the_cli_sends() -> None:
    base = rows_to_batch(KEYS.arrow_schema(), [key_row(1), key_row(2)])
    b = add_cq_columns(base, "src", T1)
    assert b.schema.names[:3] == ["_cq_sync_time", "_cq_source_name", "_cq_id"]
    assert b.schema.field("_cq_sync_time").type == pa.timestamp("us", tz="UTC")
    assert b.schema.field("_cq_source_name").type == pa.string()
    for name in ("_cq_sync_time", "_cq_source_name"):
        assert b.schema.field(name).nullable and not b.schema.field(name).metadata
    assert b.column(0).to_pylist() == [T1, T1] and b.column(1).to_pylist() == ["src", "src"]
    assert b.schema.metadata == base.schema.metadata
    # Idempotent, and the schema form matches the batch form.
    assert add_cq_columns(b, "src", T1).equals(b)
    assert add_cq_columns(KEYS.arrow_schema(), "src", T1).equals(b.schema, check_metadata=True)


# ---------------------------------------------------------------------------------------------
# Write modes and delete-stale

def test_overwrite_upserts_a_changed_row(tmp_path: Path) -> None:
    db = tmp_path / "p.duckdb"
    sync(db, keys_batch([key_row(1), key_row(2)], sync_time=T1))
    changed = key_row(1, description="rotated", encryption_algorithms=["SYMMETRIC_DEFAULT", "X"])
    sync(db, keys_batch([changed], sync_time=T2), sync_time=T2, write_mode="overwrite")
    rows = query(db, "SELECT arn, description, encryption_algorithms, _cq_sync_time FROM aws_kms_keys ORDER BY arn")
    assert rows == [(changed["arn"], "rotated", ["SYMMETRIC_DEFAULT", "X"], T2.replace(tzinfo=None)),
                    (key_row(2)["arn"], "key 2", ["SYMMETRIC_DEFAULT"], T1.replace(tzinfo=None))]


def test_a_key_repeated_inside_one_batch_keeps_one_row(tmp_path: Path) -> None:
    db = tmp_path / "p.duckdb"
    sync(db, keys_batch([key_row(1), key_row(1, description="again"), key_row(2)]))
    assert sorted(descriptions(db).values()) == ["key 1", "key 2"]


def test_delete_stale_removes_only_old_rows_of_the_same_source(tmp_path: Path) -> None:
    db = tmp_path / "p.duckdb"
    sync(db, keys_batch([key_row(1), key_row(2)], "aws", T1), "aws", T1)
    sync(db, keys_batch([key_row(3)], "other", T1), "other", T1)
    # The next sync of "aws" no longer sees key 2.
    with DuckDBWriter(db) as w:
        w.write(keys_batch([key_row(1)], "aws", T2))
        assert w.delete_stale("aws_kms_keys", "aws", T2) == 1
    rows = query(db, "SELECT description, _cq_source_name FROM aws_kms_keys ORDER BY description")
    assert rows == [("key 1", "aws"), ("key 3", "other")]


def test_append_mode_has_no_constraints_and_never_deletes(tmp_path: Path) -> None:
    db = tmp_path / "p.duckdb"
    sync(db, keys_batch([key_row(1)], sync_time=T1), write_mode="append")
    sync(db, keys_batch([key_row(1)], sync_time=T2), sync_time=T2, write_mode="append")
    assert query(db, "SELECT count(*) FROM aws_kms_keys") == [(2,)]
    assert query(db, "SELECT constraint_type FROM duckdb_constraints() WHERE table_name = 'aws_kms_keys' "
                     "AND constraint_type IN ('PRIMARY KEY', 'UNIQUE')") == []


# ---------------------------------------------------------------------------------------------
# Migrations

def _schema_without(name: str) -> pa.Schema:
    s = KEYS.arrow_schema()
    return s.remove(s.get_field_index(name))


def test_safe_migration_adds_a_new_nullable_column(tmp_path: Path) -> None:
    db = tmp_path / "p.duckdb"
    old = _schema_without("key_state")
    sync(db, keys_batch([key_row(1)], schema=old))
    assert "key_state" not in [c[0] for c in query(db, "DESCRIBE aws_kms_keys")]
    sync(db, keys_batch([key_row(2)], sync_time=T2), sync_time=T2)
    assert query(db, "SELECT description, key_state FROM aws_kms_keys") == [("key 2", "Enabled")]
    assert dict((c[0], c[1]) for c in query(db, "DESCRIBE aws_kms_keys"))["key_state"] == "VARCHAR"


def test_unsafe_migration_is_refused_unless_forced(tmp_path: Path) -> None:
    db = tmp_path / "p.duckdb"
    sync(db, keys_batch([key_row(1)]))
    s = KEYS.arrow_schema()
    i = s.get_field_index("description")
    changed = add_cq_columns(s.set(i, pa.field("description", pa.int64(), metadata=s.field(i).metadata)), "aws", T2)
    with pytest.raises(MigrationError, match=r"p\.duckdb: table aws_kms_keys .*description type changed from "
                                             r"VARCHAR to BIGINT.*migrate_mode: forced"):
        with DuckDBWriter(db) as w:
            w.migrate(changed)
    assert descriptions(db) == {key_row(1)["arn"]: "key 1"}
    with DuckDBWriter(db, migrate_mode="forced") as w:
        w.migrate(changed)
    assert query(db, "SELECT count(*) FROM aws_kms_keys") == [(0,)]
    assert dict((c[0], c[1]) for c in query(db, "DESCRIBE aws_kms_keys"))["description"] == "BIGINT"


# ---------------------------------------------------------------------------------------------
# No data lost

def test_an_exception_mid_sync_keeps_the_previous_sync(tmp_path: Path) -> None:
    db = tmp_path / "p.duckdb"
    sync(db, keys_batch([key_row(1), key_row(2)]))
    before = query(db, "SELECT * FROM aws_kms_keys ORDER BY arn")
    with pytest.raises(RuntimeError, match="AWS went away"):
        with DuckDBWriter(db) as w:
            w.migrate(keys_batch([]).schema)
            w.write(keys_batch([key_row(1, description="half-written"), key_row(3)], sync_time=T2))
            w.delete_stale("aws_kms_keys", "aws", T2)
            raise RuntimeError("AWS went away")
    assert query(db, "SELECT * FROM aws_kms_keys ORDER BY arn") == before


def many_keys(n: int, sync_time: dt.datetime) -> pa.Table:
    """n key rows with random `_cq_id`s, built in Arrow (Python rows would take minutes)."""
    base = keys_batch([key_row(i, description="new") for i in range(1000)], sync_time=sync_time)
    table = pa.Table.from_batches([base] * (n // 1000))
    ids = pa.FixedSizeBinaryArray.from_buffers(pa.binary(16), table.num_rows,
                                               [None, pa.py_buffer(os.urandom(16 * table.num_rows))])
    i = table.schema.get_field_index("_cq_id")
    return table.set_column(i, table.schema.field(i), pa.chunked_array([pa.ExtensionArray.from_storage(UUID, ids)]))


# More rows than a DuckDB row group (122,880), so the uncommitted data is already being written
# into the database file itself when the process dies, not only held in memory.
_KILLED_WRITER = textwrap.dedent("""
    import sys
    sys.path.insert(0, sys.argv[2])
    from tests.test_duckdb_writer import many_keys, T2
    from plugin.store.writer import DuckDBWriter
    with DuckDBWriter(sys.argv[1]) as w:
        w.write(many_keys(200_000, T2))
        w.delete_stale("aws_kms_keys", "aws", T2)
        print("writing", flush=True)
        while True:  # rows keep flowing until the parent kills us
            w.write(many_keys(5_000, T2))
""")


def test_sigkill_mid_transaction_keeps_the_previous_sync(tmp_path: Path) -> None:
    db = tmp_path / "p.duckdb"
    previous = [key_row(i, description=f"old {i}") for i in range(0, 30000, 3)]
    sync(db, keys_batch(previous, sync_time=T1))
    before = query(db, "SELECT * FROM aws_kms_keys ORDER BY arn")
    proc = subprocess.Popen([sys.executable, "-c", _KILLED_WRITER, str(db), str(REPO)],
                            stdout=subprocess.PIPE, text=True, cwd=REPO)
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "writing"
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.kill()
        proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    assert query(db, "SELECT * FROM aws_kms_keys ORDER BY arn") == before
    assert len(before) == 10000
    # And the file takes the next sync normally.
    sync(db, keys_batch([key_row(1)], sync_time=T2), sync_time=T2)
    assert descriptions(db) == {key_row(1)["arn"]: "key 1"}


# ---------------------------------------------------------------------------------------------
# Refusals, before anything is written

def test_a_database_held_by_another_process_names_its_pid(tmp_path: Path) -> None:
    db = tmp_path / "p.duckdb"
    sync(db, keys_batch([key_row(1)]))
    holder = subprocess.Popen([sys.executable, "-c", "import duckdb, sys, time\n"
                               "con = duckdb.connect(sys.argv[1]); print('open', flush=True); time.sleep(60)",
                               str(db)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "open"
        with pytest.raises(DatabaseLockedError) as e:
            with DuckDBWriter(db) as w:
                w.write(keys_batch([key_row(2)]))
        assert str(e.value).startswith(f"database {db} is locked by PID {holder.pid} (")
        assert "\n" not in str(e.value) and e.value.pid == holder.pid
    finally:
        holder.kill()
        holder.wait(timeout=30)
    assert descriptions(db) == {key_row(1)["arn"]: "key 1"}


@pytest.mark.parametrize("content", [b"", b"id,name\n1,not a database\n", b"SQLite format 3\x00" + b"\x00" * 200])
def test_a_file_that_is_not_duckdb_is_refused_and_left_unchanged(tmp_path: Path, content: bytes) -> None:
    db = tmp_path / "posture.duckdb"
    db.write_bytes(content)
    with pytest.raises(NotADuckDBFileError, match=f"database {db} is .*not a DuckDB database"):
        with DuckDBWriter(db) as w:
            w.write(keys_batch([key_row(1)]))
    assert db.read_bytes() == content
    assert sorted(p.name for p in tmp_path.iterdir()) == ["posture.duckdb"]


def test_checking_a_new_path_creates_nothing(tmp_path: Path) -> None:
    db = tmp_path / "p.duckdb"
    check_can_open(db)  # what `cloudquery test-connection` runs
    assert list(tmp_path.iterdir()) == []
    sync(db, keys_batch([key_row(1)]))
    check_can_open(db)
    assert descriptions(db) == {key_row(1)["arn"]: "key 1"}


def test_an_unwritable_path_is_refused_without_creating_anything(tmp_path: Path) -> None:
    missing = tmp_path / "no-such-dir" / "p.duckdb"
    with pytest.raises(NotWritableError, match=f"cannot create database {missing}: directory .*no-such-dir does not "
                                               "exist"):
        with DuckDBWriter(missing):
            pass
    assert not missing.parent.exists()
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    with pytest.raises(NotWritableError, match="is not a directory"):
        with DuckDBWriter(blocker / "p.duckdb"):
            pass
    with pytest.raises(NotWritableError, match="is a directory"):
        with DuckDBWriter(tmp_path):
            pass


@pytest.mark.skipif(os.geteuid() == 0, reason="root ignores file permissions")
def test_a_read_only_directory_is_refused(tmp_path: Path) -> None:
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o500)
    try:
        with pytest.raises(NotWritableError, match="is not writable"):
            with DuckDBWriter(ro / "p.duckdb"):
                pass
    finally:
        ro.chmod(0o700)


def test_every_refusal_is_a_writer_error_with_one_line() -> None:
    for cls in (DatabaseLockedError, NotADuckDBFileError, NotWritableError, MigrationError):
        assert issubclass(cls, WriterError)
    with pytest.raises(WriterError, match="write_mode: expected one of overwrite-delete-stale, overwrite, append"):
        DuckDBWriter("x.duckdb", write_mode="upsert")
