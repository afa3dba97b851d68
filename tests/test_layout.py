"""The house keeps its shape: services and tables are declared once, and the engine, the pacer and the
IAM policy generator read the declarations instead of naming them."""

from __future__ import annotations

import re
from pathlib import Path

import botocore.session
import pytest
from botocore import xform_name

import plugin
from plugin.aws.calls import _method
from plugin.tables import SERVICES, all_tables
from plugin.tables.least_privilege import policy_files

PKG = Path(plugin.__file__).parent
GENERIC = {"engine": PKG / "source" / "engine.py", "pacer": PKG / "aws" / "pacing.py",
           "IAM policy generator": PKG / "tables" / "least_privilege.py"}


def _names() -> list[str]:
    aws_services = {s.name for s in SERVICES if s.operations()}
    return sorted(aws_services | {t.name for t in all_tables()})


@pytest.mark.parametrize("what", sorted(GENERIC))
def test_generic_modules_name_no_service_and_no_table(what):
    text = GENERIC[what].read_text()
    found = [n for n in _names() if re.search(rf"(?<![\w-]){re.escape(n)}(?![\w-])", text)]
    assert not found, f"the {what} ({GENERIC[what].relative_to(PKG.parent)}) names {found}: read the declarations"


def test_every_declared_operation_is_a_boto3_method():
    session = botocore.session.get_session()
    for s in SERVICES:
        for op in s.operations():
            service, _, name = op.partition(":")
            client = session.create_client(service, region_name="us-east-1", aws_access_key_id="x",
                                           aws_secret_access_key="x")
            assert name in client.meta.service_model.operation_names, op
            assert hasattr(client, xform_name(name)) and _method(name) == xform_name(name), op


def test_operation_names_become_the_method_names_botocore_uses():
    # the hand-written snake-caser this replaced gave describe_dbinstances and get_samlprovider
    assert _method("DescribeDBInstances") == "describe_db_instances"
    assert _method("GetSAMLProvider") == "get_saml_provider"
    assert _method("GetBucketPolicyStatus") == "get_bucket_policy_status"


def test_quotas_and_iam_action_names_are_declared_for_operations_the_service_calls():
    for s in SERVICES:
        ops = s.operations()
        assert {f"{s.name}:{op}" for op in s.quotas} <= set(ops), s.name
        assert set(s.iam_actions) <= set(ops), s.name


def test_shipped_iam_policy_files_are_generated_from_the_declarations():
    for path, text in policy_files(PKG).items():
        assert path.read_text() == text, f"{path.name} is stale: run python -m plugin.cli.docs"


def test_no_module_over_700_lines():
    long = {str(p.relative_to(PKG.parent)): n for p in PKG.rglob("*.py")
            if (n := len(p.read_text().splitlines())) > 700}
    assert not long, long
