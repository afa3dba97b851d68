"""A `local_profile` whose profile assumes a role (`role_arn` + `source_profile` in ~/.aws/config):
botocore makes that AssumeRole itself. With `custom_endpoint_url` set it must go to that endpoint,
not to the real STS (review M7), and its failure is the configured account's error row.

Observed on the wire: moto's server records every operation it is asked for.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import parse_qs

import pytest

from plugin.demo.world import DATA, DENIED, World, audit_role_arn

from .helpers import run_sync


def _write_profiles(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, world: World, role_arn: str) -> None:
    """~/.aws files of their own: `scanner` holds the scanner's keys, `audit` assumes `role_arn` from it."""
    (tmp_path / "credentials").write_text(
        f"[scanner]\naws_access_key_id = {world.scanner_key_id}\naws_secret_access_key = {world.scanner_secret}\n")
    (tmp_path / "config").write_text(
        f"[profile audit]\nrole_arn = {role_arn}\nsource_profile = scanner\nrole_session_name = profile-audit\n"
        "region = us-east-1\n")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "credentials"))


def _assume_roles(world: World, mark: int) -> list[dict[str, list[str]]]:
    """The AssumeRole requests moto received since `mark`, as their form parameters."""
    return [parse_qs(body.decode()) for service, op, body in world.server.since(mark)
            if service == "sts" and op == "AssumeRole"]


def _spec(world: World, account: str) -> dict:
    spec = world.spec(accounts=[])
    spec["accounts"] = [{"id": account, "local_profile": "audit"}]
    return spec


def test_profile_role_is_assumed_at_the_custom_endpoint(scanner_env: World, tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    world = scanner_env
    _write_profiles(tmp_path, monkeypatch, world, audit_role_arn(DATA))
    mark = world.server.mark()
    res = run_sync(_spec(world, DATA), tables=["aws_kms_keys"])
    sessions = [(p["RoleArn"][0], p["RoleSessionName"][0]) for p in _assume_roles(world, mark)]
    # the profile's own AssumeRole (its session name), received by moto, not sent to sts.amazonaws.com
    assert (audit_role_arn(DATA), "profile-audit") in sessions
    assert [e for e in res.errors() if e["operation"] in ("AssumeRole", "LoadCredentials", "GetCallerIdentity")] == []
    assert {r["account_id"] for r in res.table("aws_kms_keys")} == {DATA}


def test_denied_profile_role_is_an_error_row_of_the_configured_account(scanner_env: World, tmp_path: Path,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    world = scanner_env
    _write_profiles(tmp_path, monkeypatch, world, audit_role_arn(DENIED))
    mark = world.server.mark()
    res = run_sync(_spec(world, DENIED), tables=["aws_kms_keys"])
    assert (audit_role_arn(DENIED), "profile-audit") in [(p["RoleArn"][0], p["RoleSessionName"][0])
                                                         for p in _assume_roles(world, mark)]
    (err,) = res.errors(operation="AssumeRole")
    assert err["account_id"] == DENIED
    assert err["error_code"] == "AccessDenied", err
    assert res.table("aws_kms_keys") == []
