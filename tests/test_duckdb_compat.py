"""Our DuckDB files open in DuckDB 1.4 (the LTS release), and the bundled checks give the same
answers there as in the DuckDB we run.

DuckDB 2.x writes, by default, a storage format that DuckDB 1.x refuses ("Trying to read a database
file with version number 999"); users reading our files with the 1.4 CLI, JDBC/DBeaver 1.x, go-duckdb
or the hub's duckdb destination were shut out. A file we create is now in the v1.4.0 format unless the
spec asks for `latest` (docs/cloudquery.md, "The DuckDB storage format").

The end-to-end tests run DuckDB 1.4 itself, in a separate interpreter: a venv with `duckdb==1.4.*`
from PyPI, made once and kept under the temporary directory (DUCKDB14_VENV below), keyed by the
DuckDB series and the Python version. They skip, saying why, when pip can't install it (no network).
Set DUCKDB14_PYTHON to an interpreter that has DuckDB 1.4 to use that instead.
"""

from __future__ import annotations

import contextlib
import fcntl
import http.server
import json
import logging
import os
import shutil
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
from pathlib import Path
from typing import Any, Iterator

import duckdb
import pyarrow as pa
import pytest

from plugin.checks.files import bundled_queries_dir, load_checks
from plugin.checks.runner import _text, run_checks
from plugin.store.files import (DEFAULT_STORAGE_VERSION, STORAGE_VERSIONS, WriterError, format_version, open_database,
                                storage_format)
from plugin.store.merge import merge
from plugin.store.writer import DuckDBWriter

from .test_duckdb_writer import T1, T2, key_row, keys_batch, query, sync

REPO = Path(__file__).resolve().parent.parent
DUCKDB14_REQUIREMENT = "duckdb==1.4.*"
DUCKDB14_VENV = Path(tempfile.gettempdir()) / (
    f"aws-encryption-test-venvs-{os.getuid()}/duckdb-1.4-py{sys.version_info[0]}.{sys.version_info[1]}")


# ---------------------------------------------------------------------------------------------
# DuckDB 1.4 in a separate interpreter


def _make_venv(target: Path) -> str:
    """The venv's python, made once under a lock (parallel sessions wait for the first); a half-made
    venv (no `.ready`) is removed and made again. pytest.skip when pip can't install DuckDB 1.4."""
    python = target / "bin" / "python"
    ready = target / ".ready"
    if ready.exists():
        return str(python)
    target.parent.mkdir(parents=True, exist_ok=True)
    with open(target.parent / f"{target.name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if ready.exists():
            return str(python)
        shutil.rmtree(target, ignore_errors=True)
        t0 = time.monotonic()
        subprocess.run([sys.executable, "-m", "venv", str(target)], check=True, capture_output=True, timeout=300)
        r = subprocess.run([str(python), "-m", "pip", "install", "--disable-pip-version-check", "-q",
                            DUCKDB14_REQUIREMENT], capture_output=True, text=True, timeout=600)
        if r.returncode != 0:
            shutil.rmtree(target, ignore_errors=True)
            lines = [ln for ln in (r.stderr or r.stdout).splitlines() if ln.strip()]
            pytest.skip(f"pip could not install {DUCKDB14_REQUIREMENT} from PyPI (no network?): "
                        f"{lines[-1] if lines else 'exit ' + str(r.returncode)}")
        ready.write_text(f"{DUCKDB14_REQUIREMENT} installed in {time.monotonic() - t0:.1f} s\n")
    return str(python)


@pytest.fixture(scope="session")
def duckdb14() -> str:
    """A python whose `import duckdb` is DuckDB 1.4.x, and nothing of this project."""
    python = os.environ.get("DUCKDB14_PYTHON") or _make_venv(DUCKDB14_VENV)
    r = subprocess.run([python, "-I", "-c", "import duckdb; print(duckdb.__version__)"],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr[-500:]
    assert r.stdout.strip().startswith("1.4."), f"{python} has DuckDB {r.stdout.strip()}, expected 1.4.x"
    return python


# Runs in the DuckDB 1.4 interpreter (isolated: `-I`, nothing of this project importable). Reads a job
# from stdin: the database, the shared views' SQL, the checks' SQL (as the files are written, header
# comments and `/*param:name*/default` markers included) and plain queries. The connection is the
# one the runner opens (plugin/store/files.py sandboxed_connect): read-only, sandboxed, UTC.
RUNNER_14 = textwrap.dedent('''
    import json, sys
    import duckdb
    job = json.load(sys.stdin)
    out = {"duckdb": duckdb.__version__, "views": {}, "checks": {}, "queries": {}}
    def cell(v):
        return v if v is None or isinstance(v, str) else {"type": type(v).__name__, "value": str(v)}
    try:
        con = duckdb.connect(job["db"], read_only=True, config={
            "enable_external_access": False, "autoinstall_known_extensions": False,
            "autoload_known_extensions": False})
        con.execute("SET TimeZone = 'UTC'")
        con.execute("SET lock_configuration = true")
    except Exception as e:
        out["open_error"] = str(e).splitlines()[0]
        print(json.dumps(out)); sys.exit(0)
    for name, sql in job.get("views", {}).items():
        try:
            con.execute(sql)
            out["views"][name] = None
        except Exception as e:
            out["views"][name] = str(e).splitlines()[0]
    for cid, sql in job.get("checks", {}).items():
        try:
            cur = con.execute(sql)
            cols = [d[0].lower() for d in cur.description]
            idx = {c: cols.index(c) for c in ("resource_arn", "status", "reason")}
            out["checks"][cid] = {"rows": [[cell(r[idx[c]]) for c in ("resource_arn", "status", "reason")]
                                           for r in cur.fetchall()]}
        except Exception as e:
            out["checks"][cid] = {"error": str(e).splitlines()[0]}
    for name, sql in job.get("queries", {}).items():
        try:
            out["queries"][name] = [[cell(v) for v in r] for r in con.execute(sql).fetchall()]
        except Exception as e:
            out["queries"][name] = {"error": str(e).splitlines()[0]}
    print(json.dumps(out))
''')


def in_duckdb14(python: str, db: Path, *, checks: bool = False,
                queries: dict[str, str] | None = None) -> dict[str, Any]:
    """What DuckDB 1.4 makes of `db`: `open_error`, or the views, checks and queries' results."""
    job: dict[str, Any] = {"db": str(db), "queries": queries or {}}
    if checks:
        job["views"] = {f.name: f.read_text() for f in sorted((bundled_queries_dir() / "views").glob("*.sql"))}
        job["checks"] = {c.id: c.path.read_text() for c in load_checks([bundled_queries_dir()])}
    r = subprocess.run([python, "-I", "-c", RUNNER_14], input=json.dumps(job), capture_output=True, text=True,
                       timeout=600, cwd=db.parent)
    assert r.returncode == 0, r.stderr[-2000:]
    return json.loads(r.stdout)


def _rows14(rows: list[list[Any]]) -> list[tuple[str, str, str]]:
    # The runner's rendering (plugin/checks/runner.py _text) of the same values; a value that is not
    # text stays a dict and can't equal the current DuckDB's string.
    return sorted(tuple(_text(v) if v is None or isinstance(v, str) else json.dumps(v) for v in r)  # type: ignore[misc]
                  for r in rows)


# ---------------------------------------------------------------------------------------------
# End to end: a synced world, every bundled check, DuckDB 1.4 against the DuckDB we run


@pytest.mark.e2e
def test_synced_file_opens_in_duckdb_14_and_every_check_agrees(world, duckdb14: str, tmp_path: Path) -> None:
    from plugin.demo.world import COMPUTE, DATA

    from .access_world import ACCESS
    from .chain_world import CHAIN_COMPUTE, CHAIN_DATA, CHAIN_VAULT
    from .check_world import CENTRAL, CHECKS
    from .kms_controls_world import KMSC
    from .s3_controls_world import ACCOUNTS as S3C_ACCOUNTS
    from .scenario_world import PARTNER, SHARING
    from .shared_world import SHR_CONSUMER, SHR_OWNER
    from .test_checks import _sync

    db = tmp_path / "posture.duckdb"
    # Every world's accounts, so that each check has resources to judge; the default settings.
    _sync(world, db, [DATA, COMPUTE, CHECKS, CENTRAL, ACCESS, SHARING, PARTNER, CHAIN_DATA, CHAIN_COMPUTE,
                      CHAIN_VAULT, SHR_OWNER, SHR_CONSUMER, KMSC, *S3C_ACCOUNTS])

    ours = {r.check.id: r for r in run_checks(str(db), load_checks([bundled_queries_dir()]))}
    theirs = in_duckdb14(duckdb14, db, checks=True)

    assert "open_error" not in theirs, theirs.get("open_error")
    assert theirs["duckdb"].startswith("1.4.")
    assert {k: v for k, v in theirs["views"].items() if v} == {}, "shared views DuckDB 1.4 can't create"
    assert set(theirs["checks"]) == set(ours)
    errors = {cid: r["error"] for cid, r in theirs["checks"].items() if "error" in r}
    assert errors == {}, "checks that fail in DuckDB 1.4"
    differ = []
    for cid, res in ours.items():
        assert res.error is None, f"{cid}: {res.error}"
        mine = sorted((f.resource_arn, f.status, f.reason) for f in res.rows)
        if mine != _rows14(theirs["checks"][cid]["rows"]):
            differ.append(cid)
    assert differ == [], f"checks whose (resource_arn, status, reason) rows differ in DuckDB 1.4: {differ}"
    # The comparison means something: most checks judged resources, with more than one outcome.
    judged = [cid for cid, r in ours.items() if r.rows]
    assert len(judged) >= len(ours) - 3, sorted(set(ours) - set(judged))
    assert {f.status for r in ours.values() for f in r.rows} >= {"pass", "fail", "skip"}


@pytest.mark.e2e
def test_aws_encryption_sync_honours_latest(world, tmp_path: Path) -> None:
    from plugin.demo.world import DATA

    from .test_checks import _sync

    db = tmp_path / "posture.duckdb"
    _sync(world, db, [DATA], regions=["us-east-1"], duckdb_storage_version="latest")
    assert format_version(_format(db)) > (1, 4, 0)  # type: ignore[operator]


# ---------------------------------------------------------------------------------------------
# The format setting, seen by DuckDB 1.4


def _batch(n: int = 5, **kw: Any) -> pa.RecordBatch:
    return keys_batch([key_row(i) for i in range(n)], **kw)


@pytest.mark.e2e
def test_latest_is_refused_by_duckdb_14_and_an_existing_file_keeps_its_format(duckdb14: str, tmp_path: Path) -> None:
    latest, v14 = tmp_path / "latest.duckdb", tmp_path / "v14.duckdb"
    sync(latest, _batch(), storage_version="latest")
    sync(v14, _batch())
    # `latest` is what users had before: DuckDB 1.4 refuses it (and this harness notices).
    refused = in_duckdb14(duckdb14, latest)
    assert "version number 999" in refused.get("open_error", ""), refused
    # A v1.4 file synced again with `latest` keeps its format, so DuckDB 1.4 still reads it, new rows too.
    sync(v14, _batch(7, sync_time=T2), sync_time=T2, storage_version="latest")
    seen = in_duckdb14(duckdb14, v14, queries={"n": "SELECT count(*)::VARCHAR FROM aws_kms_keys"})
    assert "open_error" not in seen, seen
    assert seen["queries"]["n"] == [["7"]]


@pytest.mark.e2e
def test_destination_file_opens_in_duckdb_14(duckdb14: str, tmp_path: Path) -> None:
    default, latest = tmp_path / "dest.duckdb", tmp_path / "dest-latest.duckdb"
    _destination_sync(default, {})
    _destination_sync(latest, {"duckdb_storage_version": "latest"})
    seen = in_duckdb14(duckdb14, default, queries={"keys": "SELECT key_id FROM aws_kms_keys ORDER BY key_id"})
    assert "open_error" not in seen, seen
    assert [r[0] for r in seen["queries"]["keys"]] == [key_row(i)["key_id"] for i in range(5)]
    assert "version number 999" in in_duckdb14(duckdb14, latest).get("open_error", "")


@pytest.mark.e2e
def test_merged_file_opens_in_duckdb_14(duckdb14: str, tmp_path: Path) -> None:
    a, b, out = tmp_path / "a.duckdb", tmp_path / "b.duckdb", tmp_path / "out.duckdb"
    sync(a, keys_batch([key_row(i) for i in range(3)], source="shard-a"), source="shard-a")
    # An input in the newest format (an older release's file) merges into a v1.4 output.
    sync(b, keys_batch([key_row(i) for i in range(3, 6)], source="shard-b"), source="shard-b",
         storage_version="latest")
    assert merge(str(out), [str(a), str(b)])["aws_kms_keys"] == 6
    seen = in_duckdb14(duckdb14, out, queries={"n": "SELECT count(*)::VARCHAR FROM aws_kms_keys"})
    assert "open_error" not in seen, seen
    assert seen["queries"]["n"] == [["6"]]


@pytest.mark.e2e
def test_a_sync_killed_after_its_commit_replays_in_duckdb_14(duckdb14: str, tmp_path: Path) -> None:
    """The commit is in the WAL, not yet checkpointed into the file: DuckDB 1.4 replays it."""
    db = tmp_path / "posture.duckdb"
    sync(db, _batch(2))
    script = textwrap.dedent(f'''
        import os, sys
        sys.path.insert(0, {str(REPO)!r})
        from tests.test_duckdb_writer import T2, key_row, keys_batch
        from plugin.store.writer import DuckDBWriter
        w = DuckDBWriter({str(db)!r})
        w.open()
        w.write(keys_batch([key_row(i) for i in range(9)], sync_time=T2))
        w.commit()
        os._exit(0)  # killed: no close, no checkpoint
    ''')
    r = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120, cwd=REPO)
    assert r.returncode == 0, r.stderr[-1500:]
    assert Path(f"{db}.wal").exists() and Path(f"{db}.wal").stat().st_size > 0, "no WAL left: nothing to replay"
    seen = in_duckdb14(duckdb14, db, queries={"n": "SELECT count(*)::VARCHAR FROM aws_kms_keys"})
    assert "open_error" not in seen, seen
    assert seen["queries"]["n"] == [["9"]]


# ---------------------------------------------------------------------------------------------
# The format setting, seen by the DuckDB we run (fast)


def _format(db: Path) -> str:
    con = duckdb.connect()
    try:
        con.execute(f"ATTACH '{db}' AS f (READ_ONLY)")
        return storage_format(con, "f")
    finally:
        con.close()


def test_a_new_file_is_v14_unless_latest_is_asked_for(tmp_path: Path) -> None:
    assert DEFAULT_STORAGE_VERSION == "v1.4.0" and STORAGE_VERSIONS == ("v1.4.0", "latest")
    sync(tmp_path / "default.duckdb", _batch())
    sync(tmp_path / "latest.duckdb", _batch(), storage_version="latest")
    assert _format(tmp_path / "default.duckdb") == "v1.4.0+"
    newest = format_version(_format(tmp_path / "latest.duckdb"))
    assert newest is not None and newest > (1, 4, 0)


def test_an_existing_file_keeps_its_format_and_a_newer_one_is_reported(tmp_path: Path,
                                                                       caplog: pytest.LogCaptureFixture) -> None:
    v14, latest = tmp_path / "v14.duckdb", tmp_path / "latest.duckdb"
    sync(v14, _batch())
    sync(latest, _batch(), storage_version="latest")
    newest = _format(latest)
    with caplog.at_level(logging.WARNING, logger="aws_encryption.store"):
        sync(v14, _batch(6, sync_time=T2), sync_time=T2, storage_version="latest")
        assert caplog.records == []  # an older format than asked for: nothing to warn about
        sync(latest, _batch(6, sync_time=T2), sync_time=T2)
    assert (_format(v14), _format(latest)) == ("v1.4.0+", newest)
    assert query(v14, "SELECT count(*) FROM aws_kms_keys") == [(6,)]
    assert query(latest, "SELECT count(*) FROM aws_kms_keys") == [(6,)]
    [rec] = caplog.records
    msg = rec.getMessage()
    assert str(latest) in msg and newest in msg and "1.x can't open" in msg and "\n" not in msg


def test_a_bad_storage_version_is_one_line_and_creates_nothing(tmp_path: Path) -> None:
    db = tmp_path / "posture.duckdb"
    for bad in ("v1.3.0", "LATEST", "", None, 14):
        with pytest.raises(WriterError) as e:
            DuckDBWriter(db, storage_version=bad)  # type: ignore[arg-type]
        assert str(e.value).startswith("duckdb_storage_version: expected one of v1.4.0, latest, got")
        with pytest.raises(WriterError):
            open_database(db, bad)  # type: ignore[arg-type]
    assert not db.exists()


# -- the source spec: `aws-encryption sync` ---------------------------------------------------


def test_sources_writing_one_file_must_agree_on_its_format() -> None:
    from plugin.store.files import storage_version_of

    assert storage_version_of([]) == "v1.4.0"
    assert storage_version_of([("a", "latest"), ("b", "latest")]) == "latest"
    with pytest.raises(WriterError, match=r"^sources a and c write one database file but ask for different "
                                          r"duckdb_storage_version \(latest, v1\.4\.0\)"):
        storage_version_of([("a", "latest"), ("b", "latest"), ("c", "v1.4.0")])


def test_source_spec_field_defaults_validates_and_is_in_the_schema() -> None:
    from plugin.source.spec import SpecError, json_schema, parse_spec

    assert parse_spec({}).duckdb_storage_version == "v1.4.0"
    assert parse_spec({"duckdb_storage_version": "latest"}).duckdb_storage_version == "latest"
    assert parse_spec({"duckdb_storage_version": None}).duckdb_storage_version == "v1.4.0"
    for bad in ("v2.0.0", "Latest", ["latest"], 1.4, True):
        with pytest.raises(SpecError, match=r"^spec field duckdb_storage_version: expected one of v1\.4\.0, latest, "):
            parse_spec({"duckdb_storage_version": bad})
    prop = json.loads(json_schema())["properties"]["duckdb_storage_version"]
    assert prop["enum"] == ["v1.4.0", "latest"] and "null" in prop["type"]


class _Canary(http.server.BaseHTTPRequestHandler):
    hits = 0

    def _count(self) -> None:
        _Canary.hits += 1
        self.send_response(500)
        self.send_header("Content-Length", "0")
        self.end_headers()

    do_GET = do_POST = do_PUT = do_HEAD = _count

    def log_message(self, *args: Any) -> None:
        pass


@contextlib.contextmanager
def _canary() -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Canary)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_sync_with_a_bad_storage_version_exits_2_with_one_line_before_any_aws_call(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    from plugin.cli.main import main

    monkeypatch.chdir(tmp_path)
    db = tmp_path / "posture.duckdb"
    with _canary() as endpoint:
        spec = tmp_path / "spec.yml"
        spec.write_text(textwrap.dedent(f"""\
            kind: source
            spec:
              name: aws-encryption
              path: aws-encryption
              registry: local
              version: v0.1.0
              destinations: [duckdb]
              spec:
                regions: [us-east-1]
                accounts:
                  - id: "111111111111"
                custom_endpoint_url: {endpoint}
                custom_endpoint_hostname_immutable: true
                custom_endpoint_partition_id: aws
                custom_endpoint_signing_region: us-east-1
                max_retries: 0
                duckdb_storage_version: v1.0.0
            ---
            kind: destination
            spec:
              name: duckdb
              path: aws-encryption-duckdb
              registry: local
              version: v0.1.0
              spec:
                connection_string: {db}
            """))
        _Canary.hits = 0
        code = main(["sync", str(spec)])
        hits = _Canary.hits
    err = capsys.readouterr().err
    assert code == 2
    assert err.count("\n") == 1 and "duckdb_storage_version: expected one of v1.4.0, latest" in err, err
    assert hits == 0 and not db.exists()


# -- the CloudQuery destination ---------------------------------------------------------------


def _destination_sync(db: Path, extra: dict[str, Any]) -> None:
    """One Write stream into the destination, in process, as the CLI sends it."""
    from cloudquery.sdk.message import WriteDeleteStale, WriteInsertMessage

    from plugin.destination.plugin import ArrowMigrateTableMessage, DuckDBDestination

    batch = _batch()
    d = DuckDBDestination()
    d.init(json.dumps({"connection_string": str(db), **extra}).encode())
    d.write(iter([ArrowMigrateTableMessage(batch.schema, False), WriteInsertMessage(record=batch),
                  WriteDeleteStale(table_name="aws_kms_keys", source_name="aws", sync_time=T1)]))


def test_destination_writes_v14_by_default_and_latest_on_request(tmp_path: Path) -> None:
    _destination_sync(tmp_path / "d.duckdb", {})
    _destination_sync(tmp_path / "l.duckdb", {"duckdb_storage_version": "latest"})
    assert _format(tmp_path / "d.duckdb") == "v1.4.0+"
    assert format_version(_format(tmp_path / "l.duckdb")) > (1, 4, 0)  # type: ignore[operator]
    assert query(tmp_path / "d.duckdb", "SELECT count(*) FROM aws_kms_keys") == [(5,)]


def test_destination_refuses_a_bad_storage_version_at_init(tmp_path: Path) -> None:
    from plugin.destination.plugin import DuckDBDestination, json_schema, parse_spec

    assert parse_spec(b"{}").duckdb_storage_version == "v1.4.0"
    assert json.loads(json_schema())["properties"]["duckdb_storage_version"]["enum"] == ["v1.4.0", "latest"]
    db = tmp_path / "posture.duckdb"
    for bad in ("v1.1.0", 2, ""):
        with pytest.raises(ValueError) as e:
            DuckDBDestination().init(json.dumps({"connection_string": str(db), "duckdb_storage_version": bad}).encode())
        msg = str(e.value)
        assert msg.startswith("spec field duckdb_storage_version: expected one of v1.4.0, latest, got")
        assert "\n" not in msg
        assert len(msg) < 200
    ok, code, _ = DuckDBDestination().test_connection(
        json.dumps({"connection_string": str(db), "duckdb_storage_version": "v9"}).encode())
    assert (ok, code) == (False, "INVALID_SPEC")
    assert not db.exists()

