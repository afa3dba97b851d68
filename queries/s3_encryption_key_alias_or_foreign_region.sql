-- id: s3_encryption_key_alias_or_foreign_region
-- title: Buckets name their default KMS key by key ARN, in the bucket's region
-- severity: medium
-- resource_type: AwsS3Bucket
-- description: A bucket's default encryption names its key by alias or key id (resolved in the account
--   of whoever writes the object), or by an alias ARN (the alias can be repointed), or names a key in
--   another region.
-- risk: A cross-account writer's alias or key id resolves to a key in the writer's own account (or to
--   nothing), so its objects are encrypted with the wrong key or the write fails; a key in another
--   region can't be used by S3 at all.
-- remediation: Configure the key by its full key ARN, in the bucket's region.
-- remediation_cli: aws s3api put-bucket-encryption --bucket <bucket> --server-side-encryption-configuration '{"Rules":[{"ApplyServerSideEncryptionByDefault":{"SSEAlgorithm":"aws:kms","KMSMasterKeyID":"<key-arn>"},"BucketKeyEnabled":true}]}'
-- references: https://docs.aws.amazon.com/AmazonS3/latest/userguide/specifying-kms-encryption.html, https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucket-encryption.html
-- peers: none
SELECT b.arn AS resource_arn, b.account_id, b.region,
    CASE
        WHEN e.sse_algorithm IS NULL THEN 'error'
        WHEN e.sse_algorithm = 'SSE-S3' OR e.reference_type = 'default_aws_managed' THEN 'skip'
        WHEN NOT e.same_region THEN 'fail'
        WHEN e.reference_type IN ('alias_name', 'key_id', 'alias_arn') THEN 'fail'
        ELSE 'pass'
    END AS status,
    CASE
        WHEN e.sse_algorithm IS NULL THEN 'The bucket''s default encryption could not be read (see aws_encryption_sync_errors).'
        WHEN e.sse_algorithm = 'SSE-S3' THEN 'SSE-S3: no KMS key is named.'
        WHEN e.reference_type = 'default_aws_managed' THEN 'No key is named (the aws/s3 key of the bucket''s account).'
        WHEN NOT e.same_region THEN 'Key ' || coalesce(e.key_reference, '?') || ' is in ' || coalesce(e.key_region, '?') ||
            ', not in the bucket''s region ' || b.region || '.'
        WHEN e.reference_type = 'alias_name' THEN 'The key is named by alias ' || e.key_reference ||
            ', which resolves in the writer''s account; use the key ARN.'
        WHEN e.reference_type = 'key_id' THEN 'The key is named by key id ' || e.key_reference ||
            ', which resolves in the writer''s account; use the key ARN.'
        WHEN e.reference_type = 'alias_arn' THEN 'The key is named by alias ARN ' || e.key_reference ||
            ', which can be repointed; use the key ARN.'
        ELSE 'The key is named by its ARN, in the bucket''s region.'
    END AS reason
FROM aws_s3_buckets b
LEFT JOIN aws_s3_bucket_encryption_keys e ON e.bucket_arn = b.arn
