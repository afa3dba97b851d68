"""Turn any exception from an AWS call into (code, message) for `aws_encryption_sync_errors`."""

from __future__ import annotations

import re

from botocore.exceptions import (
    ClientError,
    ConnectTimeoutError,
    EndpointConnectionError,
    NoCredentialsError,
    ReadTimeoutError,
)

from .redact import redact

THROTTLED = {"Throttling", "ThrottlingException", "ThrottledException", "RequestLimitExceeded",
             "TooManyRequestsException", "SlowDown", "RequestThrottled", "RequestThrottledException"}

# The endpoint did not answer at all (described as "Timeout" / "EndpointConnectionError").
TIMEOUTS = (ConnectTimeoutError, ReadTimeoutError)
UNREACHABLE = (*TIMEOUTS, EndpointConnectionError)

class OurError(Exception):
    """A failure we detect ourselves around an AWS call; its class name is its error code."""


class RegionUnavailable(OurError):
    """A call not made because its region timed out or refused connections earlier in the sync."""


class SyncStopped(OurError):
    """A call not made because the sync is being interrupted (Ctrl-C, SIGTERM)."""


class MalformedResponse(OurError):
    """An answer that parsed but lacks what the API documents (e.g. a 200 with a body that is not JSON)."""


class PaginationLoop(OurError):
    """A listing whose next-page token repeats, or that goes on past MAX_PAGES pages."""


_XML_CODE = re.compile(r"<Code>([^<]+)</Code>")
_XML_MSG = re.compile(r"<Message>([^<]*)</Message>")


def describe(exc: BaseException) -> tuple[str, str]:
    if isinstance(exc, ClientError):
        err = exc.response.get("Error", {}) or {}
        code = str(err.get("Code") or "")
        msg = str(err.get("Message") or "")
        # moto answers some JSON-protocol errors (KMS AccessDenied under IAM auth) with an XML body;
        # botocore then reports the HTTP status as the code and the raw body as the message.
        if (not code or code.isdigit()) and "<Code>" in msg:
            m = _XML_CODE.search(msg)
            code = m.group(1) if m else code
            mm = _XML_MSG.search(msg)
            msg = mm.group(1) if mm else msg
        if not code:
            code = str(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", "ClientError"))
        return code, redact(msg or str(exc))
    if isinstance(exc, TIMEOUTS):
        return "Timeout", redact(str(exc))
    if isinstance(exc, EndpointConnectionError):
        return "EndpointConnectionError", redact(str(exc))
    if isinstance(exc, OurError):
        return type(exc).__name__, redact(str(exc))
    if isinstance(exc, NoCredentialsError):
        return "NoCredentials", "no AWS credentials found (environment, profile or instance role)"
    return type(exc).__name__, redact(str(exc))
