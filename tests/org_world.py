"""A three-account organisation under the scanner's account, with a nested OU (tests only).

management (SCANNER) -- root
  ou-a: member M1, member M3 (skipped by the spec)
    ou-b (nested): member M2
Each member has the audit role and one KMS key. Built before IAM enforcement (see conftest).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from plugin.demo.world import AUDIT_ROLE, allow_policy, client, create_key
from plugin.tables.least_privilege import org_admin_policy


@dataclass
class Org:
    root: str = ""
    ou_a: str = ""
    ou_b: str = ""
    members: dict[str, str] = field(default_factory=dict)   # name -> account id
    keys: dict[str, str] = field(default_factory=dict)      # account id -> key ARN


def build_org(endpoint: str, audit_actions: list[str], trust_policy: str) -> Org:
    org = client(endpoint, "organizations")
    org.create_organization(FeatureSet="ALL")
    o = Org(root=org.list_roots()["Roots"][0]["Id"])
    o.ou_a = org.create_organizational_unit(ParentId=o.root, Name="workloads")["OrganizationalUnit"]["Id"]
    o.ou_b = org.create_organizational_unit(ParentId=o.ou_a, Name="data")["OrganizationalUnit"]["Id"]
    for name, parent in (("m1", o.ou_a), ("m2", o.ou_b), ("m3", o.ou_a)):
        status = org.create_account(Email=f"{name}@example.com", AccountName=name)["CreateAccountStatus"]
        aid = status["AccountId"]
        org.move_account(AccountId=aid, SourceParentId=o.root, DestinationParentId=parent)
        org.tag_resource(ResourceId=aid, Tags=[{"Key": "team", "Value": name}])
        o.members[name] = aid
        creds = client(endpoint, "sts").assume_role(RoleArn=f"arn:aws:iam::{aid}:role/setup",
                                                     RoleSessionName="setup")["Credentials"]
        iam = client(endpoint, "iam", creds)
        iam.create_role(RoleName=AUDIT_ROLE, AssumeRolePolicyDocument=trust_policy)
        iam.put_role_policy(RoleName=AUDIT_ROLE, PolicyName="least-privilege", PolicyDocument=allow_policy(audit_actions))
        o.keys[aid] = create_key(client(endpoint, "kms", creds), Description=f"{name} key")["Arn"]
    # The scanner is the organisation's admin: it may list it and assume the member roles.
    admin = org_admin_policy()["Statement"][0]["Action"]
    client(endpoint, "iam").put_user_policy(UserName="scanner", PolicyName="org-admin", PolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": admin, "Resource": "*"},
            {"Effect": "Allow", "Action": "sts:AssumeRole",
             "Resource": [f"arn:aws:iam::{a}:role/{AUDIT_ROLE}" for a in o.members.values()]}]}))
    return o


def org_spec(world: Any, o: Org, **org_fields: Any) -> dict[str, Any]:
    spec = world.spec(accounts=[])
    spec.pop("accounts")
    spec["org"] = {"member_role_name": AUDIT_ROLE, **org_fields}
    spec["regions"] = ["us-east-1"]
    return spec
