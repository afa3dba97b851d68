"""The IAM policy we ship is exactly what a full sync calls: nothing missing, nothing unused."""

from __future__ import annotations

import json
import re
from pathlib import Path

import plugin
from plugin.tables.least_privilege import iam_action, iam_policy, operations, org_admin_policy

from .access_world import ACCESS
from .helpers import run_sync
from plugin.demo.world import DATA

ROOT = Path(__file__).resolve().parent.parent
SHIPPED = Path(plugin.__file__).parent / "iam_policy.json"


def test_shipped_policy_file_is_the_generated_one():
    assert json.loads(SHIPPED.read_text()) == iam_policy()


def test_iam_doc_shows_the_shipped_policies():
    doc = (ROOT / "docs" / "iam.md").read_text()
    blocks = [_loads(b) for b in re.findall(r"```json\n(.*?)```", doc, re.S)]
    assert json.loads(SHIPPED.read_text()) in blocks, \
        "docs/iam.md's audit policy differs from plugin/iam_policy.json: run python -m plugin.cli.docs"
    assert org_admin_policy() in blocks, \
        "docs/iam.md's Organizations admin policy is stale: run python -m plugin.cli.docs"


def _loads(text: str):
    try:
        return json.loads(text)
    except ValueError:
        return None


def test_full_sync_calls_exactly_the_policy(scanner_env, access):
    w = scanner_env
    shipped = set(json.loads(SHIPPED.read_text())["Statement"][0]["Action"])
    mark = w.server.mark()
    # regions "*" so that region discovery (ec2:DescribeRegions) is exercised too; ACCESS has an ACL
    # in force, an access point and a Multi-Region Access Point with policies (tests/access_world.py);
    # DATA a secret, a queue, a topic, an EBS snapshot, an AMI, a DB and an Aurora snapshot (plugin/demo/world.py)
    res = run_sync(w.spec(accounts=[DATA, ACCESS], regions=["*"], concurrency=32))
    made = {f"{svc}:{op}" for svc, op, _ in w.server.since(mark)}
    made.discard("sts:AssumeRole")  # made with the caller's own credentials, not the audit role's
    unknown = made - set(operations())
    assert not unknown, f"operations the plugin calls but does not declare: {unknown}"
    missing = {iam_action(o) for o in made} - shipped
    assert not missing, f"IAM actions missing from plugin/iam_policy.json: {missing}"
    unused = shipped - {iam_action(o) for o in made}
    assert not unused, f"actions in the policy that a full sync never used: {unused}"
    # and under moto's IAM enforcement, the role holding only that policy was never denied
    assert not [e for e in res.table("aws_encryption_sync_errors") if "Denied" in e["error_code"]]
    assert res.table("aws_kms_keys") and res.table("aws_s3_buckets")
