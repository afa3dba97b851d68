-- id: s3_bucket_key_disabled
-- title: S3 buckets encrypted with KMS use an S3 Bucket Key
-- severity: low
-- resource_type: AwsS3Bucket
-- description: Test fixture. Buckets whose default encryption rule has the bucket key off fail;
--   buckets without a rule are not applicable.
-- remediation: Turn on the S3 Bucket Key in the bucket's default encryption.
-- references: https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucket-key.html
SELECT
    b.arn AS resource_arn,
    b.account_id,
    b.region,
    CASE WHEN r.bucket_arn IS NULL THEN 'skip' WHEN r.bucket_key_enabled THEN 'pass' ELSE 'fail' END AS status,
    CASE
        WHEN r.bucket_arn IS NULL THEN 'Bucket ' || b.name || ' has no default encryption rule.'
        WHEN r.bucket_key_enabled THEN 'Bucket ' || b.name || ' uses an S3 Bucket Key.'
        ELSE 'Bucket ' || b.name || ' in account ' || b.account_id || ' does not use an S3 Bucket Key.'
    END AS reason
FROM aws_s3_buckets b
LEFT JOIN aws_s3_bucket_encryption_rules r ON r.bucket_arn = b.arn
ORDER BY b.arn
