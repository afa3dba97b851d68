"""IAM actions for the evaluator: wildcard matching, the S3 object read/write action sets, and the KMS
operations each S3 action needs on an SSE-KMS (or DSSE-KMS) object (pure).

Sources (titles of the AWS documentation pages):

- Amazon S3 User Guide, "Using server-side encryption with AWS KMS keys (SSE-KMS)": to upload or
  download an SSE-KMS object you need `kms:GenerateDataKey` (write) and `kms:Decrypt` (read) on the
  key; the encryption context is `aws:s3:arn` = the object ARN, or the bucket ARN when an S3 Bucket
  Key is enabled.
- AWS re:Post Knowledge Center, "Why do I need permission to decrypt the AWS KMS key when I run
  Amazon S3 multipart uploads with SSE-KMS?" and "s3-large-file-encryption-kms-key": a multipart
  upload also needs `kms:Decrypt` (CreateMultipartUpload: GenerateDataKey; UploadPart /
  UploadPartCopy: Decrypt). `aws s3 cp` switches to multipart above 8 MB.
- Amazon S3 User Guide, "Replicating encrypted objects (SSE-S3, SSE-KMS, DSSE-KMS, SSE-C)": the
  replication role needs `kms:Decrypt` on the source key (it reads with
  `s3:GetObjectVersionForReplication`) and `kms:Encrypt` on the replica key (`s3:ReplicateObject`).
- Amazon S3 API Reference, "GetObjectAttributes": "retrieves all of the metadata from an object
  without returning the object itself", so it is not an object-data read and needs no KMS
  permission; the same holds for `HeadObject` (authorised by `s3:GetObject`, which is counted because
  it also authorises GetObject and SelectObjectContent).

Decisions: `s3:GetObjectTorrent`/`GetObjectVersionTorrent` are left out (BitTorrent does not serve
SSE-KMS objects); `s3:RestoreObject` is left out (S3 restores the archived copy itself; the caller
does not call KMS); metadata writes (`PutObjectTagging`, `PutObjectAcl`, `PutObjectRetention`,
`PutObjectLegalHold`) write no object data.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Sequence

__all__ = [
    "KMS_NEEDS",
    "S3_OBJECT_DATA_ACTIONS",
    "S3_OBJECT_READ_ACTIONS",
    "S3_OBJECT_WRITE_ACTIONS",
    "action_matches",
    "matching_actions",
    "needs",
    "s3_kms_context",
    "statement_covers",
]

#: S3 actions that return object data, so KMS must decrypt the object's data key.
S3_OBJECT_READ_ACTIONS: frozenset[str] = frozenset({
    "s3:GetObject",                        # GetObject, SelectObjectContent (and HeadObject)
    "s3:GetObjectVersion",                 # GetObject with a versionId
    "s3:GetObjectVersionForReplication",   # what the replication role reads from the source
})

#: S3 actions that store new object data, so KMS must produce (or encrypt) a data key.
S3_OBJECT_WRITE_ACTIONS: frozenset[str] = frozenset({
    "s3:PutObject",        # PutObject, CopyObject (target), CreateMultipartUpload, UploadPart, CompleteMultipartUpload
    "s3:ReplicateObject",  # the replica written into the destination bucket
})

S3_OBJECT_DATA_ACTIONS: frozenset[str] = S3_OBJECT_READ_ACTIONS | S3_OBJECT_WRITE_ACTIONS

#: KMS operations each S3 action needs on the object's key under SSE-KMS / DSSE-KMS (single-part
#: upload for s3:PutObject; `needs(..., multipart=True)` adds kms:Decrypt).
KMS_NEEDS: dict[str, tuple[str, ...]] = {
    "s3:GetObject": ("kms:Decrypt",),
    "s3:GetObjectVersion": ("kms:Decrypt",),
    "s3:GetObjectVersionForReplication": ("kms:Decrypt",),
    "s3:PutObject": ("kms:GenerateDataKey",),
    "s3:ReplicateObject": ("kms:Encrypt",),
}


@functools.lru_cache(maxsize=4096)
def _action_re(pattern: str) -> re.Pattern[str]:
    return re.compile("".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern),
                      re.IGNORECASE | re.DOTALL)


def action_matches(pattern: str, action: str) -> bool:
    """IAM action matching: case-insensitive (service prefix and action name), `*` and `?`
    wildcards over the whole `service:Action` string (`s3:Get*` matches `S3:GetObject`)."""
    if not isinstance(pattern, str) or not isinstance(action, str):
        return False
    return pattern == "*" or _action_re(pattern).fullmatch(action) is not None


def statement_covers(actions: Sequence[str], not_actions: Sequence[str], action: str) -> bool:
    """Whether an Action list (any pattern matches) or a NotAction list (no pattern matches) covers
    `action`; a statement with neither covers nothing."""
    if actions:
        return any(action_matches(p, action) for p in actions)
    if not_actions:
        return not any(action_matches(p, action) for p in not_actions)
    return False


def matching_actions(actions: Sequence[str], not_actions: Sequence[str] = (),
                     candidates: Iterable[str] = S3_OBJECT_DATA_ACTIONS) -> list[str]:
    """The candidate actions (by default the S3 object read and write sets) that an Action/NotAction
    pair covers, sorted: e.g. `["s3:Get*"]` -> the three read actions."""
    return sorted(a for a in candidates if statement_covers(actions, not_actions, a))


def needs(action: str, *, multipart: bool = True) -> list[str]:
    """KMS operations an S3 action needs on an SSE-KMS object's key, e.g. `s3:GetObject` ->
    `["kms:Decrypt"]`, `s3:PutObject` -> `["kms:GenerateDataKey", "kms:Decrypt"]` (Decrypt because
    multipart uploads need it; `multipart=False` for single-part writes only). A wildcard action
    (`s3:*`, `s3:Get*`) gets the union over the S3 object actions it covers. Any other action: []."""
    if "*" in action or "?" in action:
        acts = [a for a in sorted(S3_OBJECT_DATA_ACTIONS) if action_matches(action, a)]
    else:
        acts = [a for a in KMS_NEEDS if a.lower() == action.lower()]
    out: list[str] = []
    for a in acts:
        ops = list(KMS_NEEDS[a])
        if a == "s3:PutObject" and multipart:
            ops.append("kms:Decrypt")
        for op in ops:
            if op not in out:
                out.append(op)
    return out


def s3_kms_context(bucket: str, key: str | None = None, *, bucket_key: bool = False,
                   region: str | None = None, partition: str = "aws") -> dict[str, list[str]]:
    """The KMS request-context keys S3 sends for an SSE-KMS object: `kms:EncryptionContext:aws:s3:arn`
    (the object ARN, or the bucket ARN with an S3 Bucket Key), `kms:EncryptionContextKeys`, and
    `kms:ViaService` = `s3.<region>.amazonaws.com` when `region` is given. (A writer may add its own
    pairs with `x-amz-server-side-encryption-context`; add them to the result if known.)"""
    bucket_arn = f"arn:{partition}:s3:::{bucket}"
    arn = bucket_arn if bucket_key or key is None else f"{bucket_arn}/{key}"
    ctx = {"kms:EncryptionContext:aws:s3:arn": [arn], "kms:EncryptionContextKeys": ["aws:s3:arn"]}
    if region:
        ctx["kms:ViaService"] = [f"s3.{region}.amazonaws.com"]
    return ctx
