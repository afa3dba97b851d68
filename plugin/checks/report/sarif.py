"""`--format sarif`: SARIF 2.1.0, one run; a rule per check that ran; a result per `fail` finding, level
from the severity (critical/high error, medium warning, low/info note). `error` findings (the sync
could not read what the check needs) are results with kind `review` and level `none` (SARIF's
"could not determine", not a failure); a check whose SQL failed is a toolExecutionNotification of
level error instead (and `executionSuccessful` is false), and so is each scope the sync could not
read. Every result has the check file as its physical location (`queries/<id>.sql` for bundled
checks, line 1), so GitHub code scanning accepts the upload, the resource ARN as its logical
location, and partialFingerprints from a hash of (check id, resource ARN); `primaryLocationLineHash`
is set to the same hash so that upload-sarif does not compute one from the file line (identical for
every result of a check).

With `--mutelist`, a muted finding is still a result, with a SARIF 2.1.0 `suppressions` entry of
kind `external` (the mutelist file is outside the analysed artifact), status `accepted` and the
entry's reason as `justification` (properties: the entry, its line and expiry). The spec asks
that a run's results carry `suppressions` all or none, so every result then has the array, empty
when not muted. Expired and unused entries are toolConfigurationNotifications (about the tool's
configuration, not the code): warning and note, never error, which would mean the run failed."""

from __future__ import annotations

import json
from typing import Any

from ... import NAME, __version__
from ..files import Check
from ..runner import finding_uid
from .model import Report, ReportFormat, arn_name, coverage_lines, mutelist_lines

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"


SARIF_LEVEL = {"critical": "error", "high": "error", "medium": "warning", "low": "note", "info": "note"}


# GitHub code scanning ranks security results by this property (>= 9.0 critical, 7.0-8.9 high, ...).
SECURITY_SEVERITY = {"critical": "9.5", "high": "8.0", "medium": "5.5", "low": "3.0"}


def _rule_name(check_id: str) -> str:
    return "".join(p.capitalize() for p in check_id.split("_") if p)


def _help_text(c: Check) -> str:
    text = c.remediation
    if c.remediation_cli:
        text += f"\n\nAWS CLI: {c.remediation_cli}"
    if c.references:
        text += "\n\nReferences:\n" + "\n".join(f"- {u}" for u in c.references)
    return text


def _help_markdown(c: Check) -> str:
    text = c.remediation
    if c.risk:
        text = f"**Risk.** {c.risk}\n\n**Remediation.** {text}"
    if c.remediation_cli:
        text += f"\n\n```sh\n{c.remediation_cli}\n```"
    if c.compliance:
        text += "\n\n" + "\n".join(f"- {fw}: {ctl}" for fw, ctl in c.compliance)
    if c.references:
        text += "\n\n" + "\n".join(f"- <{u}>" for u in c.references)
    return text


def sarif_document(report: Report) -> dict[str, Any]:
    rules: list[dict[str, Any]] = []
    index: dict[str, int] = {}
    for r in report.results:
        c = r.check
        index[c.id] = len(rules)
        rule: dict[str, Any] = {
            "id": c.id,
            "name": _rule_name(c.id),
            "shortDescription": {"text": c.title},
            "fullDescription": {"text": c.description + (f" Risk: {c.risk}" if c.risk else "")},
            "help": {"text": _help_text(c), "markdown": _help_markdown(c)},
            "defaultConfiguration": {"level": SARIF_LEVEL[c.severity]},
            "properties": {
                "severity": c.severity,
                "tags": ["security", "aws", *(f"{fw}: {ctl}" for fw, ctl in c.compliance)],
                **({"security-severity": SECURITY_SEVERITY[c.severity]} if c.severity in SECURITY_SEVERITY else {}),
                **({"resource_type": c.resource_type} if c.resource_type else {}),
            },
        }
        if c.references:
            rule["helpUri"] = c.references[0]
        rules.append(rule)

    results: list[dict[str, Any]] = []
    notifications: list[dict[str, Any]] = []
    for r in report.results:
        c = r.check
        if r.error:
            notifications.append({
                "level": "error",
                "message": {"text": f"check {c.id} failed to run: {r.error}"},
                # `descriptor` would name a notification descriptor; the check is the associated rule.
                "associatedRule": {"id": c.id, "index": index[c.id]},
            })
            continue
        for f in r.rows:
            if f.status not in ("fail", "error"):
                continue
            uid = finding_uid(c.id, f.resource_arn)
            res: dict[str, Any] = {
                "ruleId": c.id,
                "ruleIndex": index[c.id],
                "message": {"text": f.reason or c.title},
                "locations": [{
                    "physicalLocation": {"artifactLocation": {"uri": c.source_uri}, "region": {"startLine": 1}},
                    "logicalLocations": [{"fullyQualifiedName": f.resource_arn or c.id,
                                          "name": arn_name(f.resource_arn) or c.id, "kind": "resource"}],
                }],
                "partialFingerprints": {"awsEncryptionFinding/v1": uid, "primaryLocationLineHash": f"{uid[:16]}:1"},
                "properties": {"account_id": f.account_id, "region": f.region, "status": report.status_of(c, f),
                               "severity": c.severity},
            }
            if report.muting is not None:
                entry = report.mute_of(c, f)
                res["suppressions"] = [] if entry is None else [{
                    "kind": "external", "status": "accepted", "justification": entry.reason,
                    "properties": {"mutelist": report.muting.mutelist.path, "entry": entry.index, "line": entry.line,
                                   "expires": entry.expires.isoformat() if entry.expires else None,
                                   "original_status": f.status}}]
            if f.status == "fail":
                res["kind"] = "fail"
                res["level"] = SARIF_LEVEL[c.severity]
            else:
                res["kind"] = "review"
                res["level"] = "none"
            results.append(res)

    # Scopes the sync could not read: the run's results say nothing about them.
    for u in (report.coverage.unread if report.coverage is not None else []):
        notifications.append({"level": "error", "message": {
            "text": f"not read by the sync: {u.where}: {u.operation} failed ({u.error_code}: {u.message[:300]})"}})
    if report.coverage is not None and not report.coverage.available:
        notifications.append({"level": "warning", "message": {"text": coverage_lines(report)[0]}})
    invocation: dict[str, Any] = {"executionSuccessful": not any(r.error for r in report.results),
                                  "endTimeUtc": report.timestamp,
                                  "properties": {"exit_status": report.exit_status, "incomplete": report.incomplete}}
    if notifications:
        invocation["toolExecutionNotifications"] = notifications
    config = [{"level": "warning" if line.startswith("EXPIRED") else "note", "message": {"text": line}}
              for line in mutelist_lines(report)[1:]]
    if config:
        invocation["toolConfigurationNotifications"] = config
    return {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {"name": NAME, "version": __version__, "semanticVersion": __version__,
                                "rules": rules}},
            "invocations": [invocation],
            "results": results,
            "properties": {"database": report.database},
        }],
    }

FORMAT = ReportFormat("sarif", (".sarif", ".sarif.json"),
                      lambda report, color: json.dumps(sarif_document(report), indent=2, ensure_ascii=False) + "\n")
