"""Bad spec files, run through the real command line: every one is exit 2 and ONE short stderr line,
never a traceback, never a request to AWS (a canary endpoint counts them) and never a database file.

The cases come from the adversarial review of commit 497d99d (M5, M6, L1-L3, L7):
YAML dates, sets and binary where strings or numbers belong, keys of mixed types, `spec:` as a list,
5,000 levels of nesting, alias bombs, duplicate keys, "false" for a boolean, unset `${VAR}`, numbers
without bounds, unknown regions and files that are not spec files at all. Every case runs through
`plugin.cli.yaml_specs.load` in-process; the cases with `cli=True` (most of them, one per kind of problem)
also run `python -m plugin.cli sync FILE` in a directory of their own, a few processes at a time.

The positive cases at the end (a `${VAR}` in a comment, `extra_regions`, `skip_dependent_tables:
false`) go through `plugin.cli.yaml_specs.load` in-process.
"""

from __future__ import annotations

import http.server
import os
import subprocess
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterator

import pytest

from plugin.cli.yaml_specs import SpecFileError, load

# ---------------------------------------------------------------------------------------------
# The canary: an HTTP server that only counts. Every spec points custom_endpoint_url at it, so any
# AWS call made before the spec was refused would show up here.


class _Canary(http.server.BaseHTTPRequestHandler):
    hits = 0
    lock = threading.Lock()

    def _count(self) -> None:
        with _Canary.lock:
            _Canary.hits += 1
        self.send_response(500)
        self.send_header("Content-Length", "0")
        self.end_headers()

    do_GET = do_POST = do_PUT = do_HEAD = do_DELETE = _count

    def log_message(self, *args: Any) -> None:  # quiet
        pass


@pytest.fixture(scope="module")
def canary() -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Canary)
    t = threading.Thread(target=server.serve_forever, daemon=True)
    t.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


# ---------------------------------------------------------------------------------------------
# Spec files. doc() is a valid spec; each case changes one thing. @ENDPOINT@ and @DB@ are filled in
# per case (the canary and a database path in the case's directory).

ACCOUNT = '      - id: "111111111111"\n'


def doc(plugin: str = "", source: str = "", dest: str = "", regions: str = "[us-east-1]",
        account: str = ACCOUNT) -> str:
    """A valid two-document spec file; `plugin`/`source`/`dest` are extra lines at 4/2/2 spaces."""
    return ("kind: source\n"
            "spec:\n"
            "  name: aws-encryption\n"
            "  path: aws-encryption\n"
            "  registry: local\n"
            "  version: v0.1.0\n"
            "  destinations: [duckdb]\n"
            f"{source}"
            "  spec:\n"
            f"    regions: {regions}\n"
            "    accounts:\n"
            f"{account}"
            "    custom_endpoint_url: @ENDPOINT@\n"
            "    custom_endpoint_hostname_immutable: true\n"
            "    custom_endpoint_partition_id: aws\n"
            "    custom_endpoint_signing_region: us-east-1\n"
            "    max_retries: 0\n"
            "    request_timeout: 2\n"
            f"{plugin}"
            "---\n"
            "kind: destination\n"
            "spec:\n"
            "  name: duckdb\n"
            "  path: aws-encryption-duckdb\n"
            "  registry: local\n"
            "  version: v0.1.0\n"
            f"{dest}"
            "  spec:\n"
            "    connection_string: @DB@\n")


def replaced(old: str, new: str) -> str:
    text = doc()
    assert text.count(old) == 1, old
    return text.replace(old, new)


def _bomb(levels: int, refs: int) -> str:
    """The review's alias bomb: anchors in backend_options, `tables:` the last one (refs**levels names)."""
    lines = ["  backend_options:\n", f"    a1: &x1 [{', '.join(['aws_kms_keys'] * refs)}]\n"]
    for i in range(2, levels + 1):
        lines.append(f"    a{i}: &x{i} [{', '.join([f'*x{i - 1}'] * refs)}]\n")
    lines.append(f"  tables: *x{levels}\n")
    return "".join(lines)


BIG_BOMB = doc(source=_bomb(9, 9))     # 9**9 = 387 million table names, ~650 bytes of anchors
SMALL_BOMB = doc(source=_bomb(4, 10))  # 10,000 names: within the size limit, so `tables` itself is refused

LIST_SPEC = ("kind: source\nspec:\n  - name: aws-encryption\n    path: aws-encryption\n"
             "    spec:\n      regions: [us-east-1]\n")


def _directory(d: Path) -> Path:
    (d / "spec.yml").mkdir()
    return d / "spec.yml"


def _missing(d: Path) -> Path:
    return d / "no-such-spec.yml"


def _through_a_file(d: Path) -> Path:
    (d / "plain").write_text("x")
    return d / "plain" / "spec.yml"


def _bytes(data: bytes) -> Callable[[Path], Path]:
    def make(d: Path) -> Path:
        (d / "spec.yml").write_bytes(data)
        return d / "spec.yml"
    return make


@dataclass
class Case:
    id: str
    spec: str | Callable[[Path], Path]  # YAML text, or makes the file (or not-a-file) in the directory
    expected: str                        # in the stderr line: what was wrong, where, or what was expected
    # Through the command line as well as in-process. A process costs ~1 s of CPU (the CLI imports
    # the sync machinery before it reads the spec), so variations of a covered case run in-process only.
    cli: bool = True


CASES: list[Case] = [
    # YAML values JSON has no word for
    Case("date-where-number", replaced("    max_retries: 0\n", "    max_retries: 2024-01-01\n"),
         "line 16, field spec.spec.max_retries: '2024-01-01' is a date or time"),
    Case("datetime-where-number", replaced("    request_timeout: 2\n", "    request_timeout: 2024-01-01T10:00:00Z\n"),
         "field spec.spec.request_timeout: '2024-01-01T10:00:00Z' is a date or time", cli=False),
    Case("date-where-string", doc(account='      - id: "111111111111"\n        account_name: 2001-02-03\n'),
         "field spec.spec.accounts[0].account_name: '2001-02-03' is a date or time, which a spec has no use for; "
         "quote it", cli=False),
    Case("set-where-list", doc(regions="!!set {us-east-1, eu-west-1}"),
         "field spec.spec.regions: a !!set; expected a list"),
    Case("binary-where-string", doc(account='      - id: !!binary MTExMTExMTExMTEx\n'),
         "field spec.spec.accounts[0].id: 'MTExMTExMTExMTEx' is !!binary data"),
    Case("python-tag", replaced("    max_retries: 0\n", "    max_retries: !!python/name:os.system\n"),
         "field spec.spec.max_retries: tag tag:yaml.org,2002:python/name:os.system is not supported"),
    Case("custom-tag", doc(plugin="    aws_debug: !env DEBUG\n"),
         "field spec.spec.aws_debug: tag !env is not supported",
         cli=False),
    Case("ordered-map", doc(plugin="    trusted_accounts: !!omap [a: 1]\n"),
         "field spec.spec.trusted_accounts: an !!omap; expected a mapping", cli=False),
    # keys that are not strings
    Case("mixed-type-keys", doc(plugin="    1: x\n    zz: y\n"),
         "line 18, field spec.spec: a mapping key is '1', which YAML reads as int; expected a string key"),
    Case("bool-key", doc(source="  on: true\n"), "a mapping key is 'on', which YAML reads as bool", cli=False),
    Case("list-key", doc(plugin="    ? [a, b]\n    : c\n"), "field spec.spec: a mapping key is a list or mapping",
         cli=False),
    # spec: that is not a mapping
    Case("source-spec-list", LIST_SPEC,
         "document 1 (kind: source): spec: expected a mapping of the source's fields (name:, path:, ...), got [{"),
    Case("source-spec-scalar", "kind: source\nspec: aws-encryption\n",
         'document 1 (kind: source): spec: expected a mapping of the source\'s fields (name:, path:, ...), '
         'got "aws-encryption"', cli=False),
    Case("plugin-spec-list", "kind: source\nspec:\n  name: aws-encryption\n  path: aws-encryption\n  spec:\n"
         "    - regions: [us-east-1]\n    - custom_endpoint_url: @ENDPOINT@\n",
         "source aws-encryption: field spec: expected a mapping, got [{"),
    Case("destination-spec-list", doc().split("---\n")[0] + "---\nkind: destination\nspec: [duckdb]\n",
         "document 2 (kind: destination): spec: expected a mapping of the destination's fields", cli=False),
    Case("document-list", "- kind: source\n- spec: {}\n",
         "document 1: expected a mapping with `kind:` and `spec:`, got",
         cli=False),
    Case("kind-unknown", "kind: sauce\nspec: {name: x}\n",
         'document 1: kind: expected source or destination, got "sauce"',
         cli=False),
    # depth and size
    Case("nesting-5000-flow", doc(source="  backend_options: " + "[" * 5000 + "]" * 5000 + "\n"),
         "line 8: nested deeper than 32 levels"),
    Case("nesting-600-block", doc(source="  backend_options:\n" + "".join(
        " " * (i + 3) + f"k{i}:\n" for i in range(600))), "nested deeper than 32 levels", cli=False),
    Case("alias-bomb-big", BIG_BOMB, "expands to more than 100,000 values (through YAML aliases?)"),
    Case("alias-bomb-small", SMALL_BOMB, "source aws-encryption: field tables: expected a list of strings, got a list"),
    Case("alias-deep", doc(source="  backend_options:\n" + "".join(
        f"    d{i}: &d{i} {{x: {f'*d{i - 1}' if i else 1}}}\n" for i in range(40))),
         "nested deeper than 32 levels (counting aliases)", cli=False),
    Case("alias-cycle", doc(source="  backend_options: &loop {self: *loop}\n"),
         "an alias refers to a mapping or list that contains it"),
    Case("too-many-values", doc(source="  backend_options: {x: [" + ",".join(["1"] * 120_000) + "]}\n"),
         "more than 100,000 values", cli=False),
    Case("file-over-1-mib", doc(source="  backend_options: {x: '" + "a" * (1 << 20) + "'}\n"),
         "larger than 1 MiB; expected a spec file"),
    # duplicate keys: the last one no longer wins silently
    Case("duplicate-accounts", doc(plugin="    accounts: []\n"),
         "line 18, field spec.spec.accounts: the key appears twice in one mapping (first at line 10)"),
    Case("duplicate-key-in-account", doc(account='      - id: "111111111111"\n        id: "222222222222"\n'),
         "field spec.spec.accounts[0].id: the key appears twice in one mapping"),
    Case("duplicate-source-field", doc(source="  name: other\n"), "field spec.name: the key appears twice", cli=False),
    Case("duplicate-kind", "kind: source\nkind: destination\nspec: {}\n", "line 2, field kind: the key appears twice"),
    # strings where booleans belong
    Case("skip-dependent-tables-string", doc(source='  skip_dependent_tables: "false"\n'),
         'source aws-encryption: field skip_dependent_tables: expected true or false (unquoted), got "false"'),
    Case("deterministic-cq-id-string", doc(source="  deterministic_cq_id: 'true'\n"),
         'field deterministic_cq_id: expected true or false (unquoted), got "true"', cli=False),
    Case("aws-debug-string", doc(plugin='    aws_debug: "false"\n'),
         'spec field aws_debug: expected true or false, got "false"'),
    Case("send-sync-summary-number", doc(dest="  send_sync_summary: 1\n"),
         "destination duckdb: field send_sync_summary: expected true or false (unquoted), got 1", cli=False),
    # ${VAR}
    Case("unset-variable-in-value", doc(plugin="    max_backoff: ${AWS_ENC_TEST_UNSET}\n"),
         "line 18: environment variable AWS_ENC_TEST_UNSET is not set (used as ${AWS_ENC_TEST_UNSET})"),
    Case("unset-variable-in-quoted-value", doc(account='      - id: "${AWS_ENC_TEST_UNSET}"\n'),
         "line 11: environment variable AWS_ENC_TEST_UNSET is not set", cli=False),
    # numbers without sane bounds
    Case("request-timeout-1e23", replaced("    request_timeout: 2\n", "    request_timeout: 1e23\n"),
         'spec field request_timeout: expected an integer from 1 to 3600, got "1e23"'),
    Case("request-timeout-float-1e23", replaced("    request_timeout: 2\n", "    request_timeout: 1.0e+23\n"),
         "spec field request_timeout: expected an integer from 1 to 3600, got 1e+23", cli=False),
    Case("max-retries-1e12", replaced("    max_retries: 0\n", "    max_retries: 1000000000000\n"),
         "spec field max_retries: expected an integer from 0 to 50, got 1000000000000"),
    Case("max-backoff-1e20", doc(plugin="    max_backoff: 100000000000000000000\n"),
         "spec field max_backoff: expected an integer from 1 to 3600, got 100000000000000000000", cli=False),
    Case("init-concurrency-huge", doc(plugin="    initialization_concurrency: 100000\n"),
         "spec field initialization_concurrency: expected an integer from 1 to 256, got 100000", cli=False),
    Case("int-of-5000-digits", replaced("    max_retries: 0\n", "    max_retries: " + "9" * 5000 + "\n"),
         "field spec.spec.max_retries: a number of 5000 digits; expected an ordinary number"),
    Case("concurrency-float", doc(plugin="    concurrency: 2.5\n"),
         "spec field concurrency: expected an integer from 1 to 1024, got 2.5", cli=False),
    Case("batch-size-negative", doc() + "    batch_size: -1\n",
         "destination duckdb: spec: field batch_size: expected an integer >= 0, got -1", cli=False),
    # regions are real
    Case("region-typo", doc(regions="[us-eest-1]"),
         "spec field regions[0]: unknown region 'us-eest-1' (closest known: us-east-1)"),
    Case("region-unknown", doc(regions="[eu-west-1, eu-west-9]"),
         "spec field regions[1]: unknown region 'eu-west-9' (closest known: eu-west-1); expected a region botocore "
         "knows, or add it to extra_regions"),
    Case("default-region-typo", doc(account='      - id: "111111111111"\n        default_region: eu-wset-1\n'),
         "spec field accounts[0].default_region: unknown region 'eu-wset-1' (closest known: eu-west-1)", cli=False),
    Case("extra-regions-star", doc(plugin="    extra_regions: ['*']\n"),
         'spec field extra_regions[0]: expected a region name like us-east-1, got "*"', cli=False),
    # not a spec file at all
    Case("not-utf8", _bytes(b"kind: source\nspec:\n  name: \xff\xfe aws\n"),
         "spec.yml: not UTF-8 (byte 0xff at offset 27); expected a UTF-8 YAML file"),
    Case("latin1-file", _bytes("kind: source\nspec:\n  name: caf\u00e9\n".encode("latin-1")),
         "not UTF-8 (byte 0xe9 at offset 30)", cli=False),
    Case("nul-character", _bytes(b"kind: source\nspec:\n  name: a\x00b\n"),
         "not valid YAML (unacceptable character #x0000", cli=False),
    Case("directory", _directory, "spec.yml: cannot read spec file (Is a directory)"),
    Case("missing-file", _missing, "no-such-spec.yml: cannot read spec file (No such file or directory)"),
    Case("path-through-a-file", _through_a_file, "cannot read spec file (Not a directory)", cli=False),
    Case("empty-file", "", "no `kind: source` document; expected one for aws-encryption"),
    Case("comments-only", "# kind: source\n", "no `kind: source` document", cli=False),
    Case("yaml-syntax", doc(plugin="    regions2: [us-east-1\n"), "not valid YAML (", cli=False),
    # messages stay short and printable whatever the input
    Case("long-account-id", doc(account='      - id: "' + "1" * 100_000 + '"\n'),
         "spec field accounts[0].id: expected a 12-digit account id in quotes"),
    Case("long-unknown-key", doc(plugin="    ? " + "k" * 50_000 + "\n    : 1\n"), "spec: unknown field 'kkkkkkkk",
         cli=False),
    Case("escape-sequence-in-value", doc(regions='["\\e[2J\\e]0;pwned\\a"]'),
         "spec field regions[0]: expected a region"),
    Case("tables-a-string", doc(source="  tables: aws_kms_keys\n"),
         'field tables: expected a list of strings, got "aws_kms_keys"', cli=False),
    Case("version-a-number", replaced("  version: v0.1.0\n  destinations", "  version: 1.5\n  destinations"),
         "source aws-encryption: field version: expected a string, got 1.5", cli=False),
    Case("unknown-source-field", doc(source="  tabels: [aws_kms_keys]\n"),
         "source aws-encryption: unknown field 'tabels' (did you mean tables?)", cli=False),
    Case("unknown-plugin-field", doc(plugin="    region: us-east-1\n"),
         "spec: unknown field 'region' (did you mean regions?)", cli=False),
    Case("md-connection-string", doc().replace("@DB@", "md:posture"),
         "spec.connection_string: expected a local file path", cli=False),
    Case("not-duckdb", doc().replace("path: aws-encryption-duckdb", "path: cloudquery/postgresql"),
         "destination duckdb is not DuckDB", cli=False),
]


def _env(d: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    # Whatever happens, nothing may leave for real AWS: credentials that only the canary would see,
    # no shared config, no instance metadata.
    env.update(AWS_ACCESS_KEY_ID="canary", AWS_SECRET_ACCESS_KEY="canary", AWS_DEFAULT_REGION="us-east-1",
               AWS_CONFIG_FILE=str(d / "no-config"), AWS_SHARED_CREDENTIALS_FILE=str(d / "no-credentials"),
               AWS_EC2_METADATA_DISABLED="true", PYTHONWARNINGS="ignore")
    env.pop("AWS_ENC_TEST_UNSET", None)
    return env


def _write(case: Case, d: Path, endpoint: str) -> tuple[str, Path]:
    """The case's spec file in directory `d` (created): its path relative to `d`, and the database path."""
    d.mkdir()
    db = d / "posture.duckdb"
    if isinstance(case.spec, str):
        path = d / "spec.yml"
        path.write_text(case.spec.replace("@ENDPOINT@", endpoint).replace("@DB@", str(db)))
    else:
        path = case.spec(d)
    # relative, as users type it (and the message keeps its room for the problem)
    return os.path.relpath(path, d), db


def _run(case: Case, d: Path, endpoint: str) -> tuple[subprocess.CompletedProcess, Path]:
    path, db = _write(case, d, endpoint)
    r = subprocess.run([sys.executable, "-m", "plugin.cli", "sync", path], cwd=d, env=_env(d),
                       capture_output=True, timeout=60)
    return r, db


CLI_CASES = [c for c in CASES if c.cli]


@pytest.fixture(scope="module")
def results(canary: str, tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Any, Path, int]]:
    """Every case, run a few at a time; with the canary's count before the cases and after all of them."""
    root = tmp_path_factory.mktemp("bad-specs")
    before = _Canary.hits
    with ThreadPoolExecutor(max_workers=3) as pool:
        futures = {c.id: pool.submit(_run, c, root / c.id, canary) for c in CLI_CASES}
        out = {k: (*f.result(), before) for k, f in futures.items()}
    return out


def test_enough_cases() -> None:
    assert len(CLI_CASES) >= 25
    assert len({c.id for c in CASES}) == len(CASES)


@pytest.mark.e2e
@pytest.mark.parametrize("case", CLI_CASES, ids=[c.id for c in CLI_CASES])
def test_bad_spec_is_one_short_line_exit_2_and_touches_nothing(case: Case, results: dict) -> None:
    r, db, _ = results[case.id]
    stderr = r.stderr.decode("utf-8", "replace")
    assert r.returncode == 2, stderr[-2000:]
    assert "Traceback" not in stderr, stderr[-2000:]
    lines = stderr.splitlines()
    assert len(lines) == 1, stderr[-2000:]
    assert len(r.stderr) < 300, stderr[:400]
    assert stderr.endswith("\n") and all(c.isprintable() for c in lines[0]), repr(stderr)
    assert lines[0].startswith("aws-encryption: "), lines[0]
    assert case.expected in lines[0], lines[0]
    assert r.stdout == b""
    assert not db.exists(), "the database must not be created for a bad spec"


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_bad_spec_in_process(case: Case, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every case, also the ones not run as a process: plugin.cli.yaml_specs.load raises one short SpecFileError."""
    monkeypatch.delenv("AWS_ENC_TEST_UNSET", raising=False)
    path, db = _write(case, tmp_path / "case", "http://127.0.0.1:9")
    monkeypatch.chdir(tmp_path / "case")
    with pytest.raises(SpecFileError) as e:
        load([path])
    line = f"aws-encryption: {e.value}\n"
    assert len(line.encode()) < 300 and len(line.splitlines()) == 1 and line[:-1].isprintable(), line
    assert case.expected in line, line
    assert not db.exists()


@pytest.mark.e2e
def test_no_bad_spec_reached_the_canary(results: dict) -> None:
    before = next(iter(results.values()))[2]
    assert _Canary.hits == before, "a bad spec made a request to the custom endpoint"


@pytest.mark.e2e
def test_a_good_spec_does_reach_the_canary(canary: str, tmp_path: Path) -> None:
    """The control: the same harness with the unchanged spec gets past validation and calls the endpoint,
    so zero requests above means the specs were refused, not that the canary is deaf."""
    before = _Canary.hits
    r, db = _run(Case("control", doc(), ""), tmp_path / "control", canary)
    assert _Canary.hits > before, r.stderr.decode()[-2000:]
    assert db.exists()


# ---------------------------------------------------------------------------------------------
# What is accepted


def _load(tmp_path: Path, text: str) -> Any:
    p = tmp_path / "spec.yml"
    p.write_text(text.replace("@ENDPOINT@", "http://127.0.0.1:9").replace("@DB@", str(tmp_path / "p.duckdb")))
    return load([str(p)])


def test_variable_in_a_comment_is_not_expanded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AWS_ENC_TEST_UNSET", raising=False)
    monkeypatch.setenv("AWS_ENC_TEST_RETRIES", "3")
    text = ("# rotate ${AWS_ENC_TEST_UNSET} next week\n"
            + doc(plugin="    # max_backoff: ${AWS_ENC_TEST_UNSET}\n"
                         "    initialization_concurrency: ${AWS_ENC_TEST_RETRIES}   # was ${AWS_ENC_TEST_UNSET}\n",
                  account='      - id: "111111111111"  #${AWS_ENC_TEST_UNSET}\n'
                          '        account_name: "a # ${AWS_ENC_TEST_RETRIES}"\n'
                          '      - id: "222222222222"\n'
                          '        account_name: b#${AWS_ENC_TEST_RETRIES}\n'
                          '      - id: "333333333333"\n'
                          '        account_name: |  # ${AWS_ENC_TEST_UNSET}\n'
                          '          # text ${AWS_ENC_TEST_RETRIES}\n'))
    plan = _load(tmp_path, text)
    spec = plan.sources[0].spec
    # expanded textually before parsing, so the number is a number
    assert spec.initialization_concurrency == 3
    # inside quotes, and without a space before it, # does not start a comment: expanded
    assert spec.accounts[0].account_name == "a # 3"
    assert spec.accounts[1].account_name == "b#3"
    # a block scalar: the header line may carry a comment, the lines below are text (a # too)
    assert spec.accounts[2].account_name == "# text 3\n"


def test_variable_in_a_value_is_expanded_everywhere(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ENC_TEST_REGIONS", "[eu-west-1, us-east-1]")
    monkeypatch.setenv("AWS_ENC_TEST_NAME", "prod")
    plan = _load(tmp_path, doc(regions="${AWS_ENC_TEST_REGIONS}",
                               account='      - id: "111111111111"\n        account_name: |\n'
                                       "          ${AWS_ENC_TEST_NAME} # in a block scalar\n"))
    spec = plan.sources[0].spec
    assert spec.regions == ["eu-west-1", "us-east-1"]
    assert spec.accounts[0].account_name == "prod # in a block scalar\n"


def test_unset_variable_in_a_value_is_still_an_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AWS_ENC_TEST_UNSET", raising=False)
    with pytest.raises(SpecFileError, match=r"line 18: environment variable AWS_ENC_TEST_UNSET is not set"):
        _load(tmp_path, doc(plugin="    max_backoff: ${AWS_ENC_TEST_UNSET} # ${AWS_ENC_TEST_UNSET}\n"))


def test_extra_regions_accept_a_region_newer_than_botocore(tmp_path: Path) -> None:
    plan = _load(tmp_path, doc(regions="[us-east-1, xx-newregion-1]",
                               plugin="    extra_regions: [xx-newregion-1]\n"))
    spec = plan.sources[0].spec
    assert spec.regions == ["us-east-1", "xx-newregion-1"] and spec.extra_regions == ["xx-newregion-1"]
    with pytest.raises(SpecFileError, match=r"unknown region 'xx-newregion-1'.*extra_regions"):
        _load(tmp_path, doc(regions="[us-east-1, xx-newregion-1]"))


@pytest.mark.parametrize("value, expected", [("false", False), ("true", True), ("", True), ("null", True)])
def test_skip_dependent_tables_is_a_real_boolean(tmp_path: Path, value: str, expected: bool) -> None:
    plan = _load(tmp_path, doc(source=f"  skip_dependent_tables: {value}\n"))
    assert plan.sources[0].skip_dependent_tables is expected


def test_merge_keys_may_override(tmp_path: Path) -> None:
    """`<<: *base` then a key of its own is YAML's override, not a duplicate."""
    text = doc(account='      - &acc {id: "111111111111", account_name: base}\n'
                       '      - <<: *acc\n        id: "222222222222"\n')
    spec = _load(tmp_path, text).sources[0].spec
    assert [(a.id, a.account_name) for a in spec.accounts] == [("111111111111", "base"), ("222222222222", "base")]


def test_yaml_on_disk_is_what_the_examples_use(tmp_path: Path) -> None:
    """The valid base spec of this file loads, with the values written."""
    plan = _load(tmp_path, doc())
    (src,) = plan.sources
    assert src.spec.regions == ["us-east-1"] and src.spec.max_retries == 0 and src.spec.request_timeout == 2
    assert plan.db_path == str(tmp_path / "p.duckdb")
