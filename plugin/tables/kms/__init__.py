"""AWS KMS: keys (with their grants, policy, rotation status and rotations) and aliases."""

from ..service import Service
from .aliases import ALIASES
from .keys import KEYS


SERVICE = Service(
    name="kms",
    tables=[KEYS, ALIASES],
    # Requests per second per account and region (AWS KMS quotas; ListKeys and ListAliases share theirs).
    quotas={"ListGrants": 100, "ListKeyRotations": 100, "GetKeyRotationStatus": 1000, "GetKeyPolicy": 1000,
            "DescribeKey": 2000, "ListResourceTags": 2000, "ListKeys": 500, "ListAliases": 500},
    retryable_codes=frozenset({"KMSInternalException", "DependencyTimeoutException"}),
)
