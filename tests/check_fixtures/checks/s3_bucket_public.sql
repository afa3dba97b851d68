-- id: s3_bucket_public
-- title: S3 buckets are not public
-- severity: critical
-- resource_type: AwsS3Bucket
-- description: Test fixture. A bucket whose policy status says IsPublic fails.
-- remediation: Remove the public statements from the bucket policy and turn on Block Public Access.
-- remediation_cli: aws s3api put-public-access-block --bucket <bucket> --public-access-block-configuration BlockPublicPolicy=true,RestrictPublicBuckets=true
-- references: https://docs.aws.amazon.com/AmazonS3/latest/userguide/access-control-block-public-access.html
-- compliance: AWS Security Hub: S3.8
SELECT
    arn AS resource_arn,
    account_id,
    region,
    CASE
        WHEN policy_status IS NULL THEN 'pass'
        WHEN CAST(policy_status ->> 'IsPublic' AS BOOLEAN) THEN 'fail'
        ELSE 'pass'
    END AS status,
    CASE
        WHEN CAST(policy_status ->> 'IsPublic' AS BOOLEAN)
            THEN 'Bucket ' || name || ' in account ' || account_id || ' has a public bucket policy.'
        ELSE 'Bucket ' || name || ' in account ' || account_id || ' is not public.'
    END AS reason
FROM aws_s3_buckets
ORDER BY arn
