"""The source plugin's gRPC servicer: the SDK's, with the bugs that bite at the RPC level fixed.

- Init errors (bad spec) reach the CLI as INVALID_ARGUMENT with our one-line message.
- Sync passes the request's shard (`cloudquery sync --shard i/n`), which the SDK drops.
- TestConnection, which the SDK does not implement, checks every account's credentials.
- Both RPCs that take a spec refuse one naming a custom_endpoint_url or local_profile the operator
  did not allow (`server.SpecAllowList`): INVALID_ARGUMENT from Init, a failed TestConnection, and
  no AWS call either way.
"""

from __future__ import annotations

from typing import Any

import grpc
from cloudquery.plugin_v3 import plugin_pb2
from cloudquery.sdk.internal.servers.plugin_v3 import PluginServicer
from cloudquery.sdk.internal.servers.plugin_v3.plugin import sanitize_spec

from .plugin import AwsEncryptionPlugin
from ..server.serve import SpecAllowList
from .spec import SpecError, parse_spec


class Servicer(PluginServicer):
    def __init__(self, plugin: AwsEncryptionPlugin, logger: Any, allow: SpecAllowList | None = None) -> None:
        super().__init__(plugin, logger)
        self._p = plugin
        self._allow = allow or SpecAllowList()

    def _refusal(self, raw: bytes) -> str | None:
        """Why the operator's allow-lists refuse this spec, or None (also for a spec that does not
        parse: the plugin reports that itself, naming the field)."""
        if not self._allow.active:
            return None
        try:
            spec = parse_spec(sanitize_spec(raw))
        except SpecError:
            return None
        return self._allow.refusal(spec)

    def Init(self, request: Any, context: Any) -> Any:
        refused = self._refusal(request.spec)
        if refused:
            self._logger.error("spec refused", error=refused)
            context.abort(grpc.StatusCode.INVALID_ARGUMENT, refused)
        try:
            return super().Init(request, context)
        except ValueError as e:
            self._logger.error("invalid spec", error=str(e))
            context.abort(grpc.StatusCode.INVALID_ARGUMENT, str(e))

    def Sync(self, request: Any, context: Any) -> Any:
        # The SDK drops the request's shard; CloudQuery's `--shard i/n` arrives here.
        from .sharding import ALL, Shard
        total = request.shard.total if request.HasField("shard") else 0
        self._p.shard = Shard(request.shard.num, total) if total > 1 else ALL
        if total > 1:
            self._logger.info("syncing shard", shard=str(self._p.shard))
        yield from super().Sync(request, context)
        eng = self._p.last_engine
        if eng is not None:
            self._logger.info("sync finished", rows=sum(eng.progress.rows.values()), errors=eng.progress.errors)

    def TestConnection(self, request: Any, context: Any) -> Any:
        refused = self._refusal(request.spec)  # it signs AWS calls too: the same limits as Init
        if refused:
            self._logger.error("spec refused", error=refused)
            return plugin_pb2.TestConnection.Response(success=False, failure_code="INVALID_SPEC",
                                                      failure_description=refused)
        ok, code, desc = self._p.test_connection(sanitize_spec(request.spec))
        return plugin_pb2.TestConnection.Response(success=ok, failure_code=code, failure_description=desc)
