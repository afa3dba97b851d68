"""One bucket-level S3 call, made once per bucket and shared by the tables and derived tables that
read it (they may run in any order, or not be selected at all)."""

from __future__ import annotations

from typing import Any, Callable

from ...aws.calls import Ctx, Parent


def fetch_once(ctx: Ctx, parent: Parent, slot: str, table: str, operation: str,
               shape: Callable[[dict[str, Any]], Any], **call: Any) -> Any:
    """`parent.item[slot]`: `shape(answer)` of the bucket's `operation` ({} for an `absent` answer),
    None when the call failed (recorded against `table`). Asked on the first use only."""
    item = parent.item
    if slot not in item:
        failed: list[bool] = []
        r = ctx.with_table(table).call("s3", operation, resource_arn=parent.row["arn"], Bucket=parent.row["name"],
                                       _failed=failed, **call)
        item[slot] = None if failed else shape(r or {})
    return item[slot]
