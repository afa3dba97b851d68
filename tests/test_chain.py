"""The data-lake cross-account scenario, link by link (tests/chain_world.py): a compute account's roles
reading a data account's buckets under customer managed keys. Both accounts synced: the whole chain
(bucket policy, key policy or grant, the role's own IAM) is evaluated per principal, and each broken
link is named with its fix. With the organisation's admin in the spec, its SCPs join the identity side.

| scenario | broken link | finding |
|---|---|---|
| ok | none | chain: pass |
| no-decrypt | role policy without kms:Decrypt | chain: its IAM policies allow no kms:Decrypt on the key; add {...} |
| no-getobject | role policy without s3:GetObject on objects | chain: ... no s3:GetObject on <bucket>/x; add {...} |
| bucket-other-role | bucket policy admits another role | intent: the bucket does not admit the role; add {...} |
| key-other-role | key policy admits another role | chain: the key gives it no kms:Decrypt; add {...} to the key policy |
| boundary | permission boundary without KMS | chain: the boundary allows no kms:Decrypt; add {...} to the boundary |
| scp | SCP denies kms:Decrypt outside approved accounts | chain (org synced): the SCP statement denies it |
| unsynced | reader account not synced | chain: skip, identity link unknown |
"""

from __future__ import annotations

from pathlib import Path
from typing import Iterator

import duckdb
import pytest

from plugin.demo.world import AUDIT_ROLE

from .chain_world import CHAIN_COMPUTE, CHAIN_DATA, CHAIN_MGMT, CHAIN_PEER, CHAIN_VAULT, ORG_ADMIN_ROLE, role_arn
from .test_checks import _statuses, _sync

CHAIN = "cross_account_access_chain_broken"
INTENT = "cross_account_intent_not_admitted"
HYGIENE = "kms_decrypt_allowed_on_all_keys_in_iam"


@pytest.fixture(scope="module")
def synced(world, chain, tmp_path_factory) -> Iterator[tuple[Path, dict]]:
    db = tmp_path_factory.mktemp("chain") / "posture.duckdb"
    _sync(world, db, [CHAIN_DATA, CHAIN_COMPUTE, CHAIN_VAULT], regions=["us-east-1"])
    yield db, _statuses(db)


def _bucket(chain, scenario: str) -> str:
    return f"arn:aws:s3:::{chain.buckets[scenario]}"


def test_every_link_right_passes(synced, chain):
    _, res = synced
    status, reason = res[CHAIN][_bucket(chain, "ok")]
    assert status == "pass", reason
    assert "gets through all three links" in reason and chain.roles["ok"] in reason
    assert res[INTENT][chain.roles["ok"]][0] == "pass"


@pytest.mark.parametrize("scenario, link, fix", [
    ("no-decrypt", "no statement of the IAM policies of role etl-no-decrypt allows kms:Decrypt on {key}",
     '"Action": "kms:Decrypt", "Resource": "{key}"}} to role etl-no-decrypt'),
    ("no-getobject", "no statement of the IAM policies of role etl-no-getobject allows s3:GetObject on "
                     "arn:aws:s3:::{bucket}/x",
     '"Action": "s3:GetObject", "Resource": "arn:aws:s3:::{bucket}/*"}} to role etl-no-getobject'),
    ("key-other-role", "but key {key} gives it no kms:Decrypt",
     'add to the key policy {{ "Sid": "AllowetlkeyotherroleUseOfTheKey"'),
    ("boundary", "no statement of the permission boundary of role etl-boundary ({boundary}) allows kms:Decrypt",
     '"Action": "kms:Decrypt", "Resource": "{key}"}} to permission boundary {boundary}'),
])
def test_each_broken_link_is_named_with_its_fix(synced, chain, scenario, link, fix):
    _, res = synced
    status, reason = res[CHAIN][_bucket(chain, scenario)]
    fill = {"key": chain.keys[scenario], "bucket": chain.buckets[scenario], "boundary": chain.boundary}
    assert status == "fail", reason
    assert reason.startswith(f"{chain.roles[scenario]} may read objects of bucket {chain.buckets[scenario]} "
                             f"(bucket policy, statement ComputeRead)")
    assert link.format(**fill) in reason
    assert fix.format(**fill) in reason
    # exactly that link: the others are not named as broken
    if scenario != "key-other-role":
        assert "gives it no" not in reason and f"key {chain.keys[scenario]} admits it (AllowCompute)" in reason
    else:
        assert "IAM policies" not in reason


def test_bucket_admitting_another_role_is_the_intent_finding(synced, chain):
    _, res = synced
    role = chain.roles["bucket-other-role"]
    status, reason = res[INTENT][role]
    assert status == "fail"
    assert (f'inline policy "read-lake" of role etl-bucket-other-role, statement "ReadLake" allows s3:GetObject on '
            f"arn:aws:s3:::{chain.buckets['bucket-other-role']}/*, but bucket {_bucket(chain, 'bucket-other-role')} "
            f"(account {CHAIN_DATA}) does not admit the role for s3:GetObject: add to its bucket policy") in reason
    assert f'"Principal": {{"AWS": "{role}"}}' in reason
    # the role the bucket does admit gets through: the chain passes
    assert res[CHAIN][_bucket(chain, "bucket-other-role")][0] == "pass"
    # the key admits someone-else only, too: the intent names the key statement to add as well
    assert f"key {chain.keys['bucket-other-role']} does not admit the role for kms:Decrypt" in reason


def test_key_admitting_another_role_is_also_an_intent(synced, chain):
    _, res = synced
    status, reason = res[INTENT][chain.roles["key-other-role"]]
    assert status == "fail" and f"key {chain.keys['key-other-role']} does not admit the role" in reason


def test_unsynced_reader_is_unknown_never_pass_or_fail(synced, chain):
    db, res = synced
    status, reason = res[CHAIN][_bucket(chain, "unsynced")]
    assert status == "skip"
    assert f"{role_arn('etl-unsynced', CHAIN_PEER)} (read) (their accounts are not synced)" in reason
    con = duckdb.connect(str(db), read_only=True)
    try:
        row = con.execute("SELECT identity_verdict, identity_reason FROM aws_s3_bucket_access_paths "
                          "WHERE principal = ?", [role_arn("etl-unsynced", CHAIN_PEER)]).fetchone()
    finally:
        con.close()
    assert row == ("unknown", f"whether its own IAM policies allow it is unknown: account {CHAIN_PEER} is not synced "
                              f"(or its IAM tables were not selected)")


def test_without_the_organisation_scps_are_not_applied_and_the_reason_says_so(synced, chain):
    db, res = synced
    assert res[CHAIN][_bucket(chain, "scp")][0] == "pass"
    con = duckdb.connect(str(db), read_only=True)
    try:
        reason = con.execute("SELECT identity_reason FROM aws_s3_bucket_access_paths WHERE principal = ?",
                             [chain.roles["scp"]]).fetchone()[0]
    finally:
        con.close()
    assert "service control policies not synced" in reason


def test_an_scp_denying_decrypt_is_named_when_the_organisation_is_synced(world, chain, tmp_path):
    db = tmp_path / "org.duckdb"
    spec = world.spec(accounts=[])
    spec.pop("accounts")
    spec["org"] = {"member_role_name": AUDIT_ROLE,
                   "admin_account": {"role_arn": role_arn(ORG_ADMIN_ROLE, CHAIN_MGMT)}}
    spec["regions"] = ["us-east-1"]
    _sync_spec(world, db, spec)
    res = _statuses(db)
    status, reason = res[CHAIN][_bucket(chain, "scp")]
    assert status == "fail", reason
    assert ('SCP deny-kms-outside-approved-accounts, statement "DenyDecryptOutsideApproved" denies kms:Decrypt on '
            f"{chain.keys['scp']}") in reason
    assert "(narrow that Deny: it overrides every Allow)" in reason
    # the approved accounts' keys are not affected
    assert res[CHAIN][_bucket(chain, "ok")][0] == "pass"
    con = duckdb.connect(str(db), read_only=True)
    try:
        targets = con.execute("SELECT p.name, t.target_type, t.accounts FROM aws_organizations_policies p JOIN "
                              "aws_organizations_policy_targets t ON t.policy_arn = p.arn "
                              "WHERE p.type = 'SERVICE_CONTROL_POLICY' ORDER BY 1, 2").fetchall()
    finally:
        con.close()
    assert ("deny-kms-outside-approved-accounts", "ORGANIZATIONAL_UNIT", [CHAIN_COMPUTE]) in targets
    assert any(n == "FullAWSAccess" and t == "ROOT" and CHAIN_VAULT in a for n, t, a in targets)


def _sync_spec(world, db: Path, raw: dict) -> None:
    from plugin.cli.sync import run
    from plugin.cli.yaml_specs import SourcePlan, SyncPlan
    from plugin.source.spec import parse_spec
    from .helpers import environment
    plan = SyncPlan(sources=[SourcePlan(name="aws-encryption", spec=parse_spec(raw), tables=["*"], skip_tables=[],
                                        skip_dependent_tables=False, file="test")], db_path=str(db))
    with environment(world.env):
        run(plan)


def test_iam_hygiene_decrypt_on_all_keys(synced):
    _, res = synced
    managed = f"arn:aws:iam::{CHAIN_COMPUTE}:policy/decrypt-everything"
    status, reason = res[HYGIENE][managed]
    assert status == "fail"
    assert "statement DecryptAll allows kms:Decrypt on *, without a condition" in reason
    assert f"attached to arn:aws:iam::{CHAIN_COMPUTE}:role/analytics" in reason
    status, reason = res[HYGIENE][f"role arn:aws:iam::{CHAIN_COMPUTE}:role/analytics inline policy via-s3"]
    assert status == "pass" and "kms:ViaService" in reason
    assert res[HYGIENE][f"arn:aws:iam::{CHAIN_DATA}:root"][0] == "pass"
    assert f"arn:aws:iam::{CHAIN_COMPUTE}:root" not in res[HYGIENE]  # it has a failing policy


def test_unread_iam_is_an_error_in_every_check_that_needs_it(world, chain, tmp_path):
    db = tmp_path / "denied.duckdb"
    # (the IAM query carries no account: every account's IAM is refused in this sync)
    world.server.faults.append(lambda service, op, body: (403, "AccessDenied")
                               if op == "GetAccountAuthorizationDetails" else None)
    try:
        _sync(world, db, [CHAIN_DATA, CHAIN_COMPUTE], regions=["us-east-1"])
    finally:
        world.server.faults.pop()
    res = _statuses(db)
    compute_root = f"arn:aws:iam::{CHAIN_COMPUTE}:root"
    status, reason = res[HYGIENE][compute_root]
    assert status == "error" and "could not be read (AccessDenied)" in reason
    assert res[INTENT][compute_root][0] == "error"
    status, reason = res[CHAIN][_bucket(chain, "ok")]
    assert status == "error" and f"the IAM of account {CHAIN_COMPUTE} could not be read (AccessDenied)" in reason
