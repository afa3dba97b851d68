-- id: bad_status_value
-- title: A check returning a status outside the contract
-- severity: high
-- description: Test fixture: Steampipe's "alarm" is not one of our statuses.
-- remediation: Return pass, fail, skip or error.
SELECT arn AS resource_arn, account_id, region,
       CASE WHEN rotation_enabled THEN 'pass' ELSE 'alarm' END AS status,
       'Key ' || arn AS reason
FROM aws_kms_keys
ORDER BY arn
