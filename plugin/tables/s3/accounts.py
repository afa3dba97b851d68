"""aws_s3_accounts: each account's own S3 Block Public Access settings (S3 Control GetPublicAccessBlock
with the account's id, one call per account), as CloudQuery's Go table has them.

The account-level settings apply to every bucket and access point the account owns, in every Region
(S3 user guide, "Blocking public access to your Amazon S3 storage"), so the call is made once per
account, in the account's global Region. An account that never set them answers
NoSuchPublicAccessBlockConfiguration: a row with `config_exists` false and the four settings NULL, as
CloudQuery writes it, not an error. Any other failure is the account's unread scope (its row is
missing; aws_encryption_sync_errors and aws_encryption_sync_coverage say why).
"""

from __future__ import annotations

from typing import Any, Iterator

from ...aws.calls import Ctx, Parent
from ..schema import BOOL, STR, Col, TableDef


DOC = "https://docs.aws.amazon.com/AmazonS3/latest/API/"
NO_ACCOUNT_PAB = ("NoSuchPublicAccessBlockConfiguration",)
SETTINGS = ("BlockPublicAcls", "BlockPublicPolicy", "IgnorePublicAcls", "RestrictPublicBuckets")


def account_public_access_block(ctx: Ctx, parent: Parent | None) -> Iterator[dict[str, Any]]:
    """The shard that owns the account's account-level work asks, once (plugin/source/sharding.py)."""
    if not ctx.owns("*"):
        return
    failed: list[bool] = []
    r = ctx.for_account_level().call("s3control", "GetPublicAccessBlock", absent=NO_ACCOUNT_PAB,
                                     expect="PublicAccessBlockConfiguration", AccountId=ctx.account_id,
                                     _failed=failed)
    if failed:
        return
    if ctx.listed is not None:
        ctx.listed[0] += 1
    if r is None:  # NoSuchPublicAccessBlockConfiguration: the account has none
        yield {"config_exists": False}
        return
    cfg = r["PublicAccessBlockConfiguration"] if isinstance(r["PublicAccessBlockConfiguration"], dict) else {}
    yield {**{k: cfg.get(k) for k in SETTINGS}, "config_exists": True}


def account_row(ctx: Ctx, item: dict[str, Any], parent: Parent | None) -> dict[str, Any]:
    return {"account_id": ctx.account_id, "block_public_acls": item.get("BlockPublicAcls"),
            "block_public_policy": item.get("BlockPublicPolicy"), "ignore_public_acls": item.get("IgnorePublicAcls"),
            "restrict_public_buckets": item.get("RestrictPublicBuckets"), "config_exists": item["config_exists"]}


ACCOUNTS = TableDef(
    name="aws_s3_accounts", title="AWS S3 Accounts",
    description=DOC + "API_control_PublicAccessBlockConfiguration.html",
    columns=[Col("account_id", STR),
             Col("block_public_acls", BOOL, "Account-level BlockPublicAcls; NULL when config_exists is false"),
             Col("block_public_policy", BOOL, "Account-level BlockPublicPolicy"),
             Col("ignore_public_acls", BOOL, "Account-level IgnorePublicAcls: S3 ignores public ACLs on every bucket "
                                             "of the account"),
             Col("restrict_public_buckets", BOOL, "Account-level RestrictPublicBuckets: a public bucket or access "
                                                  "point policy admits only the account and AWS services"),
             Col("config_exists", BOOL, "false: the account has no Block Public Access configuration "
                                        "(NoSuchPublicAccessBlockConfiguration)")],
    pk_components=["account_id"], api_calls=["s3control:GetPublicAccessBlock"],
    scope="account", listing="s3control:GetPublicAccessBlock", resolve=account_public_access_block,
    to_row=account_row,
    notes="One row per synced account, from GetPublicAccessBlock with the account's own id (S3 Control, in the "
          "account's global Region). An account without a configuration has a row with `config_exists` false and "
          "the four settings NULL; a failed call leaves no row and makes the account's scope unread "
          "(aws_encryption_sync_coverage).",
)
