"""`aws-encryption demo`, run as a user runs it: the console script, a clean environment, no AWS account."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest

from .grpc_client import plugin_executable

TIMEOUT = 180


def clean_env(home: Path) -> dict[str, str]:
    """No AWS_* variable, HOME in a temporary directory (so no ~/.aws), no colours."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "MOTO_"))}
    env["HOME"] = str(home)
    env.pop("NO_COLOR", None)
    return env


def run_demo(tmp_path: Path, *args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([plugin_executable(), "demo", *args], cwd=cwd or tmp_path, env=clean_env(tmp_path),
                          capture_output=True, text=True, timeout=TIMEOUT)


def listening_sockets(pid: int) -> set[tuple[str, int]]:
    """(local address, port) of the TCP sockets a process listens on, from /proc (Linux)."""
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        m = re.fullmatch(r"socket:\[(\d+)\]", target)
        if m:
            inodes.add(m.group(1))
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            cols = line.split()
            if cols[3] == "0A" and cols[9] in inodes:  # state LISTEN
                addr, port = cols[1].rsplit(":", 1)
                found.add((addr, int(port, 16)))
    return found


LOOPBACK = "0100007F"  # 127.0.0.1 as /proc/net/tcp writes it


def failures(stdout: str) -> list[tuple[str, str, str]]:
    """(check id, location line, reason text) of each failure in the table report, in order."""
    section = stdout.split("\nFailures (", 1)[1].split("\nErrors (", 1)[0]
    out = []
    for block in section.split("\n\n")[1:]:
        lines = block.strip("\n").splitlines()
        m = re.match(r"\s+(CRITICAL|HIGH|MEDIUM|LOW|INFO)\s+(\S+)$", lines[0])
        if not m:
            break
        out.append((m.group(2), lines[1].strip(), " ".join(x.strip() for x in lines[2:])))
    return out


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[subprocess.CompletedProcess[str], Path, float, set]:
    tmp = tmp_path_factory.mktemp("demo")
    db = tmp / "demo.duckdb"
    t0 = time.monotonic()
    p = subprocess.Popen([plugin_executable(), "demo", "--db", str(db)], cwd=tmp, env=clean_env(tmp),
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    sockets: set[tuple[str, int]] = set()
    # The endpoint is up while the world is built and synced: watch what the process listens on.
    deadline = time.monotonic() + TIMEOUT
    while p.poll() is None and time.monotonic() < deadline:
        try:
            sockets |= listening_sockets(p.pid)
        except OSError:
            pass
        time.sleep(0.05)
    out, err = p.communicate(timeout=TIMEOUT)
    elapsed = time.monotonic() - t0
    return subprocess.CompletedProcess(p.args, p.returncode, out, err), db, elapsed, sockets


@pytest.mark.e2e
def test_demo_runs_and_puts_the_aws_s3_finding_first(demo_run) -> None:
    r, db, elapsed, _ = demo_run
    assert r.returncode == 0, r.stderr
    found = failures(r.stdout)
    assert found, r.stdout
    check, where, reason = found[0]
    assert check == "s3_aws_managed_key_cross_account", r.stdout
    assert where.startswith("arn:aws:s3:::data-lake-111111111111 "), where
    assert "222222222222" in reason, reason
    # Right under the S3 findings, the same failure beyond S3: the secret and the queue, each silent
    checks = [c for c, _, _ in found]
    first_other = checks.index("shared_resource_aws_managed_key")
    assert set(checks[:first_other]) == {"s3_aws_managed_key_cross_account"}, checks
    shared = {w.split()[0]: why for c, w, why in found if c == "shared_resource_aws_managed_key"}
    secret = next(w for w in shared if ":secret:orders-db-credentials-" in w)
    assert "role/compute-reader (read, statement ComputeReadsCredentials): its GetSecretValue fails" in shared[secret]
    assert "service events.amazonaws.com (send, statement OrderRuleDelivers)" in \
        shared["arn:aws:sqs:us-east-1:111111111111:order-events"]
    assert "drop them silently" in shared["arn:aws:sqs:us-east-1:111111111111:order-events"]
    # and the loud, late one: the DR snapshot shared under aws/rds
    [dr] = [why for c, w, why in found if c == "snapshot_shared_key_unusable"]
    assert "account 222222222222 gets no kms:CreateGrant, kms:DescribeKey on the AWS managed key" in dr
    assert "it can't restore or copy the snapshot: found during a DR test" in dr
    # and the nightly backups copied to COMPUTE from a vault on aws/backup: every copy job fails
    [copy] = [why for c, w, why in found if c == "backup_copy_key_unusable"]
    assert ("account 222222222222 receives copies of the recovery points of backup vault "
            "arn:aws:backup:us-east-1:111111111111:backup-vault:orders-backups (rule nightly-copy-to-dr") in copy
    assert "its copy jobs fail on the source key" in copy
    # The first screen (25 lines of a terminal) shows the headline findings, the aws/s3 one first
    first = r.stdout.splitlines()[:25]
    assert any(line.strip() == "HIGH     s3_aws_managed_key_cross_account" for line in first), first
    assert any(line.strip() == f"arn:aws:s3:::data-lake-111111111111" for line in first), first
    # and the last line says both: the CI verdict, and that the demo itself succeeded
    assert r.stdout.rstrip().splitlines()[-1] == (
        f"Demo finished (exit 0): the findings above would fail a CI gate (`aws-encryption check {db}` exits 1 "
        "on this database).")
    # The explanation comes before the report: what was built, where it is, what to run next.
    head = r.stdout.split("aws-encryption check  ", 1)[0]
    assert "8 KMS keys" in head and "5 S3 buckets" in head, head  # the organisation-wide share is the fifth
    assert "org-shared-111111111111 is shared with the whole organisation" in head, head
    assert str(db) in head
    assert "aws_s3_bucket_access_paths" in head
    assert "--format sarif" in head and "examples/real-account-profile.yml" in head
    print(f"demo took {elapsed:.1f}s")


@pytest.mark.e2e
def test_demo_database_holds_the_synced_world(demo_run) -> None:
    r, db, _, _ = demo_run
    assert r.returncode == 0, r.stderr
    con = duckdb.connect(str(db), read_only=True)
    try:
        keys = con.execute("SELECT account_id, count(*) FROM aws_kms_keys GROUP BY 1 ORDER BY 1").fetchall()
        enc = con.execute("SELECT bucket_arn, key_type FROM aws_s3_bucket_encryption_keys ORDER BY 1").fetchall()
        sources = con.execute("SELECT DISTINCT _cq_source_name FROM aws_kms_keys").fetchall()
        # the query the demo suggests shows both aws/s3 shares: the compute role, the whole organisation
        suggested = re.search(r'aws-encryption sql \S+ "([^"]+)"', r.stdout).group(1)
        shown = con.execute(suggested).fetchall()
        org = con.execute("SELECT DISTINCT id FROM aws_organizations").fetchall()
    finally:
        con.close()
    assert [a for a, _ in keys] == ["111111111111", "222222222222"], keys
    assert ("arn:aws:s3:::data-lake-111111111111", "aws_managed") in enc, enc
    assert sources == [("aws-encryption-demo",)]
    assert {(b, who.split(" (")[0]) for b, who, *_ in shown} == {
        ("arn:aws:s3:::data-lake-111111111111", "arn:aws:iam::222222222222:role/compute-reader"),
        ("arn:aws:s3:::org-shared-111111111111", f"every account of organisation {org[0][0]}")}, (shown, org)
    # No temporary file left next to it.
    assert sorted(p.name for p in db.parent.iterdir()) == ["demo.duckdb"]


@pytest.mark.e2e
def test_demo_endpoint_is_loopback_only_and_gone_at_exit(demo_run) -> None:
    r, _, _, sockets = demo_run
    assert r.returncode == 0, r.stderr
    assert sockets, "the demo's endpoint was never seen listening"
    assert {addr for addr, _ in sockets} == {LOOPBACK}, sockets
    ports = {port for _, port in sockets}
    assert len(ports) == 1, sockets
    port = ports.pop()
    assert f"http://127.0.0.1:{port}" in r.stdout  # the endpoint it reports is the socket seen
    # The process has exited (communicate returned) and nothing listens on that port any more.
    with socket.socket() as s:
        s.settimeout(1)
        assert s.connect_ex(("127.0.0.1", port)) != 0


@pytest.mark.e2e
def test_endpoint_socket_is_closed_when_the_demo_ends() -> None:
    from plugin.demo.run import embedded_endpoint

    with embedded_endpoint() as server:
        host, port = server.get_host_and_port()
        assert host == "127.0.0.1"
        assert (LOOPBACK, port) in listening_sockets(os.getpid())
    assert all(p != port for _, p in listening_sockets(os.getpid()))


@pytest.mark.e2e
def test_demo_refuses_a_file_that_is_not_duckdb(tmp_path: Path) -> None:
    db = tmp_path / "notes.duckdb"
    db.write_bytes(b"my notes, not a database\n")
    r = run_demo(tmp_path, "--db", str(db))
    assert r.returncode == 2, (r.stdout, r.stderr)
    assert db.read_bytes() == b"my notes, not a database\n"
    assert r.stderr.count("\n") == 1 and "not a DuckDB database" in r.stderr, r.stderr
    assert r.stdout == ""
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.duckdb"]


@pytest.mark.e2e
def test_demo_refuses_a_duckdb_file_that_is_not_a_demo(tmp_path: Path) -> None:
    db = tmp_path / "posture.duckdb"
    con = duckdb.connect(str(db))
    con.execute("CREATE TABLE aws_kms_keys (_cq_source_name VARCHAR, arn VARCHAR)")
    con.execute("INSERT INTO aws_kms_keys VALUES ('aws-encryption', 'arn:aws:kms:us-east-1:111122223333:key/k')")
    con.close()
    before = db.read_bytes()
    r = run_demo(tmp_path, "--db", str(db))
    assert r.returncode == 2, (r.stdout, r.stderr)
    assert "'aws-encryption'" in r.stderr and r.stderr.count("\n") == 1, r.stderr
    assert db.read_bytes() == before


@pytest.mark.e2e
def test_demo_without_moto_says_how_to_install_it(tmp_path: Path) -> None:
    code = (
        "import sys\n"
        "class NoMoto:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name == 'moto' or name.startswith('moto.'):\n"
        "            raise ModuleNotFoundError(name)\n"
        "sys.meta_path.insert(0, NoMoto())\n"
        "from plugin.cli.main import main\n"
        "sys.exit(main(['demo', '--db', sys.argv[1]]))\n"
    )
    db = tmp_path / "demo.duckdb"
    r = subprocess.run([sys.executable, "-c", code, str(db)], cwd=tmp_path, env=clean_env(tmp_path),
                       capture_output=True, text=True, timeout=TIMEOUT)
    assert r.returncode == 2, (r.stdout, r.stderr)
    assert r.stderr.count("\n") == 1, r.stderr
    assert "pip install 'cq-source-aws-encryption[demo]'" in r.stderr and "'.[demo]'" in r.stderr
    assert not db.exists()


def test_aws_environment_is_restored(monkeypatch: pytest.MonkeyPatch) -> None:
    from plugin.demo.run import isolated_aws_env, set_aws_env

    monkeypatch.setenv("AWS_PROFILE", "prod")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAREAL")
    monkeypatch.delenv("AWS_CONFIG_FILE", raising=False)
    # other fixtures of the session may have set these; the test needs them absent beforehand
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY", raising=False)
    monkeypatch.delenv("AWS_SHARED_CREDENTIALS_FILE", raising=False)
    with pytest.raises(RuntimeError):
        with isolated_aws_env({"AWS_ACCESS_KEY_ID": "demo", "AWS_SECRET_ACCESS_KEY": "demo"}):
            assert "AWS_PROFILE" not in os.environ
            assert os.environ["AWS_ACCESS_KEY_ID"] == "demo"
            assert os.environ["AWS_CONFIG_FILE"] == os.devnull
            assert os.environ["AWS_SHARED_CREDENTIALS_FILE"] == os.devnull
            set_aws_env({"AWS_ACCESS_KEY_ID": "scanner"})
            raise RuntimeError("boom")
    assert os.environ["AWS_PROFILE"] == "prod"
    assert os.environ["AWS_ACCESS_KEY_ID"] == "AKIAREAL"
    assert "AWS_CONFIG_FILE" not in os.environ and "AWS_SECRET_ACCESS_KEY" not in os.environ
