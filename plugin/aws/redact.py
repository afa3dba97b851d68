"""Keeps credentials out of logs, errors and tables.

Every secret the plugin handles (the base credentials and every assumed-role credential) is
registered here; `redact()` replaces registered values and anything shaped like a secret access
key, session token or signature. `RedactingFilter` applies it to every log record on the root
handlers, which is where botocore's debug output (`aws_debug`) and the SDK's structlog lines end.
"""

from __future__ import annotations

import logging
import re
import threading

_lock = threading.Lock()
_secrets: set[str] = set()

_PATTERNS = [
    # XML (STS responses) and JSON bodies
    (re.compile(r"(<(SecretAccessKey|SessionToken)>)[^<]*(</\2>)"), r"\1***\3"),
    (re.compile(r"""(["'](?:SecretAccessKey|SessionToken|aws_secret_access_key|aws_session_token|secret_key|token)["']\s*[:=]\s*b?["'])[^"']*(["'])""", re.I), r"\1***\2"),
    # HTTP headers as botocore logs them
    (re.compile(r"""(["']?(?:x-amz-security-token|X-Amz-Security-Token)["']?\s*:\s*b?["']?)[A-Za-z0-9+/=%_-]{8,}""", re.I), r"\1***"),
    (re.compile(r"(Signature=)[0-9a-f]{16,}"), r"\1***"),
    (re.compile(r"(X-Amz-Signature=|X-Amz-Security-Token=)[^&\s'\"]+"), r"\1***"),
]


def register_secret(*values: str | None) -> None:
    with _lock:
        for v in values:
            if v and len(v) >= 8:
                _secrets.add(v)


def redact(text: str) -> str:
    if not text:
        return text
    with _lock:
        secrets = sorted(_secrets, key=len, reverse=True)
    for s in secrets:
        if s in text:
            text = text.replace(s, "***")
    for rx, repl in _PATTERNS:
        text = rx.sub(repl, text)
    return text


class RedactingFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        try:
            msg = record.getMessage()
        except Exception:  # a malformed record is botocore's problem, not a reason to leak
            msg = str(record.msg)
        clean = redact(msg)
        if clean != msg or record.args:
            record.msg, record.args = clean, None
        if record.exc_info:
            import traceback
            record.msg = record.msg + "\n" + redact("".join(traceback.format_exception(*record.exc_info)))
            record.exc_info, record.exc_text = None, None
        return True


def install_log_redaction() -> None:
    """Attach the filter to every root handler (idempotent)."""
    root = logging.getLogger()
    if not root.handlers:
        logging.basicConfig()
    for h in root.handlers:
        if not any(isinstance(f, RedactingFilter) for f in h.filters):
            h.addFilter(RedactingFilter())
