-- id: s3_aws_managed_key_cross_account
-- title: Buckets shared with other accounts are not encrypted with an AWS managed key
-- severity: high
-- resource_type: AwsS3Bucket
-- description: The bucket's default encryption uses an AWS managed KMS key (aws/s3: configured as
--   alias/aws/s3, its key ARN or id, or SSE-KMS with no key id) and another account may read or
--   write its objects: through the bucket policy (a role, an account, every account of an
--   organisation, the public), an ACL grant, an access point or a Multi-Region Access Point
--   (aws_s3_bucket_access_paths). Default encryption covers new objects written without their own
--   encryption headers. A shared bucket whose default key is younger than the bucket passes with
--   "default fixed": objects written before the key existed may still be under aws/s3.
-- risk: An AWS managed key's policy admits only its own account (kms:CallerAccount) through S3
--   (kms:ViaService) and can't be changed or granted to others. Every GetObject or PutObject from
--   the other account fails with AccessDenied from KMS, whatever the bucket and IAM policies say.
-- remediation: Encrypt the bucket with a customer managed key whose key policy (or a grant) lets the
--   other accounts use it, then re-encrypt the objects written before the change (S3 Batch
--   Operations copy in place): objects keep the key they were written with. Or give the other
--   account a role in the bucket's account to assume.
-- remediation_cli: aws s3api put-bucket-encryption --bucket <bucket> --server-side-encryption-configuration '{"Rules":[{"ApplyServerSideEncryptionByDefault":{"SSEAlgorithm":"aws:kms","KMSMasterKeyID":"<customer-managed-key-arn>"},"BucketKeyEnabled":true}]}'
-- references: https://docs.aws.amazon.com/kms/latest/developerguide/concepts.html#aws-managed-key, https://docs.aws.amazon.com/AmazonS3/latest/userguide/example-walkthroughs-managing-access-example2.html, https://repost.aws/knowledge-center/cross-account-access-denied-error-s3
-- compliance: AWS Security Hub: S3.17 (stricter: the key must be usable by the bucket's readers)
-- peers: none (no peer joins bucket sharing to the bucket key's usability)
WITH paths AS (
    -- the ways principals of other accounts reach the bucket's objects, by what the policies on them say
    SELECT p.bucket_arn,
           string_agg(p.principal_label || ' (' || p.access || ', ' || replace(p.path, '_', ' ') ||
                      coalesce(' ' || nullif(p.via, ''), '') || coalesce(' statement ' || p.bucket_statement, '') ||
                      CASE WHEN p.bucket_verdict = 'depends' THEN ', if ' || array_to_string(p.bucket_depends_on, ', ')
                           ELSE '' END || ')', '; ' ORDER BY p.principal_label, p.access)
               FILTER (WHERE p.bucket_verdict IN ('allow', 'depends')) AS shared,
           -- the ones a path names that the policies on it do not let in
           string_agg(DISTINCT p.principal_label || ' (' || p.access || ', ' || replace(p.path, '_', ' ') ||
                      coalesce(' ' || nullif(p.via, ''), '') || ': ' ||
                      CASE WHEN p.bucket_verdict = 'deny'
                           THEN 'stopped by the explicit Deny of statement ' || coalesce(p.bucket_statement, '?')
                           ELSE 'not allowed by the policies on its path' END || ')', '; ')
               FILTER (WHERE p.bucket_verdict IN ('deny', 'not_allowed')) AS refused,
           -- paths the sync could not read (ACL, access point or MRAP policies, their listings)
           string_agg(DISTINCT p.reason, ' ') FILTER (WHERE p.bucket_verdict = 'unknown') AS unread
    FROM aws_s3_bucket_access_paths p
    JOIN aws_s3_buckets b ON b.arn = p.bucket_arn
    WHERE p.path IN ('bucket_policy', 'acl', 'access_point', 'multi_region_access_point')
      AND p.principal_account IS DISTINCT FROM b.account_id
    GROUP BY p.bucket_arn
),
unreadable AS (
    SELECT DISTINCT resource_arn, operation FROM aws_encryption_sync_errors
    WHERE operation IN ('GetBucketEncryption', 'GetBucketPolicy', 'GetBucketAcl')
)
SELECT b.arn AS resource_arn, b.account_id, b.region,
    CASE
        WHEN e.bucket_arn IS NULL OR e.sse_algorithm IS NULL THEN 'error'
        -- an AWS managed key serves only its own account, so only a key of the bucket's account can be one
        WHEN e.key_type IS NULL AND e.sse_algorithm <> 'SSE-S3' AND coalesce(e.same_account, true) THEN 'error'
        WHEN e.key_type IS DISTINCT FROM 'aws_managed' AND s.shared IS NOT NULL AND k.younger THEN 'pass'
        WHEN e.key_type IS DISTINCT FROM 'aws_managed' THEN 'skip'
        WHEN s.shared IS NOT NULL THEN 'fail'
        WHEN EXISTS (SELECT 1 FROM unreadable u WHERE u.resource_arn = b.arn) OR s.unread IS NOT NULL THEN 'error'
        ELSE 'pass'
    END AS status,
    CASE
        WHEN e.bucket_arn IS NULL OR e.sse_algorithm IS NULL THEN
            'The bucket''s default encryption could not be read (see aws_encryption_sync_errors).'
        WHEN e.key_type IS NULL AND e.sse_algorithm <> 'SSE-S3' AND coalesce(e.same_account, true) THEN
            'The type of key ' || coalesce(e.resolved_key_arn, e.key_reference, '?') ||
            ' is unknown (the sync could not describe it, see aws_encryption_sync_errors), so whether it is an ' ||
            'AWS managed key is unknown.'
        WHEN e.key_type IS NULL THEN
            'Key ' || coalesce(e.resolved_key_arn, e.key_reference, '?') || ' is in account ' ||
            coalesce(e.key_account_id, '?') || ': not an AWS managed key of this bucket''s account.'
        WHEN e.key_type IS DISTINCT FROM 'aws_managed' AND s.shared IS NOT NULL AND k.younger THEN
            'Default fixed: default encryption uses customer managed key ' || e.resolved_key_arn || ', created ' ||
            strftime(k.creation_date, '%Y-%m-%d %H:%M:%S UTC') || ', after the bucket (created ' ||
            strftime(b.creation_date, '%Y-%m-%d %H:%M:%S UTC') || '), and ' || s.shared || ' may use the bucket''s ' ||
            'objects. Objects written before ' || strftime(k.creation_date, '%Y-%m-%d') || ' may still be under ' ||
            'aws/s3 (or whatever the earlier default was; an object keeps the key it was written with), and ' ||
            'their reads of those fail with AccessDenied from KMS: re-encrypt them (S3 Batch Operations copy in ' ||
            'place).'
        WHEN e.key_type IS DISTINCT FROM 'aws_managed' THEN
            'Not encrypted with an AWS managed key (' || coalesce(e.sse_algorithm, '?') ||
            coalesce(', key ' || e.resolved_key_arn, '') || ').'
        WHEN s.shared IS NOT NULL THEN
            'Default encryption uses the AWS managed key ' || coalesce(e.resolved_key_arn, 'aws/s3 of ' || b.account_id) ||
            ', whose policy admits only account ' || b.account_id || ' through S3 and can''t be changed, but ' ||
            s.shared || ' may use the bucket''s objects: their requests fail with AccessDenied from KMS. ' ||
            'Fix: switch the default to a customer managed key whose policy admits them (aws s3api ' ||
            'put-bucket-encryption --bucket ' || b.name || ' --server-side-encryption-configuration ''{"Rules":[{' ||
            '"ApplyServerSideEncryptionByDefault":{"SSEAlgorithm":"aws:kms","KMSMasterKeyID":"<customer managed ' ||
            'key ARN>"},"BucketKeyEnabled":true}]}''), then re-encrypt the objects written before ' ||
            '(S3 Batch Operations copy): default encryption covers only new objects written without their own ' ||
            'encryption headers.'
        WHEN EXISTS (SELECT 1 FROM unreadable u WHERE u.resource_arn = b.arn) THEN
            'Encrypted with an AWS managed key; the bucket policy or ACL could not be read (' ||
            (SELECT string_agg(DISTINCT u.operation, ', ') FROM unreadable u WHERE u.resource_arn = b.arn) ||
            '), so whether it is shared is unknown.'
        WHEN s.unread IS NOT NULL THEN
            'Encrypted with the AWS managed key ' || coalesce(e.resolved_key_arn, 'aws/s3') || ' and shared with no ' ||
            'other account by what was read, but ' || s.unread || ' Whether another account may use it is unknown.'
        ELSE 'Encrypted with the AWS managed key ' || coalesce(e.resolved_key_arn, 'aws/s3') ||
            ' and shared with no other account (bucket policy, ACL, access points)' ||
            coalesce('; refused: ' || s.refused, '') || '.'
    END AS reason,
    e.resolved_key_arn AS key_arn, s.shared AS admitted
FROM aws_s3_buckets b
LEFT JOIN aws_s3_bucket_encryption_keys e ON e.bucket_arn = b.arn
LEFT JOIN paths s ON s.bucket_arn = b.arn
-- the default key can't be older than the switch to it: a key younger than the bucket (at the
-- one-second resolution of ListBuckets' CreationDate) means objects written before it used another key
LEFT JOIN (SELECT arn, creation_date, true AS younger FROM aws_kms_keys) k
    ON k.arn = e.resolved_key_arn AND date_trunc('second', k.creation_date) > b.creation_date
