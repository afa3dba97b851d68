"""`serve`: the gRPC plugin server, with the SDK's flags and its serving bugs fixed (the bug numbers
are those of docs/cloudquery.md, "SDK bugs").

- SDK bug #1: `--network unix` was ignored, so `registry: local` failed to bind; we prefix the
  address with `unix:`.
- SDK bug #10: structlog's `warning`/`critical` levels are unknown to the CLI; we map them to
  `warn`/`error`, and accept `--log-level warn|trace` (the SDK fell back to info).
- The SDK has no TestConnection; ours checks every account's credentials (`cloudquery
  test-connection`).
- Init errors (bad spec) reach the CLI as INVALID_ARGUMENT with our one-line message, not a
  Python traceback.
- SIGTERM/SIGINT stop the server cleanly instead of a KeyboardInterrupt traceback (bug #15).
- The port is unauthenticated (CloudQuery's model): whoever reaches it chooses the spec. The
  operator can restrict what a spec may point the plugin at (`SpecAllowList`: `--allow-endpoint`,
  `--allow-profile` or their environment variables); see docs/security.md.
"""

from __future__ import annotations

import argparse
import functools
import logging
import os
import re
import signal
import sys
from concurrent import futures
from dataclasses import dataclass
from typing import Any, Mapping

import grpc
import structlog
from cloudquery.discovery_v1 import discovery_pb2, discovery_pb2_grpc
from cloudquery.plugin_v3 import plugin_pb2_grpc

from ..aws.redact import install_log_redaction, redact

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
        line: dict[str, Any] = {"level": self._names.get(record.levelname, "info"), "message": redact(msg),
                                "module": record.name,
                                "time": _t.strftime("%Y-%m-%dT%H:%M:%SZ", _t.gmtime(record.created))}
        # Structured fields (logging's `extra={"cq_fields": {...}}`), e.g. the `table` of an unread
        # scope, which the CLI lists among the tables that finished with an error.
        for k, v in (getattr(record, "cq_fields", None) or {}).items():
            line.setdefault(k, redact(v) if isinstance(v, str) else v)
        return json.dumps(line)


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


# ---------------------------------------------------------------------------------------------
# What a gRPC caller's spec may point the plugin at

ENDPOINTS_ENV = "AWS_ENCRYPTION_ALLOWED_ENDPOINTS"
PROFILES_ENV = "AWS_ENCRYPTION_ALLOWED_PROFILES"
NONE = "none"  # spells the empty list on the command line: --allow-endpoint none
_URL = re.compile(r"https?://[^\s/]+(/\S*)?")  # what the spec itself accepts for custom_endpoint_url


def _endpoint(value: str) -> str:
    """An allowed endpoint as compared: exact, less a trailing slash."""
    return value.rstrip("/")


@dataclass(frozen=True)
class SpecAllowList:
    """The operator's limits on the spec a gRPC caller sends (Init, TestConnection).

    `None` means not restricted (the default: CloudQuery's trust model, anything the caller asks);
    a set means only those values; an empty set means none. Endpoints compare exactly (less a
    trailing `/`): a prefix would let `http://10.0.0.1:1` admit `http://10.0.0.1:10` and
    `https://proxy.internal` admit `https://proxy.internal.evil.example`. Profiles compare exactly.
    An empty `local_profile` (the server's default credential chain) and no custom endpoint (AWS
    itself) are always allowed: they are what the operator started the server with.
    """

    endpoints: frozenset[str] | None = None
    profiles: frozenset[str] | None = None

    @property
    def active(self) -> bool:
        return self.endpoints is not None or self.profiles is not None

    @classmethod
    def from_options(cls, endpoints: list[str] | None, profiles: list[str] | None,
                     environ: Mapping[str, str]) -> SpecAllowList:
        """Flags win over the environment variable (comma-separated); a variable that is set, even
        empty, restricts. ValueError (one line) for a value that is not an http(s) URL."""
        return cls(_allowed(endpoints, environ.get(ENDPOINTS_ENV), "--allow-endpoint", ENDPOINTS_ENV, True),
                   _allowed(profiles, environ.get(PROFILES_ENV), "--allow-profile", PROFILES_ENV, False))

    def refusal(self, spec: Any) -> str | None:
        """One line naming the first spec field whose value is not allowed; None when all are."""
        url = spec.custom_endpoint_url
        if self.endpoints is not None and url and _endpoint(url) not in self.endpoints:
            return (f"spec field custom_endpoint_url: {_shown(url)} is not allowed by this plugin server "
                    f"({_which(self.endpoints, 'endpoint')} by its operator: serve --allow-endpoint / {ENDPOINTS_ENV})")
        if self.profiles is None:
            return None
        for field, profile in _profiles(spec):
            if profile and profile not in self.profiles:
                return (f"spec field {field}: profile {_shown(profile)} is not allowed by this plugin server "
                        f"({_which(self.profiles, 'profile')} by its operator: serve --allow-profile / {PROFILES_ENV})")
        return None

    def describe(self) -> dict[str, str]:
        def one(values: frozenset[str] | None) -> str:
            return "any" if values is None else ", ".join(sorted(values)) or NONE
        return {"allowed_endpoints": one(self.endpoints), "allowed_profiles": one(self.profiles)}


def _allowed(flags: list[str] | None, env: str | None, flag: str, var: str, urls: bool) -> frozenset[str] | None:
    if flags:
        values, source = flags, flag
    elif env is not None:
        values, source = env.split(","), var
    else:
        return None
    out = set()
    for v in (x.strip() for x in values):
        if not v or v.lower() == NONE:
            continue
        if urls and not _URL.fullmatch(v):
            raise ValueError(f"{source} {v!r}: expected an http(s) URL such as http://127.0.0.1:4566, or {NONE}")
        out.add(_endpoint(v) if urls else v)
    return frozenset(out)


def _shown(value: str, limit: int = 60) -> str:
    """The caller's value in our one-line message: quoted, escaped, and short."""
    return repr(value if len(value) <= limit else value[: limit - 1] + "…")


def _which(values: frozenset[str], what: str) -> str:
    return f"only {len(values)} {what}{'s' if len(values) != 1 else ''} allowed" if values else f"no {what} allowed"


def _profiles(spec: Any) -> list[tuple[str, str]]:
    """(spec field, local_profile) for every place a spec names a profile."""
    out = [(f"accounts[{i}].local_profile", a.local_profile) for i, a in enumerate(spec.accounts)]
    if spec.org is not None:
        for name in ("admin_account", "member_trusted_principal"):
            creds = getattr(spec.org, name)
            if creds is not None:
                out.append((f"org.{name}.local_profile", creds.local_profile))
    return out


def _build_source(logger: Any, allow: SpecAllowList | None = None) -> Any:
    from ..source.plugin import AwsEncryptionPlugin
    from ..source.grpc_service import Servicer
    p = AwsEncryptionPlugin()
    p.set_logger(logger)
    allow = allow or SpecAllowList()
    if allow.active:
        logger.info("spec allow-lists in force", **allow.describe())
    return Servicer(p, logger, allow)


def serve(address: str, network: str, log_format: str, log_level: str,
          allow_endpoints: list[str] | None = None, allow_profiles: list[str] | None = None) -> None:
    try:
        allow = SpecAllowList.from_options(allow_endpoints, allow_profiles, os.environ)
    except ValueError as e:
        sys.stderr.write(f"aws-encryption: {e}\n")
        raise SystemExit(2) from None
    run_server(functools.partial(_build_source, allow=allow), address, network, log_format, log_level,
               "aws-encryption")


def _endpoint_arg(value: str) -> str:
    if value.strip().lower() != NONE and not _URL.fullmatch(value.strip()):
        raise argparse.ArgumentTypeError(f"expected an http(s) URL such as http://127.0.0.1:4566, or {NONE}")
    return value.strip()


def add_serve_arguments(parser: Any, spec_allow_lists: bool = True) -> None:
    """The SDK's serve flags, so the CLI's invocation works unchanged; then ours."""
    parser.add_argument("--address", default="localhost:7777")
    parser.add_argument("--network", default="tcp", choices=["tcp", "unix"])
    parser.add_argument("--log-format", default="text", choices=["text", "json"])
    parser.add_argument("--log-level", default="info", choices=["trace", "debug", "info", "warn", "error"])
    for flag in ("--otel-endpoint", "--otel-endpoint-insecure", "--license"):
        parser.add_argument(flag, default="")
    parser.add_argument("--no-sentry", action="store_true")
    if not spec_allow_lists:
        return
    g = parser.add_argument_group(
        "what a caller's spec may use (source plugin; default: anything)",
        f"Whoever reaches the port chooses the spec. With these, Init and TestConnection refuse a spec "
        f"naming another value. Flags win over {ENDPOINTS_ENV} / {PROFILES_ENV} (comma-separated; set "
        f"but empty = none allowed), which reach a plugin the CloudQuery CLI starts itself.")
    g.add_argument("--allow-endpoint", action="append", metavar="URL", type=_endpoint_arg,
                   help="a custom_endpoint_url the spec may use, compared exactly (repeatable; 'none': no "
                        "custom endpoint)")
    g.add_argument("--allow-profile", action="append", metavar="NAME",
                   help="a local_profile the spec may name, anywhere (repeatable; 'none': only the server's "
                        "default credentials)")


def package(argv: list[str]) -> None:
    """`package`: delegated to the SDK (needs Docker buildx)."""
    from cloudquery.sdk.serve import plugin as sdk_serve

    from ..source.plugin import AwsEncryptionPlugin
    sdk_serve.PluginCommand(AwsEncryptionPlugin()).run(["package", *argv])
