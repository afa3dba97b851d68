"""aws_encryption_sync_coverage: what the sync read and what it could not, per scope (ours).

A scope is one account's set-up (credentials, identity, region discovery), one listing of one
account and region (ListKeys, ListAliases), or one account-wide listing (ListBuckets), or the
organisation's discovery. Each becomes one row, `ok` or `error`, so that an unread account, region or
listing is data the checks can join (the bundled `sync_coverage` check turns each `error` row into an
`error` finding, and `aws-encryption check` fails the run on them unless `--allow-incomplete`).

`tables` names the tables whose rows the scope produces. When a scope fails, the DuckDB writer
keeps those tables' rows of that account (and region, when the scope has one) from earlier syncs
instead of deleting them as stale, counts them in `kept_rows` and records their sync time in
`kept_sync_time`: how old the data of an unread scope is. (docs/usage.md, "Coverage: what the sync could not read".)

Synced whenever any table is, unless listed in `skip_tables`, like aws_encryption_sync_errors.
"""

from __future__ import annotations

from ..schema import INT, STR, STR_LIST, TS, Col, TableDef

OK, ERROR = "ok", "error"

SYNC_COVERAGE = TableDef(
    name="aws_encryption_sync_coverage", title="aws-encryption Sync Coverage",
    description="One row per scope the sync had to read (account set-up, each listing per account and "
                "region, organisation discovery), ok or error (ours).",
    columns=[
        Col("account_id", STR, "Account of the scope; '' for the organisation or unresolved default credentials "
                               "(then every account)"),
        Col("region", STR, "Region of the scope; '' for account-wide scopes (set-up, global listings)"),
        Col("table_name", STR, "Table the listing fills; '' for account set-up"),
        Col("service", STR, "AWS service of the call that decides the scope, e.g. kms"),
        Col("operation", STR, "The listing or set-up call, e.g. ListKeys, AssumeRole, DescribeRegions"),
        Col("status", STR, "ok: read completely; error: not read, or only partly"),
        Col("error_code", STR, "Why not (AccessDenied, RegionUnavailable, PaginationLoop, ...); '' when ok"),
        Col("message", STR, "Error message (credentials redacted); '' when ok"),
        Col("resources", INT, "Items the listing returned (ok listings); NULL for set-up"),
        Col("tables", STR_LIST, "Tables whose rows this scope produces (kept from earlier syncs when it fails)"),
        Col("kept_rows", INT, "error scopes: rows of earlier syncs kept instead of deleted as stale (set by the "
                              "DuckDB writer; NULL with other destinations)"),
        Col("kept_sync_time", TS, "error scopes: the newest sync time among the kept rows: how old this scope's "
                                  "data is"),
    ],
    pk_components=["account_id", "region", "table_name", "operation", "status"],
    api_calls=[],
    notes="One row per scope and status: a scope read by several shard processes, once with success and "
          "once without, has both rows, and `error` wins. Failed per-resource calls are in "
          "aws_encryption_sync_errors, not here.",
)
