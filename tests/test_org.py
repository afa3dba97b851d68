"""Organizations discovery: nested OUs walked, skipped accounts and OUs left out, only ACTIVE ones."""

from __future__ import annotations

import json

from plugin.demo.world import SCANNER

from .helpers import run_sync
from .org_world import org_spec


def test_discovery_walks_nested_ous_and_skips_an_account(scanner_env, org):
    w = scanner_env
    spec = org_spec(w, org, organization_units=[org.ou_a], skip_member_accounts=[org.members["m3"]])
    res = run_sync(spec)
    m1, m2, m3 = org.members["m1"], org.members["m2"], org.members["m3"]
    synced = {r["account_id"] for r in res.table("aws_kms_keys")}
    assert synced == {m1, m2}, "m2 sits in a nested OU; m3 is skipped; the management account is outside ou-a"
    assert {r["arn"] for r in res.table("aws_kms_keys")} == {org.keys[m1], org.keys[m2]}
    accounts = {r["id"]: r for r in res.table("aws_organizations_accounts")}
    assert set(accounts) == {SCANNER, m1, m2, m3}, "the table lists the whole organisation"
    a = accounts[m2]
    assert a["request_account_id"] == SCANNER and a["name"] == "m2" and a["email"] == "m2@example.com"
    assert a["status"] == "ACTIVE" and a["arn"].endswith(m2) and a["joined_timestamp"] is not None
    assert json.loads(a["tags"]) == {"team": "m2"}
    assert not res.table("aws_encryption_sync_errors")


def test_skipped_ou_subtree_is_left_out(scanner_env, org):
    w = scanner_env
    spec = org_spec(w, org, organization_units=[org.ou_a], skip_organization_units=[org.ou_b])
    res = run_sync(spec, tables=["aws_kms_keys"], skip_dependent=True)
    assert {r["account_id"] for r in res.table("aws_kms_keys")} == {org.members["m1"], org.members["m3"]}


def test_org_accounts_are_inside_the_trusted_set(scanner_env, org):
    """A principal of an organisation account that is not synced is not external."""
    w = scanner_env
    spec = org_spec(w, org, organization_units=[org.ou_b])
    res = run_sync(spec, tables=["aws_kms_keys", "aws_kms_key_permissions"])
    m2 = org.members["m2"]
    assert {r["account_id"] for r in res.table("aws_kms_keys")} == {m2}
    rows = [r for r in res.table("aws_kms_key_permissions") if r["key_arn"] == org.keys[m2]]
    assert rows and all(not r["is_external"] for r in rows)


def test_org_admin_that_cannot_list_is_an_error(scanner_env, org):
    w = scanner_env
    spec = org_spec(w, org, admin_account={"role_arn": "arn:aws:iam::333333333333:role/aws-encryption-audit"})
    res = run_sync(spec)
    errs = res.table("aws_encryption_sync_errors")
    assert [(e["operation"], e["error_code"]) for e in errs] == [("AssumeRole", "AccessDenied")]
    assert not res.table("aws_kms_keys")
