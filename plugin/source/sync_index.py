"""What the sync has seen, in slim form, for the tables derived at the end of a sync.

`aws_s3_bucket_encryption_keys` resolves a bucket's key reference (alias, key id, ARN, or none
= `aws/s3`) against the keys and aliases of every synced account, which are only all known when the
sync's AWS calls are done. Entries are a few hundred bytes per key and alias.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field


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


@dataclass
class Index:
    keys: dict[str, KeyInfo] = field(default_factory=dict)                 # key ARN -> info
    key_ids: dict[tuple[str, str, str], str] = field(default_factory=dict)  # (account, region, key id) -> ARN
    aliases: dict[tuple[str, str, str], str] = field(default_factory=dict)  # (account, region, alias/name) -> key id
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
