-- id: kms_key_manual_rotation_overdue
-- title: Keys that can't rotate automatically were rotated or re-imported recently
-- severity: medium
-- resource_type: AwsKmsKey
-- description: Keys with imported key material or in a custom key store can't rotate automatically.
--   Their last rotation (ListKeyRotations: an on-demand rotation of new imported material counts) or,
--   without one, their creation must be younger than a threshold (parameter max_age_days, default
--   365). The fix depends on the key: imported material is rotated on demand after importing new
--   material; a key in a CloudHSM or external key store can't be rotated (rotate-key-on-demand does
--   not apply): the fix is a new key, with its aliases and resources moved to it.
-- risk: These keys are the ones most likely to keep the same key material forever, because nothing
--   rotates them.
-- remediation: Imported material: import new key material (on-demand rotation) or create a new key and
--   move aliases and resources to it. Custom key store: create a new key and re-encrypt.
-- remediation_cli: aws kms rotate-key-on-demand --key-id <key-arn>  (imported material, after importing new material; custom key stores: a new key)
-- references: https://docs.aws.amazon.com/kms/latest/developerguide/rotate-keys.html#rotate-keys-manually, https://docs.aws.amazon.com/kms/latest/developerguide/importing-keys.html
-- compliance: CIS AWS Foundations 3.0.0: 3.6 (intent); PCI DSS 4.0: 3.7.4
-- peers: cloud-custodian kms-key last-rotation filter (user-composed)
-- params: max_age_days=365
WITH last AS (
    SELECT key_arn, max(rotation_date) AS last_rotation, arg_max(rotation_type, rotation_date) AS last_type
    FROM aws_kms_key_rotations GROUP BY key_arn
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
             strftime(coalesce(l.last_rotation, k.creation_date), '%Y-%m-%d') ||
             coalesce(' (' || lower(replace(l.last_type, '_', '-')) || ')', '') || ' (' ||
             date_diff('day', coalesce(l.last_rotation, k.creation_date), now()::TIMESTAMP) || ' days ago; limit ' ||
             /*param:max_age_days*/365 || ' days)' ||
             CASE WHEN coalesce(l.last_rotation, k.creation_date) >= now()::TIMESTAMP - INTERVAL (/*param:max_age_days*/365) DAY
                  THEN '.'
                  WHEN k.origin = 'EXTERNAL' THEN
                      '. Fix: import new key material (aws kms get-parameters-for-import --key-id ' || k.arn ||
                      ' ..., then aws kms import-key-material --key-id ' || k.arn || ' ... --key-material-id ' ||
                      '<new>), then aws kms rotate-key-on-demand --key-id ' || k.arn || ' --region ' || k.region || '.'
                  ELSE '. Fix: a key in a ' || CASE WHEN k.origin = 'AWS_CLOUDHSM' THEN 'CloudHSM' ELSE 'external' END ||
                      ' key store can''t be rotated: create a new key in it (aws kms create-key --origin ' ||
                      coalesce(k.origin, 'AWS_CLOUDHSM') || ' --custom-key-store-id ' ||
                      coalesce(k.custom_key_store_id, '<custom-key-store-id>') || ' --region ' || k.region ||
                      '), point the aliases at it (aws kms update-alias) and re-encrypt what the old key protects.'
             END
    END AS reason
FROM aws_kms_keys k
LEFT JOIN last l ON l.key_arn = k.arn
