# PYTHON_ARGCOMPLETE_OK  (shell completion when the optional argcomplete package is installed)
"""The `aws-encryption` command line.

    aws-encryption sync SPEC [SPEC...]       sync in-process into the spec's DuckDB file (--check: and check it)
    aws-encryption validate SPEC [SPEC...]   what `sync` checks before its first AWS call, and nothing more
    aws-encryption check DB                  run the posture checks on a posture database (report, exit code)
    aws-encryption check --list-checks       list the checks, their framework controls and peers (no database)
    aws-encryption merge OUT DB [DB...]      merge per-shard posture databases into one
    aws-encryption sql DB "SELECT ..."       ad-hoc SQL, read-only (table on a terminal, csv/json/jsonl in pipes)
    aws-encryption demo [--db demo.duckdb]   the demo world on an embedded AWS endpoint (no account), synced and checked
    aws-encryption serve [--address ...]     the CloudQuery plugin server (the SDK's flags)
    aws-encryption package ...               the SDK's packaging (needs Docker)
    aws-encryption env                       shell lines: AWS_ENCRYPTION_BIN and the CloudQuery CLI on PATH
    aws-encryption --version

Exit status: 0 success; 1 the sync failed or could read no account, or `check` found failing findings or
incomplete data (see docs/usage.md); 2 bad input (spec, file, SQL, option), each with a one-line message
on stderr.

Shell completion: with the argcomplete package installed (`pip install argcomplete`), `eval
"$(register-python-argcomplete aws-encryption)"` completes subcommands, options and their choices. It is
imported only when the shell asks for completions, so it costs nothing otherwise.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from typing import Any

from .. import NAME, __version__

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


def _err(msg: str) -> None:
    sys.stderr.write(f"{NAME}: {msg}\n")


def _parser() -> argparse.ArgumentParser:
    from ..server.serve import add_serve_arguments

    parser = argparse.ArgumentParser(prog=NAME, description="Encryption posture of AWS organisations, as SQL.")
    parser.add_argument("--version", action="version", version=f"{NAME} {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    sy = sub.add_parser("sync", help="sync in-process into DuckDB, from CloudQuery spec files")
    sy.add_argument("specs", nargs="+", metavar="SPEC", help="CloudQuery YAML spec file(s)")
    sy.add_argument("--tables", help="comma-separated tables or patterns (overrides the spec)")
    sy.add_argument("--skip-tables", help="comma-separated tables or patterns to skip (overrides the spec)")
    sy.add_argument("--log-level", default="warn", choices=["debug", "info", "warn", "error"],
                    help="log lines on stderr at or above this level (default: warn)")
    sy.add_argument("--shard", metavar="I/N", help="sync only shard I of N (stale rows are then kept: "
                                                    "merge shards with `merge`, or use --processes)")
    sy.add_argument("--processes", type=int, default=1, metavar="N",
                    help="run N shard processes into this one database (one writer)")
    sy.add_argument("--ray", nargs="?", const="", default=None, metavar="ADDRESS",
                    help="run the shards as tasks of a Ray cluster, into this one database: ADDRESS is 'auto' "
                         "or host:port of a running cluster, none for a local one (extra `ray`; put it after "
                         "the spec files)")
    sy.add_argument("--ray-tasks", type=int, default=None, metavar="N",
                    help="with --ray: N shard tasks (default: one per CPU of the cluster)")
    sy.add_argument("--check", dest="run_checks", action="store_true",
                    help="run the checks right after the sync; every option of `check` applies (validated before "
                         "any AWS call), with --check-id to choose checks")
    from .check import add_report_options
    add_report_options(sy.add_argument_group("with --check"), select_flag="--check-id")

    mg = sub.add_parser("merge", help="merge per-shard posture databases into one")
    mg.add_argument("out", help="the database to write (created or updated)")
    mg.add_argument("inputs", nargs="+", help="databases to read (read-only)")

    vd = sub.add_parser("validate", help="check spec files as sync would, without any AWS call",
                        description="Everything `sync` checks before its first AWS call: the spec files, "
                                    "every field of the plugin spec, the DuckDB file and the table patterns. "
                                    "One line; exit 0 valid, 2 not. No credentials are loaded.")
    vd.add_argument("specs", nargs="+", metavar="SPEC", help="CloudQuery YAML spec file(s)")
    vd.add_argument("--tables", help="comma-separated tables or patterns (overrides the spec), as for sync")
    vd.add_argument("--skip-tables", help="comma-separated tables or patterns to skip (overrides the spec), "
                                          "as for sync")

    from .sql import FORMATS as SQL_FORMATS
    q = sub.add_parser("sql", help="run SQL on a posture database, read-only",
                       description="Run SQL on a posture database, read-only (no other file can be read or "
                                   "written). A table on a terminal, CSV in a pipe.")
    q.add_argument("db", metavar="DB", help="the posture database (a DuckDB file written by sync)")
    q.add_argument("query", metavar="SQL", help='the SQL to run, e.g. "SELECT arn FROM aws_kms_keys"')
    q.add_argument("--format", choices=SQL_FORMATS,
                   help="table, csv, json (one array) or jsonl (an object per line); "
                        "default: table on a terminal, csv otherwise")
    q.add_argument("--max-width", metavar="N",
                   help="table: the widest a line may be; wider columns wrap, no value is cut "
                        "(default: the terminal's width on a terminal, no limit otherwise; 0: no limit)")

    ck = sub.add_parser("check", help="run the posture checks on a posture database, read-only",
                        description="Run the posture checks on a posture database, read-only, and report. "
                                    "--mutelist FILE mutes accepted findings (docs/mutelist.md); --compliance "
                                    "NAME reports per framework control (docs/compliance.md); --list-checks "
                                    "lists the checks without a database.")
    from .check import add_check_arguments
    add_check_arguments(ck)

    dm = sub.add_parser("demo", help="sync and check a two-account demo world on an embedded AWS endpoint "
                                     "(no AWS account; needs the demo extra)")
    dm.add_argument("--db", default="./demo.duckdb",
                    help="the demo database (default ./demo.duckdb); an existing file must be a previous demo's")
    from ..checks.report import FORMATS
    dm.add_argument("--format", choices=FORMATS, default="table", help="report format (default: table)")
    dm.add_argument("--keep-running", action="store_true",
                    help="keep the endpoint up after the report, for the AWS CLI, until Ctrl-C")

    sp = sub.add_parser("serve", help="serve the CloudQuery source plugin over gRPC")
    add_serve_arguments(sp)
    for a in sp._actions:
        if a.help is None and a.option_strings and a.option_strings[0] in SERVE_HELP:
            a.help = SERVE_HELP[a.option_strings[0]]
    sub.add_parser("package", help="package the plugin for the CloudQuery hub (needs Docker); "
                                   "`package --help` for its options", add_help=False)
    sub.add_parser("env", help="print shell lines setting AWS_ENCRYPTION_BIN (the examples' plugin paths) "
                               "and putting the CloudQuery CLI on PATH: eval \"$(aws-encryption env)\"")
    return parser


# Help for the SDK's serve flags (plugin/server/serve.py defines them as the SDK does, without help).
SERVE_HELP = {
    "--address": "where to listen: host:port for tcp, a socket path for unix (default: localhost:7777)",
    "--network": "tcp or unix (default: tcp)",
    "--log-format": "text or json; the CloudQuery CLI asks for json (default: text)",
    "--log-level": "log lines at or above this level (default: info)",
    "--otel-endpoint": "accepted as the CloudQuery CLI passes it; not used",
    "--otel-endpoint-insecure": "accepted as the CloudQuery CLI passes it; not used",
    "--license": "accepted as the CloudQuery CLI passes it; not used",
    "--no-sentry": "accepted as the CloudQuery CLI passes it; nothing is sent anywhere either way",
}


def _complete(parser: argparse.ArgumentParser) -> None:
    """Shell completion through argcomplete, when installed and the shell is asking (it exits then)."""
    if "_ARGCOMPLETE" not in os.environ:
        return
    try:
        import argcomplete
    except ImportError:
        return
    argcomplete.autocomplete(parser)


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] == "package":
        from ..server.serve import package
        package(argv[1:])
        return EXIT_OK
    parser = _parser()
    _complete(parser)
    args = parser.parse_args(argv)
    if args.command == "serve":
        from ..server.serve import serve
        serve(args.address, args.network, args.log_format, args.log_level, args.allow_endpoint, args.allow_profile)
        return EXIT_OK
    if args.command == "sql":
        return _sql(args)
    if args.command == "check":
        return _check(args)
    if args.command == "demo":
        return _demo(args)
    if args.command == "merge":
        return _merge(args)
    if args.command == "validate":
        return _validate(args)
    if args.command == "env":
        return _env()
    return _sync(args)


def _ray_options(args: argparse.Namespace, shard: Any) -> Any:
    """--ray and --ray-tasks, checked before any AWS call (SpecFileError: exit 2)."""
    from .yaml_specs import SpecFileError
    if args.ray is None:
        if args.ray_tasks is not None:
            raise SpecFileError("--ray-tasks: only with --ray")
        return None
    from ..source.ray_shards import INSTALL_HINT, ray_available
    from .sync import RayOptions
    address = args.ray.strip() or None
    if address and (address.endswith((".yml", ".yaml")) or os.path.isfile(address)):
        raise SpecFileError(f"--ray: {address!r} is a file, not a cluster address: put --ray after the spec "
                            "files, or write --ray auto / --ray host:port")
    if args.processes > 1 or shard.total > 1:
        raise SpecFileError("--ray: not together with --processes or --shard (Ray runs the shards)")
    if args.ray_tasks is not None and args.ray_tasks < 1:
        raise SpecFileError(f"--ray-tasks: expected a number >= 1, got {args.ray_tasks}")
    if not ray_available():
        raise SpecFileError(INSTALL_HINT)
    return RayOptions(address=address, tasks=args.ray_tasks)


def _split(v: str | None) -> list[str] | None:
    return [x.strip() for x in v.split(",") if x.strip()] if v else None


def _sync(args: argparse.Namespace) -> int:
    # The spec (and --check's options) first, before the heavy imports: bad input is refused at once.
    from ..source.sharding import ALL, Shard
    from .paths import default_bin_var
    from .yaml_specs import SpecFileError, load
    default_bin_var()  # `${AWS_ENCRYPTION_BIN}` in `path:` (unused here) works without it set
    try:
        plan = load(args.specs)
        shard = Shard.parse(args.shard) if args.shard else ALL
        if args.processes < 1 or (args.processes > 1 and shard.total > 1):
            raise SpecFileError("--processes: expected a number >= 1, and not together with --shard")
        ray = _ray_options(args, shard)
        check_run = None
        if args.run_checks:
            # Every check option is checked now, before any AWS call, not after a long sync.
            from .check import prepare_check
            check_run = prepare_check(args)
    except ValueError as e:  # SpecFileError, CheckError, a bad --shard
        _err(str(e))
        return EXIT_USAGE
    from ..checks.files import CheckError
    from ..store.files import WriterError
    from .sync import FieldsFormatter, Interrupted, format_summary, is_tty, run

    level = {"debug": logging.DEBUG, "info": logging.INFO, "warn": logging.WARNING, "error": logging.ERROR}
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(FieldsFormatter("%(levelname)s %(name)s: %(message)s"))
    logging.basicConfig(level=level[args.log_level], handlers=[handler])
    if args.log_level != "debug":
        logging.getLogger("botocore").setLevel(logging.WARNING)
    try:
        summary = run(plan, tables=_split(args.tables), skip_tables=_split(args.skip_tables),
                      progress=sys.stderr if ray is not None or (is_tty(sys.stderr) and args.processes == 1) else None,
                      shard=shard, processes=args.processes, spec_files=args.specs, ray=ray)
    except WriterError as e:
        # Raised before the sync touched anything when the file can't be used.
        _err(str(e))
        return EXIT_USAGE if _before_sync(e) else EXIT_FAILED
    except ValueError as e:  # table patterns that match nothing
        _err(str(e))
        return EXIT_USAGE
    except KeyboardInterrupt:
        _err("interrupted; the database keeps its previous contents")
        _exit_now(130)
    except Interrupted:
        _err("terminated; the database keeps its previous contents")
        _exit_now(143)
    except Exception as e:  # noqa: BLE001 - one line, not a traceback, and the previous data stays
        _err(f"sync failed, the database keeps its previous contents: {type(e).__name__}: {e}")
        return EXIT_FAILED
    print(format_summary(summary), file=sys.stderr if check_run else sys.stdout)
    status = EXIT_FAILED if summary.nothing_read else EXIT_OK
    if check_run is not None:
        from .check import run_check
        try:
            status = max(status, run_check(check_run, plan.db_path, sys.stdout))
        except CheckError as e:
            _err(str(e))
            return EXIT_USAGE
    return status


def _exit_now(code: int) -> None:
    """End the process now: the writer has rolled back and closed the database, and AWS calls still in
    flight (up to request_timeout each) must not hold the exit (the interpreter would join their
    threads)."""
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


def _merge(args: argparse.Namespace) -> int:
    from ..store.files import WriterError
    from ..store.merge import merge
    try:
        counts = merge(args.out, args.inputs)
    except WriterError as e:
        _err(str(e))
        return EXIT_USAGE
    print(f"merged {sum(counts.values())} rows from {len(args.inputs)} databases into {args.out}")
    return EXIT_OK


def _before_sync(e: Exception) -> bool:
    from ..store.files import DatabaseLockedError, NotADuckDBFileError, NotWritableError
    return isinstance(e, (DatabaseLockedError, NotADuckDBFileError, NotWritableError))


def _validate(args: argparse.Namespace) -> int:
    """`aws-encryption validate SPEC...`: 0 valid (one line on stdout), 2 not (one line on stderr)."""
    from ..store.files import WriterError
    from .paths import default_bin_var
    from .validate import validate

    default_bin_var()
    try:
        print(validate(args.specs, tables=_split(args.tables), skip_tables=_split(args.skip_tables)))
    except (ValueError, WriterError) as e:  # SpecFileError, table patterns, the database file
        _err(str(e))
        return EXIT_USAGE
    return EXIT_OK


def _env() -> int:
    from .paths import shell_env

    lines, notes = shell_env()
    for n in notes:
        _err(n)
    print("\n".join(lines))
    return EXIT_OK if lines else EXIT_FAILED


def _sql(args: argparse.Namespace) -> int:
    from .sql import MIN_MAX_WIDTH, SqlError, query, write

    try:
        max_width = _max_width(args.max_width, MIN_MAX_WIDTH)
        cols, rows = query(args.db, args.query)
    except SqlError as e:
        _err(str(e))
        return EXIT_USAGE
    tty = _isatty(sys.stdout)
    fmt = args.format or ("table" if tty else "csv")
    if max_width is None and tty:
        import shutil
        max_width = shutil.get_terminal_size().columns
    write(cols, rows, fmt, sys.stdout, max_width=max_width or None)
    return EXIT_OK


def _max_width(value: str | None, minimum: int) -> int | None:
    """--max-width: None not given, 0 no limit, else at least `minimum` columns."""
    from .sql import SqlError
    if value is None:
        return None
    v = value.strip()
    if not v.isdigit() or (int(v) != 0 and int(v) < minimum):
        shown = value if len(value) <= 20 else value[:19] + "\u2026"
        raise SqlError(f"--max-width: expected a number of columns >= {minimum}, or 0 for no limit, got {shown!r}")
    return int(v)


def _isatty(stream: object) -> bool:
    try:
        return bool(stream.isatty())  # type: ignore[attr-defined]
    except Exception:  # noqa: BLE001 - a closed or replaced stream is not a terminal
        return False


def _check(args: argparse.Namespace) -> int:
    """`aws-encryption check DB`: 0 nothing fails at or above --fail-on, 1 something does, 2 bad input."""
    from ..checks.files import CheckError
    from .check import check_command

    try:
        return check_command(args, sys.stdout)
    except CheckError as e:
        _err(str(e))
        return EXIT_USAGE
    except KeyboardInterrupt:
        _err("interrupted")
        return 130


def _demo(args: argparse.Namespace) -> int:
    """`aws-encryption demo`: 0 the demo ran (findings included), 1 it failed, 2 bad --db or no moto."""
    try:
        from ..demo.run import main as demo_main
        return demo_main(args.db, args.format, args.keep_running)
    except KeyboardInterrupt:
        _err("interrupted")
        return 130


if __name__ == "__main__":
    sys.exit(main())
