"""Every example config in examples/ is a valid CloudQuery config whose plugin spec we accept."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from plugin.source.spec import json_schema, parse_spec

EXAMPLES = sorted((Path(__file__).resolve().parent.parent / "examples").glob("*.y*ml"))


def load(path: Path) -> list[dict[str, Any]]:
    return [d for d in yaml.safe_load_all(path.read_text()) if d is not None]


def our_source(docs: list[dict[str, Any]]) -> dict[str, Any]:
    found = [d["spec"] for d in docs if d.get("kind") == "source"
             and (d["spec"].get("name") == "aws-encryption" or "aws-encryption" in str(d["spec"].get("path", "")))]
    assert len(found) == 1, "expected exactly one aws-encryption source document"
    return found[0]


def test_examples_exist() -> None:
    names = {p.name for p in EXAMPLES}
    assert {"real-account-profile.yml", "org-member-roles.yml", "cli-registry-local.yml",
            "cli-registry-grpc.yml"} <= names


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_example_plugin_spec_is_accepted(path: Path) -> None:
    docs = load(path)
    src = our_source(docs)
    spec = parse_spec(src["spec"])
    parse_spec(json.dumps(src["spec"]).encode())  # as the CLI sends it
    assert spec.accounts, "examples should show at least one explicit account"
    jsonschema = pytest.importorskip("jsonschema")
    jsonschema.validate(src["spec"], json.loads(json_schema()))


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_example_is_a_complete_cloudquery_config(path: Path) -> None:
    docs = load(path)
    assert all(d.get("kind") in ("source", "destination") and isinstance(d.get("spec"), dict) for d in docs)
    src = our_source(docs)
    for key in ("name", "path", "registry", "version", "tables", "destinations", "spec"):
        assert key in src, f"source is missing {key}"
    assert src["registry"] in ("local", "grpc")
    assert src["version"] == "v0.1.0"
    assert {"aws_kms_*", "aws_s3_*", "aws_encryption_*"} <= set(src["tables"])  # every table the checks read
    dests = {d["spec"]["name"]: d["spec"] for d in docs if d["kind"] == "destination"}
    assert set(src["destinations"]) <= set(dests)
    duck = dests["duckdb"]
    assert (duck["path"], duck["registry"], duck["version"]) == ("aws-encryption-duckdb", "local", "v0.1.0")
    assert duck["write_mode"] == "overwrite-delete-stale"
    assert duck["spec"]["connection_string"] == "./posture.duckdb"


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_example_loads_for_in_process_sync(path: Path) -> None:
    """`aws-encryption sync <example>` reads the same file (no AWS call at load time)."""
    specfile = pytest.importorskip("plugin.cli.yaml_specs")
    plan = specfile.load([str(path)])
    assert [s.name for s in plan.sources] == ["aws-encryption"]
    assert plan.db_path == "./posture.duckdb"
    assert plan.write_mode == "overwrite-delete-stale"
