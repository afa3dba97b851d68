"""`aws-encryption check DB` (and `sync --check`): its options, validated before anything runs, the
run, and the report written to stdout or atomically to `--output`.

Formats (`--format`; default `table` when stdout is a terminal and `json` otherwise; with `--output
FILE` the default follows the file's extension) are those of plugin/checks/report/formats.py.
Exit status: see plugin/checks/report/model.py; 2 for bad input (no such file, not a posture
database, locked, bad check file, unknown check id, bad --param/--severity, unwritable --output),
with a one-line message.
"""

from __future__ import annotations

import argparse
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from ..checks.files import (SEVERITIES, Check, CheckError, bundled_queries_dir, load_checks, parse_params,
                            parse_severity_filter, select_checks, validate_params)
from ..checks.report import COVERAGE_CHECK, FORMATS, Report, format_for, render
from ..checks.runner import parse_fail_on, run_with_coverage


def add_check_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("db", help="the posture database (DuckDB file), opened read-only")
    add_report_options(p)


def add_report_options(p: argparse.ArgumentParser, select_flag: str = "--check") -> None:
    """The options of `check` after the database; `sync --check` takes them too (with `--check-id`
    for choosing checks, since its own `--check` turns checking on)."""
    p.add_argument(select_flag, dest="check", action="append", metavar="ID",
                   help="run only this check (repeatable, or comma-separated); sync_coverage always runs with "
                        "the bundled checks")
    p.add_argument("--severity", metavar="SEV",
                   help="only checks of this severity or above (e.g. high), or exactly a comma-separated list")
    p.add_argument("--only-failed", action="store_true",
                   help="report only fail and error findings (counts still cover all)")
    p.add_argument("--queries", action="append", metavar="DIR",
                   help="also run the checks in DIR (or one .sql file); repeatable")
    p.add_argument("--no-bundled", action="store_true", help="do not run the bundled checks")
    p.add_argument("--param", action="append", metavar="NAME=VALUE",
                   help="set a check parameter (NAME or CHECK_ID.NAME); repeatable")
    p.add_argument("--format", choices=FORMATS,
                   help="default: table on a terminal, json otherwise (with --output: from the extension)")
    p.add_argument("--output", metavar="FILE", help="write the report to FILE instead of stdout")
    p.add_argument("--fail-on", default="high", choices=[*SEVERITIES, "none"],
                   help="exit 1 when a check of this severity or above fails (default: high)")
    p.add_argument("--fail-on-error", action="store_true",
                   help="also count error findings of checks at or above --fail-on as failing findings, even "
                        "with --allow-incomplete")
    p.add_argument("--allow-incomplete", action="store_true",
                   help="do not fail (exit 1) because the data is incomplete: accounts, regions or listings the "
                        "sync could not read, checks that failed to run, error findings (they are still reported)")


@dataclass
class CheckRun:
    """A `check` invocation validated before anything runs (so `sync --check` fails before any AWS call)."""

    checks: list[Check]
    params: dict[str, str]
    fmt: str | None
    output: Path | None
    notes: list[str]
    args: argparse.Namespace


def prepare_check(args: argparse.Namespace) -> CheckRun:
    """Load and select the checks, parse every option; CheckError (exit 2) for anything wrong."""
    notes: list[str] = []
    dirs: list[Path] = []
    bundled_dir: Path | None = None
    if not args.no_bundled:
        bundled = bundled_queries_dir()
        if bundled.is_dir() and any(bundled.glob("*.sql")):
            dirs.append(bundled)
            bundled_dir = bundled
        else:
            notes.append(f"no bundled checks: {bundled} is {'empty' if bundled.is_dir() else 'missing'}")
    dirs += [Path(q) for q in args.queries or []]
    checks = load_checks(dirs)
    params = parse_params(args.param)
    validate_params(checks, params)
    severities = parse_severity_filter(args.severity) if args.severity else None
    selected = select_checks(checks, args.check, severities)
    parse_fail_on(args.fail_on)
    if args.format is not None and args.format not in FORMATS:
        raise CheckError(f"--format: unknown format {args.format} (one of {', '.join(FORMATS)})")
    output = Path(args.output) if args.output else None
    if output is not None:
        parent = output.parent if str(output.parent) else Path(".")
        if not parent.is_dir() or not os.access(parent, os.W_OK):
            raise CheckError(f"--output {args.output}: directory {parent} does not exist or is not writable")
    if not checks:
        notes.append("0 checks loaded: nothing to run")
    elif not selected:
        notes.append("0 checks selected by --check/--severity: nothing to run")
    coverage = next((c for c in checks if c.id == COVERAGE_CHECK and bundled_dir is not None), None)
    if coverage is not None and coverage not in selected:
        selected = [coverage, *selected]
    return CheckRun(selected, params, args.format, output, notes, args)


def check_command(args: argparse.Namespace, stdout: TextIO) -> int:
    """Run `check` with parsed arguments; returns 0 or 1, raises CheckError for bad input (exit 2)."""
    return run_check(prepare_check(args), args.db, stdout)


def run_check(run: CheckRun, db: str, stdout: TextIO) -> int:
    """Run prepared checks on `db` and write the report; the exit status (0 or 1)."""
    args = run.args
    results, coverage = run_with_coverage(db, run.checks, run.params)
    report = Report(database=db, results=results, fail_on=args.fail_on, fail_on_error=args.fail_on_error,
                    only_failed=args.only_failed, notes=run.notes, coverage=coverage,
                    allow_incomplete=args.allow_incomplete)
    is_tty = bool(getattr(stdout, "isatty", lambda: False)())
    fmt = run.fmt or format_for(args.output, is_tty)
    color = fmt == "table" and run.output is None and is_tty and not os.environ.get("NO_COLOR")
    text = render(report, fmt, color=color)
    if run.output is not None:
        _write_atomically(run.output, text)
    else:
        stdout.write(text)
        stdout.flush()
    return report.exit_status


def _write_atomically(path: Path, text: str) -> None:
    parent = path.parent if str(path.parent) else Path(".")
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=parent)
    except OSError as e:
        raise CheckError(f"cannot write {path}: {e.strerror or e}") from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as f:
            f.write(text)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp creates 0600; the report is an ordinary file
        os.replace(tmp, path)
    except OSError as e:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise CheckError(f"cannot write {path}: {e.strerror or e}") from None
