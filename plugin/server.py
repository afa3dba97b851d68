"""`serve`: the gRPC plugin server, with the SDK's flags and its serving bugs fixed.

- SDK bug #1: `--network unix` was ignored, so `registry: local` failed to bind; we prefix the
  address with `unix:`.
- SDK bug #10: structlog's `warning`/`critical` levels are unknown to the CLI; we map them to
  `warn`/`error`, and accept `--log-level warn|trace` (the SDK fell back to info).
- The SDK has no TestConnection; ours checks every account's credentials (`cloudquery
  test-connection`).
- Init errors (bad spec) reach the CLI as INVALID_ARGUMENT with our one-line message, not a
  Python traceback.
- SIGTERM/SIGINT stop the server cleanly instead of a KeyboardInterrupt traceback (bug #15).
"""

from __future__ import annotations

import logging
import signal
import sys
from concurrent import futures
from typing import Any

import grpc
import structlog
from cloudquery.discovery_v1 import discovery_pb2_grpc
from cloudquery.plugin_v3 import plugin_pb2, plugin_pb2_grpc
from cloudquery.sdk.internal.servers.discovery_v1.discovery import DiscoveryServicer
from cloudquery.sdk.internal.servers.plugin_v3 import PluginServicer
from cloudquery.sdk.internal.servers.plugin_v3.plugin import sanitize_spec
from cloudquery.sdk.serve import plugin as sdk_serve

from .plugin import AwsEncryptionPlugin
from .redact import install_log_redaction, redact

_LEVELS = {"trace": logging.DEBUG, "debug": logging.DEBUG, "info": logging.INFO, "warn": logging.WARNING,
           "warning": logging.WARNING, "error": logging.ERROR}


def _cli_level_names(_logger: Any, _name: str, event: dict[str, Any]) -> dict[str, Any]:
    lvl = event.get("level")
    if lvl == "warning":
        event["level"] = "warn"
    elif lvl in ("critical", "exception"):
        event["level"] = "error"
    return event


def _redact_event(_logger: Any, _name: str, event: dict[str, Any]) -> dict[str, Any]:
    for k, v in list(event.items()):
        if isinstance(v, str):
            event[k] = redact(v)
    return event


class _JSONLineFormatter(logging.Formatter):
    """stdlib records (botocore, our engine's warnings) as the JSON lines the CLI parses; structlog's
    own lines are already rendered JSON and pass through. Without this the CLI logs them as UNK."""

    _names = {"WARNING": "warn", "CRITICAL": "error", "DEBUG": "debug", "INFO": "info", "ERROR": "error"}

    def format(self, record: logging.LogRecord) -> str:
        msg = record.getMessage()
        if record.name == "aws_encryption" and msg.startswith("{"):
            return msg
        import json
        import time as _t
        return json.dumps({"level": self._names.get(record.levelname, "info"), "message": redact(msg),
                           "module": record.name,
                           "time": _t.strftime("%Y-%m-%dT%H:%M:%SZ", _t.gmtime(record.created))})


def make_logger(log_format: str, log_level: str) -> Any:
    level = _LEVELS.get(log_level.lower(), logging.INFO)
    logging.basicConfig(format="%(message)s", stream=sys.stdout, level=level, force=True)
    if log_format == "json":
        for h in logging.getLogger().handlers:
            h.setFormatter(_JSONLineFormatter())
    logging.getLogger().setLevel(level)
    install_log_redaction()
    processors: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        _cli_level_names,
        structlog.processors.StackInfoRenderer(),
        structlog.dev.set_exc_info,
        structlog.processors.format_exc_info,
        structlog.processors.TimeStamper(fmt="%Y-%m-%dT%H:%M:%SZ", utc=True),
        _redact_event,
    ]
    if log_format == "json":
        processors.append(structlog.processors.JSONRenderer())
    else:
        processors.append(structlog.dev.ConsoleRenderer(colors=False))
    return structlog.wrap_logger(logging.getLogger("aws_encryption"), processors=processors)


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


def serve(address: str, network: str, log_format: str, log_level: str) -> None:
    if network == "unix" and not address.startswith("unix:"):
        address = "unix:" + address
    logger = make_logger(log_format, log_level)
    p = AwsEncryptionPlugin()
    p.set_logger(logger)
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=10),
                         options=[("grpc.max_receive_message_length", 256 << 20),
                                  ("grpc.max_send_message_length", 256 << 20)])
    discovery_pb2_grpc.add_DiscoveryServicer_to_server(DiscoveryServicer([3]), server)
    plugin_pb2_grpc.add_PluginServicer_to_server(Servicer(p, logger), server)
    if server.add_insecure_port(address) == 0 and not address.startswith("unix:"):
        raise SystemExit(f"aws-encryption: cannot listen on {address}")
    logger.info("Starting server", address=address)
    server.start()

    def stop(_sig: int, _frame: Any) -> None:
        server.stop(5)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    server.wait_for_termination()


def add_serve_arguments(parser: Any) -> None:
    """The SDK's serve flags, so the CLI's invocation works unchanged."""
    parser.add_argument("--address", default="localhost:7777")
    parser.add_argument("--network", default="tcp", choices=["tcp", "unix"])
    parser.add_argument("--log-format", default="text", choices=["text", "json"])
    parser.add_argument("--log-level", default="info", choices=["trace", "debug", "info", "warn", "error"])
    for flag in ("--otel-endpoint", "--otel-endpoint-insecure", "--license"):
        parser.add_argument(flag, default="")
    parser.add_argument("--no-sentry", action="store_true")


def package(argv: list[str]) -> None:
    """`package`: delegated to the SDK (needs Docker buildx)."""
    sdk_serve.PluginCommand(AwsEncryptionPlugin()).run(["package", *argv])
