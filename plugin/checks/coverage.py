"""What the latest sync read: aws_encryption_sync_coverage as data for the report and the exit status
(see plugin/tables/aws_encryption/sync_coverage.py)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import duckdb



# ---------------------------------------------------------------------------------------------
# Coverage: what the latest sync read (aws_encryption_sync_coverage, see plugin/tables/aws_encryption/sync_coverage.py)

COVERAGE_TABLE = "aws_encryption_sync_coverage"
ORG_TABLE = "aws_organizations_accounts"


@dataclass
class UnreadScope:
    """One account set-up, listing or discovery the latest sync could not read."""

    account_id: str
    region: str
    table_name: str
    operation: str          # service:Operation
    error_code: str
    message: str
    kept_rows: int | None   # rows of earlier syncs kept for it (None: not known, another writer)
    kept_sync_time: dt.datetime | None

    @property
    def where(self) -> str:
        if self.table_name == ORG_TABLE:
            return "organisation discovery"
        who = f"account {self.account_id}" if self.account_id else "the default credentials' account"
        return who + (f" region {self.region}" if self.region else "") + (
            f" {self.table_name}" if self.table_name else "")


@dataclass
class AccountData:
    """How fresh one account's data is: `read` (all of it by the latest sync), `partly read`, `not read`."""

    account_id: str
    status: str
    synced: dt.datetime | None          # the latest sync that touched it
    oldest_data: dt.datetime | None     # the oldest sync time among its kept rows (None: all fresh, or none kept)


@dataclass
class Coverage:
    available: bool                     # the database has aws_encryption_sync_coverage
    unread: list[UnreadScope] = field(default_factory=list)
    accounts: list[AccountData] = field(default_factory=list)
    sync_time: dt.datetime | None = None

    @property
    def complete(self) -> bool:
        return self.available and not self.unread


def read_coverage(con: duckdb.DuckDBPyConnection) -> Coverage:
    """The latest sync's coverage rows: per scope its newest sync (older rows linger with write_mode
    overwrite/append), `error` winning over `ok` for a scope read by several shard processes."""
    exists = con.execute("SELECT count(*) FROM duckdb_tables() WHERE database_name = current_database() "
                         "AND schema_name = 'main' AND table_name = ?", [COVERAGE_TABLE]).fetchone()[0]
    if not exists:
        return Coverage(available=False)
    rows = con.execute(f"""
        WITH latest AS (
            SELECT c.*, max(c._cq_sync_time) OVER (PARTITION BY c._cq_source_name, c.account_id, c.region,
                                                   c.table_name) AS newest
            FROM {COVERAGE_TABLE} c)
        SELECT account_id, region, table_name, service || ':' || operation, status, error_code, message,
               kept_rows, kept_sync_time, _cq_sync_time
        FROM latest WHERE _cq_sync_time = newest
        ORDER BY account_id, region, table_name, operation""").fetchall()
    cov = Coverage(available=True)
    per_account: dict[str, list[tuple[Any, ...]]] = {}
    for r in rows:
        account, region, table, op, status, code, msg, kept, kept_time, synced = r
        if cov.sync_time is None or (synced is not None and synced > cov.sync_time):
            cov.sync_time = synced
        if status == "error":
            cov.unread.append(UnreadScope(account, region, table, op, code or "", msg or "", kept, kept_time))
        if account and table != ORG_TABLE:
            per_account.setdefault(account, []).append(r)
    for account, rs in per_account.items():
        setup_ok = any(r[2] == "" and r[4] == "ok" for r in rs)
        failed = [r for r in rs if r[4] == "error"]
        status = "read" if not failed else ("partly read" if setup_ok else "not read")
        kept_times = [r[8] for r in failed if r[8] is not None]
        cov.accounts.append(AccountData(account, status, max((r[9] for r in rs if r[9] is not None), default=None),
                                        min(kept_times) if kept_times else None))
    return cov


