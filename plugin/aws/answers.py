"""Bounds on what AWS answers, so a hostile or broken endpoint costs one error row, not the sync.

AWS documents the largest policies it stores: a KMS key policy is at most 32 KB, an S3 bucket
policy and an access point policy at most 20 KB. The policy grammar nests six levels deep (Statement -> statement -> Condition
-> operator -> key -> values). A document over its limit, or nested deeper than MAX_DEPTH, did not
come from AWS as documented: it is recorded as an error (`PolicyTooLarge`, `PolicyMalformed`) and not
stored or analysed, instead of costing memory, time or a RecursionError further on.
"""

from __future__ import annotations

from .errors import OurError

KEY_POLICY_MAX_BYTES = 32 * 1024       # https://docs.aws.amazon.com/kms/latest/developerguide/resource-limits.html
BUCKET_POLICY_MAX_BYTES = 20 * 1024    # https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucket-policies.html
# Access point policies: "limited to 20 KB in size" (S3 user guide, access point restrictions and
# limitations); Multi-Region Access Point policies are held to the same bound.
ACCESS_POINT_POLICY_MAX_BYTES = 20 * 1024
MAX_DEPTH = 32


class PolicyTooLarge(OurError):
    """A policy document larger than AWS allows."""


class PolicyMalformed(OurError):
    """A policy document nested deeper than any AWS policy can be."""


def check_policy(text: object, max_bytes: int) -> str:
    """`text` if it is a policy document within AWS's limits; raises PolicyTooLarge / PolicyMalformed."""
    if not isinstance(text, str):
        raise PolicyMalformed(f"the policy is a {type(text).__name__}, not a JSON document")
    size = len(text.encode("utf-8", "surrogatepass"))
    if size > max_bytes:
        raise PolicyTooLarge(f"the policy has {size} bytes; AWS allows at most {max_bytes}")
    depth = json_depth(text)
    if depth > MAX_DEPTH:
        raise PolicyMalformed(f"the policy nests {depth} levels deep; AWS policies nest at most a few")
    return text


def json_depth(text: str) -> int:
    """The deepest bracket nesting of a JSON text, counted without parsing it (no recursion)."""
    brackets = text.count("[") + text.count("{")
    if brackets <= MAX_DEPTH:  # the common case, at C speed: no deeper than it has brackets
        return brackets
    depth = deepest = 0
    in_string = escaped = False
    for ch in text:
        if in_string:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
        elif ch == '"':
            in_string = True
        elif ch in "[{":
            depth += 1
            if depth > deepest:
                deepest = depth
        elif ch in "]}":
            depth -= 1
    return deepest
