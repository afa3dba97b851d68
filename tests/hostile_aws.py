"""A small fake AWS endpoint (STS, KMS, S3) that answers badly on purpose: malformed bodies, page
tokens that never end or repeat, deeply nested or oversized policies, calls that hang.

One account (123456789012) with one key in us-east-1. `mode` picks the misbehaviour; `calls` counts
the operations asked for.
"""

from __future__ import annotations

import json
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

ACCOUNT = "123456789012"
REGION = "us-east-1"
KEY_ID = "11111111-2222-3333-4444-555555555555"
KEY_ARN = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/{KEY_ID}"
POLICY = json.dumps({"Version": "2012-10-17", "Statement": [{
    "Sid": "Root", "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"}, "Action": "kms:*",
    "Resource": "*"}]})

_IDENTITY = (f'<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><GetCallerIdentityResult>'
             f'<Arn>arn:aws:iam::{ACCOUNT}:user/scanner</Arn><UserId>AIDAEXAMPLE</UserId><Account>{ACCOUNT}</Account>'
             '</GetCallerIdentityResult><ResponseMetadata><RequestId>1</RequestId></ResponseMetadata>'
             '</GetCallerIdentityResponse>')
_NO_BUCKETS = ('<ListAllMyBucketsResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Owner><ID>o</ID></Owner>'
               '<Buckets></Buckets></ListAllMyBucketsResult>')


def _iam(mode: str) -> str:
    """GetAccountAuthorizationDetails: cut off (`iam_malformed`), or a role whose inline policy is not
    JSON and an attached policy the answer does not hold (`iam_junk`), else empty."""
    if mode == "iam_malformed":
        return '<GetAccountAuthorizationDetailsResponse><GetAccountAuthorizationDetailsResult><RoleDetailList><mem'
    roles = ""
    if mode == "iam_junk":
        roles = ("<member><RoleName>junk</RoleName><RoleId>AROAJUNK</RoleId>"
                 f"<Arn>arn:aws:iam::{ACCOUNT}:role/junk</Arn>"
                 "<Path>/</Path><AssumeRolePolicyDocument>%7Bnot%20json</AssumeRolePolicyDocument>"
                 "<RolePolicyList><member><PolicyName>broken</PolicyName><PolicyDocument>%5B%5B%5B</PolicyDocument>"
                 "</member></RolePolicyList><AttachedManagedPolicies><member><PolicyName>gone</PolicyName>"
                 f"<PolicyArn>arn:aws:iam::{ACCOUNT}:policy/gone</PolicyArn></member></AttachedManagedPolicies>"
                 "</member>")
    return ("<GetAccountAuthorizationDetailsResponse><GetAccountAuthorizationDetailsResult>"
            f"<UserDetailList/><GroupDetailList/><RoleDetailList>{roles}</RoleDetailList><Policies/>"
            "<IsTruncated>false</IsTruncated></GetAccountAuthorizationDetailsResult>"
            "<ResponseMetadata><RequestId>1</RequestId></ResponseMetadata></GetAccountAuthorizationDetailsResponse>")


def _key_metadata() -> dict[str, Any]:
    return {"AWSAccountId": ACCOUNT, "KeyId": KEY_ID, "Arn": KEY_ARN, "CreationDate": 1700000000.0,
            "Enabled": True, "Description": "", "KeyUsage": "ENCRYPT_DECRYPT", "KeyState": "Enabled",
            "Origin": "AWS_KMS", "KeyManager": "CUSTOMER", "CustomerMasterKeySpec": "SYMMETRIC_DEFAULT",
            "KeySpec": "SYMMETRIC_DEFAULT", "EncryptionAlgorithms": ["SYMMETRIC_DEFAULT"], "MultiRegion": False}


class HostileAWS(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.mode = "normal"
        self.calls: dict[str, int] = {}
        self.lock = threading.Lock()
        self.hanging = threading.Event()   # set when a hanging call has arrived
        self.release = threading.Event()   # set to let hanging calls finish
        self._thread = threading.Thread(target=self.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def start(self) -> "HostileAWS":
        self._thread.start()
        return self

    def stop(self) -> None:
        self.release.set()
        self.shutdown()
        self.server_close()

    def count(self, op: str) -> int:
        with self.lock:
            return self.calls.get(op, 0)


class _Handler(BaseHTTPRequestHandler):
    server: HostileAWS

    def log_message(self, *a: Any) -> None:
        pass

    def _send(self, status: int, body: str | bytes, ctype: str) -> None:
        data = body.encode() if isinstance(body, str) else body
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _op(self, op: str) -> None:
        with self.server.lock:
            self.server.calls[op] = self.server.calls.get(op, 0) + 1

    def do_GET(self) -> None:
        self._op("ListBuckets" if self.path.split("?")[0] in ("", "/") else "s3:" + self.path)
        self._send(200, _NO_BUCKETS, "application/xml")

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        target = self.headers.get("X-Amz-Target", "")
        if b"Action=GetAccountAuthorizationDetails" in body:
            self._op("GetAccountAuthorizationDetails")
            self._send(200, _iam(self.server.mode), "text/xml")
            return
        if not target:
            self._op("GetCallerIdentity")
            self._send(200, _IDENTITY, "text/xml")
            return
        op = target.split(".")[-1]
        self._op(op)
        req = json.loads(body or b"{}")
        status, answer = self._kms(op, req)
        self._send(status, answer if isinstance(answer, (str, bytes)) else json.dumps(answer),
                   "application/x-amz-json-1.1")

    def _kms(self, op: str, req: dict[str, Any]) -> tuple[int, Any]:
        mode = self.server.mode
        if op == "ListKeys":
            if mode == "malformed":
                return 200, '{"Keys": [{"KeyId": "trunc'  # a 200 whose body was cut off
            if mode == "endless":
                return 200, {"Keys": [], "Truncated": True, "NextMarker": uuid.uuid4().hex}
            if mode == "repeat":
                return 200, {"Keys": [{"KeyId": KEY_ID, "KeyArn": KEY_ARN}], "Truncated": True, "NextMarker": "same"}
            if mode == "hang":
                self.server.hanging.set()
                self.server.release.wait(120)
            return 200, {"Keys": [{"KeyId": KEY_ID, "KeyArn": KEY_ARN}], "Truncated": False}
        if op == "DescribeKey":
            if mode == "deep_body":
                return 200, '{"KeyMetadata": ' + "[" * 100_000 + "]" * 100_000 + "}"
            return 200, {"KeyMetadata": _key_metadata()}
        if op == "GetKeyPolicy":
            if mode == "deep_policy":
                return 200, {"Policy": "[" * 10_000 + "]" * 10_000, "PolicyName": "default"}
            if mode == "huge_policy":
                big = json.loads(POLICY)
                big["Statement"][0]["Sid"] = "x" * 50_000
                return 200, {"Policy": json.dumps(big), "PolicyName": "default"}
            return 200, {"Policy": POLICY, "PolicyName": "default"}
        if op == "GetKeyRotationStatus":
            return 200, {"KeyRotationEnabled": True, "KeyId": KEY_ARN, "RotationPeriodInDays": 365}
        if op in ("ListResourceTags",):
            return 200, {"Tags": [], "Truncated": False}
        if op == "ListGrants":
            return 200, {"Grants": [], "Truncated": False}
        if op == "ListKeyRotations":
            return 200, {"Rotations": [], "Truncated": False}
        if op == "ListAliases":
            return 200, {"Aliases": [], "Truncated": False}
        if op == "ListQueues":
            return 200, {}   # SQS leaves QueueUrls out when the Region has no queue, as AWS does
        return 400, {"__type": "UnsupportedOperationException", "message": op}


def spec(url: str, **extra: Any) -> dict[str, Any]:
    """A plugin spec for the default credentials' account on this endpoint."""
    s = {"regions": [REGION], "custom_endpoint_url": url, "custom_endpoint_hostname_immutable": True,
         "custom_endpoint_partition_id": "aws", "custom_endpoint_signing_region": REGION,
         "max_retries": 0, "request_timeout": 5}
    s.update(extra)
    return s
