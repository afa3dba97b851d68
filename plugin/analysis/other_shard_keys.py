"""Keys another shard syncs: read here too, so that a sharded sync derives what an unsharded one does.

A shard syncs the keys of its own (account, Region) units, but a bucket, a replication rule or a
shared resource of its units may use a key of a unit another shard owns (another Region of the same
account, or another synced account). An unsharded sync knows that key's metadata, policy and
grants; without them the shard would say "unknown". So the shard reads such a key itself, with the
key account's own session (every shard opens every account): DescribeKey, GetKeyPolicy and
ListGrants, once per key per shard, and only where the unsharded sync would have read it (the
account is synced, the Region is one of its Regions, and the key tables are selected).

Failures here are not recorded: the shard that owns the key records them against the key's own
tables, as the unsharded sync does; here the key is then simply not known (`key_known = false`,
verdict unknown). Keys named by an alias are resolved by DescribeKey in the alias's account.
"""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Any

from ..aws.calls import Ctx, Parent

_KEY_ARN = re.compile(r"^arn:[\w-]+:kms:(?P<region>[\w-]+):(?P<account>\d{12}):(?:key|alias)/.+$")
# What an unsharded sync needs selected to know a key's metadata, policy and grants.
KEY_TABLES = frozenset({"aws_kms_keys", "aws_kms_key_policies", "aws_kms_key_grants"})


def key_elsewhere(ctx: Ctx, account: str | None, region: str | None, ref: str | None) -> Any:
    """The KeyInfo (with `_policy` and `_grants` in its item) of key `ref` (ARN, id or alias) in
    (`account`, `region`) when another shard owns that unit; None when this shard owns it (the index
    has it, or the sync doesn't), when the unsharded sync would not have it either, or when it can't be
    read."""
    idx, shard = ctx.index, ctx.shard
    if (idx is None or shard is None or shard.total <= 1 or not ref or not account or not region
            or shard.owns(account, region) or not KEY_TABLES <= idx.selected_tables):
        return None
    synced = idx.synced_accounts.get(account)
    if synced is None or region not in synced[1]:
        return None
    session = synced[0]
    return idx.lookup(f"key-elsewhere {region} {ref}", account, lambda: _read(ctx, session, region, ref))


def key_arn_parts(arn: str | None) -> tuple[str | None, str | None]:
    """(account, region) of a key or alias ARN."""
    m = _KEY_ARN.match(arn or "")
    return (m["account"], m["region"]) if m else (None, None)


def _read(ctx: Ctx, session: Any, region: str, ref: str) -> Any:
    from ..source.sync_index import KeyInfo
    from ..tables.aws_encryption.key_types import classify
    from ..tables.kms.key_grants import fetch_grants
    from ..tables.kms.key_policies import fetch_policy
    from ..tables.kms.keys import KEYS

    quiet = replace(ctx, acc=session, region=region, on_error=lambda _e: None, account_error=None, listed=None)
    d = quiet.call("kms", "DescribeKey", resource_arn=ref, expect="KeyMetadata", KeyId=ref)
    if d is None:
        return None
    m = d["KeyMetadata"]
    item: dict[str, Any] = {}
    parent = Parent(KEYS, {"arn": m["Arn"]}, item)
    fetch_policy(quiet, parent)
    fetch_grants(quiet, parent)
    return KeyInfo(arn=m["Arn"], key_id=m["KeyId"], account_id=session.account_id, region=region,
                   key_manager=m.get("KeyManager"), key_state=m.get("KeyState"), origin=m.get("Origin"),
                   key_type=classify(m), key_spec=m.get("KeySpec"), item=item)
