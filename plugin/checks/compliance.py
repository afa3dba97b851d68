"""Compliance views: a framework's KMS and S3 controls, the checks that map to them, and per control
pass / fail / error / muted / no resources / not covered / not applicable (docs/compliance.md).

The catalogues are data, one YAML file per framework in plugin/checks/frameworks/: each control's
id, title and `scope` (kms, s3, or not-applicable with `why`). Which check maps to which control is
read from the checks' `compliance:` headers, never listed here, so a new check with a header joins
the view. Controls outside KMS and S3 are not catalogued; a header naming one is reported as
"mapped to ids this catalogue does not list" and its check is not run by `--compliance`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import yaml

from ..cli.strict_yaml import YamlSpecError, load_all
from .files import Check, CheckError
from .runner import CheckResult, Finding

FRAMEWORKS_DIR = Path(__file__).parent / "frameworks"
SCOPES = ("kms", "s3", "not-applicable")
# Worst first: a control is as bad as its worst finding, and muted failures are not a clean pass.
CONTROL_STATUSES = ("fail", "error", "muted", "pass", "no resources", "not covered", "not applicable")

_CONTROL_ID = re.compile(r"([A-Za-z0-9][A-Za-z0-9._-]*)\s*(.*)$", re.S)


@dataclass(frozen=True)
class Ref:
    """One `framework: control` of a check's header: `control` is the id, `remark` what follows it."""

    framework: str
    control: str
    remark: str = ""

    @property
    def text(self) -> str:
        return self.control + (f" ({self.remark})" if self.remark else "")


def refs(check: Check) -> list[Ref]:
    """The check's compliance references, with a control's remark apart from its id."""
    out = []
    for framework, control in check.compliance:
        m = _CONTROL_ID.match(control)
        cid, rest = (m.group(1), m.group(2).strip()) if m else (control, "")
        if rest.startswith("(") and rest.endswith(")"):
            rest = rest[1:-1].strip()
        out.append(Ref(framework, cid, rest))
    return out


def _norm(s: str) -> str:
    return " ".join(s.split()).casefold()


@dataclass(frozen=True)
class Control:
    id: str
    title: str
    scope: str
    why: str = ""


@dataclass(frozen=True)
class Framework:
    key: str                    # the file stem: what `--compliance` takes
    title: str
    names: tuple[str, ...]      # how `compliance:` headers name the framework
    controls: tuple[Control, ...]

    def claims(self, ref: Ref) -> bool:
        return _norm(ref.framework) in {_norm(n) for n in self.names}

    def control(self, cid: str) -> Control | None:
        return next((c for c in self.controls if c.id.casefold() == cid.casefold()), None)


@dataclass
class Mapping:
    """The checks mapped to each catalogued control, and the references to ids it does not list."""

    framework: Framework
    by_control: dict[str, list[tuple[Check, Ref]]] = field(default_factory=dict)
    unlisted: dict[str, list[Check]] = field(default_factory=dict)

    @property
    def checks(self) -> list[Check]:
        seen: dict[str, Check] = {}
        for pairs in self.by_control.values():
            for c, _ in pairs:
                seen.setdefault(c.id, c)
        return list(seen.values())


def map_checks(framework: Framework, checks: list[Check]) -> Mapping:
    m = Mapping(framework, {c.id: [] for c in framework.controls})
    for check in checks:
        for ref in refs(check):
            if not framework.claims(ref):
                continue
            control = framework.control(ref.control)
            if control is None:
                m.unlisted.setdefault(ref.control, [])
                if check not in m.unlisted[ref.control]:
                    m.unlisted[ref.control].append(check)
            elif all(c.id != check.id for c, _ in m.by_control[control.id]):
                m.by_control[control.id].append((check, ref))
    return m


# ---------------------------------------------------------------------------------------------
# The per-control view of a run

@dataclass
class ControlResult:
    control: Control
    status: str
    checks: list[tuple[Check, Ref]]
    counts: dict[str, int]              # findings of the mapped checks: pass, fail, error, skip, muted
    failed_to_run: list[str]


@dataclass
class ComplianceView:
    framework: Framework
    controls: list[ControlResult]
    unlisted: dict[str, list[str]]      # control id -> check ids

    def tally(self) -> dict[str, int]:
        out = {s: 0 for s in CONTROL_STATUSES}
        for c in self.controls:
            out[c.status] += 1
        return out


def evaluate(framework: Framework, results: list[CheckResult], status_of: Callable[[Check, Finding], str],
             loaded: list[Check] | None = None) -> ComplianceView:
    """Each catalogued control's status from the findings of the checks mapped to it (statuses as the
    report shows them, `muted` included). A check that failed to run makes its controls `error`.
    `loaded`: every check loaded, whose references to unlisted ids the view names (they did not run)."""
    ran = {r.check.id: r for r in results}
    mapping = map_checks(framework, [r.check for r in results])
    unlisted = map_checks(framework, loaded).unlisted if loaded is not None else mapping.unlisted
    out = []
    for control in framework.controls:
        pairs = mapping.by_control[control.id]
        counts = {s: 0 for s in ("pass", "fail", "error", "skip", "muted")}
        broken = []
        for check, _ in pairs:
            r = ran[check.id]
            if r.error:
                broken.append(check.id)
                counts["error"] += 1
                continue
            for f in r.rows:
                counts[status_of(check, f)] += 1
        if not pairs:
            status = "not applicable" if control.scope == "not-applicable" else "not covered"
        else:
            status = next((s for s in ("fail", "error", "muted", "pass") if counts[s]), "no resources")
        out.append(ControlResult(control, status, pairs, counts, broken))
    return ComplianceView(framework, out, {k: [c.id for c in v] for k, v in unlisted.items()})


# ---------------------------------------------------------------------------------------------
# The catalogues

def framework_keys(directory: Path = FRAMEWORKS_DIR) -> list[str]:
    return sorted(p.stem for p in directory.glob("*.yaml"))


def load_framework(key: str, directory: Path = FRAMEWORKS_DIR) -> Framework:
    """The catalogue `key` (`--compliance KEY`); CheckError (exit 2) for an unknown key or a bad file."""
    keys = framework_keys(directory)
    if key not in keys:
        raise CheckError(f"--compliance: unknown framework {key!r} (one of {', '.join(keys) or 'none installed'})")
    path = directory / f"{key}.yaml"
    try:
        docs = load_all(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, YamlSpecError, yaml.YAMLError) as e:
        raise CheckError(f"{path}: cannot read the catalogue ({str(e).splitlines()[0][:160]})") from None
    if len(docs) != 1 or not isinstance(docs[0], dict):
        raise CheckError(f"{path}: expected one mapping (framework:, title:, names:, controls:)")
    return _framework(key, path, docs[0])


def _framework(key: str, path: Path, d: dict[str, Any]) -> Framework:
    def bad(what: str) -> CheckError:
        return CheckError(f"{path}: {what}")

    if set(d) != {"title", "names", "controls"}:
        raise bad("expected exactly the keys title, names, controls")
    if not isinstance(d["title"], str) or not isinstance(d["names"], list) or not d["names"] \
            or not all(isinstance(n, str) and n for n in d["names"]):
        raise bad("title: a string; names: a non-empty list of strings")
    controls, seen = [], set()
    for i, c in enumerate(d["controls"] or [], 1):
        if not isinstance(c, dict) or not {"id", "title", "scope"} <= set(c) <= {"id", "title", "scope", "why"}:
            raise bad(f"control {i}: expected id, title, scope and (for not-applicable) why")
        if c["scope"] not in SCOPES or (c["scope"] == "not-applicable") != bool(c.get("why")):
            raise bad(f"control {c.get('id')}: scope is one of {', '.join(SCOPES)}; why is given for "
                      "not-applicable, and only there")
        if not all(isinstance(c[k], str) and c[k] for k in c) or c["id"].casefold() in seen:
            raise bad(f"control {c.get('id')}: text values, and each id once")
        seen.add(c["id"].casefold())
        controls.append(Control(c["id"], c["title"], c["scope"], c.get("why", "")))
    return Framework(key, d["title"], tuple(d["names"]), tuple(controls))
