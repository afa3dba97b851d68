"""Amazon SNS: topics (attributes, policy, tags), and who another account or an AWS service may publish
to them as under their KMS key (aws_sns_topic_access_paths, ours)."""

from ...analysis.shared_resources import Access, SharedType, access_paths_table
from ..service import Service
from .topics import TOPICS

SHARED = SharedType(
    resource_type="AwsSnsTopic", noun="topic", service="sns", default_alias="alias/aws/sns",
    accesses=(
        Access("publish", ("sns:Publish",), ("kms:GenerateDataKey", "kms:Decrypt"),
               "its Publish fails with KMS access denied, and AWS services publishing to the topic (CloudWatch "
               "alarms, EventBridge, S3 event notifications) drop the messages silently", "publish to"),
    ),
    fix_cli="aws sns set-topic-attributes --topic-arn {arn} --attribute-name KmsMasterKeyId "
            "--attribute-value <customer-managed-key-arn> --region {region}",
)

PATHS = access_paths_table("aws_sns_topic_access_paths", TOPICS.name, SHARED)
TOPICS.children.append(PATHS)

SERVICE = Service(name="sns", tables=[TOPICS])
