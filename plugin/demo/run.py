"""`aws-encryption demo`: the demo world on an embedded AWS endpoint, synced and checked, no AWS account.

1. Refuse a `--db` that is not ours to overwrite (exit 2, before anything starts): an existing file
   must be a DuckDB database holding nothing but a previous demo (rows of source `aws-encryption-demo`
   only, or no tables at all), so `--db posture.duckdb` can't wipe a real sync.
2. Start moto's server (the `demo` extra) on 127.0.0.1, on a free port.
3. Build the two-account world of plugin/demo/world.py (DATA 111111111111 with the data lake on
   `aws/s3` read by COMPUTE 222222222222, the key cases) and switch IAM enforcement on.
4. Sync DATA and COMPUTE, both regions, with the real engine (local_sync.run) into a temporary file
   next to `--db`, then move it over `--db` (an interrupted demo leaves the previous file as it was).
5. Run the bundled checks and print the report (`--format`, default table), failures ordered by
   severity, then by DEMO_PRIORITY, so the `aws/s3` finding on the data lake is on top.

AWS credentials: the process's AWS_* variables are replaced for the duration of the run (setup
keys for building the world, then the scanner user's keys for the sync), AWS_CONFIG_FILE and
AWS_SHARED_CREDENTIALS_FILE point to the null device so ~/.aws is never read, and the instance
metadata service is off; everything is restored afterwards, also on errors and Ctrl-C. The endpoint
is stopped (and its socket closed) at the end, unless `--keep-running`, which keeps it up until
Ctrl-C so the world can be explored with the AWS CLI.

Exit status: 0 the demo ran (its findings are the point, not a failure), 1 it failed while running,
2 bad input (`--db`) or moto is not installed, 130 interrupted.
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import logging
import os
import shlex
import signal
import sys
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator, TextIO

from .. import NAME

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130
DEFAULT_DB = "./demo.duckdb"
DEMO_SOURCE = "aws-encryption-demo"
INSTALL_HINT = "pip install 'cq-source-aws-encryption[demo]' (or pip install '.[demo]' in a checkout)"
# Modules of the `demo` extra (moto[server]); an ImportError naming one of them means the extra is missing.
_EXTRA_MODULES = {"moto", "werkzeug", "flask", "flask_cors", "requests"}

# Within one severity, the demo's failures come in this order (the `aws/s3` cross-account failure of
# docs/key-types.md first); others keep the report's own order after these.
DEMO_PRIORITY = (
    "s3_aws_managed_key_cross_account",
    "shared_resource_aws_managed_key",
    "s3_key_unusable_by_bucket_principals",
    "s3_encryption_key_unusable_state",
    "kms_key_external_access",
    "kms_cmk_rotation_disabled",
)

# Credentials used only to build the world on moto, before IAM enforcement is switched on.
_SETUP_ENV = {"AWS_ACCESS_KEY_ID": "demo-setup", "AWS_SECRET_ACCESS_KEY": "demo-setup"}


class DemoError(Exception):
    """Bad input for the demo: one line, exit 2."""


@dataclass
class DemoResult:
    db_path: str
    endpoint: str
    keys: int
    buckets: int
    rows: int
    denied_calls: int
    world_seconds: float
    sync_seconds: float
    total_seconds: float


def main(db: str = DEFAULT_DB, fmt: str = "table", keep_running: bool = False,
         stdout: TextIO | None = None, stderr: TextIO | None = None) -> int:
    stdout = stdout or sys.stdout
    stderr = stderr or sys.stderr

    def err(msg: str) -> None:
        stderr.write(f"{NAME}: {msg}\n")
        stderr.flush()

    missing = _missing_extra()
    if missing:
        err(f"the demo needs {missing} (its embedded AWS endpoint): {INSTALL_HINT}")
        return EXIT_USAGE
    try:
        target = check_target(db)
    except DemoError as e:
        err(str(e))
        return EXIT_USAGE
    except KeyboardInterrupt:
        err("demo interrupted")
        return EXIT_INTERRUPTED
    try:
        return _run(target, fmt, keep_running, stdout, stderr)
    except DemoError as e:
        err(str(e))
        return EXIT_USAGE
    except _MissingExtra as e:
        err(f"the demo needs {e} (its embedded AWS endpoint): {INSTALL_HINT}")
        return EXIT_USAGE
    except KeyboardInterrupt:
        err(f"demo interrupted; {target} was left as it was")
        return EXIT_INTERRUPTED
    except _Terminated:
        err(f"demo terminated; {target} was left as it was")
        return 143
    except Exception as e:  # noqa: BLE001 - one line, not a traceback
        from ..cli.sync import Interrupted
        if isinstance(e, Interrupted):  # local_sync's SIGTERM
            err(f"demo terminated; {target} was left as it was")
            return 143
        err(f"demo failed: {type(e).__name__}: {e}")
        return EXIT_FAILED


# ---------------------------------------------------------------------------------------------
# Preconditions

class _MissingExtra(Exception):
    pass


def _missing_extra() -> str | None:
    """'moto' when moto is not importable (the `demo` extra is missing), else None."""
    try:
        if importlib.util.find_spec("moto") is None:
            return "moto"
    except (ImportError, ValueError):
        return "moto"
    return None


def check_target(db: str) -> Path:
    """The demo database path, if the demo may write it; DemoError (exit 2) otherwise. Touches nothing."""
    from ..checks.files import CheckError
    from ..checks.runner import open_read_only
    from ..store.files import WriterError, check_database_path

    try:
        p = check_database_path(db)  # directory, not a DuckDB file, unwritable: refused
    except WriterError as e:
        raise DemoError(f"{e}; the demo writes only a new file or a previous demo's database (pass --db)") from None
    if not p.exists():
        return p
    try:
        con = open_read_only(p)
    except CheckError as e:
        raise DemoError(str(e)) from None
    try:
        tables = [r[0] for r in con.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_catalog = current_database()").fetchall()]
        with_source = {r[0] for r in con.execute(
            "SELECT table_name FROM information_schema.columns WHERE table_catalog = current_database() "
            "AND column_name = '_cq_source_name'").fetchall()}
        foreign = sorted(t for t in tables if t not in with_source)
        sources: set[str] = set()
        for t in sorted(with_source):
            sources |= {r[0] for r in con.execute(f'SELECT DISTINCT _cq_source_name FROM "{t}"').fetchall()}
    finally:
        con.close()
    others = sorted(str(s) for s in sources - {DEMO_SOURCE})
    if foreign or others:
        what = f"rows of source {others[0]!r}" if others else f"table {foreign[0]!r}"
        raise DemoError(f"database {p} holds {what}, not only a previous demo; the demo will not overwrite it "
                        "(pass another --db, or remove the file)")
    if not os.access(p.parent if str(p.parent) else Path("."), os.W_OK | os.X_OK):
        raise DemoError(f"cannot replace {p}: directory {p.parent} is not writable")
    return p


# ---------------------------------------------------------------------------------------------
# Environment and endpoint

class _Terminated(Exception):
    pass


@contextlib.contextmanager
def isolated_aws_env(values: dict[str, str]) -> Iterator[None]:
    """Replace every AWS_* variable by `values` (plus no config files, no IMDS); restore on exit."""
    saved = {k: v for k, v in os.environ.items() if k.startswith("AWS_")}
    saved_session = _boto3_default_session()
    try:
        set_aws_env(values)
        yield
    finally:
        for k in [k for k in os.environ if k.startswith("AWS_")]:
            del os.environ[k]
        os.environ.update(saved)
        _restore_boto3_default_session(saved_session)


def set_aws_env(values: dict[str, str]) -> None:
    for k in [k for k in os.environ if k.startswith("AWS_")]:
        del os.environ[k]
    os.environ.update({"AWS_CONFIG_FILE": os.devnull, "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
                       "AWS_EC2_METADATA_DISABLED": "true", "AWS_DEFAULT_REGION": "us-east-1", **values})


def _boto3_default_session() -> Any:
    import boto3
    return boto3.DEFAULT_SESSION


def _restore_boto3_default_session(s: Any) -> None:
    # build_world's boto3.client() calls create (and cache) boto3's default session with the demo's keys.
    import boto3
    boto3.DEFAULT_SESSION = s


@contextlib.contextmanager
def embedded_endpoint() -> Iterator[Any]:
    """moto's server on 127.0.0.1, a free port; stopped and its socket closed on exit."""
    try:
        from .server import RecordingMotoServer
    except ImportError as e:
        if (e.name or "").split(".")[0] in _EXTRA_MODULES:
            raise _MissingExtra(e.name) from None
        raise
    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # one line per request otherwise
    server = RecordingMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        yield server
    finally:
        server.stop()
        inner = getattr(server, "_server", None)
        if inner is not None:
            inner.server_close()  # werkzeug closes it when serve_forever returns; idempotent, in case


@contextlib.contextmanager
def _sigterm_raises() -> Iterator[None]:
    def handler(_sig: int, _frame: Any) -> None:
        raise _Terminated()

    try:
        old = signal.signal(signal.SIGTERM, handler)
    except ValueError:  # not the main thread
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, old)


@contextlib.contextmanager
def _quiet_plugin_logs() -> Iterator[None]:
    """The demo's one denied call (COMPUTE's drifted role) is explained in the output, not logged."""
    lg = logging.getLogger("aws_encryption")
    old = lg.level
    lg.setLevel(logging.ERROR)
    try:
        yield
    finally:
        lg.setLevel(old)


# ---------------------------------------------------------------------------------------------
# The run

def _run(target: Path, fmt: str, keep_running: bool, stdout: TextIO, stderr: TextIO) -> int:
    import plugin

    from ..cli.sync import is_tty

    t0 = time.monotonic()
    tty = is_tty(stderr)

    def stage(msg: str) -> None:
        if tty:
            stderr.write(f"{msg}\n")
            stderr.flush()

    info = stdout if fmt == "table" else stderr  # machine formats keep stdout for the report alone
    actions = json.loads((Path(plugin.__file__).parent / "iam_policy.json").read_text())["Statement"][0]["Action"]
    tmp = target.with_name(f".{target.name}.{os.getpid()}.{uuid.uuid4().hex[:8]}.tmp")
    with _sigterm_raises(), _quiet_plugin_logs(), isolated_aws_env(_SETUP_ENV), embedded_endpoint() as server:
        host, port = server.get_host_and_port()
        endpoint = f"http://{host}:{port}"
        stage(f"demo: embedded AWS endpoint (moto) on {endpoint}; building the two-account world")
        from .server import enable_iam_enforcement
        from .world import build_world

        world = build_world(endpoint, actions, server)
        enable_iam_enforcement(endpoint)
        t_world = time.monotonic() - t0
        set_aws_env(world.env)  # the plugin gets the scanner user's keys, nothing else
        stage(f"demo: syncing accounts 111111111111 and 222222222222 into {target}")
        try:
            summary = _sync(world, tmp, stderr if tty else None)
            _replace(tmp, target)
        finally:
            _remove(tmp)
        report = _report(str(target))
        result = DemoResult(db_path=str(target), endpoint=endpoint, keys=summary.rows.get("aws_kms_keys", 0),
                            buckets=summary.rows.get("aws_s3_buckets", 0), rows=sum(summary.rows.values()),
                            denied_calls=summary.errors, world_seconds=t_world, sync_seconds=summary.elapsed,
                            total_seconds=time.monotonic() - t0)
        if fmt == "table":
            info.write(headline(report, result))
        info.write(explanation(result, world))
        info.flush()
        _print_report(report, fmt, stdout)
        if fmt == "table":
            stdout.write(last_line(report, str(target)))
            stdout.flush()
        if keep_running:
            info.write(keep_running_text(world, target))
            info.flush()
            _wait_for_ctrl_c()
    return EXIT_OK


def _sync(world: Any, db_path: Path, progress: TextIO | None) -> Any:
    from ..cli.sync import run
    from ..source.spec import parse_spec
    from ..cli.yaml_specs import SourcePlan, SyncPlan

    raw = world.spec()
    plan = SyncPlan(sources=[SourcePlan(name=DEMO_SOURCE, spec=parse_spec(raw), tables=["*"],
                                        skip_tables=[], skip_dependent_tables=True, file="<demo>")],
                    db_path=str(db_path))
    return run(plan, progress=progress)


def _replace(tmp: Path, target: Path) -> None:
    stale_wal = Path(f"{target}.wal")  # a WAL of the old file must not be replayed into the new one
    if stale_wal.exists():
        stale_wal.unlink()
    os.replace(tmp, target)


def _remove(tmp: Path) -> None:
    for p in (tmp, Path(f"{tmp}.wal")):
        with contextlib.suppress(FileNotFoundError):
            p.unlink()


def _wait_for_ctrl_c() -> None:
    try:
        while True:
            threading.Event().wait(3600)
    except (KeyboardInterrupt, _Terminated):
        pass


# ---------------------------------------------------------------------------------------------
# Report

def _priority(check_id: str, resource_arn: str) -> tuple[int, str, bool]:
    """Demo order within a severity: DEMO_PRIORITY's checks first, then the others by id; within a
    check, the data lake's finding first."""
    rank = DEMO_PRIORITY.index(check_id) if check_id in DEMO_PRIORITY else len(DEMO_PRIORITY)
    return rank, check_id, not resource_arn.startswith("arn:aws:s3:::data-lake-")


def _report(db_path: str) -> Any:
    from ..checks.files import SEVERITY_RANK, bundled_queries_dir, load_checks
    from ..checks.runner import run_with_coverage
    from ..checks.report import Report

    results, coverage = run_with_coverage(db_path, load_checks([bundled_queries_dir()]))
    # json, csv, sarif, ocsf and markdown's per-finding sections follow the results' order.
    order = {id(r): i for i, r in enumerate(results)}
    results.sort(key=lambda r: (-SEVERITY_RANK[r.check.severity], _priority(r.check.id, "")[:2], order[id(r)]))
    for r in results:
        r.rows.sort(key=lambda f: (f.status != "fail", _priority(r.check.id, f.resource_arn)[2]))
    from ..checks.report.graph import load_graph
    report = Report(database=db_path, results=results, coverage=coverage,
                    finding_order=lambda check, finding: _priority(check.id, finding.resource_arn))
    report.graph = load_graph(db_path)   # the cross-account picture of `demo --format html`
    return report


def _print_report(report: Any, fmt: str, stdout: TextIO) -> None:
    from ..checks.report import render

    tty = bool(getattr(stdout, "isatty", lambda: False)())
    text = render(report, fmt, color=fmt == "table" and tty and not os.environ.get("NO_COLOR"))
    stdout.write(text)
    stdout.flush()


# ---------------------------------------------------------------------------------------------
# Text

EXAMPLE_SQL = ("SELECT bucket_arn, principal_label, access, key_verdict FROM aws_s3_bucket_access_paths "
               "WHERE key_verdict IN ('not_allowed', 'deny')")


HEADLINES = 3   # the failures the first screen shows, before the world and the report


def headline(report: Any, r: DemoResult) -> str:
    """The first screen: what ran, then the top failures (the report's own order: the aws/s3 one first),
    each in at most five lines, so that they fit in 25 lines of a terminal."""
    import textwrap

    from ..checks.report.safe_text import for_terminal
    top = [(res.check, f) for res in report.results for f in res.rows if f.status == "fail"][:HEADLINES]
    total = sum(1 for res in report.results for f in res.rows if f.status == "fail")
    out = [f"{NAME} demo: two AWS accounts on an embedded endpoint (no AWS account used), synced into "
           f"{r.db_path} in {r.total_seconds:.1f}s.",
           f"{total} failing findings; the first {len(top)}:" if top else "No failing finding.", ""]
    for check, f in top:
        out.append(f"  {check.severity.upper():<8} {check.id}")
        out.append(f"           {for_terminal(f.resource_arn)}")
        reason = textwrap.wrap(for_terminal(f.reason), 100, break_long_words=False, break_on_hyphens=False)
        out += [f"           {line}" for line in reason[:3]]
        if len(reason) > 3:
            out[-1] += " ..."
    return "\n".join(out) + "\n\n"


def last_line(report: Any, db: str) -> str:
    """One closing line that says both things: the verdict a CI gate would act on, and that the demo
    itself succeeded (its findings are the point)."""
    verdict = "would fail a CI gate" if report.exit_status else "would pass a CI gate"
    return (f"\nDemo finished (exit 0): the findings above {verdict} (`{NAME} check {shlex.quote(db)}` exits "
            f"{report.exit_status} on this database).\n")


def explanation(r: DemoResult, world: Any) -> str:
    from .world import COMPUTE, DATA, REGIONS

    db = shlex.quote(r.db_path)
    denied = (f", {r.denied_calls} AWS call denied on purpose" if r.denied_calls == 1
              else f", {r.denied_calls} AWS calls denied" if r.denied_calls else "")
    lake = next((b for b, a in world.buckets.items() if b.startswith("data-lake-")), f"data-lake-{DATA}")
    shared = next((b for b, a in world.buckets.items() if b.startswith("org-shared-")), f"org-shared-{DATA}")
    return f"""\
The world: an embedded AWS endpoint (moto on {r.endpoint}, stopped at the end) held two
accounts, synced through the plugin as real accounts would be:

  DATA     {DATA}  the data lake: {lake} is default-encrypted with the AWS
                         managed key aws/s3 and its bucket policy lets COMPUTE's role read it;
                         customer managed keys with and without rotation, imported key material,
                         a key pending deletion, an asymmetric signing key, a grant to COMPUTE;
                         {shared} is shared with the whole organisation
                         (aws:PrincipalOrgID), also on aws/s3; the secret orders-db-credentials
                         (aws/secretsmanager) COMPUTE's role may read, and the queue order-events
                         (aws/sqs) an EventBridge rule delivers to: both fail silently; the
                         database snapshot orders-db-dr shared with COMPUTE under aws/rds
  COMPUTE  {COMPUTE}  reads the data lake; its audit role lacks kms:GetKeyRotationStatus
                         (a drifted role): that call is denied, an error finding below

Synced 2 accounts x {len(REGIONS)} regions ({", ".join(REGIONS)}) into {r.db_path}: {r.keys} KMS keys,
{r.buckets} S3 buckets, {r.rows} rows{denied} (world built in {r.world_seconds:.1f}s, \
synced in {r.sync_seconds:.1f}s, {r.total_seconds:.1f}s in all).

The first finding is the problem this tool exists for: COMPUTE may read the data lake's objects by the
bucket policy, yet every GetObject fails with AccessDenied from KMS: aws/s3 admits only its own
account, and nobody can change its policy.

Next steps:
  {NAME} sql {db} "{EXAMPLE_SQL}"
  {NAME} check {db} --format sarif > demo.sarif   # GitHub code scanning; also json, csv, ocsf
  A real account: put its id and your ~/.aws profile in examples/real-account-profile.yml, then
    {NAME} sync examples/real-account-profile.yml && {NAME} check posture.duckdb

"""


def keep_running_text(world: Any, target: Path) -> str:
    import yaml

    from ..cli.paths import cloudquery_bin_dir, scripts_dir
    from .world import ADMIN_ROLE, DATA

    env = {**world.env, "AWS_CONFIG_FILE": os.devnull, "AWS_SHARED_CREDENTIALS_FILE": os.devnull}
    exports = " ".join(f"{k}={shlex.quote(v)}" for k, v in env.items())
    # Absolute paths: the CloudQuery CLI starts a local plugin from `path` as written (no PATH search)
    # and opens the database relative to where it runs.
    bin_dir = scripts_dir()
    source_path, dest_path = ((str(bin_dir / NAME), str(bin_dir / "aws-encryption-duckdb")) if bin_dir
                              else (NAME, "aws-encryption-duckdb"))
    docs = [
        {"kind": "source", "spec": {"name": DEMO_SOURCE, "path": source_path, "registry": "local",
                                    "version": "v0.1.0", "tables": ["*"], "destinations": ["duckdb"],
                                    "spec": world.spec()}},
        {"kind": "destination", "spec": {"name": "duckdb", "path": dest_path, "registry": "local",
                                         "version": "v0.1.0", "write_mode": "overwrite-delete-stale",
                                         "spec": {"connection_string": os.path.abspath(target)}}},
    ]
    spec_yaml = yaml.safe_dump_all(docs, sort_keys=False)
    cq_dir = cloudquery_bin_dir()
    cloudquery = shlex.quote(str(cq_dir / "cloudquery")) if cq_dir else "cloudquery"
    return f"""
The embedded endpoint keeps running at {world.endpoint} (127.0.0.1 only) until Ctrl-C.
Its keys are the demo scanner's (moto's, not AWS's). In another shell:
  export {exports}
  aws --endpoint-url {world.endpoint} sts get-caller-identity
  aws --endpoint-url {world.endpoint} sts assume-role --role-arn arn:aws:iam::{DATA}:role/{ADMIN_ROLE} \
--role-session-name me
The spec for it (save as demo.yml; in that shell `{NAME} sync demo.yml` or
`{cloudquery} sync demo.yml` syncs it again):
---
{spec_yaml}"""
