"""aws_ec2_ebs_snapshots (+ aws_ec2_ebs_snapshot_attributes): the EBS snapshots each account owns
(DescribeSnapshots OwnerIds=self, paginated) and who may create volumes from them
(DescribeSnapshotAttribute createVolumePermission, once per owned snapshot: another account's or a
public snapshot is not ours to share)."""

from __future__ import annotations

from typing import Any, Iterator

from ...aws.calls import Ctx, Parent
from ..schema import BOOL, INT, JSON, STR, TS, Col, TableDef, project

DOC = "https://docs.aws.amazon.com/AWSEC2/latest/APIReference/"

COLUMNS = [Col("account_id", STR), Col("region", STR), Col("arn", STR),
           Col("attribute", JSON, "createVolumePermission, as CloudQuery stores it"),
           Col("data_encryption_key_id", STR), Col("description", STR), Col("encrypted", BOOL), Col("kms_key_id", STR),
           Col("outpost_arn", STR), Col("owner_alias", STR), Col("owner_id", STR), Col("progress", STR),
           Col("restore_expiry_time", TS), Col("snapshot_id", STR), Col("start_time", TS), Col("state", STR),
           Col("state_message", STR), Col("storage_tier", STR), Col("tags", JSON), Col("volume_id", STR),
           Col("volume_size", INT)]


def list_snapshots(ctx: Ctx, parent: Parent | None) -> Iterator[dict[str, Any]]:
    yield from ctx.paginate("ec2", "DescribeSnapshots", "Snapshots", token_in="NextToken", token_out="NextToken",
                            OwnerIds=["self"], MaxResults=1000)


def snapshot_arn(ctx: Ctx, snapshot_id: str) -> str:
    return f"arn:{ctx.partition}:ec2:{ctx.region}::snapshot/{snapshot_id}"


def enrich_snapshot(ctx: Ctx, item: dict[str, Any]) -> dict[str, Any]:
    from ...analysis.shared_resources import set_encryption
    sid = item.get("SnapshotId") or ""
    arn = snapshot_arn(ctx, sid)
    r = ctx.call("ec2", "DescribeSnapshotAttribute", resource_arn=arn, expect="CreateVolumePermissions",
                 SnapshotId=sid, Attribute="createVolumePermission")
    perms = r["CreateVolumePermissions"] if r is not None and isinstance(r["CreateVolumePermissions"], list) else None
    item["_perms"] = perms
    item["_shared_with"] = None if perms is None else [
        p.get("UserId") or p.get("Group") for p in perms if isinstance(p, dict) and (p.get("UserId") or p.get("Group"))]
    set_encryption(item, item.get("Encrypted"), item.get("KmsKeyId"))
    return item


def snapshot_row(ctx: Ctx, item: dict[str, Any], parent: Parent | None) -> dict[str, Any]:
    row = project(item, COLUMNS)
    row["arn"] = snapshot_arn(ctx, item.get("SnapshotId") or "")
    row["attribute"] = None if item.get("_perms") is None else {"CreateVolumePermissions": item["_perms"]}
    row["tags"] = {t.get("Key"): t.get("Value") for t in item.get("Tags") or [] if isinstance(t, dict)}
    return row


def snapshot_attributes(ctx: Ctx, parent: Parent) -> Iterator[dict[str, Any]]:
    if parent.item.get("_perms") is not None:
        yield {"account_id": ctx.account_id, "region": ctx.region, "snapshot_arn": parent.row["arn"],
               "create_volume_permissions": parent.item["_perms"], "product_codes": None,
               "snapshot_id": parent.row["snapshot_id"]}


ATTRIBUTES = TableDef(
    name="aws_ec2_ebs_snapshot_attributes", title="AWS EC2 EBS Snapshot Attributes",
    description=DOC + "API_DescribeSnapshotAttribute.html",
    columns=[Col("account_id", STR), Col("region", STR), Col("snapshot_arn", STR),
             Col("create_volume_permissions", JSON), Col("product_codes", JSON, "Not read: always NULL"),
             Col("snapshot_id", STR)],
    pk_components=["snapshot_arn"], api_calls=[], parent="aws_ec2_ebs_snapshots", resolve=snapshot_attributes,
)

SNAPSHOTS = TableDef(
    name="aws_ec2_ebs_snapshots", title="AWS EC2 EBS Snapshots", description=DOC + "API_Snapshot.html",
    columns=COLUMNS, pk_components=["arn"], api_calls=["ec2:DescribeSnapshots", "ec2:DescribeSnapshotAttribute"],
    scope="region", listing="ec2:DescribeSnapshots", resolve=list_snapshots, enrich=enrich_snapshot,
    to_row=snapshot_row, children=[ATTRIBUTES],
    notes="The snapshots the account owns (OwnerIds=self); createVolumePermission is asked once per snapshot.",
)
