"""The KMS controls on tests/kms_controls_world.py, through moto's server: each check driven to every
status it can return (DescribeKey's ValidTo/ExpirationModel, GetKeyRotationStatus's period and a replica's
MultiRegionConfiguration are shaped at the emulator's edge, as the world module says).

| check | pass | fail | skip | error |
|---|---|---|---|---|
| kms_key_pending_deletion_or_disabled | enabled (used by a queue) | pending deletion, used by a queue / unused; disabled | material not imported | DescribeKey refused |
| kms_cmk_unused | used by a queue; aliased; granted | enabled and no sign of use; disabled | pending deletion | ListGrants refused |
| kms_key_multi_region | single-Region | primary and replica, replicas listed | | DescribeKey refused |
| kms_imported_key_material_expiring | expires in 200 days; never | expires in 10 days; expired | AWS material | expiring without a date |
| kms_key_external_admin | partner may use it (and CreateGrant for AWS resources) | partner may PutKeyPolicy | | GetKeyPolicy refused |
| kms_cmk_rotation_disabled | rotating every 365 days | every 2560 days; replica (fix on its primary); on demand only | imported material | (tests/test_checks.py) |
"""

from __future__ import annotations

from pathlib import Path
from typing import Iterator

import pytest

from .kms_controls_world import KMSC, OUTSIDE
from .test_checks import _refused_statuses, _statuses, _sync

STATE, UNUSED, MRK = "kms_key_pending_deletion_or_disabled", "kms_cmk_unused", "kms_key_multi_region"
EXPIRY, ADMIN, ROTATION = "kms_imported_key_material_expiring", "kms_key_external_admin", "kms_cmk_rotation_disabled"


@pytest.fixture(scope="module")
def synced(world, kms_cases, tmp_path_factory) -> Iterator[dict]:
    db = tmp_path_factory.mktemp("kmsc") / "posture.duckdb"
    _sync(world, db, [KMSC], regions=["us-east-1", "eu-west-1"])
    yield _statuses(db)


def _refused(world, tmp_path: Path, op: str, key_arn: str) -> dict:
    """A sync of KMSC in which `op` on that key is refused (AccessDeniedException, as KMS answers), and its checks."""
    return _refused_statuses(world, tmp_path / "refused.duckdb", [KMSC], op, key_arn.rsplit("/", 1)[1].encode(),
                             "AccessDeniedException", status=400)


def test_a_key_pending_deletion_names_its_date_and_the_resources_still_under_it(synced, kms_cases):
    key, queue = kms_cases.keys["pending-used"], kms_cases.queues["pending-used"]
    status, reason = synced[STATE][key]
    assert status == "fail", reason
    assert f"Key {key} is PendingDeletion: it will be deleted on " in reason and "(in 7 days)" in reason
    assert f"1 synced resource(s) still use it: queue {queue}" in reason
    assert f"Fix: aws kms cancel-key-deletion --key-id {key} --region us-east-1 && aws kms enable-key" in reason
    status, reason = synced[STATE][kms_cases.keys["pending-unused"]]
    assert status == "fail" and "(in 30 days)" in reason and "no synced resource uses it" in reason
    status, reason = synced[STATE][kms_cases.keys["disabled"]]
    assert status == "fail" and "is Disabled: every request to use it fails" in reason
    assert synced[STATE][kms_cases.keys["in-use"]] == ("pass", "Key is Enabled and used by 1 synced resource(s).")
    assert synced[STATE][kms_cases.keys["imported-expired"]][0] == "skip"


def test_unused_keys_fail_and_every_sign_of_use_passes(synced, kms_cases):
    key = kms_cases.keys["lonely"]
    status, reason = synced[UNUSED][key]
    assert status == "fail", reason
    assert "no synced resource is encrypted under it, it has no grant and no alias" in reason
    assert "check CloudTrail" in reason and f"aws kms schedule-key-deletion --key-id {key}" in reason
    assert synced[UNUSED][kms_cases.keys["in-use"]] == ("pass", "In use: 1 synced resource(s) encrypted under it.")
    assert synced[UNUSED][kms_cases.keys["aliased"]] == ("pass", "In use: alias(es) alias/kmsc-named.")
    assert synced[UNUSED][kms_cases.keys["granted"]] == ("pass", "In use: 1 grant(s).")
    status, reason = synced[UNUSED][kms_cases.keys["disabled"]]
    assert status == "fail" and "is disabled: nothing can use it, and it is still billed" in reason
    assert synced[UNUSED][kms_cases.keys["pending-unused"]][0] == "skip"


def test_multi_region_keys_list_their_primary_and_replicas(synced, kms_cases):
    primary, replica = kms_cases.keys["mrk-primary"], kms_cases.keys["mrk-replica"]
    for key, kind in ((primary, "primary"), (replica, "replica")):
        status, reason = synced[MRK][key]
        assert status == "fail", reason
        assert reason.startswith(f"Multi-Region {kind} key {key}: primary {primary}; replicas: {replica}. Its key "
                                 "material decrypts in every one of these Regions.")
        region = key.split(":")[3]
        assert f"Fix, if the data must stay in one Region: aws kms create-key --no-multi-region --region {region}" in reason
    assert synced[MRK][kms_cases.keys["lonely"]] == ("pass", "Single-Region key.")


def test_imported_key_material_expiring_or_expired_fails(synced, kms_cases):
    status, reason = synced[EXPIRY][kms_cases.keys["imported-soon"]]
    assert status == "fail" and "(in 10 days; limit 30)" in reason and "re-import the same material before then" in reason
    status, reason = synced[EXPIRY][kms_cases.keys["imported-expired"]]
    assert status == "fail" and "the key is unusable and everything under it unreadable" in reason
    assert synced[EXPIRY][kms_cases.keys["imported-later"]][0] == "pass"
    assert synced[EXPIRY][kms_cases.keys["imported-forever"]] == ("pass", "Imported key material that does not expire.")
    assert synced[EXPIRY][kms_cases.keys["lonely"]][0] == "skip"
    assert synced[EXPIRY][kms_cases.keys["imported-no-date"]] == (
        "error", "The key's material expires (KEY_MATERIAL_EXPIRES) but its ValidTo date is not in its description.")


def test_an_outside_account_that_can_rewrite_the_policy_is_a_takeover_and_use_is_not(synced, kms_cases):
    key = kms_cases.keys["takeover"]
    status, reason = synced[ADMIN][key]
    assert status == "fail", reason
    assert f"{OUTSIDE} may kms:PutKeyPolicy (key_policy PartnerAdmin)" in reason
    assert f"aws kms put-key-policy --key-id {key} --policy-name default" in reason
    status, reason = synced[ADMIN][kms_cases.keys["use-only"]]
    assert status == "pass", reason
    # use alone stays kms_key_external_access's finding
    assert synced["kms_key_external_access"][kms_cases.keys["use-only"]][0] == "fail"


def test_rotation_period_replicas_and_on_demand_rotations(synced, kms_cases):
    status, reason = synced[ROTATION][kms_cases.keys["rotate-2560"]]
    assert status == "fail" and "every 2560 days, longer than 365 (max_rotation_period_days)" in reason
    assert synced[ROTATION][kms_cases.keys["rotate-365"]] == ("pass", "Automatic rotation is on every 365 days.")
    primary, replica = kms_cases.keys["mrk-primary"], kms_cases.keys["mrk-replica"]
    status, reason = synced[ROTATION][replica]
    assert status == "fail" and (f"aws kms enable-key-rotation --key-id {primary} --rotation-period-in-days 365 "
                                 "--region us-east-1 (its multi-Region primary") in reason
    status, reason = synced[ROTATION][kms_cases.keys["on-demand"]]
    assert status == "fail" and "(last rotated on demand on " in reason


@pytest.mark.parametrize("op, case, checks, unread", [
    ("DescribeKey", "pending-used", (STATE, MRK), "The key could not be described"),
    ("ListGrants", "lonely", (UNUSED,), "its grants could not be listed"),
    ("GetKeyPolicy", "takeover", (ADMIN,), "The key policy or grants could not be read or analysed"),
])
def test_what_could_not_be_read_is_an_error(world, kms_cases, tmp_path, op, case, checks, unread):
    res = _refused(world, tmp_path, op, kms_cases.keys[case])
    for check in checks:
        status, reason = res[check][kms_cases.keys[case]]
        assert status == "error", (check, reason)
        assert unread in reason


def test_manual_rotation_counts_on_demand_rotations_and_fixes_a_custom_key_store_key_with_a_new_key(synced, kms_cases):
    c = "kms_key_manual_rotation_overdue"
    status, reason = synced[c][kms_cases.keys["imported-later"]]
    assert status == "pass" and reason.startswith("Last rotated ") and "(on-demand)" in reason, reason
    key = kms_cases.keys["cloudhsm-old"]
    status, reason = synced[c][key]
    assert status == "fail", reason
    assert ("Fix: a key in a CloudHSM key store can't be rotated: create a new key in it (aws kms create-key --origin "
            "AWS_CLOUDHSM --custom-key-store-id cks-1234567890abcdef0 --region us-east-1)") in reason
    assert "rotate-key-on-demand" not in reason


def test_an_aws_managed_key_is_skipped_by_every_control_of_customer_keys(synced, kms_cases):
    key = kms_cases.keys["aws-managed"]
    for check in (STATE, UNUSED, MRK, EXPIRY, ADMIN, ROTATION):
        assert synced[check][key][0] == "skip", (check, synced[check][key])
