#!/usr/bin/env python3
"""How long `plugin.analysis.policy.analyze` takes on a maximal KMS key policy (32 KB, the KMS limit).

The policy is generated deterministically from the statement shapes real key policies use: the
default root statement, key administrators and key users (role lists), persistent-resource grants
(kms:GrantIsForAWSResource), AWS-managed-style `*` + kms:CallerAccount + kms:ViaService,
cross-account roots, organisation (aws:PrincipalOrgID / PrincipalOrgPaths), aws:PrincipalArn,
service principals with aws:SourceAccount/SourceArn, and Deny guards. It is padded with
statements until its JSON is just under 32 KB (~100 statements).

Each run analyses the policy from its JSON *string* (as GetKeyPolicy returns it), so parsing is
included. The lru caches of the module are cleared before the cold run only; the warm figures
are what a sync sees after its first keys.

Usage: python bench/bench_policy.py [--runs 500] [--size 32768] [--check]
  --check  exit 1 when the median is 5 ms or more
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from plugin.analysis import policy as P  # noqa: E402

OWNER = "111122223333"
USE = ["kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:DescribeKey"]


def _statement(i: int) -> dict:
    acct = f"{444455550000 + i % 97:012d}"
    kind = i % 10
    if kind == 0:
        return {"Sid": f"Admins{i}", "Effect": "Allow",
                "Principal": {"AWS": [f"arn:aws:iam::{OWNER}:role/KeyAdmin{i}", f"arn:aws:iam::{OWNER}:user/admin{i}"]},
                "Action": ["kms:Create*", "kms:Describe*", "kms:Enable*", "kms:List*", "kms:Put*", "kms:Update*",
                           "kms:Revoke*", "kms:Disable*", "kms:Get*", "kms:Delete*", "kms:TagResource",
                           "kms:UntagResource", "kms:ScheduleKeyDeletion", "kms:CancelKeyDeletion"],
                "Resource": "*"}
    if kind == 1:
        return {"Sid": f"Use{i}", "Effect": "Allow",
                "Principal": {"AWS": [f"arn:aws:iam::{OWNER}:role/app-{i}", f"arn:aws:iam::{acct}:role/reader-{i}"]},
                "Action": USE, "Resource": "*"}
    if kind == 2:
        return {"Sid": f"Grants{i}", "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{acct}:root"},
                "Action": ["kms:CreateGrant", "kms:ListGrants", "kms:RevokeGrant"], "Resource": "*",
                "Condition": {"Bool": {"kms:GrantIsForAWSResource": "true"}}}
    if kind == 3:
        return {"Sid": f"ViaS3{i}", "Effect": "Allow", "Principal": {"AWS": "*"}, "Action": USE, "Resource": "*",
                "Condition": {"StringEquals": {"kms:CallerAccount": [OWNER, acct],
                                               "kms:ViaService": f"s3.us-east-{1 + i % 2}.amazonaws.com"}}}
    if kind == 4:
        return {"Sid": f"Org{i}", "Effect": "Allow", "Principal": "*", "Action": ["kms:Decrypt", "kms:DescribeKey"],
                "Resource": "*", "Condition": {"StringEquals": {"aws:PrincipalOrgID": f"o-a1b2c3d{i:03d}"},
                                               "ForAnyValue:StringLike": {"aws:PrincipalOrgPaths": [f"o-a1b2c3d{i:03d}/r-ab12/ou-ab12-{i:08d}/*"]}}}
    if kind == 5:
        return {"Sid": f"Arn{i}", "Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "kms:Decrypt", "Resource": "*",
                "Condition": {"ArnLike": {"aws:PrincipalArn": [f"arn:aws:iam::{acct}:role/etl-*", f"arn:aws:iam::{OWNER}:role/etl-*"]}}}
    if kind == 6:
        return {"Sid": f"Service{i}", "Effect": "Allow", "Principal": {"Service": "logs.us-east-1.amazonaws.com"},
                "Action": ["kms:Encrypt*", "kms:Decrypt*", "kms:GenerateDataKey*", "kms:Describe*"], "Resource": "*",
                "Condition": {"ArnLike": {"kms:EncryptionContext:aws:logs:arn": f"arn:aws:logs:us-east-1:{acct}:log-group:*"},
                              "StringEquals": {"aws:SourceAccount": acct}}}
    if kind == 7:
        return {"Sid": f"DenyDelete{i}", "Effect": "Deny", "Principal": "*", "Action": ["kms:ScheduleKeyDeletion", "kms:Disable*"],
                "Resource": "*", "Condition": {"StringNotEquals": {"aws:PrincipalArn": f"arn:aws:iam::{OWNER}:role/KeyAdmin{i}"}}}
    if kind == 8:
        return {"Sid": f"Cross{i}", "Effect": "Allow",
                "Principal": {"AWS": [f"arn:aws:iam::{acct}:root", f"arn:aws:sts::{acct}:assumed-role/r{i}/s"]},
                "Action": USE, "Resource": "*", "Condition": {"StringEqualsIfExists": {"aws:SourceVpce": f"vpce-{i:08x}"}}}
    return {"Sid": f"Root{i}", "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{OWNER}:root"}, "Action": "kms:*",
            "Resource": "*"}


def make_policy(limit: int) -> tuple[str, int]:
    statements: list[dict] = []
    text = ""
    i = 0
    while True:
        candidate = json.dumps({"Version": "2012-10-17", "Id": "bench", "Statement": statements + [_statement(i)]})
        if len(candidate.encode()) > limit:
            break
        statements.append(_statement(i))
        text = candidate
        i += 1
    return text, len(statements)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=500)
    ap.add_argument("--size", type=int, default=32768)
    ap.add_argument("--check", action="store_true")
    args = ap.parse_args()

    text, n = make_policy(args.size)
    for fn in (P._parse_op, P._value_info, P._entry, P._principal, P._is_open, P._ips_cover_a_family,
               P._wildcard_regex):
        fn.cache_clear()
    t0 = time.perf_counter()
    first = P.analyze(text, OWNER)
    cold_ms = (time.perf_counter() - t0) * 1000
    assert first.ok, first.error

    times = []
    for _ in range(args.runs):
        t0 = time.perf_counter()
        P.analyze(text, OWNER)
        times.append((time.perf_counter() - t0) * 1000)
    times.sort()
    median = statistics.median(times)
    p95 = times[int(len(times) * 0.95) - 1]
    print(f"analyze(): {len(text.encode()):,}-byte key policy, {n} statements, "
          f"{len(first.external_accounts)} external accounts, public={first.is_public}")
    print(f"  cold (empty caches): {cold_ms:.2f} ms")
    print(f"  warm over {args.runs} runs: median {median:.2f} ms, p95 {p95:.2f} ms, min {times[0]:.2f} ms (target < 5 ms)")
    if args.check and median >= 5.0:
        print("FAIL: median at or above 5 ms", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
