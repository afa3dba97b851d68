"""`--format sarif`: SARIF 2.1.0, one run, shaped for GitHub code scanning (docs/usage.md, "SARIF in
GitHub code scanning") and valid against the OASIS schema (the tests check it).

Rules: one per check that ran (`id` the check id; `name`; `shortDescription` the title;
`fullDescription` the description and risk; `help` the remediation, its AWS CLI, the compliance
mappings and references; `helpUri` the first reference). `properties` carry what GitHub ranks and
filters by: `tags` (`security`, `aws` and the compliance ids, `AWS Security Hub: S3.17`, at most 20:
GitHub rejects a rule with more), `security-severity` (critical 9.5, high 8.0, medium 5.5, low 3.0;
GitHub reads over 9.0 as critical, 7.0-8.9 high, 4.0-6.9 medium, 0.1-3.9 low; none for info),
`precision` and `problem.severity`; and ours: `severity`, `resource_type`, `compliance` (the header's
pairs, remarks included). Texts are kept within GitHub's limits (name 255, descriptions 1024).

Results: one per `fail` finding, level from the severity (critical/high error, medium warning,
low/info note). `error` findings (the sync could not read what the check needs) are results with kind
`review` and level `none` (SARIF's "could not determine", not a failure); a check whose SQL failed is
a toolExecutionNotification of level error instead (and `executionSuccessful` is false), and so is
each scope the sync could not read.

* `message.text` is what GitHub shows as the alert's title: the resource first (its ARN; for a finding
  without one, its account and region), then the finding's reason, which names the decisive fact
  (`arn:aws:s3:::logs: The default encryption rule does not block SSE-C.`). It is plain text, made
  safe for the viewers that render it: control and bidi characters removed, line breaks made spaces,
  and `\\`, `[` and `]` backslash-escaped as SARIF 2.1.0 allows for plain text messages (so that text
  from AWS cannot form an embedded link, which GitHub renders); the reason is cut at MESSAGE_LIMIT
  characters. Results carry no `arguments`, so `{` and `}` are left as written (a reason's JSON fix
  must stay copyable). The exact reason, resource, account and region are result `properties`.
* Location: GitHub refuses an upload whose results lack a physical location, and a resource is not a
  file, so the physical location is the check file (`queries/<id>.sql` for bundled checks, line 1:
  its header, with the title and remediation) and the resource is the logical location (its ARN as
  `fullyQualifiedName`, kind `resource`).
* Identity: `partialFingerprints` from a hash of (check id, resource ARN): `awsEncryptionFinding/v1`,
  and `primaryLocationLineHash` (the only one GitHub reads; set so that upload-sarif does not compute
  one from the file line, the same for every result of a check), `<16 hex>:<n>` with n counting
  repeats of the same (check, resource) in the run. Each resource is one alert, the same one run
  after run, closed by GitHub when the resource no longer fails.

With `--mutelist`, a muted finding is still a result, with a SARIF 2.1.0 `suppressions` entry of
kind `external` (the mutelist file is outside the analysed artifact), status `accepted` and the
entry's reason as `justification` (properties: the entry, its line and expiry); its message ends with
`Muted by mutelist entry N: reason`. The spec asks that a run's results carry `suppressions` all or
none, so every result then has the array, empty when not muted. Expired and unused entries are
toolConfigurationNotifications (about the tool's configuration, not the code): warning and note,
never error, which would mean the run failed."""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import quote

from ... import NAME, __version__
from ..files import Check
from ..mutelist import MuteEntry
from ..runner import Finding, finding_uid
from .model import Report, ReportFormat, arn_name, compliance_ids, coverage_lines, mutelist_lines
from .safe_text import for_terminal

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"


SARIF_LEVEL = {"critical": "error", "high": "error", "medium": "warning", "low": "note", "info": "note"}


# GitHub code scanning ranks security results by this property (> 9.0 critical, 7.0-8.9 high, 4.0-6.9
# medium, 0.1-3.9 low); info checks have none (no security severity).
SECURITY_SEVERITY = {"critical": "9.5", "high": "8.0", "medium": "5.5", "low": "3.0"}
# ... and non-security results by this one (error, warning, recommendation).
PROBLEM_SEVERITY = {"critical": "error", "high": "error", "medium": "warning", "low": "recommendation",
                    "info": "recommendation"}

# The most characters of a reason in a result's message (the whole reason is in its properties).
MESSAGE_LIMIT = 1000
# GitHub's limits: rule name 255 characters, short and full description 1024, 20 tags per rule (a
# file with more is rejected).
NAME_LIMIT, DESCRIPTION_LIMIT, TAG_LIMIT = 255, 1024, 20

_LINE_BREAKS = re.compile(r"[ \t]*[\r\n]+[ \t]*")
_LINK_SYNTAX = re.compile(r"[\\\[\]]")


def _bounded(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[:limit - 1].rstrip() + "\u2026"


def plain_text(text: str) -> str:
    """`text` as a SARIF plain text message for a viewer to show: without control or bidi characters
    (safe_text.for_terminal), on one line, with `\\ [ ]` backslash-escaped (no embedded link)."""
    s = _LINE_BREAKS.sub(" ", for_terminal(text)).strip()
    return _LINK_SYNTAX.sub(lambda m: "\\" + m.group(0), s)


def subject(check: Check, f: Finding) -> str:
    """What a result is about: the resource ARN; without one, the account and region; else the check."""
    if f.resource_arn:
        return f.resource_arn
    where = " ".join(x for x in (f"account {f.account_id}" if f.account_id else "", f.region) if x)
    return where or check.id


def result_message(check: Check, f: Finding, mute: MuteEntry | None = None) -> str:
    """`<resource>: <reason>` (the reason alone when it starts with the resource), bounded and escaped."""
    who = subject(check, f)
    reason = _bounded(" ".join(f.reason.split()) or check.title, MESSAGE_LIMIT)
    text = reason if reason.startswith(who) else f"{who}: {reason}"
    if mute is not None:
        until = f" until {mute.expires.isoformat()}" if mute.expires else ""
        text += f" Muted by mutelist entry {mute.index}{until}: {_bounded(mute.reason, 300)}"
    return plain_text(text)


def _rule_name(check_id: str) -> str:
    return "".join(p.capitalize() for p in check_id.split("_") if p)


def _tags(c: Check) -> list[str]:
    tags: list[str] = []
    for t in ("security", "aws", *compliance_ids(c)):
        if t not in tags:
            tags.append(t)
    return tags[:TAG_LIMIT]


def _help_text(c: Check) -> str:
    text = c.remediation
    if c.remediation_cli:
        text += f"\n\nAWS CLI: {c.remediation_cli}"
    if c.compliance:
        text += "\n\nCompliance:\n" + "\n".join(f"- {fw}: {ctl}" for fw, ctl in c.compliance)
    if c.references:
        text += "\n\nReferences:\n" + "\n".join(f"- {u}" for u in c.references)
    return text


def _help_markdown(c: Check) -> str:
    text = f"**Remediation.** {c.remediation}"
    if c.risk:
        text = f"**Risk.** {c.risk}\n\n{text}"
    if c.remediation_cli:
        text += f"\n\n```sh\n{c.remediation_cli}\n```"
    if c.compliance:
        text += "\n\n**Compliance.**\n\n" + "\n".join(f"- {fw}: {ctl}" for fw, ctl in c.compliance)
    if c.references:
        text += "\n\n**References.**\n\n" + "\n".join(f"- <{u}>" for u in c.references)
    return text


def sarif_rule(c: Check) -> dict[str, Any]:
    rule: dict[str, Any] = {
        "id": c.id,
        "name": _bounded(_rule_name(c.id), NAME_LIMIT),
        "shortDescription": {"text": _bounded(c.title, DESCRIPTION_LIMIT)},
        "fullDescription": {"text": _bounded(c.description + (f" Risk: {c.risk}" if c.risk else ""),
                                             DESCRIPTION_LIMIT)},
        "help": {"text": _help_text(c), "markdown": _help_markdown(c)},
        "defaultConfiguration": {"level": SARIF_LEVEL[c.severity]},
        "properties": {
            "severity": c.severity,
            "tags": _tags(c),
            **({"security-severity": SECURITY_SEVERITY[c.severity]} if c.severity in SECURITY_SEVERITY else {}),
            "problem.severity": PROBLEM_SEVERITY[c.severity],
            # A check concludes from the synced configuration; what it could not read is an error result.
            "precision": "high",
            **({"resource_type": c.resource_type} if c.resource_type else {}),
            **({"compliance": [{"framework": fw, "control": ctl} for fw, ctl in c.compliance]}
               if c.compliance else {}),
        },
    }
    if c.references:
        rule["helpUri"] = c.references[0]
    return rule


def _artifact_uri(c: Check) -> str:
    return quote(c.source_uri, safe="/")


def sarif_document(report: Report) -> dict[str, Any]:
    rules: list[dict[str, Any]] = []
    index: dict[str, int] = {}
    for r in report.results:
        index[r.check.id] = len(rules)
        rules.append(sarif_rule(r.check))

    results: list[dict[str, Any]] = []
    notifications: list[dict[str, Any]] = []
    seen: dict[tuple[str, str], int] = {}
    for r in report.results:
        c = r.check
        if r.error:
            notifications.append({
                "level": "error",
                "message": {"text": plain_text(f"check {c.id} failed to run: {r.error}")},
                # `descriptor` would name a notification descriptor; the check is the associated rule.
                "associatedRule": {"id": c.id, "index": index[c.id]},
            })
            continue
        for f in r.rows:
            if f.status not in ("fail", "error"):
                continue
            uid = finding_uid(c.id, f.resource_arn)
            n = seen[(c.id, f.resource_arn)] = seen.get((c.id, f.resource_arn), 0) + 1
            entry = report.mute_of(c, f)
            res: dict[str, Any] = {
                "ruleId": c.id,
                "ruleIndex": index[c.id],
                "message": {"text": result_message(c, f, entry)},
                "locations": [{
                    "physicalLocation": {"artifactLocation": {"uri": _artifact_uri(c)}, "region": {"startLine": 1}},
                    "logicalLocations": [{"fullyQualifiedName": f.resource_arn or subject(c, f),
                                          "name": arn_name(f.resource_arn) or subject(c, f), "kind": "resource"}],
                }],
                "partialFingerprints": {"awsEncryptionFinding/v1": uid, "primaryLocationLineHash": f"{uid[:16]}:{n}"},
                "properties": {"resource_arn": f.resource_arn, "account_id": f.account_id, "region": f.region,
                               "status": report.status_of(c, f), "severity": c.severity, "reason": f.reason},
            }
            if report.muting is not None:
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
        notifications.append({"level": "error", "message": {"text": plain_text(
            f"not read by the sync: {u.where}: {u.operation} failed ({u.error_code}: {u.message[:300]})")}})
    if report.coverage is not None and not report.coverage.available:
        notifications.append({"level": "warning", "message": {"text": plain_text(coverage_lines(report)[0])}})
    invocation: dict[str, Any] = {"executionSuccessful": not any(r.error for r in report.results),
                                  "endTimeUtc": report.timestamp,
                                  "properties": {"exit_status": report.exit_status, "incomplete": report.incomplete}}
    if notifications:
        invocation["toolExecutionNotifications"] = notifications
    config = [{"level": "warning" if line.startswith("EXPIRED") else "note", "message": {"text": plain_text(line)}}
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
