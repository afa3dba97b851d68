"""Credentials never appear in logs, errors or tables, even with aws_debug on."""

from __future__ import annotations

import json

import grpc
import pytest

from plugin.demo.world import COMPUTE, DATA, DENIED

from .grpc_client import PluginServer

pytestmark = pytest.mark.e2e  # our plugin server as a subprocess


def _all_secrets(world) -> set[str]:
    from moto.sts.models import sts_backends
    secrets = {world.scanner_secret}
    for _account, by_partition in sts_backends.items():
        for _p, backend in by_partition.items():
            for role in backend.assumed_roles:
                secrets.update({role.secret_access_key, role.session_token})
    return {s for s in secrets if s}


def test_no_secret_in_logs_errors_or_tables_with_aws_debug(world, tmp_path):
    log = tmp_path / "plugin.log"
    server = PluginServer(world.env, log_level="debug", log_file=log)
    try:
        spec = json.dumps(world.spec(accounts=[DATA, COMPUTE, DENIED], aws_debug=True)).encode()
        server.init(spec)
        tc = server.test_connection(spec)
        rows = server.sync()
    finally:
        text = server.stop()
    # The test must be able to fail: the debug log really holds the AWS traffic, including the
    # STS responses that carry credentials, and the sync really ran.
    assert "AssumeRole" in text and "SessionToken" in text, "aws_debug did not log AWS responses"
    assert rows["aws_kms_keys"]
    assert not tc.success and DENIED in tc.failure_description
    secrets = _all_secrets(world)
    assert len(secrets) >= 3
    tables_text = json.dumps(rows, default=str)
    for s in secrets:
        assert s not in text, "a secret reached the plugin's log"
        assert s not in tc.failure_description
        assert s not in tables_text


def test_bad_spec_fails_at_init_with_the_field_named(world, tmp_path):
    server = PluginServer(world.env, log_file=tmp_path / "p.log")
    try:
        with pytest.raises(grpc.RpcError) as ei:
            server.init(json.dumps({"accounts": [{"id": "12345"}]}).encode())
    finally:
        server.stop()
    assert ei.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "accounts[0].id" in ei.value.details() and "12-digit" in ei.value.details()
