"""Client-side pacing: per (account, region, operation) token buckets set from the quotas each
service declares (AWS's published ones), adaptive on throttling, and a circuit breaker for regions
that stop answering.

Why: botocore's adaptive mode paces a whole client, so a
ListGrants throttle (100 rps) would slow DescribeKey (2000 rps) too. Pacing each operation of each
(account, region) at 80% of its quota avoids throttling instead of detecting it; the call's own
retries (plugin/aws/retry.py) stay as the safety net. A call that needed retries halves that
bucket's rate, at most once per second per bucket (AIMD: it grows back by 5% per success). One
decrease per interval, as TCP does once per round trip: the calls already in flight when the first
throttle came back would otherwise halve it again and again, and at 10% throttling every bucket
collapsed to 1 request/s (bench/README.md). A region whose endpoint timed out or refused the
connection is marked unavailable for the rest of the sync, so one hanging region costs one
timeout, not one per call.
"""

from __future__ import annotations

import threading
import time

SHARE = 0.8
DECREASE_INTERVAL_S = 1.0
UNAVAILABLE_CODES = {"Timeout", "EndpointConnectionError"}


class _Bucket:
    __slots__ = ("rate", "ceiling", "tokens", "last", "last_decrease", "lock")

    def __init__(self, rate: float) -> None:
        self.rate = self.ceiling = rate
        self.tokens = min(rate, 10.0)
        self.last = time.monotonic()
        self.last_decrease = -DECREASE_INTERVAL_S
        self.lock = threading.Lock()

    def take(self) -> float:
        """Reserve a token; returns how long to wait for it."""
        with self.lock:
            now = time.monotonic()
            self.tokens = min(max(self.rate, 1.0), self.tokens + (now - self.last) * self.rate)
            self.last = now
            self.tokens -= 1.0
            return 0.0 if self.tokens >= 0 else -self.tokens / self.rate


class Pacer:
    """`quotas`: requests per second per account and region, by (service, operation), as the services
    declare them (plugin/tables/service.py); operations without a quota are not paced."""

    def __init__(self, quotas: dict[tuple[str, str], float] | None = None) -> None:
        self.quotas = dict(quotas or {})
        self._buckets: dict[tuple[str, str, str, str], _Bucket] = {}
        self._lock = threading.Lock()
        self._down: dict[tuple[str, str], str] = {}
        self.throttled = 0

    def _bucket(self, account: str, region: str, service: str, op: str) -> _Bucket | None:
        quota = self.quotas.get((service, op))
        if quota is None:
            return None
        key = (account, region, service, op)
        b = self._buckets.get(key)
        if b is None:
            with self._lock:
                b = self._buckets.setdefault(key, _Bucket(quota * SHARE))
        return b

    def before(self, account: str, region: str, service: str, op: str) -> None:
        b = self._bucket(account, region, service, op)
        if b is not None:
            wait = b.take()
            if wait > 0:
                time.sleep(wait)

    def after(self, account: str, region: str, service: str, op: str, retries: int) -> None:
        b = self._bucket(account, region, service, op)
        if b is None:
            return
        with b.lock:
            if retries:
                self.throttled += 1
                now = time.monotonic()
                if now - b.last_decrease >= DECREASE_INTERVAL_S:
                    b.last_decrease = now
                    b.rate = max(1.0, b.rate / 2)
            elif b.rate < b.ceiling:
                b.rate = min(b.ceiling, b.rate * 1.05)

    def unavailable(self, account: str, region: str) -> str | None:
        return self._down.get((account, region))

    def failed(self, account: str, region: str, code: str, message: str) -> None:
        if code in UNAVAILABLE_CODES:
            self._down.setdefault((account, region), f"{code}: {message}")
