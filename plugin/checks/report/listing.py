"""`aws-encryption check --list-checks`: the loaded checks (id, severity, title, the framework controls
they map to, peers) as a table or JSON, and with `--compliance` a framework's catalogue with the
checks mapped to each control. No database. Check files may come from `--queries`: the table
escapes their text (safe_text.for_terminal); JSON keeps it exact."""

from __future__ import annotations

import json
import textwrap
from typing import Any

from ..compliance import Framework, Ref, map_checks, refs
from ..files import SEVERITY_RANK, Check
from .controls import unlisted_note
from .safe_text import for_terminal

WIDTH = 100


def _framework_of(ref: Ref, frameworks: list[Framework]) -> str:
    """The catalogue key (`--compliance` value) that claims the reference, else the header's name."""
    return next((f.key for f in frameworks if f.claims(ref)), ref.framework)


def _ordered(checks: list[Check]) -> list[Check]:
    return sorted(checks, key=lambda c: (-SEVERITY_RANK[c.severity], c.id))


def checks_table(checks: list[Check], frameworks: list[Framework]) -> str:
    """A row per check: id and severity, then title, frameworks and peers wrapped in the third column."""
    idw = max([len(c.id) for c in checks] + [5])
    indent = " " * (idw + 2 + 10)
    lines = [f"{'check':<{idw}}  {'severity':<10}title / frameworks / peers", ""]
    for c in _ordered(checks):
        fws = "; ".join(f"{_framework_of(r, frameworks)} {r.text}" for r in refs(c)) or "none"
        cells = [c.title, f"frameworks: {fws}", f"peers: {'; '.join(c.peers) or 'none listed'}"]
        first = True
        for cell in cells:
            for part in textwrap.wrap(for_terminal(cell), max(WIDTH - len(indent), 30),
                                      break_on_hyphens=False) or [""]:
                lead = f"{for_terminal(c.id):<{idw}}  {c.severity:<10}" if first else indent
                lines.append(lead + part)
                first = False
        lines.append("")
    lines.append(f"{len(checks)} check{'s' if len(checks) != 1 else ''}")
    return "\n".join(lines) + "\n"


def checks_json(checks: list[Check], frameworks: list[Framework]) -> str:
    doc = {"checks": [{
        "id": c.id, "severity": c.severity, "title": c.title, "resource_type": c.resource_type,
        "path": c.source_uri, "bundled": c.bundled,
        "frameworks": [{"framework": r.framework, "compliance": _framework_of(r, frameworks) if any(
            f.claims(r) for f in frameworks) else None, "control": r.control, "remark": r.remark or None}
            for r in refs(c)],
        "peers": c.peers} for c in _ordered(checks)]}
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"


def _catalogue(framework: Framework, checks: list[Check]) -> dict[str, Any]:
    m = map_checks(framework, checks)
    return {
        "framework": framework.key, "title": framework.title, "names": list(framework.names),
        "controls": [{"id": c.id, "title": c.title, "scope": c.scope, "why": c.why or None,
                      "checks": [{"id": ch.id, "severity": ch.severity, "remark": r.remark or None}
                                 for ch, r in m.by_control[c.id]]} for c in framework.controls],
        "unlisted": [{"control": cid, "checks": [c.id for c in cs]} for cid, cs in sorted(m.unlisted.items())],
    }


def catalogue_json(framework: Framework, checks: list[Check]) -> str:
    return json.dumps(_catalogue(framework, checks), indent=2, ensure_ascii=False) + "\n"


def catalogue_table(framework: Framework, checks: list[Check]) -> str:
    doc = _catalogue(framework, checks)
    idw = max([len(c["id"]) for c in doc["controls"]] + [7])
    indent = " " * (idw + 2 + 16)
    lines = [for_terminal(f"{framework.title} ({framework.key})"), "",
             f"{'control':<{idw}}  {'scope':<16}title / checks"]
    for c in doc["controls"]:
        if c["checks"]:
            mapped = "checks: " + "; ".join(x["id"] + (f" ({x['remark']})" if x["remark"] else "") for x in c["checks"])
        elif c["scope"] == "not-applicable":
            mapped = f"not applicable: {c['why']}"
        else:
            mapped = "not covered: no loaded check maps to it"
        first = True
        for cell in (c["title"], mapped):
            for part in textwrap.wrap(for_terminal(cell), WIDTH - len(indent), break_on_hyphens=False) or [""]:
                lines.append((f"{c['id']:<{idw}}  {c['scope']:<16}" if first else indent) + part)
                first = False
    note = unlisted_note({u["control"]: u["checks"] for u in doc["unlisted"]}, ran=False)
    if note:
        lines += [""] + textwrap.wrap(for_terminal(note), WIDTH, subsequent_indent="  ", break_on_hyphens=False)
    return "\n".join(lines) + "\n"
