"""Retries of the resource calls, done by us rather than inside botocore.

Why: botocore's standard mode sleeps up to 2**attempt seconds (1 s on average for the first retry)
*inside the worker thread*. With 32 threads and 10% of calls throttled, ~30 threads per process
were asleep at any moment and the sync became thread-bound (bench/README.md, figure 3). Here the
first retry waits 0-0.5 s with full jitter, doubling per attempt up to `max_backoff`: throttling
is answered mainly by the pacer (plugin/aws/pacing.py), which slows the (account, region,
operation) that was throttled; the retry is the safety net. Which errors are retried follows
botocore's standard mode: throttling codes, transient codes and 5xx, and connection errors and
timeouts.
"""

from __future__ import annotations

import random

from botocore.exceptions import ClientError, ConnectionError, HTTPClientError

from .errors import THROTTLED

TRANSIENT = {"RequestTimeout", "RequestTimeoutException", "PriorRequestNotComplete", "InternalError",
             "InternalFailure", "InternalServerError", "ServiceUnavailable", "ServiceUnavailableException",
             "BadGateway", "GatewayTimeout"}
BASE_S = 0.25


def retryable(exc: BaseException, service_codes: frozenset[str] = frozenset()) -> bool:
    """`service_codes`: the services' own transient codes (declared in plugin/tables/<service>)."""
    if isinstance(exc, ClientError):
        code = (exc.response.get("Error") or {}).get("Code") or ""
        status = (exc.response.get("ResponseMetadata") or {}).get("HTTPStatusCode") or 0
        return code in THROTTLED or code in TRANSIENT or code in service_codes or status in (500, 502, 503, 504)
    return isinstance(exc, (ConnectionError, HTTPClientError))


def backoff(attempt: int, max_backoff: float) -> float:
    """Seconds to wait before retry number `attempt` (1, 2, ...): full jitter, capped."""
    return random.uniform(0, min(max_backoff, BASE_S * 2 ** attempt))
