-- id: kms_cmk_rotation_disabled
-- title: Customer managed KMS keys have automatic rotation enabled
-- severity: medium
-- resource_type: AwsKmsKey
-- description: Enabled, customer managed, symmetric encryption keys with AWS-provided key material
--   should rotate automatically. Only these keys support automatic rotation: AWS managed keys,
--   asymmetric and HMAC keys, imported key material and custom key stores are skip, and a key whose
--   rotation status could not be read is error, never a pass or a fail. Rotation on with a period
--   longer than the parameter max_rotation_period_days (default 365, the period AWS uses when none is
--   given; AWS accepts up to 2560) fails too. A multi-Region replica rotates with its primary: its fix
--   names the primary key. On-demand rotations (ListKeyRotations ON_DEMAND) don't replace automatic
--   rotation here; the last one is named in the reason.
-- risk: Key material that never rotates widens the blast radius of a compromised key and fails CIS
--   and PCI requirements.
-- remediation: Enable automatic rotation (period 90-2560 days, default 365).
-- remediation_cli: aws kms enable-key-rotation --key-id <key-arn> --rotation-period-in-days 365
-- references: https://docs.aws.amazon.com/kms/latest/developerguide/rotate-keys.html
-- compliance: CIS AWS Foundations 3.0.0: 3.6; AWS Security Hub: KMS.4; PCI DSS 4.0: 3.7.4
-- peers: prowler kms_cmk_rotation_enabled; steampipe kms_cmk_rotation_enabled; AWS Config cmk-backing-key-rotation-enabled
-- params: max_rotation_period_days=365
WITH on_demand AS (
    SELECT key_arn, max(rotation_date) AS last FROM aws_kms_key_rotations WHERE rotation_type = 'ON_DEMAND'
    GROUP BY key_arn
),
target AS (
    -- where rotation is set: the key itself, or a replica's primary (in the primary's Region)
    SELECT arn, CASE WHEN multi_region_configuration->>'$.MultiRegionKeyType' = 'REPLICA'
                     THEN coalesce(multi_region_configuration->>'$.PrimaryKey.Arn', arn) ELSE arn END AS key,
                CASE WHEN multi_region_configuration->>'$.MultiRegionKeyType' = 'REPLICA'
                     THEN coalesce(multi_region_configuration->>'$.PrimaryKey.Region', region) ELSE region END AS region
    FROM aws_kms_keys
)
SELECT k.arn AS resource_arn, k.account_id, k.region,
    CASE
        WHEN k.key_manager IS NULL THEN 'error'
        WHEN k.key_manager = 'AWS' THEN 'skip'
        WHEN k.key_spec IS DISTINCT FROM 'SYMMETRIC_DEFAULT' THEN 'skip'
        WHEN k.origin = 'EXTERNAL' THEN 'skip'
        WHEN k.origin IN ('AWS_CLOUDHSM', 'EXTERNAL_KEY_STORE') OR k.custom_key_store_id IS NOT NULL THEN 'skip'
        WHEN k.key_state IS DISTINCT FROM 'Enabled' THEN 'skip'
        WHEN coalesce(r.key_rotation_enabled, k.rotation_enabled) IS NULL THEN 'error'
        WHEN coalesce(r.key_rotation_enabled, k.rotation_enabled) AND
             r.rotation_period_in_days > /*param:max_rotation_period_days*/365 THEN 'fail'
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
        WHEN coalesce(r.key_rotation_enabled, k.rotation_enabled) AND
             r.rotation_period_in_days > /*param:max_rotation_period_days*/365 THEN
            'Automatic rotation is on, but every ' || r.rotation_period_in_days || ' days, longer than ' ||
            /*param:max_rotation_period_days*/365 || ' (max_rotation_period_days). Fix: aws kms enable-key-rotation ' ||
            '--key-id ' || t.key || ' --rotation-period-in-days ' || /*param:max_rotation_period_days*/365 ||
            ' --region ' || t.region ||
            CASE WHEN t.key <> k.arn THEN ' (its multi-Region primary: a replica rotates with it)' ELSE '' END || '.'
        WHEN coalesce(r.key_rotation_enabled, k.rotation_enabled) THEN
            'Automatic rotation is on' || coalesce(' every ' || r.rotation_period_in_days || ' days', '') ||
            coalesce(', next on ' || strftime(r.next_rotation_date, '%Y-%m-%d'), '') || '.'
        ELSE 'Automatic rotation is off for customer managed key ' || k.key_id ||
             coalesce(' (last rotated on demand on ' || strftime(o.last, '%Y-%m-%d') || ')', '') ||
             '. Fix: aws kms enable-key-rotation --key-id ' || t.key || ' --rotation-period-in-days ' ||
             least(/*param:max_rotation_period_days*/365, 2560) || ' --region ' || t.region ||
             CASE WHEN t.key <> k.arn THEN ' (its multi-Region primary: a replica rotates with it)' ELSE '' END || '.'
    END AS reason
FROM aws_kms_keys k
LEFT JOIN aws_kms_key_rotation_statuses r ON r.key_arn = k.arn
LEFT JOIN on_demand o ON o.key_arn = k.arn
LEFT JOIN target t ON t.arn = k.arn
