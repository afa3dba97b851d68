"""Views the bundled checks share (`queries/views/*.sql`, one `CREATE OR REPLACE TEMP VIEW` each),
created on every read-only connection the checks and `aws-encryption sql` open: what several checks
need to agree on is written once. They are temporary (the posture file is never changed) and plain
SQL: in a DuckDB shell, `.read queries/views/<name>.sql` first (docs/check-format.md)."""

from __future__ import annotations

import duckdb

from .files import bundled_queries_dir


def create_views(con: duckdb.DuckDBPyConnection) -> None:
    """Create the shared views. One that can't be made (a table it reads is missing from an older
    file) is left out: the checks that use it then fail to run, which is an error of those checks."""
    d = bundled_queries_dir() / "views"
    for f in sorted(d.glob("*.sql")) if d.is_dir() else []:
        try:
            con.execute(f.read_text())
        except duckdb.Error:
            pass
