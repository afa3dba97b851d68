-- id: kms_rotation_off
-- title: Customer managed KMS keys have automatic rotation enabled
-- severity: medium
-- resource_type: AwsKmsKey
-- description: Test fixture. Customer managed keys should rotate their key material
--   automatically; AWS managed keys are not applicable, and a key whose rotation status
--   the sync could not read is an error, not a pass or a fail.
-- risk: Key material that never rotates widens the impact of a compromised key.
-- remediation: Enable automatic rotation on the key.
-- remediation_cli: aws kms enable-key-rotation --key-id <key-arn>
-- references: https://docs.aws.amazon.com/kms/latest/developerguide/rotate-keys.html, https://docs.aws.amazon.com/securityhub/latest/userguide/kms-controls.html
-- compliance: CIS AWS Foundations 3.0.0: 3.6; AWS Security Hub: KMS.4
-- peers: prowler kms_cmk_rotation_enabled; steampipe kms_cmk_rotation_enabled
SELECT
    k.arn AS resource_arn,
    k.account_id,
    k.region,
    CASE
        WHEN k.key_manager <> 'CUSTOMER' THEN 'skip'
        WHEN e.resource_arn IS NOT NULL THEN 'error'
        WHEN k.rotation_enabled THEN 'pass'
        ELSE 'fail'
    END AS status,
    CASE
        WHEN k.key_manager <> 'CUSTOMER' THEN 'Key ' || k.arn || ' is AWS managed; AWS rotates it.'
        WHEN e.resource_arn IS NOT NULL THEN 'The rotation status of key ' || k.arn || ' in account ' || k.account_id
            || ' could not be read: ' || e.error_code || '.'
        WHEN k.rotation_enabled THEN 'Key ' || k.arn || ' in account ' || k.account_id || ' rotates automatically.'
        ELSE 'Key ' || k.arn || ' in account ' || k.account_id || ' has automatic rotation disabled.'
    END AS reason,
    k.key_manager
FROM aws_kms_keys k
LEFT JOIN aws_encryption_sync_errors e
    ON e.resource_arn = k.arn AND e.operation = 'GetKeyRotationStatus'
ORDER BY k.arn
