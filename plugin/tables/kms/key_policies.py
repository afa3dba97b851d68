"""aws_kms_key_policies: each key's `default` key policy, verbatim (GetKeyPolicy, once per key)."""

from __future__ import annotations

from typing import Any, Iterator

from ...aws.calls import Ctx, Parent
from ...aws.answers import KEY_POLICY_MAX_BYTES
from ..schema import JSON, STR, Col, TableDef


DOC = "https://docs.aws.amazon.com/kms/latest/APIReference/"


def fetch_policy(ctx: Ctx, parent: Parent) -> str | None:
    """The key policy, fetched once per key whichever tables need it (None: failed, recorded)."""
    if "_policy" not in parent.item:
        arn = parent.row["arn"]
        pctx = ctx.with_table(POLICIES.name)
        r = pctx.call("kms", "GetKeyPolicy", resource_arn=arn, expect="Policy", KeyId=arn, PolicyName="default")
        parent.item["_policy"] = None if r is None else pctx.bounded_policy(
            "kms", "GetKeyPolicy", r["Policy"], KEY_POLICY_MAX_BYTES, arn)
    return parent.item["_policy"]


def key_policies(ctx: Ctx, parent: Parent) -> Iterator[dict[str, Any]]:
    policy = fetch_policy(ctx, parent)
    if policy is not None:
        yield {"key_arn": parent.row["arn"], "name": "default", "policy": policy}


POLICIES = TableDef(
    name="aws_kms_key_policies", title="AWS KMS Key Policies",
    description=DOC + "API_GetKeyPolicy.html",
    columns=[Col("account_id", STR), Col("region", STR), Col("key_arn", STR), Col("name", STR),
             Col("policy", JSON, "The key policy document, verbatim")],
    pk_components=["key_arn", "name"], api_calls=["kms:GetKeyPolicy"], parent="aws_kms_keys",
    resolve=key_policies,
)
