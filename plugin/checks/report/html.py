"""`--format html` (and `--output report.html`): one self-contained page for people, e.g. a CI
artifact. Nothing is fetched: the CSS and a little JavaScript (html_assets.py) are inline, the pictures
are inline SVG, and a Content-Security-Policy allows only this page's own style and script (by hash), so the page
works offline and nothing in the data can load or run anything.

The page: the verdict; what the sync could not read; counts per status, per severity, per account
and per check (`muted` with `--mutelist`); the cross-account picture (`Report.graph`, graph.py: owner
accounts | shared resources | keys | readers, the reader edges coloured by the key's verdict); the
per-control view of a `--compliance` run; and the findings, filterable by severity, status, check,
account and free text (the filter is kept in the URL's `#fragment`), each with its reason, the fix
the reason names, the check's evidence columns, remediation and remediation command. At most
MAX_FINDINGS findings are listed (fail, error and muted first).

Every string from AWS, check files or the mutelist is escaped for HTML (`&<>"'`), after the control
and bidi characters are removed (safe_text.for_terminal); only `http(s)` references become links.
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
import re
from collections import defaultdict
from typing import Any, Iterable

from ... import NAME, __version__
from ..files import SEVERITIES, SEVERITY_RANK, Check
from ..runner import Finding
from .controls import control_json
from .graph import BROKEN, VERDICT_RANK, AccessGraph, GraphEdge, GraphNode
from .html_assets import CSS as _CSS
from .html_assets import JS as _JS
from .model import Report, ReportFormat, coverage_lines, mutelist_lines, sorted_findings, verdict
from .safe_text import for_terminal

MAX_FINDINGS = 3000
NO_ACCOUNT = "(none)"  # the account filter's value for findings without one
STATUS_ORDER = ("fail", "error", "muted", "pass", "skip")

VERDICT_COLORS = {"deny": "#8e0000", "not_allowed": "#e53935", "unknown": "#f9a825", "depends": "#f9a825",
                  "allow": "#2e7d32", "not_needed": "#90a4ae", "not_evaluated": "#90a4ae"}
VERDICT_TEXT = {"deny": "denied by the key", "not_allowed": "key does not allow", "unknown": "unknown",
                "depends": "depends on conditions", "allow": "key allows",
                "not_needed": "key not needed", "not_evaluated": "not evaluated"}
STATUS_COLORS = {"fail": "#c62828", "error": "#ef6c00", "muted": "#78909c", "pass": "#2e7d32", "skip": "#bdbdbd"}


def _e(text: Any) -> str:
    """Text from AWS, check files or the mutelist, as inert HTML text or attribute value."""
    return html.escape(for_terminal("" if text is None else text), quote=True)


def _cut(text: str, n: int) -> str:
    return text if len(text) <= n else text[: max(n - 1, 1)] + "…"


def _statuses(report: Report) -> tuple[str, ...]:
    return tuple(s for s in STATUS_ORDER if s != "muted" or report.muting is not None)


# ---------------------------------------------------------------------------------------------
# The page

def render_html(report: Report) -> str:
    s = report.summary
    statuses = _statuses(report)
    banner = "bad" if report.failing else ("warn" if report.exit_status or report.incomplete else "good")
    body = [
        f'<header class="banner {banner}"><div class="wrap">',
        f'<p class="tool">{_e(NAME)} check · {s["checks"]} checks · {s["findings"]} findings · '
        f'{_e(report.timestamp)}</p>',
        f'<h1 id="verdict">{_e(verdict(report))}</h1>',
        f'<p class="db">database <code>{_e(report.database)}</code> · --fail-on {_e(report.fail_on)}</p>',
        "</div></header>",
        '<main class="wrap">',
        _notes(report),
        _summary(report, statuses),
        _graph_section(report.graph),
        _by_check(report, statuses),
        _compliance(report),
        _findings(report, statuses),
        "</main>",
        f'<footer class="wrap">{_e(NAME)} {_e(__version__)} · {_e(report.timestamp)} · '
        "this page loads nothing from the network</footer>",
    ]
    csp = (f"default-src 'none'; style-src '{_sha256(_CSS)}'; script-src '{_sha256(_JS)}'; img-src data:; "
           "base-uri 'none'; form-action 'none'")
    return "".join([
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">",
        f'<meta http-equiv="Content-Security-Policy" content="{csp}">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{_e(NAME)} check: {_e(report.database)}</title>",
        f"<style>{_CSS}</style></head>\n<body>",
        "\n".join(x for x in body if x),
        f"\n<script>{_JS}</script></body></html>\n",
    ])


def _sha256(text: str) -> str:
    return "sha256-" + base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode("ascii")


def _notes(report: Report) -> str:
    items: list[str] = []
    for note in report.notes:
        items.append(f"<li>{_e(note)}</li>")
    for line in coverage_lines(report):
        cls = ' class="alert"' if line.startswith("NOT READ") else ""
        items.append(f"<li{cls}>{_e(line.strip())}</li>")
    for gap in report.incomplete:
        items.append(f'<li class="alert">incomplete: {_e(gap)}</li>')
    for line in mutelist_lines(report):
        cls = ' class="alert"' if line.startswith("EXPIRED") else ""
        items.append(f"<li{cls}>{_e(line)}</li>")
    if not items:
        return ""
    return f'<section id="notes" class="card"><h2>Data and notes</h2><ul class="notes">{"".join(items)}</ul></section>'


# ---------------------------------------------------------------------------------------------
# Summary

def _bar(counts: dict[str, int], statuses: Iterable[str], width: int = 160) -> str:
    """A stacked bar of the counts, as inline SVG."""
    statuses = list(statuses)
    total = sum(counts.get(st, 0) for st in statuses)
    parts, x = [], 0.0
    for st in statuses:
        n = counts.get(st, 0)
        if not n or not total:
            continue
        w = width * n / total
        parts.append(f'<rect x="{x:.1f}" y="0" width="{w:.1f}" height="10" fill="{STATUS_COLORS[st]}">'
                     f"<title>{n} {st}</title></rect>")
        x += w
    if not parts:
        parts.append(f'<rect x="0" y="0" width="{width}" height="10" fill="#eceff1"/>')
    return f'<svg class="bar" width="{width}" height="10" viewBox="0 0 {width} 10" role="img">{"".join(parts)}</svg>'


def _num(n: int, st: str) -> str:
    return f'<td class="n{" z" if not n else " s-" + st}">{n}</td>'


def _summary(report: Report, statuses: tuple[str, ...]) -> str:
    s = report.summary
    cards = "".join(
        f'<button type="button" class="stat s-{st}" data-filter="status" data-value="{st}">'
        f'<span class="big">{s["status"].get(st, 0)}</span><span>{st}</span></button>' for st in statuses)
    head = "".join(f'<th class="n">{st}</th>' for st in statuses)
    sev_rows = []
    for sev in SEVERITIES:
        b = s["by_severity"][sev]
        sev_rows.append(
            f'<tr><th><button type="button" class="sev sev-{sev}" data-filter="severity" data-value="{sev}">'
            f'{sev}</button></th><td class="n">{b["checks"]}</td>'
            + "".join(_num(b[st], st) for st in statuses) + f"<td>{_bar(b, statuses)}</td></tr>")
    t = s["status"]
    sev_rows.append(f'<tr class="total"><th>total</th><td class="n">{s["checks"]}</td>'
                    + "".join(_num(t[st], st) for st in statuses) + f"<td>{_bar(t, statuses)}</td></tr>")

    by_account: dict[str, dict[str, int]] = defaultdict(lambda: {st: 0 for st in statuses})
    for r in report.results:
        for f in r.rows:
            by_account[f.account_id][report.status_of(r.check, f)] += 1
    acct_rows = []
    for acct, c in sorted(by_account.items(), key=lambda kv: (-kv[1].get("fail", 0), -kv[1].get("error", 0), kv[0])):
        label = _e(acct) if acct else "<i>no account</i>"
        acct_rows.append(f'<tr><th><button type="button" class="link mono" data-filter="account" '
                         f'data-value="{_e(acct or NO_ACCOUNT)}">{label}</button></th>'
                         + "".join(_num(c[st], st) for st in statuses) + f"<td>{_bar(c, statuses)}</td></tr>")

    return "".join([
        '<section id="summary"><h2>Summary</h2>',
        f'<div class="stats">{cards}</div>',
        '<div class="two">',
        '<div class="card"><h3>By severity</h3><table id="by-severity" class="counts">',
        f'<thead><tr><th>severity</th><th class="n">checks</th>{head}<th></th></tr></thead>',
        f'<tbody>{"".join(sev_rows)}</tbody></table></div>',
        '<div class="card"><h3>By account</h3><table id="by-account" class="counts">',
        f'<thead><tr><th>account</th>{head}<th></th></tr></thead>',
        f'<tbody>{"".join(acct_rows) or "<tr><td>no findings</td></tr>"}</tbody></table></div>',
        "</div></section>",
    ])


def _by_check(report: Report, statuses: tuple[str, ...]) -> str:
    """A row per check, those with fail, error or muted findings open, the others behind a toggle."""
    head = "".join(f'<th class="n">{st}</th>' for st in statuses)
    results = [r for r in report.results if not report.only_failed
               or any(report.counts(r).get(st) for st in ("fail", "error", "muted"))]
    check_rows = []
    quiet = 0
    for r in sorted(results, key=lambda r: (-SEVERITY_RANK[r.check.severity], -report.counts(r).get("fail", 0),
                                            r.check.id)):
        c = report.counts(r)
        loud = bool(r.error or any(c.get(st) for st in ("fail", "error", "muted")))
        quiet += not loud
        err = f'<div class="err">failed to run: {_e(r.error)}</div>' if r.error else ""
        check_rows.append(
            f'<tr{"" if loud else " class=quiet"}><td><span class="sev sev-{r.check.severity}">{r.check.severity}'
            f'</span></td><th><button type="button" class="link mono" data-filter="check" '
            f'data-value="{_e(r.check.id)}">{_e(r.check.id)}</button></th><td>{_e(r.check.title)}{err}</td>'
            + "".join(_num(c.get(st, 0), st) for st in statuses) + "</tr>")
    toggle = (f'<label class="toggle"><input type="checkbox" id="show-quiet"> show the {quiet} check'
              f'{"s" if quiet != 1 else ""} without fail, error or muted findings</label>') if quiet else ""
    return "".join([
        f'<section id="checks" class="card"><h2>By check</h2>{toggle}<table id="by-check" class="counts'
        f'{" hide-quiet" if quiet else ""}">',
        f'<thead><tr><th>severity</th><th>check</th><th>title</th>{head}</tr></thead>',
        f'<tbody>{"".join(check_rows) or "<tr><td colspan=3>no check ran</td></tr>"}</tbody></table></section>',
    ])


# ---------------------------------------------------------------------------------------------
# The cross-account picture

COLUMNS = (("owner", "owner accounts", 20, 170), ("resource", "shared resources", 250, 250),
           ("key", "keys", 590, 240), ("reader", "readers", 920, 230))
NODE_H, PITCH, TOP = 40, 52, 44
SVG_W = 1170


def _graph_section(graph: AccessGraph | None) -> str:
    head = '<section id="graph" class="card"><h2>Cross-account access</h2>'
    if graph is None:
        return (head + '<p class="muted">No access-path tables in this report (the database has none of '
                "the <code>*_access_paths</code> tables, or the report was not built from one).</p></section>")
    problems = "".join(f'<li class="alert">not read: {_e(p)}</li>' for p in graph.problems)
    problems = f'<ul class="notes">{problems}</ul>' if problems else ""
    if not graph.resources:
        return (head + problems + '<p class="muted">No resource is shared with another account, organisation, '
                "service or the public (" + _e(", ".join(graph.tables)) + ").</p></section>")
    n = graph.total_resources
    lead = (f'<p id="graph-summary">{n} shared resource{"s" if n != 1 else ""}, '
            f'{graph.total_edges} resource-to-reader path{"s" if graph.total_edges != 1 else ""}, '
            f'<strong class="broken">{graph.total_broken} broken</strong> (the key refuses the reader). '
            "Hover a node to follow it; click it to filter the findings.</p>")
    left = []
    if graph.omitted_resources:
        left.append(f"{graph.omitted_resources} resource{'s' if graph.omitted_resources != 1 else ''} "
                    f"({graph.omitted_edges} path{'s' if graph.omitted_edges != 1 else ''}) with fewer broken paths "
                    "left out")
    if graph.omitted_readers:
        left.append(f"{graph.omitted_readers} readers folded into one node")
    omitted = (f'<p id="graph-omitted" class="alert">Picture capped: {_e("; ".join(left))}; '
               "the findings below cover everything.</p>") if left else ""
    legend = "".join(
        f'<span class="lg"><svg width="28" height="10" viewBox="0 0 28 10"><line x1="0" y1="5" x2="28" y2="5" '
        f'stroke="{VERDICT_COLORS[v]}" stroke-width="3"{_dash(v)}/></svg>{VERDICT_TEXT[v]}</span>'
        for v in ("not_allowed", "deny", "unknown", "depends", "allow", "not_needed"))
    return (head + problems + lead + omitted + f'<div class="legend">{legend}</div>'
            + f'<div class="graph-wrap">{_svg(graph)}</div></section>')


def _dash(verdict: str) -> str:
    return {"depends": ' stroke-dasharray="6 4"', "not_needed": ' stroke-dasharray="2 4"',
            "not_evaluated": ' stroke-dasharray="2 4"', "deny": ' stroke-dasharray="10 3"'}.get(verdict, "")


def _order(graph: AccessGraph) -> dict[str, list[GraphNode]]:
    """Each column's nodes top to bottom: resources grouped by owner (most broken first), keys and
    readers at the mean position of what they connect to (fewer crossings)."""
    broken: dict[str, int] = defaultdict(int)
    for e in graph.edges:
        if e.broken:
            broken[e.source] += 1
            broken[e.target] += 1
            broken[e.key] += 1
    owner_of = {e.target: e.source for e in graph.edges if e.kind == "owns"}
    owners_broken: dict[str, int] = defaultdict(int)
    for rid, oid in owner_of.items():
        owners_broken[oid] += broken[rid]
    owners = sorted(graph.owners, key=lambda n: (-owners_broken[n.id], n.label))
    rank = {n.id: i for i, n in enumerate(owners)}
    resources = sorted(graph.resources, key=lambda n: (rank.get(owner_of.get(n.id, ""), 0), -broken[n.id], n.label))
    pos = {n.id: i for i, n in enumerate(resources)}

    def by_mean(nodes: list[GraphNode], links: dict[str, list[int]]) -> list[GraphNode]:
        return sorted(nodes, key=lambda n: (sum(links[n.id]) / len(links[n.id]) if links[n.id] else 1e9, n.label))

    key_links: dict[str, list[int]] = defaultdict(list)
    for e in graph.edges:
        if e.kind == "encrypts":
            key_links[e.target].append(pos.get(e.source, 0))
    keys = by_mean(graph.keys, key_links)
    kpos = {n.id: i for i, n in enumerate(keys)}
    reader_links: dict[str, list[int]] = defaultdict(list)
    for e in graph.edges:
        if e.kind == "access":
            reader_links[e.target].append(kpos.get(e.key, 0))
    readers = by_mean(graph.readers, reader_links)
    return {"owner": owners, "resource": resources, "key": keys, "reader": readers}


def _svg(graph: AccessGraph) -> str:
    cols = _order(graph)
    tallest = max(len(v) for v in cols.values())
    height = TOP + tallest * PITCH + 10
    short = {n.id: f"n{i}" for i, n in enumerate(graph.nodes())}
    place: dict[str, tuple[float, float, float]] = {}  # id -> (x, y centre, width)
    out = [f'<svg id="access-graph" class="graph" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {SVG_W} {height}" '
           f'width="{SVG_W}" height="{height}" role="img" aria-labelledby="graph-title">'
           '<title id="graph-title">Owner accounts, the resources they share, their keys, and the readers; '
           "reader edges coloured by the key's verdict</title>"]
    for kind, title, x, w in COLUMNS:
        out.append(f'<text class="colhead" x="{x}" y="18">{_e(title)}</text>')
        nodes = cols[kind]
        offset = TOP + (tallest - len(nodes)) * PITCH / 2
        for i, n in enumerate(nodes):
            place[n.id] = (x, offset + i * PITCH + NODE_H / 2, w)

    # Edges first (under the nodes). Access edges are drawn key -> reader, one per (key, reader),
    # the worst verdict of the resources behind it, whose names are in its tooltip.
    edges: list[str] = []
    for e in graph.edges:
        if e.kind in ("owns", "encrypts") and e.source in place and e.target in place:
            edges.append(_path(place[e.source], place[e.target], f"edge {e.kind}", "#b0bec5",
                               1.2 if e.kind == "owns" else 1.6, "", [short[e.source], short[e.target]],
                               f"{e.source} -> {e.target}"))
    by_pair: dict[tuple[str, str], list[GraphEdge]] = defaultdict(list)
    for e in graph.edges:
        if e.kind == "access" and e.key in place and e.target in place:
            by_pair[(e.key, e.target)].append(e)
    for (key, reader), group in sorted(by_pair.items(), key=lambda kv: VERDICT_RANK.get(_worst(kv[1]), 4)):
        v = _worst(group)
        lines = [f"{_node_label(graph, e.source)}: " + "; ".join(e.details) for e in group]
        nodes = {short[key], short[reader], *(short[e.source] for e in group if e.source in short)}
        edges.append(_path(place[key], place[reader], f"edge access v-{v}", VERDICT_COLORS.get(v, "#f9a825"),
                           3.5 if v in BROKEN else 2.2, _dash(v), sorted(nodes), "\n".join(lines),
                           f' data-verdict="{_e(v)}" data-from="{_e(key)}" data-to="{_e(reader)}"'))
    out.append(f'<g class="edges">{"".join(edges)}</g>')

    worst_of: dict[str, str] = {}
    for e in graph.edges:
        if e.kind == "access":
            for nid in (e.source, e.key, e.target):
                worst_of[nid] = _worst_v(worst_of.get(nid, ""), e.verdict)
    for n in graph.nodes():
        if n.id not in place:
            continue
        x, cy, w = place[n.id]
        y = cy - NODE_H / 2
        v = worst_of.get(n.id, "")
        chars = int((w - 18) / 6.6)
        query = n.title or n.label
        out.append(
            f'<g class="node kind-{n.kind}" data-kind="{n.kind}" data-node="{_e(n.id)}" data-id="{short[n.id]}" '
            f'data-q="{_e(query)}" tabindex="0"><title>{_e(n.title or n.label)}\n{_e(n.sub)}</title>'
            f'<rect class="box" x="{x}" y="{y:.1f}" width="{w}" height="{NODE_H}" rx="6"/>'
            + (f'<rect class="stripe" x="{x + 1}" y="{y + 1:.1f}" width="5" height="{NODE_H - 2}" '
               f'fill="{VERDICT_COLORS[v]}"/>'
               if v in VERDICT_COLORS else "")
            + f'<text class="label" x="{x + 11}" y="{y + 17:.1f}">{_e(_cut(n.label, chars))}</text>'
            f'<text class="sub" x="{x + 11}" y="{y + 32:.1f}">{_e(_cut(n.sub, chars + 4))}</text></g>')
    out.append("</svg>")
    return "".join(out)


def _worst_v(a: str, b: str) -> str:
    return a if VERDICT_RANK.get(a, -1) >= VERDICT_RANK.get(b, -1) else b


def _worst(group: list[GraphEdge]) -> str:
    v = ""
    for e in group:
        v = _worst_v(v, e.verdict)
    return v or "unknown"


def _node_label(graph: AccessGraph, nid: str) -> str:
    return next((n.label for n in graph.resources if n.id == nid), nid)


def _path(a: tuple[float, float, float], b: tuple[float, float, float], cls: str, color: str, width: float,
          dash: str, nodes: list[str], title: str, extra: str = "") -> str:
    x1, y1 = a[0] + a[2], a[1]
    x2, y2 = b[0], b[1]
    mx = (x1 + x2) / 2
    return (f'<path class="{cls}" d="M{x1:.1f},{y1:.1f} C{mx:.1f},{y1:.1f} {mx:.1f},{y2:.1f} {x2:.1f},{y2:.1f}" '
            f'fill="none" stroke="{color}" stroke-width="{width}"{dash} data-n=" {" ".join(nodes)} "{extra}>'
            f"<title>{_e(title)}</title></path>")


# ---------------------------------------------------------------------------------------------
# Compliance

def _compliance(report: Report) -> str:
    view = control_json(report.compliance)
    if view is None:
        return ""
    tally = ", ".join(f"{n} {st}" for st, n in view["summary"].items() if n)
    rows = []
    for c in view["controls"]:
        checks = ", ".join(x["id"] + (f" ({x['remark']})" if x["remark"] else "")
                           + (" FAILED TO RUN" if x["failed_to_run"] else "") for x in c["checks"])
        if not checks:
            checks = c["why"] or "no loaded check maps to it"
        st = c["status"].replace(" ", "-")
        rows.append(f'<tr><td><span class="cst cst-{_e(st)}">{_e(c["status"])}</span></td>'
                    f'<th class="mono">{_e(c["id"])}'
                    f"</th><td>{_e(c['title'])}</td><td class=\"mono small\">{_e(checks)}</td></tr>")
    unlisted = "".join(f"<li>{_e(u['control'])}: {_e(', '.join(u['checks']))}</li>" for u in view["unlisted"])
    unlisted = (f'<p class="muted">Mapped to ids this catalogue does not list (not run):</p><ul>{unlisted}</ul>'
                if unlisted else "")
    return (f'<section id="compliance" class="card"><h2>Compliance: {_e(view["title"])} ({_e(view["framework"])})</h2>'
            f"<p>{len(view['controls'])} controls; {_e(tally)}</p>"
            '<table class="counts"><thead><tr><th>status</th><th>control</th><th>title</th><th>checks</th></tr></thead>'
            f'<tbody>{"".join(rows)}</tbody></table>{unlisted}</section>')


# ---------------------------------------------------------------------------------------------
# Findings

_FIX = re.compile(r"(?:^|(?<=\s))Fix:\s+")


def _split_fix(reason: str) -> tuple[str, str]:
    """The reason and the fix it names (`... Fix: <command or statement>`), if any."""
    parts = _FIX.split(reason, maxsplit=1)
    return (parts[0].rstrip(), parts[1].strip()) if len(parts) == 2 else (reason, "")


def _value(v: Any) -> str:
    return v if isinstance(v, str) else json.dumps(v, ensure_ascii=False, default=str)


def _link(ref: str) -> str:
    if re.match(r"https?://[^\s\"'<>]+$", for_terminal(ref)):
        return f'<a href="{_e(ref)}" rel="noopener noreferrer">{_e(ref)}</a>'
    return _e(ref)


def _finding(report: Report, check: Check, f: Finding, st: str) -> str:
    reason, fix = _split_fix(f.reason or "")
    where = " · ".join(x for x in (f"account {f.account_id}" if f.account_id else "",
                                   f"region {f.region}" if f.region else "") if x)
    parts = [f'<details class="finding" data-status="{st}" data-severity="{check.severity}" '
             f'data-check="{_e(check.id)}" data-account="{_e(f.account_id or NO_ACCOUNT)}">',
             f'<summary><span class="sev sev-{check.severity}">{check.severity}</span>'
             f'<span class="st s-{st}">{st}</span><span class="mono chk" title="{_e(check.id)}">{_e(check.id)}</span>'
             f'<span class="res mono">{_e(f.resource_arn) or "<i>no resource</i>"}</span>'
             f'<span class="where">{_e(where)}</span>'
             f'<span class="why">{_e(_cut(reason, 220)) or "<i>no reason given</i>"}</span></summary>',
             '<div class="body">',
             f"<h4>{_e(check.title)}</h4>",
             f'<p class="reason">{_e(reason) or "<i>no reason given</i>"}</p>']
    entry = report.mute_of(check, f)
    if entry is not None:
        until = f" until {entry.expires.isoformat()}" if entry.expires else ""
        parts.append(f'<p class="mute">Muted ({_e(f.status)}) by {_e(entry.label)}{_e(until)}: {_e(entry.reason)}</p>')
    if fix:
        parts.append(f'<div class="fix"><h5>Fix</h5><pre>{_e(fix)}</pre></div>')
    if f.details:
        rows = "".join(f"<tr><th>{_e(k)}</th><td><pre>{_e(_value(v))}</pre></td></tr>" for k, v in f.details.items())
        parts.append(f'<div class="evidence"><h5>Evidence</h5><table>{rows}</table></div>')
    if st in ("fail", "error", "muted"):
        if check.risk:
            parts.append(f'<p class="risk"><b>Risk.</b> {_e(check.risk)}</p>')
        if check.remediation:
            parts.append(f'<div class="rem"><h5>Remediation</h5><p>{_e(check.remediation)}</p></div>')
        if check.remediation_cli:
            parts.append(f'<div class="rem"><h5>Remediation command</h5><pre>{_e(check.remediation_cli)}</pre></div>')
        if check.references:
            refs = "".join(f"<li>{_link(r)}</li>" for r in check.references)
            parts.append(f'<div class="refs"><h5>References</h5><ul>{refs}</ul></div>')
    parts.append(f'<p class="muted small">check file {_e(check.source_uri)}</p></div></details>')
    return "".join(parts)


def _findings(report: Report, statuses: tuple[str, ...]) -> str:
    shown_ids = {id(f) for r in report.results for f in report.shown(r)}
    found = [(c, f) for st in STATUS_ORDER if st in statuses
             for c, f in sorted_findings(report, (st,)) if id(f) in shown_ids]
    total = len(found)
    found = found[:MAX_FINDINGS]
    bad = {"fail", "error", "muted"}
    default = [st for st in statuses if st in bad] if any(report.status_of(c, f) in bad for c, f in found) \
        else list(statuses)
    checks = sorted({c.id for c, _ in found})
    accounts = sorted({f.account_id for _, f in found})
    status_boxes = "".join(
        f'<label class="chip s-{st}"><input type="checkbox" name="status" value="{st}"'
        f'{" checked" if st in default else ""}> {st}</label>' for st in statuses)
    sev_boxes = "".join(f'<label class="chip sev-{sev}"><input type="checkbox" name="severity" value="{sev}" checked> '
                        f"{sev}</label>" for sev in SEVERITIES)
    check_opts = "".join(f'<option value="{_e(c)}">{_e(c)}</option>' for c in checks)
    acct_opts = "".join(f'<option value="{_e(a or NO_ACCOUNT)}">{_e(a or NO_ACCOUNT)}</option>' for a in accounts)
    rows = "\n".join(_finding(report, c, f, report.status_of(c, f)) for c, f in found)
    more = (f'<p class="alert">{total - MAX_FINDINGS} more findings not listed (pass and skip last): see '
            "<code>--format json</code> or <code>csv</code>.</p>") if total > MAX_FINDINGS else ""
    only = '<p class="muted">--only-failed: only fail and error findings are listed.</p>' if report.only_failed else ""
    return "".join([
        '<section id="findings"><h2>Findings</h2>', only,
        '<form id="filters" class="filters card" autocomplete="off">',
        f'<div class="row"><span class="lbl">status</span>{status_boxes}</div>',
        f'<div class="row"><span class="lbl">severity</span>{sev_boxes}</div>',
        '<div class="row"><label>check <select name="check"><option value="">all checks</option>'
        f'{check_opts}</select></label><label>account <select name="account"><option value="">all accounts</option>'
        f'{acct_opts}</select></label><label class="grow">search <input type="search" name="q" '
        'placeholder="resource, account, reason, fix..."></label>'
        '<button type="button" id="expand">expand all</button><button type="button" id="collapse">collapse</button>'
        '<button type="button" id="reset">reset</button></div>',
        f'<p class="count">showing <b id="shown-count">{total if total < MAX_FINDINGS else MAX_FINDINGS}</b> of '
        f"{min(total, MAX_FINDINGS)} findings</p></form>",
        f'<div id="finding-list">{rows}</div>',
        '<p id="no-match" class="muted" hidden>No finding matches the filter.</p>',
        more, "</section>",
    ])


FORMAT = ReportFormat("html", (".html", ".htm"), lambda report, color: render_html(report))
