"""The everyday command line: `sql` output that fits the terminal without cutting a value, JSON that
parses as one document, `validate` (what `sync` checks, no AWS call), help for every argument, the
spec `demo --keep-running` prints, and shell completion when argcomplete is installed."""

from __future__ import annotations

import argparse
import io
import json
import os
import re
import sys
from pathlib import Path
from typing import Any, Callable

import duckdb
import pytest
import yaml

from plugin.cli import main as cli
from plugin.cli.paths import BIN_VAR, scripts_dir
from plugin.cli.sql import display_width, fit_widths, wrap

ROOT = Path(__file__).resolve().parent.parent

ARN = "arn:aws:kms:eu-west-1:111111111111:key/05a7fafb-4d65-4331-b779-6feaadc244c6"
LONG_TEXT = "A key for the data lake of the analytics team, rotated every year by the platform group"
# What must never reach a terminal from the data: ESC, BEL, CR, BS, other C0 but \t and \n, DEL, C1, bidi.
UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")
HOSTILE = "\x1b[2J\x1b[1;32mpassed\x1b[0m\x1b]0;pwned\x07 key\u202eflow \x9b2J\r\x08overwrite"


@pytest.fixture
def db(tmp_path: Path) -> Path:
    path = tmp_path / "posture.duckdb"
    con = duckdb.connect(str(path))
    con.execute("CREATE TABLE aws_kms_keys (arn VARCHAR, account_id VARCHAR, region VARCHAR, description VARCHAR, "
                "score DOUBLE)")
    con.executemany("INSERT INTO aws_kms_keys VALUES (?, ?, ?, ?, ?)", [
        (ARN, "111111111111", "eu-west-1", LONG_TEXT, 1.5),
        ("arn:aws:kms:us-east-1:111111111111:key/k2", "111111111111", "us-east-1", HOSTILE, float("nan")),
        ("arn:aws:kms:us-east-1:111111111111:key/k3", "111111111111", "us-east-1", None, float("inf")),
    ])
    con.close()
    return path


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.fixture
def sql(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Callable[..., tuple[int, str, str]]:
    """`aws-encryption sql ARGS...` in process: (exit status, stdout, stderr); tty=True puts stdout on a
    'terminal' of COLUMNS columns."""
    def call(*args: str, tty: bool = False, columns: int = 80) -> tuple[int, str, str]:
        capsys.readouterr()
        if tty:
            out = Terminal()
            with monkeypatch.context() as m:
                m.setenv("COLUMNS", str(columns))  # shutil.get_terminal_size reads it first
                m.setattr("sys.stdout", out)
                code = cli.main(["sql", *args])
            return code, out.getvalue(), capsys.readouterr().err
        code = cli.main(["sql", *args])
        o, e = capsys.readouterr()
        return code, o, e
    return call


def _columns(table: str, key: int = 1) -> list[list[str]]:
    """Each data row's cells, continuation lines joined back (slices by the dash line's widths; a row
    starts with a value in column `key`, which must not wrap)."""
    lines = table.splitlines()
    spans = [(m.start(), m.end()) for m in re.finditer(r"-+", lines[1])]
    rows: list[list[str]] = []
    for line in lines[2:-1]:
        cells = [line[a:b].strip() for a, b in spans]
        if cells[key] or not rows:
            rows.append(cells)
        else:
            rows[-1] = [prev + cur for prev, cur in zip(rows[-1], cells)]
    return rows


# ---------------------------------------------------------------------------------------------
# sql --format table: fits, wraps, never cuts

def test_table_on_a_terminal_fits_its_width_and_keeps_every_value_whole(db: Path, sql: Any) -> None:
    code, out, err = sql(str(db), "SELECT arn, account_id, region, description FROM aws_kms_keys WHERE arn = "
                                  f"'{ARN}'", tty=True, columns=70)
    assert (code, err) == (0, "")
    assert max(display_width(x) for x in out.splitlines()) <= 70, out
    assert "…" not in out
    [row] = _columns(out)
    assert row[0] == ARN  # the key id is all there, on the lines of its column
    assert row[1:3] == ["111111111111", "eu-west-1"]  # narrow columns keep their width: not wrapped
    assert row[3].replace(" ", "") == LONG_TEXT.replace(" ", "")
    assert out.splitlines()[-1] == "(1 row)"


def test_table_breaks_an_arn_after_its_separators(db: Path, sql: Any) -> None:
    code, out, _ = sql(str(db), f"SELECT arn FROM aws_kms_keys WHERE arn = '{ARN}'", "--format", "table",
                       "--max-width", "30")
    assert code == 0
    body = [x.rstrip() for x in out.splitlines()[2:-1]]
    assert "".join(body) == ARN and all(len(x) <= 30 for x in body)
    assert all(x.endswith((":", "/", "-")) for x in body[:-1]), body


def test_max_width_flag_wins_and_zero_means_no_limit(db: Path, sql: Any) -> None:
    q = "SELECT arn, description FROM aws_kms_keys ORDER BY arn"
    _, narrow, _ = sql(str(db), q, "--max-width", "50", tty=True, columns=200)
    assert max(len(x) for x in narrow.splitlines()) <= 50
    _, wide, _ = sql(str(db), q, "--max-width", "0", tty=True, columns=40)
    assert any(ARN in x and LONG_TEXT in x for x in wide.splitlines())


def test_table_in_a_pipe_is_not_wrapped(db: Path, sql: Any) -> None:
    """--format table into a file or pipe: no terminal, no limit, one line per row."""
    _, out, _ = sql(str(db), "SELECT arn, description FROM aws_kms_keys ORDER BY arn", "--format", "table")
    assert len(out.splitlines()) == 2 + 3 + 1
    assert any(ARN in x and LONG_TEXT in x for x in out.splitlines())


def test_the_default_on_a_terminal_is_a_table_and_in_a_pipe_csv(db: Path, sql: Any) -> None:
    assert sql(str(db), "SELECT 1 AS n", tty=True)[1].splitlines()[:2] == ["n", "-"]
    assert sql(str(db), "SELECT 1 AS n")[1].splitlines() == ["n", "1"]


def test_table_output_strips_terminal_controls(db: Path, sql: Any) -> None:
    for width in (24, 0):
        code, out, _ = sql(str(db), "SELECT description, arn FROM aws_kms_keys ORDER BY arn", "--format", "table",
                           "--max-width", str(width))
        assert code == 0 and not UNSAFE.search(out), repr(UNSAFE.findall(out))
        assert "pwned" not in out  # an OSC title sequence is removed whole, not left as text
        assert "(3 rows)" in out


@pytest.mark.parametrize("value", ["abc", "5", "-3", "1e3", " "])
def test_a_bad_max_width_is_one_line_exit_2(db: Path, sql: Any, value: str) -> None:
    code, out, err = sql(str(db), "SELECT 1", "--max-width", value)
    assert code == 2 and out == ""
    assert len(err.splitlines()) == 1 and err.startswith("aws-encryption: --max-width: expected"), err


def test_wrap_and_fit_widths_units() -> None:
    assert wrap("short", 10) == ["short"]
    assert wrap("aaaa bbbb cccc", 9) == ["aaaa bbbb", "cccc"]
    assert wrap("x" * 25, 10) == ["x" * 10, "x" * 10, "x" * 5]  # no separator: cut at the width, nothing lost
    assert wrap("日本語のキー", 5) == ["日本", "語の", "キー"]  # two columns each
    assert all(display_width(x) <= 5 for x in wrap("日本語のキー", 5))
    # narrow columns keep their widths; the wide ones share the rest
    assert fit_widths([12, 9, 80], ["account_id", "region", "arn"], 60) == [12, 9, 35]
    assert fit_widths([12, 9, 80], ["a", "b", "c"], None) == [12, 9, 80]
    assert fit_widths([40, 40], ["a", "b"], 42) == [20, 20]
    # a limit too narrow for the floor is exceeded rather than cutting a header word
    assert fit_widths([30, 30], ["description", "b"], 10) == [11, 8]


# ---------------------------------------------------------------------------------------------
# sql --format json | jsonl

def test_json_is_one_array_and_jsonl_an_object_per_line(db: Path, sql: Any) -> None:
    q = "SELECT arn, description, score FROM aws_kms_keys ORDER BY arn"
    code, out, _ = sql(str(db), q, "--format", "json")
    assert code == 0
    doc = json.loads(out)
    assert isinstance(doc, list) and [r["arn"] for r in doc] == [ARN, *(f"arn:aws:kms:us-east-1:111111111111:key/k{i}"
                                                                      for i in (2, 3))]
    assert doc[1]["description"] == HOSTILE  # the exact bytes, for anyone investigating
    assert [r["score"] for r in doc] == [1.5, "NaN", "Infinity"]  # valid JSON: no bare NaN
    code, lines, _ = sql(str(db), q, "--format", "jsonl")
    assert code == 0 and [json.loads(x) for x in lines.splitlines()] == doc
    for text in (out, lines):
        assert not UNSAFE.search(text) and text.isascii()  # escaped: inert on a terminal
    assert sql(str(db), "SELECT 1 AS n WHERE false", "--format", "json")[1] == "[]\n"
    assert sql(str(db), "SELECT 1 AS n WHERE false", "--format", "jsonl")[1] == ""


# ---------------------------------------------------------------------------------------------
# validate

SOURCE = {"kind": "source", "spec": {"name": "aws-encryption", "path": "${AWS_ENCRYPTION_BIN}/aws-encryption",
                                     "registry": "local", "version": "v0.1.0", "tables": ["*"],
                                     "destinations": ["duckdb"],
                                     "spec": {"regions": ["us-east-1"], "accounts": [{"id": "111122223333"}]}}}


def _dest(db: str) -> dict[str, Any]:
    return {"kind": "destination", "spec": {"name": "duckdb", "path": "${AWS_ENCRYPTION_BIN}/aws-encryption-duckdb",
                                            "registry": "local", "version": "v0.1.0",
                                            "spec": {"connection_string": db}}}


@pytest.fixture
def no_aws(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Any AWS client or network connection made is recorded (and refused)."""
    made: list[str] = []
    import socket

    import botocore.session

    def client(self: Any, service: str, *a: Any, **kw: Any) -> Any:
        made.append(service)
        raise AssertionError(f"AWS client {service} created")

    def connect(self: Any, address: Any) -> Any:
        made.append(str(address))
        raise AssertionError(f"connection to {address}")

    monkeypatch.setattr(botocore.session.Session, "create_client", client)
    monkeypatch.setattr(socket.socket, "connect", connect)
    return made


def _tables(patterns: list[str]) -> int:
    from plugin.source.plugin import select_tables
    from plugin.tables.schema import walk
    return len(walk(select_tables(patterns, [], True)))


def test_validate_a_good_spec_is_one_line_and_no_aws_call(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                          capsys: pytest.CaptureFixture[str], no_aws: list[str]) -> None:
    monkeypatch.setenv(BIN_VAR, "")
    monkeypatch.delenv(BIN_VAR)  # unset, and unset again after the test (validate sets it)
    spec = tmp_path / "spec.yml"
    spec.write_text(yaml.safe_dump_all([SOURCE, _dest(str(tmp_path / "p.duckdb"))]))
    assert cli.main(["validate", str(spec)]) == 0
    out, err = capsys.readouterr()
    assert err == "" and out == (f"{spec}: valid; source aws-encryption: 1 account, regions us-east-1, "
                                 f"{_tables(['*'])} tables; into {tmp_path / 'p.duckdb'} (overwrite-delete-stale); "
                                 "no AWS call was made\n")
    assert no_aws == [] and not (tmp_path / "p.duckdb").exists()
    assert cli.main(["validate", str(spec), "--tables", "aws_kms_keys"]) == 0
    n = _tables(["aws_kms_keys"])
    assert 2 < n < _tables(["*"])  # the key's child tables and the two sync tables come along
    assert f"source aws-encryption: 1 account, regions us-east-1, {n} tables;" in capsys.readouterr().out


def _bad(case: str, tmp_path: Path) -> tuple[list[dict[str, Any]], list[str], str]:
    """(documents, extra arguments, what the one line says)"""
    src = json.loads(json.dumps(SOURCE))
    db = str(tmp_path / "p.duckdb")
    if case == "not-a-database":
        Path(db).write_text("id,name\n1,not a database\n")
    return {
        "bad-field": ([{**src, "spec": {**src["spec"], "spec": {"regions": ["mars-1"]}}}, _dest(db)], [],
                      "spec field regions[0]"),
        "no-source": ([_dest(db)], [], "no `kind: source` document"),
        "not-duckdb": ([src, {**_dest(db), "spec": {**_dest(db)["spec"], "path": "cloudquery/postgresql"}}], [],
                       "is not DuckDB"),
        "missing-dir": ([src, _dest(str(tmp_path / "nope" / "p.duckdb"))], [], "does not exist"),
        "not-a-database": ([src, _dest(db)], [], "is not a DuckDB database file"),
        "unknown-table": ([src, _dest(db)], ["--tables", "aws_nope"], "aws_nope"),
        "unset-variable": ([{**src, "spec": {**src["spec"], "spec": {"regions": ["${AWS_ENC_NOT_SET}"]}}}, _dest(db)],
                           [], "environment variable AWS_ENC_NOT_SET is not set"),
    }[case]


@pytest.mark.parametrize("case", ["bad-field", "no-source", "not-duckdb", "missing-dir", "not-a-database",
                                  "unknown-table", "unset-variable"])
def test_validate_refuses_what_sync_refuses(case: str, tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                            no_aws: list[str]) -> None:
    docs, extra, expected = _bad(case, tmp_path)
    spec = tmp_path / "spec.yml"
    spec.write_text(yaml.safe_dump_all(docs))
    before = sorted(p.name for p in tmp_path.iterdir())
    assert cli.main(["validate", str(spec), *extra]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert len(err.splitlines()) == 1 and err.startswith("aws-encryption: ") and expected in err, err
    assert len(err) < 400
    assert no_aws == [] and sorted(p.name for p in tmp_path.iterdir()) == before


def test_validate_escapes_hostile_names(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    src = json.loads(json.dumps(SOURCE))
    src["spec"]["name"] = "evil\x1b]0;pwned\x07\u202ename"
    spec = tmp_path / "spec.yml"
    spec.write_text(yaml.safe_dump_all([src, _dest(str(tmp_path / "p.duckdb"))]))
    code = cli.main(["validate", str(spec)])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert not UNSAFE.search(out) and "pwned" not in out and "evilname" in out


# ---------------------------------------------------------------------------------------------
# Help for every argument of every subcommand

def _actions(parser: argparse.ArgumentParser, path: tuple[str, ...] = ("aws-encryption",)) -> list[tuple[str, Any]]:
    out = []
    for a in parser._actions:
        if isinstance(a, argparse._SubParsersAction):
            helps = {c.dest: c.help for c in a._choices_actions}
            for name, sub in a.choices.items():
                out.append((" ".join(path), argparse.Namespace(help=helps.get(name), option_strings=[name], dest=name)))
                out += _actions(sub, (*path, name))
        else:
            out.append((" ".join(path), a))
    return out


def test_every_argument_of_every_subcommand_has_help() -> None:
    actions = _actions(cli._parser())
    assert len(actions) > 60
    missing = [f"{where}: {'/'.join(a.option_strings) or a.dest}" for where, a in actions
               if not a.help or a.help == argparse.SUPPRESS]
    assert not missing, missing
    commands = {a.dest for where, a in actions if where == "aws-encryption" and a.dest not in ("help", "version")}
    assert {"sync", "validate", "check", "sql", "merge", "demo", "serve", "package", "env"} <= commands


def test_help_names_the_new_options(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as e:
        cli.main(["sql", "--help"])
    assert e.value.code == 0
    text = capsys.readouterr().out
    assert "--max-width N" in text and "{table,csv,json,jsonl}" in text and "DB" in text and "SQL" in text


# ---------------------------------------------------------------------------------------------
# demo --keep-running: the spec it prints

def test_keep_running_prints_a_spec_with_absolute_paths(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The CloudQuery CLI takes `path` as written: the printed spec names the installed executables and
    the database by absolute paths, and loads as a spec."""
    from plugin.demo.run import keep_running_text
    from plugin.demo.world import World
    from plugin.cli.yaml_specs import load
    monkeypatch.chdir(tmp_path)
    world = World(endpoint="http://127.0.0.1:5999", scanner_key_id="AKIAEXAMPLE", scanner_secret="secret")
    text = keep_running_text(world, Path("demo.duckdb"))
    spec = text.split("\n---\n", 1)[1]
    docs = list(yaml.safe_load_all(spec))
    bin_dir = scripts_dir()
    assert [d["spec"]["path"] for d in docs] == [str(bin_dir / "aws-encryption"),
                                                 str(bin_dir / "aws-encryption-duckdb")]
    assert all(os.access(d["spec"]["path"], os.X_OK) for d in docs)
    assert docs[1]["spec"]["spec"]["connection_string"] == str(tmp_path / "demo.duckdb")
    (tmp_path / "demo.yml").write_text(spec)
    assert load([str(tmp_path / "demo.yml")]).db_path == str(tmp_path / "demo.duckdb")
    assert re.search(r"`\S+/cloudquery sync demo\.yml`", text.replace("\n", " ")), text


# ---------------------------------------------------------------------------------------------
# Shell completion (argcomplete, optional)

def test_completion_when_argcomplete_is_installed(monkeypatch: pytest.MonkeyPatch) -> None:
    argcomplete = pytest.importorskip("argcomplete")
    out = io.StringIO()
    line = "aws-encryption sql db.duckdb 'SELECT 1' --format j"
    for k, v in {"_ARGCOMPLETE": "1", "COMP_LINE": line, "COMP_POINT": str(len(line)), "_ARGCOMPLETE_IFS": "\n",
                 "_ARGCOMPLETE_SHELL": "bash"}.items():
        monkeypatch.setenv(k, v)
    exits = []
    argcomplete.autocomplete(cli._parser(), output_stream=out, exit_method=exits.append)
    assert exits == [0] and sorted(out.getvalue().split()) == ["json", "jsonl"]


def test_no_completion_cost_without_the_shell_asking(monkeypatch: pytest.MonkeyPatch) -> None:
    """main() imports argcomplete only when the shell asks for completions (_ARGCOMPLETE is set)."""
    class Tripwire:
        def __getattr__(self, name: str) -> Any:
            raise AssertionError("argcomplete used without the shell asking")

    monkeypatch.setitem(sys.modules, "argcomplete", Tripwire())
    monkeypatch.delenv("_ARGCOMPLETE", raising=False)
    cli._complete(cli._parser())
    monkeypatch.setenv("_ARGCOMPLETE", "1")
    with pytest.raises(AssertionError, match="without the shell asking"):
        cli._complete(cli._parser())


@pytest.mark.e2e  # the installed command on a pseudo-terminal
def test_sql_on_a_real_terminal_is_a_table_as_wide_as_the_terminal(db: Path) -> None:
    from .grpc_client import plugin_executable
    from .helpers import run_in_pty
    env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES")}
    code, out, err = run_in_pty([plugin_executable(), "sql", str(db), "SELECT arn, description FROM aws_kms_keys "
                                 f"WHERE arn = '{ARN}'"], None, env, columns=64)
    out = out.replace("\r\n", "\n")
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0].split() == ["arn", "description"] and lines[-1] == "(1 row)"
    assert max(len(x) for x in lines) <= 64 and len(lines) > 4, out
    assert "".join(r[0] for r in _columns(out, key=0)) == ARN  # one row: its lines hold the whole ARN
