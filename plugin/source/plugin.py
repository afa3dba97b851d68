"""The CloudQuery source plugin: spec in, table schemas and multi-row Arrow batches out.

Workarounds for cloudquery-plugin-sdk 0.1.57 (the SDK bugs numbered in docs/cloudquery.md), all here or in plugin/server/serve.py:
- #2 `_cq_id`/`_cq_parent_id`: declared on every table and filled with CloudQuery's algorithm.
- #3 scheduler client shadowing, #4 list columns, #5 JSON with datetimes, #11 silent row loss:
  the SDK scheduler is not used; `engine.SyncEngine` resolves and builds the batches itself.
- #6 `SyncErrorMessage` crashing older CLIs: never sent; failures are rows of
  `aws_encryption_sync_errors`.
- #7 `close()`: implemented. #8 `skip_dependent_tables`: passed through to `filter_dfs`.
"""

from __future__ import annotations

import logging
from typing import Any, Generator

from cloudquery.sdk import message, plugin
from cloudquery.sdk.schema import Table
from cloudquery.sdk.schema.table import filter_dfs, flatten_tables

from .. import NAME, TEAM, __version__
from ..aws.clients import ClientFactory, CredentialsError
from ..aws.errors import describe
from .engine import SyncEngine
from ..aws.redact import install_log_redaction
from ..tables.schema import TableDef, walk
from .sharding import ALL, Shard
from .spec import Spec, SpecError, json_schema, parse_spec
from ..tables import TOP_LEVEL, by_name
from ..tables.aws_encryption.sync_coverage import SYNC_COVERAGE
from ..tables.aws_encryption.sync_errors import SYNC_ERRORS


def sdk_tables() -> list[Table]:
    """All tables as SDK Tables with their relations and parents set."""

    def conv(t: TableDef, parent: Table | None) -> Table:
        st = t.to_sdk_table()
        st.parent = parent
        st.relations = [conv(c, st) for c in t.children]
        return st

    return [conv(t, None) for t in TOP_LEVEL]


def select_tables(tables: list[str], skip_tables: list[str], skip_dependent_tables: bool) -> list[TableDef]:
    """The TableDefs to sync, children pruned, in registry order.

    `aws_encryption_sync_errors` and `aws_encryption_sync_coverage` come along with any selection
    unless skipped explicitly, so that choosing a subset of tables never hides what was not read.
    """
    tables = list(tables or ["*"])
    skip = list(skip_tables or [])
    filtered = filter_dfs(sdk_tables(), tables, skip, skip_dependent_tables)
    keep = {t.name for t in flatten_tables(filtered)}
    for always in (SYNC_ERRORS.name, SYNC_COVERAGE.name):
        if keep and always not in keep and not any(_match(always, p) for p in skip):
            keep.add(always)
    defs = by_name()

    def prune(t: TableDef) -> TableDef | None:
        if t.name not in keep:
            return None
        kids = [k for k in (prune(c) for c in t.children) if k is not None]
        if kids == t.children:
            return t
        from dataclasses import replace
        return replace(t, children=kids)

    return [p for p in (prune(defs[t.name]) for t in TOP_LEVEL) if p is not None]


def _match(name: str, pattern: str) -> bool:
    import fnmatch
    return fnmatch.fnmatch(name, pattern)


class AwsEncryptionPlugin(plugin.Plugin):
    def __init__(self) -> None:
        super().__init__(NAME, __version__, plugin.plugin.Options(team=TEAM, kind="source",
                                                                 json_schema=json_schema()))
        self._spec: Spec | None = None
        self._logger: Any = None
        self.last_engine: SyncEngine | None = None
        # Set by the gRPC servicer from the Sync request's shard (cloudquery sync --shard i/n).
        self.shard: Shard = ALL

    def set_logger(self, logger: Any) -> None:
        self._logger = logger

    def init(self, spec: bytes, no_connection: bool = False) -> None:
        if no_connection:
            return
        try:
            self._spec = parse_spec(spec)
        except SpecError as e:
            # gRPC turns this into the CLI's error line; it must say which field and what was expected.
            raise ValueError(str(e)) from None
        install_log_redaction()
        if self._spec.aws_debug:
            logging.getLogger("botocore").setLevel(logging.DEBUG)

    @property
    def spec(self) -> Spec:
        if self._spec is None:
            raise RuntimeError("plugin not initialised: call init() with a spec first")
        return self._spec

    def get_tables(self, options: plugin.TableOptions) -> list[Table]:
        tables = list(options.tables or ["*"])
        defs = select_tables(tables, list(options.skip_tables or []), bool(options.skip_dependent_tables))
        names = {t.name for t in walk(defs)}
        out = []

        def keep(t: Table) -> Table | None:
            if t.name not in names:
                return None
            t.relations = [r for r in (keep(r) for r in t.relations) if r is not None]
            return t

        for t in sdk_tables():
            k = keep(t)
            if k is not None:
                out.append(k)
        return out

    def sync(self, options: plugin.SyncOptions) -> Generator[message.SyncMessage, None, None]:
        defs = select_tables(list(options.tables or []), list(options.skip_tables or []),
                             bool(options.skip_dependent_tables))
        for t in walk(defs):
            yield message.SyncMigrateTableMessage(table=t.arrow_schema())
        engine = SyncEngine(self.spec, defs, shard=self.shard)
        self.last_engine = engine
        for _table, batch in engine.run():
            yield message.SyncInsertMessage(record=batch)

    def test_connection(self, spec: bytes) -> tuple[bool, str, str]:
        """Check every account's credentials; (success, failure_code, failure_description)."""
        try:
            s = parse_spec(spec)
        except SpecError as e:
            return False, "INVALID_SPEC", str(e)
        factory = ClientFactory(s)
        accounts = s.accounts or [None]
        failures = []
        from .spec import Account
        for a in accounts:
            acc = a or Account(id="")
            try:
                sess = factory.open(acc, check_account=False)
                if acc.id and sess.account_id != acc.id:
                    failures.append(f"account {acc.label}: credentials belong to account {sess.account_id}")
            except CredentialsError as e:
                code, msg = describe(e.cause)
                who = acc.label or "default credentials"
                role = f" role {acc.role_arn}" if acc.role_arn else ""
                failures.append(f"account {who}:{role} {e.operation} failed: {code}: {msg}")
        if failures:
            return False, "INVALID_CREDENTIALS", "; ".join(failures)
        return True, "", ""

    def close(self) -> None:
        return None
