"""aws_rds_db_snapshots: each account's DB snapshots (DescribeDBSnapshots, paginated) with their
attributes (DescribeDBSnapshotAttributes, once per manual snapshot: automated ones can't be shared)."""

from __future__ import annotations

from typing import Any, Iterator

from ...aws.calls import Ctx, Parent
from ..schema import BOOL, INT, JSON, STR, TS, Col, TableDef, project

DOC = "https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/"

COLUMNS = [Col("account_id", STR), Col("region", STR), Col("arn", STR), Col("tags", JSON),
           Col("attributes", JSON, "DBSnapshotAttributes: restore lists the accounts (or all) it is shared with"),
           Col("allocated_storage", INT), Col("availability_zone", STR), Col("db_instance_identifier", STR),
           Col("db_snapshot_arn", STR), Col("db_snapshot_identifier", STR), Col("db_system_id", STR),
           Col("dbi_resource_id", STR), Col("dedicated_log_volume", BOOL), Col("encrypted", BOOL), Col("engine", STR),
           Col("engine_version", STR), Col("iam_database_authentication_enabled", BOOL), Col("instance_create_time", TS),
           Col("iops", INT), Col("kms_key_id", STR), Col("license_model", STR), Col("master_username", STR),
           Col("multi_tenant", BOOL), Col("option_group_name", STR), Col("original_snapshot_create_time", TS),
           Col("percent_progress", INT), Col("port", INT), Col("processor_features", JSON),
           Col("snapshot_create_time", TS), Col("snapshot_database_time", TS), Col("snapshot_target", STR),
           Col("snapshot_type", STR), Col("source_db_snapshot_identifier", STR), Col("source_region", STR),
           Col("status", STR), Col("storage_throughput", INT), Col("storage_type", STR), Col("tde_credential_arn", STR),
           Col("timezone", STR), Col("vpc_id", STR)]


def list_snapshots(ctx: Ctx, parent: Parent | None) -> Iterator[dict[str, Any]]:
    yield from ctx.paginate("rds", "DescribeDBSnapshots", "DBSnapshots", token_in="Marker", token_out="Marker",
                            MaxRecords=100)


def restore_shares(attrs: Any) -> list[str] | None:
    """The accounts (or "all") a snapshot's `restore` attribute shares it with; None when unread."""
    if attrs is None:
        return None
    return [v for a in attrs if isinstance(a, dict) and a.get("AttributeName") == "restore"
            for v in a.get("AttributeValues") or []]


def enrich_snapshot(ctx: Ctx, item: dict[str, Any]) -> dict[str, Any]:
    arn = item.get("DBSnapshotArn") or ""
    if item.get("SnapshotType") == "manual":
        r = ctx.call("rds", "DescribeDBSnapshotAttributes", resource_arn=arn, expect="DBSnapshotAttributesResult",
                     DBSnapshotIdentifier=item.get("DBSnapshotIdentifier"))
        res = r["DBSnapshotAttributesResult"] if r is not None else None
        attrs = (res or {}).get("DBSnapshotAttributes") if isinstance(res, dict) else None
        item["_attrs"] = attrs
        item["_shared_with"] = restore_shares(attrs)
    else:
        item["_attrs"], item["_shared_with"] = None, []   # automated snapshots can't be shared
    if item.get("Encrypted"):
        item["_encryption"], item["_key_ref"] = "kms", item.get("KmsKeyId") or None
    else:
        item["_encryption"] = "none"
    return item


def snapshot_row(ctx: Ctx, item: dict[str, Any], parent: Parent | None) -> dict[str, Any]:
    row = project(item, COLUMNS)
    row["arn"] = item.get("DBSnapshotArn")
    row["attributes"] = item.get("_attrs")
    row["tags"] = {t.get("Key"): t.get("Value") for t in item.get("TagList") or [] if isinstance(t, dict)}
    return row


DB_SNAPSHOTS = TableDef(
    name="aws_rds_db_snapshots", title="AWS RDS DB Snapshots", description=DOC + "API_DBSnapshot.html",
    columns=COLUMNS, pk_components=["arn"], api_calls=["rds:DescribeDBSnapshots", "rds:DescribeDBSnapshotAttributes"],
    scope="region", listing="rds:DescribeDBSnapshots", resolve=list_snapshots, enrich=enrich_snapshot,
    to_row=snapshot_row,
    notes="Attributes are asked for manual snapshots only (automated snapshots can't be shared).",
)
