"""Check files: plain SQL with a metadata header; loading, parameters and selection.

Bundled checks are `queries/*.sql` (`bundled_queries_dir()`); `--queries DIR` adds the user's own.
The file format (header keys, continuation lines, `/*param:NAME*/DEFAULT` parameters and
`--param`) is specified in docs/check-format.md; errors name the file and the header key.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable


import plugin



SEVERITIES: tuple[str, ...] = ("critical", "high", "medium", "low", "info")
SEVERITY_RANK: dict[str, int] = {s: len(SEVERITIES) - i for i, s in enumerate(SEVERITIES)}  # info=1 .. critical=5
STATUSES: tuple[str, ...] = ("pass", "fail", "skip", "error")
OUR_TABLES: tuple[str, ...] = ("aws_kms_keys", "aws_s3_buckets", "aws_encryption_sync_errors",
                               "aws_encryption_sync_coverage")
REQUIRED_COLUMNS: tuple[str, ...] = ("resource_arn", "account_id", "region", "status", "reason")

REQUIRED_KEYS: tuple[str, ...] = ("id", "title", "severity", "description", "remediation")
OPTIONAL_KEYS: tuple[str, ...] = ("resource_type", "risk", "remediation_cli", "references", "compliance",
                                  "peers", "params")
KNOWN_KEYS = REQUIRED_KEYS + OPTIONAL_KEYS

_ID_RE = re.compile(r"[a-z0-9_]+")
_KEY_LINE = re.compile(r"-- ([a-z_][a-z0-9_]*):(?:[ \t]+(.*)|[ \t]*)$")
_CONTINUATION = re.compile(r"--[ \t]{2,}(\S.*)$")
_PARAM_NAME = re.compile(r"[a-z_][a-z0-9_]*")
_NUMBER = re.compile(r"-?\d+(?:\.\d+)?")
_MARKER = re.compile(r"/\*param:([^*]*)\*/")
_LITERAL = re.compile(r"-?\d+(?:\.\d+)?|'(?:[^']|'')*'")


class CheckError(ValueError):
    """Bad input for the check runner (check file, parameter, selection, database): one line, exit 2."""


class CheckFileError(CheckError):
    """A check file that cannot be loaded; the message names the file and the header key."""


@dataclass
class Check:
    """One check: its header metadata, its SQL (with the parameter markers) and where it came from."""

    id: str
    title: str
    severity: str
    description: str
    remediation: str
    sql: str
    path: Path
    resource_type: str = ""
    risk: str = ""
    remediation_cli: str = ""
    references: list[str] = field(default_factory=list)
    compliance: list[tuple[str, str]] = field(default_factory=list)  # (framework, control)
    peers: list[str] = field(default_factory=list)
    params: dict[str, str] = field(default_factory=dict)  # name -> default, as written in `params:`
    bundled: bool = False

    @property
    def source_uri(self) -> str:
        """The check file as a repository-relative URI: `queries/<id>.sql` for bundled checks,
        else the path relative to the working directory (absolute if outside it), with `/`."""
        if self.bundled:
            return f"queries/{self.path.name}"
        return display_path(self.path).replace("\\", "/")



def display_path(p: Path) -> str:
    try:
        return str(p.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(p)


def bundled_queries_dir() -> Path:
    """`queries/` at the repository root in a checkout, else `queries/` inside the installed package."""
    root = Path(plugin.__file__).parent.parent / "queries"
    if root.exists():
        return root
    return Path(plugin.__file__).parent / "queries"


# ---------------------------------------------------------------------------------------------
# Loading

def load_checks(dirs: Iterable[Path]) -> list[Check]:
    """Every `*.sql` file of each directory (or the file itself), sorted by name within a directory.

    Raises CheckError for a directory that does not exist, CheckFileError for a bad file and
    CheckError for an id defined twice."""
    bundled = bundled_queries_dir().resolve()
    checks: list[Check] = []
    seen: dict[str, Path] = {}
    for d in dirs:
        d = Path(d)
        if d.is_file():
            files = [d]
        elif d.is_dir():
            files = sorted(p for p in d.glob("*.sql") if p.is_file())
        else:
            raise CheckError(f"check directory {d} does not exist")
        is_bundled = d.resolve() == bundled
        for f in files:
            c = parse_check_file(f, bundled=is_bundled)
            if c.id in seen:
                raise CheckError(f"check {c.id} is defined twice: {display_path(seen[c.id])} and {display_path(f)}")
            seen[c.id] = f
            checks.append(c)
    return checks


def parse_check_file(path: Path, bundled: bool = False) -> Check:
    where = display_path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise CheckFileError(f"{where}: not UTF-8 text") from None
    except OSError as e:
        raise CheckFileError(f"{where}: cannot read: {e.strerror or e}") from None
    return parse_check(text, path, bundled=bundled)


def parse_check(text: str, path: Path, bundled: bool = False) -> Check:
    where = display_path(path)

    def bad(key: str, problem: str) -> CheckFileError:
        return CheckFileError(f"{where}: header key '{key}': {problem}")

    lines = text.splitlines()
    i = 0
    while i < len(lines) and not lines[i].strip():
        i += 1
    header: dict[str, str] = {}
    current: str | None = None
    while i < len(lines):
        line = lines[i].rstrip()
        cont = _CONTINUATION.match(line)
        if cont and current is not None:
            header[current] = (header[current] + " " + cont.group(1).strip()).strip()
            i += 1
            continue
        m = _KEY_LINE.match(line)
        if not m:
            break
        key, value = m.group(1), (m.group(2) or "").strip()
        if key not in KNOWN_KEYS:
            raise bad(key, f"unknown key (known: {', '.join(KNOWN_KEYS)})")
        if key in header:
            raise bad(key, "given twice")
        header[key] = value
        current = key
        i += 1
    sql = "\n".join(lines[i:]).strip()
    if not header:
        raise CheckFileError(f"{where}: no metadata header (the file must start with '-- id: {path.stem}')")
    for key in REQUIRED_KEYS:
        if key not in header:
            raise bad(key, "missing (required: " + ", ".join(REQUIRED_KEYS) + ")")
    for key, value in header.items():
        if not value:
            raise bad(key, "empty value")

    cid = header["id"]
    if not _ID_RE.fullmatch(cid):
        raise bad("id", f"'{cid}' must match [a-z0-9_]+")
    if cid != path.stem:
        raise bad("id", f"'{cid}' differs from the file name '{path.name}' (the id must equal the file stem)")
    severity = header["severity"]
    if severity not in SEVERITIES:
        raise bad("severity", f"'{severity}' is not one of {', '.join(SEVERITIES)}")

    references = _split(header.get("references", ""), ",")
    for r in references:
        if not re.match(r"https?://\S+$", r):
            raise bad("references", f"'{r}' is not an http(s) URL")
    compliance: list[tuple[str, str]] = []
    for item in _split(header.get("compliance", ""), ";"):
        framework, control = split_ref(item)
        if not framework or not control:
            raise bad("compliance", f"'{item}' is not 'framework: control'")
        compliance.append((framework, control))
    peers = _split(header.get("peers", ""), ";")
    params: dict[str, str] = {}
    for item in _split(header.get("params", ""), ","):
        name, sep, default = item.partition("=")
        name, default = name.strip(), default.strip()
        if not sep or not _PARAM_NAME.fullmatch(name) or not default:
            raise bad("params", f"'{item}' is not name=default (name matching [a-z_][a-z0-9_]*)")
        if name in params:
            raise bad("params", f"'{name}' declared twice")
        params[name] = default

    if not sql:
        raise CheckFileError(f"{where}: no SQL after the header")
    _check_markers(sql, params, bad)
    return Check(id=cid, title=header["title"], severity=severity, description=header["description"],
                 remediation=header["remediation"], sql=sql, path=path,
                 resource_type=header.get("resource_type", ""), risk=header.get("risk", ""),
                 remediation_cli=header.get("remediation_cli", ""), references=references,
                 compliance=compliance, peers=peers, params=params, bundled=bundled)


def split_ref(text: str) -> tuple[str, str]:
    """`framework: control text`, split at the last colon outside parentheses, so that a remark such as
    `S3.17 (stricter: the key must be usable)` stays with its control (and a framework name may hold
    colons of its own)."""
    depth, cut = 0, -1
    for i, ch in enumerate(text):
        if ch in "([":
            depth += 1
        elif ch in ")]":
            depth = max(0, depth - 1)
        elif ch == ":" and depth == 0:
            cut = i
    if cut < 0:
        return "", text.strip()
    return text[:cut].strip(), text[cut + 1:].strip()


def _split(value: str, sep: str) -> list[str]:
    return [x.strip() for x in value.split(sep) if x.strip()]


def _unquote(literal: str) -> str:
    return literal[1:-1].replace("''", "'") if literal.startswith("'") else literal


def _check_markers(sql: str, params: dict[str, str], bad: Any) -> None:
    used: set[str] = set()
    for m in _MARKER.finditer(sql):
        name = m.group(1)
        if name not in params:
            raise bad("params", f"the SQL uses /*param:{name}*/ but params does not declare it")
        lit = _LITERAL.match(sql, m.end())
        if not lit:
            raise bad("params", f"/*param:{name}*/ must be followed directly by its default "
                                "(a number or a 'quoted string')")
        if _unquote(lit.group(0)) != _unquote(params[name]):
            raise bad("params", f"default of {name} is {params[name]} but the SQL has {lit.group(0)}")
        used.add(name)
    unused = sorted(set(params) - used)
    if unused:
        raise bad("params", f"declared but not used in the SQL as /*param:NAME*/default: {', '.join(unused)}")


def _default_literal(sql: str, name: str) -> str:
    for m in _MARKER.finditer(sql):
        if m.group(1) == name:
            lit = _LITERAL.match(sql, m.end())
            assert lit is not None  # validated at load time
            return lit.group(0)
    raise KeyError(name)


# ---------------------------------------------------------------------------------------------
# Selection and parameters

def parse_severity_filter(value: str) -> set[str]:
    """`high` means high and above; `medium,low` means exactly those."""
    items = [x.strip().lower() for x in value.split(",") if x.strip()]
    if not items:
        raise CheckError("--severity needs a severity or a comma-separated list of them")
    for s in items:
        if s not in SEVERITIES:
            raise CheckError(f"--severity: unknown severity '{s}' (one of {', '.join(SEVERITIES)})")
    if len(items) == 1:
        return {s for s in SEVERITIES if SEVERITY_RANK[s] >= SEVERITY_RANK[items[0]]}
    return set(items)


def select_checks(checks: list[Check], ids: Iterable[str] | None = None,
                  severities: set[str] | None = None) -> list[Check]:
    by_id = {c.id: c for c in checks}
    selected = checks
    if ids:
        wanted: list[str] = []
        for raw in ids:
            wanted.extend(x.strip() for x in raw.split(",") if x.strip())
        unknown = [w for w in wanted if w not in by_id]
        if unknown:
            known = ", ".join(sorted(by_id)) or "none loaded"
            raise CheckError(f"unknown check id {', '.join(unknown)} (known: {known})")
        keep = set(wanted)
        selected = [c for c in checks if c.id in keep]
    if severities is not None:
        selected = [c for c in selected if c.severity in severities]
    return selected


def parse_params(items: Iterable[str] | None) -> dict[str, str]:
    """`NAME=VALUE` strings (from `--param`) into a dict; a repeated name keeps the last value."""
    out: dict[str, str] = {}
    for item in items or []:
        name, sep, value = item.partition("=")
        name = name.strip()
        cid, dot, pname = name.rpartition(".")
        if not sep or not _PARAM_NAME.fullmatch(pname) or (dot and not _ID_RE.fullmatch(cid)):
            raise CheckError(f"--param {item}: expected NAME=VALUE or CHECK_ID.NAME=VALUE")
        out[name] = value
    return out


def validate_params(checks: list[Check], params: dict[str, str]) -> None:
    """Every name must be declared by one of `checks` (the CLI passes all loaded checks, so a --param
    for a check left out by --check/--severity is accepted); numeric defaults need numeric values."""
    pool = checks
    declared = {n for c in pool for n in c.params}
    ids = {c.id: c for c in pool}
    for key, value in params.items():
        if "." in key:
            cid, name = key.split(".", 1)
            if cid not in ids or name not in ids[cid].params:
                raise CheckError(f"--param {key}: check {cid} has no parameter {name}"
                                 + (f" (it has: {', '.join(ids[cid].params) or 'none'})" if cid in ids else ""))
            targets = [ids[cid]]
        else:
            if key not in declared:
                raise CheckError(f"--param {key}: no check declares a parameter {key}"
                                 + (f" (declared: {', '.join(sorted(declared))})" if declared else ""))
            targets = [c for c in pool if key in c.params]
        name = key.split(".", 1)[-1]
        for c in targets:
            if not _default_literal(c.sql, name).startswith("'") and not _NUMBER.fullmatch(value.strip()):
                raise CheckError(f"--param {key}={value}: {c.id} expects a number for {name}")


def render_sql(check: Check, params: dict[str, str] | None = None) -> tuple[str, dict[str, str]]:
    """The check's SQL with each `/*param:NAME*/DEFAULT` replaced by its value, and the values used."""
    params = params or {}
    used: dict[str, str] = {}

    def value_for(name: str) -> str | None:
        return params.get(f"{check.id}.{name}", params.get(name))

    out: list[str] = []
    pos = 0
    for m in _MARKER.finditer(check.sql):
        name = m.group(1)
        lit = _LITERAL.match(check.sql, m.end())
        assert lit is not None  # validated at load time
        default = lit.group(0)
        value = value_for(name)
        if value is None:
            rendered, shown = m.group(0) + default, _unquote(default)  # untouched: the file's SQL
        elif default.startswith("'"):
            rendered, shown = "'" + value.replace("'", "''") + "'", value
        else:
            v = value.strip()
            if not _NUMBER.fullmatch(v):
                raise CheckError(f"--param {name}={value}: {check.id} expects a number")
            rendered, shown = v, v
        out.append(check.sql[pos:m.start()])
        out.append(rendered)
        pos = lit.end()
        used[name] = shown
    out.append(check.sql[pos:])
    return "".join(out), used


