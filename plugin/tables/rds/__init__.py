"""Amazon RDS: DB and cluster (Aurora) snapshots and who they are shared with (the restore attribute),
and whether those accounts can restore or copy them under their KMS key
(aws_rds_db_snapshot_access_paths, aws_rds_cluster_snapshot_access_paths, ours)."""

from dataclasses import replace


from ...analysis.shared_resources import Access, SharedType, access_paths_table
from ..service import Service
from .cluster_snapshots import CLUSTER_SNAPSHOTS
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

CLUSTER_SHARED = replace(SHARED, resource_type="AwsRdsDbClusterSnapshot", noun="DB cluster snapshot",
                         accesses=(Access("restore or copy", ("rds:RestoreDBClusterFromSnapshot",),
                                          ("kms:CreateGrant", "kms:DescribeKey"), SHARED.accesses[0].consequence),),
                         fix_cli="aws rds copy-db-cluster-snapshot --source-db-cluster-snapshot-identifier {arn} "
                                 "--target-db-cluster-snapshot-identifier <name>-shareable --kms-key-id "
                                 "<customer-managed-key-arn> --region {region}, then share the copy")

DB_SNAPSHOTS.children.append(access_paths_table("aws_rds_db_snapshot_access_paths", DB_SNAPSHOTS.name, SHARED))
CLUSTER_SNAPSHOTS.children.append(access_paths_table("aws_rds_cluster_snapshot_access_paths", CLUSTER_SNAPSHOTS.name,
                                                     CLUSTER_SHARED))

SERVICE = Service(name="rds", tables=[DB_SNAPSHOTS, CLUSTER_SNAPSHOTS])
