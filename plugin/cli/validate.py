"""`aws-encryption validate SPEC [SPEC...]`: everything `aws-encryption sync` checks before its first AWS
call, and nothing else: no credentials are loaded and no AWS call is made.

1. The spec files (`yaml_specs.load`): YAML, `${VAR}` expansion, the source and destination documents,
   every field of the plugin spec.
2. The database (`sync.check_before_sync`): its directory exists and is writable, an existing file is
   a DuckDB database that no other process holds.
3. The tables (`--tables` / `--skip-tables` or the spec's lists): every pattern matches a table.

Valid: one line naming what a sync would do, exit 0. Otherwise the one line `sync` would print, exit 2.
"""

from __future__ import annotations

from ..checks.report.safe_text import for_terminal
from ..source.spec import Spec
from .yaml_specs import SyncPlan, load


def _regions(spec: Spec) -> str:
    if not spec.regions or spec.regions == ["*"]:
        return "every enabled region"
    shown = ", ".join(spec.regions[:4])
    return f"regions {shown}" + (f" and {len(spec.regions) - 4} more" if len(spec.regions) > 4 else "")


def _accounts(spec: Spec) -> str:
    parts = []
    if spec.org is not None:
        parts.append("the organisation's member accounts")
    if spec.accounts:
        parts.append(f"{len(spec.accounts)} account{'s' if len(spec.accounts) != 1 else ''}")
    return " and ".join(parts) or "the default credentials' account"


def validate(files: list[str], tables: list[str] | None = None, skip_tables: list[str] | None = None) -> str:
    """The one line for a valid spec; raises SpecFileError / ValueError (table patterns) / WriterError
    (the database file) with the line `sync` would print."""
    from ..tables.schema import walk
    from .sync import check_before_sync

    plan: SyncPlan = load(files)
    selections = check_before_sync(plan, tables=tables, skip_tables=skip_tables)
    sources = []
    for src, defs in selections[:3]:
        n = len(walk(defs))
        sources.append(f"source {src.name}: {_accounts(src.spec)}, {_regions(src.spec)}, {n} table{'s' if n != 1 else ''}")
    if len(selections) > 3:
        sources.append(f"and {len(selections) - 3} more sources")
    line = (f"{', '.join(files[:3])}{' ...' if len(files) > 3 else ''}: valid; {'; '.join(sources)}; "
            f"into {plan.db_path} ({plan.write_mode}); no AWS call was made")
    return for_terminal(line).replace("\n", " ").replace("\t", " ")
