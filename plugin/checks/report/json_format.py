"""`--format json`: one document {"tool", "database", "generated_at", "fail_on", "exit_status",
"verdict", "incomplete", "notes", "coverage", "summary", "checks": [{metadata..., "params",
"status_counts", "error", "elapsed_ms", "findings": [...]}]}."""

from __future__ import annotations

import json
from typing import Any

from ... import NAME, __version__
from ..files import Check
from ..runner import Finding, finding_uid
from .model import Report, ReportFormat, coverage_json, verdict

def _check_meta(c: Check) -> dict[str, Any]:
    return {"id": c.id, "title": c.title, "severity": c.severity, "resource_type": c.resource_type,
            "description": c.description, "risk": c.risk, "remediation": c.remediation,
            "remediation_cli": c.remediation_cli, "references": c.references,
            "compliance": [{"framework": fw, "control": ctl} for fw, ctl in c.compliance],
            "peers": c.peers, "path": c.source_uri}


def _finding_json(check: Check, f: Finding) -> dict[str, Any]:
    return {"uid": finding_uid(check.id, f.resource_arn), "resource_arn": f.resource_arn,
            "account_id": f.account_id, "region": f.region, "status": f.status, "reason": f.reason,
            "details": f.details}


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
        "summary": report.summary,
        "checks": [{**_check_meta(r.check), "params": r.params, "status_counts": r.counts(), "error": r.error,
                    "elapsed_ms": r.elapsed_ms, "findings": [_finding_json(r.check, f) for f in report.shown(r)]}
                   for r in report.results],
    }

FORMAT = ReportFormat("json", (".json",),
                      lambda report, color: json.dumps(json_document(report), indent=2, ensure_ascii=False) + "\n")
