"""The source plugin's gRPC servicer: the SDK's, with the bugs that bite at the RPC level fixed.

- Init errors (bad spec) reach the CLI as INVALID_ARGUMENT with our one-line message.
- Sync passes the request's shard (`cloudquery sync --shard i/n`), which the SDK drops.
- TestConnection, which the SDK does not implement, checks every account's credentials.
"""

from __future__ import annotations

from typing import Any

import grpc
from cloudquery.plugin_v3 import plugin_pb2
from cloudquery.sdk.internal.servers.plugin_v3 import PluginServicer
from cloudquery.sdk.internal.servers.plugin_v3.plugin import sanitize_spec

from .plugin import AwsEncryptionPlugin


class Servicer(PluginServicer):
    def __init__(self, plugin: AwsEncryptionPlugin, logger: Any) -> None:
        super().__init__(plugin, logger)
        self._p = plugin

    def Init(self, request: Any, context: Any) -> Any:
        try:
            return super().Init(request, context)
        except ValueError as e:
            self._logger.error("invalid spec", error=str(e))
            context.abort(grpc.StatusCode.INVALID_ARGUMENT, str(e))

    def Sync(self, request: Any, context: Any) -> Any:
        # The SDK drops the request's shard; CloudQuery's `--shard i/n` arrives here.
        from .shard import ALL, Shard
        total = request.shard.total if request.HasField("shard") else 0
        self._p.shard = Shard(request.shard.num, total) if total > 1 else ALL
        if total > 1:
            self._logger.info("syncing shard", shard=str(self._p.shard))
        yield from super().Sync(request, context)
        eng = self._p.last_engine
        if eng is not None:
            self._logger.info("sync finished", rows=sum(eng.progress.rows.values()), errors=eng.progress.errors)

    def TestConnection(self, request: Any, context: Any) -> Any:
        ok, code, desc = self._p.test_connection(sanitize_spec(request.spec))
        return plugin_pb2.TestConnection.Response(success=ok, failure_code=code, failure_description=desc)
