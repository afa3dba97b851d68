-- id: s3_missing_table
-- title: A check whose SQL fails (its table does not exist)
-- severity: info
-- description: Test fixture. The table does not exist, so the check is an error and the
--   other checks still run.
-- remediation: None; this check is broken on purpose.
SELECT arn AS resource_arn, account_id, region, 'pass' AS status, 'never' AS reason
FROM aws_s3_table_that_does_not_exist
