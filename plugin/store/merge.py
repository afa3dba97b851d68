"""`aws-encryption merge OUT IN [IN...]`: per-shard DuckDB files into one posture database.

For shards run on several machines, each into its own file: the rows keep their source name and
sync time, and a row present in several inputs (the same `_cq_id`) ends as the last input's. The
output is written in one transaction; inputs are opened read-only. A new output file is in DuckDB's
v1.4.0 storage format (plugin/store/files.py), whatever format the inputs are in.
"""

from __future__ import annotations

import datetime as dt

from .writer import DuckDBWriter
from .duckdb_types import add_cq_columns
from .files import check_database_path
from ..tables import all_tables


def merge(out: str, inputs: list[str]) -> dict[str, int]:
    for i in inputs:
        p = check_database_path(i)
        if not p.exists():
            from .files import NotWritableError
            raise NotWritableError(f"database {i} does not exist")
    counts: dict[str, int] = {}
    epoch = dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)
    with DuckDBWriter(out, attach=list(inputs)) as w:
        for i in inputs:
            for t in all_tables():
                schema = add_cq_columns(t.arrow_schema(), "", epoch)
                n = w.merge_from(i, t.name, schema)
                if n:
                    counts[t.name] = counts.get(t.name, 0) + n
    return counts
