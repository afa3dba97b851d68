"""The `aws-encryption` command line.

    aws-encryption sync SPEC [SPEC...]       sync in-process into the spec's DuckDB file (--check: and check it)
    aws-encryption check DB                  run the posture checks on a posture database (report, exit code)
    aws-encryption check --list-checks       list the checks, their framework controls and peers (no database)
    aws-encryption merge OUT DB [DB...]      merge per-shard posture databases into one
    aws-encryption sql DB "SELECT ..."       ad-hoc SQL, read-only (table on a terminal, csv/json in pipes)
    aws-encryption demo [--db demo.duckdb]   the demo world on an embedded AWS endpoint (no account), synced and checked
    aws-encryption serve [--address ...]     the CloudQuery plugin server (the SDK's flags)
    aws-encryption package ...               the SDK's packaging (needs Docker)
    aws-encryption --version

Exit status: 0 success; 1 the sync failed or could read no account, or `check` found failing findings or
incomplete data (see docs/usage.md); 2 bad input (spec, file, SQL, option), each with a one-line message
on stderr.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys

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
    sy.add_argument("--log-level", default="warn", choices=["debug", "info", "warn", "error"])
    sy.add_argument("--shard", metavar="I/N", help="sync only shard I of N (stale rows are then kept: "
                                                    "merge shards with `merge`, or use --processes)")
    sy.add_argument("--processes", type=int, default=1, metavar="N",
                    help="run N shard processes into this one database (one writer)")
    sy.add_argument("--check", dest="run_checks", action="store_true",
                    help="run the checks right after the sync; every option of `check` applies (validated before "
                         "any AWS call), with --check-id to choose checks")
    from .check import add_report_options
    add_report_options(sy.add_argument_group("with --check"), select_flag="--check-id")

    mg = sub.add_parser("merge", help="merge per-shard posture databases into one")
    mg.add_argument("out", help="the database to write (created or updated)")
    mg.add_argument("inputs", nargs="+", help="databases to read (read-only)")

    q = sub.add_parser("sql", help="run SQL on a posture database, read-only")
    q.add_argument("db")
    q.add_argument("query")
    q.add_argument("--format", choices=["table", "csv", "json"], help="default: table on a terminal, csv otherwise")

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
    sub.add_parser("package", help="package the plugin for the CloudQuery hub (needs Docker)", add_help=False)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] == "package":
        from ..server.serve import package
        package(argv[1:])
        return EXIT_OK
    args = _parser().parse_args(argv)
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
    return _sync(args)


def _split(v: str | None) -> list[str] | None:
    return [x.strip() for x in v.split(",") if x.strip()] if v else None


def _sync(args: argparse.Namespace) -> int:
    # The spec (and --check's options) first, before the heavy imports: bad input is refused at once.
    from ..source.sharding import ALL, Shard
    from .yaml_specs import SpecFileError, load
    try:
        plan = load(args.specs)
        shard = Shard.parse(args.shard) if args.shard else ALL
        if args.processes < 1 or (args.processes > 1 and shard.total > 1):
            raise SpecFileError("--processes: expected a number >= 1, and not together with --shard")
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
                      progress=sys.stderr if is_tty(sys.stderr) and args.processes == 1 else None,
                      shard=shard, processes=args.processes, spec_files=args.specs)
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


def _sql(args: argparse.Namespace) -> int:
    from .sql import SqlError, query, write

    try:
        cols, rows = query(args.db, args.query)
    except SqlError as e:
        _err(str(e))
        return EXIT_USAGE
    fmt = args.format or ("table" if sys.stdout.isatty() else "csv")
    write(cols, rows, fmt, sys.stdout)
    return EXIT_OK


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
