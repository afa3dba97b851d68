"""aws_rds_cluster_snapshots: each account's Aurora (and Multi-AZ cluster) snapshots
(DescribeDBClusterSnapshots, paginated) with their attributes (DescribeDBClusterSnapshotAttributes, once
per manual snapshot: automated ones can't be shared)."""

from __future__ import annotations

from typing import Any, Iterator

from ...aws.calls import Ctx, Parent
from ..schema import BOOL, INT, JSON, STR, STR_LIST, TS, Col, TableDef
from .db_snapshots import snapshot_enricher, snapshot_rower

DOC = "https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/"

COLUMNS = [Col("account_id", STR), Col("region", STR), Col("arn", STR), Col("tags", JSON),
           Col("attributes", JSON, "DBClusterSnapshotAttributes: restore lists the accounts (or all) it is shared with"),
           Col("allocated_storage", INT), Col("availability_zones", STR_LIST), Col("cluster_create_time", TS),
           Col("db_cluster_identifier", STR), Col("db_cluster_snapshot_identifier", STR), Col("engine", STR),
           Col("engine_mode", STR), Col("engine_version", STR), Col("iam_database_authentication_enabled", BOOL),
           Col("kms_key_id", STR), Col("license_model", STR), Col("master_username", STR), Col("percent_progress", INT),
           Col("port", INT), Col("snapshot_create_time", TS), Col("snapshot_type", STR),
           Col("source_db_cluster_snapshot_arn", STR), Col("status", STR), Col("storage_encrypted", BOOL),
           Col("tag_list", JSON), Col("vpc_id", STR)]


def list_snapshots(ctx: Ctx, parent: Parent | None) -> Iterator[dict[str, Any]]:
    yield from ctx.paginate("rds", "DescribeDBClusterSnapshots", "DBClusterSnapshots", token_in="Marker",
                            token_out="Marker", MaxRecords=100)


CLUSTER_SNAPSHOTS = TableDef(
    name="aws_rds_cluster_snapshots", title="AWS RDS Cluster Snapshots",
    description=DOC + "API_DBClusterSnapshot.html",
    columns=COLUMNS, pk_components=["arn"],
    api_calls=["rds:DescribeDBClusterSnapshots", "rds:DescribeDBClusterSnapshotAttributes"],
    scope="region", listing="rds:DescribeDBClusterSnapshots", resolve=list_snapshots,
    enrich=snapshot_enricher("DBCluster", "StorageEncrypted"), to_row=snapshot_rower("DBCluster", COLUMNS),
    notes="Attributes are asked for manual snapshots only (automated snapshots can't be shared).",
)
