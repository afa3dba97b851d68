"""Amazon EC2: the EBS snapshots and AMIs each account owns and who they are shared with
(createVolumePermission, launchPermission), and who may use them under their KMS key
(aws_ec2_ebs_snapshot_access_paths, aws_ec2_image_access_paths, ours)."""

from dataclasses import replace

from ...analysis.shared_resources import Access, SharedType, access_paths_table
from ..service import Service
from .ebs_snapshots import SNAPSHOTS
from .images import IMAGES
from .regional_configs import REGIONAL_CONFIGS

SHARED = SharedType(
    resource_type="AwsEc2Snapshot", noun="snapshot", service="ec2", default_alias="alias/aws/ebs",
    sharing="attribute", attribute="createVolumePermission", name_column="snapshot_id",
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

IMAGE_SHARED = replace(
    SHARED, resource_type="AwsEc2Image", noun="AMI", attribute="launchPermission", name_column="image_id",
    accesses=(replace(SHARED.accesses[0], name="launch instances from", actions=("ec2:RunInstances",),
                      consequence="its instances fail to launch (their root volume can't be created from the "
                                  "AMI's snapshot)"),),
    fix_cli="aws ec2 copy-image --source-image-id {name} --source-region {region} --name <name>-shareable "
            "--encrypted --kms-key-id <customer-managed-key-arn>, then share the copy",
)

SNAPSHOTS.children.append(access_paths_table("aws_ec2_ebs_snapshot_access_paths", SNAPSHOTS.name, SHARED))
IMAGES.children.append(access_paths_table("aws_ec2_image_access_paths", IMAGES.name, IMAGE_SHARED))

SERVICE = Service(name="ec2", tables=[SNAPSHOTS, IMAGES, REGIONAL_CONFIGS])
