"""Mutelists: findings a team has accepted, named in a YAML file (`check --mutelist FILE`).

The file is a list of entries; each names a check (id, glob or `*`), an account, a region, resource
patterns and tags, a required `reason` and an optional `expires` date. The format and its meaning
are in docs/mutelist.md. Loading validates everything before any check runs: a bad file is one
MutelistError line (exit 2) naming the file, the entry and the field.

Only `fail` and `error` findings of checks that ran are muted (a pass has nothing to hide; a check
that failed to run is a tool error, not a finding). The first live entry that matches a finding
mutes it; entries past their date mute nothing and are reported, as are live entries that matched
nothing. `today` is passed in (the report's date), never read from the clock here.
"""

from __future__ import annotations

import datetime as dt
import difflib
import re
from dataclasses import dataclass, field
from typing import Any, Iterable

import yaml

from ..cli.strict_yaml import MAX_NODES, YamlSpecError, _Checker, _Loader, not_valid_yaml
from ..source.spec import one_line, show, unknown_field
from .files import CheckError
from .runner import CheckResult, Finding

MAX_FILE_BYTES = 1 << 20
MAX_REASON = 500
MAX_PATTERN = 2048
FIELDS = ("check", "account", "region", "resources", "tags", "reason", "expires")
MUTABLE = ("fail", "error")

_CHECK_PATTERN = re.compile(r"[a-z0-9_*?]+")
_ACCOUNT_PATTERN = re.compile(r"[0-9*?]+")
_REGION_PATTERN = re.compile(r"[a-z0-9*?-]+")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_TIMESTAMP = "tag:yaml.org,2002:timestamp"


class MutelistError(CheckError):
    """A mutelist that can't be used: one line naming the file, the entry and the field (exit 2)."""

    def __init__(self, msg: str) -> None:
        super().__init__(one_line(msg))


class _DatesAsText(_Loader):
    """The spec loader's limits (depth, size, aliases), but `expires: 2026-12-31` stays the text written:
    we parse the date ourselves, in one format, instead of YAML's timestamp rules."""


_DatesAsText.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != _TIMESTAMP]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()}


def _glob(pattern: str) -> re.Pattern[str]:
    """`*` any run of characters, `?` one character, everything else literal; the whole string must match."""
    return re.compile("".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern), re.S)


@dataclass(frozen=True)
class MuteEntry:
    index: int                          # 1-based position in the file
    line: int | None
    check: str
    reason: str
    account: str = "*"
    region: str = "*"
    resources: tuple[str, ...] = ("*",)
    tags: tuple[tuple[str, str], ...] = ()
    expires: dt.date | None = None

    @property
    def label(self) -> str:
        """`entry 3 (line 12; check X, resource Y)`: how messages and reports name the entry."""
        what = [f"check {_short(self.check)}"]
        if self.resources != ("*",):
            what.append(f"resource {_short(self.resources[0])}" + (" ..." if len(self.resources) > 1 else ""))
        where = f"line {self.line}; " if self.line else ""
        return f"entry {self.index} ({where}{', '.join(what)})"

    def live(self, today: dt.date) -> bool:
        """An entry mutes through its `expires` day (UTC) and not after."""
        return self.expires is None or today <= self.expires

    def matches(self, check_id: str, f: Finding, tags: dict[str, str] | None) -> bool:
        """Whether this entry names the finding. `tags` are the resource's tags, None when unknown: an
        entry with tags never matches a finding whose tags are unknown."""
        if not (_glob(self.check).fullmatch(check_id) and _glob(self.account).fullmatch(f.account_id)
                and _glob(self.region).fullmatch(f.region)
                and any(_glob(p).fullmatch(f.resource_arn) for p in self.resources)):
            return False
        if not self.tags:
            return True
        if tags is None:
            return False
        return all(k in tags and _glob(v).fullmatch(tags[k]) for k, v in self.tags)


@dataclass
class Mutelist:
    path: str
    entries: list[MuteEntry]

    @property
    def uses_tags(self) -> bool:
        return any(e.tags for e in self.entries)

    def check_ids(self, known: Iterable[str]) -> None:
        """An exact check id (no `*` or `?`) that no loaded check has is a typo that would mute nothing."""
        known = set(known)
        for e in self.entries:
            if not any(c in e.check for c in "*?") and e.check not in known:
                close = difflib.get_close_matches(e.check, sorted(known), n=1)
                hint = f" (did you mean {close[0]}?)" if close else ""
                raise MutelistError(f"{self.path}: {e.label}: field check: no loaded check has the id "
                                    f"{e.check!r}{hint}; expected a check id, a pattern such as s3_*, or *")


@dataclass
class Muting:
    """What a mutelist did to one run: the muted findings, and the entries to report."""

    mutelist: Mutelist
    today: dt.date
    muted: dict[tuple[str, str, str, str], MuteEntry] = field(default_factory=dict)
    matched: dict[int, int] = field(default_factory=dict)       # entry index -> findings it muted
    expired: list[tuple[MuteEntry, int]] = field(default_factory=list)  # with the findings it would mute
    unused: list[MuteEntry] = field(default_factory=list)

    def entry_for(self, check_id: str, f: Finding) -> MuteEntry | None:
        if f.status not in MUTABLE:
            return None
        return self.muted.get((check_id, f.resource_arn, f.account_id, f.region))

    @property
    def count(self) -> int:
        return sum(self.matched.values())


def apply_mutelist(mutelist: Mutelist, results: list[CheckResult], today: dt.date,
                   tags: dict[str, dict[str, str]] | None = None) -> Muting:
    """Match every fail and error finding against the entries, in file order. `tags`: resource ARN ->
    its tags, for the resources whose tags the database holds (plugin/checks/tags.py)."""
    tags = tags or {}
    live = [e for e in mutelist.entries if e.live(today)]
    dead = [e for e in mutelist.entries if not e.live(today)]
    out = Muting(mutelist, today, matched={e.index: 0 for e in live})
    would = {e.index: 0 for e in dead}
    for r in results:
        if r.error:  # the check failed to run: its one finding is a tool error, never muted
            continue
        for f in r.rows:
            if f.status not in MUTABLE:
                continue
            key = (r.check.id, f.resource_arn, f.account_id, f.region)
            t = tags.get(f.resource_arn)
            hit = next((e for e in live if e.matches(r.check.id, f, t)), None)
            if hit is not None:
                if key not in out.muted:
                    out.muted[key] = hit
                out.matched[hit.index] += 1
                continue
            for e in dead:
                if e.matches(r.check.id, f, t):
                    would[e.index] += 1
    out.expired = [(e, would[e.index]) for e in dead]
    out.unused = [e for e in live if not out.matched[e.index]]
    return out


# ---------------------------------------------------------------------------------------------
# Loading

def load_mutelist(path: str) -> Mutelist:
    """The mutelist in `path`; MutelistError (one line) for anything wrong."""
    try:
        with open(path, "rb") as fh:
            data = fh.read(MAX_FILE_BYTES + 1)
    except OSError as e:
        raise MutelistError(f"--mutelist {path}: cannot read the file ({e.strerror or type(e).__name__})") from None
    if len(data) > MAX_FILE_BYTES:
        raise MutelistError(f"{path}: larger than {MAX_FILE_BYTES >> 20} MiB; expected a mutelist YAML file")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise MutelistError(f"{path}: not UTF-8 (byte 0x{data[e.start]:02x} at offset {e.start})") from None
    doc, lines = _parse(path, text)
    if doc is None:
        raise MutelistError(f"{path}: empty; expected a list of entries (- check: ..., reason: ...), "
                            "or [] for none")
    if not isinstance(doc, list):
        raise MutelistError(f"{path}: expected a list of entries (- check: ..., reason: ...), got {show(doc)}")
    return Mutelist(path, [_entry(path, i, raw, lines[i - 1]) for i, raw in enumerate(doc, 1)])


def _parse(path: str, text: str) -> tuple[Any, list[int | None]]:
    """One YAML document, read with the spec files' limits; with the line of each top-level item."""
    loader = _DatesAsText(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None, []
        _Checker(MAX_NODES).walk(node)
        lines = [n.start_mark.line + 1 for n in node.value] if isinstance(node, yaml.SequenceNode) else []
        return loader.construct_document(node), lines
    except YamlSpecError as e:
        raise MutelistError(f"{path}: {e}") from None
    except yaml.YAMLError as e:
        raise MutelistError(f"{path}:{not_valid_yaml(e)}") from None
    finally:
        loader.dispose()


def _short(v: Any, n: int = 40) -> str:
    s = v if isinstance(v, str) else show(v)
    return s if len(s) <= n else s[: n - 1] + "\u2026"


def _entry(path: str, index: int, raw: Any, line: int | None) -> MuteEntry:
    where = f"entry {index}" + (f" (line {line})" if line else "")
    if not isinstance(raw, dict):
        raise MutelistError(f"{path}: {where}: expected a mapping (check:, reason:, ...), got {show(raw)}")
    check, resources = raw.get("check"), raw.get("resources")
    what = [f"check {_short(check)}"] if isinstance(check, str) else []
    if isinstance(resources, list) and resources and isinstance(resources[0], str):
        what.append(f"resource {_short(resources[0])}")
    if what:
        where = f"entry {index} (" + (f"line {line}; " if line else "") + ", ".join(what) + ")"

    def bad(name: str, expected: str, got: Any) -> MutelistError:
        return MutelistError(f"{path}: {where}: field {name}: expected {expected}, got {show(got)}")

    for k in raw:
        if k not in FIELDS:
            raise MutelistError(unknown_field(f"{path}: {where}", k, FIELDS))
    for k in ("check", "reason"):
        if raw.get(k) is None:
            raise MutelistError(f"{path}: {where}: field {k}: required; expected "
                                + ("a check id, a pattern such as s3_*, or *" if k == "check"
                                   else "why the finding is accepted (a ticket, an owner)"))
    check = _pattern(raw["check"], _CHECK_PATTERN, "a check id, a pattern such as s3_*, or *", bad, "check")
    account = _pattern(raw.get("account", "*"), _ACCOUNT_PATTERN,
                       "a quoted 12-digit account id or a pattern such as \"1111*\"", bad, "account")
    region = _pattern(raw.get("region", "*"), _REGION_PATTERN, "a region or a pattern such as eu-*", bad, "region")
    res = raw.get("resources", ["*"])
    if not isinstance(res, list) or not res:
        raise bad("resources", "a list of ARN patterns (- arn:aws:s3:::bucket-*)", res)
    pats = tuple(_text(p, "resources", "an ARN or a pattern such as arn:aws:s3:::logs-*", bad) for p in res)
    tags_raw = raw.get("tags") or {}
    if not isinstance(tags_raw, dict):
        raise bad("tags", "a mapping of tag key to value pattern (team: data)", tags_raw)
    tags = []
    for k, v in tags_raw.items():
        if not isinstance(v, str) or len(v) > 256 or _CONTROL.search(v):
            raise bad(f"tags.{_short(k)}", "a quoted tag value or pattern of at most 256 characters", v)
        if not k.strip() or len(k) > 128 or _CONTROL.search(k):
            raise bad("tags", "tag keys of 1 to 128 characters", k)
        tags.append((k, v))
    reason = raw["reason"]
    if not isinstance(reason, str) or not reason.strip():
        raise bad("reason", "why the finding is accepted, as text (a ticket, an owner)", reason)
    reason = " ".join(reason.split())  # one line in every report, whatever the YAML folding
    if len(reason) > MAX_REASON or re.search(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]", reason):
        raise bad("reason", f"printable text of at most {MAX_REASON} characters", _short(reason))
    if check == "*" and account == "*" and region == "*" and pats == ("*",) and not tags:
        raise MutelistError(f"{path}: {where}: check * with no account, region, resources or tags would mute "
                            "every finding; expected at least one of them to narrow it")
    return MuteEntry(index, line, check, reason, account, region, pats, tuple(tags),
                     _date(raw.get("expires"), bad))


def _text(v: Any, name: str, expected: str, bad: Any) -> str:
    if not isinstance(v, str) or not v or len(v) > MAX_PATTERN or re.search(r"\s", v) or _CONTROL.search(v):
        raise bad(name, expected, v)
    return v


def _pattern(v: Any, rx: re.Pattern[str], expected: str, bad: Any, name: str) -> str:
    if not isinstance(v, str) or not rx.fullmatch(v):
        raise bad(name, expected, v)
    return v


def _date(v: Any, bad: Any) -> dt.date | None:
    if v is None:
        return None
    if isinstance(v, str) and _DATE.fullmatch(v.strip()):
        try:
            return dt.date.fromisoformat(v.strip())
        except ValueError:
            pass
    raise bad("expires", "a date YYYY-MM-DD (the last day the entry mutes)", v)
