"""aws_organizations: the organisation each synced account belongs to, as that account sees it
(DescribeOrganization with the account's own audit role: any member account may ask, not only the
management account). Keyed (request_account_id, arn) as in CloudQuery.

An account in no organisation answers AWSOrganizationsNotInUseException: no row and no error. What
is learnt goes to the sync's index (org_of, org_accounts), so that `aws:PrincipalOrgID` and
`aws:PrincipalOrgPaths` conditions resolve to accounts; an organisation id no synced account
answered is foreign.
"""

from __future__ import annotations

from typing import Any, Iterator

from ...aws.calls import Ctx, Parent
from ..schema import STR, Col, TableDef


NOT_IN_ORG = ("AWSOrganizationsNotInUseException",)


def describe_organization(ctx: Ctx) -> dict[str, Any] | None:
    """The account's Organization, asked once per account and sync (later callers wait for the first
    answer) and recorded in the index; None when it is in none or the call failed.

    Every shard that syncs part of the account asks (the derived tables of its buckets need the
    answer); only the shard that owns the account's account-level work records a failure
    (plugin/source/sharding.py)."""
    if ctx.index is None:
        return _ask(ctx)
    return ctx.index.org_lookup(ctx.account_id, lambda: _ask(ctx))


def _ask(ctx: Ctx) -> dict[str, Any] | None:
    c = ctx.for_account_level() if ctx.owns("*") else ctx.with_errors(lambda err: None)
    failed: list[bool] = []
    r = c.call("organizations", "DescribeOrganization", absent=NOT_IN_ORG, expect="Organization", _failed=failed)
    if r is None:
        if not failed and ctx.index is not None:
            ctx.index.set_no_org(ctx.account_id)
        return None
    org = r["Organization"] if isinstance(r["Organization"], dict) else {}
    if ctx.index is not None:
        ctx.index.set_org(ctx.account_id, org.get("Id"), org.get("MasterAccountId"))
    return org


def list_organization(ctx: Ctx, parent: Parent | None) -> Iterator[dict[str, Any]]:
    org = describe_organization(ctx)
    if org and ctx.owns("*"):  # one shard writes the account's row
        yield org


def organization_row(ctx: Ctx, item: dict[str, Any], parent: Parent | None) -> dict[str, Any]:
    return {"request_account_id": ctx.account_id, "arn": item.get("Arn"), "feature_set": item.get("FeatureSet"),
            "id": item.get("Id"), "master_account_arn": item.get("MasterAccountArn"),
            "master_account_email": item.get("MasterAccountEmail"), "master_account_id": item.get("MasterAccountId")}


ORGANIZATIONS = TableDef(
    name="aws_organizations", title="AWS Organizations",
    description="https://docs.aws.amazon.com/organizations/latest/APIReference/API_Organization.html",
    columns=[Col("request_account_id", STR, "The synced account that asked (DescribeOrganization answers its "
                                            "own organisation)"),
             Col("arn", STR), Col("feature_set", STR, "ALL | CONSOLIDATED_BILLING"),
             Col("id", STR, "The organisation id (o-...), what aws:PrincipalOrgID compares with"),
             Col("master_account_arn", STR), Col("master_account_email", STR), Col("master_account_id", STR)],
    pk_components=["request_account_id", "arn"], api_calls=["organizations:DescribeOrganization"],
    scope="account", listing="organizations:DescribeOrganization", every_shard=True, resolve=list_organization,
    to_row=organization_row,
    notes="One row per synced account that is in an organisation, made with that account's own audit role "
          "(any member may call DescribeOrganization). An account in no organisation "
          "(AWSOrganizationsNotInUseException) has no row and no error.",
)
