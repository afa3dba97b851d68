"""The pacer: per-(account, region, operation) token buckets at 80% of the KMS quotas, AIMD on throttling."""

from plugin.aws.pacing import SHARE, Pacer
from plugin.tables import quotas
from plugin.tables.kms import SERVICE as KMS

KMS_QUOTAS = KMS.quotas


def _bucket(p: Pacer, op: str = "ListGrants"):
    return p._bucket("111111111111", "us-east-1", "kms", op)


def test_a_burst_of_throttled_calls_halves_the_rate_once():
    # The calls in flight when the first throttle comes back all report retries; counting each of them
    # collapsed a bucket to 1 request/s at 10% throttling.
    p = Pacer(quotas())
    for _ in range(50):
        p.after("111111111111", "us-east-1", "kms", "ListGrants", retries=1)
    assert _bucket(p).rate == KMS_QUOTAS["ListGrants"] * SHARE / 2
    assert p.throttled == 50


def test_successes_restore_the_rate_up_to_the_quota_share():
    p = Pacer(quotas())
    p.after("111111111111", "us-east-1", "kms", "ListGrants", retries=2)
    for _ in range(100):
        p.after("111111111111", "us-east-1", "kms", "ListGrants", retries=0)
    assert _bucket(p).rate == KMS_QUOTAS["ListGrants"] * SHARE


def test_buckets_are_per_operation_and_s3_is_not_paced():
    p = Pacer(quotas())
    p.after("111111111111", "us-east-1", "kms", "ListGrants", retries=1)
    assert _bucket(p, "DescribeKey").rate == KMS_QUOTAS["DescribeKey"] * SHARE
    assert p._bucket("111111111111", "us-east-1", "s3", "GetBucketPolicy") is None


def test_retryable_errors_follow_botocore_standard_mode():
    from botocore.exceptions import ClientError, EndpointConnectionError, ReadTimeoutError

    from plugin.aws.retry import backoff, retryable

    def err(code, status=400):
        return ClientError({"Error": {"Code": code}, "ResponseMetadata": {"HTTPStatusCode": status}}, "Op")

    assert retryable(err("ThrottlingException")) and retryable(err("SlowDown", 503))
    assert retryable(err("KMSInternalException", 500)) and retryable(err("Whatever", 502))
    assert retryable(EndpointConnectionError(endpoint_url="https://kms.eu-west-1.amazonaws.com"))
    assert retryable(ReadTimeoutError(endpoint_url="https://kms.eu-west-1.amazonaws.com"))
    assert not retryable(err("AccessDeniedException")) and not retryable(err("NotFoundException"))
    assert not retryable(ValueError("a bug"))
    # full jitter under a cap that doubles per attempt and never exceeds max_backoff
    assert all(0 <= backoff(1, 30) <= 0.5 for _ in range(200))
    assert all(0 <= backoff(12, 3) <= 3 for _ in range(200))
