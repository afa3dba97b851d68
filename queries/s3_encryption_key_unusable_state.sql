-- id: s3_encryption_key_unusable_state
-- title: Buckets' default KMS keys are enabled and exist
-- severity: critical
-- resource_type: AwsS3Bucket
-- description: The KMS key a bucket's default encryption points to is disabled, pending deletion,
--   pending import, unavailable, or does not exist in a synced account.
-- risk: New writes that rely on default encryption fail. Once a key pending deletion is deleted,
--   every object encrypted with it is unreadable forever.
-- remediation: Re-enable the key, cancel its deletion, import its key material, or point the bucket's
--   default encryption to a usable key (and re-encrypt existing objects before the old key goes).
-- remediation_cli: aws kms cancel-key-deletion --key-id <key-arn> && aws kms enable-key --key-id <key-arn>
-- references: https://docs.aws.amazon.com/kms/latest/developerguide/key-state.html, https://docs.aws.amazon.com/kms/latest/developerguide/deleting-keys.html
-- compliance: AWS Security Hub: KMS.3 (extended to keys in use by S3)
-- peers: none at bucket level (prowler, steampipe and AWS check key state only)
WITH synced_kms AS (
    -- (account, region) whose keys the latest sync listed completely: a key missing there does not exist
    SELECT account_id, region FROM aws_encryption_sync_coverage c
    WHERE table_name = 'aws_kms_keys'
      AND _cq_sync_time = (SELECT max(_cq_sync_time) FROM aws_encryption_sync_coverage c2
                           WHERE c2._cq_source_name = c._cq_source_name AND c2.account_id = c.account_id
                             AND c2.region = c.region AND c2.table_name = c.table_name)
    GROUP BY account_id, region HAVING bool_and(status = 'ok')
)
SELECT b.arn AS resource_arn, b.account_id, b.region,
    CASE
        WHEN e.sse_algorithm IS NULL THEN 'error'
        WHEN e.sse_algorithm = 'SSE-S3' THEN 'skip'
        WHEN e.reference_type = 'default_aws_managed' AND NOT coalesce(e.key_known, false) THEN 'pass'
        WHEN e.key_known THEN CASE WHEN e.key_state = 'Enabled' THEN 'pass' ELSE 'fail' END
        WHEN EXISTS (SELECT 1 FROM synced_kms s WHERE s.account_id = e.key_account_id AND s.region = e.key_region)
             AND e.reference_type IN ('key_arn', 'key_id', 'alias_name', 'alias_arn') THEN 'fail'
        ELSE 'error'
    END AS status,
    CASE
        WHEN e.sse_algorithm IS NULL THEN 'The bucket''s default encryption could not be read (see aws_encryption_sync_errors).'
        WHEN e.sse_algorithm = 'SSE-S3' THEN 'SSE-S3: no KMS key involved.'
        WHEN e.reference_type = 'default_aws_managed' AND NOT coalesce(e.key_known, false) THEN
            'Uses the account''s aws/s3 key, which S3 creates when first needed.'
        WHEN e.key_known AND e.key_state = 'Enabled' THEN 'Key ' || e.resolved_key_arn || ' is enabled.'
        WHEN e.key_known THEN 'Key ' || e.resolved_key_arn || ' is ' || e.key_state ||
            CASE WHEN e.key_state = 'PendingDeletion' THEN ': once deleted, objects encrypted with it are unreadable.'
                 ELSE ': writes that use the default encryption fail.' END
        WHEN EXISTS (SELECT 1 FROM synced_kms s WHERE s.account_id = e.key_account_id AND s.region = e.key_region) THEN
            'Key ' || coalesce(e.key_reference, '?') || ' does not exist in account ' || e.key_account_id || ' ' ||
            e.key_region || ': writes that use the default encryption fail.'
        ELSE 'Key ' || coalesce(e.resolved_key_arn, e.key_reference, '?') ||
            ' is in an account or region whose keys this sync did not read, so its state is unknown.'
    END AS reason,
    e.resolved_key_arn AS key_arn, e.key_state
FROM aws_s3_buckets b
LEFT JOIN aws_s3_bucket_encryption_keys e ON e.bucket_arn = b.arn
