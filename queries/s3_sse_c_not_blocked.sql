-- id: s3_sse_c_not_blocked
-- title: Buckets block SSE-C (customer-provided keys)
-- severity: low
-- resource_type: AwsS3Bucket
-- description: The bucket's default encryption rule does not list SSE-C in BlockedEncryptionTypes, so
--   writers can encrypt objects with keys S3 never stores.
-- risk: Objects encrypted with SSE-C are unreadable without the writer's key; ransomware has used this
--   to lock data. New buckets block SSE-C by default since April 2026; older ones do not.
-- remediation: Add BlockedEncryptionTypes {"EncryptionType": ["SSE-C"]} to the default encryption rule.
-- remediation_cli: aws s3api put-bucket-encryption --bucket <bucket> --server-side-encryption-configuration '{"Rules":[{"ApplyServerSideEncryptionByDefault":{"SSEAlgorithm":"aws:kms","KMSMasterKeyID":"<key-arn>"},"BucketKeyEnabled":true,"BlockedEncryptionTypes":{"EncryptionType":["SSE-C"]}}]}'
-- references: https://docs.aws.amazon.com/AmazonS3/latest/userguide/blocking-unblocking-s3-c-encryption-gpb.html
-- peers: none
WITH rules AS (
    SELECT bucket_arn, bool_or(coalesce(CAST(blocked_encryption_types AS VARCHAR), '') LIKE '%SSE-C%') AS blocked
    FROM aws_s3_bucket_encryption_rules GROUP BY bucket_arn
)
SELECT b.arn AS resource_arn, b.account_id, b.region,
    CASE
        WHEN e.sse_algorithm IS NULL THEN 'error'
        WHEN coalesce(r.blocked, false) THEN 'pass'
        ELSE 'fail'
    END AS status,
    CASE
        WHEN e.sse_algorithm IS NULL THEN 'The bucket''s default encryption could not be read (see aws_encryption_sync_errors).'
        WHEN coalesce(r.blocked, false) THEN 'SSE-C is blocked.'
        WHEN r.bucket_arn IS NULL THEN 'No default encryption rule, so nothing blocks SSE-C.'
        ELSE 'The default encryption rule does not block SSE-C.'
    END AS reason
FROM aws_s3_buckets b
LEFT JOIN aws_s3_bucket_encryption_keys e ON e.bucket_arn = b.arn
LEFT JOIN rules r ON r.bucket_arn = b.arn
