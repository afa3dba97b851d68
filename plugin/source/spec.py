"""The plugin spec (the `spec:` block of the source), its validation and its JSON schema.

Field names and defaults follow the official CloudQuery AWS plugin (docs/cloudquery.md, "The spec"). Differences,
all deliberate:
- `accounts[].id` must be the 12-digit account id (the official plugin takes any alias there;
  we use `account_name` for the alias) so that a sync can verify it reached the right account.
- `concurrency` is the number of AWS calls in flight per process (threads), default 32, at most
  1024; the official default of 50000 goroutines would be 50000 threads in Python. 32 because one
  process is CPU-bound at 300-500 calls/s (botocore), so at 30-60 ms per call 15-30 calls in flight
  keep it busy, and more threads only add GIL hand-offs: against bench/fake_aws.py at 30 ms, the boto3
  floor made 803 calls/s with 2 processes at 32 threads and 483/s at 64 (bench/README.md). Raise it
  for slower links (cross-continent endpoints, proxies).
- `scheduler` and `use_paid_apis` are accepted for compatibility and have no effect: work is always
  interleaved across accounts and regions.
- `request_timeout` (seconds, ours) bounds connect and read time of every call, so one hanging
  region cannot stall the sync.
- Every number has an upper bound (`max_retries` <= 50, `max_backoff` and `request_timeout` <= 3600
  seconds, `initialization_concurrency` <= 256): a typo such as `request_timeout: 1e23` is an error,
  not a sync whose every call fails.
- `duckdb_storage_version` (ours): the DuckDB storage format of a file `aws-encryption sync`
  creates, v1.4.0 (default, opens in DuckDB 1.4 LTS and later) or latest; an existing file keeps its
  format. `cloudquery sync` takes it from the aws-encryption-duckdb destination's spec instead.
- Region names must be regions this botocore release knows (its partitions data); a typo is an
  error naming the closest known region. `extra_regions` (ours) lists regions newer than botocore.

Every error names the field (`accounts[1].role_arn`) and the expected form, is one line of at most
MAX_MESSAGE bytes (values in it are shortened), and is raised before any AWS call.
"""

from __future__ import annotations

import difflib
import functools
import json
import re
from dataclasses import dataclass, field
from typing import Any

from ..store.formats import DEFAULT_STORAGE_VERSION, STORAGE_VERSIONS

ACCOUNT_ID_RE = re.compile(r"^\d{12}$", re.ASCII)
ROLE_ARN_RE = re.compile(r"^arn:aws(-cn|-us-gov|-iso|-iso-b|-iso-e|-iso-f|-eusc)?:iam::\d{12}:role/[\w+=,.@/-]{1,512}$", re.ASCII)
# [a-z]{2,4}: eusc-de-east-1 (aws-eusc) has a four-letter prefix.
REGION_RE = re.compile(r"^[a-z]{2,4}(-[a-z]+)+-\d{1,2}$", re.ASCII)
OU_RE = re.compile(r"^((ou-[0-9a-z]{4,32}-[a-z0-9]{8,32})|(r-[0-9a-z]{4,32}))$", re.ASCII)
ROLE_NAME_RE = re.compile(r"^[\w+=,.@-]{1,64}$", re.ASCII)
SESSION_NAME_RE = re.compile(r"^[\w+=,.@-]{2,64}$", re.ASCII)
EXTERNAL_ID_RE = re.compile(r"^[\w+=,.@:/-]{2,1224}$", re.ASCII)
PARTITIONS = ("aws", "aws-cn", "aws-us-gov", "aws-iso", "aws-iso-b", "aws-iso-e", "aws-iso-f", "aws-eusc")
SCHEDULERS = ("dfs", "round-robin", "shuffle")
MAX_CONCURRENCY = 1024
MAX_RETRIES = 50
MAX_SECONDS = 3600
MAX_INIT_CONCURRENCY = 256
MAX_MESSAGE = 250  # bytes; errors are one stderr line or one gRPC status, never a dump of the input


def one_line(msg: str, limit: int = MAX_MESSAGE) -> str:
    """`msg` as one printable line of at most `limit` UTF-8 bytes (the last resort; values are shortened first)."""
    msg = "".join(c if c.isprintable() else ascii(c)[1:-1] for c in msg)
    b = msg.encode()
    return msg if len(b) <= limit else b[: limit - 3].decode("utf-8", "ignore") + "\u2026"


def _small(v: Any, budget: int) -> bool:
    """Whether `v` has at most `budget` values, found without walking more than that."""
    stack = [v]
    while stack:
        x = stack.pop()
        budget -= 1
        if budget < 0:
            return False
        if isinstance(x, dict):
            stack.extend(x.values())
        elif isinstance(x, (list, tuple)):
            stack.extend(x)
    return True


def show(v: Any, limit: int = 60) -> str:
    """A short rendering of a value for an error message: JSON, cut at `limit` characters.

    Never the repr of a large structure: an alias-expanded list once made a 7 MB message.
    """
    if isinstance(v, (dict, list, tuple)) and not _small(v, 20):
        return f"a {'mapping' if isinstance(v, dict) else 'list'} of {len(v)} entries"
    try:
        s = json.dumps(v, default=str, ensure_ascii=False)
    except (TypeError, ValueError, RecursionError):
        s = type(v).__name__
    return s if len(s) <= limit else s[: limit - 1] + "\u2026"


class SpecError(ValueError):
    """A spec that can't be used; the message names the field and what was expected."""

    def __init__(self, msg: str) -> None:
        super().__init__(one_line(msg))


@dataclass
class Account:
    id: str
    account_name: str = ""
    local_profile: str = ""
    role_arn: str = ""
    role_session_name: str = ""
    external_id: str = ""
    default_region: str = "us-east-1"
    regions: list[str] = field(default_factory=list)

    @property
    def label(self) -> str:
        return f"{self.id} ({self.account_name})" if self.account_name else self.id


@dataclass
class Credentials:
    local_profile: str = ""
    role_arn: str = ""
    role_session_name: str = ""
    external_id: str = ""


@dataclass
class Org:
    member_role_name: str
    admin_account: Credentials | None = None
    member_trusted_principal: Credentials | None = None
    member_role_session_name: str = ""
    member_external_id: str = ""
    member_regions: list[str] = field(default_factory=list)
    organization_units: list[str] = field(default_factory=list)
    skip_organization_units: list[str] = field(default_factory=list)
    skip_member_accounts: list[str] = field(default_factory=list)


@dataclass
class Spec:
    regions: list[str] = field(default_factory=list)
    accounts: list[Account] = field(default_factory=list)
    org: Org | None = None
    trusted_accounts: list[str] = field(default_factory=list)
    aws_debug: bool = False
    max_retries: int = 10
    max_backoff: int = 30
    initialization_concurrency: int = 4
    concurrency: int = 32
    request_timeout: int = 60
    scheduler: str = "shuffle"
    use_paid_apis: bool = False
    custom_endpoint_url: str = ""
    custom_endpoint_hostname_immutable: bool | None = None
    custom_endpoint_partition_id: str = ""
    custom_endpoint_signing_region: str = ""
    extra_regions: list[str] = field(default_factory=list)
    duckdb_storage_version: str = DEFAULT_STORAGE_VERSION

    @property
    def partition(self) -> str:
        return self.custom_endpoint_partition_id or "aws"


# ---------------------------------------------------------------------------------------------
# Field descriptions: (type, description). One table drives parsing, validation and the schema.

_ACCOUNT_FIELDS: dict[str, tuple[str, str]] = {
    "id": ("account_id", "12-digit AWS account id (required)"),
    "account_name": ("string", "alias shown in logs and progress"),
    "local_profile": ("string", "profile in ~/.aws/config or ~/.aws/credentials"),
    "role_arn": ("role_arn", "role to assume in this account, arn:aws:iam::<12 digits>:role/<name>"),
    "role_session_name": ("session_name", "session name for AssumeRole (2-64 characters)"),
    "external_id": ("external_id", "external id for AssumeRole"),
    "default_region": ("region", "region for global calls (STS, ListBuckets), default us-east-1"),
    "regions": ("regions", "regions of this account; overrides the top-level regions"),
}
_CRED_FIELDS: dict[str, tuple[str, str]] = {
    k: _ACCOUNT_FIELDS[k] for k in ("local_profile", "role_arn", "role_session_name", "external_id")
}
_ORG_FIELDS: dict[str, tuple[str, str]] = {
    "admin_account": ("credentials", "credentials allowed to list the organisation's accounts"),
    "member_trusted_principal": ("credentials", "credentials used to assume the member role"),
    "member_role_name": ("role_name", "name (not ARN) of the role to assume in every member account (required)"),
    "member_role_session_name": ("session_name", "session name for the member role"),
    "member_external_id": ("external_id", "external id for the member role"),
    "member_regions": ("regions", "regions to sync in member accounts"),
    "organization_units": ("ous", "OUs (ou-xxxx-xxxxxxxx) or roots (r-xxxx) to sync; nested OUs are walked"),
    "skip_organization_units": ("ous", "OUs to leave out"),
    "skip_member_accounts": ("account_ids", "account ids to leave out"),
}
_SPEC_FIELDS: dict[str, tuple[str, str]] = {
    "regions": ("regions", 'regions to sync; [] or ["*"] means every enabled region of the account'),
    "accounts": ("accounts", "accounts to sync; none means the default credentials' account"),
    "org": ("org", "AWS Organizations discovery (mutually exclusive with accounts)"),
    "trusted_accounts": ("account_ids", "accounts treated as inside the organisation by the policy analysis"),
    "aws_debug": ("bool", "log AWS requests and responses (secrets redacted); needs --log-level debug"),
    "max_retries": ("retries", f"retries per AWS call, default 10, at most {MAX_RETRIES}"),
    "max_backoff": ("seconds", f"seconds between retries at most, default 30, at most {MAX_SECONDS}"),
    "initialization_concurrency": ("init_concurrency", "accounts whose credentials are resolved in parallel, "
                                   f"default 4, at most {MAX_INIT_CONCURRENCY}"),
    "concurrency": ("concurrency", f"AWS calls in flight per process, default 32, at most {MAX_CONCURRENCY}"),
    "request_timeout": ("seconds", "seconds to connect or read before a call is retried or fails, default 60, "
                        f"at most {MAX_SECONDS}"),
    "scheduler": ("scheduler", "accepted for compatibility; work is always interleaved"),
    "use_paid_apis": ("bool", "accepted for compatibility; no paid APIs are called"),
    "custom_endpoint_url": ("url", "endpoint for every AWS service (moto, LocalStack, a proxy)"),
    "custom_endpoint_hostname_immutable": ("bool", "required with custom_endpoint_url; true for moto and LocalStack"),
    "custom_endpoint_partition_id": ("partition", "required with custom_endpoint_url, e.g. aws"),
    "custom_endpoint_signing_region": ("region", "required with custom_endpoint_url; region for global calls"),
    "extra_regions": ("extra_regions", "(ours) region names newer than this botocore release, accepted as known; "
                      "each must still look like a region"),
    "duckdb_storage_version": ("storage_version", "(ours) DuckDB storage format of a database file `aws-encryption "
                               "sync` creates: v1.4.0 opens in DuckDB 1.4 LTS and later, latest only in DuckDB 2.x; "
                               "an existing file keeps its format"),
}

# Integer kinds: (lowest, highest) accepted.
_INT_KINDS: dict[str, tuple[int, int]] = {
    "retries": (0, MAX_RETRIES),
    "seconds": (1, MAX_SECONDS),
    "init_concurrency": (1, MAX_INIT_CONCURRENCY),
    "concurrency": (1, MAX_CONCURRENCY),
}

_EXPECTED = {
    "string": "a string",
    "bool": "true or false",
    **{k: f"an integer from {lo} to {hi}" for k, (lo, hi) in _INT_KINDS.items()},
    "account_id": "a 12-digit account id in quotes, e.g. \"111122223333\"",
    "account_ids": "a list of 12-digit account ids in quotes",
    "role_arn": "a role ARN like arn:aws:iam::111122223333:role/name",
    "role_name": "a role name (not an ARN) of 1-64 characters [A-Za-z0-9+=,.@_-]",
    "session_name": "2-64 characters [A-Za-z0-9+=,.@_-]",
    "external_id": "2-1224 characters [A-Za-z0-9+=,.@:/_-]",
    "region": "a region name like us-east-1",
    "regions": 'a list of region names like ["us-east-1", "eu-west-1"], or ["*"]',
    "extra_regions": 'a list of region names like ["xx-east-1"]',
    "ous": "a list of OU ids (ou-xxxx-xxxxxxxx) or root ids (r-xxxx)",
    "url": "an http:// or https:// URL",
    "partition": "one of " + ", ".join(PARTITIONS),
    "scheduler": "one of " + ", ".join(SCHEDULERS),
    "storage_version": "one of " + ", ".join(STORAGE_VERSIONS),
}


def _fail(path: str, kind: str, got: Any) -> SpecError:
    return SpecError(f"spec field {path}: expected {_EXPECTED.get(kind, kind)}, got {show(got)}")


def _str(path: str, v: Any, kind: str = "string", pattern: re.Pattern | None = None) -> str:
    if not isinstance(v, str):
        raise _fail(path, kind, v)
    if pattern is not None and v != "" and not pattern.fullmatch(v):
        raise _fail(path, kind, v)
    return v


def _int(path: str, v: Any, kind: str) -> int:
    lo, hi = _INT_KINDS[kind]
    if isinstance(v, bool) or not isinstance(v, int) or not lo <= v <= hi:
        raise _fail(path, kind, v)
    return v


def _list(path: str, v: Any, kind: str) -> list:
    if v is None:
        return []
    if not isinstance(v, list):
        raise _fail(path, kind, v)
    return v


def _regions(path: str, v: Any) -> list[str]:
    out = []
    for i, r in enumerate(_list(path, v, "regions")):
        if r == "*":
            if i != 0:
                raise SpecError(f'spec field {path}[{i}]: "*" is allowed only as the first and only region')
            out.append(r)
            continue
        out.append(_str(f"{path}[{i}]", r, "region", REGION_RE))
        if r == "":
            raise _fail(f"{path}[{i}]", "region", r)
    if "*" in out and len(out) > 1:
        raise SpecError(f'spec field {path}: "*" must be the only region, got {show(out)}')
    return out


def _extra_regions(path: str, v: Any) -> list[str]:
    out = []
    for i, r in enumerate(_list(path, v, "extra_regions")):
        if not isinstance(r, str) or not REGION_RE.fullmatch(r):
            raise _fail(f"{path}[{i}]", "region", r)
        out.append(r)
    return out


@functools.cache
def known_regions() -> frozenset[str]:
    """Region names of every partition botocore knows (its partitions.json; endpoints.json on old releases)."""
    from botocore.loaders import create_loader

    loader = create_loader()
    for data in ("partitions", "endpoints"):
        try:
            partitions = loader.load_data(data)["partitions"]
        except Exception:  # noqa: BLE001 - a botocore without this file: try the other
            continue
        # `aws-global` and friends are endpoint names, not regions a resource lives in.
        return frozenset(r for p in partitions for r in p.get("regions", {}) if REGION_RE.fullmatch(r))
    return frozenset()


def _spec_regions(spec: Spec) -> list[tuple[str, str]]:
    """(field path, region) of every region name the spec gives, "*" left out."""
    out = [(f"regions[{i}]", r) for i, r in enumerate(spec.regions)]
    for j, a in enumerate(spec.accounts):
        out += [(f"accounts[{j}].regions[{i}]", r) for i, r in enumerate(a.regions)]
        out.append((f"accounts[{j}].default_region", a.default_region))
    if spec.org is not None:
        out += [(f"org.member_regions[{i}]", r) for i, r in enumerate(spec.org.member_regions)]
    out.append(("custom_endpoint_signing_region", spec.custom_endpoint_signing_region))
    return [(p, r) for p, r in out if r and r != "*"]


def _edits(a: str, b: str) -> int:
    """Levenshtein distance."""
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i]
        for j, cb in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb)))
        prev = cur
    return prev[-1]


def closest(name: str, known: frozenset[str] | set[str]) -> str:
    """The known name fewest edits away (at most 3), ties to the longest common prefix: us-eest-1 is
    one edit from both us-east-1 and us-west-1, and typos are rarer in the first letters."""
    def prefix(k: str) -> int:
        n = 0
        while n < min(len(k), len(name)) and k[n] == name[n]:
            n += 1
        return n

    scored = sorted((_edits(name, k), -prefix(k), k) for k in known)
    return scored[0][2] if scored and scored[0][0] <= 3 else ""


def _check_known_regions(spec: Spec) -> None:
    known = known_regions()
    if not known:  # botocore without partition data: the regex is all we have
        return
    allowed = known | set(spec.extra_regions)
    for path, r in _spec_regions(spec):
        if r not in allowed:
            close = closest(r, known) if len(r) <= 64 else ""  # the edit distance is quadratic
            hint = f" (closest known: {close})" if close else ""
            shown = r if len(r) <= 40 else r[:39] + "\u2026"
            raise SpecError(f"spec field {path}: unknown region {shown!r}{hint}; expected a region botocore "
                            "knows, or add it to extra_regions if it is newer than botocore")


def _account_ids(path: str, v: Any) -> list[str]:
    out = []
    for i, a in enumerate(_list(path, v, "account_ids")):
        if not isinstance(a, str) or not ACCOUNT_ID_RE.fullmatch(a):
            raise _fail(f"{path}[{i}]", "account_id", a)
        out.append(a)
    return out


def _check_keys(path: str, obj: Any, allowed: dict[str, Any], what: str) -> dict:
    if not isinstance(obj, dict):
        raise SpecError(f"spec field {path or 'spec'}: expected {what} (a mapping), got {show(obj)}")
    unknown = sorted((k for k in obj if k not in allowed), key=str)
    if unknown:
        raise SpecError(unknown_field(f"spec field {path}" if path else "spec", unknown[0], allowed))
    return obj


def unknown_field(where: str, name: Any, allowed: Any) -> str:
    """`<where>: unknown field 'x' (did you mean y?); allowed fields are ...`, the list shortened."""
    close = difflib.get_close_matches(name, list(allowed), n=1) if isinstance(name, str) else []
    hint = f" (did you mean {close[0]}?)" if close else ""
    names = ", ".join(allowed)
    if len(names) > 90:
        names = names[:90].rsplit(", ", 1)[0] + ", \u2026"
    shown = repr(name) if not isinstance(name, str) or len(name) <= 40 else repr(name[:39] + "…")
    return f"{where}: unknown field {shown}{hint}; allowed fields are {names}"


def _value(path: str, kind: str, v: Any) -> Any:
    if kind == "string":
        return _str(path, v)
    if kind == "bool":
        if not isinstance(v, bool):
            raise _fail(path, kind, v)
        return v
    if kind in _INT_KINDS:
        return _int(path, v, kind)
    if kind == "account_id":
        if not isinstance(v, str) or not ACCOUNT_ID_RE.fullmatch(v):
            raise _fail(path, kind, v)
        return v
    if kind == "account_ids":
        return _account_ids(path, v)
    if kind == "role_arn":
        return _str(path, v, kind, ROLE_ARN_RE)
    if kind == "role_name":
        return _str(path, v, kind, ROLE_NAME_RE)
    if kind == "session_name":
        return _str(path, v, kind, SESSION_NAME_RE)
    if kind == "external_id":
        return _str(path, v, kind, EXTERNAL_ID_RE)
    if kind == "region":
        return _str(path, v, kind, REGION_RE)
    if kind == "regions":
        return _regions(path, v)
    if kind == "extra_regions":
        return _extra_regions(path, v)
    if kind == "ous":
        out = []
        for i, o in enumerate(_list(path, v, kind)):
            if not isinstance(o, str) or not OU_RE.fullmatch(o):
                raise _fail(f"{path}[{i}]", "an OU id (ou-xxxx-xxxxxxxx) or root id (r-xxxx)", o)
            out.append(o)
        return out
    if kind == "url":
        s = _str(path, v, kind)
        if s and not re.fullmatch(r"https?://[^\s/]+(/\S*)?", s, re.ASCII):
            raise _fail(path, kind, v)
        return s
    if kind == "partition":
        s = _str(path, v, kind)
        if s and s not in PARTITIONS:
            raise _fail(path, kind, v)
        return s
    if kind == "scheduler":
        if v not in SCHEDULERS:
            raise _fail(path, kind, v)
        return v
    if kind == "storage_version":
        if not isinstance(v, str) or v not in STORAGE_VERSIONS:
            raise _fail(path, kind, v)
        return v
    raise AssertionError(kind)


def _parse_fields(path: str, obj: dict, fields: dict[str, tuple[str, str]]) -> dict[str, Any]:
    out = {}
    for k, v in obj.items():
        kind = fields[k][0]
        p = f"{path}.{k}" if path else k
        if v is None and kind not in ("credentials",):
            continue
        if kind == "credentials":
            if v is None:
                continue
            _check_keys(p, v, _CRED_FIELDS, "credentials")
            out[k] = Credentials(**_parse_fields(p, v, _CRED_FIELDS))
        elif kind == "accounts":
            out[k] = [_parse_account(f"{p}[{i}]", a) for i, a in enumerate(_list(p, v, "a list of accounts"))]
        elif kind == "org":
            out[k] = _parse_org(p, v)
        else:
            out[k] = _value(p, kind, v)
    return out


def _parse_account(path: str, obj: Any) -> Account:
    _check_keys(path, obj, _ACCOUNT_FIELDS, "an account")
    if obj.get("id") is None:
        raise SpecError(f"spec field {path}.id: required; expected {_EXPECTED['account_id']}")
    acc = Account(**_parse_fields(path, obj, _ACCOUNT_FIELDS))
    if acc.role_arn:
        arn_account = acc.role_arn.split(":")[4]
        if arn_account != acc.id:
            raise SpecError(f"spec field {path}.role_arn: the role is in account {arn_account}, "
                            f"but {path}.id is {acc.id}; expected a role in the same account")
    return acc


def _parse_org(path: str, obj: Any) -> Org:
    _check_keys(path, obj, _ORG_FIELDS, "an organisation")
    if not obj.get("member_role_name"):
        raise SpecError(f"spec field {path}.member_role_name: required; expected {_EXPECTED['role_name']}")
    return Org(**_parse_fields(path, obj, _ORG_FIELDS))


def parse_spec(raw: bytes | str | dict | None) -> Spec:
    """Parse and validate the plugin spec; raises SpecError naming the field."""
    if raw is None or raw in (b"", "", b"null", "null"):
        obj: Any = {}
    elif isinstance(raw, dict):
        obj = raw
    else:
        obj = _json(raw)
    if obj is None:
        obj = {}
    _check_keys("", obj, _SPEC_FIELDS, "the plugin spec")
    spec = Spec(**_parse_fields("", obj, _SPEC_FIELDS))
    if spec.org is not None and spec.accounts:
        raise SpecError("spec fields accounts and org: specifying accounts via both the accounts and org properties "
                        "is not supported; use two source configurations")
    ids = [a.id for a in spec.accounts]
    for i, a in enumerate(ids):
        if a in ids[:i]:
            raise SpecError(f"spec field accounts[{i}].id: account {a} is listed twice; expected each account once")
    if spec.custom_endpoint_url:
        missing = [k for k in ("custom_endpoint_partition_id", "custom_endpoint_signing_region")
                   if not getattr(spec, k)]
        if spec.custom_endpoint_hostname_immutable is None:
            missing.append("custom_endpoint_hostname_immutable")
        if missing:
            raise SpecError(f"spec field {missing[0]}: required when custom_endpoint_url is set; expected "
                            f"{_EXPECTED[_SPEC_FIELDS[missing[0]][0]]}")
    _check_known_regions(spec)
    return spec


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in pairs:
        if k in out:
            raise SpecError(f"spec: key {show(k)} appears twice in one object; expected each key once")
        out[k] = v
    return out


def _json(raw: bytes | str) -> Any:
    """JSON as the CLI sends it; duplicate keys and absurd nesting are errors, not a last-wins or a RecursionError."""
    text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else raw
    try:
        return json.loads(text, object_pairs_hook=_no_duplicates)
    except RecursionError:
        raise SpecError("spec: nested too deeply to parse; expected an ordinary spec") from None
    except ValueError as e:
        if isinstance(e, SpecError):
            raise
        raise SpecError(f"spec: not valid JSON ({e})") from None


# ---------------------------------------------------------------------------------------------
# JSON schema served through GetSpecSchema

def _nullable(sch: dict[str, Any]) -> dict[str, Any]:
    """null means "not set" to the parser, so the schema accepts it too."""
    if "$ref" in sch:
        return {"anyOf": [{"$ref": sch["$ref"]}, {"type": "null"}], "description": sch.get("description", "")}
    t = sch.get("type")
    if isinstance(t, str):
        return {**sch, "type": [t, "null"]}
    if "anyOf" in sch:
        return {**sch, "anyOf": [*sch["anyOf"], {"type": "null"}]}
    return sch


def _schema_of(kind: str, desc: str) -> dict[str, Any]:
    region = {"type": "string", "pattern": REGION_RE.pattern}
    m: dict[str, dict[str, Any]] = {
        "string": {"type": "string"},
        "bool": {"type": "boolean"},
        **{k: {"type": "integer", "minimum": lo, "maximum": hi} for k, (lo, hi) in _INT_KINDS.items()},
        "account_id": {"type": "string", "pattern": ACCOUNT_ID_RE.pattern},
        "account_ids": {"type": ["array", "null"], "items": {"type": "string", "pattern": ACCOUNT_ID_RE.pattern}},
        "role_arn": {"type": "string", "pattern": ROLE_ARN_RE.pattern},
        "role_name": {"type": "string", "pattern": ROLE_NAME_RE.pattern},
        "session_name": {"type": "string", "pattern": SESSION_NAME_RE.pattern},
        "external_id": {"type": "string", "pattern": EXTERNAL_ID_RE.pattern},
        "region": region,
        "regions": {"type": ["array", "null"], "items": {"anyOf": [region, {"const": "*"}]}},
        "extra_regions": {"type": ["array", "null"], "items": region},
        "ous": {"type": ["array", "null"], "items": {"type": "string", "pattern": OU_RE.pattern}},
        "url": {"type": "string", "pattern": r"^(https?://[^\s/]+(/\S*)?)?$"},
        "partition": {"type": "string", "enum": ["", *PARTITIONS]},
        "scheduler": {"type": "string", "enum": list(SCHEDULERS)},
        "storage_version": {"type": "string", "enum": list(STORAGE_VERSIONS)},
        "credentials": {"$ref": "#/$defs/credentials"},
        "accounts": {"type": ["array", "null"], "items": {"$ref": "#/$defs/account"}},
        "org": {"$ref": "#/$defs/org"},
    }
    return {**m[kind], "description": desc}


def _object(fields: dict[str, tuple[str, str]], required: list[str]) -> dict[str, Any]:
    return {
        "type": "object",
        "additionalProperties": False,
        "required": required,
        "properties": {k: (_schema_of(kind, d) if k in required else _nullable(_schema_of(kind, d)))
                       for k, (kind, d) in fields.items()},
    }


def json_schema() -> str:
    schema = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://github.com/aws-encryption/aws-encryption/plugin/spec",
        **_object(_SPEC_FIELDS, []),
        "$defs": {
            "account": _object(_ACCOUNT_FIELDS, ["id"]),
            "credentials": _object(_CRED_FIELDS, []),
            "org": _object(_ORG_FIELDS, ["member_role_name"]),
        },
    }
    return json.dumps(schema, indent=2)


# ---------------------------------------------------------------------------------------------
# The reference documentation (docs/spec.md is generated from these rows by plugin/cli/docs.py)

def fields_reference() -> list[dict[str, Any]]:
    """Every spec field, as rows: `field` (path: `regions`, `accounts[].id`, `org.member_role_name`,
    `credentials.role_arn`), `kind`, `expected` (the form error messages name), `default`, `required`
    and `description`, from the same declarations that drive parsing and the JSON schema."""
    import dataclasses

    def defaults(cls: type) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for f in dataclasses.fields(cls):
            if f.default is not dataclasses.MISSING:
                out[f.name] = f.default
            elif f.default_factory is not dataclasses.MISSING:
                out[f.name] = f.default_factory()
        return out

    rows = []
    for prefix, fields, cls in (("", _SPEC_FIELDS, Spec), ("accounts[].", _ACCOUNT_FIELDS, Account),
                                ("org.", _ORG_FIELDS, Org), ("credentials.", _CRED_FIELDS, Credentials)):
        d = defaults(cls)
        for name, (kind, desc) in fields.items():
            rows.append({"field": prefix + name, "kind": kind, "expected": _EXPECTED.get(kind, kind),
                         "default": d.get(name), "required": name not in d, "description": desc})
    return rows
