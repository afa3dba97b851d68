"""aws_sns_topics: every topic (ListTopics, paginated) with its attributes (GetTopicAttributes, once per
topic: policy, encryption, subscriptions) and tags (ListTagsForResource)."""

from __future__ import annotations

from typing import Any, Iterator

from ...aws.calls import Ctx, Parent
from ..schema import BOOL, INT, JSON, STR, Col, TableDef

DOC = "https://docs.aws.amazon.com/sns/latest/api/"
TOPIC_POLICY_MAX_BYTES = 30 * 1024   # Amazon SNS: a topic policy is at most 30 KB

_KNOWN = {"TopicArn", "Policy", "DeliveryPolicy", "DisplayName", "Owner", "SubscriptionsConfirmed",
          "SubscriptionsDeleted", "SubscriptionsPending", "EffectiveDeliveryPolicy", "KmsMasterKeyId", "FifoTopic",
          "ContentBasedDeduplication"}

COLUMNS = [Col("account_id", STR), Col("region", STR), Col("arn", STR), Col("tags", JSON),
           Col("delivery_policy", STR), Col("display_name", STR), Col("owner", STR),
           Col("policy", STR, "The topic policy, verbatim"), Col("subscriptions_confirmed", INT),
           Col("subscriptions_deleted", INT), Col("subscriptions_pending", INT), Col("effective_delivery_policy", STR),
           Col("kms_master_key_id", STR, "NULL: the topic is not encrypted"), Col("fifo_topic", BOOL),
           Col("content_based_deduplication", BOOL), Col("unknown_fields", JSON)]


def list_topics(ctx: Ctx, parent: Parent | None) -> Iterator[dict[str, Any]]:
    yield from ctx.paginate("sns", "ListTopics", "Topics", token_in="NextToken", token_out="NextToken")


def _int(v: Any) -> int | None:
    try:
        return int(v)
    except (TypeError, ValueError):
        return None


def enrich_topic(ctx: Ctx, item: dict[str, Any]) -> dict[str, Any]:
    arn = item.get("TopicArn") or ""
    r = ctx.call("sns", "GetTopicAttributes", resource_arn=arn, expect="Attributes", TopicArn=arn)
    attrs = r["Attributes"] if r is not None and isinstance(r["Attributes"], dict) else None
    item["_attrs"] = attrs
    tags = ctx.call("sns", "ListTagsForResource", resource_arn=arn, ResourceArn=arn)
    item["_tags"] = None if tags is None else {t.get("Key"): t.get("Value") for t in tags.get("Tags") or []}
    if attrs is None:
        item["_policy"], item["_encryption"] = None, "unknown"
        return item
    policy = attrs.get("Policy")
    item["_policy"] = ctx.bounded_policy("sns", "GetTopicAttributes", policy, TOPIC_POLICY_MAX_BYTES,
                                         arn) if policy else ""
    if attrs.get("KmsMasterKeyId"):
        item["_encryption"], item["_key_ref"] = "kms", attrs["KmsMasterKeyId"]
    else:
        item["_encryption"] = "none"
    return item


def topic_row(ctx: Ctx, item: dict[str, Any], parent: Parent | None) -> dict[str, Any]:
    a = item.get("_attrs") or {}
    return {"account_id": ctx.account_id, "region": ctx.region, "arn": item.get("TopicArn"), "tags": item.get("_tags"),
            "delivery_policy": a.get("DeliveryPolicy"), "display_name": a.get("DisplayName"), "owner": a.get("Owner"),
            "policy": item.get("_policy") or None, "subscriptions_confirmed": _int(a.get("SubscriptionsConfirmed")),
            "subscriptions_deleted": _int(a.get("SubscriptionsDeleted")),
            "subscriptions_pending": _int(a.get("SubscriptionsPending")),
            "effective_delivery_policy": a.get("EffectiveDeliveryPolicy"), "kms_master_key_id": a.get("KmsMasterKeyId"),
            "fifo_topic": str(a["FifoTopic"]).lower() == "true" if "FifoTopic" in a else None,
            "content_based_deduplication": (str(a["ContentBasedDeduplication"]).lower() == "true"
                                            if "ContentBasedDeduplication" in a else None),
            "unknown_fields": {k: v for k, v in a.items() if k not in _KNOWN} or None}


TOPICS = TableDef(
    name="aws_sns_topics", title="AWS SNS Topics", description=DOC + "API_GetTopicAttributes.html",
    columns=COLUMNS, pk_components=["arn"],
    api_calls=["sns:ListTopics", "sns:GetTopicAttributes", "sns:ListTagsForResource"],
    scope="region", listing="sns:ListTopics", resolve=list_topics, enrich=enrich_topic, to_row=topic_row,
)
