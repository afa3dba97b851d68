"""aws_s3_multi_region_access_points: each account's Multi-Region Access Points (S3 Control
ListMultiRegionAccessPoints, paginated, once per account), each with its policy
(GetMultiRegionAccessPointPolicy).

AWS routes every Multi-Region Access Point control-plane request to US West (Oregon), whatever the
client's Region (S3 user guide, "Using Multi-Region Access Points with supported API operations"), so
both calls are made in us-west-2, as CloudQuery's Go table does, and once per account, not per Region.
No other partition documents a control-plane Region for them: there the table has no rows and no call
is made. An MRAP's Regions name its buckets; it is indexed under each of them.
"""

from __future__ import annotations

from typing import Any, Iterator

from ...aws.answers import ACCESS_POINT_POLICY_MAX_BYTES
from ...aws.calls import Ctx, Parent
from ..schema import JSON, STR, TS, Col, TableDef


DOC = "https://docs.aws.amazon.com/AmazonS3/latest/API/"
NO_MRAP_POLICY = ("NoSuchMultiRegionAccessPointPolicy",)
# Partition -> the Region that answers the Multi-Region Access Point control plane.
CONTROL_REGION = {"aws": "us-west-2"}


def list_mraps(ctx: Ctx, parent: Parent | None) -> Iterator[dict[str, Any]]:
    """The shard that owns the account's account-level work lists (and writes) its MRAPs. Every other
    shard syncing part of the account lists them too, without rows or errors, only to index them: an
    MRAP's buckets may be in that shard's Regions, and their access paths need it
    (plugin/source/sharding.py)."""
    region = CONTROL_REGION.get(ctx.partition)
    if region is None:
        return
    owner = ctx.owns("*")

    def unread(err: Any) -> None:  # the owner records it; here it only marks the paths unknown
        if not err.resource_arn and ctx.index is not None:
            ctx.index.mark_unread(ctx.account_id, "", f"{err.service}:{err.operation}", err.error_code)

    lctx = (ctx.for_account_level() if owner else ctx.with_errors(unread)).with_region(region)
    for m in lctx.paginate("s3control", "ListMultiRegionAccessPoints", "AccessPoints", token_in="NextToken",
                           token_out="NextToken", AccountId=ctx.account_id, MaxResults=100):
        item = {**m, "_region": region}
        if owner:
            yield item
        else:
            index_mrap(lctx, None, enrich_mrap(lctx, item))


def mrap_arn(partition: str, account: str, alias: str) -> str:
    """CloudQuery's ARN of a Multi-Region Access Point: no Region, the alias as its name."""
    return f"arn:{partition}:s3::{account}:accesspoint/{alias}"


def enrich_mrap(ctx: Ctx, item: dict[str, Any]) -> dict[str, Any]:
    arn = mrap_arn(ctx.partition, ctx.account_id, item.get("Alias") or "")
    failed: list[bool] = []
    r = ctx.call("s3control", "GetMultiRegionAccessPointPolicy", resource_arn=arn, absent=NO_MRAP_POLICY,
                 expect="Policy", AccountId=ctx.account_id, Name=item.get("Name"), _failed=failed)
    # The established policy is the one in force; a proposed one becomes it once every Region has it.
    text = (((r or {}).get("Policy") or {}).get("Established") or {}).get("Policy")
    policy = None
    if text:
        policy = ctx.bounded_policy("s3control", "GetMultiRegionAccessPointPolicy", text,
                                    ACCESS_POINT_POLICY_MAX_BYTES, arn)
        if policy is None:
            failed.append(True)
    item["_arn"], item["_policy"], item["_policy_read"] = arn, policy, not failed
    return item


def mrap_row(ctx: Ctx, item: dict[str, Any], parent: Parent | None) -> dict[str, Any]:
    return {"account_id": ctx.account_id, "arn": item["_arn"], "alias": item.get("Alias"),
            "created_at": item.get("CreatedAt"), "name": item.get("Name"),
            "public_access_block": item.get("PublicAccessBlock"), "regions": item.get("Regions"),
            "status": item.get("Status"), "policy": item.get("_policy")}  # the policy text verbatim


def index_mrap(ctx: Ctx, row: dict[str, Any] | None, item: dict[str, Any]) -> None:
    if ctx.index is not None:
        ctx.index.add_mrap(ctx.account_id, item["_arn"], item.get("Alias") or "", item.get("Regions") or [],
                           item.get("_policy"), bool(item.get("_policy_read")))


MULTI_REGION_ACCESS_POINTS = TableDef(
    name="aws_s3_multi_region_access_points", title="AWS S3 Multi Region Access Points",
    description=DOC + "API_control_MultiRegionAccessPointReport.html",
    columns=[Col("account_id", STR),
             Col("arn", STR, "arn:<partition>:s3::<account>:accesspoint/<alias>"), Col("alias", STR),
             Col("created_at", TS), Col("name", STR), Col("public_access_block", JSON),
             Col("regions", JSON, '[{"Bucket": ..., "Region": ..., "BucketAccountId": ...}]: its buckets'),
             Col("status", STR),
             Col("policy", JSON, "The established Multi-Region Access Point policy "
                                 "(GetMultiRegionAccessPointPolicy); NULL when it has none or it could not be read")],
    pk_components=["arn"],
    api_calls=["s3control:ListMultiRegionAccessPoints", "s3control:GetMultiRegionAccessPointPolicy"],
    scope="account", listing="s3control:ListMultiRegionAccessPoints", resolve=list_mraps, enrich=enrich_mrap,
    to_row=mrap_row, on_row=index_mrap, extra_columns=["policy"],
    notes="Called in us-west-2, the Region AWS routes every Multi-Region Access Point control-plane request to, "
          "once per account whatever the spec's `regions`; in partitions other than `aws` no call is made.",
)
