"""The plugin spec: every malformed spec fails with a message naming the field and the expected
form, before any AWS call; valid specs get the documented defaults; the JSON schema matches.

Specs are written as YAML, as users write them, then sent as JSON as the CLI does.
"""

from __future__ import annotations

import dataclasses
import json
import socket
import time
from typing import Any

import pytest
import yaml

from plugin.source import spec as spec_mod
from plugin.source.plugin import AwsEncryptionPlugin
from plugin.source.spec import SpecError, parse_spec

# Loopback port 9 (discard): nobody listens there, so any connection attempt would fail or hang.
DEAD_ENDPOINT = "http://127.0.0.1:9"
ENDPOINT_OK = {
    "custom_endpoint_url": DEAD_ENDPOINT,
    "custom_endpoint_partition_id": "aws",
    "custom_endpoint_signing_region": "us-east-1",
    "custom_endpoint_hostname_immutable": True,
}


def as_json(yaml_text: str) -> bytes:
    """What the CLI sends: the `spec:` block, YAML-parsed then JSON-encoded."""
    return json.dumps(yaml.safe_load(yaml_text)).encode()


# (case id, spec as YAML or raw bytes, expected message substring)
BAD_SPECS: list[tuple[str, str | bytes, str]] = [
    ("unknown-top-level-key", "region: [us-east-1]\n",
     "spec: unknown field 'region' (did you mean regions?); allowed fields are regions, accounts, org,"),
    ("unknown-account-key", "accounts:\n  - id: '111122223333'\n    profile: prod\n",
     "spec field accounts[0]: unknown field 'profile' (did you mean local_profile?); allowed fields are id, "
     "account_name, local_profile,"),
    ("account-id-not-12-digits", "accounts:\n  - id: '11112222333'\n",
     'spec field accounts[0].id: expected a 12-digit account id in quotes, e.g. "111122223333", got "11112222333"'),
    ("account-id-alias", "accounts:\n  - id: prod\n",
     'spec field accounts[0].id: expected a 12-digit account id in quotes, e.g. "111122223333", got "prod"'),
    ("account-id-integer", "accounts:\n  - id: 111122223333\n",
     'spec field accounts[0].id: expected a 12-digit account id in quotes, e.g. "111122223333", got 111122223333'),
    ("account-id-missing", "accounts:\n  - local_profile: prod\n",
     'spec field accounts[0].id: required; expected a 12-digit account id in quotes'),
    ("account-not-mapping", "accounts:\n  - '111122223333'\n",
     'spec field accounts[0]: expected an account (a mapping), got "111122223333"'),
    ("accounts-not-list", "accounts:\n  id: '111122223333'\n",
     'spec field accounts: expected a list of accounts, got {"id": "111122223333"}'),
    ("role-arn-malformed",
     "accounts:\n  - id: '111122223333'\n  - id: '444455556666'\n    role_arn: arn:aws:iam:444455556666:role/audit\n",
     'spec field accounts[1].role_arn: expected a role ARN like arn:aws:iam::111122223333:role/name, '
     'got "arn:aws:iam:444455556666:role/audit"'),
    ("role-arn-user-not-role",
     "accounts:\n  - id: '111122223333'\n    role_arn: arn:aws:iam::111122223333:user/audit\n",
     'spec field accounts[0].role_arn: expected a role ARN like arn:aws:iam::111122223333:role/name'),
    ("role-arn-other-account",
     "accounts:\n  - id: '111122223333'\n    role_arn: arn:aws:iam::444455556666:role/audit\n",
     "spec field accounts[0].role_arn: the role is in account 444455556666, but accounts[0].id is 111122223333; "
     "expected a role in the same account"),
    ("role-session-name-short",
     "accounts:\n  - id: '111122223333'\n    role_session_name: a\n",
     'spec field accounts[0].role_session_name: expected 2-64 characters [A-Za-z0-9+=,.@_-], got "a"'),
    ("region-malformed", "regions: [us-east-1, euwest1]\n",
     'spec field regions[1]: expected a region name like us-east-1, got "euwest1"'),
    ("region-not-string", "regions: [1]\n",
     "spec field regions[0]: expected a region name like us-east-1, got 1"),
    ("account-region-malformed", "accounts:\n  - id: '111122223333'\n    regions: [US-EAST-1]\n",
     'spec field accounts[0].regions[0]: expected a region name like us-east-1, got "US-EAST-1"'),
    ("default-region-malformed", "accounts:\n  - id: '111122223333'\n    default_region: global\n",
     'spec field accounts[0].default_region: expected a region name like us-east-1, got "global"'),
    ("star-not-first", "regions: [us-east-1, '*']\n",
     'spec field regions[1]: "*" is allowed only as the first and only region'),
    ("star-not-only", "regions: ['*', us-east-1]\n",
     'spec field regions: "*" must be the only region, got ["*", "us-east-1"]'),
    ("region-typo", "regions: [us-eest-1]\n",
     "spec field regions[0]: unknown region 'us-eest-1' (closest known: us-east-1); expected a region botocore "
     "knows, or add it to extra_regions"),
    ("region-unknown-number", "regions: [eu-west-1, eu-west-9]\n",
     "spec field regions[1]: unknown region 'eu-west-9' (closest known: eu-west-1)"),
    ("account-region-unknown", "accounts:\n  - id: '111122223333'\n    regions: [ap-southeast-9]\n",
     "spec field accounts[0].regions[0]: unknown region 'ap-southeast-9' (closest known: ap-southeast-1)"),
    ("default-region-unknown", "accounts:\n  - id: '111122223333'\n    default_region: us-east-7\n",
     "spec field accounts[0].default_region: unknown region 'us-east-7' (closest known: us-east-1)"),
    ("org-member-region-unknown", "org:\n  member_role_name: audit\n  member_regions: [eu-centrl-1]\n",
     "spec field org.member_regions[0]: unknown region 'eu-centrl-1' (closest known: eu-central-1)"),
    ("signing-region-unknown",
     f"custom_endpoint_url: {DEAD_ENDPOINT}\ncustom_endpoint_partition_id: aws\n"
     "custom_endpoint_hostname_immutable: true\ncustom_endpoint_signing_region: us-eest-1\n",
     "spec field custom_endpoint_signing_region: unknown region 'us-eest-1' (closest known: us-east-1)"),
    ("extra-region-not-a-region", "extra_regions: [mars]\n",
     'spec field extra_regions[0]: expected a region name like us-east-1, got "mars"'),
    ("extra-region-star", "extra_regions: ['*']\n",
     'spec field extra_regions[0]: expected a region name like us-east-1, got "*"'),
    ("regions-not-list", "regions: us-east-1\n",
     'spec field regions: expected a list of region names like ["us-east-1", "eu-west-1"], or ["*"], '
     'got "us-east-1"'),
    ("concurrency-zero", "concurrency: 0\n",
     "spec field concurrency: expected an integer from 1 to 1024, got 0"),
    ("concurrency-too-large", "concurrency: 50000\n",
     "spec field concurrency: expected an integer from 1 to 1024, got 50000"),
    ("concurrency-bool", "concurrency: true\n",
     "spec field concurrency: expected an integer from 1 to 1024, got true"),
    ("max-retries-negative", "max_retries: -1\n",
     "spec field max_retries: expected an integer from 0 to 50, got -1"),
    ("max-retries-string", "max_retries: '3'\n",
     'spec field max_retries: expected an integer from 0 to 50, got "3"'),
    ("max-retries-float", "max_retries: 2.5\n",
     "spec field max_retries: expected an integer from 0 to 50, got 2.5"),
    ("max-retries-too-large", "max_retries: 1000000000000\n",
     "spec field max_retries: expected an integer from 0 to 50, got 1000000000000"),
    ("max-backoff-zero", "max_backoff: 0\n",
     "spec field max_backoff: expected an integer from 1 to 3600, got 0"),
    ("max-backoff-too-large", "max_backoff: 100000000000000000000\n",
     "spec field max_backoff: expected an integer from 1 to 3600, got 100000000000000000000"),
    ("request-timeout-zero", "request_timeout: 0\n",
     "spec field request_timeout: expected an integer from 1 to 3600, got 0"),
    ("request-timeout-huge-float", b'{"request_timeout": 1e23}',
     "spec field request_timeout: expected an integer from 1 to 3600, got 1e+23"),
    ("initialization-concurrency-too-large", "initialization_concurrency: 257\n",
     "spec field initialization_concurrency: expected an integer from 1 to 256, got 257"),
    ("skip-string-false-bool", "use_paid_apis: 'false'\n",
     'spec field use_paid_apis: expected true or false, got "false"'),
    ("aws-debug-string", "aws_debug: 'yes'\n",
     'spec field aws_debug: expected true or false, got "yes"'),
    ("scheduler-unknown", "scheduler: bfs\n",
     'spec field scheduler: expected one of dfs, round-robin, shuffle, got "bfs"'),
    ("endpoint-url-not-http", "custom_endpoint_url: localhost:5000\n",
     'spec field custom_endpoint_url: expected an http:// or https:// URL, got "localhost:5000"'),
    ("endpoint-without-partition",
     f"custom_endpoint_url: {DEAD_ENDPOINT}\ncustom_endpoint_signing_region: us-east-1\n"
     "custom_endpoint_hostname_immutable: true\n",
     "spec field custom_endpoint_partition_id: required when custom_endpoint_url is set; "
     "expected one of aws, aws-cn,"),
    ("endpoint-without-signing-region",
     f"custom_endpoint_url: {DEAD_ENDPOINT}\ncustom_endpoint_partition_id: aws\n"
     "custom_endpoint_hostname_immutable: true\n",
     "spec field custom_endpoint_signing_region: required when custom_endpoint_url is set; "
     "expected a region name like us-east-1"),
    ("endpoint-without-hostname-immutable",
     f"custom_endpoint_url: {DEAD_ENDPOINT}\ncustom_endpoint_partition_id: aws\n"
     "custom_endpoint_signing_region: us-east-1\n",
     "spec field custom_endpoint_hostname_immutable: required when custom_endpoint_url is set; "
     "expected true or false"),
    ("partition-unknown", "custom_endpoint_partition_id: aws-mars\n",
     'spec field custom_endpoint_partition_id: expected one of aws, aws-cn, aws-us-gov, aws-iso, aws-iso-b, '
     'aws-iso-e, aws-iso-f, aws-eusc, got "aws-mars"'),
    ("org-with-accounts",
     "accounts:\n  - id: '111122223333'\norg:\n  member_role_name: aws-encryption-audit\n",
     "spec fields accounts and org: specifying accounts via both the accounts and org properties is not "
     "supported; use two source configurations"),
    ("org-without-member-role-name", "org:\n  member_regions: [us-east-1]\n",
     "spec field org.member_role_name: required; expected a role name (not an ARN) of 1-64 characters"),
    ("org-member-role-name-is-arn",
     "org:\n  member_role_name: arn:aws:iam::111122223333:role/aws-encryption-audit\n",
     "spec field org.member_role_name: expected a role name (not an ARN) of 1-64 characters "
     '[A-Za-z0-9+=,.@_-], got "arn:aws:iam::111122223333:role/aws-encryption-audit"'),
    ("org-ou-malformed",
     "org:\n  member_role_name: aws-encryption-audit\n  organization_units: [ou-abcd-12345678, ou-12]\n",
     'spec field org.organization_units[1]: expected an OU id (ou-xxxx-xxxxxxxx) or root id (r-xxxx), got "ou-12"'),
    ("org-skip-ou-malformed",
     "org:\n  member_role_name: aws-encryption-audit\n  skip_organization_units: [Sandbox]\n",
     'spec field org.skip_organization_units[0]: expected an OU id (ou-xxxx-xxxxxxxx) or root id (r-xxxx), '
     'got "Sandbox"'),
    ("org-unknown-key", "org:\n  member_role_name: aws-encryption-audit\n  admin_role: x\n",
     "spec field org: unknown field 'admin_role' (did you mean admin_account?); allowed fields are admin_account, "
     "member_trusted_principal,"),
    ("org-admin-account-unknown-key",
     "org:\n  member_role_name: aws-encryption-audit\n  admin_account:\n    id: '111122223333'\n",
     "spec field org.admin_account: unknown field 'id'; allowed fields are local_profile, role_arn, "
     "role_session_name, external_id"),
    ("org-skip-member-accounts-int",
     "org:\n  member_role_name: aws-encryption-audit\n  skip_member_accounts: [111122223333]\n",
     'spec field org.skip_member_accounts[0]: expected a 12-digit account id in quotes, e.g. "111122223333", '
     "got 111122223333"),
    ("trusted-accounts-not-list", "trusted_accounts: '111122223333'\n",
     'spec field trusted_accounts: expected a list of 12-digit account ids in quotes, got "111122223333"'),
    ("duplicated-account-id",
     "accounts:\n  - id: '111122223333'\n  - id: '444455556666'\n  - id: '111122223333'\n    local_profile: b\n",
     "spec field accounts[2].id: account 111122223333 is listed twice; expected each account once"),
    ("invalid-json", b'{"regions": ["us-east-1",]}', "spec: not valid JSON ("),
    ("json-duplicate-key", b'{"regions": ["us-east-1"], "regions": []}',
     'spec: key "regions" appears twice in one object; expected each key once'),
    ("json-deep-nesting", b'{"regions": ' + b"[" * 100_000 + b"]" * 100_000 + b"}",
     "spec: nested too deeply to parse; expected an ordinary spec"),
    ("json-huge-int", b'{"max_retries": ' + b"9" * 5000 + b"}", "spec: not valid JSON ("),
    ("not-a-mapping", b'["us-east-1"]', "expected the plugin spec (a mapping)"),
]


@pytest.mark.parametrize("raw,expected", [(r, e) for _, r, e in BAD_SPECS], ids=[i for i, _, _ in BAD_SPECS])
def test_bad_spec_names_field_and_expected_form(raw: str | bytes, expected: str) -> None:
    data = raw if isinstance(raw, bytes) else as_json(raw)
    with pytest.raises(SpecError) as e:
        parse_spec(data)
    assert expected in str(e.value)


def test_enough_bad_specs() -> None:
    assert len(BAD_SPECS) >= 14
    assert len({i for i, _, _ in BAD_SPECS}) == len(BAD_SPECS)


def test_spec_error_is_value_error() -> None:
    assert issubclass(SpecError, ValueError)


@pytest.mark.parametrize("raw", [None, b"", b"null", "{}", b"{}", {}])
def test_empty_spec_gets_defaults(raw: Any) -> None:
    s = parse_spec(raw)
    assert s.regions == [] and s.accounts == [] and s.org is None and s.trusted_accounts == []
    assert s.max_retries == 10
    assert s.max_backoff == 30
    assert s.concurrency == 32
    assert s.initialization_concurrency == 4
    assert s.request_timeout == 60
    assert s.scheduler == "shuffle"
    assert s.aws_debug is False and s.use_paid_apis is False
    assert s.custom_endpoint_url == "" and s.custom_endpoint_hostname_immutable is None
    assert s.partition == "aws"


def test_valid_spec_parses() -> None:
    s = parse_spec(as_json("""
regions: ["us-east-1", "eu-west-1"]
accounts:
  - id: "111122223333"
    account_name: prod
    local_profile: prod
  - id: "444455556666"
    role_arn: arn:aws:iam::444455556666:role/path/aws-encryption-audit
    role_session_name: posture-sync
    external_id: "ext-1234"
    default_region: eu-west-1
    regions: ["*"]
trusted_accounts: ["777788889999"]
max_retries: 0
concurrency: 1024
scheduler: dfs
custom_endpoint_url: http://127.0.0.1:9
custom_endpoint_partition_id: aws
custom_endpoint_signing_region: us-east-1
custom_endpoint_hostname_immutable: false
"""))
    assert s.regions == ["us-east-1", "eu-west-1"]
    a, b = s.accounts
    assert (a.id, a.account_name, a.local_profile, a.role_arn) == ("111122223333", "prod", "prod", "")
    assert a.default_region == "us-east-1" and a.regions == []
    assert a.label == "111122223333 (prod)"
    assert b.role_arn == "arn:aws:iam::444455556666:role/path/aws-encryption-audit"
    assert (b.role_session_name, b.external_id, b.default_region, b.regions) == (
        "posture-sync", "ext-1234", "eu-west-1", ["*"])
    assert b.label == "444455556666"
    assert s.trusted_accounts == ["777788889999"]
    # Explicit values win over defaults; the rest keep them.
    assert (s.max_retries, s.concurrency, s.scheduler) == (0, 1024, "dfs")
    assert (s.max_backoff, s.initialization_concurrency, s.request_timeout) == (30, 4, 60)
    assert s.custom_endpoint_hostname_immutable is False


def test_valid_org_spec_parses() -> None:
    s = parse_spec(as_json("""
org:
  admin_account:
    local_profile: management
  member_trusted_principal:
    role_arn: arn:aws:iam::111122223333:role/scanner
  member_role_name: aws-encryption-audit
  member_regions: ["*"]
  organization_units: [ou-abcd-12345678, r-abcd]
  skip_member_accounts: ["444455556666"]
"""))
    assert s.org is not None
    assert s.org.member_role_name == "aws-encryption-audit"
    assert s.org.admin_account is not None and s.org.admin_account.local_profile == "management"
    assert s.org.member_trusted_principal is not None
    assert s.org.member_trusted_principal.role_arn == "arn:aws:iam::111122223333:role/scanner"
    assert s.org.organization_units == ["ou-abcd-12345678", "r-abcd"]
    assert s.org.skip_member_accounts == ["444455556666"]
    assert s.accounts == []


def test_null_values_mean_default() -> None:
    """`regions:` with nothing after it is YAML null; it means "not set", not an error."""
    s = parse_spec(as_json("regions:\naccounts:\n  - id: '111122223333'\n    regions:\nmax_retries:\n"))
    assert s.regions == [] and s.accounts[0].regions == [] and s.max_retries == 10


# ---------------------------------------------------------------------------------------------
# init(): same messages as ValueError, raised before (and without) any AWS call.


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """Any attempt to open a connection is recorded and fails at once."""
    attempts: list[Any] = []

    def refuse(self: socket.socket, address: Any, *a: Any) -> Any:
        attempts.append(address)
        raise OSError(f"test: network call to {address} during init")

    def refuse_create(address: Any, *a: Any, **k: Any) -> Any:
        attempts.append(address)
        raise OSError(f"test: network call to {address} during init")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse_create)
    return attempts


@pytest.mark.parametrize("raw,expected", [(r, e) for _, r, e in BAD_SPECS], ids=[i for i, _, _ in BAD_SPECS])
def test_init_raises_value_error_with_same_message(raw: str | bytes, expected: str, no_network: list) -> None:
    if isinstance(raw, bytes):
        data = raw
    else:
        obj = yaml.safe_load(raw)
        # Point every bad spec at a dead endpoint where that doesn't change the error, so a
        # network call before validation would show as an attempt or a delay.
        if not any(k.startswith("custom_endpoint") for k in obj):
            obj.update(ENDPOINT_OK)
        data = json.dumps(obj).encode()
    p = AwsEncryptionPlugin()
    t0 = time.monotonic()
    with pytest.raises(ValueError) as e:
        p.init(data)
    assert time.monotonic() - t0 < 1.0
    assert expected in str(e.value)
    # The same message as parse_spec's, and not a SpecError leaking through.
    assert type(e.value) is ValueError
    assert no_network == []


def test_init_of_good_spec_makes_no_aws_call(no_network: list) -> None:
    good = as_json("""
regions: [us-east-1]
accounts:
  - id: "111122223333"
    role_arn: arn:aws:iam::111122223333:role/aws-encryption-audit
  - id: "444455556666"
    local_profile: does-not-exist
max_retries: 10
""")
    obj = {**json.loads(good), **ENDPOINT_OK}
    p = AwsEncryptionPlugin()
    t0 = time.monotonic()
    p.init(json.dumps(obj).encode())
    assert time.monotonic() - t0 < 0.5
    assert no_network == []
    assert p.spec.custom_endpoint_url == DEAD_ENDPOINT
    assert [a.id for a in p.spec.accounts] == ["111122223333", "444455556666"]


def test_init_without_connection_skips_spec() -> None:
    p = AwsEncryptionPlugin()
    p.init(b"", no_connection=True)  # what `package` does
    with pytest.raises(RuntimeError):
        _ = p.spec


def test_init_accepts_org_without_calling_aws(no_network: list) -> None:
    """Discovery happens at sync time; Init only validates."""
    p = AwsEncryptionPlugin()
    p.init(as_json("org:\n  member_role_name: aws-encryption-audit\n  organization_units: [ou-abcd-12345678]\n"))
    assert p.spec.org is not None and p.spec.org.organization_units == ["ou-abcd-12345678"]
    assert no_network == []


# ---------------------------------------------------------------------------------------------
# JSON schema (GetSpecSchema)


@pytest.fixture(scope="module")
def schema() -> dict[str, Any]:
    return json.loads(spec_mod.json_schema())


def _resolve(schema: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    # optional objects are {"anyOf": [{"$ref": ...}, {"type": "null"}]}: null means "not set"
    for alt in node.get("anyOf", []):
        if "$ref" in alt:
            node = alt
    ref = node.get("$ref")
    if ref is None:
        return node
    assert ref.startswith("#/$defs/"), ref
    return schema["$defs"][ref.removeprefix("#/$defs/")]


def test_schema_is_draft_2020_12_object(schema: dict[str, Any]) -> None:
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["type"] == "object"
    assert schema["additionalProperties"] is False


def test_schema_closed_objects(schema: dict[str, Any]) -> None:
    props = schema["properties"]
    account = _resolve(schema, props["accounts"]["items"])
    org = _resolve(schema, props["org"])
    assert account["type"] == "object" and account["additionalProperties"] is False
    assert account["required"] == ["id"]
    assert org["type"] == "object" and org["additionalProperties"] is False
    assert org["required"] == ["member_role_name"]
    for cred in ("admin_account", "member_trusted_principal"):
        c = _resolve(schema, org["properties"][cred])
        assert c["type"] == "object" and c["additionalProperties"] is False


def test_schema_lists_every_field_parse_spec_accepts(schema: dict[str, Any]) -> None:
    props = schema["properties"]
    account = _resolve(schema, props["accounts"]["items"])
    org = _resolve(schema, props["org"])
    cred = _resolve(schema, org["properties"]["admin_account"])
    assert set(props) == set(spec_mod._SPEC_FIELDS)
    assert set(account["properties"]) == set(spec_mod._ACCOUNT_FIELDS)
    assert set(org["properties"]) == set(spec_mod._ORG_FIELDS)
    assert set(cred["properties"]) == set(spec_mod._CRED_FIELDS)
    # ...and the field tables are exactly the dataclasses parse_spec builds.
    assert set(spec_mod._SPEC_FIELDS) == {f.name for f in dataclasses.fields(spec_mod.Spec)}
    assert set(spec_mod._ACCOUNT_FIELDS) == {f.name for f in dataclasses.fields(spec_mod.Account)}
    assert set(spec_mod._ORG_FIELDS) == {f.name for f in dataclasses.fields(spec_mod.Org)}
    assert set(spec_mod._CRED_FIELDS) == {f.name for f in dataclasses.fields(spec_mod.Credentials)}
    for where, fields in (("spec", props), ("account", account["properties"]), ("org", org["properties"])):
        for name, p in fields.items():
            assert p.get("description"), f"{where}.{name} has no description"


def test_schema_accepts_a_full_spec_and_rejects_unknown_keys(schema: dict[str, Any]) -> None:
    jsonschema = pytest.importorskip("jsonschema")
    v = jsonschema.Draft202012Validator(schema)
    v.check_schema(schema)
    full = {
        "regions": ["*"],
        "accounts": [{"id": "111122223333", "account_name": "prod", "local_profile": "prod",
                      "role_arn": "arn:aws:iam::111122223333:role/aws-encryption-audit",
                      "role_session_name": "s1", "external_id": "x1", "default_region": "us-east-1",
                      "regions": ["us-east-1"]}],
        "trusted_accounts": ["444455556666"], "aws_debug": False, "max_retries": 10, "max_backoff": 30,
        "initialization_concurrency": 4, "concurrency": 64, "request_timeout": 60, "scheduler": "shuffle",
        "use_paid_apis": False, **ENDPOINT_OK,
    }
    parse_spec(full)
    assert list(v.iter_errors(full)) == []
    org = {"org": {"member_role_name": "r", "admin_account": {"local_profile": "m"},
                   "organization_units": ["ou-abcd-12345678"], "skip_member_accounts": ["444455556666"]}}
    parse_spec(org)
    assert list(v.iter_errors(org)) == []
    for bad in ({"region": ["us-east-1"]}, {"accounts": [{"id": "111122223333", "profile": "p"}]},
                {"org": {"member_role_name": "r", "x": 1}}, {"org": {}}, {"accounts": [{"id": 111122223333}]},
                {"concurrency": 0}, {"concurrency": 1025}, {"max_retries": -1}):
        assert list(v.iter_errors(bad)), bad
        with pytest.raises(SpecError):
            parse_spec(bad)


# ---------------------------------------------------------------------------------------------
# Regressions: a YAML null id, and patterns that must be ASCII and anchored at the very end.


def test_account_id_null_is_a_spec_error() -> None:
    with pytest.raises(SpecError, match=r"^spec field accounts\[0\]\.id: required"):
        parse_spec(as_json("accounts:\n  - id:\n    local_profile: prod\n"))


@pytest.mark.parametrize("obj", [
    {"accounts": [{"id": "111122223333\n"}]},
    {"accounts": [{"id": "\u0661" * 12}]},  # ARABIC-INDIC DIGIT ONE x 12
    {"regions": ["us-east-1\n"]},
    {"accounts": [{"id": "111122223333", "role_arn": "arn:aws:iam::111122223333:role/r\u00e9le"}]},
], ids=["id-trailing-newline", "id-non-ascii-digits", "region-trailing-newline", "role-arn-non-ascii"])
def test_patterns_are_ascii_and_anchored(obj: dict[str, Any]) -> None:
    with pytest.raises(SpecError):
        parse_spec(obj)


# ---------------------------------------------------------------------------------------------
# Bounds, regions botocore knows, and messages that stay one short line.


def test_schema_has_the_upper_bounds(schema: dict[str, Any]) -> None:
    props = schema["properties"]
    bounds = {k: (props[k].get("minimum"), props[k].get("maximum")) for k in
              ("max_retries", "max_backoff", "request_timeout", "initialization_concurrency", "concurrency")}
    assert bounds == {"max_retries": (0, 50), "max_backoff": (1, 3600), "request_timeout": (1, 3600),
                      "initialization_concurrency": (1, 256), "concurrency": (1, 1024)}
    for k in bounds:  # each bound is documented in the field's description
        assert f"at most {bounds[k][1]}" in props[k]["description"], k
    assert props["extra_regions"]["items"]["pattern"] == spec_mod.REGION_RE.pattern


@pytest.mark.parametrize("field, top", [("max_retries", 50), ("max_backoff", 3600), ("request_timeout", 3600),
                                        ("initialization_concurrency", 256), ("concurrency", 1024)])
def test_upper_bounds_are_inclusive(field: str, top: int) -> None:
    assert getattr(parse_spec({field: top}), field) == top
    with pytest.raises(SpecError, match=rf"^spec field {field}: expected an integer from \d+ to {top}, got {top + 1}$"):
        parse_spec({field: top + 1})


def test_known_regions_come_from_botocore() -> None:
    known = spec_mod.known_regions()
    assert {"us-east-1", "eu-west-1", "cn-north-1", "us-gov-west-1", "eusc-de-east-1"} <= known
    assert "aws-global" not in known and "us-eest-1" not in known


def test_extra_regions_accept_a_region_newer_than_botocore() -> None:
    raw = {"regions": ["us-east-1", "xx-newregion-1"], "extra_regions": ["xx-newregion-1"],
           "accounts": [{"id": "111122223333", "default_region": "xx-newregion-1", "regions": ["xx-newregion-1"]}]}
    s = parse_spec(json.dumps(raw).encode())
    assert s.extra_regions == ["xx-newregion-1"] and s.regions == ["us-east-1", "xx-newregion-1"]
    assert s.accounts[0].default_region == "xx-newregion-1"
    with pytest.raises(SpecError, match=r"^spec field regions\[1\]: unknown region 'xx-newregion-1'"):
        parse_spec({"regions": ["us-east-1", "xx-newregion-1"]})


def test_star_is_not_checked_against_botocore() -> None:
    assert parse_spec({"regions": ["*"], "org": {"member_role_name": "r", "member_regions": ["*"]}}).regions == ["*"]


@pytest.mark.parametrize("raw", [
    {"accounts": [{"id": "1" * 100_000}]},
    {"regions": ["x" * 100_000]},
    {"k" * 100_000: 1},
    {"accounts": {"id": ["a"] * 100_000}},
    {"accounts": [{"id": "\x1b[2J\x1b]0;title\x07\n\r"}]},
    {"regions": [["us-east-1"] * 50] * 50},
], ids=["long-id", "long-region", "long-key", "big-structure", "control-characters", "nested-lists"])
def test_messages_are_one_short_printable_line(raw: dict[str, Any]) -> None:
    with pytest.raises(SpecError) as e:
        parse_spec(raw)
    msg = str(e.value)
    assert len(msg.encode()) <= spec_mod.MAX_MESSAGE and msg.isprintable(), msg


def test_one_line_caps_bytes_not_characters() -> None:
    out = spec_mod.one_line("\u00e9" * 400)
    assert len(out.encode()) <= spec_mod.MAX_MESSAGE and out.endswith("\u2026")
    assert spec_mod.one_line("a\nb\x1bc") == "a\\nb\\x1bc"
