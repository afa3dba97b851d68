-- id: s3_log_target_sse_kms
-- title: Buckets that receive S3 server access logs are encrypted with SSE-S3
-- severity: medium
-- resource_type: AwsS3Bucket
-- description: A bucket named as another bucket's server access logging target
--   (GetBucketLogging TargetBucket) must be default-encrypted with SSE-S3: S3 delivers server access
--   logs only to SSE-S3 buckets, so with SSE-KMS or DSSE-KMS (aws/s3 or a customer managed key) the
--   log delivery service can't write and the logs are lost without an error anywhere. A bucket
--   whose own logging configuration could not be read is an error: where its logs go is unknown.
-- risk: The access logs an investigation relies on are never written.
-- remediation: Set the log target bucket's default encryption to SSE-S3 (AES256), or send the logs
--   to another bucket that has it.
-- remediation_cli: aws s3api put-bucket-encryption --bucket <log-target-bucket> --server-side-encryption-configuration '{"Rules":[{"ApplyServerSideEncryptionByDefault":{"SSEAlgorithm":"AES256"}}]}'
-- references: https://docs.aws.amazon.com/AmazonS3/latest/userguide/enable-server-access-logging.html, https://docs.aws.amazon.com/AmazonS3/latest/userguide/troubleshooting-server-access-logging.html
-- peers: none
WITH targets AS (
    SELECT p.bucket_arn, string_agg(DISTINCT p.via, ', ' ORDER BY p.via) AS sources,
           bool_or(p.key_verdict = 'not_allowed') AS lost
    FROM aws_s3_bucket_access_paths p WHERE p.path = 'log_delivery'
    GROUP BY p.bucket_arn
),
-- buckets whose own logging configuration could not be read: where their logs go is unknown
unread AS (SELECT resource_arn, min(error_code) AS error_code FROM aws_encryption_sync_errors
           WHERE operation = 'GetBucketLogging' GROUP BY resource_arn)
SELECT b.arn AS resource_arn, b.account_id, b.region,
    CASE
        WHEN t.bucket_arn IS NOT NULL AND e.sse_algorithm IS NULL THEN 'error'
        WHEN t.lost THEN 'fail'
        WHEN u.resource_arn IS NOT NULL THEN 'error'
        WHEN t.bucket_arn IS NULL THEN 'skip'
        ELSE 'pass'
    END AS status,
    CASE
        WHEN t.bucket_arn IS NOT NULL AND e.sse_algorithm IS NULL THEN
            'Server access logs of ' || t.sources || ' are delivered here, but the default encryption could not ' ||
            'be read (see aws_encryption_sync_errors).'
        WHEN t.lost THEN
            'Server access logs of ' || t.sources || ' are delivered here, but its default encryption is ' ||
            e.sse_algorithm || coalesce(' with ' || e.resolved_key_arn, ' with aws/s3') ||
            ': S3 delivers server access logs only to SSE-S3 buckets, so they are lost. Fix: aws s3api ' ||
            'put-bucket-encryption --bucket ' || b.name || ' --server-side-encryption-configuration ' ||
            '''{"Rules":[{"ApplyServerSideEncryptionByDefault":{"SSEAlgorithm":"AES256"}}]}''.'
        WHEN u.resource_arn IS NOT NULL THEN
            'The bucket''s logging configuration could not be read (GetBucketLogging: ' || u.error_code ||
            '), so whether its server access logs go to a bucket on SSE-KMS, where they are lost, is unknown.'
        WHEN t.bucket_arn IS NULL THEN 'Not a server access logging target of a synced bucket.'
        ELSE 'Server access logs of ' || t.sources || ' are delivered here, encrypted with SSE-S3.'
    END AS reason,
    t.sources AS log_sources
FROM aws_s3_buckets b
LEFT JOIN targets t ON t.bucket_arn = b.arn
LEFT JOIN aws_s3_bucket_encryption_keys e ON e.bucket_arn = b.arn
LEFT JOIN unread u ON u.resource_arn = b.arn
