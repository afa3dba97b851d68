"""Secrets, queues and topics shared with another account or an AWS service, each silent case with its
correct twin (tests only; the table of them is tests/test_shared_resources.py).

Accounts, both synced:
- SHR_OWNER 525252525252: the secrets `shr-secret-<case>`, queues `shr-queue-<case>`, topics
  `shr-topic-<case>` and their customer managed keys.
- SHR_CONSUMER 515151515151: the other account they are shared with.

Built with the demo world's building blocks before IAM enforcement (see conftest).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from plugin.demo.world import AUDIT_ROLE, allow_policy, client, create_key

SHR_OWNER = "525252525252"
SHR_CONSUMER = "515151515151"
CONSUMER_ROOT = f"arn:aws:iam::{SHR_CONSUMER}:root"
RULE = f"arn:aws:events:us-east-1:{SHR_OWNER}:rule/orders-to-queue"


@dataclass
class SharedCases:
    secrets: dict[str, str] = field(default_factory=dict)   # case -> secret ARN
    queues: dict[str, str] = field(default_factory=dict)    # case -> queue ARN
    topics: dict[str, str] = field(default_factory=dict)    # case -> topic ARN
    keys: dict[str, str] = field(default_factory=dict)      # case -> key ARN


def _doc(statements: list[dict[str, Any]]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": statements})


def _key(kms: Any, description: str, *statements: dict[str, Any]) -> str:
    root = {"Sid": "Enable IAM User Permissions", "Effect": "Allow",
            "Principal": {"AWS": f"arn:aws:iam::{SHR_OWNER}:root"}, "Action": "kms:*", "Resource": "*"}
    return create_key(kms, Description=description, Policy=_doc([root, *statements]))["Arn"]


def build_shared(endpoint: str, audit_actions: list[str], trust_policy: str) -> SharedCases:
    sts = client(endpoint, "sts")

    def setup(account: str) -> dict[str, str]:
        return sts.assume_role(RoleArn=f"arn:aws:iam::{account}:role/setup", RoleSessionName="setup")["Credentials"]

    owner, consumer = setup(SHR_OWNER), setup(SHR_CONSUMER)
    for creds in (owner, consumer):
        iam = client(endpoint, "iam", creds)
        iam.create_role(RoleName=AUDIT_ROLE, AssumeRolePolicyDocument=trust_policy)
        iam.put_role_policy(RoleName=AUDIT_ROLE, PolicyName="least-privilege",
                            PolicyDocument=allow_policy(audit_actions))
    client(endpoint, "iam").put_user_policy(UserName="scanner", PolicyName="assume-shared", PolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": [
            f"arn:aws:iam::{a}:role/{AUDIT_ROLE}" for a in (SHR_OWNER, SHR_CONSUMER)]}]}))
    c = SharedCases()
    kms, sm = client(endpoint, "kms", owner), client(endpoint, "secretsmanager", owner)
    sqs, sns = client(endpoint, "sqs", owner), client(endpoint, "sns", owner)

    def admits(principal: dict[str, Any], service: str, *ops: str) -> dict[str, Any]:
        return {"Sid": "AllowSharing", "Effect": "Allow", "Principal": principal, "Action": list(ops), "Resource": "*",
                "Condition": {"StringEquals": {"kms:ViaService": f"{service}.us-east-1.amazonaws.com"}}}

    # Secrets Manager: shared with the consumer account's IAM
    c.keys["secret-ok"] = _key(kms, "secrets, admits the consumer",
                               admits({"AWS": CONSUMER_ROOT}, "secretsmanager", "kms:Decrypt"))
    c.keys["secret-nokey"] = _key(kms, "secrets, owner only")
    for case, key in (("aws-managed", None), ("ok", c.keys["secret-ok"]), ("nokey", c.keys["secret-nokey"]),
                      ("denied", None)):
        arn = sm.create_secret(Name=f"shr-secret-{case}", SecretString="not read by the sync",
                               **({"KmsKeyId": key} if key else {}))["ARN"]
        sm.put_resource_policy(SecretId=arn, ResourcePolicy=_doc([{
            "Sid": "ConsumerReads", "Effect": "Allow", "Principal": {"AWS": CONSUMER_ROOT},
            "Action": "secretsmanager:GetSecretValue", "Resource": "*"}]))
        c.secrets[case] = arn

    # SQS: EventBridge delivers to the queue
    c.keys["queue-ok"] = _key(kms, "queue, admits EventBridge",
                              {"Sid": "AllowEventBridge", "Effect": "Allow", "Principal": {"Service": "events.amazonaws.com"},
                               "Action": ["kms:GenerateDataKey", "kms:Decrypt"], "Resource": "*"})
    for case, key in (("aws-managed", "alias/aws/sqs"), ("ok", c.keys["queue-ok"]), ("sse-sqs", None)):
        url = sqs.create_queue(QueueName=f"shr-queue-{case}", Attributes={
            **({"KmsMasterKeyId": key} if key else {"SqsManagedSseEnabled": "true"})})["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        sqs.set_queue_attributes(QueueUrl=url, Attributes={"Policy": _doc([{
            "Sid": "EventBridgeSends", "Effect": "Allow", "Principal": {"Service": "events.amazonaws.com"},
            "Action": "sqs:SendMessage", "Resource": arn, "Condition": {"ArnEquals": {"aws:SourceArn": RULE}}}])})
        c.queues[case] = arn

    # SNS: the consumer account publishes
    c.keys["topic-ok"] = _key(kms, "topic, admits the consumer",
                              admits({"AWS": CONSUMER_ROOT}, "sns", "kms:GenerateDataKey", "kms:Decrypt"))
    for case, key in (("aws-managed", "alias/aws/sns"), ("ok", c.keys["topic-ok"])):
        arn = sns.create_topic(Name=f"shr-topic-{case}", Attributes={"KmsMasterKeyId": key})["TopicArn"]
        sns.set_topic_attributes(TopicArn=arn, AttributeName="Policy", AttributeValue=_doc([{
            "Sid": "ConsumerPublishes", "Effect": "Allow", "Principal": {"AWS": CONSUMER_ROOT},
            "Action": "sns:Publish", "Resource": arn}]))
        c.topics[case] = arn
    return c
