-- id: kms_key_pending_deletion_or_disabled
-- title: KMS keys are not pending deletion or disabled, least of all while synced resources use them
-- severity: high
-- resource_type: AwsKmsKey
-- description: A customer managed key scheduled for deletion (PendingDeletion) is destroyed at its
--   deletion date with every ciphertext under it; a disabled key (Disabled), or one whose custom key
--   store is disconnected (Unavailable), refuses every request now. The finding gives the deletion date
--   and the synced resources still encrypted under the key (the shared view aws_encryption_key_users:
--   bucket default encryption, secrets, queues, topics, EBS and RDS snapshots, AMIs' volumes, backup
--   vaults, matched by key ARN, key id or any of its aliases). Resources the sync does not read (EBS volumes, RDS instances, Lambda ...) and data
--   applications encrypted themselves can depend on it too: no resource listed does not mean unused.
-- risk: Data encrypted under the key becomes unreadable for good at the deletion date; writes and reads
--   fail while it is disabled.
-- remediation: Cancel the deletion (aws kms cancel-key-deletion, then enable-key) or enable the key, or
--   move the resources listed to another key first.
-- remediation_cli: aws kms cancel-key-deletion --key-id <key-arn> && aws kms enable-key --key-id <key-arn>
-- references: https://docs.aws.amazon.com/kms/latest/developerguide/deleting-keys.html, https://docs.aws.amazon.com/kms/latest/developerguide/key-state.html
-- compliance: AWS Security Hub: KMS.3
-- peers: prowler kms_cmk_not_deleted_unintentionally; steampipe kms_key_not_pending_deletion; AWS Config kms-cmk-not-scheduled-for-deletion
WITH users AS (
    SELECT key_arn, count(*) AS n, string_agg(resource_type || ' ' || resource_arn, ', ' ORDER BY resource_arn) AS resources
    FROM aws_encryption_key_users GROUP BY key_arn
)
SELECT k.arn AS resource_arn, k.account_id, k.region,
    CASE WHEN k.key_state IS NULL THEN 'error'
         WHEN k.key_manager = 'AWS' OR k.key_state = 'PendingImport' THEN 'skip'
         WHEN k.key_state IN ('PendingDeletion', 'PendingReplicaDeletion', 'Disabled', 'Unavailable') THEN 'fail'
         ELSE 'pass' END AS status,
    CASE WHEN k.key_state IS NULL THEN 'The key could not be described (see aws_encryption_sync_errors).'
         WHEN k.key_manager = 'AWS' THEN 'AWS managed key: AWS keeps it enabled.'
         WHEN k.key_state = 'PendingImport' THEN
             'Key material not imported, or expired: see kms_imported_key_material_expiring.'
         WHEN k.key_state IN ('PendingDeletion', 'PendingReplicaDeletion', 'Disabled', 'Unavailable') THEN
             'Key ' || k.arn || ' is ' || k.key_state ||
             CASE WHEN k.deletion_date IS NOT NULL THEN ': it will be deleted on ' ||
                  strftime(k.deletion_date, '%Y-%m-%d') || ' (in ' ||
                  greatest(date_diff('day', now()::TIMESTAMP, k.deletion_date), 0) ||
                  ' days), and everything encrypted under it becomes unreadable'
                  WHEN k.key_state = 'Unavailable' THEN ': its custom key store is disconnected, so every request fails'
                  ELSE ': every request to use it fails' END ||
             CASE WHEN u.n IS NOT NULL THEN '; ' || u.n || ' synced resource(s) still use it: ' || u.resources
                  ELSE '; no synced resource uses it (resources the sync does not read, and data applications ' ||
                       'encrypted themselves, may)' END ||
             '. Fix: ' || CASE WHEN k.key_state IN ('PendingDeletion', 'PendingReplicaDeletion')
                               THEN 'aws kms cancel-key-deletion --key-id ' || k.arn || ' --region ' || k.region ||
                                    ' && aws kms enable-key --key-id ' || k.arn || ' --region ' || k.region
                               WHEN k.key_state = 'Unavailable'
                               THEN 'aws kms connect-custom-key-store --custom-key-store-id ' ||
                                    coalesce(k.custom_key_store_id, '<custom-key-store-id>') || ' --region ' || k.region
                               ELSE 'aws kms enable-key --key-id ' || k.arn || ' --region ' || k.region END ||
             ', or move what it encrypts to another key first.'
         ELSE 'Key is ' || k.key_state || coalesce(' and used by ' || u.n || ' synced resource(s)', '') || '.' END AS reason
FROM aws_kms_keys k LEFT JOIN users u ON u.key_arn = k.arn
