"""Every example config in examples/ is a valid CloudQuery config whose plugin spec we accept, syncs
every table the bundled checks read, and runs as written through the real CloudQuery CLI.

The end-to-end tests follow the README's steps in a shell: `eval "$(aws-encryption env)"` (which
sets AWS_ENCRYPTION_BIN, named by the examples' `path:`, and puts `cloudquery` on PATH), then
`cloudquery sync|test-connection|tables examples/<file>`. What a user changes is all that changes:
the account ids (to the moto world's), the four `custom_endpoint_*` fields (moto's server instead of
AWS), and the profiles the examples name (`prod`, `security`) defined in an AWS config file given by
AWS_CONFIG_FILE. Paths, registries, tables, destinations and the database file are as written.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import socket
import subprocess
import time
from pathlib import Path
from typing import Any

import duckdb
import pytest
import yaml

from plugin.cli.paths import BIN_VAR, SCRIPTS, scripts_dir
from plugin.source.spec import json_schema, parse_spec

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = sorted((ROOT / "examples").glob("*.y*ml"))
QUERIES = ROOT / "queries"


def load(path: Path) -> list[dict[str, Any]]:
    return [d for d in yaml.safe_load_all(path.read_text()) if d is not None]


def our_source(docs: list[dict[str, Any]]) -> dict[str, Any]:
    found = [d["spec"] for d in docs if d.get("kind") == "source"
             and (d["spec"].get("name") == "aws-encryption" or "aws-encryption" in str(d["spec"].get("path", "")))]
    assert len(found) == 1, "expected exactly one aws-encryption source document"
    return found[0]


def test_examples_exist() -> None:
    names = {p.name for p in EXAMPLES}
    assert {"real-account-profile.yml", "org-member-roles.yml", "cli-registry-local.yml",
            "cli-registry-grpc.yml"} <= names


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_example_plugin_spec_is_accepted(path: Path) -> None:
    docs = load(path)
    src = our_source(docs)
    spec = parse_spec(src["spec"])
    parse_spec(json.dumps(src["spec"]).encode())  # as the CLI sends it
    assert spec.accounts, "examples should show at least one explicit account"
    jsonschema = pytest.importorskip("jsonschema")
    jsonschema.validate(src["spec"], json.loads(json_schema()))


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_example_is_a_complete_cloudquery_config(path: Path) -> None:
    docs = load(path)
    assert all(d.get("kind") in ("source", "destination") and isinstance(d.get("spec"), dict) for d in docs)
    src = our_source(docs)
    for key in ("name", "path", "registry", "version", "tables", "destinations", "spec"):
        assert key in src, f"source is missing {key}"
    assert src["registry"] in ("local", "grpc")
    assert src["version"] == "v0.1.0"
    dests = {d["spec"]["name"]: d["spec"] for d in docs if d["kind"] == "destination"}
    assert set(src["destinations"]) <= set(dests)
    duck = dests["duckdb"]
    assert (duck["registry"], duck["version"]) == ("local", "v0.1.0")
    assert duck["write_mode"] == "overwrite-delete-stale"
    assert duck["spec"]["connection_string"] == "./posture.duckdb"


# ---------------------------------------------------------------------------------------------
# `path:` works for the CloudQuery CLI, which takes it as written (no PATH search)

def _local_paths(docs: list[dict[str, Any]]) -> list[str]:
    return [d["spec"]["path"] for d in docs if d["spec"].get("registry") == "local"]


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_every_local_plugin_path_names_the_installed_command(path: Path) -> None:
    """`${AWS_ENCRYPTION_BIN}/<command>`, which is an absolute path to an executable once the variable holds
    what `aws-encryption env` prints; a bare name is what the CLI fails to stat."""
    bin_dir = scripts_dir()
    assert bin_dir is not None and bin_dir.is_absolute(), "the console scripts are not installed (pip install -e .)"
    paths = _local_paths(load(path))
    assert paths, "no registry: local plugin"
    for p in paths:
        assert p in {f"${{{BIN_VAR}}}/{s}" for s in SCRIPTS}, p
        expanded = Path(p.replace(f"${{{BIN_VAR}}}", str(bin_dir)))
        assert expanded.is_absolute() and os.access(expanded, os.X_OK), expanded


def test_aws_encryption_env_prints_what_the_examples_need(capsys: pytest.CaptureFixture[str]) -> None:
    from plugin.cli import main as cli
    assert cli.main(["env"]) == 0
    out = capsys.readouterr().out
    lines = dict(line.removeprefix("export ").split("=", 1) for line in out.splitlines())
    assert shlex.split(lines[BIN_VAR]) == [str(scripts_dir())]
    cq_dir = shlex.split(lines["PATH"].removesuffix(':"$PATH"'))[0]
    assert os.access(Path(cq_dir) / "cloudquery", os.X_OK), "the CloudQuery CLI of the test extra"
    # and a shell that evaluates it finds both
    r = subprocess.run(["bash", "-c", f'eval "$1" && command -v cloudquery && echo "${BIN_VAR}"', "sh", out],
                       capture_output=True, text=True, timeout=30, env={"PATH": "/usr/bin:/bin"})
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == [str(Path(cq_dir) / "cloudquery"), str(scripts_dir())]


# ---------------------------------------------------------------------------------------------
# Tables: every table the bundled checks (and the views they share) read is synced

def tables_the_checks_read() -> set[str]:
    """The plugin's tables named in queries/*.sql and queries/views/*.sql (comments left out)."""
    from plugin.tables import all_tables
    from plugin.tables.schema import walk
    names = {t.name for t in walk(all_tables())}
    found: set[str] = set()
    for f in [*sorted(QUERIES.glob("*.sql")), *sorted((QUERIES / "views").glob("*.sql"))]:
        sql = re.sub(r"--[^\n]*", "", f.read_text())
        found |= set(re.findall(r"\b[a-z][a-z0-9_]*\b", sql)) & names
    return found


def test_tables_the_checks_read_are_found() -> None:
    """The scan finds what the checks are known to read (what the examples once left out)."""
    needed = tables_the_checks_read()
    assert {"aws_encryption_key_types", "aws_kms_keys", "aws_s3_buckets", "aws_encryption_sync_coverage",
            "aws_iam_roles", "aws_secretsmanager_secrets", "aws_organizations_accounts"} <= needed
    # every table a FROM or JOIN names is a table of the plugin or a shared view
    views = {p.stem for p in (QUERIES / "views").glob("*.sql")}
    for f in QUERIES.rglob("*.sql"):
        sql = re.sub(r"--[^\n]*", "", f.read_text())
        for name in re.findall(r"(?i)\b(?:from|join)\s+(aws_[a-z0-9_]*)", sql):
            assert name in needed or name in views, f"{f.name}: {name}"


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_example_syncs_every_table_the_checks_read(path: Path) -> None:
    from plugin.source.plugin import select_tables
    from plugin.tables.schema import walk
    src = our_source(load(path))
    selected = {t.name for t in walk(select_tables(src["tables"], src.get("skip_tables") or [],
                                                   src.get("skip_dependent_tables", True)))}
    missing = sorted(tables_the_checks_read() - selected)
    assert not missing, f"{path.name} leaves out tables the bundled checks read: {missing}"


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_example_validates_as_written_without_the_variable(path: Path, tmp_path: Path,
                                                           monkeypatch: pytest.MonkeyPatch,
                                                           capsys: pytest.CaptureFixture[str]) -> None:
    """`aws-encryption validate examples/<file>` (what `sync` checks before any AWS call) passes as
    written, with AWS_ENCRYPTION_BIN unset: the in-process commands don't need it."""
    from plugin.cli import main as cli
    monkeypatch.setenv(BIN_VAR, "")
    monkeypatch.delenv(BIN_VAR)  # unset, and unset again after the test (validate sets it)
    monkeypatch.chdir(tmp_path)  # ./posture.duckdb is resolved here; nothing is created
    assert cli.main(["validate", str(path)]) == 0
    out, err = capsys.readouterr()
    assert err == "" and len(out.splitlines()) == 1 and ": valid; source aws-encryption: " in out
    assert "into ./posture.duckdb (overwrite-delete-stale)" in out
    assert list(tmp_path.iterdir()) == []
    assert BIN_VAR not in os.environ or os.environ[BIN_VAR] == str(scripts_dir())


# ---------------------------------------------------------------------------------------------
# End to end: the real CloudQuery CLI, as the README runs it, against the moto world

def _world_accounts() -> dict[str, str]:
    from plugin.demo.world import COMPUTE, DATA
    from .check_world import CENTRAL
    # the examples' accounts -> accounts of the moto world whose audit role the scanner may assume
    return {"111122223333": DATA, "222233334444": COMPUTE, "333344445555": CENTRAL}


def _as_a_user_edits_it(path: Path, world: Any, dest_dir: Path, grpc_address: str | None = None) -> Path:
    """The example with the user's edits (account ids, the endpoint; `path:` of a grpc source when 7777
    is taken) saved as dest_dir/examples/<name>. Nothing else changes."""
    docs = load(path)
    src = our_source(docs)
    before = json.loads(json.dumps(docs))
    ids = _world_accounts()
    for a in src["spec"]["accounts"]:
        a["id"] = ids[a["id"]]
        if "role_arn" in a:
            a["role_arn"] = re.sub(r"::\d{12}:", f"::{a['id']}:", a["role_arn"])
    src["spec"].update({k: v for k, v in world.spec().items() if k.startswith("custom_endpoint_")})
    if grpc_address and src["registry"] == "grpc":
        src["path"] = grpc_address
    changed = [k for k in src if src[k] != our_source(before)[k]]
    assert set(changed) <= {"spec", "path"} and (grpc_address or "path" not in changed)
    out = dest_dir / "examples" / path.name
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(yaml.safe_dump_all(docs, sort_keys=False))
    assert _local_paths(load(out)) == _local_paths(before)
    return out


def _user_env(world: Any, home: Path) -> dict[str, str]:
    """A user's environment: the AWS profiles the examples name in an AWS config file, no AWS_*
    credentials, no AWS_ENCRYPTION_BIN (the README's `eval "$(aws-encryption env)"` sets it)."""
    from plugin.demo.world import AUDIT_ROLE, DATA
    (home / "config").write_text(
        "[profile scanner]\nregion = us-east-1\n"
        f"[profile prod]\nrole_arn = arn:aws:iam::{DATA}:role/{AUDIT_ROLE}\nsource_profile = scanner\n"
        "region = us-east-1\n"
        "[profile security]\nregion = us-east-1\n")
    keys = f"aws_access_key_id = {world.scanner_key_id}\naws_secret_access_key = {world.scanner_secret}\n"
    (home / "credentials").write_text(f"[scanner]\n{keys}[security]\n{keys}")
    drop = {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN", "AWS_PROFILE",
            "AWS_DEFAULT_PROFILE", BIN_VAR}
    env = {k: v for k, v in os.environ.items() if k not in drop}
    env.update({"AWS_CONFIG_FILE": str(home / "config"), "AWS_SHARED_CREDENTIALS_FILE": str(home / "credentials"),
                "AWS_EC2_METADATA_DISABLED": "true"})
    return env


def _cloudquery(args: list[str], cwd: Path, env: dict[str, str], timeout: int = 300) -> subprocess.CompletedProcess:
    """`eval "$(aws-encryption env)"; cloudquery ARGS` in bash, offline and without telemetry."""
    from .grpc_client import plugin_executable
    script = 'eval "$("$AWS_ENCRYPTION_COMMAND" env)" && exec cloudquery "$@"'
    cmd = ["bash", "-c", script, "cloudquery", *args, "--telemetry-level", "none", "--cq-dir", str(cwd / ".cq"),
           "--log-file-name", str(cwd / "cloudquery.log")]
    env = {**env, "AWS_ENCRYPTION_COMMAND": plugin_executable()}
    for _ in range(3):
        r = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
        # The CLI gives a local plugin ~2 s to listen; an overloaded machine can miss that (tests/cli.py)
        if not (r.returncode != 0 and "signal: killed" in r.stderr and "failed to run plugin" in r.stderr):
            break
    return r


def _port_free(port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _assert_synced(db: Path, accounts: set[str]) -> None:
    from plugin.checks.files import bundled_queries_dir, load_checks
    from plugin.checks.runner import run_checks
    con = duckdb.connect(str(db), read_only=True)
    try:
        present = {r[0] for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall()}
        assert not tables_the_checks_read() - present, sorted(tables_the_checks_read() - present)
        for t in ("aws_kms_keys", "aws_s3_buckets", "aws_encryption_key_types", "aws_encryption_sync_coverage"):
            assert con.execute(f"SELECT count(*) FROM {t}").fetchone()[0] > 0, f"{t}: no rows"
        read = {r[0] for r in con.execute("SELECT DISTINCT account_id FROM aws_encryption_sync_coverage "
                                          "WHERE status = 'ok' AND table_name = 'aws_kms_keys'").fetchall()}
        assert accounts <= read, (accounts, read)  # every account's keys were listed
        # Every scope was read, but for `regions: ["*"]` in the other partitions' regions: moto's
        # DescribeRegions lists cn-* and us-gov-* too (AWS lists only the account's partition), and the
        # credentials of the aws partition are refused there.
        unread = con.execute("SELECT account_id, region, operation, error_code FROM aws_encryption_sync_coverage "
                             "WHERE status <> 'ok' AND NOT (region LIKE 'cn-%' OR region LIKE 'us-gov-%')").fetchall()
        assert not unread, unread
    finally:
        con.close()
    broken = [(r.check.id, r.error) for r in run_checks(db, load_checks([bundled_queries_dir()])) if r.error]
    assert not broken, f"checks that could not run on the example's database: {broken}"


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_example_runs_through_the_real_cloudquery_cli(path: Path, world: Any, tmp_path: Path) -> None:
    from .grpc_client import plugin_executable
    env = _user_env(world, tmp_path)
    grpc = our_source(load(path))["registry"] == "grpc"
    server = None
    address = None
    if grpc:
        # `aws-encryption serve --address localhost:7777` as the example says, in the user's environment
        port = 7777 if _port_free(7777) else _free_port()
        address = f"localhost:{port}"
        server = subprocess.Popen([plugin_executable(), "serve", "--address", address], env=env,
                                  stdout=subprocess.DEVNULL, stderr=open(tmp_path / "serve.log", "wb"))
        _wait_for_port(port, server)
    try:
        spec = _as_a_user_edits_it(path, world, tmp_path, address if address != "localhost:7777" else None)
        rel = str(spec.relative_to(tmp_path))
        accounts = {a["id"] for a in our_source(load(spec))["spec"]["accounts"]}

        t0 = time.monotonic()
        r = _cloudquery(["sync", rel], tmp_path, env)
        took = time.monotonic() - t0
        assert r.returncode == 0, r.stdout + r.stderr + _tail(tmp_path / "cloudquery.log")
        assert re.search(r"^Sync completed .*Resources: [1-9]", r.stdout, re.M), r.stdout + r.stderr
        _assert_synced(tmp_path / "posture.duckdb", accounts)

        r = _cloudquery(["test-connection", rel], tmp_path, env)
        assert r.returncode == 0, r.stdout + r.stderr + _tail(tmp_path / "cloudquery.log")
        for kind in ("source", "destination"):  # "source  aws-encryption (local@...)  Success"
            assert re.search(rf"^{kind}\s.*\sSuccess$", r.stdout, re.M), r.stdout + r.stderr

        r = _cloudquery(["tables", rel, "--output-dir", "cq-docs"], tmp_path, env)
        assert r.returncode == 0, r.stdout + r.stderr + _tail(tmp_path / "cloudquery.log")
        listed = json.loads((tmp_path / "cq-docs" / "aws-encryption" / "__tables.json").read_text())
        names = set()
        stack = list(listed)
        while stack:
            t = stack.pop()
            names.add(t["name"])
            stack += t.get("relations") or []
        assert tables_the_checks_read() <= names, sorted(tables_the_checks_read() - names)
        print(f"{path.name}: cloudquery sync {took:.1f}s")
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=30)


def test_demo_keep_running_spec_works_as_printed(world: Any, tmp_path: Path) -> None:
    """The spec `aws-encryption demo --keep-running` prints, saved as demo.yml and run with the printed
    `export` line, through `cloudquery sync` (the printed command) from another directory."""
    from plugin.demo.run import keep_running_text
    text = keep_running_text(world, tmp_path / "demo.duckdb")
    export = next(line.strip() for line in text.splitlines() if line.strip().startswith("export "))
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(dict(kv.split("=", 1) for kv in shlex.split(export.removeprefix("export "))))
    printed = re.search(r"`(\S+) sync demo\.yml` syncs it again", text.replace("\n", " "))
    assert printed and Path(printed.group(1)).is_absolute(), text
    spec = text.split("\n---\n", 1)[1]
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "demo.yml").write_text(spec)
    for doc in yaml.safe_load_all(spec):
        assert Path(doc["spec"]["path"]).is_absolute(), doc["spec"]["path"]
    r = subprocess.run([printed.group(1), "sync", "demo.yml", "--telemetry-level", "none", "--cq-dir",
                        str(elsewhere / ".cq"), "--log-file-name", str(elsewhere / "cloudquery.log")],
                       cwd=elsewhere, env=env, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stdout + r.stderr + _tail(elsewhere / "cloudquery.log")
    con = duckdb.connect(str(tmp_path / "demo.duckdb"), read_only=True)
    try:
        assert con.execute("SELECT count(*) FROM aws_kms_keys WHERE _cq_source_name = 'aws-encryption-demo'"
                           ).fetchone()[0] > 0
    finally:
        con.close()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_for_port(port: int, proc: subprocess.Popen) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert proc.poll() is None, "aws-encryption serve exited"
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    pytest.fail(f"aws-encryption serve did not listen on {port}")


def _tail(log: Path, n: int = 3000) -> str:
    try:
        return "\n--- cloudquery.log ---\n" + log.read_text()[-n:]
    except OSError:
        return ""
