-- id: s3_aws_managed_key_cross_account
-- title: Buckets shared with other accounts are not encrypted with an AWS managed key
-- severity: high
-- resource_type: AwsS3Bucket
-- description: The bucket's default encryption uses an AWS managed KMS key (aws/s3: configured as
--   alias/aws/s3, its key ARN or id, or SSE-KMS with no key id) and its bucket policy lets another
--   account read or write objects.
-- risk: An AWS managed key's policy admits only its own account (kms:CallerAccount) through S3
--   (kms:ViaService) and can't be changed or granted to others. Every GetObject or PutObject from
--   the other account fails with AccessDenied from KMS, whatever the bucket and IAM policies say.
-- remediation: Encrypt the bucket with a customer managed key whose key policy (or a grant) lets the
--   other account use it, and re-encrypt existing objects (copy in place); or give the other account
--   a role in the bucket's account to assume.
-- remediation_cli: aws s3api put-bucket-encryption --bucket <bucket> --server-side-encryption-configuration '{"Rules":[{"ApplyServerSideEncryptionByDefault":{"SSEAlgorithm":"aws:kms","KMSMasterKeyID":"<customer-managed-key-arn>"},"BucketKeyEnabled":true}]}'
-- references: https://docs.aws.amazon.com/kms/latest/developerguide/concepts.html#aws-managed-key, https://docs.aws.amazon.com/AmazonS3/latest/userguide/example-walkthroughs-managing-access-example2.html, https://repost.aws/knowledge-center/cross-account-access-denied-error-s3
-- compliance: AWS Security Hub: S3.17 (stricter: the key must be usable by the bucket's readers)
-- peers: none (no peer joins bucket sharing to the bucket key's usability)
WITH sharing AS (
    SELECT p.bucket_arn,
           string_agg(DISTINCT coalesce(p.principal_account, 'anyone (public)'), ', '
                      ORDER BY coalesce(p.principal_account, 'anyone (public)')) AS accounts
    FROM aws_s3_bucket_permissions p
    JOIN aws_s3_buckets b ON b.arn = p.bucket_arn
    WHERE p.effect = 'Allow'
      AND (p.grants_object_read OR p.grants_object_write)
      AND (p.is_public OR (p.principal_account IS NOT NULL AND p.principal_account <> b.account_id))
    GROUP BY p.bucket_arn
),
unreadable AS (
    SELECT DISTINCT resource_arn, operation FROM aws_encryption_sync_errors
    WHERE operation IN ('GetBucketEncryption', 'GetBucketPolicy')
)
SELECT b.arn AS resource_arn, b.account_id, b.region,
    CASE
        WHEN e.bucket_arn IS NULL OR e.sse_algorithm IS NULL THEN 'error'
        -- an AWS managed key serves only its own account, so only a key of the bucket's account can be one
        WHEN e.key_type IS NULL AND e.sse_algorithm <> 'SSE-S3' AND coalesce(e.same_account, true) THEN 'error'
        WHEN e.key_type IS DISTINCT FROM 'aws_managed' THEN 'skip'
        WHEN s.bucket_arn IS NOT NULL THEN 'fail'
        WHEN EXISTS (SELECT 1 FROM unreadable u WHERE u.resource_arn = b.arn AND u.operation = 'GetBucketPolicy') THEN 'error'
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
        WHEN e.key_type IS DISTINCT FROM 'aws_managed' THEN
            'Not encrypted with an AWS managed key (' || coalesce(e.sse_algorithm, '?') ||
            coalesce(', key ' || e.resolved_key_arn, '') || ').'
        WHEN s.bucket_arn IS NOT NULL THEN
            'Encrypted with the AWS managed key ' || coalesce(e.resolved_key_arn, 'aws/s3 of ' || b.account_id) ||
            ', which only account ' || b.account_id || ' can use through S3, but the bucket policy lets ' ||
            s.accounts || ' read or write objects: they will get AccessDenied from KMS.'
        WHEN EXISTS (SELECT 1 FROM unreadable u WHERE u.resource_arn = b.arn AND u.operation = 'GetBucketPolicy') THEN
            'Encrypted with an AWS managed key; the bucket policy could not be read, so sharing is unknown.'
        ELSE 'Encrypted with the AWS managed key ' || coalesce(e.resolved_key_arn, 'aws/s3') ||
            ' and shared with no other account.'
    END AS reason,
    e.resolved_key_arn AS key_arn, s.accounts AS admitted_accounts
FROM aws_s3_buckets b
LEFT JOIN aws_s3_bucket_encryption_keys e ON e.bucket_arn = b.arn
LEFT JOIN sharing s ON s.bucket_arn = b.arn
