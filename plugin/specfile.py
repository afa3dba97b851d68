"""Read the CloudQuery YAML spec files that `cloudquery sync` reads, for `aws-encryption sync`.

The same files work for both paths. What we take from them:
- every `kind: source` document (run in-process as our plugin; its `spec:` is our plugin spec);
- the `kind: destination` documents the sources name; exactly one, and it must be DuckDB (its
  `path` names duckdb: `aws-encryption-duckdb` or the hub's `cloudquery/duckdb`). Its
  `write_mode` and `spec.connection_string` are used. No destination: `./posture.duckdb`.
- `${VAR}` is replaced by the environment variable, as the CLI does; an unset variable is an error.

Every problem is a `SpecFileError` naming the file and the field, raised before any AWS call.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from .spec import Spec, SpecError, parse_spec

DEFAULT_DB = "./posture.duckdb"
SOURCE_FIELDS = {"name", "path", "registry", "version", "tables", "skip_tables", "skip_dependent_tables",
                 "destinations", "spec", "deterministic_cq_id", "otel_endpoint", "otel_endpoint_insecure",
                 "backend_options", "docker_registry_auth_token"}
DEST_FIELDS = {"name", "path", "registry", "version", "write_mode", "migrate_mode", "pk_mode", "spec",
               "send_sync_summary", "sync_group_id", "docker_registry_auth_token"}
DEST_SPEC_FIELDS = {"connection_string", "batch_size", "batch_size_bytes", "debug"}
WRITE_MODES = ("overwrite-delete-stale", "overwrite", "append")
_VAR = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


class SpecFileError(ValueError):
    """A spec file that can't be used; one line naming the file and field."""


@dataclass
class SourcePlan:
    name: str
    spec: Spec
    raw_spec: dict[str, Any]
    tables: list[str]
    skip_tables: list[str]
    skip_dependent_tables: bool
    file: str


@dataclass
class SyncPlan:
    sources: list[SourcePlan] = field(default_factory=list)
    db_path: str = DEFAULT_DB
    write_mode: str = "overwrite-delete-stale"
    migrate_mode: str = "safe"


def _expand(text: str, file: str) -> str:
    def sub(m: re.Match) -> str:
        v = os.environ.get(m.group(1))
        if v is None:
            raise SpecFileError(f"{file}: environment variable {m.group(1)} is not set (used as ${{{m.group(1)}}})")
        return v

    return _VAR.sub(sub, text)


def _strlist(file: str, where: str, v: Any) -> list[str]:
    if v is None:
        return []
    if not isinstance(v, list) or not all(isinstance(x, str) for x in v):
        raise SpecFileError(f"{file}: {where}: expected a list of table names or patterns, got {v!r}")
    return v


def load(files: list[str]) -> SyncPlan:
    sources: list[tuple[str, dict[str, Any]]] = []
    dests: list[tuple[str, dict[str, Any]]] = []
    for f in files:
        p = Path(f)
        try:
            text = p.read_text()
        except OSError as e:
            raise SpecFileError(f"{f}: cannot read spec file ({e.strerror})") from None
        try:
            docs = list(yaml.safe_load_all(_expand(text, f)))
        except yaml.YAMLError as e:
            mark = getattr(e, "problem_mark", None)
            where = f" line {mark.line + 1}" if mark else ""
            raise SpecFileError(f"{f}:{where} not valid YAML ({getattr(e, 'problem', e)})") from None
        for i, d in enumerate(docs):
            if d is None:
                continue
            if not isinstance(d, dict) or "kind" not in d or "spec" not in d:
                raise SpecFileError(f"{f}: document {i + 1}: expected `kind:` and `spec:`")
            kind = d["kind"]
            if kind == "source":
                sources.append((f, d["spec"] or {}))
            elif kind == "destination":
                dests.append((f, d["spec"] or {}))
            else:
                raise SpecFileError(f"{f}: document {i + 1}: kind must be source or destination, got {kind!r}")
    if not sources:
        raise SpecFileError(f"{', '.join(files)}: no `kind: source` document; expected one for aws-encryption")

    plan = SyncPlan()
    names: dict[str, str] = {}
    wanted_dests: set[str] = set()
    for f, s in sources:
        if not isinstance(s, dict):
            raise SpecFileError(f"{f}: source spec: expected a mapping")
        unknown = sorted(set(s) - SOURCE_FIELDS)
        if unknown:
            raise SpecFileError(f"{f}: source {s.get('name', '?')}: unknown field {unknown[0]!r}")
        name = s.get("name")
        if not isinstance(name, str) or not name:
            raise SpecFileError(f"{f}: source: field name is required")
        if name in names:
            raise SpecFileError(f"{f}: two sources are named {name!r} (also in {names[name]}); "
                                "source names must be unique")
        names[name] = f
        try:
            spec = parse_spec(s.get("spec") or {})
        except SpecError as e:
            raise SpecFileError(f"{f}: source {name}: {e}") from None
        wanted_dests.update(_strlist(f, f"source {name}: destinations", s.get("destinations")))
        plan.sources.append(SourcePlan(
            name=name, spec=spec, raw_spec=s.get("spec") or {},
            tables=_strlist(f, f"source {name}: tables", s.get("tables")) or ["*"],
            skip_tables=_strlist(f, f"source {name}: skip_tables", s.get("skip_tables")),
            skip_dependent_tables=bool(s.get("skip_dependent_tables", True)), file=f))

    chosen = [(f, d) for f, d in dests if not wanted_dests or d.get("name") in wanted_dests]
    missing = wanted_dests - {d.get("name") for _, d in dests}
    if dests and missing:
        raise SpecFileError(f"{files[0]}: the source names destination {sorted(missing)[0]!r}, "
                            "which no `kind: destination` document defines")
    if len(chosen) > 1:
        raise SpecFileError(f"{chosen[1][0]}: more than one destination ({', '.join(str(d.get('name')) for _, d in chosen)}); "
                            "aws-encryption sync writes one DuckDB file")
    if chosen:
        f, d = chosen[0]
        unknown = sorted(set(d) - DEST_FIELDS)
        if unknown:
            raise SpecFileError(f"{f}: destination {d.get('name', '?')}: unknown field {unknown[0]!r}")
        path = str(d.get("path", ""))
        if "duckdb" not in path.lower():
            raise SpecFileError(f"{f}: destination {d.get('name', '?')} is not DuckDB (path {path!r}); "
                                "aws-encryption sync writes DuckDB only, use `cloudquery sync` for other destinations")
        dspec = d.get("spec") or {}
        if not isinstance(dspec, dict):
            raise SpecFileError(f"{f}: destination {d.get('name')}: spec: expected a mapping")
        unknown = sorted(set(dspec) - DEST_SPEC_FIELDS)
        if unknown:
            raise SpecFileError(f"{f}: destination {d.get('name')}: spec: unknown field {unknown[0]!r}")
        cs = dspec.get("connection_string", DEFAULT_DB)
        if not isinstance(cs, str) or not cs or cs.startswith("md:"):
            raise SpecFileError(f"{f}: destination {d.get('name')}: spec.connection_string: expected a local "
                                f"file path, got {cs!r}")
        plan.db_path = cs
        wm = d.get("write_mode", "overwrite-delete-stale")
        if wm not in WRITE_MODES:
            raise SpecFileError(f"{f}: destination {d.get('name')}: write_mode: expected one of "
                                f"{', '.join(WRITE_MODES)}, got {wm!r}")
        plan.write_mode = wm
        mm = d.get("migrate_mode", "safe")
        if mm not in ("safe", "forced"):
            raise SpecFileError(f"{f}: destination {d.get('name')}: migrate_mode: expected safe or forced, got {mm!r}")
        plan.migrate_mode = mm
    return plan
