"""`--format ocsf`: a JSON array of OCSF 1.1.0 Compliance Findings (class_uid 2003), one per finding;
the mapping is documented on `ocsf_findings`."""

from __future__ import annotations

import json
from typing import Any

from ... import NAME, __version__
from ..runner import finding_uid
from .model import Report, ReportFormat, arn_name, compliance_ids, mute_json

OCSF_VERSION = "1.1.0"


OCSF_SEVERITY = {"info": (1, "Informational"), "low": (2, "Low"), "medium": (3, "Medium"), "high": (4, "High"),
                 "critical": (5, "Critical")}


# compliance.status_id in OCSF 1.1.0: 0 Unknown, 1 Pass, 2 Warning ("did not yield a result due to
# missing information"), 3 Fail, 99 Other.
OCSF_COMPLIANCE_STATUS = {"pass": (1, "Pass"), "fail": (3, "Fail"), "error": (2, "Warning"),
                          "skip": (99, "Not Applicable")}


def ocsf_findings(report: Report) -> list[dict[str, Any]]:
    """One OCSF 1.1.0 Compliance Finding (class_uid 2003, activity Create) per finding.

    Checked against the OCSF 1.1.0 schema export; where it differs from the obvious mapping:
    * 1.1.0 Compliance Finding has `resource` (one resource_details object), not `resources`
      (added in 1.3.0 when `resource` was deprecated), so the resource is in `resource`;
      resource_details has no `account` in 1.1.0: the account is `resource.owner.account` and
      `cloud.account` (type_id 10, AWS Account).
    * compliance.status: fail -> Fail (3), pass -> Pass (1), error -> Warning (2): the schema defines
      Warning as "did not yield a result due to missing information", which is what `error` means;
      skip (not applicable) has no 1.1.0 value and is Other (99) with status "Not Applicable".
    * The finding's own status_id is 1 (New) for every finding: it is a triage state set by the consumer.
      A finding muted by `--mutelist` is 3 (Suppressed: "reviewed, determined to be benign or a false
      positive and is now suppressed", in the 1.1.0 Finding class that Compliance Finding extends),
      with the entry's reason as `comment` (a user-provided comment, in 1.1.0) and in `status_detail`;
      compliance.status keeps what the check found (Fail, Warning), and unmapped.check_status is
      `muted`, unmapped.muted the entry and the finding's own status.
    * Check id, details and the remediation CLI go to `unmapped` (no 1.1.0 attribute for them).
    """
    time_ms = int(report.generated_at.timestamp() * 1000)
    out: list[dict[str, Any]] = []
    for r in report.results:
        c = r.check
        sev_id, sev = OCSF_SEVERITY[c.severity]
        for f in report.shown(r):
            st_id, st = OCSF_COMPLIANCE_STATUS[f.status]
            account = {"uid": f.account_id, "type_id": 10, "type": "AWS Account"} if f.account_id else None
            cloud: dict[str, Any] = {"provider": "AWS"}
            if f.region:
                cloud["region"] = f.region
            if account:
                cloud["account"] = account
            item: dict[str, Any] = {
                "class_uid": 2003, "class_name": "Compliance Finding",
                "category_uid": 2, "category_name": "Findings",
                "activity_id": 1, "activity_name": "Create",
                "type_uid": 200301, "type_name": "Compliance Finding: Create",
                "severity_id": sev_id, "severity": sev,
                "status_id": 1, "status": "New",
                "time": time_ms,
                "message": f.reason,
                "metadata": {"version": OCSF_VERSION, "profiles": ["cloud"],
                             "product": {"name": NAME, "vendor_name": NAME, "version": __version__}},
                "finding_info": {"uid": finding_uid(c.id, f.resource_arn), "title": c.title, "desc": c.description,
                                 "types": [c.resource_type] if c.resource_type else []},
                "cloud": cloud,
                "compliance": {
                    "control": c.id,
                    "standards": sorted({fw for fw, _ in c.compliance}) or [NAME],
                    "requirements": compliance_ids(c),
                    "status_id": st_id, "status": st, "status_detail": f.reason,
                },
                "remediation": {"desc": c.remediation + (f" AWS CLI: {c.remediation_cli}" if c.remediation_cli else ""),
                                "references": c.references},
                "unmapped": {"check_id": c.id, "check_status": f.status, "details": f.details,
                             "remediation_cli": c.remediation_cli,
                             "compliance": [{"framework": fw, "control": ctl} for fw, ctl in c.compliance]},
            }
            entry = report.mute_of(c, f)
            if entry is not None:
                item.update({"status_id": 3, "status": "Suppressed", "comment": entry.reason,
                             "status_detail": f"muted by {entry.label}: {entry.reason}"})
                item["unmapped"].update({"check_status": "muted",
                                         "muted": {"status": f.status, **(mute_json(entry) or {})}})
            if f.resource_arn:
                resource: dict[str, Any] = {"uid": f.resource_arn, "name": arn_name(f.resource_arn)}
                if c.resource_type:
                    resource["type"] = c.resource_type
                if f.region:
                    resource["region"] = f.region
                parts = f.resource_arn.split(":")
                if len(parts) > 2 and parts[0] == "arn":
                    resource["cloud_partition"] = parts[1]
                if account:
                    resource["owner"] = {"account": account}
                if f.details:
                    resource["data"] = f.details
                item["resource"] = resource
            out.append(item)
    return out

FORMAT = ReportFormat("ocsf", (".ocsf.json",),
                      lambda report, color: json.dumps(ocsf_findings(report), indent=2, ensure_ascii=False) + "\n")
