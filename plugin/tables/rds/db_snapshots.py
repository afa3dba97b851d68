"""aws_rds_db_snapshots: each account's DB snapshots (DescribeDBSnapshots, paginated) with their
attributes (DescribeDBSnapshotAttributes, once per manual snapshot: automated ones can't be shared)."""

from __future__ import annotations

from typing import Any, Callable, Iterator

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


def snapshot_enricher(kind: str, encrypted: str) -> Callable[[Ctx, dict[str, Any]], dict[str, Any]]:
    """`enrich` for DB (`kind` "DB") and cluster ("DBCluster") snapshots: the restore attribute of a
    manual snapshot (DescribeDB[Cluster]SnapshotAttributes; automated ones can't be shared) and the key."""
    def enrich(ctx: Ctx, item: dict[str, Any]) -> dict[str, Any]:
        from ...analysis.shared_resources import set_encryption
        if item.get("SnapshotType") == "manual":
            result = f"{kind}SnapshotAttributesResult"
            r = ctx.call("rds", f"Describe{kind}SnapshotAttributes", resource_arn=item.get(f"{kind}SnapshotArn") or "",
                         expect=result, **{f"{kind}SnapshotIdentifier": item.get(f"{kind}SnapshotIdentifier")})
            res = r[result] if r is not None else None
            item["_attrs"] = res.get(f"{kind}SnapshotAttributes") if isinstance(res, dict) else None
            item["_shared_with"] = restore_shares(item["_attrs"])
        else:
            item["_attrs"], item["_shared_with"] = None, []   # automated snapshots can't be shared
        set_encryption(item, item.get(encrypted), item.get("KmsKeyId"))
        return item
    return enrich


enrich_snapshot = snapshot_enricher("DB", "Encrypted")


def snapshot_rower(kind: str, columns: list[Col]) -> Callable[[Ctx, dict[str, Any], Parent | None], dict[str, Any]]:
    """`to_row` for DB and cluster snapshots: CloudQuery's columns, the ARN, attributes and tags."""
    def to_row(ctx: Ctx, item: dict[str, Any], parent: Parent | None) -> dict[str, Any]:
        row = project(item, columns)
        row["arn"] = item.get(f"{kind}SnapshotArn")
        row["attributes"] = item.get("_attrs")
        row["tags"] = {t.get("Key"): t.get("Value") for t in item.get("TagList") or [] if isinstance(t, dict)}
        return row
    return to_row


DB_SNAPSHOTS = TableDef(
    name="aws_rds_db_snapshots", title="AWS RDS DB Snapshots", description=DOC + "API_DBSnapshot.html",
    columns=COLUMNS, pk_components=["arn"], api_calls=["rds:DescribeDBSnapshots", "rds:DescribeDBSnapshotAttributes"],
    scope="region", listing="rds:DescribeDBSnapshots", resolve=list_snapshots, enrich=enrich_snapshot,
    to_row=snapshot_rower("DB", COLUMNS),
    notes="Attributes are asked for manual snapshots only (automated snapshots can't be shared).",
)
