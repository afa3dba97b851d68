"""Amazon EC2: the EBS snapshots each account owns and who they are shared with
(createVolumePermission), and who may create volumes from them under their KMS key
(aws_ec2_ebs_snapshot_access_paths, ours)."""

from ...analysis.shared_resources import Access, SharedType, access_paths_table
from ..service import Service
from .ebs_snapshots import SNAPSHOTS

SHARED = SharedType(
    resource_type="AwsEc2Snapshot", noun="snapshot", service="ec2", default_alias="alias/aws/ebs",
    sharing="attribute", attribute="createVolumePermission",
    accesses=(
        Access("create volumes from", ("ec2:CreateVolume",),
               ("kms:CreateGrant", "kms:Decrypt", "kms:DescribeKey", "kms:ReEncryptFrom"),
               "it can't create a volume from the snapshot or copy it (the volume fails to attach, or the copy "
               "fails), found at restore time"),
    ),
    fix_cli="aws ec2 copy-snapshot --source-snapshot-id {name} --source-region {region} --encrypted "
            "--kms-key-id <customer-managed-key-arn>, then share the copy",
    # EBS's grants are for AWS resources, through EC2 (Amazon EBS User Guide, "How EBS encryption works")
    context=lambda arn: {"kms:GrantIsForAWSResource": ["true"]},
)

PATHS = access_paths_table("aws_ec2_ebs_snapshot_access_paths", SNAPSHOTS.name, SHARED)
SNAPSHOTS.children.append(PATHS)

SERVICE = Service(name="ec2", tables=[SNAPSHOTS])
