"""An embedded AWS endpoint for the demo and the tests: moto's threaded server with a thin WSGI layer.

The layer records each API operation it is asked for (so tests observe the plugin on the wire, as
AWS would, instead of patching it), injects faults (throttling, denials, hangs) and reshapes the
few responses where moto lacks fields AWS documents. Needs the `demo` (or `test`) extra: moto[server].
"""

from __future__ import annotations

import functools
import json
import re
import threading
from typing import Any

import requests
from moto.server import ThreadedMotoServer


def enable_iam_enforcement(endpoint: str) -> None:
    r = requests.post(endpoint + "/moto-api/reset-auth", data=b"0", timeout=10)
    r.raise_for_status()


@functools.lru_cache(maxsize=None)
def _protocol(service: str) -> str:
    """botocore's wire protocol of a service (query, json, rest-xml, ec2 ...), for faults shaped as AWS's."""
    import botocore.session
    try:
        return botocore.session.get_session().get_service_model(service).protocol
    except Exception:
        return ""


def _account_of(environ: dict[str, Any]) -> str:
    """The account a signed request acts in: moto's own mapping of its access key id."""
    from moto.iam.models import get_account_id_from
    m = re.search(r"Credential=([^/]+)/", environ.get("HTTP_AUTHORIZATION", ""))
    return get_account_id_from(m.group(1)) if m else ""


def _fix_moto_rest_get_signatures() -> None:
    """moto 5.2's IAM enforcement recomputes a REST-JSON GET's signature over its request headers as a
    form body (its `data` for a body-less GET, e.g. AWS Backup's ListBackupVaults), so every such call
    fails SignatureDoesNotMatch; AWS signs a GET's empty payload. The emulator's check is given the empty
    payload; nothing of ours is patched."""
    from moto.iam import access_control as ac
    if getattr(ac.IAMRequest, "_empty_get_payload", False):
        return
    create = ac.IAMRequest._create_aws_request

    def create_aws_request(self: Any) -> Any:
        if self._method in ("GET", "HEAD", "DELETE") and not self._body and not isinstance(self._data, (str, bytes)):
            saved, self._data = self._data, b""
            try:
                return create(self)
            finally:
                self._data = saved
        return create(self)

    ac.IAMRequest._create_aws_request = create_aws_request
    ac.IAMRequest._empty_get_payload = True


class RecordingMotoServer(ThreadedMotoServer):
    """moto's threaded server with a WSGI layer that records each API operation it is asked for.

    The plugin's calls are observed on the wire, as AWS would see them, not by patching the plugin.
    """

    def __init__(self, *a: Any, **kw: Any) -> None:
        # moto gives every account and Region the snapshots of its built-in public AMIs, answered to
        # DescribeSnapshots OwnerIds=self; an AWS account owns none of Amazon's (read by moto at startup)
        import os
        os.environ["MOTO_EC2_LOAD_DEFAULT_AMIS"] = "false"
        super().__init__(*a, **kw)
        _fix_moto_rest_get_signatures()
        self.calls: list[tuple[str, str]] = []
        self.details: list[tuple[str, str, bytes]] = []  # (service, operation, request body)
        self._calls_lock = threading.Lock()
        # Fault injection, emulator side: each fault gets (service, operation, detail: the POST body, or
        # the path and query of other requests) and returns
        # None or (http_status, aws_error_code); AWS's real throttling looks like this on the wire.
        self.faults: list[Any] = []
        # Response shaping where moto's answer lacks fields AWS documents:
        # (service, operation) -> fn(request_json, response_json) -> response_json   (JSON protocols)
        self.rewrites: dict[tuple[str, str], Any] = {}
        # (service, operation) -> fn(request_detail, raw_response_bytes) -> bytes      (XML protocols);
        # a function of three parameters also gets the request's region (from its signature)
        self.raw_rewrites: dict[tuple[str, str], Any] = {}
        # Operations moto does not implement, answered at the emulator's edge as AWS documents them:
        # (service, operation) -> fn(account, region, request_detail) -> (content type, body[, status]);
        # a function of four parameters also gets the request's body (REST PUTs carry one)
        self.answers: dict[tuple[str, str], Any] = {}

    def mark(self) -> int:
        with self._calls_lock:
            return len(self.details)

    def since(self, mark: int) -> list[tuple[str, str, bytes]]:
        with self._calls_lock:
            return list(self.details[mark:])

    def _server_entry(self) -> None:
        from moto.moto_server.threaded_moto_server import MotoRequestHandler
        from moto.server import DomainDispatcherApplication, create_backend_app
        from werkzeug.serving import make_server

        app = DomainDispatcherApplication(create_backend_app)

        def recording(environ: dict[str, Any], start_response: Any) -> Any:
            op = operation_of(environ)
            if op:
                body = environ.get("_body", b"")
                with self._calls_lock:
                    self.calls.append(op)
                    self.details.append((op[0], op[1], body))
                for fault in list(self.faults):
                    # faults of four parameters also get the request's region (from its signature)
                    hit = (fault(op[0], op[1], body, environ.get("_region", "")) if fault.__code__.co_argcount >= 4
                           else fault(op[0], op[1], body))
                    if hit:
                        status, code = hit
                        if op[0] in ("s3", "s3control"):  # REST-XML errors, as S3 sends them
                            payload = (f"<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>{code}</Code>"
                                       f"<Message>injected {code}</Message></Error>").encode()
                            ctype = "application/xml"
                        elif _protocol(op[0]) == "query":  # query-protocol errors (STS, IAM, SNS, RDS...)
                            payload = (f"<ErrorResponse><Error><Type>Sender</Type><Code>{code}</Code>"
                                       f"<Message>injected {code}</Message></Error>"
                                       "<RequestId>00000000-0000-0000-0000-000000000000</RequestId>"
                                       "</ErrorResponse>").encode()
                            ctype = "text/xml"
                        elif op[0] == "ec2":
                            payload = (f"<Response><Errors><Error><Code>{code}</Code><Message>injected {code}"
                                       "</Message></Error></Errors><RequestID>0</RequestID></Response>").encode()
                            ctype = "text/xml"
                        else:
                            payload = json.dumps({"__type": code, "message": f"injected {code}"}).encode()
                            ctype = "application/x-amz-json-1.1"
                        start_response(f"{status} Fault", [("Content-Type", ctype),
                                                          ("Content-Length", str(len(payload)))])
                        return [payload]
            answer = self.answers.get(op) if op else None
            if answer is not None:
                args = [_account_of(environ), environ.get("_region", ""), environ.get("_body", b"")]
                if answer.__code__.co_argcount >= 4:
                    n = int(environ.get("CONTENT_LENGTH") or 0)
                    args.append(environ["wsgi.input"].read(n) if n else b"")
                ctype, payload, *status = answer(*args)
                start_response(status[0] if status else "200 OK", [("Content-Type", ctype), ("Content-Length", str(len(payload)))])
                return [payload]
            rewrite = self.rewrites.get(op) if op else None
            raw_rewrite = self.raw_rewrites.get(op) if op else None
            if rewrite is None and raw_rewrite is None:
                return app(environ, start_response)
            captured: dict[str, Any] = {}

            def capture(status: str, headers: list, exc_info: Any = None) -> Any:
                captured["status"], captured["headers"] = status, headers
                return lambda data: None

            raw = b"".join(app(environ, capture))
            if captured["status"].startswith("200"):
                if raw_rewrite is not None:
                    # (body, raw answer), plus the request's region, plus the calling account
                    args = [environ.get("_body", b""), raw, environ.get("_region", ""), _account_of(environ)]
                    raw = raw_rewrite(*args[:max(2, min(4, raw_rewrite.__code__.co_argcount))])
                else:
                    raw = json.dumps(rewrite(json.loads(environ.get("_body") or b"{}"), json.loads(raw))).encode()
            headers = [(k, v) for k, v in captured["headers"] if k.lower() != "content-length"]
            start_response(captured["status"], headers + [("Content-Length", str(len(raw)))])
            return [raw]

        self._server = make_server(self._ip_address, self._port, recording, True,
                                   request_handler=MotoRequestHandler)
        self._server_ready_event.set()
        self._server.serve_forever()


_S3_SUBRESOURCE_OPS = {
    "location": "GetBucketLocation", "encryption": "GetBucketEncryption", "policy": "GetBucketPolicy",
    "policyStatus": "GetBucketPolicyStatus", "tagging": "GetBucketTagging",
    "publicAccessBlock": "GetPublicAccessBlock", "ownershipControls": "GetBucketOwnershipControls",
    "acl": "GetBucketAcl", "replication": "GetBucketReplication", "logging": "GetBucketLogging",
}

# S3 Control (REST, signed as `s3`, paths under /v20180820/): the GET operations, by path.
_S3CONTROL_GET_OPS = [
    (re.compile(r"^/v20180820/accesspoint/?$"), "ListAccessPoints"),
    (re.compile(r"^/v20180820/accesspoint/[^/]+/policy$"), "GetAccessPointPolicy"),
    (re.compile(r"^/v20180820/accesspoint/[^/]+/policyStatus$"), "GetAccessPointPolicyStatus"),
    (re.compile(r"^/v20180820/accesspoint/[^/]+$"), "GetAccessPoint"),
    (re.compile(r"^/v20180820/mrap/instances/?$"), "ListMultiRegionAccessPoints"),
    (re.compile(r"^/v20180820/mrap/instances/[^/]+/policy$"), "GetMultiRegionAccessPointPolicy"),
    (re.compile(r"^/v20180820/mrap/instances/[^/]+/policystatus$"), "GetMultiRegionAccessPointPolicyStatus"),
    (re.compile(r"^/v20180820/mrap/instances/[^/]+$"), "GetMultiRegionAccessPoint"),
    (re.compile(r"^/v20180820/configuration/publicAccessBlock$"), "GetPublicAccessBlock"),
]


_BACKUP_OPS = [
    (re.compile(r"^/backup-vaults/?$"), "GET", "ListBackupVaults"),
    (re.compile(r"^/backup-vaults/[^/]+/access-policy/?$"), "GET", "GetBackupVaultAccessPolicy"),
    (re.compile(r"^/backup-vaults/[^/]+/access-policy/?$"), "PUT", "PutBackupVaultAccessPolicy"),
    (re.compile(r"^/backup-vaults/[^/]+/?$"), "PUT", "CreateBackupVault"),
    (re.compile(r"^/backup/plans/?$"), "GET", "ListBackupPlans"),
    (re.compile(r"^/backup/plans/?$"), "PUT", "CreateBackupPlan"),
    (re.compile(r"^/backup/plans/[^/]+/?$"), "GET", "GetBackupPlan"),
    (re.compile(r"^/tags/.+$"), "GET", "ListTags"),
]


def operation_of(environ: dict[str, Any]) -> tuple[str, str] | None:
    """(service, Operation) of one request: from X-Amz-Target, the query Action, or the S3 REST form."""
    import io
    from urllib.parse import parse_qs

    if environ.get("REQUEST_METHOD") == "POST":
        n = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(n) if n else b""
        environ["wsgi.input"] = io.BytesIO(body)
        environ["_body"] = body
    else:
        # the request detail a fault or rewrite sees: the path and query (S3 names the bucket there)
        environ["_body"] = (environ.get("PATH_INFO", "") + "?" + environ.get("QUERY_STRING", "")).encode()
    auth = environ.get("HTTP_AUTHORIZATION", "")
    m = re.search(r"Credential=[^/]+/\d{8}/([^/]+)/([^/]+)/aws4_request", auth)
    service = m.group(2) if m else ""
    environ["_region"] = m.group(1) if m else ""
    target = environ.get("HTTP_X_AMZ_TARGET", "")
    if target:
        return service, target.split(".")[-1]
    qs = parse_qs(environ.get("QUERY_STRING", ""), keep_blank_values=True)
    if "Action" in qs:
        return service, qs["Action"][0]
    if environ.get("REQUEST_METHOD") == "POST" and service != "s3":
        form = parse_qs(environ["_body"].decode("utf-8", "replace"))
        if "Action" in form:
            return service, form["Action"][0]
        return None
    if service == "s3" and environ.get("PATH_INFO", "").startswith("/v20180820/"):
        # S3 Control signs as `s3`; it is its own service (botocore's `s3control`).
        if environ.get("REQUEST_METHOD") != "GET":
            return "s3control", environ.get("REQUEST_METHOD", "") + " " + environ.get("PATH_INFO", "")
        for pattern, op in _S3CONTROL_GET_OPS:
            if pattern.match(environ.get("PATH_INFO", "")):
                return "s3control", op
        return "s3control", "GET " + environ.get("PATH_INFO", "")
    if service == "backup":
        # AWS Backup is REST-JSON: the operation is the method and path (botocore's backup model)
        method, path = environ.get("REQUEST_METHOD", ""), environ.get("PATH_INFO", "")
        for pattern, m, op in _BACKUP_OPS:
            if m == method and pattern.match(path):
                return "backup", op
        return "backup", method + " " + path
    if service == "s3" and environ.get("REQUEST_METHOD") == "GET":
        path = environ.get("PATH_INFO", "/").strip("/")
        if not path:
            return "s3", "ListBuckets"
        for k, op in _S3_SUBRESOURCE_OPS.items():
            if k in qs:
                return "s3", op
        return "s3", "GET " + ",".join(sorted(qs)) if qs else "ListObjects"
    return None
