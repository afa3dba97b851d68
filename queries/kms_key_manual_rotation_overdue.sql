-- id: kms_key_manual_rotation_overdue
-- title: Keys that can't rotate automatically were rotated or re-imported recently
-- severity: medium
-- resource_type: AwsKmsKey
-- description: Keys with imported key material or in a custom key store can't rotate automatically.
--   Their last rotation (ListKeyRotations) or, without one, their creation must be younger than a
--   threshold (parameter max_age_days, default 365).
-- risk: These keys are the ones most likely to keep the same key material forever, because nothing
--   rotates them.
-- remediation: Imported material: import new key material (on-demand rotation) or create a new key and
--   move aliases and resources to it. Custom key store: create a new key and re-encrypt.
-- remediation_cli: aws kms rotate-key-on-demand --key-id <key-arn>
-- references: https://docs.aws.amazon.com/kms/latest/developerguide/rotate-keys.html#rotate-keys-manually, https://docs.aws.amazon.com/kms/latest/developerguide/importing-keys.html
-- compliance: CIS AWS Foundations 3.0.0: 3.6 (intent); PCI DSS 4.0: 3.6.4
-- peers: cloud-custodian kms-key last-rotation filter (user-composed)
-- params: max_age_days=365
WITH last AS (
    SELECT key_arn, max(rotation_date) AS last_rotation FROM aws_kms_key_rotations GROUP BY key_arn
)
SELECT k.arn AS resource_arn, k.account_id, k.region,
    CASE
        WHEN k.key_manager IS NULL THEN 'error'
        WHEN k.key_manager = 'AWS' THEN 'skip'
        WHEN NOT (k.origin IN ('EXTERNAL', 'AWS_CLOUDHSM', 'EXTERNAL_KEY_STORE') OR k.custom_key_store_id IS NOT NULL) THEN 'skip'
        WHEN k.key_state IN ('PendingImport', 'PendingDeletion', 'Disabled') THEN 'skip'
        WHEN k.arn IN (SELECT resource_arn FROM aws_encryption_sync_errors WHERE operation = 'ListKeyRotations') THEN 'error'
        WHEN coalesce(l.last_rotation, k.creation_date) IS NULL THEN 'error'
        WHEN coalesce(l.last_rotation, k.creation_date) < now()::TIMESTAMP - INTERVAL (/*param:max_age_days*/365) DAY THEN 'fail'
        ELSE 'pass'
    END AS status,
    CASE
        WHEN k.key_manager IS NULL THEN 'The key could not be described (see aws_encryption_sync_errors).'
        WHEN k.key_manager = 'AWS' THEN 'AWS managed key: rotated by AWS.'
        WHEN NOT (k.origin IN ('EXTERNAL', 'AWS_CLOUDHSM', 'EXTERNAL_KEY_STORE') OR k.custom_key_store_id IS NOT NULL) THEN
            'AWS-provided key material: covered by automatic rotation (kms_cmk_rotation_disabled).'
        WHEN k.key_state IN ('PendingImport', 'PendingDeletion', 'Disabled') THEN 'Key is ' || k.key_state || ', not in use.'
        WHEN k.arn IN (SELECT resource_arn FROM aws_encryption_sync_errors WHERE operation = 'ListKeyRotations') THEN
            'The key''s rotations could not be listed (see aws_encryption_sync_errors), so its last rotation is unknown.'
        WHEN coalesce(l.last_rotation, k.creation_date) IS NULL THEN 'Neither a rotation nor the creation date is known.'
        ELSE (CASE WHEN l.last_rotation IS NULL THEN 'Never rotated; created ' ELSE 'Last rotated ' END) ||
             strftime(coalesce(l.last_rotation, k.creation_date), '%Y-%m-%d') || ' (' ||
             date_diff('day', coalesce(l.last_rotation, k.creation_date), now()::TIMESTAMP) || ' days ago; limit ' ||
             /*param:max_age_days*/365 || ' days).'
    END AS reason
FROM aws_kms_keys k
LEFT JOIN last l ON l.key_arn = k.arn
