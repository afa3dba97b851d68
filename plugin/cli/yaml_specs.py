"""Read the CloudQuery YAML spec files that `cloudquery sync` reads, for `aws-encryption sync`.

The same files work for both paths. What we take from them:
- every `kind: source` document (run in-process as our plugin; its `spec:` is our plugin spec);
- the `kind: destination` documents the sources name; exactly one, and it must be DuckDB (its
  `path` names duckdb: `aws-encryption-duckdb` or the hub's `cloudquery/duckdb`). Its
  `write_mode` and `spec.connection_string` are used. No destination: `./posture.duckdb`.
- `${VAR}` is replaced by the environment variable, as the CLI does: textually, before the YAML is
  parsed, so `max_retries: ${N}` gives a number. An unset variable is an error. The one exception:
  `${VAR}` inside a YAML comment (`#` at the start of a line or after a space, outside quotes and
  block scalars) is left as written, set or not, so a commented-out line can't break the file.

The file is read strictly (plugin/cli/strict_yaml.py): at most MAX_FILE_BYTES of UTF-8; values only of
the kinds JSON has (a date is an error, not a datetime); each key once per mapping; string keys;
bounded depth and size with aliases expanded. Booleans are true or false: `"false"` is an error,
not true. `spec:` of a source or destination is a mapping.

Every problem is a SpecFileError naming the file and the field, one line of at most ~250 bytes,
raised before any AWS call.
"""

from __future__ import annotations

import bisect
import os
import re
from dataclasses import dataclass, field
from typing import Any

import yaml

from ..source.spec import Spec, SpecError, one_line, parse_spec, show, unknown_field
from .strict_yaml import YamlSpecError, load_all, not_valid_yaml

DEFAULT_DB = "./posture.duckdb"
MAX_FILE_BYTES = 1 << 20  # a spec is a few KB; 1 MiB holds thousands of explicit accounts

# Field -> expected type; "strings" is a list of strings. Fields CloudQuery defines that we don't
# use are still type-checked, so that a typo fails here as it would in `cloudquery sync`.
SOURCE_FIELDS: dict[str, str] = {
    "name": "string", "path": "string", "registry": "string", "version": "string", "tables": "strings",
    "skip_tables": "strings", "skip_dependent_tables": "bool", "destinations": "strings", "spec": "mapping",
    "deterministic_cq_id": "bool", "otel_endpoint": "string", "otel_endpoint_insecure": "bool",
    "backend_options": "mapping", "docker_registry_auth_token": "string",
}
DEST_FIELDS: dict[str, str] = {
    "name": "string", "path": "string", "registry": "string", "version": "string", "write_mode": "string",
    "migrate_mode": "string", "pk_mode": "string", "spec": "mapping", "send_sync_summary": "bool",
    "sync_group_id": "string", "docker_registry_auth_token": "string",
}
DEST_SPEC_FIELDS: dict[str, str] = {"connection_string": "string", "batch_size": "count",
                                    "batch_size_bytes": "count", "debug": "bool", "duckdb_storage_version": "string"}
_EXPECTED = {"string": "a string", "bool": "true or false (unquoted)", "strings": "a list of strings",
             "mapping": "a mapping", "count": "an integer >= 0"}
WRITE_MODES = ("overwrite-delete-stale", "overwrite", "append")
_VAR = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


class SpecFileError(ValueError):
    """A spec file that can't be used; one line naming the file and field."""

    def __init__(self, msg: str) -> None:
        super().__init__(one_line(msg))


@dataclass
class SourcePlan:
    name: str
    spec: Spec
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
    # The destination's duckdb_storage_version (`cloudquery sync` honours it there): it must agree with
    # the sources' (plugin/store/files.py storage_version_of).
    storage_version: str | None = None


# ---------------------------------------------------------------------------------------------
# Text: read, decode, expand ${VAR}


def _read(file: str) -> str:
    try:
        with open(file, "rb") as fh:
            data = fh.read(MAX_FILE_BYTES + 1)  # bounded: /dev/zero or a huge file is not a spec
    except OSError as e:
        raise SpecFileError(f"{file}: cannot read spec file ({e.strerror or type(e).__name__})") from None
    if len(data) > MAX_FILE_BYTES:
        raise SpecFileError(f"{file}: larger than {MAX_FILE_BYTES >> 20} MiB; expected a spec file")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise SpecFileError(f"{file}: not UTF-8 (byte 0x{data[e.start]:02x} at offset {e.start}); "
                            "expected a UTF-8 YAML file") from None


def _in_comments(text: str, matches: list[re.Match]) -> set[int]:
    """Start offsets of the matches that lie inside YAML comments.

    YAML's scanner skips comments, so whatever no token covers is a comment (or blank). Each
    `${VAR}` is replaced by letters of the same length first, so the text scans as it will parse
    and offsets stay the same.
    """
    chars = list(text)
    for m in matches:
        chars[m.start():m.end()] = "x" * (m.end() - m.start())
    spans = []
    try:
        for t in yaml.scan("".join(chars), Loader=yaml.SafeLoader):  # streamed: tokens are not kept
            start, end = t.start_mark.index, t.end_mark.index
            if isinstance(t, yaml.ScalarToken) and t.style in ("|", ">"):
                # a block scalar's token starts at `|`; a comment may follow on that line, the text on the next
                start = text.find("\n", start, end) + 1 or end
            if end > start:
                spans.append((start, end))
    except yaml.YAMLError:
        return set()  # not YAML even so: expand everywhere and let the parser report it
    spans.sort()
    starts = [s for s, _ in spans]
    out = set()
    for m in matches:
        i = bisect.bisect_right(starts, m.start()) - 1
        if i < 0 or not spans[i][0] <= m.start() < spans[i][1]:
            out.add(m.start())
    return out


def _expand(text: str, file: str) -> str:
    matches = list(_VAR.finditer(text))
    if not matches:
        return text
    comments = _in_comments(text, matches)

    def sub(m: re.Match) -> str:
        if m.start() in comments:
            return m.group(0)
        v = os.environ.get(m.group(1))
        if v is None:
            line = text.count("\n", 0, m.start()) + 1
            raise SpecFileError(f"{file}: line {line}: environment variable {m.group(1)} is not set "
                                f"(used as ${{{m.group(1)}}}); expected it to be set")
        return v

    return _VAR.sub(sub, text)


def _parse(text: str, file: str) -> list[Any]:
    try:
        return load_all(text)
    except YamlSpecError as e:
        raise SpecFileError(f"{file}: {e}") from None
    except yaml.YAMLError as e:
        raise SpecFileError(f"{file}:{not_valid_yaml(e)}") from None


# ---------------------------------------------------------------------------------------------
# Documents and their fields


def _check_fields(file: str, where: str, obj: dict[str, Any], types: dict[str, str]) -> None:
    """Unknown fields and wrongly typed values (null means not set) are errors."""
    for k in obj:
        if k not in types:
            raise SpecFileError(unknown_field(f"{file}: {where}", k, types))
    for k, kind in types.items():
        v = obj.get(k)
        if v is None:
            continue
        ok = {"string": isinstance(v, str), "bool": isinstance(v, bool), "mapping": isinstance(v, dict),
              "strings": isinstance(v, list) and all(isinstance(x, str) for x in v),
              "count": isinstance(v, int) and not isinstance(v, bool) and v >= 0}[kind]
        if not ok:
            raise SpecFileError(f"{file}: {where}: field {k}: expected {_EXPECTED[kind]}, got {show(v)}")


def _documents(file: str, text: str) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The `spec:` mappings of the file's source and destination documents."""
    sources, dests = [], []
    for i, d in enumerate(_parse(_expand(text, file), file), 1):
        if d is None:
            continue
        if not isinstance(d, dict) or "kind" not in d or "spec" not in d:
            raise SpecFileError(f"{file}: document {i}: expected a mapping with `kind:` and `spec:`, got {show(d)}")
        kind, spec = d["kind"], d["spec"]
        if kind not in ("source", "destination"):
            raise SpecFileError(f"{file}: document {i}: kind: expected source or destination, got {show(kind)}")
        if spec is None:
            spec = {}
        if not isinstance(spec, dict):
            raise SpecFileError(f"{file}: document {i} (kind: {kind}): spec: expected a mapping of the {kind}'s "
                                f"fields (name:, path:, ...), got {show(spec)}")
        (sources if kind == "source" else dests).append(spec)
    return sources, dests


def _short(v: Any) -> str:
    s = v if isinstance(v, str) else show(v)
    return s if len(s) <= 40 else s[:39] + "\u2026"


def _get(obj: dict[str, Any], key: str, default: Any) -> Any:
    """The value of `key`; null (`key:` with nothing after it) means not set."""
    v = obj.get(key)
    return default if v is None else v


def _source(file: str, s: dict[str, Any], names: dict[str, str]) -> SourcePlan:
    name = s.get("name")
    if not isinstance(name, str) or not name:
        raise SpecFileError(f"{file}: source: field name: required; expected a non-empty string, got {show(name)}")
    where = f"source {_short(name)}"
    _check_fields(file, where, s, SOURCE_FIELDS)
    if name in names:
        raise SpecFileError(f"{file}: two sources are named {_short(name)!r} (also in {names[name]}); "
                            "source names must be unique")
    names[name] = file
    raw = s.get("spec") or {}
    try:
        spec = parse_spec(raw)
    except SpecError as e:
        raise SpecFileError(f"{file}: {where}: {e}") from None
    return SourcePlan(name=name, spec=spec, tables=s.get("tables") or ["*"],
                      skip_tables=s.get("skip_tables") or [],
                      skip_dependent_tables=_get(s, "skip_dependent_tables", True), file=file)


def _destination(file: str, d: dict[str, Any], plan: SyncPlan) -> None:
    where = f"destination {_short(_get(d, 'name', '?'))}"
    path = _get(d, "path", "")
    if "duckdb" not in path.lower():
        raise SpecFileError(f"{file}: {where} is not DuckDB (path {show(path)}); "
                            "aws-encryption sync writes DuckDB only, use `cloudquery sync` for other destinations")
    dspec = d.get("spec") or {}
    _check_fields(file, f"{where}: spec", dspec, DEST_SPEC_FIELDS)
    cs = _get(dspec, "connection_string", DEFAULT_DB)
    if not cs or cs.startswith("md:"):
        raise SpecFileError(f"{file}: {where}: spec.connection_string: expected a local file path, got {show(cs)}")
    plan.db_path = cs
    sv = _get(dspec, "duckdb_storage_version", None)
    if sv is not None:
        from ..store.formats import STORAGE_VERSIONS
        if sv not in STORAGE_VERSIONS:
            raise SpecFileError(f"{file}: {where}: spec.duckdb_storage_version: expected one of "
                                f"{', '.join(STORAGE_VERSIONS)}, got {show(sv)}")
        plan.storage_version = sv
    wm = _get(d, "write_mode", "overwrite-delete-stale")
    if wm not in WRITE_MODES:
        raise SpecFileError(f"{file}: {where}: write_mode: expected one of {', '.join(WRITE_MODES)}, got {show(wm)}")
    plan.write_mode = wm
    mm = _get(d, "migrate_mode", "safe")
    if mm not in ("safe", "forced"):
        raise SpecFileError(f"{file}: {where}: migrate_mode: expected safe or forced, got {show(mm)}")
    plan.migrate_mode = mm


def load(files: list[str]) -> SyncPlan:
    """The sync plan of the spec files; raises SpecFileError (one line) for any problem."""
    try:
        return _load(files)
    except SpecFileError:
        raise
    except Exception as e:  # noqa: BLE001 - the last resort: a bad spec is one line and exit 2, never a traceback
        raise SpecFileError(f"{', '.join(files)}: cannot use the spec ({type(e).__name__}: {e})") from None


def _load(files: list[str]) -> SyncPlan:
    sources: list[tuple[str, dict[str, Any]]] = []
    dests: list[tuple[str, dict[str, Any]]] = []
    for f in files:
        src, dst = _documents(f, _read(f))
        sources += [(f, s) for s in src]
        dests += [(f, d) for d in dst]
    if not sources:
        raise SpecFileError(f"{', '.join(files)}: no `kind: source` document; expected one for aws-encryption")
    for f, d in dests:
        _check_fields(f, f"destination {_short(_get(d, 'name', '?'))}", d, DEST_FIELDS)

    plan = SyncPlan()
    names: dict[str, str] = {}
    wanted_dests: set[str] = set()
    for f, s in sources:
        plan.sources.append(_source(f, s, names))
        wanted_dests.update(s.get("destinations") or [])

    chosen = [(f, d) for f, d in dests if not wanted_dests or d.get("name") in wanted_dests]
    missing = wanted_dests - {d.get("name") for _, d in dests}
    if dests and missing:
        raise SpecFileError(f"{files[0]}: the source names destination {_short(sorted(missing)[0])!r}, "
                            "which no `kind: destination` document defines")
    if len(chosen) > 1:
        raise SpecFileError(f"{chosen[1][0]}: more than one destination "
                            f"({', '.join(_short(_get(d, 'name', '?')) for _, d in chosen[:5])}); "
                            "aws-encryption sync writes one DuckDB file")
    if chosen:
        _destination(*chosen[0], plan)
    return plan
