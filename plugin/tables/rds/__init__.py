"""Amazon RDS: DB snapshots and who they are shared with (the restore attribute), and whether those
accounts can restore or copy them under their KMS key (aws_rds_db_snapshot_access_paths, ours)."""

from ...analysis.shared_resources import Access, SharedType, access_paths_table
from ..service import Service
from .db_snapshots import DB_SNAPSHOTS

SHARED = SharedType(
    resource_type="AwsRdsDbSnapshot", noun="DB snapshot", service="rds", default_alias="alias/aws/rds",
    sharing="attribute", attribute="restore",
    accesses=(
        Access("restore or copy", ("rds:RestoreDBInstanceFromDBSnapshot",), ("kms:CreateGrant", "kms:DescribeKey"),
               "it can't restore or copy the snapshot: found during a DR test, when it is needed"),
    ),
    fix_cli="aws rds copy-db-snapshot --source-db-snapshot-identifier {arn} --target-db-snapshot-identifier "
            "<name>-shareable --kms-key-id <customer-managed-key-arn> --region {region}, then share the copy",
    context=lambda arn: {"kms:GrantIsForAWSResource": ["true"]},
)

PATHS = access_paths_table("aws_rds_db_snapshot_access_paths", DB_SNAPSHOTS.name, SHARED)
DB_SNAPSHOTS.children.append(PATHS)

SERVICE = Service(name="rds", tables=[DB_SNAPSHOTS])
