"""What the sync has seen, in slim form, for the tables derived at the end of a sync.

`aws_s3_bucket_encryption_keys` resolves a bucket's key reference (alias, key id, ARN, or none
= `aws/s3`) against the keys and aliases of every synced account, which are only all known when the
sync's AWS calls are done. The S3 access paths (access points, Multi-Region Access Points, logging
targets) and organisation membership are kept for the tables that say who can reach a bucket.
Entries are a few hundred bytes per key, alias, access point or bucket.

Every method may be called from any worker thread.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from typing import Any, Callable


@dataclass
class KeyInfo:
    arn: str
    key_id: str
    account_id: str
    region: str
    key_manager: str | None
    key_state: str | None
    origin: str | None
    key_type: str | None
    key_spec: str | None
    # The key's own item: `_policy` and `_grants` once its children ran (the access paths evaluate
    # them); the same dict the key's deferred tables keep, not a copy.
    item: dict[str, Any] | None = field(default=None, repr=False, compare=False)


@dataclass(frozen=True)
class AccessPointInfo:
    """An access point (s3control ListAccessPoints) and its policy."""
    bucket: str                 # the bucket it serves
    bucket_account_id: str      # that bucket's account (an access point may serve another account's bucket)
    arn: str
    account: str                # the access point's own account
    region: str
    policy: str | None          # the policy text; None when it has none or it could not be read
    policy_read: bool           # False: GetAccessPointPolicy failed (an error row says why)


@dataclass(frozen=True)
class MrapInfo:
    """A Multi-Region Access Point (s3control ListMultiRegionAccessPoints) and its policy."""
    account: str
    arn: str
    alias: str
    regions: list[dict[str, Any]]   # RegionReport: {"Bucket", "Region", "BucketAccountId"}, one per bucket
    policy: str | None              # the established policy text; None when none or unreadable
    policy_read: bool


@dataclass(frozen=True)
class LogSource:
    """A bucket whose server access logs are delivered to another bucket (GetBucketLogging)."""
    source_bucket_arn: str
    target_prefix: str


@dataclass
class Index:
    keys: dict[str, KeyInfo] = field(default_factory=dict)                 # key ARN -> info
    key_ids: dict[tuple[str, str, str], str] = field(default_factory=dict)  # (account, region, key id) -> ARN
    aliases: dict[tuple[str, str, str], str] = field(default_factory=dict)  # (account, region, alias/name) -> key id
    access_points: dict[str, AccessPointInfo] = field(default_factory=dict)   # access point ARN -> info
    mraps: dict[str, MrapInfo] = field(default_factory=dict)                  # MRAP ARN -> info
    log_sources: dict[str, dict[str, LogSource]] = field(default_factory=dict)  # target bucket -> source ARN -> source
    orgs: dict[str, str] = field(default_factory=dict)                # account -> organisation id
    org_members: dict[str, set[str]] = field(default_factory=dict)     # organisation id -> accounts known in it
    org_masters: dict[str, str] = field(default_factory=dict)         # organisation id -> management account
    canonical_users: dict[str, str] = field(default_factory=dict)     # S3 canonical user id -> account
    unread_listings: dict[tuple[str, str, str], str] = field(default_factory=dict)  # (account, region, call) -> code
    _no_org: set[str] = field(default_factory=set)                     # accounts known to be in no organisation
    _orgs_of_sets: dict[frozenset[str], tuple[frozenset[str], bool]] = field(default_factory=dict)  # orgs_of cache
    _lookups: dict[tuple[str, str], "_Once"] = field(default_factory=dict)  # (what, account) -> asked once
    listing_readers: dict[str, int] = field(default_factory=dict)    # listing -> selected tables reading it
    identities: dict[str, Any] = field(default_factory=dict)          # account -> analysis.identity.IdentityModel
    identities_unread: dict[str, str] = field(default_factory=dict)   # account -> why its IAM was not read
    # Every table the sync selected, and each opened account's session and Regions: what a shard needs to
    # read a key another shard owns (plugin/analysis/other_shard_keys.py).
    selected_tables: frozenset[str] = frozenset()
    synced_accounts: dict[str, tuple[Any, tuple[str, ...]]] = field(default_factory=dict)
    guardrails: Any = None                  # analysis.identity.Guardrails, when the org's policies were read
    guardrails_error: str | None = None     # why they were not (None: not asked, or read)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def add_key(self, info: KeyInfo) -> None:
        with self._lock:
            self.keys[info.arn] = info
            self.key_ids[(info.account_id, info.region, info.key_id)] = info.arn

    def add_alias(self, account: str, region: str, name: str, target_key_id: str | None) -> None:
        if not target_key_id:
            return
        with self._lock:
            self.aliases[(account, region, name)] = target_key_id

    def key_by_id(self, account: str, region: str, key_id: str) -> KeyInfo | None:
        arn = self.key_ids.get((account, region, key_id))
        return self.keys.get(arn) if arn else None

    def alias_target(self, account: str, region: str, alias: str) -> str | None:
        return self.aliases.get((account, region, alias))

    # -- S3 access paths ---------------------------------------------------------------------
    def add_access_point(self, bucket_name: str, bucket_account_id: str, ap_arn: str, ap_account: str,
                         ap_region: str, policy: str | None, policy_read: bool) -> None:
        info = AccessPointInfo(bucket_name, bucket_account_id, ap_arn, ap_account, ap_region, policy, policy_read)
        with self._lock:
            self.access_points[ap_arn] = info

    def access_points_of(self, bucket_name: str) -> list[AccessPointInfo]:
        """The access points that serve this bucket, in ARN order."""
        with self._lock:
            found = [a for a in self.access_points.values() if a.bucket == bucket_name]
        return sorted(found, key=lambda a: a.arn)

    def add_mrap(self, account: str, arn: str, alias: str, regions_json: Any, policy: str | None,
                 policy_read: bool) -> None:
        """`regions_json`: the MRAP's Regions (a list of RegionReport dicts, or that list as JSON text)."""
        regions = json.loads(regions_json) if isinstance(regions_json, (str, bytes)) else regions_json
        info = MrapInfo(account, arn, alias, [r for r in regions or [] if isinstance(r, dict)], policy, policy_read)
        with self._lock:
            self.mraps[arn] = info

    def mraps_of_bucket(self, bucket_name: str) -> list[MrapInfo]:
        """The Multi-Region Access Points whose Regions name this bucket, in ARN order."""
        with self._lock:
            found = [m for m in self.mraps.values() if any(r.get("Bucket") == bucket_name for r in m.regions)]
        return sorted(found, key=lambda m: m.arn)

    def add_log_target(self, target_bucket_name: str, source_bucket_arn: str, target_prefix: str) -> None:
        with self._lock:
            self.log_sources.setdefault(target_bucket_name, {})[source_bucket_arn] = LogSource(
                source_bucket_arn, target_prefix or "")

    def log_sources_of(self, bucket_name: str) -> list[LogSource]:
        """The buckets that deliver their access logs to this bucket, in ARN order."""
        with self._lock:
            found = list(self.log_sources.get(bucket_name, {}).values())
        return sorted(found, key=lambda s: s.source_bucket_arn)

    def add_canonical_user(self, canonical_id: str, account: str) -> None:
        """An S3 canonical user id and its account (a bucket ACL's Owner is the bucket's account)."""
        if canonical_id and account:
            with self._lock:
                self.canonical_users[canonical_id] = account

    def account_of_canonical_user(self, canonical_id: str) -> str | None:
        with self._lock:
            return self.canonical_users.get(canonical_id)

    # -- listings that failed ------------------------------------------------------------------
    def mark_unread(self, account: str, region: str, call: str, code: str) -> None:
        """A listing (`service:Operation`) of `account` in `region` ("" for account-wide) failed: what
        it would have listed is unknown to the derived tables, not absent."""
        with self._lock:
            self.unread_listings.setdefault((account, region, call), code or "error")

    def unread_listing(self, account: str, region: str, call: str) -> str | None:
        """The error code of that listing's failure, None when it was read (or not made)."""
        with self._lock:
            return self.unread_listings.get((account, region, call))

    # -- organisations -----------------------------------------------------------------------
    def set_org(self, account: str, org_id: str | None, master_account: str | None) -> None:
        """`account` is in organisation `org_id` (managed by `master_account`, itself a member). An
        account in no organisation is not recorded: org_of answers None for it, as for an unknown one."""
        if not account or not org_id:
            return
        with self._lock:
            self._orgs_of_sets.clear()
            self.orgs[account] = org_id
            members = self.org_members.setdefault(org_id, set())
            members.add(account)
            if master_account:
                self.org_masters[org_id] = master_account
                self.orgs.setdefault(master_account, org_id)
                members.add(master_account)

    def org_of(self, account: str) -> str | None:
        """The organisation id of an account, when the sync learnt it (None: in none, or unknown)."""
        with self._lock:
            return self.orgs.get(account)

    def org_accounts(self, org_id: str) -> set[str]:
        """The accounts known to be in that organisation: synced accounts whose DescribeOrganization
        answered it, its management account, and every account Organizations discovery listed."""
        with self._lock:
            return set(self.org_members.get(org_id, ()))

    def org_master(self, org_id: str) -> str | None:
        with self._lock:
            return self.org_masters.get(org_id)

    def orgs_of(self, accounts: frozenset[str]) -> tuple[frozenset[str], bool]:
        """The organisations of `accounts` as learnt, and whether every one's was learnt (in one or in
        none). Asked for every key and bucket at the end of the sync: cached until an answer arrives."""
        with self._lock:
            found = self._orgs_of_sets.get(accounts)
            if found is None:
                found = (frozenset(o for a in accounts if (o := self.orgs.get(a))),
                         all(a in self.orgs or a in self._no_org for a in accounts))
                self._orgs_of_sets[accounts] = found
            return found

    def org_known(self, account: str) -> bool:
        with self._lock:
            return account in self.orgs or account in self._no_org

    def set_no_org(self, account: str) -> None:
        """DescribeOrganization answered AWSOrganizationsNotInUseException: the account is in none."""
        with self._lock:
            self._orgs_of_sets.clear()
            self._no_org.add(account)

    def org_lookup(self, account: str, ask: Callable[[], Any]) -> Any:
        return self.lookup("organization", account, ask)

    def lookup(self, what: str, account: str, ask: Callable[[], Any]) -> Any:
        """`ask()`'s answer for (`what`, `account`), asked once per sync: later callers wait for the first
        one's."""
        with self._lock:
            once = self._lookups.get((what, account))
            first = once is None
            if first:
                once = self._lookups[(what, account)] = _Once()
        assert once is not None
        if first:
            try:
                once.value = ask()
            finally:
                once.done.set()
        else:
            once.done.wait()
        return once.value

    # -- IAM ---------------------------------------------------------------------------------
    def set_identities(self, account: str, model: Any) -> None:
        with self._lock:
            self.identities[account] = model

    def set_identities_unread(self, account: str, code: str) -> None:
        with self._lock:
            self.identities_unread[account] = code or "Unknown"

    def identities_of(self, account: str) -> Any:
        """The account's IdentityModel, when its IAM was read in this sync."""
        with self._lock:
            return self.identities.get(account)


class _Once:
    def __init__(self) -> None:
        self.done = threading.Event()
        self.value: Any = None
