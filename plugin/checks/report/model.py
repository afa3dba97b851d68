"""A check run's report as data: the results, what the sync read (coverage), the verdict and the
exit status, and what every format shares. The formats are modules of this package, listed in
formats.py.

`--only-failed` keeps only `fail` and `error` findings in every format (errors are kept: they are
checks that could not conclude), and in table/markdown only the checks that have some; the counts
(per severity, per check, summary) stay those of all findings.

Exit status (`Report.exit_status`): 1 when a `fail` finding is at or above `--fail-on` (default
high; `none`: findings never fail), or when the data is incomplete (`Report.incomplete`: scopes the
sync could not read, unknown coverage, checks that failed to run, `error` findings) unless
`--allow-incomplete`; else 0. The table report's first screen lists the unread scopes
(`coverage_lines`).

Muting (`--mutelist`, plugin/checks/mutelist.py): a muted finding keeps its own status in the data
(`Finding.status`) and is shown as `muted` (`Report.status_of`); it never fails the run and is not
counted as incomplete, and the counts show it in a `muted` column of its own, out of fail/error.
A compliance run (`--compliance`) adds the per-control view (`Report.compliance`).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable

from ..compliance import ComplianceView, Framework, evaluate
from ..coverage import Coverage, UnreadScope
from ..files import SEVERITY_RANK, Check
from ..mutelist import MuteEntry, Muting
from ..runner import CheckResult, Finding, failing, parse_fail_on, summarize

if TYPE_CHECKING:
    from .graph import AccessGraph


@dataclass(frozen=True)
class ReportFormat:
    """One output format: its `--format` name, the `--output` file endings that choose it, and how it
    renders a report (`render(report, color)`; colour only matters to the terminal table)."""

    name: str
    suffixes: tuple[str, ...]
    render: Callable[["Report", bool], str]


# The bundled check that turns aws_encryption_sync_coverage into findings; it runs whenever the
# bundled checks do, whatever --check/--severity select, so no format can leave unread scopes out.
COVERAGE_CHECK = "sync_coverage"


@dataclass
class Report:
    database: str
    results: list[CheckResult]
    generated_at: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.timezone.utc))
    fail_on: str = "high"
    fail_on_error: bool = False
    only_failed: bool = False
    notes: list[str] = field(default_factory=list)
    # What the latest sync read; None when not looked at (reports built by hand).
    coverage: Coverage | None = None
    allow_incomplete: bool = False
    # Within a severity, findings are listed by this key first (e.g. the demo's story order), then
    # by check id and resource.
    finding_order: Callable[[Check, Finding], tuple[Any, ...]] | None = None
    # What --mutelist muted in this run; None without a mutelist.
    muting: Muting | None = None
    # The framework of a --compliance run, and every check loaded (the view names those mapped to ids
    # its catalogue does not list, which did not run); None otherwise.
    framework: Framework | None = None
    loaded: list[Check] | None = None
    # The cross-account picture the HTML report draws (graph.py), read from the access-path tables by
    # `check --format html`; None otherwise.
    graph: "AccessGraph | None" = None

    def mute_of(self, check: Check, f: Finding) -> MuteEntry | None:
        return self.muting.entry_for(check.id, f) if self.muting is not None else None

    def status_of(self, check: Check, f: Finding) -> str:
        """The status every format shows: `muted` for a muted finding, else the check's."""
        return "muted" if self.mute_of(check, f) is not None else f.status

    def counts(self, r: CheckResult) -> dict[str, int]:
        """A check's counts per shown status; `muted` only with a mutelist (out of fail and error)."""
        c = r.counts()
        if self.muting is not None:
            c["muted"] = 0
            for f in r.rows:
                if self.mute_of(r.check, f) is not None:
                    c[f.status] -= 1
                    c["muted"] += 1
        return c

    @property
    def summary(self) -> dict[str, Any]:
        s = summarize(self.results)
        if self.muting is None:
            return s
        s["status"]["muted"] = 0
        for b in s["by_severity"].values():
            b["muted"] = 0
        for r in self.results:
            s["by_check"][r.check.id]["muted"] = 0
            for f in r.rows:
                if self.mute_of(r.check, f) is None:
                    continue
                for bucket in (s["status"], s["by_severity"][r.check.severity], s["by_check"][r.check.id]):
                    bucket[f.status] -= 1
                    bucket["muted"] += 1
        return s

    @property
    def failing(self) -> list[tuple[Check, Finding]]:
        return [(c, f) for c, f in failing(self.results, self.fail_on, self.fail_on_error)
                if self.mute_of(c, f) is None]

    @property
    def unread(self) -> list[UnreadScope]:
        """The scopes the sync could not read, less those whose sync_coverage finding is muted."""
        if self.coverage is None:
            return []
        muted = {(f.account_id, f.region, str(f.details.get("operation", ""))) for r in self.results
                 if r.check.id == COVERAGE_CHECK for f in r.rows if self.mute_of(r.check, f) is not None}
        return [u for u in self.coverage.unread if (u.account_id, u.region, u.operation) not in muted]

    @property
    def compliance(self) -> ComplianceView | None:
        if self.framework is None:
            return None
        return evaluate(self.framework, self.results, self.status_of, self.loaded)

    @property
    def incomplete(self) -> list[str]:
        """Why the report does not cover everything: unread scopes, checks that failed to run, error
        findings. Each fails the run unless --allow-incomplete (never a silent pass)."""
        out: list[str] = []
        cov = self.coverage
        if cov is not None and not cov.available:
            out.append("the database has no aws_encryption_sync_coverage table, so what the sync read is unknown")
        elif cov is not None and self.unread:
            n = len(self.unread)
            out.append(f"{n} account{'s' if n != 1 else ''}, region{'s' if n != 1 else ''} or listing"
                       f"{'s' if n != 1 else ''} not read by the sync")
        broken = [r.check.id for r in self.results if r.error]
        if broken:
            out.append(f"{len(broken)} check{'s' if len(broken) != 1 else ''} failed to run "
                       f"({', '.join(broken[:5])}{', ...' if len(broken) > 5 else ''})")
        errors = sum(1 for r in self.results if not r.error and r.check.id != COVERAGE_CHECK
                     for f in r.rows if f.status == "error" and self.mute_of(r.check, f) is None)
        if errors:
            out.append(f"{errors} error finding{'s' if errors != 1 else ''} (inputs the sync could not read)")
        return out

    @property
    def exit_status(self) -> int:
        return 1 if self.failing or (self.incomplete and not self.allow_incomplete) else 0

    def shown(self, r: CheckResult) -> list[Finding]:
        return [f for f in r.rows if f.status in ("fail", "error")] if self.only_failed else list(r.rows)

    @property
    def timestamp(self) -> str:
        return self.generated_at.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def sorted_findings(report: Report, statuses: tuple[str, ...]) -> list[tuple[Check, Finding]]:
    """The findings of these shown statuses (`muted` included), most severe first, then by
    `report.finding_order` (if set), check id and resource."""
    order = report.finding_order
    out = [(r.check, f) for r in report.results for f in r.rows if report.status_of(r.check, f) in statuses]
    out.sort(key=lambda cf: (-SEVERITY_RANK[cf[0].severity], *(order(*cf) if order else ()), cf[0].id,
                             cf[1].resource_arn))
    return out


def verdict(report: Report) -> str:
    n = len(report.failing)
    what = "failing or error" if report.fail_on_error else "failing"
    if parse_fail_on(report.fail_on) is None:
        head = "--fail-on none: findings never fail the run"
    elif n:
        head = f"FAILED: {n} {what} finding{'s' if n != 1 else ''} at or above {report.fail_on}"
    else:
        head = f"passed: no {what} finding at or above {report.fail_on}"
    gaps = report.incomplete
    if gaps and report.allow_incomplete:
        tail = "; incomplete, allowed by --allow-incomplete: " + "; ".join(gaps)
    elif gaps:
        head = ("FAILED: " + head[len("FAILED: "):]) if n else "INCOMPLETE: " + head
        tail = "; incomplete: " + "; ".join(gaps)
    else:
        tail = ""
    m = report.muting
    if m is not None:
        said = ([f"{m.count} finding{'s' if m.count != 1 else ''} muted"] if m.count else []) + (
            [f"{len(m.expired)} mutelist entr{'ies' if len(m.expired) != 1 else 'y'} expired"] if m.expired else [])
        head += f" ({', '.join(said)})" if said else ""
    return f"{head}{tail} (exit {report.exit_status})"


def mutelist_lines(report: Report) -> list[str]:
    """What the mutelist did, for the table and markdown: one line for the file, one per expired entry
    (it no longer mutes) and per live entry that matched nothing. Plain text: the caller escapes it."""
    m = report.muting
    if m is None:
        return []
    n = len(m.mutelist.entries)
    out = [f"mutelist {m.mutelist.path}: {n} entr{'ies' if n != 1 else 'y'}, {m.count} finding"
           f"{'s' if m.count != 1 else ''} muted (as of {m.today.isoformat()})"]
    for e, would in m.expired:
        out.append(f"EXPIRED {e.label}: expired {e.expires.isoformat() if e.expires else '?'}, no longer mutes"
                   + (f" ({would} finding{'s' if would != 1 else ''} shown with {'their' if would != 1 else 'its'}"
                      " own status)" if would else "") + f"; reason was: {e.reason}")
    for e in m.unused:
        out.append(f"UNUSED {e.label}: matched no fail or error finding in this run")
    return out


def mute_json(e: MuteEntry | None) -> dict[str, Any] | None:
    if e is None:
        return None
    return {"entry": e.index, "line": e.line, "check": e.check, "reason": e.reason,
            "expires": e.expires.isoformat() if e.expires else None}


def mutelist_json(report: Report) -> dict[str, Any] | None:
    m = report.muting
    if m is None:
        return None
    return {"file": m.mutelist.path, "as_of": m.today.isoformat(), "entries": len(m.mutelist.entries),
            "muted": m.count,
            "expired": [{**(mute_json(e) or {}), "would_mute": n} for e, n in m.expired],
            "unused": [mute_json(e) for e in m.unused]}


def coverage_lines(report: Report, limit: int = 10) -> list[str]:
    """What the latest sync could not read and how old each account's data is, for the first screen."""
    cov = report.coverage
    if cov is None:
        return []
    if not cov.available:
        return ["coverage: unknown (no aws_encryption_sync_coverage table: synced by another tool, an older "
                "version, or with the table skipped)"]
    when = cov.sync_time.strftime("%Y-%m-%d %H:%M UTC") if cov.sync_time else "?"
    counts: dict[str, int] = {}
    for a in cov.accounts:
        counts[a.status] = counts.get(a.status, 0) + 1
    line = f"data: sync of {when}; accounts " + ", ".join(f"{n} {st}" for st, n in sorted(counts.items())) \
        if counts else f"data: sync of {when}; no account read"
    out = [line]
    if not cov.unread:
        return out
    out.append(f"NOT READ ({len(cov.unread)}): the checks below say nothing about these")
    live = {id(u) for u in report.unread}
    for u in cov.unread[:limit]:
        if u.kept_rows:
            kept = f"{u.kept_rows} rows kept from {u.kept_sync_time:%Y-%m-%d %H:%M} UTC"
        elif u.kept_rows == 0:
            kept = "no earlier data"
        else:
            kept = "earlier data not tracked"
        out.append(f"  {u.where}: {u.operation} {u.error_code}; {kept}" + ("" if id(u) in live else " (muted)"))
    if len(cov.unread) > limit:
        out.append(f"  ... {len(cov.unread) - limit} more (findings of {COVERAGE_CHECK})")
    return out


def coverage_json(cov: Coverage | None) -> dict[str, Any] | None:
    if cov is None:
        return None

    def ts(v: dt.datetime | None) -> str | None:
        return v.strftime("%Y-%m-%dT%H:%M:%SZ") if v is not None else None

    return {
        "available": cov.available, "complete": cov.complete, "sync_time": ts(cov.sync_time),
        "accounts": [{"account_id": a.account_id, "status": a.status, "synced": ts(a.synced),
                      "oldest_data": ts(a.oldest_data)} for a in cov.accounts],
        "unread": [{"account_id": u.account_id, "region": u.region, "table_name": u.table_name,
                    "operation": u.operation, "error_code": u.error_code, "message": u.message,
                    "kept_rows": u.kept_rows, "kept_sync_time": ts(u.kept_sync_time), "where": u.where}
                   for u in cov.unread],
    }


def compliance_ids(check: Check) -> list[str]:
    """The check's compliance mappings as `framework: control` ids, each once, in header order, without
    the remark in parentheses a control may carry (`S3.17 (stricter: ...)` -> `AWS Security Hub: S3.17`):
    what SARIF tags and OCSF requirements list. `check.compliance` keeps the remarks."""
    out: list[str] = []
    for framework, control in check.compliance:
        ident = control.split("(", 1)[0].strip() or control
        item = f"{framework}: {ident}"
        if item not in out:
            out.append(item)
    return out


def arn_name(arn: str) -> str:
    if not arn:
        return ""
    tail = arn.split(":", 5)[-1]
    return tail.rsplit("/", 1)[-1] or tail
