"""aws_s3_access_points: the S3 access points of each account and region (S3 Control
ListAccessPoints, paginated), each with its own Block Public Access settings (GetAccessPoint) and its
policy (GetAccessPointPolicy), one call of each per access point.

An access point admits principals to its bucket's objects under its own policy (and the bucket's), so
each one is recorded in the sync's index under the bucket it serves, for the tables that say who can
reach a bucket. ListAccessPoints does not return an access point's Block Public Access settings;
GetAccessPoint does (`public_access_block_configuration`, ours: CloudQuery's table is cut from the
list answer). S3 applies the most restrictive combination of the access point's, its bucket's and the
bucket owner account's settings to every request made through the access point.
"""

from __future__ import annotations

from typing import Any, Iterator

from ...aws.answers import ACCESS_POINT_POLICY_MAX_BYTES
from ...aws.calls import Ctx, Parent
from ..schema import JSON, STR, Col, TableDef


DOC = "https://docs.aws.amazon.com/AmazonS3/latest/API/"
NO_AP_POLICY = ("NoSuchAccessPointPolicy",)


def list_access_points(ctx: Ctx, parent: Parent | None) -> Iterator[dict[str, Any]]:
    # ListAccessPoints answers the access points of the endpoint's region (s3-control.<region>).
    yield from ctx.paginate("s3control", "ListAccessPoints", "AccessPointList", token_in="NextToken",
                            token_out="NextToken", AccountId=ctx.account_id, MaxResults=1000)


def enrich_access_point(ctx: Ctx, item: dict[str, Any]) -> dict[str, Any]:
    arn = item.get("AccessPointArn") or ""
    # its own Block Public Access settings (NULL when the call failed: aws_encryption_sync_errors says why)
    ap = ctx.call("s3control", "GetAccessPoint", resource_arn=arn, expect="PublicAccessBlockConfiguration",
                  AccountId=ctx.account_id, Name=item.get("Name"))
    item["_public_access_block"] = ap.get("PublicAccessBlockConfiguration") if ap is not None else None
    failed: list[bool] = []
    r = ctx.call("s3control", "GetAccessPointPolicy", resource_arn=arn, absent=NO_AP_POLICY, expect="Policy",
                 AccountId=ctx.account_id, Name=item.get("Name"), _failed=failed)
    policy = None
    if r is not None and r.get("Policy"):
        policy = ctx.bounded_policy("s3control", "GetAccessPointPolicy", r["Policy"], ACCESS_POINT_POLICY_MAX_BYTES,
                                    arn)
        if policy is None:
            failed.append(True)
    item["_policy"], item["_policy_read"] = policy, not failed
    return item


def access_point_row(ctx: Ctx, item: dict[str, Any], parent: Parent | None) -> dict[str, Any]:
    arn = item.get("AccessPointArn")
    return {"account_id": ctx.account_id, "region": ctx.region, "arn": arn, "bucket": item.get("Bucket"),
            "name": item.get("Name"), "network_origin": item.get("NetworkOrigin"), "access_point_arn": arn,
            "alias": item.get("Alias"), "bucket_account_id": item.get("BucketAccountId"),
            # the policy text verbatim, as aws_kms_key_policies.policy (docs/cloudquery.md, "JSON values")
            "vpc_configuration": item.get("VpcConfiguration"), "policy": item.get("_policy"),
            "public_access_block_configuration": item.get("_public_access_block")}


def index_access_point(ctx: Ctx, row: dict[str, Any], item: dict[str, Any]) -> None:
    if ctx.index is not None and row.get("bucket"):
        ctx.index.add_access_point(row["bucket"], row.get("bucket_account_id") or ctx.account_id, row["arn"] or "",
                                   ctx.account_id, ctx.region, item.get("_policy"), bool(item.get("_policy_read")))


ACCESS_POINTS = TableDef(
    name="aws_s3_access_points", title="AWS S3 Access Points", description=DOC + "API_control_AccessPoint.html",
    columns=[Col("account_id", STR), Col("region", STR), Col("arn", STR), Col("bucket", STR), Col("name", STR),
             Col("network_origin", STR, "Internet | VPC"), Col("access_point_arn", STR), Col("alias", STR),
             Col("bucket_account_id", STR, "The account of the bucket the access point serves"),
             Col("vpc_configuration", JSON, '{"VpcId": ...} for VPC access points'),
             Col("policy", JSON, "The access point policy (GetAccessPointPolicy); NULL when it has none or it "
                                 "could not be read (then aws_encryption_sync_errors says why)"),
             Col("public_access_block_configuration", JSON,
                 '{"BlockPublicAcls": bool, "IgnorePublicAcls": bool, "BlockPublicPolicy": bool, '
                 '"RestrictPublicBuckets": bool}: the access point\'s own Block Public Access (GetAccessPoint), '
                 'fixed when it was created; NULL when it could not be read')],
    pk_components=["arn"],
    api_calls=["s3control:ListAccessPoints", "s3control:GetAccessPoint", "s3control:GetAccessPointPolicy"],
    scope="region", listing="s3control:ListAccessPoints", resolve=list_access_points, enrich=enrich_access_point,
    to_row=access_point_row, on_row=index_access_point, extra_columns=["policy", "public_access_block_configuration"],
)
