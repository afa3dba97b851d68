"""The tags of resources, read from the posture database, for mutelist entries with `tags:`.

Every table of the default schema with an `arn` and a `tags` column is read (keys, buckets, secrets,
queues, topics, snapshots, vaults, IAM; whatever a sync or another writer put there), so new tables
need no change here. A resource's tags are *known* when one of its rows has a non-NULL `tags`
holding a {key: value} map (or CloudQuery's [{Key, Value}] list); NULL means the sync did not read
them (AWS managed keys, a denied call, S3's "no tag set"), and then they are unknown.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Iterable

from .runner import open_read_only


def resource_tags(db_path: str | Path, arns: Iterable[str]) -> dict[str, dict[str, str]]:
    """ARN -> tags, for those of `arns` whose tags the database holds; the others are unknown."""
    wanted = sorted({a for a in arns if a})
    if not wanted:
        return {}
    con = open_read_only(db_path)
    try:
        tables = [r[0] for r in con.execute("""
            SELECT table_name FROM information_schema.columns
            WHERE table_catalog = current_database() AND table_schema = 'main'
            GROUP BY table_name HAVING count(*) FILTER (WHERE column_name = 'arn') = 1
                                   AND count(*) FILTER (WHERE column_name = 'tags') = 1
            ORDER BY table_name""").fetchall()]
        out: dict[str, dict[str, str]] = {}
        for t in tables:
            quoted = '"' + t.replace('"', '""') + '"'
            rows = con.execute(f"SELECT arn, CAST(tags AS VARCHAR) FROM {quoted} "
                               "WHERE tags IS NOT NULL AND list_contains(?, arn)", [wanted]).fetchall()
            for arn, raw in rows:
                tags = _as_map(raw)
                if tags is not None and arn not in out:
                    out[arn] = tags
        return out
    finally:
        con.close()


def _as_map(raw: Any) -> dict[str, str] | None:
    try:
        v = json.loads(raw) if isinstance(raw, str) else raw
    except ValueError:
        return None
    if isinstance(v, dict):
        return {str(k): "" if x is None else str(x) for k, x in v.items()}
    if isinstance(v, list) and all(isinstance(x, dict) and "Key" in x for x in v):
        return {str(x["Key"]): "" if x.get("Value") is None else str(x["Value"]) for x in v}
    return None
