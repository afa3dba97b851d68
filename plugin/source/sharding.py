"""Deterministic sharding of a sync, CloudQuery's `--shard i/n`.

The work unit is (account, region): shard i of n owns the units whose stable hash falls to it, so n
shards together sync exactly the rows of one unsharded sync, with no overlap. Per-bucket work follows
the bucket's region; per-account work (credential failures, the bucket listing's own failures)
belongs to the unit (account, "*"); reference tables and the organisation's account list belong to
shard 1. Every shard opens every account (one AssumeRole each) so that the trusted set, and thus
`is_external`, is the same everywhere.

The derived tables resolve keys against the keys their own shard synced; a key of a synced
account's unit that another shard owns (another Region, another account: a bucket's key, a
replication rule's replica key, a shared resource's key) is read by the shard itself with that
account's session (DescribeKey, GetKeyPolicy, ListGrants; plugin/analysis/other_shard_keys.py), so
the rows are the same as an unsharded sync's. Likewise every shard lists every account's buckets
(ListBuckets, keeping its own Regions' buckets), whose Owner is the account's S3 canonical user id,
so that an ACL grant to that id names the same account in every shard.

Each account's organisation (DescribeOrganization, `aws_organizations`) is asked in every shard, so
that every shard resolves `aws:PrincipalOrgID` alike; its row and its failure belong to (account, "*").
Likewise an account's Multi-Region Access Points are listed by every shard that syncs part of the
account (their buckets may be in any of its Regions); rows and failures belong to (account, "*").
Each account's IAM (GetAccountAuthorizationDetails) is read by every shard, and the organisation's
SCPs and RCPs by every shard that discovers it, so that every shard evaluates principals alike;
rows and failures belong to (account, "*") and to the first shard. The role intents are children of
the bucket or key they name, found in every account's IAM: the same rows in any sharding.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

_SPEC = re.compile(r"^(\d+)/(\d+)$")


@dataclass(frozen=True)
class Shard:
    num: int    # 1-based, as the CLI's --shard 1/3
    total: int

    @classmethod
    def parse(cls, text: str) -> "Shard":
        m = _SPEC.match(text.strip())
        if not m or not (1 <= int(m.group(1)) <= int(m.group(2))):
            raise ValueError(f"--shard: expected i/n with 1 <= i <= n (e.g. 1/3), got {text!r}")
        return cls(int(m.group(1)), int(m.group(2)))

    def owns(self, account: str, region: str) -> bool:
        if self.total <= 1:
            return True
        h = int.from_bytes(hashlib.sha1(f"{account}:{region}".encode()).digest()[:8], "big")
        return h % self.total == self.num - 1

    @property
    def first(self) -> bool:
        return self.num == 1

    def __str__(self) -> str:
        return f"{self.num}/{self.total}"


ALL = Shard(1, 1)
