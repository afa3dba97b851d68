-- id: missing_columns
-- title: A check without the reason and region columns
-- severity: high
-- description: Test fixture: the result lacks required columns.
-- remediation: Return resource_arn, account_id, region, status and reason.
SELECT arn AS resource_arn, account_id, 'fail' AS status FROM aws_kms_keys
