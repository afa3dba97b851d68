"""`aws-encryption check DB` (and `sync --check`): its options, validated before anything runs, the
run, and the report written to stdout or atomically to `--output`.

Formats (`--format`; default `table` when stdout is a terminal and `json` otherwise; with `--output
FILE` the default follows the file's extension) are those of plugin/checks/report/formats.py.
`--mutelist FILE` mutes accepted findings (plugin/checks/mutelist.py, docs/mutelist.md);
`--compliance NAME` runs the checks mapped to a framework and adds the per-control view
(plugin/checks/compliance.py, docs/compliance.md); `--list-checks` lists the checks (or, with
`--compliance`, the framework's catalogue) without a database.
Exit status: see plugin/checks/report/model.py; 2 for bad input (no such file, not a posture
database, locked, bad check file, unknown check id, bad --param/--severity, unwritable --output,
a bad mutelist, an unknown framework), with a one-line message, before any check runs.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from ..checks.compliance import Framework, framework_keys, load_framework, map_checks
from ..checks.files import (SEVERITIES, Check, CheckError, bundled_queries_dir, load_checks, parse_params,
                            parse_severity_filter, select_checks, validate_params)
from ..checks.mutelist import Mutelist, apply_mutelist, load_mutelist
from ..checks.report import COVERAGE_CHECK, FORMATS, Report, format_for, render
from ..checks.report.graph import load_graph
from ..checks.report.listing import catalogue_json, catalogue_table, checks_json, checks_table
from ..checks.runner import parse_fail_on, run_with_coverage
from ..checks.tags import resource_tags


def add_check_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("db", nargs="?", help="the posture database (DuckDB file), opened read-only")
    p.add_argument("--list-checks", action="store_true",
                   help="list the checks (id, severity, title, framework controls, peers) without a database; "
                        "with --compliance, the framework's controls and the checks mapped to them; "
                        "--format table (default) or json")
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
    p.add_argument("--mutelist", metavar="FILE",
                   help="mute the fail and error findings a YAML list of entries names (check, account, region, "
                        "resources, tags, a required reason, an optional expires date); muted findings are shown "
                        "as muted in every format and never fail the run; expired entries are reported "
                        "(docs/mutelist.md)")
    p.add_argument("--compliance", metavar="NAME",
                   help="run the checks mapped to a framework's KMS and S3 controls and report per control "
                        f"(pass, fail, error, not covered): one of {', '.join(framework_keys())} "
                        "(docs/compliance.md); not with " + select_flag + " or --severity")


@dataclass
class CheckRun:
    """A `check` invocation validated before anything runs (so `sync --check` fails before any AWS call)."""

    checks: list[Check]
    params: dict[str, str]
    fmt: str | None
    output: Path | None
    notes: list[str]
    args: argparse.Namespace
    mutelist: Mutelist | None = None
    framework: Framework | None = None
    loaded: list[Check] | None = None   # every check loaded (for --list-checks --compliance)
    listed: list[Check] | None = None   # those --check/--severity chose (for --list-checks)


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
    framework = load_framework(args.compliance) if args.compliance else None
    if framework is not None and not getattr(args, "list_checks", False):
        if args.check or args.severity:
            raise CheckError("--compliance runs the checks mapped to the framework's controls; it does not take "
                             "--check/--check-id or --severity (a control whose check is left out would look "
                             "not covered)")
        selected = map_checks(framework, checks).checks
        notes.append(f"--compliance {framework.key}: {len(selected)} check{'s' if len(selected) != 1 else ''} "
                     "mapped to its controls")
    mutelist = None
    if args.mutelist:
        mutelist = load_mutelist(args.mutelist)
        mutelist.check_ids(c.id for c in checks)
    if args.format is not None and args.format not in FORMATS:
        raise CheckError(f"--format: unknown format {args.format} (one of {', '.join(FORMATS)})")
    output = Path(args.output) if args.output else None
    if output is not None:
        parent = output.parent if str(output.parent) else Path(".")
        if not parent.is_dir() or not os.access(parent, os.W_OK):
            raise CheckError(f"--output {args.output}: directory {parent} does not exist or is not writable")
    if not checks:
        notes.append("0 checks loaded: nothing to run")
    elif not selected and framework is None:
        notes.append("0 checks selected by --check/--severity: nothing to run")
    listed = selected
    coverage = next((c for c in checks if c.id == COVERAGE_CHECK and bundled_dir is not None), None)
    if coverage is not None and coverage not in selected:
        selected = [coverage, *selected]
    return CheckRun(selected, params, args.format, output, notes, args, mutelist, framework, checks, listed)


def check_command(args: argparse.Namespace, stdout: TextIO) -> int:
    """Run `check` with parsed arguments; returns 0 or 1, raises CheckError for bad input (exit 2)."""
    if args.list_checks:
        if args.db:
            raise CheckError("--list-checks lists the checks without running them: give no database")
        return list_checks(prepare_check(args), stdout)
    if not args.db:
        raise CheckError("check: the posture database (DuckDB file) is required, unless --list-checks")
    return run_check(prepare_check(args), args.db, stdout)


def list_checks(run: CheckRun, stdout: TextIO) -> int:
    """`check --list-checks`: the checks (those --check/--severity select), or the framework's catalogue."""
    fmt = run.fmt or "table"
    if fmt not in ("table", "json"):
        raise CheckError(f"--list-checks prints a table or json, not {fmt}")
    if run.framework is not None:
        loaded = run.loaded or []
        text = (catalogue_json if fmt == "json" else catalogue_table)(run.framework, loaded)
    else:
        frameworks = [load_framework(k) for k in framework_keys()]
        text = (checks_json if fmt == "json" else checks_table)(run.listed or [], frameworks)
    _emit(run, text, stdout)
    return 0


def run_check(run: CheckRun, db: str, stdout: TextIO) -> int:
    """Run prepared checks on `db` and write the report; the exit status (0 or 1)."""
    args = run.args
    results, coverage = run_with_coverage(db, run.checks, run.params)
    report = Report(database=db, results=results, fail_on=args.fail_on, fail_on_error=args.fail_on_error,
                    only_failed=args.only_failed, notes=run.notes, coverage=coverage,
                    allow_incomplete=args.allow_incomplete, framework=run.framework, loaded=run.loaded)
    if run.mutelist is not None:
        # Tags are read only when an entry needs them, and only for the findings that could be muted.
        tags = resource_tags(db, (f.resource_arn for r in results for f in r.rows if f.status in ("fail", "error"))) \
            if run.mutelist.uses_tags else {}
        today = report.generated_at.astimezone(dt.timezone.utc).date()
        report.muting = apply_mutelist(run.mutelist, results, today, tags)
    is_tty = bool(getattr(stdout, "isatty", lambda: False)())
    fmt = run.fmt or format_for(args.output, is_tty)
    if fmt == "html":  # the cross-account picture, from the access-path tables (report/graph.py)
        report.graph = load_graph(db)
    color = fmt == "table" and run.output is None and is_tty and not os.environ.get("NO_COLOR")
    _emit(run, render(report, fmt, color=color), stdout)
    return report.exit_status


def _emit(run: CheckRun, text: str, stdout: TextIO) -> None:
    if run.output is not None:
        _write_atomically(run.output, text)
    else:
        stdout.write(text)
        stdout.flush()


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
