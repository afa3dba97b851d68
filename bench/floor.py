#!/usr/bin/env python3
"""The floor: the AWS calls of `aws-encryption sync`, made by a minimal boto3 loop, results discarded.

Given the same CloudQuery spec file as the sync (accounts with role_arn, regions, concurrency,
max_retries, request_timeout, initialization_concurrency, custom endpoint), this makes exactly the
calls the plugin makes, in the same shape, and nothing else: no Arrow, no DuckDB, no rows, no
policy analysis, no error rows.

* Per account: STS AssumeRole (base credentials, session name "aws-encryption") and
  GetCallerIdentity (assumed credentials), at most `initialization_concurrency` accounts at a time.
* Per (account, region): ListKeys (Limit=1000) pages and ListAliases (Limit=100) pages.
* Per key, in one task, in the plugin's order: DescribeKey; GetKeyRotationStatus when the key is
  customer managed, SYMMETRIC_DEFAULT and of AWS_KMS origin; ListResourceTags (Limit=50) pages when
  it is customer managed; ListGrants (Limit=100) pages; GetKeyPolicy (PolicyName=default);
  ListKeyRotations (Limit=1000) pages when it is customer managed, SYMMETRIC_DEFAULT and of AWS_KMS
  or EXTERNAL origin (`supports_auto_rotation`, `is_customer`, `supports_rotation_list` from
  plugin/tables/kms/key_rules.py, which imports neither pyarrow nor duckdb).
  A key whose DescribeKey failed still gets ListGrants and GetKeyPolicy, as in the plugin.
* Per account: ListBuckets (MaxBuckets=1000) pages in the global region; GetBucketLocation only for
  a bucket without BucketRegion; buckets outside the spec's regions are skipped.
* Per bucket, in one task, in the bucket's region and the plugin's order: GetBucketPolicy,
  GetBucketPolicyStatus only when the bucket has a policy (or it could not be read), GetBucketTagging,
  GetBucketEncryption, GetPublicAccessBlock, GetBucketOwnershipControls, GetBucketAcl unless Object
  Ownership is BucketOwnerEnforced (asked when not configured or unreadable), GetBucketReplication,
  GetBucketLogging.
* Per (account, region): S3 Control ListAccessPoints (AccountId, MaxResults=1000) pages, then one task
  per access point: GetAccessPoint, then GetAccessPointPolicy (AccountId, Name), as
  plugin/tables/s3/access_points.py.
* Per account, in the global region, as plugin/tables/s3/accounts.py: S3 Control GetPublicAccessBlock
  (AccountId), only in the process that owns the account's account-level work (`--split shard`: the
  shard of the unit (account, "*"), as the sync's `ctx.owns("*")`; `--split account`: the account's one
  process), so once per account in every split; NoSuchPublicAccessBlockConfiguration is "none".
* Per (account, region), as plugin/tables/secretsmanager/secrets.py, sqs/queues.py and sns/topics.py:
  Secrets Manager ListSecrets (MaxResults=100, NextToken) pages, then one task per secret:
  GetResourcePolicy (SecretId=ARN); SQS ListQueues (MaxResults=1000, NextToken) pages, then one task
  per queue: GetQueueAttributes (AttributeNames=[All]), ListQueueTags; SNS ListTopics (NextToken)
  pages, then one task per topic: GetTopicAttributes, ListTagsForResource (ResourceArn).
* Per (account, region), as plugin/tables/ec2/ebs_snapshots.py and rds/db_snapshots.py: EC2
  DescribeSnapshots (OwnerIds=[self], MaxResults=1000, NextToken) pages, then one task per snapshot:
  DescribeSnapshotAttribute (SnapshotId, Attribute=createVolumePermission); RDS DescribeDBSnapshots
  (MaxRecords=100, Marker) pages, then one task per DB snapshot: DescribeDBSnapshotAttributes
  (DBSnapshotIdentifier) only when its SnapshotType is manual (automated ones can't be shared); and as
  rds/cluster_snapshots.py, DescribeDBClusterSnapshots (MaxRecords=100, Marker) pages, then per manual
  cluster snapshot DescribeDBClusterSnapshotAttributes (DBClusterSnapshotIdentifier).
* Per (account, region), as plugin/tables/ec2/images.py: EC2 DescribeImages (Owners=[self],
  MaxResults=1000, NextToken) pages, then one task per AMI: DescribeImageAttribute (ImageId,
  Attribute=launchPermission), then DescribeSnapshots (SnapshotIds=[its root snapshot]) only when the
  root block device mapping (DeviceName = RootDeviceName) is encrypted and names no KmsKeyId.
* Per (account, region), as plugin/tables/ec2/regional_configs.py, in one task: EC2
  GetEbsEncryptionByDefault, then GetEbsDefaultKmsKeyId (asked even when the first failed).
* Per (account, region), as plugin/tables/backup/vaults.py and plans.py: AWS Backup ListBackupVaults
  (NextToken) pages; when the region has a vault, the region's plans are read (below) before one task
  per vault: GetBackupVaultAccessPolicy (BackupVaultName; a vault without one answers
  ResourceNotFoundException), ListTags (ResourceArn). The plans: ListBackupPlans (NextToken) pages and
  GetBackupPlan (BackupPlanId) per plan, one after the other in one thread, read once per account and
  region for both tables (the aws_backup_plans unit reads them in every region; whichever unit asks
  first reads, the other waits for it, as the sync's Index.lookup).
* Per account, in us-west-2 and only in the `aws` partition: S3 Control ListMultiRegionAccessPoints
  (AccountId, MaxResults=100) pages, then one task per MRAP: GetMultiRegionAccessPointPolicy (in
  every process of `--split shard` that syncs part of the account, as every such shard asks).
* Per account, in the global region, with the account's own credentials: Organizations
  DescribeOrganization (in every process of `--split shard`, as every shard of the sync asks).
* Per account, in the global region: IAM GetAccountAuthorizationDetails (MaxItems=1000) pages,
  following Marker while IsTruncated, once for all the IAM tables (plugin/tables/iam/
  authorization_details.py); in every process of `--split shard`, as the IAM tables are `every_shard`.
  The account's work is queued as the engine queues it: DescribeOrganization, the IAM read, the MRAP
  listing, the account's GetPublicAccessBlock, the bucket listing, then per region the key, alias,
  access point, secret, queue, topic, EBS snapshot, AMI, EBS defaults (regional config), DB snapshot,
  DB cluster snapshot, backup vault and backup plan listings (the region-scoped tables in registry
  order, plugin/tables/__init__.py).
* S3 Control with an immutable custom endpoint: the plugin's Config (`inject_host_prefix=False`) and
  its `drop_account_host_label` hook (plugin/aws/clients.py), so requests go to the endpoint's host
  with the account in `x-amz-account-id` only.

Clients: plain boto3 (one boto3 Session per process), one client per account x region x service,
with the plugin's botocore Config (standard retries with max_retries+1 attempts,
max_pool_connections = concurrency, connect/read timeout = request_timeout, path-style S3 and no
host prefix for an immutable custom endpoint). One ThreadPoolExecutor of `concurrency` workers per
process: account set-up, listings and per-resource tasks all run in it, as in plugin/source/engine.py.

Processes (`--processes N`): `--split account` (default) gives each process every N-th account
(multiprocessing, fork); `--split shard` mirrors `aws-encryption sync --processes N` exactly:
every process opens every account and lists its buckets, and owns the (account, region) units
whose hash falls to it (plugin/source/sharding.py), so the call counts match the sharded sync's.

Usage:
  /tmp/venv/bin/python bench/floor.py SPEC.yml [--processes N] [--split account|shard] [--json OUT]

Prints one line of figures and, with --json, every per-operation count (client side). The base
credentials come from the environment, as for the sync.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import multiprocessing as mp
import sys
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Callable

import boto3
import yaml
from botocore.config import Config

import plugin
from plugin.aws.clients import drop_account_host_label
from plugin.source.sharding import Shard


# -- the plugin's rules for which call is made, imported so they can't drift. key_rules.py itself is
# light, but importing it as plugin.tables.kms.key_rules runs plugin/tables/__init__.py (the whole
# registry: pyarrow, the analysers), so it is loaded from its file. plugin.aws.clients and
# plugin.source.sharding import neither pyarrow nor duckdb.

def _load_module(name: str, path: str) -> Any:
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    sys.modules[name] = mod
    spec.loader.exec_module(mod)
    return mod


_rules = _load_module("_floor_key_rules", str(Path(plugin.__file__).parent / "tables" / "kms" / "key_rules.py"))
is_customer, supports_auto_rotation, supports_rotation_list = (
    _rules.is_customer, _rules.supports_auto_rotation, _rules.supports_rotation_list)

# plugin/tables/s3/bucket_ownership_controls.py ACLS_DISABLED: with it GetBucketAcl is not asked.
ACLS_DISABLED = "BucketOwnerEnforced"
# plugin/tables/iam/authorization_details.py _KEYS: the lists of one GetAccountAuthorizationDetails page.
IAM_KEYS = ("UserDetailList", "GroupDetailList", "RoleDetailList", "Policies")
# plugin/tables/s3/multi_region_access_points.py CONTROL_REGION: where MRAP calls go, per partition.
MRAP_CONTROL_REGION = {"aws": "us-west-2"}


def shard_owns(num: int, total: int, account: str, region: str) -> bool:
    return Shard(num, max(total, 1)).owns(account, region)


# -- the spec ---------------------------------------------------------------------------------

def read_spec(path: str) -> dict[str, Any]:
    """The fields of the source spec the calls depend on, with the plugin's defaults (plugin/source/spec.py)."""
    with open(path) as f:
        docs = [d for d in yaml.safe_load_all(f) if d]
    src = next((d["spec"] for d in docs if d.get("kind") == "source"), None)
    if src is None:
        raise SystemExit(f"{path}: no `kind: source` document")
    s = src.get("spec") or {}
    if s.get("org"):
        raise SystemExit("floor.py: `org` discovery is not supported; list the accounts")
    regions = s.get("regions") or []
    if not regions or regions == ["*"]:
        raise SystemExit("floor.py: give the regions explicitly (no DescribeRegions here)")
    accounts = []
    for a in s.get("accounts") or []:
        if not a.get("role_arn"):
            raise SystemExit("floor.py: every account needs a role_arn")
        accounts.append({"id": str(a["id"]), "role_arn": a["role_arn"], "regions": a.get("regions") or regions,
                         "session": a.get("role_session_name") or "aws-encryption",
                         "external_id": a.get("external_id")})
    if not accounts:
        raise SystemExit("floor.py: the spec lists no accounts")
    url = s.get("custom_endpoint_url") or ""
    return {
        "accounts": accounts, "regions": list(regions),
        "concurrency": int(s.get("concurrency", 32)), "max_retries": int(s.get("max_retries", 10)),
        "request_timeout": int(s.get("request_timeout", 60)),
        "init_concurrency": int(s.get("initialization_concurrency", 4)),
        "endpoint": url, "path_style": bool(url and s.get("custom_endpoint_hostname_immutable")),
        "global_region": (s.get("custom_endpoint_signing_region") if url else "") or "us-east-1",
        "partition": (s.get("custom_endpoint_partition_id") if url else "") or "aws",
    }


# -- one process ------------------------------------------------------------------------------

class Floor:
    def __init__(self, spec: dict[str, Any], shard: tuple[int, int]) -> None:
        self.spec = spec
        self.shard = shard
        self.config = Config(
            retries={"total_max_attempts": spec["max_retries"] + 1, "mode": "standard"},
            max_pool_connections=spec["concurrency"],
            connect_timeout=spec["request_timeout"], read_timeout=spec["request_timeout"],
            s3={"addressing_style": "path"} if spec["path_style"] else None,
            parameter_validation=False,
            **({"inject_host_prefix": False} if spec["path_style"] else {}),
        )
        self.session = boto3.Session()
        self.clock = threading.Lock()  # boto3 Sessions are not thread-safe for client creation
        self.calls: Counter = Counter()
        self.errors: Counter = Counter()
        self.clock_count = threading.Lock()
        self.init_sem = threading.BoundedSemaphore(spec["init_concurrency"])
        self.pending = 0
        self.plock = threading.Lock()
        self.done = threading.Event()
        self.pool: ThreadPoolExecutor | None = None
        self.resources = 0
        self.iam_items = 0
        self.olock = threading.Lock()
        self.onces: dict[tuple[str, ...], list[Any]] = {}   # key -> [done Event, answer]

    # task bookkeeping, as plugin/source/engine.py: finished when nothing is pending
    def submit(self, fn: Callable[..., None], *args: Any) -> None:
        with self.plock:
            self.pending += 1
        assert self.pool is not None
        self.pool.submit(self._run, fn, *args)

    def _run(self, fn: Callable[..., None], *args: Any) -> None:
        try:
            fn(*args)
        except Exception as e:  # noqa: BLE001 - counted, never fatal
            self._count_error(f"internal:{type(e).__name__}: {e}"[:200])
        finally:
            with self.plock:
                self.pending -= 1
                last = self.pending == 0
            if last:
                self.done.set()

    def once(self, key: tuple[str, ...], ask: Callable[[], Any]) -> Any:
        """`ask()`'s answer for `key`, asked once per process: later callers wait for the first one's (as
        the sync's Index.lookup, plugin/source/sync_index.py)."""
        with self.olock:
            got = self.onces.get(key)
            first = got is None
            if got is None:
                got = self.onces[key] = [threading.Event(), None]
        if first:
            try:
                got[1] = ask()
            finally:
                got[0].set()
        else:
            got[0].wait()
        return got[1]

    def _count_error(self, what: str) -> None:
        with self.clock_count:
            self.errors[what] += 1

    def client(self, clients: dict, creds: dict[str, str], service: str, region: str) -> Any:
        key = (service, region)
        c = clients.get(key)
        if c is None:
            with self.clock:
                c = clients.get(key)
                if c is None:
                    kw: dict[str, Any] = {"region_name": region, "config": self.config}
                    if self.spec["endpoint"]:
                        kw["endpoint_url"] = self.spec["endpoint"]
                    c = self.session.client(service, aws_access_key_id=creds["AccessKeyId"],
                                            aws_secret_access_key=creds["SecretAccessKey"],
                                            aws_session_token=creds["SessionToken"], **kw)
                    if service == "s3control" and self.spec["path_style"]:
                        c.meta.events.register_first("before-sign.s3-control", drop_account_host_label)
                    clients[key] = c
        return c

    def call(self, client: Any, op: str, method: str, codes: list[str] | None = None,
             **params: Any) -> dict[str, Any] | None:
        """The answer, or None; a failure's code is counted (and appended to `codes` if given)."""
        with self.clock_count:
            self.calls[op] += 1
        try:
            return getattr(client, method)(**params)
        except Exception as e:  # noqa: BLE001 - "absent" answers and failures alike: discarded
            code = getattr(e, "response", {}).get("Error", {}).get("Code") or type(e).__name__
            self._count_error(f"{op}:{code}")
            if codes is not None:
                codes.append(code)
            return None

    def pages(self, client: Any, op: str, method: str, key: str, tin: str, tout: str,
              **params: Any) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        token = None
        seen: set[str] = set()
        while True:
            p = dict(params)
            if token:
                p[tin] = token
            r = self.call(client, op, method, **p)
            if r is None:
                return out
            out.extend(r.get(key) or [])
            token = r.get(tout)
            if not token or token in seen:
                return out
            seen.add(token)

    # the work
    def run(self, accounts: list[dict[str, Any]]) -> dict[str, Any]:
        t0 = time.perf_counter()
        sp = self.spec
        kw: dict[str, Any] = {"region_name": sp["global_region"], "config": self.config}
        if sp["endpoint"]:
            kw["endpoint_url"] = sp["endpoint"]
        self.base_sts = self.session.client("sts", **kw)
        self.pool = ThreadPoolExecutor(max_workers=sp["concurrency"], thread_name_prefix="floor")
        with self.plock:
            self.pending += 1
        for a in accounts:
            self.submit(self.open_account, a)
        with self.plock:
            self.pending -= 1
            if self.pending == 0:
                self.done.set()
        self.done.wait()
        self.pool.shutdown(wait=True)
        return {"wall_s": time.perf_counter() - t0, "calls": dict(self.calls), "errors": dict(self.errors),
                "resources": self.resources, "iam_items": self.iam_items, "accounts": len(accounts)}

    def open_account(self, a: dict[str, Any]) -> None:
        num, total = self.shard
        g = self.spec["global_region"]
        with self.init_sem:
            extra = {"ExternalId": a["external_id"]} if a["external_id"] else {}
            r = self.call(self.base_sts, "sts.AssumeRole", "assume_role", RoleArn=a["role_arn"],
                          RoleSessionName=a["session"], **extra)
            if r is None:
                return
            creds = r["Credentials"]
            clients: dict = {}
            ident = self.call(self.client(clients, creds, "sts", g), "sts.GetCallerIdentity",
                              "get_caller_identity")
            if ident is None:
                return
        acct = ident["Account"]
        arn = ident.get("Arn", "")
        partition = arn.split(":")[1] if arn.count(":") >= 2 else self.spec["partition"]
        regions = a["regions"]
        # As plugin/source/engine.py _open_account: per region the region-scoped tables in registry
        # order (keys, aliases, access points); the account-scoped ones (buckets, S3 accounts, MRAPs,
        # organisation) each inserted first, so they run in reverse registry order ahead of the regions.
        units: list[tuple[Callable[..., None], str]] = []
        for region in regions:
            if shard_owns(num, total, acct, region):
                units.append((self.keys_unit, region))
                units.append((self.aliases_unit, region))
                units.append((self.access_points_unit, region))
                units.append((self.secrets_unit, region))
                units.append((self.queues_unit, region))
                units.append((self.topics_unit, region))
                units.append((self.ebs_snapshots_unit, region))
                units.append((self.images_unit, region))
                units.append((self.regional_configs_unit, region))
                units.append((self.db_snapshots_unit, region))
                units.append((self.cluster_snapshots_unit, region))
                units.append((self.backup_vaults_unit, region))
                units.append((self.backup_plans_unit, region))
        mine = shard_owns(num, total, acct, "*") or any(shard_owns(num, total, acct, r) for r in regions)
        if mine:
            units.insert(0, (self.buckets_unit, g))
            units.insert(0, (self.s3_account_unit, g))  # asks only where it owns (account, "*")
            units.insert(0, (self.mraps_unit, partition))
        units.insert(0, (self.iam_unit, g))  # every shard asks (every_shard); one read for the IAM tables
        units.insert(0, (self.organization_unit, g))  # every shard asks (every_shard)
        for fn, region in units:
            self.submit(fn, acct, creds, clients, region, regions)

    def keys_unit(self, acct: str, creds: dict, clients: dict, region: str, regions: list[str]) -> None:
        kms = self.client(clients, creds, "kms", region)
        for k in self.pages(kms, "kms.ListKeys", "list_keys", "Keys", "Marker", "NextMarker", Limit=1000):
            self.submit(self.key_task, kms, k["KeyArn"])

    def key_task(self, kms: Any, arn: str) -> None:
        with self.clock_count:
            self.resources += 1
        d = self.call(kms, "kms.DescribeKey", "describe_key", KeyId=arn)
        meta = d["KeyMetadata"] if d is not None else None
        if meta is not None:
            if supports_auto_rotation(meta):
                self.call(kms, "kms.GetKeyRotationStatus", "get_key_rotation_status", KeyId=arn)
            if is_customer(meta):
                self.pages(kms, "kms.ListResourceTags", "list_resource_tags", "Tags", "Marker", "NextMarker",
                           KeyId=arn, Limit=50)
        self.pages(kms, "kms.ListGrants", "list_grants", "Grants", "Marker", "NextMarker", KeyId=arn, Limit=100)
        self.call(kms, "kms.GetKeyPolicy", "get_key_policy", KeyId=arn, PolicyName="default")
        if meta is not None and supports_rotation_list(meta):
            self.pages(kms, "kms.ListKeyRotations", "list_key_rotations", "Rotations", "Marker", "NextMarker",
                       KeyId=arn, Limit=1000)

    def aliases_unit(self, acct: str, creds: dict, clients: dict, region: str, regions: list[str]) -> None:
        kms = self.client(clients, creds, "kms", region)
        self.pages(kms, "kms.ListAliases", "list_aliases", "Aliases", "Marker", "NextMarker", Limit=100)

    def buckets_unit(self, acct: str, creds: dict, clients: dict, region: str, regions: list[str]) -> None:
        num, total = self.shard
        s3 = self.client(clients, creds, "s3", region)
        wanted = set(regions)
        for b in self.pages(s3, "s3.ListBuckets", "list_buckets", "Buckets", "ContinuationToken",
                            "ContinuationToken", MaxBuckets=1000):
            name = b["Name"]
            br = b.get("BucketRegion")
            if not br:
                loc = self.call(s3, "s3.GetBucketLocation", "get_bucket_location", Bucket=name)
                if loc is None:
                    continue
                c = loc.get("LocationConstraint")
                br = "us-east-1" if not c else ("eu-west-1" if c == "EU" else c)
            if br not in wanted or not shard_owns(num, total, acct, br):
                continue
            self.submit(self.bucket_task, self.client(clients, creds, "s3", br), name)

    def bucket_task(self, s3: Any, name: str) -> None:
        with self.clock_count:
            self.resources += 1
        codes: list[str] = []
        self.call(s3, "s3.GetBucketPolicy", "get_bucket_policy", codes=codes, Bucket=name)
        if codes != ["NoSuchBucketPolicy"]:  # as in the plugin: no status call only when there is no policy
            self.call(s3, "s3.GetBucketPolicyStatus", "get_bucket_policy_status", Bucket=name)
        for op, method in (("GetBucketTagging", "get_bucket_tagging"),
                           ("GetBucketEncryption", "get_bucket_encryption"),
                           ("GetPublicAccessBlock", "get_public_access_block")):
            self.call(s3, "s3." + op, method, Bucket=name)
        own = self.call(s3, "s3.GetBucketOwnershipControls", "get_bucket_ownership_controls", Bucket=name)
        rules = ((own or {}).get("OwnershipControls") or {}).get("Rules") or []
        if next((r.get("ObjectOwnership") for r in rules if r.get("ObjectOwnership")), None) != ACLS_DISABLED:
            self.call(s3, "s3.GetBucketAcl", "get_bucket_acl", Bucket=name)  # ACLs in force, or unknown
        self.call(s3, "s3.GetBucketReplication", "get_bucket_replication", Bucket=name)
        self.call(s3, "s3.GetBucketLogging", "get_bucket_logging", Bucket=name)

    def access_points_unit(self, acct: str, creds: dict, clients: dict, region: str, regions: list[str]) -> None:
        s3c = self.client(clients, creds, "s3control", region)
        for ap in self.pages(s3c, "s3control.ListAccessPoints", "list_access_points", "AccessPointList",
                             "NextToken", "NextToken", AccountId=acct, MaxResults=1000):
            self.submit(self.access_point_task, s3c, acct, ap.get("Name"))

    def access_point_task(self, s3c: Any, acct: str, name: str) -> None:
        with self.clock_count:
            self.resources += 1
        self.call(s3c, "s3control.GetAccessPoint", "get_access_point", AccountId=acct, Name=name)
        self.call(s3c, "s3control.GetAccessPointPolicy", "get_access_point_policy", AccountId=acct, Name=name)

    def s3_account_unit(self, acct: str, creds: dict, clients: dict, region: str, regions: list[str]) -> None:
        """The account's own Block Public Access, once per account (plugin/tables/s3/accounts.py)."""
        num, total = self.shard
        if not shard_owns(num, total, acct, "*"):
            return
        self.call(self.client(clients, creds, "s3control", region), "s3control.GetPublicAccessBlock",
                  "get_public_access_block", AccountId=acct)

    def secrets_unit(self, acct: str, creds: dict, clients: dict, region: str, regions: list[str]) -> None:
        sm = self.client(clients, creds, "secretsmanager", region)
        for sec in self.pages(sm, "secretsmanager.ListSecrets", "list_secrets", "SecretList", "NextToken",
                              "NextToken", MaxResults=100):
            self.submit(self.secret_task, sm, sec.get("ARN") or "")

    def secret_task(self, sm: Any, arn: str) -> None:
        with self.clock_count:
            self.resources += 1
        self.call(sm, "secretsmanager.GetResourcePolicy", "get_resource_policy", SecretId=arn)

    def queues_unit(self, acct: str, creds: dict, clients: dict, region: str, regions: list[str]) -> None:
        sqs = self.client(clients, creds, "sqs", region)
        for url in self.pages(sqs, "sqs.ListQueues", "list_queues", "QueueUrls", "NextToken", "NextToken",
                              MaxResults=1000):
            self.submit(self.queue_task, sqs, url)

    def queue_task(self, sqs: Any, url: str) -> None:
        with self.clock_count:
            self.resources += 1
        self.call(sqs, "sqs.GetQueueAttributes", "get_queue_attributes", QueueUrl=url, AttributeNames=["All"])
        self.call(sqs, "sqs.ListQueueTags", "list_queue_tags", QueueUrl=url)

    def topics_unit(self, acct: str, creds: dict, clients: dict, region: str, regions: list[str]) -> None:
        sns = self.client(clients, creds, "sns", region)
        for t in self.pages(sns, "sns.ListTopics", "list_topics", "Topics", "NextToken", "NextToken"):
            self.submit(self.topic_task, sns, t.get("TopicArn") or "")

    def topic_task(self, sns: Any, arn: str) -> None:
        with self.clock_count:
            self.resources += 1
        self.call(sns, "sns.GetTopicAttributes", "get_topic_attributes", TopicArn=arn)
        self.call(sns, "sns.ListTagsForResource", "list_tags_for_resource", ResourceArn=arn)

    def ebs_snapshots_unit(self, acct: str, creds: dict, clients: dict, region: str, regions: list[str]) -> None:
        ec2 = self.client(clients, creds, "ec2", region)
        for snap in self.pages(ec2, "ec2.DescribeSnapshots", "describe_snapshots", "Snapshots", "NextToken",
                               "NextToken", OwnerIds=["self"], MaxResults=1000):
            self.submit(self.ebs_snapshot_task, ec2, snap.get("SnapshotId") or "")

    def ebs_snapshot_task(self, ec2: Any, sid: str) -> None:
        with self.clock_count:
            self.resources += 1
        self.call(ec2, "ec2.DescribeSnapshotAttribute", "describe_snapshot_attribute", SnapshotId=sid,
                  Attribute="createVolumePermission")

    def images_unit(self, acct: str, creds: dict, clients: dict, region: str, regions: list[str]) -> None:
        ec2 = self.client(clients, creds, "ec2", region)
        for image in self.pages(ec2, "ec2.DescribeImages", "describe_images", "Images", "NextToken", "NextToken",
                                Owners=["self"], MaxResults=1000):
            self.submit(self.image_task, ec2, image)

    def image_task(self, ec2: Any, image: dict[str, Any]) -> None:
        with self.clock_count:
            self.resources += 1
        self.call(ec2, "ec2.DescribeImageAttribute", "describe_image_attribute", ImageId=image.get("ImageId") or "",
                  Attribute="launchPermission")
        root = next((m["Ebs"] for m in image.get("BlockDeviceMappings") or []
                     if m.get("DeviceName") == image.get("RootDeviceName") and isinstance(m.get("Ebs"), dict)), {})
        if root.get("Encrypted") and not root.get("KmsKeyId") and root.get("SnapshotId"):  # the root volume's key
            self.call(ec2, "ec2.DescribeSnapshots", "describe_snapshots", SnapshotIds=[root["SnapshotId"]])

    def regional_configs_unit(self, acct: str, creds: dict, clients: dict, region: str, regions: list[str]) -> None:
        ec2 = self.client(clients, creds, "ec2", region)
        self.call(ec2, "ec2.GetEbsEncryptionByDefault", "get_ebs_encryption_by_default")
        self.call(ec2, "ec2.GetEbsDefaultKmsKeyId", "get_ebs_default_kms_key_id")

    def db_snapshots_unit(self, acct: str, creds: dict, clients: dict, region: str, regions: list[str]) -> None:
        rds = self.client(clients, creds, "rds", region)
        for snap in self.pages(rds, "rds.DescribeDBSnapshots", "describe_db_snapshots", "DBSnapshots", "Marker",
                               "Marker", MaxRecords=100):
            self.submit(self.db_snapshot_task, rds, snap)

    def db_snapshot_task(self, rds: Any, snap: dict[str, Any]) -> None:
        with self.clock_count:
            self.resources += 1
        if snap.get("SnapshotType") == "manual":   # as the plugin: automated snapshots can't be shared
            self.call(rds, "rds.DescribeDBSnapshotAttributes", "describe_db_snapshot_attributes",
                      DBSnapshotIdentifier=snap.get("DBSnapshotIdentifier"))

    def cluster_snapshots_unit(self, acct: str, creds: dict, clients: dict, region: str, regions: list[str]) -> None:
        rds = self.client(clients, creds, "rds", region)
        for snap in self.pages(rds, "rds.DescribeDBClusterSnapshots", "describe_db_cluster_snapshots",
                               "DBClusterSnapshots", "Marker", "Marker", MaxRecords=100):
            self.submit(self.cluster_snapshot_task, rds, snap)

    def cluster_snapshot_task(self, rds: Any, snap: dict[str, Any]) -> None:
        with self.clock_count:
            self.resources += 1
        if snap.get("SnapshotType") == "manual":
            self.call(rds, "rds.DescribeDBClusterSnapshotAttributes", "describe_db_cluster_snapshot_attributes",
                      DBClusterSnapshotIdentifier=snap.get("DBClusterSnapshotIdentifier"))

    def backup_vaults_unit(self, acct: str, creds: dict, clients: dict, region: str, regions: list[str]) -> None:
        b = self.client(clients, creds, "backup", region)
        vaults = self.pages(b, "backup.ListBackupVaults", "list_backup_vaults", "BackupVaultList", "NextToken",
                            "NextToken")
        if vaults:   # the region's copy rules, before the vaults' own calls (plugin/tables/backup/vaults.py)
            self.backup_plans(b, acct, region)
        for v in vaults:
            self.submit(self.backup_vault_task, b, v)

    def backup_vault_task(self, b: Any, vault: dict[str, Any]) -> None:
        with self.clock_count:
            self.resources += 1
        self.call(b, "backup.GetBackupVaultAccessPolicy", "get_backup_vault_access_policy",
                  BackupVaultName=vault.get("BackupVaultName") or "")
        self.call(b, "backup.ListTags", "list_tags", ResourceArn=vault.get("BackupVaultArn") or "")

    def backup_plans_unit(self, acct: str, creds: dict, clients: dict, region: str, regions: list[str]) -> None:
        self.backup_plans(self.client(clients, creds, "backup", region), acct, region)

    def backup_plans(self, b: Any, acct: str, region: str) -> None:
        """The region's plans with their rules, read once per account and region for both Backup units
        (plugin/tables/backup/plans.py read_plans): GetBackupPlan per plan, one after the other."""
        def read() -> None:
            for p in self.pages(b, "backup.ListBackupPlans", "list_backup_plans", "BackupPlansList", "NextToken",
                                "NextToken"):
                with self.clock_count:
                    self.resources += 1
                self.call(b, "backup.GetBackupPlan", "get_backup_plan", BackupPlanId=p.get("BackupPlanId") or "")
        self.once(("backup-plans", acct, region), read)

    def mraps_unit(self, acct: str, creds: dict, clients: dict, partition: str, regions: list[str]) -> None:
        region = MRAP_CONTROL_REGION.get(partition)
        if region is None:  # every shard syncing part of the account lists them (its buckets' paths)
            return
        s3c = self.client(clients, creds, "s3control", region)
        for m in self.pages(s3c, "s3control.ListMultiRegionAccessPoints", "list_multi_region_access_points",
                            "AccessPoints", "NextToken", "NextToken", AccountId=acct, MaxResults=100):
            self.submit(self.mrap_task, s3c, acct, m.get("Name"))

    def mrap_task(self, s3c: Any, acct: str, name: str) -> None:
        with self.clock_count:
            self.resources += 1
        self.call(s3c, "s3control.GetMultiRegionAccessPointPolicy", "get_multi_region_access_point_policy",
                  AccountId=acct, Name=name)

    def iam_unit(self, acct: str, creds: dict, clients: dict, region: str, regions: list[str]) -> None:
        iam = self.client(clients, creds, "iam", region)
        token = None
        while True:  # as Ctx.pages: Marker in and out; the answer's IsTruncated goes with its Marker
            p: dict[str, Any] = {"MaxItems": 1000}
            if token:
                p["Marker"] = token
            r = self.call(iam, "iam.GetAccountAuthorizationDetails", "get_account_authorization_details", **p)
            if r is None:
                return
            with self.clock_count:
                self.iam_items += sum(len(r.get(k) or []) for k in IAM_KEYS)
            token = r.get("Marker") if r.get("IsTruncated") else None
            if not token:
                return

    def organization_unit(self, acct: str, creds: dict, clients: dict, region: str, regions: list[str]) -> None:
        self.call(self.client(clients, creds, "organizations", region), "organizations.DescribeOrganization",
                  "describe_organization")


def _worker(spec: dict[str, Any], accounts: list[dict[str, Any]], shard: tuple[int, int], q: Any) -> None:
    try:
        q.put(Floor(spec, shard).run(accounts))
    except BaseException as e:  # noqa: BLE001
        q.put({"fatal": f"{type(e).__name__}: {e}"})


def run(spec: dict[str, Any], processes: int, split: str) -> dict[str, Any]:
    t0 = time.perf_counter()
    accts = spec["accounts"]
    if processes <= 1:
        parts = [Floor(spec, (1, 1)).run(accts)]
    else:
        ctx = mp.get_context("fork")
        q = ctx.Queue()
        procs = []
        for i in range(processes):
            if split == "shard":
                mine, shard = accts, (i + 1, processes)
            else:
                mine, shard = accts[i::processes], (1, 1)
            p = ctx.Process(target=_worker, args=(spec, mine, shard, q))
            p.start()
            procs.append(p)
        parts = [q.get() for _ in procs]
        for p in procs:
            p.join()
        bad = [x["fatal"] for x in parts if "fatal" in x]
        if bad:
            raise SystemExit("floor worker failed: " + "; ".join(bad))
    calls: Counter = Counter()
    errors: Counter = Counter()
    for x in parts:
        calls.update(x["calls"])
        errors.update(x["errors"])
    wall = time.perf_counter() - t0
    total = sum(calls.values())
    return {"processes": processes, "split": split, "wall_s": wall, "total_calls": total,
            "calls_per_s": total / wall if wall else 0.0, "calls": dict(sorted(calls.items())),
            "errors": dict(sorted(errors.items())), "resources": sum(x["resources"] for x in parts),
            "iam_items": sum(x.get("iam_items", 0) for x in parts),
            "per_process_wall_s": [round(x["wall_s"], 2) for x in parts]}


def main() -> int:
    ap = argparse.ArgumentParser(description="The sync's AWS calls by a minimal boto3 loop (the floor).")
    ap.add_argument("spec", help="the same CloudQuery spec file as `aws-encryption sync`")
    ap.add_argument("--processes", type=int, default=1)
    ap.add_argument("--split", choices=["account", "shard"], default="account",
                    help="account: every N-th account per process (default); shard: as sync --processes")
    ap.add_argument("--json", help="write the figures to this file")
    args = ap.parse_args()
    spec = read_spec(args.spec)
    res = run(spec, args.processes, args.split)
    res["concurrency"] = spec["concurrency"]
    internal = {k: v for k, v in res["errors"].items() if k.startswith("internal:")}
    print(f"floor: {res['total_calls']} calls in {res['wall_s']:.1f} s = {res['calls_per_s']:.0f} calls/s "
          f"({args.processes} process(es), split {args.split}, concurrency {spec['concurrency']}, "
          f"{res['resources']} resources (keys, buckets, access points, secrets, queues, topics, snapshots, AMIs, "
          f"backup vaults and plans), "
          f"{res['iam_items']} IAM items, "
          f"{sum(res['errors'].values())} error answers)")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(res, f, indent=2)
    if internal:
        print(f"floor: internal errors: {internal}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
