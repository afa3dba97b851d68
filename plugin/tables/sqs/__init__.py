"""Amazon SQS: queues (attributes, policy, tags), and who another account or an AWS service may send to
or receive from them as under their KMS key (aws_sqs_queue_access_paths, ours)."""

from ...analysis.shared_resources import Access, SharedType, access_paths_table
from ..service import Service
from .queues import QUEUES

SHARED = SharedType(
    resource_type="AwsSqsQueue", noun="queue", service="sqs", default_alias="alias/aws/sqs",
    accesses=(
        Access("send", ("sqs:SendMessage",), ("kms:GenerateDataKey", "kms:Decrypt"),
               "its messages are refused (SendMessage fails with KMS.AccessDeniedException), and AWS services "
               "delivering to the queue (EventBridge, SNS, S3 event notifications) drop them silently",
               "send messages to"),
        Access("receive", ("sqs:ReceiveMessage",), ("kms:Decrypt",),
               "its ReceiveMessage fails with KMS.AccessDeniedException", "receive messages from"),
    ),
    fix_cli="aws sqs set-queue-attributes --queue-url {url} --attributes "
            "KmsMasterKeyId=<customer-managed-key-arn> --region {region}",
    # SQS's encryption context (Amazon SQS Developer Guide, "Key management"): the queue ARN
    context=lambda arn: {"kms:EncryptionContext:aws:sqs:arn": [arn]},
)

PATHS = access_paths_table("aws_sqs_queue_access_paths", QUEUES.name, SHARED)
QUEUES.children.append(PATHS)

SERVICE = Service(name="sqs", tables=[QUEUES])
