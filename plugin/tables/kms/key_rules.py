"""Which KMS calls apply to which key: pure rules on KeyMetadata, with no heavy imports.

Shared by the KMS tables and by bench/floor.py (which must make exactly the plugin's calls without
loading pyarrow or DuckDB, to be a fair floor).
"""

from __future__ import annotations

from typing import Any


def is_customer(meta: dict[str, Any]) -> bool:
    return meta.get("KeyManager") == "CUSTOMER"


def supports_auto_rotation(meta: dict[str, Any]) -> bool:
    return (is_customer(meta) and meta.get("KeySpec", "SYMMETRIC_DEFAULT") == "SYMMETRIC_DEFAULT"
            and meta.get("Origin") == "AWS_KMS")


def supports_rotation_list(meta: dict[str, Any]) -> bool:
    return (is_customer(meta) and meta.get("KeySpec", "SYMMETRIC_DEFAULT") == "SYMMETRIC_DEFAULT"
            and meta.get("Origin") in ("AWS_KMS", "EXTERNAL"))
