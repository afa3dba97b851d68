"""Session fixtures: one moto server, and on it the demo world, the check cases and the organisation.

Tiers: a test is end-to-end (`-m e2e`) when it needs moto's server (any fixture below), the real
CloudQuery CLI, a subprocess of our commands, a gRPC server process or a network server of its own.
Tests on a fixture below are marked here; modules and tests that are end-to-end for the other reasons
say so with `pytest.mark.e2e`. Everything else is the fast tier (`-m "not e2e"`).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

import pytest

import plugin
from plugin.demo.run import embedded_endpoint
from plugin.demo.server import RecordingMotoServer, enable_iam_enforcement
from plugin.demo.world import MOTO_S3_ACTION_ALIASES, SCANNER, World, build_world

from .access_world import AccessCases, build_access_cases
from .check_world import CheckCases, build_check_cases
from .org_world import Org, build_org
from .scenario_world import ScenarioCases, build_scenarios
from .chain_world import ChainCases, build_chain
from .shared_world import SharedCases, build_shared
from .s3_controls_world import build_s3_controls
from .kms_controls_world import KmsCases, build_kms_cases

TRUST = json.dumps({"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{SCANNER}:root"}, "Action": "sts:AssumeRole"}]})

SHIPPED_POLICY = Path(plugin.__file__).parent / "iam_policy.json"

# A test that uses any of these (directly or through another fixture) is end-to-end.
MOTO_FIXTURES = frozenset({"moto_server", "moto_endpoint", "worlds", "world", "check_cases", "org", "access",
                           "scenarios", "chain", "shared", "scanner_env"})


@pytest.hookimpl(tryfirst=True)  # before `-m` selects on the marks
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if MOTO_FIXTURES.intersection(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.e2e)


@pytest.fixture(scope="session")
def moto_server() -> Iterator[RecordingMotoServer]:
    """moto's server on a free loopback port, IAM enforcement off until `worlds` has built everything."""
    # Set-up credentials for building the worlds; the plugin itself gets the scanner's keys (World.env).
    with pytest.MonkeyPatch.context() as mp:
        for k, v in (("AWS_ACCESS_KEY_ID", "testing"), ("AWS_SECRET_ACCESS_KEY", "testing"),
                     ("AWS_DEFAULT_REGION", "us-east-1")):
            if k not in os.environ:
                mp.setenv(k, v)
        with embedded_endpoint() as server:  # the demo's: loopback, free port, socket closed at the end
            yield server


@pytest.fixture(scope="session")
def moto_endpoint(moto_server: RecordingMotoServer) -> str:
    host, port = moto_server.get_host_and_port()
    return f"http://{host}:{port}"


@dataclass(frozen=True)
class Worlds:
    world: World
    check_cases: CheckCases
    org: Org
    access: AccessCases
    scenarios: ScenarioCases
    chain: ChainCases
    shared: SharedCases
    kms: KmsCases


@pytest.fixture(scope="session")
def worlds(moto_server: RecordingMotoServer, moto_endpoint: str) -> Worlds:
    """All the worlds, then IAM enforcement: building them creates users, roles and policies, which
    needs enforcement off, and every test after that runs with it on."""
    # The audit roles get the policy we ship to users, not one derived in the test.
    actions = json.loads(SHIPPED_POLICY.read_text())["Statement"][0]["Action"]
    world = build_world(moto_endpoint, actions, moto_server)
    cases = build_check_cases(moto_endpoint, actions + MOTO_S3_ACTION_ALIASES, moto_server, TRUST)
    org = build_org(moto_endpoint, actions + MOTO_S3_ACTION_ALIASES, TRUST)
    access = build_access_cases(moto_endpoint, actions + MOTO_S3_ACTION_ALIASES, TRUST)
    scenarios = build_scenarios(moto_endpoint, actions + MOTO_S3_ACTION_ALIASES, TRUST)
    chain = build_chain(moto_endpoint, actions + MOTO_S3_ACTION_ALIASES, TRUST)
    shared = build_shared(moto_endpoint, actions + MOTO_S3_ACTION_ALIASES, TRUST)
    build_s3_controls(moto_endpoint, actions + MOTO_S3_ACTION_ALIASES, TRUST)  # tests/s3_controls_world.py CASES
    kms = build_kms_cases(moto_endpoint, actions + MOTO_S3_ACTION_ALIASES, moto_server, TRUST)
    enable_iam_enforcement(moto_endpoint)
    return Worlds(world, cases, org, access, scenarios, chain, shared, kms)


@pytest.fixture(scope="session")
def kms_cases(worlds: Worlds) -> KmsCases:
    """The KMSC account's keys for the KMS controls (tests/kms_controls_world.py)."""
    return worlds.kms


@pytest.fixture(scope="session")
def world(worlds: Worlds) -> World:
    """The demo world (plugin/demo/world.py), the one `aws-encryption demo` shows."""
    return worlds.world


@pytest.fixture(scope="session")
def check_cases(worlds: Worlds) -> CheckCases:
    """The CHECKS account's resources (tests/check_world.py)."""
    return worlds.check_cases


@pytest.fixture(scope="session")
def org(worlds: Worlds) -> Org:
    """A three-account organisation with a nested OU (tests/org_world.py)."""
    return worlds.org


@pytest.fixture(scope="session")
def access(worlds: Worlds) -> AccessCases:
    """The ACCESS account's S3 access paths (tests/access_world.py)."""
    return worlds.access


@pytest.fixture(scope="session")
def scenarios(worlds: Worlds) -> ScenarioCases:
    """The SHARING and PARTNER accounts' access scenarios (tests/scenario_world.py)."""
    return worlds.scenarios


@pytest.fixture(scope="session")
def chain(worlds: Worlds) -> ChainCases:
    """The data-lake cross-account chain, link by link (tests/chain_world.py)."""
    return worlds.chain


@pytest.fixture(scope="session")
def shared(worlds: Worlds) -> SharedCases:
    """Secrets, queues and topics shared with another account or service (tests/shared_world.py)."""
    return worlds.shared


@pytest.fixture
def scanner_env(world: World, monkeypatch: pytest.MonkeyPatch) -> World:
    """The process environment holds only the scanner's credentials."""
    for k in ("AWS_SESSION_TOKEN", "AWS_PROFILE", "AWS_SECURITY_TOKEN"):
        monkeypatch.delenv(k, raising=False)
    for k, v in world.env.items():
        monkeypatch.setenv(k, v)
    return world


@pytest.fixture
def run_check(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Any:
    """`aws-encryption check ARGS...` in process, from the repository root: (args, exit code, stdout, stderr)."""
    import subprocess

    import plugin.cli.main as cli
    monkeypatch.chdir(Path(__file__).resolve().parent.parent)

    def call(*args: str) -> subprocess.CompletedProcess:
        capsys.readouterr()
        code = cli.main(["check", *args])
        out, err = capsys.readouterr()
        return subprocess.CompletedProcess(args, code, out, err)
    return call
