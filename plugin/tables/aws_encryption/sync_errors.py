"""aws_encryption_sync_errors: every AWS call that failed after retries, as data.

Ours (no CloudQuery equivalent). Checks join it to say `error` ("could not read") instead of a pass
or a fail. It is synced whenever any table is, unless listed in `skip_tables`, so that selecting a
subset of tables never hides failures.
"""

from __future__ import annotations

from ..schema import STR, Col, TableDef

SYNC_ERRORS = TableDef(
    name="aws_encryption_sync_errors", title="aws-encryption Sync Errors",
    description="One row per AWS API call that failed after retries during the sync (ours).",
    columns=[
        Col("account_id", STR, "Account the call was made in (the configured id when credentials failed)"),
        Col("region", STR, "Region the call was made in"),
        Col("table_name", STR, "Table the call was filling ('' for account set-up)"),
        Col("service", STR, "AWS service, e.g. kms"),
        Col("operation", STR, "API operation, e.g. GetKeyRotationStatus"),
        Col("resource_arn", STR, "Resource the call was about ('' for list calls)"),
        Col("error_code", STR, "AWS error code, e.g. AccessDeniedException, ThrottlingException, Timeout"),
        Col("message", STR, "Error message (credentials redacted)"),
    ],
    pk_components=["account_id", "region", "table_name", "service", "operation", "resource_arn"],
    api_calls=[],
)
