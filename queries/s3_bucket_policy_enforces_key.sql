-- id: s3_bucket_policy_enforces_key
-- title: Bucket policies refuse uploads under another KMS key
-- severity: low
-- resource_type: AwsS3Bucket
-- description: Default encryption applies only to objects written without their own encryption
--   headers; a writer that sends x-amz-server-side-encryption aws:kms with no key id gets aws/s3, and
--   one that sends an alias or key id gets a key of its own account. For an SSE-KMS bucket, a bucket
--   policy statement denying s3:PutObject unless s3:x-amz-server-side-encryption-aws-kms-key-id is
--   the bucket's key keeps every object under the key the sharing was designed for.
-- risk: Objects written under aws/s3 or the writer's own key can't be read by the bucket's other
--   readers, whatever the default says.
-- remediation: Add a Deny statement for s3:PutObject with a StringNotEquals condition on
--   s3:x-amz-server-side-encryption-aws-kms-key-id set to the bucket's key ARN.
-- references: https://docs.aws.amazon.com/AmazonS3/latest/userguide/UsingKMSEncryption.html#require-sse-kms, https://docs.aws.amazon.com/AmazonS3/latest/userguide/specifying-kms-encryption.html
-- peers: none
SELECT b.arn AS resource_arn, b.account_id, b.region,
    CASE
        WHEN e.sse_algorithm IS NULL THEN 'error'
        WHEN e.sse_algorithm = 'SSE-S3' THEN 'skip'
        WHEN e.resolved_key_arn IS NULL AND e.reference_type = 'default_aws_managed' THEN 'skip'
        WHEN e.policy_enforces_key IS NULL THEN 'error'
        WHEN e.policy_enforces_key THEN 'pass'
        ELSE 'fail'
    END AS status,
    CASE
        WHEN e.sse_algorithm IS NULL THEN 'The bucket''s default encryption could not be read (see aws_encryption_sync_errors).'
        WHEN e.sse_algorithm = 'SSE-S3' THEN 'SSE-S3: no KMS key to enforce.'
        WHEN e.resolved_key_arn IS NULL AND e.reference_type = 'default_aws_managed' THEN
            'Default encryption uses the account''s aws/s3 key, which has no ARN to require yet.'
        WHEN e.policy_enforces_key IS NULL THEN 'The bucket policy could not be read (see aws_encryption_sync_errors).'
        WHEN e.policy_enforces_key THEN 'The bucket policy refuses uploads that name another key than ' ||
            e.resolved_key_arn || '.'
        ELSE 'Default encryption uses ' || e.resolved_key_arn || ', but the bucket policy does not refuse uploads ' ||
            'that name another key (or aws:kms with none, which means aws/s3). Fix: add {"Sid": "RequireBucketKey", ' ||
            '"Effect": "Deny", "Principal": "*", "Action": "s3:PutObject", "Resource": "' || b.arn || '/*", ' ||
            '"Condition": {"StringNotEqualsIfExists": {"s3:x-amz-server-side-encryption-aws-kms-key-id": "' ||
            e.resolved_key_arn || '"}}}.'
    END AS reason
FROM aws_s3_buckets b
LEFT JOIN aws_s3_bucket_encryption_keys e ON e.bucket_arn = b.arn
