"""aws_organizations_accounts: the organisation's accounts, as the CloudQuery AWS plugin lists them.

Filled by Organizations discovery (`org` in the spec) from ListAccounts, with tags from
ListTagsForResource, through the admin account's credentials. Components (request_account_id, arn).
"""

from __future__ import annotations

from ..schema import JSON, STR, TS, Col, TableDef

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
    scope="org", extra_columns=["state"], to_row=lambda ctx, item, parent: dict(item),
    notes="Only synced with `org` in the spec. Its calls are made with the admin account's credentials, not "
          "the member audit role's (see the IAM section).",
)
