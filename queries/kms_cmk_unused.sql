-- id: kms_cmk_unused
-- title: Customer managed KMS keys are enabled and in use
-- severity: low
-- resource_type: AwsKmsKey
-- description: A customer managed key that is disabled, or enabled with no sign of use in the posture
--   data, costs money (each key is billed monthly) and is one more key policy to keep right. Signs of use,
--   from what the sync reads: a synced resource encrypted under it (the shared view
--   aws_encryption_key_users), a grant (AWS services such as EBS and RDS use keys through grants), or an
--   alias (applications name keys by alias). What posture data can't show: calls applications make
--   (Encrypt, Decrypt, GenerateDataKey) and resources of services the sync does not read (EBS volumes,
--   RDS instances, Lambda ...); CloudTrail's KMS events do. So a fail here is a key to look at, not a
--   key to delete: schedule deletion only after CloudTrail shows no use for a long enough time.
-- risk: Cost and clutter; a disabled key others rely on breaks them silently.
-- remediation: Confirm with CloudTrail (eventSource kms.amazonaws.com, the key's ARN) that nothing uses it,
--   then schedule its deletion with the longest waiting period; or enable it if something should.
-- remediation_cli: aws kms schedule-key-deletion --key-id <key-arn> --pending-window-in-days 30
-- references: https://docs.aws.amazon.com/kms/latest/developerguide/deleting-keys-determining-usage.html, https://aws.amazon.com/kms/pricing/
-- peers: prowler kms_cmk_are_used; steampipe kms_cmk_unused
WITH users AS (SELECT key_arn, count(*) AS n FROM aws_encryption_key_users GROUP BY key_arn),
grants AS (SELECT key_arn, count(*) AS n FROM aws_kms_key_grants GROUP BY key_arn),
aliases AS (
    SELECT k.arn AS key_arn, string_agg(a.alias_name, ', ' ORDER BY a.alias_name) AS names
    FROM aws_kms_aliases a JOIN aws_kms_keys k
      ON k.key_id = a.target_key_id AND k.account_id = a.account_id AND k.region = a.region
    GROUP BY k.arn
)
SELECT k.arn AS resource_arn, k.account_id, k.region,
    CASE WHEN k.key_state IS NULL THEN 'error'
         WHEN k.key_manager = 'AWS' THEN 'skip'
         WHEN k.key_state IN ('PendingDeletion', 'PendingReplicaDeletion') THEN 'skip'
         WHEN k.key_state = 'Disabled' THEN 'fail'
         WHEN u.n IS NOT NULL OR g.n IS NOT NULL OR a.names IS NOT NULL THEN 'pass'
         WHEN k.arn IN (SELECT resource_arn FROM aws_encryption_sync_errors WHERE operation = 'ListGrants') THEN 'error'
         ELSE 'fail' END AS status,
    CASE WHEN k.key_state IS NULL THEN 'The key could not be described (see aws_encryption_sync_errors).'
         WHEN k.key_manager = 'AWS' THEN 'AWS managed key: created and kept by the service that uses it.'
         WHEN k.key_state IN ('PendingDeletion', 'PendingReplicaDeletion') THEN
             'Already scheduled for deletion: see kms_key_pending_deletion_or_disabled.'
         WHEN k.key_state = 'Disabled' THEN
             'Key ' || k.arn || ' is disabled: nothing can use it, and it is still billed' ||
             coalesce(' (' || u.n || ' synced resource(s) are encrypted under it: see ' ||
                      'kms_key_pending_deletion_or_disabled)', '') ||
             '. Fix: if CloudTrail shows no use, aws kms schedule-key-deletion --key-id ' || k.arn ||
             ' --pending-window-in-days 30 --region ' || k.region || '; else aws kms enable-key --key-id ' || k.arn ||
             ' --region ' || k.region || '.'
         WHEN u.n IS NOT NULL OR g.n IS NOT NULL OR a.names IS NOT NULL THEN
             'In use: ' || concat_ws('; ', u.n || ' synced resource(s) encrypted under it',
                                     g.n || ' grant(s)', 'alias(es) ' || a.names) || '.'
         WHEN k.arn IN (SELECT resource_arn FROM aws_encryption_sync_errors WHERE operation = 'ListGrants') THEN
             'No synced resource or alias names the key, and its grants could not be listed (see ' ||
             'aws_encryption_sync_errors), so whether an AWS service uses it is unknown.'
         ELSE 'Key ' || k.arn || ' is enabled but no synced resource is encrypted under it, it has no grant and ' ||
              'no alias. Applications may still call it directly: check CloudTrail (eventSource ' ||
              'kms.amazonaws.com, resources.ARN = ' || k.arn || ') before anything else. Fix, once nothing uses ' ||
              'it: aws kms schedule-key-deletion --key-id ' || k.arn || ' --pending-window-in-days 30 --region ' ||
              k.region || '.' END AS reason
FROM aws_kms_keys k
LEFT JOIN users u ON u.key_arn = k.arn
LEFT JOIN grants g ON g.key_arn = k.arn
LEFT JOIN aliases a ON a.key_arn = k.arn
