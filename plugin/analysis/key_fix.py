"""Remediation text for a KMS question the evaluator answered `deny`/`not_allowed` (pure).

`fix(principal, key_arn, operations)` renders the key policy statement that would allow it and the
`aws kms create-grant` command line that would, for the checks to put into their findings. The
statement follows the AWS KMS Developer Guide ("Default key policy": "Allows key users to use the
KMS key"; "AWS KMS condition keys": kms:ViaService); the command follows the AWS CLI reference for
`aws kms create-grant` (`--key-id`, `--grantee-principal`, `--operations`, `--name`,
`--constraints`). A grant cannot require `kms:ViaService` and cannot name a service principal as its
grantee; the notes say so.
"""

from __future__ import annotations

import json
import re
import shlex
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from .principals_eval import parse_principal

__all__ = ["GRANT_OPERATIONS", "Fix", "fix"]

#: Operations a grant can allow (KMS API Reference, "CreateGrant", Operations).
GRANT_OPERATIONS = frozenset({
    "Decrypt", "Encrypt", "GenerateDataKey", "GenerateDataKeyWithoutPlaintext", "ReEncryptFrom",
    "ReEncryptTo", "Sign", "Verify", "GetPublicKey", "CreateGrant", "RetireGrant", "DescribeKey",
    "GenerateDataKeyPair", "GenerateDataKeyPairWithoutPlaintext", "GenerateMac", "VerifyMac",
    "DeriveSharedSecret"})

_KEY_ARN_RE = re.compile(r"arn:([^:]+):kms:([^:]+):(\d{12}):key/.+")


@dataclass(frozen=True)
class Fix:
    statement: dict[str, Any]     # the key policy statement to add
    statement_json: str           # the same, as indented JSON
    create_grant: str | None      # the `aws kms create-grant` command, when a grant can do it
    notes: tuple[str, ...]        # what else must hold (identity policy, grant limits)

    def as_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["notes"] = list(self.notes)
        return d


def fix(principal: str, key_arn: str, operations: Sequence[str], *, via_s3_region: str | None = None,
        sid: str | None = None, grant_name: str | None = None,
        encryption_context_subset: Mapping[str, str] | None = None) -> Fix:
    """The key policy statement (Sid, Effect Allow, Principal, Action, Resource "*", and a
    `kms:ViaService` = `s3.<region>.amazonaws.com` condition when `via_s3_region` is given) and the
    `aws kms create-grant` command that would let `principal` perform `operations` (`kms:Decrypt` or
    `Decrypt`) with the key `key_arn`. Refuses a wildcard principal."""
    if principal.strip() == "*":
        raise ValueError("refusing to render a statement for the wildcard principal")
    who = parse_principal(principal)
    ops: list[str] = []
    for o in operations:
        name = o.split(":", 1)[1] if o.lower().startswith("kms:") else o
        if name and f"kms:{name}" not in ops:
            ops.append(f"kms:{name}")
    if not ops:
        raise ValueError("no operation to allow")
    label = re.sub(r"[^A-Za-z0-9]", "", who.name or who.account or who.arn.split(".")[0]) or "Principal"
    statement: dict[str, Any] = {
        "Sid": sid or f"Allow{label}UseOfTheKey",
        "Effect": "Allow",
        "Principal": {"Service": principal} if who.kind == "service" else {"AWS": principal},
        "Action": ops if len(ops) > 1 else ops[0],
        "Resource": "*",
    }
    if via_s3_region:
        statement["Condition"] = {"StringEquals": {"kms:ViaService": f"s3.{via_s3_region}.amazonaws.com"}}
    m = _KEY_ARN_RE.fullmatch(key_arn)
    key_account = m.group(3) if m else None
    notes: list[str] = []
    if who.kind == "root":
        notes.append(f"the statement delegates to account {who.account}: its IAM policies must also allow "
                     f"{', '.join(ops)} on {key_arn} for the principals that need it")
    elif who.account and key_account and who.account != key_account:
        notes.append(f"cross-account: an identity-based policy of {who.account} must also allow "
                     f"{', '.join(ops)} on {key_arn}")
    if who.kind == "session":
        notes.append("the principal is one assumed-role session; naming its role ARN covers every session")
    grant: str | None = None
    names = [o.split(":", 1)[1] for o in ops]
    bad = [n for n in names if n not in GRANT_OPERATIONS]
    if who.kind == "service":
        notes.append("a grant cannot name a service principal as grantee: use the key policy statement")
    elif bad:
        notes.append(f"no grant can allow {', '.join(bad)}: use the key policy statement")
    else:
        args = ["aws", "kms", "create-grant", "--key-id", key_arn, "--grantee-principal", principal,
                "--operations", *names]
        if grant_name:
            args += ["--name", grant_name]
        if encryption_context_subset:
            args += ["--constraints", json.dumps({"EncryptionContextSubset": dict(encryption_context_subset)},
                                                 sort_keys=True, separators=(",", ":"))]
        if m:
            args += ["--region", m.group(2)]
        grant = " ".join(shlex.quote(a) for a in args)
        if via_s3_region:
            notes.append("a grant cannot require kms:ViaService: it also allows direct use of the key")
    return Fix(statement, json.dumps(statement, indent=2), grant, tuple(notes))
