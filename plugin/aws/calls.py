"""What a resolver sees: one account, one region, and calls that record their own failures.

A failed call (after its retries, plugin/aws/retry.py) becomes a row of `aws_encryption_sync_errors` with the
account, region, table, API operation and resource, and the resolver gets `None` back so it can
leave the columns it could not read NULL and carry on. Answers that mean "not configured"
(NoSuchBucketPolicy, ...) are passed as `absent=` and return `None` without an error row.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Callable, Iterator

from botocore import xform_name

from .answers import PolicyMalformed, PolicyTooLarge, check_policy
from .clients import AccountSession
from .errors import UNREACHABLE, MalformedResponse, PaginationLoop, RegionUnavailable, SyncStopped, describe
from .retry import backoff, retryable

if TYPE_CHECKING:
    from ..tables.schema import TableDef


# A listing of more pages than this is treated as hostile (a token that never ends): 2,000 pages are
# 2M keys at ListKeys' 1,000 per page, 1M+ buckets, 200k grants at 100 per page, 40k organisation
# accounts at 20 per page, each above AWS's quotas.
MAX_PAGES = 2000


@dataclass(frozen=True)
class SyncError:
    account_id: str
    region: str
    table_name: str
    service: str
    operation: str
    resource_arn: str
    error_code: str
    message: str


@dataclass
class Parent:
    table: "TableDef"
    row: dict[str, Any]
    item: dict[str, Any]


@dataclass
class Ctx:
    acc: AccountSession
    region: str
    table: str
    on_error: Callable[[SyncError], None]
    regions: tuple[str, ...] = field(default_factory=tuple)
    # Shared by the whole sync: what was seen (for derived tables) and who counts as "inside".
    index: Any = None
    trusted: frozenset[str] = frozenset()
    shard: Any = None                      # plugin.source.sharding.Shard; None: everything is ours
    pacer: Any = None                      # plugin.aws.pacing.Pacer; None: no pacing
    account_error: Callable[[SyncError], None] | None = None  # for account-level failures (see shard.py)
    # Set by the engine while a table's listing runs: items its pages returned (before any filtering).
    listed: list[int] | None = None
    # Set when the sync is interrupted: no new call starts, listings stop between pages.
    stop: Any = None                       # threading.Event
    # The services' own transient error codes (plugin/tables/<service>), retried like throttling.
    retry_codes: frozenset[str] = frozenset()

    def owns(self, region: str) -> bool:
        return self.shard is None or self.shard.owns(self.account_id, region)

    def for_account_level(self) -> "Ctx":
        """The same context, with failures recorded only by the shard that owns the account."""
        return replace(self, on_error=self.account_error or self.on_error)

    @property
    def account_id(self) -> str:
        return self.acc.account_id

    @property
    def partition(self) -> str:
        return self.acc.partition

    def with_region(self, region: str) -> "Ctx":
        return self if region == self.region else replace(self, region=region)

    def with_errors(self, on_error: Callable[[SyncError], None]) -> "Ctx":
        """The same context, with failures going to `on_error` instead."""
        return replace(self, on_error=on_error)

    def with_table(self, table: str) -> "Ctx":
        return self if table == self.table else replace(self, table=table)

    def client(self, service: str) -> Any:
        return self.acc.client(service, self.region)

    def record(self, service: str, operation: str, exc: BaseException, resource_arn: str = "") -> None:
        code, msg = describe(exc)
        self.on_error(SyncError(self.account_id, self.region, self.table, service, operation,
                                resource_arn, code, msg))

    def bounded_policy(self, service: str, operation: str, text: Any, max_bytes: int,
                       resource_arn: str) -> str | None:
        """A policy document within AWS's documented limits (plugin/aws/answers.py), or None with the
        problem recorded as this resource's error."""
        try:
            return check_policy(text, max_bytes)
        except (PolicyTooLarge, PolicyMalformed) as e:
            self.record(service, operation, e, resource_arn)
            return None

    def call(self, service: str, operation: str, *, resource_arn: str = "", absent: tuple[str, ...] = (),
             expect: str = "", _failed: list[bool] | None = None, **params: Any) -> dict[str, Any] | None:
        """The response, or None: "absent" answers return None silently, failures are recorded
        (and noted in `_failed`, for callers that must tell the two apart). `expect`: a key the answer
        must have (AWS documents it as always present); without it the answer is malformed, a failure."""
        method = _method(operation)
        try:
            r = self._invoke(service, operation, getattr(self.client(service), method), params)
            if expect and (not isinstance(r, dict) or expect not in r):
                raise MalformedResponse(f"the {operation} answer has no {expect} ({_shape(r)})")
            return r
        except SyncStopped:
            return None  # interrupted: the whole sync is rolled back, nothing to record
        except Exception as e:
            code, _ = describe(e)
            if code in absent:
                return None
            self.record(service, operation, e, resource_arn)
            if _failed is not None:
                _failed.append(True)
            return None

    def _invoke(self, service: str, operation: str, method: Any, params: dict[str, Any]) -> dict[str, Any]:
        """One call with its retries (plugin/aws/retry.py), paced, and stopped early when the region
        has been found unavailable."""
        p = self.pacer
        spec = self.acc.spec
        attempt = 0
        while True:
            if self.stop is not None and self.stop.is_set():
                raise SyncStopped("the sync was interrupted")
            if p is not None:
                down = p.unavailable(self.account_id, self.region)
                if down is not None:
                    raise RegionUnavailable(f"{self.region} stopped answering earlier in this sync ({down})")
                p.before(self.account_id, self.region, service, operation)
            try:
                r = method(**params)
            except Exception as e:
                # A timeout or a refused connection is retried once, not max_retries times: a region
                # that hangs would otherwise hold each of its calls for (max_retries + 1) x
                # request_timeout (11 minutes with the defaults) before the circuit breaker opens.
                limit = min(spec.max_retries, 1) if isinstance(e, UNREACHABLE) else spec.max_retries
                if attempt < limit and retryable(e, self.retry_codes):
                    attempt += 1
                    time.sleep(backoff(attempt, spec.max_backoff))
                    continue
                if p is not None:
                    code, msg = describe(e)
                    p.failed(self.account_id, self.region, code, msg)
                raise
            if p is not None:
                p.after(self.account_id, self.region, service, operation, attempt)
            return r

    def paginate(self, service: str, operation: str, result_key: str, *, resource_arn: str = "",
                 token_in: str, token_out: str, absent_is_empty: bool = False, **params: Any) -> Iterator[dict[str, Any]]:
        """Every item of `result_key`, all pages followed (see `pages`)."""
        for page in self.pages(service, operation, (result_key,), resource_arn=resource_arn, token_in=token_in,
                               token_out=token_out, absent_is_empty=absent_is_empty, **params):
            yield from page.get(result_key) or []

    def pages(self, service: str, operation: str, result_keys: tuple[str, ...], *, resource_arn: str = "",
              token_in: str, token_out: str, absent_is_empty: bool = False, **params: Any) -> Iterator[dict[str, Any]]:
        """Follow pagination by hand (moto drops some tokens; botocore paginators then loop or stop),
        yielding each page, which holds a list under every one of `result_keys` (an answer without
        one is malformed: recorded, and no more pages; with `absent_is_empty`, for the APIs that leave
        the list out when there is nothing, such as SQS ListQueues, a parsed answer without it is
        empty). A failure is recorded and ends the pages."""
        method = getattr(self.client(service), _method(operation))
        token = None
        seen: set[str] = set()
        pages = 0
        while True:
            p = dict(params)
            if token:
                p[token_in] = token
            try:
                if self.stop is not None and self.stop.is_set():
                    return  # interrupted: the sync is rolled back, nothing to record
                if pages >= MAX_PAGES:
                    raise PaginationLoop(f"{operation} still had more after {MAX_PAGES} pages; stopped there")
                pages += 1
                page = self._invoke(service, operation, method, p)
                # AWS always sends the lists (empty when there is nothing); a 200 whose body did not
                # parse reaches us as {"message": <body>} from botocore, which must not read as "none".
                for key in result_keys:
                    got = page.get(key) if isinstance(page, dict) else None
                    if got is None and absent_is_empty and isinstance(page, dict) and "ResponseMetadata" in page:
                        page[key] = []
                    elif not isinstance(got, list):
                        raise MalformedResponse(f"the {operation} answer has no {key} list ({_shape(page)})")
                next_token = page.get(token_out)
                if next_token and next_token in seen:
                    raise PaginationLoop(f"{operation} returned the page token {str(next_token)[:40]!r} twice; "
                                         f"stopped after {pages} pages")
            except SyncStopped:
                return
            except Exception as e:
                self.record(service, operation, e, resource_arn)
                return
            if self.listed is not None:
                self.listed[0] += sum(len(page[k]) for k in result_keys)
            yield page
            token = next_token
            if not token:
                return
            seen.add(token)

    def collect(self, service: str, operation: str, result_key: str, **kwargs: Any) -> list[dict[str, Any]] | None:
        """All pages as one list, or None when a page failed (the error is recorded)."""
        failed: list[bool] = []
        orig = self.on_error

        def note(err: SyncError) -> None:
            failed.append(True)
            orig(err)

        items = list(replace(self, on_error=note).paginate(service, operation, result_key, **kwargs))
        return None if failed else items


def _shape(r: Any) -> str:
    """What an answer holds, briefly and without its content (for error messages)."""
    if not isinstance(r, dict):
        return f"got {type(r).__name__}"
    keys = [k for k in r if k != "ResponseMetadata"]
    return "keys: " + (", ".join(sorted(keys)[:5]) or "none")


def _method(operation: str) -> str:
    """The boto3 client method of an API operation (DescribeDBInstances -> describe_db_instances)."""
    return xform_name(operation)
