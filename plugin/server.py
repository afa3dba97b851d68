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
from cloudquery.discovery_v1 import discovery_pb2, discovery_pb2_grpc
from cloudquery.plugin_v3 import plugin_pb2_grpc

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


class _Discovery(discovery_pb2_grpc.DiscoveryServicer):
    def GetVersions(self, request: Any, context: Any) -> Any:
        return discovery_pb2.GetVersions.Response(versions=[3])


class LazyServicer(plugin_pb2_grpc.PluginServicer):
    """Listens at once and loads the plugin (pyarrow, pandas, boto3: 1-2 s, more on a busy machine) on
    the first call. The CloudQuery CLI gives a local plugin a few seconds to start answering and kills
    it after three attempts, so the socket must be up before the heavy imports."""

    def __init__(self, build: Any, logger: Any) -> None:
        import threading
        self._build, self._logger, self._real = build, logger, None
        self._lock = threading.Lock()
        threading.Thread(target=self.real, daemon=True).start()  # warm up in the background

    def real(self) -> Any:
        with self._lock:
            if self._real is None:
                self._real = self._build(self._logger)
            return self._real


def _delegate(name: str) -> Any:
    def call(self: LazyServicer, request: Any, context: Any) -> Any:
        return getattr(self.real(), name)(request, context)
    call.__name__ = name
    return call


for _rpc in ("GetName", "GetVersion", "GetSpecSchema", "Init", "GetTables", "Sync", "Read", "Write", "Transform",
             "TransformSchema", "Close", "TestConnection", "AssessTables", "WriteStream"):
    setattr(LazyServicer, _rpc, _delegate(_rpc))


def run_server(build: Any, address: str, network: str, log_format: str, log_level: str, name: str,
               workers: int = 10) -> None:
    """Serve one plugin until SIGTERM/SIGINT, with the SDK's serving bugs fixed.

    `build(logger)` returns the servicer; it runs once, off the critical path of the CLI's start-up.
    """
    if network == "unix" and not address.startswith("unix:"):
        address = "unix:" + address  # SDK bug #1: grpc needs the unix: scheme for a socket path
    logger = make_logger(log_format, log_level)
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=workers),
                         options=[("grpc.max_receive_message_length", 256 << 20),
                                  ("grpc.max_send_message_length", 256 << 20)])
    discovery_pb2_grpc.add_DiscoveryServicer_to_server(_Discovery(), server)
    plugin_pb2_grpc.add_PluginServicer_to_server(LazyServicer(build, logger), server)
    if server.add_insecure_port(address) == 0 and not address.startswith("unix:"):
        raise SystemExit(f"{name}: cannot listen on {address}")
    logger.info("Starting server", address=address)
    server.start()

    def stop(_sig: int, _frame: Any) -> None:
        # Stopping cancels an unfinished Write stream, which rolls its transaction back.
        server.stop(5)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    server.wait_for_termination()


def _build_source(logger: Any) -> Any:
    from .plugin import AwsEncryptionPlugin
    from .servicer import Servicer
    p = AwsEncryptionPlugin()
    p.set_logger(logger)
    return Servicer(p, logger)


def serve(address: str, network: str, log_format: str, log_level: str) -> None:
    run_server(_build_source, address, network, log_format, log_level, "aws-encryption")


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
    from cloudquery.sdk.serve import plugin as sdk_serve

    from .plugin import AwsEncryptionPlugin
    sdk_serve.PluginCommand(AwsEncryptionPlugin()).run(["package", *argv])
