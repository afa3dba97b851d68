"""aws_ec2_images (+ aws_ec2_image_launch_permissions): the AMIs each account owns (DescribeImages
Owners=self) and who may launch them (DescribeImageAttribute launchPermission, once per owned AMI).

An AMI's key is its root device's: the block device mapping's KmsKeyId, or, when the answer leaves it
out, its snapshot's (one DescribeSnapshots per AMI for all such devices). Its other encrypted EBS
devices' keys are needed at launch too (`_more_keys`, docs/shared-resources.md)."""

from __future__ import annotations

from typing import Any, Iterator

from ...aws.calls import Ctx, Parent
from ..schema import BOOL, JSON, STR, Col, TableDef, project

DOC = "https://docs.aws.amazon.com/AWSEC2/latest/APIReference/"

COLUMNS = [Col("account_id", STR), Col("region", STR), Col("arn", STR), Col("tags", JSON), Col("architecture", STR),
           Col("block_device_mappings", JSON), Col("boot_mode", STR), Col("creation_date", STR),
           Col("deprecation_time", STR), Col("description", STR), Col("ena_support", BOOL), Col("hypervisor", STR),
           Col("image_id", STR), Col("image_location", STR), Col("image_owner_alias", STR), Col("image_type", STR),
           Col("imds_support", STR), Col("kernel_id", STR), Col("name", STR), Col("owner_id", STR),
           Col("platform", STR), Col("platform_details", STR), Col("product_codes", JSON), Col("public", BOOL),
           Col("ramdisk_id", STR), Col("root_device_name", STR), Col("root_device_type", STR),
           Col("sriov_net_support", STR), Col("state", STR), Col("state_reason", JSON), Col("tpm_support", STR),
           Col("usage_operation", STR), Col("virtualization_type", STR)]


def list_images(ctx: Ctx, parent: Parent | None) -> Iterator[dict[str, Any]]:
    yield from ctx.paginate("ec2", "DescribeImages", "Images", token_in="NextToken", token_out="NextToken",
                            Owners=["self"], MaxResults=1000)


def image_arn(ctx: Ctx, image_id: str) -> str:
    return f"arn:{ctx.partition}:ec2:{ctx.region}::image/{image_id}"


def _root_ebs(item: dict[str, Any]) -> dict[str, Any]:
    for m in item.get("BlockDeviceMappings") or []:
        if isinstance(m, dict) and m.get("DeviceName") == item.get("RootDeviceName") and isinstance(m.get("Ebs"), dict):
            return m["Ebs"]
    return {}


def enrich_image(ctx: Ctx, item: dict[str, Any]) -> dict[str, Any]:
    from ...analysis.shared_resources import set_encryption
    iid = item.get("ImageId") or ""
    arn = image_arn(ctx, iid)
    r = ctx.call("ec2", "DescribeImageAttribute", resource_arn=arn, expect="LaunchPermissions", ImageId=iid,
                 Attribute="launchPermission")
    perms = r["LaunchPermissions"] if r is not None and isinstance(r["LaunchPermissions"], list) else None
    item["_perms"] = perms
    item["_shared_with"] = None if perms is None else [
        p.get("UserId") or p.get("Group") or p.get("OrganizationArn") or p.get("OrganizationalUnitArn")
        for p in perms if isinstance(p, dict)
        and (p.get("UserId") or p.get("Group") or p.get("OrganizationArn") or p.get("OrganizationalUnitArn"))]
    ebs = _root_ebs(item)
    devices = [(m.get("DeviceName") or "", m["Ebs"]) for m in item.get("BlockDeviceMappings") or []
               if isinstance(m, dict) and isinstance(m.get("Ebs"), dict) and m["Ebs"].get("Encrypted")]
    unknown = [e["SnapshotId"] for _, e in devices if not e.get("KmsKeyId") and e.get("SnapshotId")]
    of_snapshot: dict[str, Any] = {}
    if unknown:
        s = ctx.call("ec2", "DescribeSnapshots", resource_arn=arn, expect="Snapshots", SnapshotIds=unknown)
        of_snapshot = {x.get("SnapshotId"): x.get("KmsKeyId") for x in (s or {}).get("Snapshots") or []
                       if isinstance(x, dict)}
    key = ebs.get("KmsKeyId") or of_snapshot.get(ebs.get("SnapshotId"))
    # an encrypted volume's key, unknown when neither answer gave it (never assumed to be aws/ebs)
    item["_more_keys"] = [(f"its {name} volume", e.get("KmsKeyId") or of_snapshot.get(e.get("SnapshotId")))
                          for name, e in devices if e is not ebs]
    set_encryption(item, ebs.get("Encrypted"), key)
    if ebs.get("Encrypted") and not key:
        item["_encryption"] = "unknown"
    return item


def image_row(ctx: Ctx, item: dict[str, Any], parent: Parent | None) -> dict[str, Any]:
    row = project(item, COLUMNS)
    row["arn"] = image_arn(ctx, item.get("ImageId") or "")
    row["tags"] = {t.get("Key"): t.get("Value") for t in item.get("Tags") or [] if isinstance(t, dict)}
    return row


def launch_permissions(ctx: Ctx, parent: Parent) -> Iterator[dict[str, Any]]:
    for p in parent.item.get("_perms") or []:
        if isinstance(p, dict):
            yield {"image_arn": parent.row["arn"], "group": p.get("Group"), "organization_arn": p.get("OrganizationArn"),
                   "organizational_unit_arn": p.get("OrganizationalUnitArn"), "user_id": p.get("UserId")}


LAUNCH_PERMISSIONS = TableDef(
    name="aws_ec2_image_launch_permissions", title="AWS EC2 Image Launch Permissions",
    description=DOC + "API_LaunchPermission.html",
    columns=[Col("image_arn", STR), Col("group", STR), Col("organization_arn", STR),
             Col("organizational_unit_arn", STR), Col("user_id", STR)],
    pk_components=["image_arn", "group", "organization_arn", "organizational_unit_arn", "user_id"], api_calls=[],
    parent="aws_ec2_images", resolve=launch_permissions,
)

IMAGES = TableDef(
    name="aws_ec2_images", title="AWS EC2 Images", description=DOC + "API_Image.html",
    columns=COLUMNS, pk_components=["account_id", "region", "arn"],
    api_calls=["ec2:DescribeImages", "ec2:DescribeImageAttribute", "ec2:DescribeSnapshots"],
    scope="region", listing="ec2:DescribeImages", resolve=list_images, enrich=enrich_image, to_row=image_row,
    children=[LAUNCH_PERMISSIONS],
    notes="The AMIs the account owns (Owners=self); launchPermission is asked once per AMI.",
)
