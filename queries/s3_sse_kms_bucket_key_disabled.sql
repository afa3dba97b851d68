-- id: s3_sse_kms_bucket_key_disabled
-- title: SSE-KMS buckets use an S3 Bucket Key
-- severity: low
-- resource_type: AwsS3Bucket
-- description: A bucket default-encrypted with SSE-KMS does not enable S3 Bucket Keys (cost).
-- risk: Every object write and read calls KMS; Bucket Keys cut those requests (and KMS cost) by up to
--   99% and keep busy buckets under the KMS request quotas.
-- remediation: Enable the Bucket Key in the bucket's default encryption.
-- remediation_cli: aws s3api put-bucket-encryption --bucket <bucket> --server-side-encryption-configuration '{"Rules":[{"ApplyServerSideEncryptionByDefault":{"SSEAlgorithm":"aws:kms","KMSMasterKeyID":"<key-arn>"},"BucketKeyEnabled":true}]}'
-- references: https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucket-key.html
-- peers: cloud-custodian bucket-encryption bucket_key_enabled filter
SELECT b.arn AS resource_arn, b.account_id, b.region,
    CASE
        WHEN e.sse_algorithm IS NULL THEN 'error'
        WHEN e.sse_algorithm <> 'SSE-KMS' THEN 'skip'
        WHEN coalesce(e.bucket_key_enabled, false) THEN 'pass'
        ELSE 'fail'
    END AS status,
    CASE
        WHEN e.sse_algorithm IS NULL THEN 'The bucket''s default encryption could not be read (see aws_encryption_sync_errors).'
        WHEN e.sse_algorithm = 'DSSE-KMS' THEN 'DSSE-KMS does not support Bucket Keys.'
        WHEN e.sse_algorithm <> 'SSE-KMS' THEN e.sse_algorithm || ': no KMS requests per object.'
        WHEN coalesce(e.bucket_key_enabled, false) THEN 'Bucket Key enabled.'
        ELSE 'SSE-KMS without a Bucket Key: every object operation calls KMS.'
    END AS reason
FROM aws_s3_buckets b
LEFT JOIN aws_s3_bucket_encryption_keys e ON e.bucket_arn = b.arn
