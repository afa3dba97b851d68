"""aws_sqs_queues: every queue (ListQueues, paginated) with its attributes (GetQueueAttributes All, once
per queue: policy, encryption, redrive) and tags (ListQueueTags). Never ReceiveMessage."""

from __future__ import annotations

from typing import Any, Iterator

from ...aws.calls import Ctx, Parent
from ..schema import BOOL, INT, JSON, STR, Col, TableDef

DOC = "https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/"
QUEUE_POLICY_MAX_BYTES = 20 * 1024   # an attribute value: at most 256 KiB, a policy in practice 20 KB

_INTS = {"approximate_number_of_messages": "ApproximateNumberOfMessages",
         "approximate_number_of_messages_delayed": "ApproximateNumberOfMessagesDelayed",
         "approximate_number_of_messages_not_visible": "ApproximateNumberOfMessagesNotVisible",
         "created_timestamp": "CreatedTimestamp", "delay_seconds": "DelaySeconds",
         "last_modified_timestamp": "LastModifiedTimestamp", "maximum_message_size": "MaximumMessageSize",
         "message_retention_period": "MessageRetentionPeriod",
         "receive_message_wait_time_seconds": "ReceiveMessageWaitTimeSeconds",
         "visibility_timeout": "VisibilityTimeout", "kms_data_key_reuse_period_seconds": "KmsDataKeyReusePeriodSeconds"}
_BOOLS = {"sqs_managed_sse_enabled": "SqsManagedSseEnabled", "fifo_queue": "FifoQueue",
          "content_based_deduplication": "ContentBasedDeduplication"}
_STRS = {"kms_master_key_id": "KmsMasterKeyId", "deduplication_scope": "DeduplicationScope",
         "fifo_throughput_limit": "FifoThroughputLimit"}
_KNOWN = {"QueueArn", "Policy", "RedrivePolicy", "RedriveAllowPolicy", *_INTS.values(), *_BOOLS.values(),
          *_STRS.values()}

COLUMNS = [Col("account_id", STR), Col("region", STR), Col("arn", STR), Col("tags", JSON),
           Col("policy", JSON, "The queue policy, decoded"), Col("redrive_policy", JSON), Col("redrive_allow_policy", JSON),
           Col("url", STR), *[Col(c, INT) for c in list(_INTS)[:10]], Col("kms_master_key_id", STR),
           Col("kms_data_key_reuse_period_seconds", INT), Col("sqs_managed_sse_enabled", BOOL), Col("fifo_queue", BOOL),
           Col("content_based_deduplication", BOOL), Col("deduplication_scope", STR), Col("fifo_throughput_limit", STR),
           Col("unknown_fields", JSON, "Attributes this version does not know")]


def list_queues(ctx: Ctx, parent: Parent | None) -> Iterator[dict[str, Any]]:
    # SQS leaves QueueUrls out when a Region has no queue (boto/boto3#1813): none, not malformed.
    for url in ctx.paginate("sqs", "ListQueues", "QueueUrls", token_in="NextToken", token_out="NextToken",
                            absent_is_empty=True, MaxResults=1000):
        yield {"QueueUrl": url}


def _int(v: Any) -> int | None:
    try:
        return int(v)
    except (TypeError, ValueError):
        return None


def _arn_of(ctx: Ctx, url: str) -> str:
    """The queue's ARN from its URL (https://sqs.<region>.amazonaws.com/<account>/<name>), for a queue
    whose attributes could not be read."""
    parts = ["", "", *url.rstrip("/").split("/")]
    return f"arn:{ctx.partition}:sqs:{ctx.region}:{parts[-2] or ctx.account_id}:{parts[-1]}"


def enrich_queue(ctx: Ctx, item: dict[str, Any]) -> dict[str, Any]:
    url = item["QueueUrl"]
    r = ctx.call("sqs", "GetQueueAttributes", resource_arn=_arn_of(ctx, url), expect="Attributes", QueueUrl=url,
                 AttributeNames=["All"])
    attrs = r["Attributes"] if r is not None and isinstance(r["Attributes"], dict) else None
    item["_attrs"] = attrs
    item["_arn"] = (attrs or {}).get("QueueArn") or _arn_of(ctx, url)
    tags = ctx.call("sqs", "ListQueueTags", resource_arn=item["_arn"], QueueUrl=url)
    item["_tags"] = None if tags is None else (tags.get("Tags") or {})
    if attrs is None:
        item["_policy"] = None
        item["_encryption"] = "unknown"
        return item
    policy = attrs.get("Policy")
    item["_policy"] = ctx.bounded_policy("sqs", "GetQueueAttributes", policy, QUEUE_POLICY_MAX_BYTES,
                                         item["_arn"]) if policy else ""
    if attrs.get("KmsMasterKeyId"):
        item["_encryption"], item["_key_ref"] = "kms", attrs["KmsMasterKeyId"]
    elif str(attrs.get("SqsManagedSseEnabled")).lower() == "true":
        item["_encryption"] = "aws_owned"     # SSE-SQS
    else:
        item["_encryption"] = "none"
    return item


def queue_row(ctx: Ctx, item: dict[str, Any], parent: Parent | None) -> dict[str, Any]:
    a = item.get("_attrs") or {}
    row: dict[str, Any] = {"account_id": ctx.account_id, "region": ctx.region, "arn": item["_arn"],
                           "tags": item.get("_tags"), "policy": item.get("_policy") or None,
                           "redrive_policy": a.get("RedrivePolicy"), "redrive_allow_policy": a.get("RedriveAllowPolicy"),
                           "url": item["QueueUrl"]}
    row.update({c: _int(a.get(k)) for c, k in _INTS.items()})
    row.update({c: (str(a[k]).lower() == "true") if k in a else None for c, k in _BOOLS.items()})
    row.update({c: a.get(k) for c, k in _STRS.items()})
    extra = {k: v for k, v in a.items() if k not in _KNOWN}
    row["unknown_fields"] = extra or None
    return row


QUEUES = TableDef(
    name="aws_sqs_queues", title="AWS SQS Queues", description=DOC + "API_GetQueueAttributes.html",
    columns=COLUMNS, pk_components=["arn"],
    api_calls=["sqs:ListQueues", "sqs:GetQueueAttributes", "sqs:ListQueueTags"],
    scope="region", listing="sqs:ListQueues", resolve=list_queues, enrich=enrich_queue, to_row=queue_row,
    notes="Attributes and tags only: messages are never received.",
)
