"""Keys that drive the KMS controls (key state and use, multi-Region, imported material expiry, key
takeover, rotation period and on-demand rotation) to each status, in account KMSC (tests only; the
table of them is tests/test_kms_controls.py).

Built before IAM enforcement (see conftest). Where moto's KMS lacks what AWS returns, the answer is
shaped at the emulator's edge, each said below: DescribeKey's ValidTo and ExpirationModel for imported
material, GetKeyRotationStatus's RotationPeriodInDays, a replica's MultiRegionConfiguration.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from typing import Any

from plugin.demo.world import AUDIT_ROLE, allow_policy, client, create_key, shape_key

KMSC = "646464646464"
OUTSIDE = "686868686868"   # an account that is neither synced nor trusted
REGION = "us-east-1"


@dataclass
class KmsCases:
    keys: dict[str, str] = field(default_factory=dict)     # case -> key ARN
    queues: dict[str, str] = field(default_factory=dict)   # case -> queue ARN


def _id(arn: str) -> str:
    return arn.rsplit("/", 1)[1]


def _policy(*statements: dict[str, Any]) -> str:
    root = {"Sid": "Enable IAM User Permissions", "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{KMSC}:root"},
            "Action": "kms:*", "Resource": "*"}
    return json.dumps({"Version": "2012-10-17", "Statement": [root, *statements]})


def build_kms_cases(endpoint: str, audit_actions: list[str], server: Any, trust_policy: str) -> KmsCases:
    sts = client(endpoint, "sts")
    creds = sts.assume_role(RoleArn=f"arn:aws:iam::{KMSC}:role/setup", RoleSessionName="setup")["Credentials"]
    iam = client(endpoint, "iam", creds)
    iam.create_role(RoleName=AUDIT_ROLE, AssumeRolePolicyDocument=trust_policy)
    iam.put_role_policy(RoleName=AUDIT_ROLE, PolicyName="least-privilege", PolicyDocument=allow_policy(audit_actions))
    client(endpoint, "iam").put_user_policy(UserName="scanner", PolicyName="assume-kmsc", PolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
                                                "Resource": f"arn:aws:iam::{KMSC}:role/{AUDIT_ROLE}"}]}))
    kms, sqs = client(endpoint, "kms", creds), client(endpoint, "sqs", creds)
    c = KmsCases()

    def key(case: str, **kw: Any) -> str:
        kw.setdefault("Policy", _policy())
        c.keys[case] = arn = create_key(kms, Description=f"kmsc {case}", **kw)["Arn"]
        return arn

    def queue_on(case: str, key_arn: str) -> None:
        url = sqs.create_queue(QueueName=f"kmsc-{case}", Attributes={"KmsMasterKeyId": key_arn})["QueueUrl"]
        c.queues[case] = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]

    # an AWS managed key (moto can't make one through the API: KeyManager set on its model)
    shape_key(KMSC, REGION, _id(key("aws-managed")), key_manager="AWS")

    # state and use
    queue_on("in-use", key("in-use"))
    queue_on("pending-used", key("pending-used"))
    kms.schedule_key_deletion(KeyId=_id(c.keys["pending-used"]), PendingWindowInDays=7)
    kms.schedule_key_deletion(KeyId=_id(key("pending-unused")), PendingWindowInDays=30)
    kms.disable_key(KeyId=_id(key("disabled")))
    key("lonely")
    kms.create_alias(AliasName="alias/kmsc-named", TargetKeyId=_id(key("aliased")))
    kms.create_grant(KeyId=_id(key("granted")), GranteePrincipal=f"arn:aws:iam::{KMSC}:role/app", Operations=["Decrypt"])

    # takeover: an outside account may rewrite the policy; its twin may only use the key (and create
    # grants for AWS resources, as AWS documents for cross-account EBS)
    outside = {"AWS": f"arn:aws:iam::{OUTSIDE}:root"}
    key("takeover", Policy=_policy({"Sid": "PartnerAdmin", "Effect": "Allow", "Principal": outside,
                                    "Action": ["kms:Decrypt", "kms:PutKeyPolicy"], "Resource": "*"}))
    key("use-only", Policy=_policy(
        {"Sid": "PartnerUse", "Effect": "Allow", "Principal": outside, "Action": ["kms:Decrypt", "kms:DescribeKey"],
         "Resource": "*"},
        {"Sid": "PartnerAttachment", "Effect": "Allow", "Principal": outside, "Action": "kms:CreateGrant",
         "Resource": "*", "Condition": {"Bool": {"kms:GrantIsForAWSResource": "true"}}}))

    # rotation: a period longer than the default maximum, the default, and an on-demand rotation only
    periods: dict[str, int] = {}
    for case, days in (("rotate-2560", 2560), ("rotate-365", 365)):
        kms.enable_key_rotation(KeyId=_id(key(case)))
        periods[c.keys[case]] = days
    kms.rotate_key_on_demand(KeyId=_id(key("on-demand")))

    # multi-Region: a primary and its replica in eu-west-1 (rotation off on both)
    primary = key("mrk-primary", MultiRegion=True)
    replica = kms.replicate_key(KeyId=_id(primary), ReplicaRegion="eu-west-1")["ReplicaKeyMetadata"]
    c.keys["mrk-replica"] = replica["Arn"]
    # moto copies the primary's configuration to the replica unchanged; AWS marks it REPLICA
    config = {"MultiRegionKeyType": "REPLICA", "PrimaryKey": {"Arn": primary, "Region": REGION},
              "ReplicaKeys": [{"Arn": replica["Arn"], "Region": "eu-west-1"}]}
    shape_key(KMSC, "eu-west-1", replica["KeyId"], multi_region_configuration=config)

    # imported material: expiring soon, later, never, already expired, and an expiry without a date
    now = dt.datetime.now(dt.timezone.utc)
    imported: dict[str, dict[str, Any]] = {}
    for case, valid_to, model, state in (
            ("imported-soon", now + dt.timedelta(days=10), "KEY_MATERIAL_EXPIRES", "Enabled"),
            ("imported-later", now + dt.timedelta(days=200), "KEY_MATERIAL_EXPIRES", "Enabled"),
            ("imported-forever", None, "KEY_MATERIAL_DOES_NOT_EXPIRE", "Enabled"),
            ("imported-expired", now - dt.timedelta(days=3), "KEY_MATERIAL_EXPIRES", "PendingImport"),
            ("imported-no-date", None, "KEY_MATERIAL_EXPIRES", "Enabled")):
        arn = key(case, Origin="EXTERNAL")
        shape_key(KMSC, REGION, arn.rsplit("/", 1)[1], key_state=state, enabled=state == "Enabled")
        imported[arn.rsplit("/", 1)[1]] = {"ExpirationModel": model,
                                           **({"ValidTo": valid_to.timestamp()} if valid_to else {})}
    # manual rotation: imported material rotated on demand (new material), and an old key in a CloudHSM key
    # store (moto has no custom key stores: Origin, CustomKeyStoreId and the age are set on its model)
    kms.rotate_key_on_demand(KeyId=_id(c.keys["imported-later"]))
    hsm = key("cloudhsm-old")
    shape_key(KMSC, REGION, _id(hsm), origin="AWS_CLOUDHSM", creation_date=(now - dt.timedelta(days=800)).timestamp())
    imported[_id(hsm)] = {"CustomKeyStoreId": "cks-1234567890abcdef0", "CloudHsmClusterId": "cluster-kmsc"}
    _describe_key_adds(server, imported)
    _rotation_periods(server, periods)
    return c


def _describe_key_adds(server: Any, extra: dict[str, dict[str, Any]]) -> None:
    """moto's DescribeKey leaves out ExpirationModel and ValidTo, which AWS returns for imported material."""
    prev = server.rewrites.get(("kms", "DescribeKey"))

    def rewrite(req: dict[str, Any], resp: dict[str, Any]) -> dict[str, Any]:
        resp = prev(req, resp) if prev else resp
        meta = resp.get("KeyMetadata") or {}
        meta.update(extra.get(meta.get("KeyId"), {}))
        return resp

    server.rewrites[("kms", "DescribeKey")] = rewrite


def _rotation_periods(server: Any, periods: dict[str, int]) -> None:
    """moto's GetKeyRotationStatus has no RotationPeriodInDays, which AWS returns when rotation is on."""
    prev = server.rewrites.get(("kms", "GetKeyRotationStatus"))

    def rewrite(req: dict[str, Any], resp: dict[str, Any]) -> dict[str, Any]:
        resp = prev(req, resp) if prev else resp
        if resp.get("KeyRotationEnabled") and req.get("KeyId") in periods:
            resp["RotationPeriodInDays"] = periods[req["KeyId"]]
        return resp

    server.rewrites[("kms", "GetKeyRotationStatus")] = rewrite
