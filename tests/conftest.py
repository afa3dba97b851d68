from __future__ import annotations

import os
from typing import Iterator

import pytest
import json
from pathlib import Path

import plugin

import logging

from .check_world import build_check_cases
from .org_world import build_org
from .world import MOTO_S3_ACTION_ALIASES, SCANNER, RecordingMotoServer, World, build_world, enable_iam_enforcement

TRUST = json.dumps({"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{SCANNER}:root"}, "Action": "sts:AssumeRole"}]})

SHIPPED_POLICY = Path(plugin.__file__).parent / "iam_policy.json"


@pytest.fixture(scope="session")
def moto_endpoint() -> Iterator[str]:
    # Setup credentials for building the world; the plugin itself gets the scanner's keys.
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # one line per request otherwise
    server = RecordingMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    _servers.append(server)
    yield f"http://{host}:{port}"
    server.stop()


_servers: list[RecordingMotoServer] = []


@pytest.fixture(scope="session")
def world(moto_endpoint: str) -> World:
    # The audit roles get the policy we ship to users, not one derived in the test.
    actions = json.loads(SHIPPED_POLICY.read_text())["Statement"][0]["Action"]
    w = build_world(moto_endpoint, actions, _servers[-1])
    _cases.append(build_check_cases(moto_endpoint, actions + MOTO_S3_ACTION_ALIASES, _servers[-1], TRUST))
    _orgs.append(build_org(moto_endpoint, actions + MOTO_S3_ACTION_ALIASES, TRUST))
    enable_iam_enforcement(moto_endpoint)
    return w


_cases: list = []
_orgs: list = []


@pytest.fixture(scope="session")
def org(world: World):
    """A three-account organisation with a nested OU (tests/org_world.py)."""
    return _orgs[-1]


@pytest.fixture(scope="session")
def check_cases(world: World):
    """The CHECKS account's resources (tests/check_world.py), built with the world."""
    return _cases[-1]


@pytest.fixture
def scanner_env(world: World, monkeypatch: pytest.MonkeyPatch) -> World:
    """The process environment holds only the scanner's credentials."""
    for k in ("AWS_SESSION_TOKEN", "AWS_PROFILE", "AWS_SECURITY_TOKEN"):
        monkeypatch.delenv(k, raising=False)
    for k, v in world.env.items():
        monkeypatch.setenv(k, v)
    return world
