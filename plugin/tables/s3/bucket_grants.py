"""aws_s3_bucket_grants: each bucket's ACL grants (GetBucketAcl), asked only while ACLs are in force.

With Object Ownership `BucketOwnerEnforced` S3 disables ACLs: it ignores them for every access
decision and the ACL can only be the owner's FULL_CONTROL, so the call is not made and the bucket has
no rows. Unknown ownership (not configured, which means ACLs are enabled, or unreadable) is asked.
"""

from __future__ import annotations

from typing import Any, Iterator

from ...aws.calls import Ctx, Parent
from ..schema import JSON, STR, Col, TableDef
from .bucket_ownership_controls import ACLS_DISABLED, fetch_ownership


DOC = "https://docs.aws.amazon.com/AmazonS3/latest/API/"


def fetch_acl(ctx: Ctx, parent: Parent) -> dict[str, Any] | None:
    """The bucket's ACL ({"Owner", "Grants"}), fetched once. Sets `item["_acl"]` (None when not asked
    or unreadable) and `item["_acl_read"]`: True read, False the call failed, None not asked (ACLs
    disabled)."""
    item = parent.item
    if "_acl_read" not in item:
        if fetch_ownership(ctx, parent) == ACLS_DISABLED:
            item["_acl"], item["_acl_read"] = None, None
        else:
            failed: list[bool] = []
            r = ctx.with_table(GRANTS.name).call("s3", "GetBucketAcl", resource_arn=parent.row["arn"], expect="Owner",
                                                 Bucket=parent.row["name"], _failed=failed)
            if failed or r is None:
                item["_acl"], item["_acl_read"] = None, False
            else:
                owner = r.get("Owner") or {}
                item["_acl"] = {"Owner": owner, "Grants": [g for g in r.get("Grants") or [] if isinstance(g, dict)]}
                item["_acl_read"] = True
                if ctx.index is not None and owner.get("ID"):
                    # The bucket's owner is its account: learn that account's canonical user id.
                    ctx.index.add_canonical_user(owner["ID"], ctx.account_id)
    return item["_acl"]


def grantee_id(grantee: dict[str, Any]) -> str | None:
    """The grantee's identity as CloudQuery resolves it: canonical id, e-mail address or group URI."""
    t = grantee.get("Type")
    if t == "CanonicalUser":
        return grantee.get("ID")
    if t == "AmazonCustomerByEmail":
        return grantee.get("EmailAddress")
    if t == "Group":
        return grantee.get("URI")
    return grantee.get("ID") or grantee.get("URI") or grantee.get("EmailAddress")


def grants(ctx: Ctx, parent: Parent) -> Iterator[dict[str, Any]]:
    acl = fetch_acl(ctx, parent)
    if not acl:
        return
    owner_id = (acl.get("Owner") or {}).get("ID")
    for g in acl["Grants"]:
        grantee = g.get("Grantee") or {}
        yield {"bucket_arn": parent.row["arn"], "grantee_type": grantee.get("Type"), "grantee_id": grantee_id(grantee),
               "grantee": grantee or None, "permission": g.get("Permission"), "owner_id": owner_id}


GRANTS = TableDef(
    name="aws_s3_bucket_grants", title="AWS S3 Bucket Grants", description=DOC + "API_Grant.html",
    columns=[Col("account_id", STR), Col("bucket_arn", STR), Col("grantee_type", STR),
             Col("grantee_id", STR, "The canonical user id, e-mail address or group URI of the grantee"),
             Col("grantee", JSON, '{"Type": ..., "ID"|"URI"|"EmailAddress": ..., "DisplayName": ...}'),
             Col("permission", STR, "FULL_CONTROL | WRITE | WRITE_ACP | READ | READ_ACP"),
             Col("owner_id", STR, "The bucket owner's canonical user id (the ACL's Owner.ID): a grant whose "
                                  "grantee_id equals it is the owner's own")],
    # `permission` is a component as in CloudQuery's Go table: one grantee often holds several
    # permissions (the log delivery group: WRITE and READ_ACP), one row each.
    pk_components=["bucket_arn", "grantee_type", "grantee_id", "permission"], api_calls=["s3:GetBucketAcl"],
    parent="aws_s3_buckets", resolve=grants, extra_columns=["owner_id"],
    notes="GetBucketAcl is asked only while ACLs are in force: a bucket whose Object Ownership is "
          "`BucketOwnerEnforced` (ACLs disabled, so S3 ignores them) has no rows and costs no call. When "
          "Object Ownership is not configured or could not be read, ACLs may be in force and the ACL is read.",
)
