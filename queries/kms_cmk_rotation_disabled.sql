-- id: kms_cmk_rotation_disabled
-- title: Customer managed KMS keys have automatic rotation enabled
-- severity: medium
-- resource_type: AwsKmsKey
-- description: Enabled, customer managed, symmetric encryption keys with AWS-provided key material
--   should rotate automatically. Only these keys support automatic rotation: AWS managed keys,
--   asymmetric and HMAC keys, imported key material and custom key stores are skip, and a key whose
--   rotation status could not be read is error, never a pass or a fail.
-- risk: Key material that never rotates widens the blast radius of a compromised key and fails CIS
--   and PCI requirements.
-- remediation: Enable automatic rotation (period 90-2560 days, default 365).
-- remediation_cli: aws kms enable-key-rotation --key-id <key-arn> --rotation-period-in-days 365
-- references: https://docs.aws.amazon.com/kms/latest/developerguide/rotate-keys.html
-- compliance: CIS AWS Foundations 3.0.0: 3.6; AWS Security Hub: KMS.4; PCI DSS 4.0: 3.6.4
-- peers: prowler kms_cmk_rotation_enabled; steampipe kms_cmk_rotation_enabled; AWS Config cmk-backing-key-rotation-enabled
SELECT k.arn AS resource_arn, k.account_id, k.region,
    CASE
        WHEN k.key_manager IS NULL THEN 'error'
        WHEN k.key_manager = 'AWS' THEN 'skip'
        WHEN k.key_spec IS DISTINCT FROM 'SYMMETRIC_DEFAULT' THEN 'skip'
        WHEN k.origin = 'EXTERNAL' THEN 'skip'
        WHEN k.origin IN ('AWS_CLOUDHSM', 'EXTERNAL_KEY_STORE') OR k.custom_key_store_id IS NOT NULL THEN 'skip'
        WHEN k.key_state IS DISTINCT FROM 'Enabled' THEN 'skip'
        WHEN coalesce(r.key_rotation_enabled, k.rotation_enabled) IS NULL THEN 'error'
        WHEN coalesce(r.key_rotation_enabled, k.rotation_enabled) THEN 'pass'
        ELSE 'fail'
    END AS status,
    CASE
        WHEN k.key_manager IS NULL THEN 'The key could not be described (see aws_encryption_sync_errors).'
        WHEN k.key_manager = 'AWS' THEN 'AWS managed key: AWS rotates it every year.'
        WHEN k.key_spec IS DISTINCT FROM 'SYMMETRIC_DEFAULT' THEN
            'Key spec ' || coalesce(k.key_spec, '?') || ': automatic rotation is only for symmetric encryption keys.'
        WHEN k.origin = 'EXTERNAL' THEN
            'Imported key material: automatic rotation is not supported (see kms_key_manual_rotation_overdue).'
        WHEN k.origin IN ('AWS_CLOUDHSM', 'EXTERNAL_KEY_STORE') OR k.custom_key_store_id IS NOT NULL THEN
            'Key in a custom key store (' || coalesce(k.origin, 'custom') || '): automatic rotation is not supported.'
        WHEN k.key_state IS DISTINCT FROM 'Enabled' THEN 'Key is ' || coalesce(k.key_state, '?') || ', not in use.'
        WHEN coalesce(r.key_rotation_enabled, k.rotation_enabled) IS NULL THEN
            'The rotation status could not be read (' || coalesce((SELECT min(error_code) FROM aws_encryption_sync_errors e
                WHERE e.resource_arn = k.arn AND e.operation = 'GetKeyRotationStatus'), 'not synced') || ').'
        WHEN coalesce(r.key_rotation_enabled, k.rotation_enabled) THEN
            'Automatic rotation is on' || coalesce(' every ' || r.rotation_period_in_days || ' days', '') ||
            coalesce(', next on ' || strftime(r.next_rotation_date, '%Y-%m-%d'), '') || '.'
        ELSE 'Automatic rotation is off for customer managed key ' || k.key_id || '.'
    END AS reason
FROM aws_kms_keys k
LEFT JOIN aws_kms_key_rotation_statuses r ON r.key_arn = k.arn
