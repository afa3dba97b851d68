"""`--format json`: one document {"tool", "database", "generated_at", "fail_on", "exit_status",
"verdict", "incomplete", "notes", "coverage", "mutelist", "compliance", "summary", "checks":
[{metadata..., "params", "status_counts", "error", "elapsed_ms", "findings": [...]}]}.

With `--mutelist`: a muted finding has "status": "muted" and "muted": {"status" (its own: fail or
error), "entry", "line", "check", "reason", "expires"}; the counts have a `muted` key (out of fail
and error); "mutelist" says what the file did ("expired" and "unused" entries). Without it,
"mutelist" is null and no count has `muted`. "compliance" is the per-control view of a
`--compliance` run (plugin/checks/report/controls.py), else null."""

from __future__ import annotations

import json
from typing import Any

from ... import NAME, __version__
from ..files import Check
from ..runner import Finding, finding_uid
from .controls import control_json
from .model import Report, ReportFormat, coverage_json, mute_json, mutelist_json, verdict

def _check_meta(c: Check) -> dict[str, Any]:
    return {"id": c.id, "title": c.title, "severity": c.severity, "resource_type": c.resource_type,
            "description": c.description, "risk": c.risk, "remediation": c.remediation,
            "remediation_cli": c.remediation_cli, "references": c.references,
            # re-split at the colon outside parentheses: "S3.17 (stricter: ...)" stays one control
            "compliance": [dict(zip(("framework", "control"), (fw, ctl)))
                           for fw, ctl in c.compliance],
            "peers": c.peers, "path": c.source_uri}


def _finding_json(report: Report, check: Check, f: Finding) -> dict[str, Any]:
    out = {"uid": finding_uid(check.id, f.resource_arn), "resource_arn": f.resource_arn,
           "account_id": f.account_id, "region": f.region, "status": report.status_of(check, f), "reason": f.reason,
           "details": f.details}
    entry = report.mute_of(check, f)
    if entry is not None:
        out["muted"] = {"status": f.status, **(mute_json(entry) or {})}
    return out


def json_document(report: Report) -> dict[str, Any]:
    return {
        "tool": {"name": NAME, "version": __version__},
        "database": report.database,
        "generated_at": report.timestamp,
        "fail_on": report.fail_on,
        "fail_on_error": report.fail_on_error,
        "only_failed": report.only_failed,
        "allow_incomplete": report.allow_incomplete,
        "exit_status": report.exit_status,
        "verdict": verdict(report),
        "incomplete": report.incomplete,
        "notes": report.notes,
        "coverage": coverage_json(report.coverage),
        "mutelist": mutelist_json(report),
        "compliance": control_json(report.compliance),
        "summary": report.summary,
        "checks": [{**_check_meta(r.check), "params": r.params, "status_counts": report.counts(r), "error": r.error,
                    "elapsed_ms": r.elapsed_ms,
                    "findings": [_finding_json(report, r.check, f) for f in report.shown(r)]}
                   for r in report.results],
    }

FORMAT = ReportFormat("json", (".json",),
                      lambda report, color: json.dumps(json_document(report), indent=2, ensure_ascii=False) + "\n")
