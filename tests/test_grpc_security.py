"""The operator's allow-lists for what a gRPC caller's spec may point the plugin at.

The real server runs as a subprocess (`python -m plugin.cli serve`), restricted by flags or by the
environment variables the CloudQuery CLI can't bypass; Init and TestConnection are called over gRPC
as the CLI calls them. A refused spec is INVALID_ARGUMENT naming the field, and makes no request:
a listener standing in for the attacker's endpoint sees no connection.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any, Iterator

import grpc
import pytest
from cloudquery.plugin_v3 import plugin_pb2

from .grpc_client import PluginServer, free_port

pytestmark = pytest.mark.e2e  # our plugin server as a subprocess

REPO = Path(__file__).resolve().parent.parent
ALLOWED = "http://127.0.0.1:1"
ENV_VARS = ("AWS_ENCRYPTION_ALLOWED_ENDPOINTS", "AWS_ENCRYPTION_ALLOWED_PROFILES")


class Server(PluginServer):
    """`aws-encryption serve` with extra flags and environment; Init answers as a status code."""

    def __init__(self, flags: list[str], env: dict[str, str]) -> None:
        super().__init__(env, flags=flags, drop_env=ENV_VARS)

    def init(self, spec: dict[str, Any]) -> grpc.StatusCode:  # type: ignore[override]
        try:
            self.stub.Init(plugin_pb2.Init.Request(spec=json.dumps(spec).encode()), timeout=60)
        except grpc.RpcError as e:
            self.last_error = e.details()
            return e.code()
        self.last_error = ""
        return grpc.StatusCode.OK

    def test_connection(self, spec: dict[str, Any]) -> Any:  # type: ignore[override]
        return super().test_connection(json.dumps(spec).encode())


@pytest.fixture(scope="module")
def flags_server() -> Iterator[Server]:
    s = Server(["--allow-endpoint", ALLOWED, "--allow-endpoint", "http://127.0.0.1:3/",
                "--allow-profile", "audit", "--allow-profile", "readonly"], {})
    yield s
    s.stop()


@pytest.fixture(scope="module")
def env_server() -> Iterator[Server]:
    # The environment variables the CLI's `registry: local` can't leave out; profiles set but empty: none.
    s = Server([], {"AWS_ENCRYPTION_ALLOWED_ENDPOINTS": f"{ALLOWED}, http://127.0.0.1:3/",
                    "AWS_ENCRYPTION_ALLOWED_PROFILES": ""})
    yield s
    s.stop()


class Listener:
    """A TCP port standing in for the attacker's endpoint; counts the connections it gets."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.sock.settimeout(0.2)
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        self.connections = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            self.connections += 1
            conn.close()

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self.sock.close()


def endpoint_spec(url: str) -> dict[str, Any]:
    return {"regions": ["us-east-1"], "custom_endpoint_url": url, "custom_endpoint_hostname_immutable": True,
            "custom_endpoint_partition_id": "aws", "custom_endpoint_signing_region": "us-east-1"}


def profile_spec(where: str, profile: str) -> dict[str, Any]:
    if where == "accounts":
        return {"regions": ["us-east-1"], "accounts": [{"id": "111111111111"},
                                                       {"id": "222222222222", "local_profile": profile}]}
    return {"regions": ["us-east-1"], "org": {"member_role_name": "audit", where: {"local_profile": profile}}}


PROFILE_FIELDS = {"accounts": "accounts[1].local_profile", "admin_account": "org.admin_account.local_profile",
                  "member_trusted_principal": "org.member_trusted_principal.local_profile"}


# ---------------------------------------------------------------------------------------------
# custom_endpoint_url

@pytest.mark.parametrize("server", ["flags_server", "env_server"])
def test_an_endpoint_not_allowed_is_refused_naming_the_field(server: str, request: pytest.FixtureRequest) -> None:
    s: Server = request.getfixturevalue(server)
    for url in ("http://169.254.169.254", "http://127.0.0.1:10", "http://127.0.0.1:1.evil.example",
                "https://127.0.0.1:1"):  # exact match: no prefix, no other scheme
        assert s.init(endpoint_spec(url)) == grpc.StatusCode.INVALID_ARGUMENT, url
        assert s.last_error.startswith("spec field custom_endpoint_url:") and repr(url) in s.last_error
        assert len(s.last_error.splitlines()) == 1


@pytest.mark.parametrize("server", ["flags_server", "env_server"])
def test_an_allowed_endpoint_passes_init(server: str, request: pytest.FixtureRequest) -> None:
    s: Server = request.getfixturevalue(server)
    for url in (ALLOWED, ALLOWED + "/", "http://127.0.0.1:3"):
        assert s.init(endpoint_spec(url)) == grpc.StatusCode.OK, (url, s.last_error)
    assert s.init({"regions": ["us-east-1"]}) == grpc.StatusCode.OK  # AWS itself: always allowed


def test_test_connection_is_refused_without_a_request(flags_server: Server) -> None:
    attacker = Listener()
    try:
        r = flags_server.test_connection({**endpoint_spec(attacker.url), "accounts": [
            {"id": "111111111111", "role_arn": "arn:aws:iam::111111111111:role/world-admin"}]})
    finally:
        attacker.close()
    assert not r.success and r.failure_code == "INVALID_SPEC"
    assert r.failure_description.startswith("spec field custom_endpoint_url:")
    assert attacker.connections == 0  # no signed request left the plugin


def test_without_allow_lists_anything_goes(tmp_path: Path) -> None:
    s = Server([], {})
    try:
        assert s.init(endpoint_spec("http://127.0.0.1:10")) == grpc.StatusCode.OK, s.last_error
        assert s.init(profile_spec("accounts", "anyone")) == grpc.StatusCode.OK, s.last_error
    finally:
        s.stop()


# ---------------------------------------------------------------------------------------------
# local_profile

@pytest.mark.parametrize("where", list(PROFILE_FIELDS))
def test_a_profile_not_allowed_is_refused_naming_the_field(where: str, flags_server: Server) -> None:
    assert flags_server.init(profile_spec(where, "admin")) == grpc.StatusCode.INVALID_ARGUMENT
    assert flags_server.last_error.startswith(f"spec field {PROFILE_FIELDS[where]}: profile 'admin' ")
    assert flags_server.init(profile_spec(where, "audit")) == grpc.StatusCode.OK, flags_server.last_error


def test_profiles_set_but_empty_allows_only_default_credentials(env_server: Server) -> None:
    assert env_server.init(profile_spec("accounts", "audit")) == grpc.StatusCode.INVALID_ARGUMENT
    assert env_server.last_error.startswith("spec field accounts[1].local_profile:")
    assert env_server.init({"regions": ["us-east-1"], "accounts": [{"id": "111111111111"}]}) == grpc.StatusCode.OK


def test_test_connection_refuses_a_profile(env_server: Server) -> None:
    r = env_server.test_connection(profile_spec("admin_account", "admin"))
    assert not r.success and r.failure_description.startswith("spec field org.admin_account.local_profile:")


# ---------------------------------------------------------------------------------------------
# bad operator input

@pytest.mark.parametrize("flags, env, needle", [
    (["--allow-endpoint", "ftp://x"], {}, "--allow-endpoint"),
    ([], {"AWS_ENCRYPTION_ALLOWED_ENDPOINTS": "http://ok, not a url"}, "AWS_ENCRYPTION_ALLOWED_ENDPOINTS"),
])
def test_a_bad_allow_list_stops_the_server_at_once(flags: list[str], env: dict[str, str], needle: str) -> None:
    base = {k: v for k, v in os.environ.items() if k not in ENV_VARS}
    p = subprocess.run([sys.executable, "-m", "plugin.cli", "serve", "--address", f"127.0.0.1:{free_port()}",
                        *flags], cwd=REPO, env={**base, **env}, capture_output=True, text=True, timeout=60)
    assert p.returncode == 2
    lines = p.stderr.strip().splitlines()
    assert needle in lines[-1] and "http(s) URL" in lines[-1]
