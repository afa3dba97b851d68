"""The per-control view of a `--compliance` run (plugin/checks/compliance.py) in the table, markdown
and JSON reports: one row per catalogued control with its status, the checks mapped to it and their
finding counts, and a note naming the ids the checks map to that the catalogue does not list.
Check titles, remarks and ids come from check files: the table and markdown escape them."""

from __future__ import annotations

import textwrap
from typing import Any

from ..compliance import CONTROL_STATUSES, ComplianceView, ControlResult
from .safe_text import for_markdown, for_terminal


def _checks_text(c: ControlResult) -> str:
    if not c.checks:
        return c.control.why if c.status == "not applicable" else "not covered: no loaded check maps to it"
    parts = []
    for check, ref in c.checks:
        parts.append(check.id + (f" ({ref.remark})" if ref.remark else "")
                     + (" FAILED TO RUN" if check.id in c.failed_to_run else ""))
    n = c.counts
    tally = ", ".join(f"{n[s]} {s}" for s in ("fail", "error", "muted", "pass", "skip") if n[s])
    return "; ".join(parts) + (f" [{tally}]" if tally else " [no findings]")


def _headline(view: ComplianceView) -> str:
    t = view.tally()
    shown = ", ".join(f"{n} {s}" for s, n in t.items() if n)
    return f"Compliance: {view.framework.title} ({view.framework.key}): {len(view.controls)} controls; {shown}"


def unlisted_note(unlisted: dict[str, list[str]], ran: bool = True) -> str:
    """The control ids checks map to that the catalogue does not list (outside KMS and S3, or a wrong
    id); a `--compliance` run does not run those checks for them, and says so."""
    if not unlisted:
        return ""
    items = "; ".join(f"{cid} ({', '.join(ids)})" for cid, ids in sorted(unlisted.items()))
    return (("not run: " if ran else "") + "checks mapped to ids this catalogue does not list (outside KMS "
            f"and S3, or not a control of it): {items}")


def control_lines(view: ComplianceView, width: int = 100) -> list[str]:
    """The table report's section: a headline, a line per control (status, id, title), the mapped
    checks wrapped below it, and the unlisted note."""
    out = textwrap.wrap(for_terminal(_headline(view)), width, subsequent_indent="  ", break_on_hyphens=False) + [""]
    idw = max([len(c.control.id) for c in view.controls] + [7])
    for c in view.controls:
        head = f"{c.status.upper():<15}{c.control.id:<{idw}}  {c.control.title}"
        out.extend(textwrap.wrap(for_terminal(head), width, subsequent_indent=" " * (17 + idw),
                                 break_on_hyphens=False))
        out.extend(textwrap.wrap(for_terminal(_checks_text(c)), width, initial_indent=" " * (17 + idw),
                                 subsequent_indent=" " * (17 + idw), break_on_hyphens=False))
    note = unlisted_note(view.unlisted)
    if note:
        out.append("")
        out.extend(textwrap.wrap(for_terminal(note), width, subsequent_indent="  ", break_on_hyphens=False))
    return out


def control_markdown(view: ComplianceView) -> list[str]:
    out = ["", f"### {for_markdown(_headline(view))}", "", "| Control | Status | Title | Checks |",
           "|---|---|---|---|"]
    for c in view.controls:
        out.append(f"| {for_markdown(c.control.id)} | {c.status} | {for_markdown(c.control.title)} "
                   f"| {for_markdown(_checks_text(c))} |")
    note = unlisted_note(view.unlisted)
    if note:
        out += ["", f"> {for_markdown(note)}"]
    return out


def control_json(view: ComplianceView | None) -> dict[str, Any] | None:
    if view is None:
        return None
    return {
        "framework": view.framework.key, "title": view.framework.title, "names": list(view.framework.names),
        "summary": view.tally(),
        "controls": [{"id": c.control.id, "title": c.control.title, "scope": c.control.scope,
                      "why": c.control.why or None, "status": c.status, "counts": c.counts,
                      "checks": [{"id": check.id, "remark": ref.remark or None,
                                  "failed_to_run": check.id in c.failed_to_run} for check, ref in c.checks]}
                     for c in view.controls],
        "unlisted": [{"control": cid, "checks": ids} for cid, ids in sorted(view.unlisted.items())],
        "statuses": list(CONTROL_STATUSES),
    }
