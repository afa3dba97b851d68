"""aws_organizations_accounts: the organisation's accounts, as the CloudQuery AWS plugin lists them.

Filled by Organizations discovery (`org` in the spec) from ListAccounts, with tags from
ListTagsForResource, through the admin account's credentials. Components (request_account_id, arn).
"""

from __future__ import annotations

from typing import Any, Iterator

from ...aws.calls import Ctx
from ..schema import JSON, STR, TS, Col, TableDef


def list_accounts(ctx: Ctx, discovery: Any) -> Iterator[dict[str, Any]]:
    """Every account of the organisation (any state), as discovery listed them (`discovery.org_accounts`),
    with its tags; `ctx` is the admin account's."""
    for a in discovery.org_accounts:
        tags = ctx.collect("organizations", "ListTagsForResource", "Tags", resource_arn=a.get("Arn", ""),
                           token_in="NextToken", token_out="NextToken", ResourceId=a["Id"])
        yield {"request_account_id": ctx.account_id,
               "tags": None if tags is None else {t["Key"]: t["Value"] for t in tags},
               "arn": a.get("Arn"), "email": a.get("Email"), "id": a["Id"], "joined_method": a.get("JoinedMethod"),
               "joined_timestamp": a.get("JoinedTimestamp"), "name": a.get("Name"), "status": a.get("Status"),
               "state": a.get("State")}

ORG_ACCOUNTS = TableDef(
    name="aws_organizations_accounts", title="AWS Organizations Accounts",
    description="https://docs.aws.amazon.com/organizations/latest/APIReference/API_Account.html",
    columns=[Col("request_account_id", STR, "The account that listed the organisation (the admin account)"),
             Col("tags", JSON), Col("arn", STR), Col("email", STR), Col("id", STR), Col("joined_method", STR),
             Col("joined_timestamp", TS), Col("name", STR), Col("status", STR),
             Col("state", STR, "Account.State, which replaces Status in newer API versions")],
    pk_components=["request_account_id", "arn"],
    api_calls=["organizations:ListAccounts", "organizations:ListAccountsForParent", "organizations:ListChildren",
               "organizations:ListRoots", "organizations:ListTagsForResource"],
    scope="org", listing="organizations:ListAccounts", resolve=list_accounts, extra_columns=["state"],
    to_row=lambda ctx, item, parent: dict(item),
    notes="Only synced with `org` in the spec. Its calls are made with the admin account's credentials, not "
          "the member audit role's (docs/iam.md).",
)
