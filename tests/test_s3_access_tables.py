"""Who can reach a bucket, the sync side: ACL grants, replication, logging, access points, Multi-Region
Access Points and each account's organisation, synced from moto (tests/access_world.py, the demo
world's organisation) and watched on the wire: each call is made only where it can matter, failures
are error rows naming the bucket and the call, unread listings are coverage errors, and what the
derived tables read (each bucket's item, the sync's Index) is as documented in
plugin/source/sync_index.py and plugin/tables/s3/.

Where moto differs from AWS the answers are shaped at the emulator's edge (plugin/demo/world.py,
shape_s3_access_answers; docs/architecture.md): moto gives every account one canonical user id, lists
every access point in every Region without BucketAccountId, and omits BucketAccountId from a
Multi-Region Access Point's Regions.
"""

from __future__ import annotations

import json
import threading
import uuid
from collections import Counter
from typing import Any, Iterator

import botocore.session
import pytest

from plugin.demo.server import operation_of
from plugin.demo.world import COMPUTE, DATA, ORG_MANAGEMENT, SCANNER, canonical_user_id
from plugin.source.sync_index import Index
from plugin.tables.s3.bucket_loggings import LOGGINGS
from plugin.tables.schema import cq_id

from .access_world import ACCESS, PEER
from .helpers import SyncResult, environment, run_sync
from .org_world import org_spec

ACCOUNTS = [DATA, COMPUTE, ACCESS]
REGIONS = ("us-east-1", "eu-west-1")
NEW_TABLES = ("aws_s3_bucket_grants", "aws_s3_bucket_replications", "aws_s3_bucket_loggings", "aws_s3_access_points",
              "aws_s3_multi_region_access_points", "aws_organizations")


def _json(b: Any) -> Any:
    return None if b is None else json.loads(b)


def _arn(bucket: str) -> str:
    return f"arn:aws:s3:::{bucket}"


def _spy() -> Any:
    """A fault that never fires: records (service, operation, request detail, signing region)."""
    seen: list[tuple[str, str, str, str]] = []
    lock = threading.Lock()

    def spy(service: str, op: str, body: bytes, region: str) -> None:
        with lock:
            seen.append((service, op, body.decode(errors="replace"), region))
        return None

    spy.seen = seen  # type: ignore[attr-defined]
    return spy


def _sync_capturing_items(world: Any, spec: dict[str, Any]) -> tuple[SyncResult, dict[str, dict[str, Any]]]:
    """A sync, and each bucket's item (the dict its children share) by bucket name, as the derived
    tables see it: captured when aws_s3_bucket_loggings, the last access-path child, resolves."""
    items: dict[str, dict[str, Any]] = {}
    original = LOGGINGS.resolve

    def capture(ctx: Any, parent: Any) -> Iterator[dict[str, Any]]:
        items[parent.row["name"]] = parent.item
        return original(ctx, parent)

    with environment(world.env), pytest.MonkeyPatch.context() as mp:
        mp.setattr(LOGGINGS, "resolve", capture)
        res = run_sync(spec)
    return res, items


@pytest.fixture(scope="module")
def synced(world, access):
    spy = _spy()
    world.server.faults.append(spy)
    try:
        res, items = _sync_capturing_items(world, world.spec(accounts=ACCOUNTS))
    finally:
        world.server.faults.remove(spy)
    return res, items, spy.seen


# ---------------------------------------------------------------------------------------------
# The tables

def test_bucket_grants_with_acls_in_force(synced, access):
    res, _, _ = synced
    arn = _arn(access.buckets["acl"])
    rows = {(r["grantee_id"], r["permission"]): r for r in res.table("aws_s3_bucket_grants") if r["bucket_arn"] == arn}
    owner, peer = canonical_user_id(ACCESS), canonical_user_id(PEER)
    assert set(rows) == {(owner, "FULL_CONTROL"), (peer, "READ")}
    r = rows[(peer, "READ")]
    assert r["account_id"] == ACCESS and r["grantee_type"] == "CanonicalUser"
    assert _json(r["grantee"]) == {"Type": "CanonicalUser", "ID": peer}
    assert r["owner_id"] == owner, "(ours) tells the owner's own grant from the others"
    assert uuid.UUID(bytes=r["_cq_id"]) == cq_id({"bucket_arn": arn, "grantee_type": "CanonicalUser",
                                                   "grantee_id": peer, "permission": "READ"})
    assert r["_cq_parent_id"] == res.one("aws_s3_buckets", arn=arn)["_cq_id"]


def test_acl_asked_only_while_acls_are_in_force(synced, world, access):
    res, _, seen = synced
    asked = {d.split("?")[0].strip("/") for s, op, d, _ in seen if op == "GetBucketAcl"}
    enforced = {access.buckets["enforced"], f"cmk-bucket-{DATA}", f"org-shared-{DATA}"}
    synced_buckets = {r["name"] for r in res.table("aws_s3_buckets")}
    assert asked == synced_buckets - enforced, "BucketOwnerEnforced: not asked; not configured or preferred: asked"
    assert Counter(op for _, op, _, _ in seen)["GetBucketAcl"] == len(asked), "once per bucket"
    assert not {r["bucket_arn"] for r in res.table("aws_s3_bucket_grants")} & {_arn(b) for b in enforced}
    # a bucket without ownership controls (ACLs enabled, the default of older buckets) has its owner grant
    lake = res.one("aws_s3_bucket_grants", bucket_arn=_arn(f"data-lake-{DATA}"))
    assert lake["grantee_id"] == lake["owner_id"] == canonical_user_id(DATA)


def test_bucket_replications(synced, access):
    res, _, seen = synced
    rows = res.table("aws_s3_bucket_replications")
    assert [r["bucket_arn"] for r in rows] == [_arn(access.buckets["replicated"])], "no row when not configured"
    r = rows[0]
    assert r["account_id"] == ACCESS
    assert uuid.UUID(bytes=r["_cq_id"]) == cq_id({"bucket_arn": r["bucket_arn"]})
    config = _json(r["replication_configuration"])
    assert config["Role"] == access.replication_role
    dest = config["Rules"][0]["Destination"]
    assert dest["Bucket"] == _arn(access.replica_bucket) and dest["Account"] == PEER
    assert dest["EncryptionConfiguration"] == {"ReplicaKmsKeyID": access.keys["replica"]}
    assert Counter(op for _, op, _, _ in seen)["GetBucketReplication"] == len(res.table("aws_s3_buckets"))
    assert not res.errors(operation="GetBucketReplication"), "ReplicationConfigurationNotFoundError is absent"


def test_bucket_loggings_one_row_per_bucket(synced, access):
    res, _, seen = synced
    rows = {r["bucket_arn"]: r for r in res.table("aws_s3_bucket_loggings")}
    assert set(rows) == {r["arn"] for r in res.table("aws_s3_buckets")}, "logging off is a row too"
    on = rows[_arn(access.buckets["logged"])]
    assert _json(on["logging_enabled"]) == {"TargetBucket": access.buckets["logs"], "TargetPrefix": "logged/"}
    assert uuid.UUID(bytes=on["_cq_id"]) == cq_id({"bucket_arn": on["bucket_arn"]})
    assert rows[_arn(access.buckets["logs"])]["logging_enabled"] is None
    assert Counter(op for _, op, _, _ in seen)["GetBucketLogging"] == len(rows)


def test_access_points(synced, access):
    res, _, seen = synced
    rows = {r["name"]: r for r in res.table("aws_s3_access_points")}
    assert set(rows) == {"access-ap", "access-ap-plain"}
    r = rows["access-ap"]
    assert r["arn"] == r["access_point_arn"] == access.access_point_arn
    assert (r["account_id"], r["region"], r["bucket"]) == (ACCESS, "us-east-1", access.buckets["ap"])
    assert r["bucket_account_id"] == ACCESS and r["network_origin"] == "Internet" and r["alias"]
    assert r["vpc_configuration"] is None and r["_cq_parent_id"] is None
    assert uuid.UUID(bytes=r["_cq_id"]) == cq_id({"arn": r["arn"]})
    assert _json(r["policy"]) == json.loads(access.access_point_policy)
    assert rows["access-ap-plain"]["policy"] is None, "NoSuchAccessPointPolicy: NULL, no error"
    assert not res.errors(operation="GetAccessPointPolicy")
    ops = Counter((op, region) for s, op, _, region in seen if s == "s3control")
    # listed once per account and Region, with the Region's endpoint; a policy asked per access point
    assert {r: ops[("ListAccessPoints", r)] for r in REGIONS} == {r: len(ACCOUNTS) for r in REGIONS}
    assert ops[("GetAccessPointPolicy", "us-east-1")] == 2
    cov = [c for c in res.table("aws_encryption_sync_coverage") if c["operation"] == "ListAccessPoints"]
    assert {(c["account_id"], c["region"], c["status"]) for c in cov} == \
        {(a, r, "ok") for a in ACCOUNTS for r in REGIONS}
    assert {c["resources"] for c in cov if c["account_id"] == ACCESS and c["region"] == "us-east-1"} == {2}


def test_multi_region_access_points(synced, access):
    res, _, seen = synced
    rows = res.table("aws_s3_multi_region_access_points")
    assert len(rows) == 1
    r = rows[0]
    assert r["name"] == access.mrap_name and r["account_id"] == ACCESS and r["status"] == "READY"
    assert r["alias"].endswith(".mrap") and r["arn"] == f"arn:aws:s3::{ACCESS}:accesspoint/{r['alias']}"
    assert uuid.UUID(bytes=r["_cq_id"]) == cq_id({"arn": r["arn"]})
    assert r["created_at"] is not None
    assert _json(r["regions"]) == [{"Bucket": access.buckets["mrap"], "Region": "us-east-1", "BucketAccountId": ACCESS}]
    assert _json(r["public_access_block"])["BlockPublicPolicy"] is True
    assert _json(r["policy"]) == json.loads(access.mrap_policy)
    # the control plane answers in us-west-2 only: both calls go there, once per account and MRAP
    ops = Counter((op, region) for s, op, _, region in seen if s == "s3control" and "MultiRegion" in op)
    assert ops == {("ListMultiRegionAccessPoints", "us-west-2"): len(ACCOUNTS),
                   ("GetMultiRegionAccessPointPolicy", "us-west-2"): 1}


def test_organizations_from_each_member_account(synced, world):
    res, _, seen = synced
    rows = {r["request_account_id"]: r for r in res.table("aws_organizations")}
    assert set(rows) == {DATA, COMPUTE}, "ACCESS is in no organisation: no row and no error"
    r = rows[COMPUTE]
    assert r["id"] == world.org_id and r["arn"].endswith(f"/{world.org_id}")
    assert (r["master_account_id"], r["feature_set"]) == (ORG_MANAGEMENT, "ALL")
    assert r["master_account_arn"].endswith(f"/{ORG_MANAGEMENT}") and r["master_account_email"]
    assert uuid.UUID(bytes=r["_cq_id"]) == cq_id({"request_account_id": COMPUTE, "arn": r["arn"]})
    assert not res.errors(operation="DescribeOrganization")
    assert Counter(op for _, op, _, _ in seen)["DescribeOrganization"] == len(ACCOUNTS)


def test_demo_world_shares_a_bucket_with_its_organisation(synced, world):
    res, _, _ = synced
    name = f"org-shared-{DATA}"
    policy = _json(res.one("aws_s3_bucket_policies", bucket_arn=_arn(name))["policy_json"])
    st = policy["Statement"][0]
    assert st["Principal"] == "*" and st["Condition"] == {"StringEquals": {"aws:PrincipalOrgID": world.org_id}}
    rule = res.one("aws_s3_bucket_encryption_rules", bucket_arn=_arn(name))
    assert _json(rule["apply_server_side_encryption_by_default"]) == {"SSEAlgorithm": "aws:kms"}, "aws/s3"


def test_nothing_failed(synced):
    res, _, _ = synced
    # COMPUTE's audit role lacks kms:GetKeyRotationStatus on purpose (plugin/demo/world.py); nothing else fails
    assert {e["operation"] for e in res.table("aws_encryption_sync_errors")} == {"GetKeyRotationStatus"}
    assert all(c["status"] == "ok" for c in res.table("aws_encryption_sync_coverage"))


# ---------------------------------------------------------------------------------------------
# What the derived tables read: each bucket's item and the sync's Index

def test_bucket_items_for_the_derived_tables(synced, access):
    _, items, _ = synced
    acl = items[access.buckets["acl"]]
    assert acl["_ownership"] == "BucketOwnerPreferred" and acl["_acl_read"] is True
    assert acl["_acl"]["Owner"]["ID"] == canonical_user_id(ACCESS)
    assert {(g["Grantee"]["ID"], g["Permission"]) for g in acl["_acl"]["Grants"]} == \
        {(canonical_user_id(ACCESS), "FULL_CONTROL"), (canonical_user_id(PEER), "READ")}
    enforced = items[access.buckets["enforced"]]
    assert (enforced["_ownership"], enforced["_acl"], enforced["_acl_read"]) == ("BucketOwnerEnforced", None, None)
    lake = items[f"data-lake-{DATA}"]
    assert lake["_ownership"] is None and lake["_acl_read"] is True, "not configured: unknown, so asked"
    assert items[access.buckets["replicated"]]["_replication"]["Rules"][0]["Destination"]["Account"] == PEER
    assert items[access.buckets["logged"]]["_logging"] == {"TargetBucket": access.buckets["logs"],
                                                          "TargetPrefix": "logged/"}
    for name, item in items.items():
        if name != access.buckets["replicated"]:
            assert item["_replication"] == {}, name
        if name != access.buckets["logged"]:
            assert item["_logging"] == {}, name


def test_index_access_paths_and_organisations(synced, world, access):
    res, _, _ = synced
    idx = res.engine.index
    aps = idx.access_points_of(access.buckets["ap"])
    assert [(a.arn.rsplit("/", 1)[1], a.account, a.region, a.bucket_account_id, a.policy_read) for a in aps] == [
        ("access-ap", ACCESS, "us-east-1", ACCESS, True), ("access-ap-plain", ACCESS, "us-east-1", ACCESS, True)]
    assert aps[0].policy == access.access_point_policy and aps[1].policy is None
    assert idx.access_points_of(access.buckets["acl"]) == []
    [mrap] = idx.mraps_of_bucket(access.buckets["mrap"])
    assert mrap.account == ACCESS and mrap.policy == access.mrap_policy and mrap.policy_read
    assert mrap.arn == res.one("aws_s3_multi_region_access_points", name=access.mrap_name)["arn"]
    assert mrap.regions == [{"Bucket": access.buckets["mrap"], "Region": "us-east-1", "BucketAccountId": ACCESS}]
    assert idx.mraps_of_bucket(access.buckets["ap"]) == []
    [src] = idx.log_sources_of(access.buckets["logs"])
    assert (src.source_bucket_arn, src.target_prefix) == (_arn(access.buckets["logged"]), "logged/")
    assert idx.log_sources_of(access.buckets["logged"]) == []
    assert idx.org_of(DATA) == idx.org_of(COMPUTE) == world.org_id
    assert idx.org_of(ACCESS) is None and idx.org_of(PEER) is None
    assert idx.org_accounts(world.org_id) == {DATA, COMPUTE, ORG_MANAGEMENT}
    assert idx.org_accounts("o-somebodyelse") == set(), "a foreign organisation has no known account"
    assert idx.org_master(world.org_id) == ORG_MANAGEMENT
    assert idx.account_of_canonical_user(canonical_user_id(ACCESS)) == ACCESS
    assert idx.account_of_canonical_user(canonical_user_id(PEER)) is None


def test_discovery_puts_every_listed_account_in_the_organisation(scanner_env, org):
    """With `org`, DescribeOrganization (admin credentials) names the organisation of every account
    ListAccounts returned, the skipped and unsynced ones included."""
    # the management account (SCANNER) has no audit role: it is listed, not synced, like m3
    spec = org_spec(scanner_env, org, skip_member_accounts=[org.members["m3"], SCANNER])
    res = run_sync(spec, tables=["aws_organizations_accounts", "aws_organizations"])
    rows = {r["request_account_id"]: r for r in res.table("aws_organizations")}
    m1, m2, m3 = (org.members[m] for m in ("m1", "m2", "m3"))
    assert set(rows) == {m1, m2}, "each synced member asks with its own audit role"
    org_id = rows[m1]["id"]
    assert rows[m1]["master_account_id"] == SCANNER and rows[m2]["id"] == org_id
    idx = res.engine.index
    assert idx.org_accounts(org_id) == {SCANNER, m1, m2, m3}
    assert idx.org_of(m3) == org_id, "listed by discovery, not synced"
    assert not res.table("aws_encryption_sync_errors")


# ---------------------------------------------------------------------------------------------
# Failures: error rows for one bucket's call, coverage errors for listings

def _deny(match: Any) -> Any:
    def fault(service: str, op: str, body: bytes, region: str) -> Any:
        return (403, "AccessDenied") if match(service, op, body.decode(errors="replace"), region) else None
    return fault


def test_denied_per_resource_calls_are_error_rows(world, access):
    acl, repl, logged = access.buckets["acl"], access.buckets["replicated"], access.buckets["logged"]
    denied = {("GetBucketAcl", acl), ("GetBucketReplication", repl), ("GetBucketLogging", logged)}
    fault = _deny(lambda s, op, d, r: (op, d.split("?")[0].strip("/")) in denied
                  or (op == "GetAccessPointPolicy" and "/access-ap/" in d) or op == "GetMultiRegionAccessPointPolicy")
    world.server.faults.append(fault)
    try:
        res, items = _sync_capturing_items(world, world.spec(accounts=[ACCESS]))
    finally:
        world.server.faults.remove(fault)
    errs = {(e["operation"], e["resource_arn"]): e for e in res.table("aws_encryption_sync_errors")}
    mrap_arn = res.one("aws_s3_multi_region_access_points", name=access.mrap_name)["arn"]
    assert set(errs) == {("GetBucketAcl", _arn(acl)), ("GetBucketReplication", _arn(repl)),
                         ("GetBucketLogging", _arn(logged)), ("GetAccessPointPolicy", access.access_point_arn),
                         ("GetMultiRegionAccessPointPolicy", mrap_arn)}
    e = errs[("GetBucketAcl", _arn(acl))]
    assert (e["account_id"], e["region"], e["table_name"], e["service"], e["error_code"]) == \
        (ACCESS, "us-east-1", "aws_s3_bucket_grants", "s3", "AccessDenied")
    assert errs[("GetBucketReplication", _arn(repl))]["table_name"] == "aws_s3_bucket_replications"
    assert errs[("GetBucketLogging", _arn(logged))]["table_name"] == "aws_s3_bucket_loggings"
    e = errs[("GetMultiRegionAccessPointPolicy", mrap_arn)]
    assert (e["service"], e["region"], e["table_name"]) == ("s3control", "us-west-2", "aws_s3_multi_region_access_points")
    # unreadable is not "none": no rows, and the item and index say "could not read"
    assert not [r for r in res.table("aws_s3_bucket_grants") if r["bucket_arn"] == _arn(acl)]
    assert not [r for r in res.table("aws_s3_bucket_loggings") if r["bucket_arn"] == _arn(logged)]
    assert not res.table("aws_s3_bucket_replications")
    assert (items[acl]["_acl"], items[acl]["_acl_read"]) == (None, False)
    assert items[repl]["_replication"] is None and items[logged]["_logging"] is None
    assert items[access.buckets["logs"]]["_logging"] == {} and items[acl]["_replication"] == {}
    ap = res.one("aws_s3_access_points", name="access-ap")
    assert ap["policy"] is None
    idx = res.engine.index
    assert [(a.policy, a.policy_read) for a in idx.access_points_of(access.buckets["ap"])] == [(None, False),
                                                                                              (None, True)]
    [mrap] = idx.mraps_of_bucket(access.buckets["mrap"])
    assert (mrap.policy, mrap.policy_read) == (None, False)
    assert idx.log_sources_of(access.buckets["logs"]) == []
    assert all(c["status"] == "ok" for c in res.table("aws_encryption_sync_coverage")), "listings were read"


def test_denied_listings_are_coverage_errors(world, access):
    fault = _deny(lambda s, op, d, r: (op == "ListAccessPoints" and r == "us-east-1")
                  or op in ("ListMultiRegionAccessPoints", "DescribeOrganization"))
    world.server.faults.append(fault)
    try:
        with environment(world.env):
            res = run_sync(world.spec(accounts=[DATA, ACCESS]))
    finally:
        world.server.faults.remove(fault)
    bad = {(c["account_id"], c["region"], c["table_name"], c["operation"], c["error_code"])
           for c in res.table("aws_encryption_sync_coverage") if c["status"] == "error"}
    assert bad == {(a, "us-east-1", "aws_s3_access_points", "ListAccessPoints", "AccessDenied") for a in (DATA, ACCESS)} \
        | {(a, "", "aws_s3_multi_region_access_points", "ListMultiRegionAccessPoints", "AccessDenied")
           for a in (DATA, ACCESS)} \
        | {(a, "", "aws_organizations", "DescribeOrganization", "AccessDenied") for a in (DATA, ACCESS)}
    tables = {c["table_name"]: c["tables"] for c in res.table("aws_encryption_sync_coverage") if c["status"] == "error"}
    assert tables["aws_s3_access_points"] == ["aws_s3_access_points"]
    eu = [c for c in res.table("aws_encryption_sync_coverage")
          if c["operation"] == "ListAccessPoints" and c["region"] == "eu-west-1"]
    assert {c["status"] for c in eu} == {"ok"}
    assert not res.table("aws_s3_access_points") and not res.table("aws_s3_multi_region_access_points")
    assert not res.table("aws_organizations") and res.engine.index.org_of(DATA) is None
    assert res.table("aws_s3_buckets"), "the rest synced"


# ---------------------------------------------------------------------------------------------
# Fast: the emulator's operation names, the S3 Control host, the Index

@pytest.mark.parametrize("method, path, query, op", [
    ("GET", "/bucket", "acl", ("s3", "GetBucketAcl")),
    ("GET", "/bucket", "replication", ("s3", "GetBucketReplication")),
    ("GET", "/bucket", "logging", ("s3", "GetBucketLogging")),
    ("GET", "/v20180820/accesspoint", "maxResults=1000", ("s3control", "ListAccessPoints")),
    ("GET", "/v20180820/accesspoint/my-ap/policy", "", ("s3control", "GetAccessPointPolicy")),
    ("GET", "/v20180820/mrap/instances", "maxResults=100", ("s3control", "ListMultiRegionAccessPoints")),
    ("GET", "/v20180820/mrap/instances/my-mrap/policy", "", ("s3control", "GetMultiRegionAccessPointPolicy")),
])
def test_the_emulator_names_the_new_operations(method, path, query, op):
    import io
    environ = {"REQUEST_METHOD": method, "PATH_INFO": path, "QUERY_STRING": query, "wsgi.input": io.BytesIO(),
               "HTTP_AUTHORIZATION": "AWS4-HMAC-SHA256 Credential=AKID/20250101/us-west-2/s3/aws4_request, "
                                     "SignedHeaders=host, Signature=x"}
    assert operation_of(environ) == op
    assert environ["_region"] == "us-west-2"


@pytest.mark.parametrize("immutable, host", [(True, "127.0.0.1:4566"), (False, "111111111111.127.0.0.1:4566")])
def test_s3_control_requests_go_to_the_custom_endpoint_host(immutable, host):
    """botocore's S3 Control endpoint rules put the account id in front of a custom endpoint's host;
    with an immutable hostname (moto, LocalStack) the plugin's client sends the request to the endpoint
    itself, the account in x-amz-account-id only, and the signature covers that host."""
    from plugin.aws.clients import AccountSession, ClientFactory
    from plugin.source.spec import Account, parse_spec
    spec = parse_spec(json.dumps({
        "regions": ["eu-west-1"], "accounts": [{"id": "111111111111"}],
        "custom_endpoint_url": "http://127.0.0.1:4566", "custom_endpoint_hostname_immutable": immutable,
        "custom_endpoint_partition_id": "aws", "custom_endpoint_signing_region": "us-east-1"}).encode())
    session = botocore.session.Session()
    session.set_credentials("AKIDEXAMPLE", "secret")
    acc = AccountSession(account=Account(id="111111111111"), spec=spec, config=ClientFactory(spec).config,
                         botocore_session=session, account_id="111111111111")
    c = acc.client("s3control", "eu-west-1")
    sent: list[Any] = []

    def capture(request: Any, **_: Any) -> Any:
        sent.append(request)
        from botocore.awsrequest import AWSResponse
        body = (b'<?xml version="1.0"?><ListAccessPointsResult xmlns="http://awss3control.amazonaws.com/doc/'
                b'2018-08-20/"><AccessPointList/></ListAccessPointsResult>')
        return AWSResponse(request.url, 200, {}, _Raw(body))

    c.meta.events.register("before-send.s3-control", capture)
    assert c.list_access_points(AccountId="111111111111")["AccessPointList"] == []
    assert sent[0].url.startswith(f"http://{host}/v20180820/accesspoint")
    assert sent[0].headers["x-amz-account-id"] in (b"111111111111", "111111111111")
    assert "eu-west-1/s3/aws4_request" in sent[0].headers["Authorization"].decode()


class _Raw:
    def __init__(self, body: bytes) -> None:
        self.body = body

    def stream(self, **_: Any) -> Iterator[bytes]:
        yield self.body


def test_index_organisations():
    idx = Index()
    idx.set_org("111111111111", "o-abc", "100000000000")
    idx.set_org("222222222222", "o-abc", "100000000000")
    idx.set_org("333333333333", None, None)  # in no organisation: nothing recorded
    assert idx.org_of("111111111111") == "o-abc" and idx.org_of("100000000000") == "o-abc"
    assert idx.org_of("333333333333") is None
    assert idx.org_accounts("o-abc") == {"111111111111", "222222222222", "100000000000"}
    assert idx.org_accounts("o-foreign") == set()
    asked: list[int] = []
    barrier = threading.Barrier(8)

    def ask() -> str:
        asked.append(1)
        return "answer"

    def worker(out: list[str]) -> None:
        barrier.wait()
        out.append(idx.org_lookup("444444444444", ask))

    outs: list[str] = []
    threads = [threading.Thread(target=worker, args=(outs,)) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert outs == ["answer"] * 8 and len(asked) == 1, "asked once; the others wait for its answer"


def test_index_access_paths():
    idx = Index()
    idx.add_access_point("b", "111111111111", "arn:aws:s3:eu-west-1:222222222222:accesspoint/z", "222222222222",
                         "eu-west-1", '{"Statement": []}', True)
    idx.add_access_point("b", "111111111111", "arn:aws:s3:us-east-1:111111111111:accesspoint/a", "111111111111",
                         "us-east-1", None, False)
    idx.add_access_point("other", "111111111111", "arn:aws:s3:us-east-1:111111111111:accesspoint/o", "111111111111",
                         "us-east-1", None, True)
    assert [a.arn.rsplit("/", 1)[1] for a in idx.access_points_of("b")] == ["z", "a"], "in ARN order"
    assert idx.access_points_of("b")[0].account == "222222222222"
    idx.add_mrap("111111111111", "arn:aws:s3::111111111111:accesspoint/m.mrap", "m.mrap",
                 json.dumps([{"Bucket": "b", "Region": "us-east-1"}, {"Bucket": "c", "Region": "eu-west-1"}]),
                 None, True)
    assert [m.alias for m in idx.mraps_of_bucket("c")] == ["m.mrap"] and idx.mraps_of_bucket("other") == []
    idx.add_log_target("logs", "arn:aws:s3:::b", "b/")
    idx.add_log_target("logs", "arn:aws:s3:::a", "")
    assert [(s.source_bucket_arn, s.target_prefix) for s in idx.log_sources_of("logs")] == [
        ("arn:aws:s3:::a", ""), ("arn:aws:s3:::b", "b/")]
