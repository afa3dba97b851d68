-- id: s3_bucket_public_access_block_disabled
-- title: Buckets have all four Block Public Access settings on
-- severity: medium
-- resource_type: AwsS3Bucket
-- description: A bucket passes when its own Block Public Access configuration (GetPublicAccessBlock) has
--   BlockPublicAcls, IgnorePublicAcls, BlockPublicPolicy and RestrictPublicBuckets all on; no
--   configuration, or any of them off, fails, as Security Hub S3.8 has it. The reason says whether the
--   account-level settings (aws_s3_accounts) cover what the bucket lacks today. A configuration that
--   could not be read is an error. Buckets meant to be public (a website behind no CDN) fail by design.
-- risk: Without them, one PutBucketPolicy or PutBucketAcl by anyone allowed to make it exposes the bucket to
--   everyone; S3 applies the most restrictive of the bucket's and the account's settings, so the bucket
--   relies on the account-level ones alone, which one call can turn off for every bucket.
-- remediation: Turn on all four settings for the bucket, after checking that nothing relies on public access.
-- remediation_cli: aws s3api put-public-access-block --bucket <bucket> --public-access-block-configuration BlockPublicAcls=true,IgnorePublicAcls=true,BlockPublicPolicy=true,RestrictPublicBuckets=true
-- references: https://docs.aws.amazon.com/securityhub/latest/userguide/s3-controls.html#s3-8, https://docs.aws.amazon.com/AmazonS3/latest/userguide/access-control-block-public-access.html, https://docs.aws.amazon.com/AmazonS3/latest/userguide/configuring-block-public-access-bucket.html
-- compliance: CIS AWS Foundations 3.0.0: 2.1.4; AWS Security Hub: S3.8; PCI DSS 4.0: 1.4.4
-- peers: prowler s3_bucket_level_public_access_block; steampipe s3_public_access_block_bucket; AWS Config s3-bucket-level-public-access-prohibited
WITH cfg AS (
    SELECT bucket_arn,
        coalesce(CAST(public_access_block_configuration ->> '$.BlockPublicAcls' AS BOOLEAN), false) AS bpa,
        coalesce(CAST(public_access_block_configuration ->> '$.IgnorePublicAcls' AS BOOLEAN), false) AS ipa,
        coalesce(CAST(public_access_block_configuration ->> '$.BlockPublicPolicy' AS BOOLEAN), false) AS bpp,
        coalesce(CAST(public_access_block_configuration ->> '$.RestrictPublicBuckets' AS BOOLEAN), false) AS rpb
    FROM aws_s3_bucket_public_access_blocks
),
unread AS (
    SELECT resource_arn, min(error_code) AS code FROM aws_encryption_sync_errors
    WHERE service = 's3' AND operation = 'GetPublicAccessBlock' GROUP BY resource_arn
),
judged AS (
    SELECT b.arn, b.name, b.account_id, b.region, u.code, c.bucket_arn IS NOT NULL AS configured,
        coalesce(c.bpa AND c.ipa AND c.bpp AND c.rpb, false) AS all_on,
        -- what the bucket lacks, and whether the account's own settings (most restrictive wins) cover it
        concat_ws(', ', CASE WHEN NOT coalesce(c.bpa, false) THEN 'BlockPublicAcls' END,
                        CASE WHEN NOT coalesce(c.ipa, false) THEN 'IgnorePublicAcls' END,
                        CASE WHEN NOT coalesce(c.bpp, false) THEN 'BlockPublicPolicy' END,
                        CASE WHEN NOT coalesce(c.rpb, false) THEN 'RestrictPublicBuckets' END) AS off,
        a.account_id IS NOT NULL AS account_read,
        concat_ws(', ', CASE WHEN NOT coalesce(c.bpa, false) AND NOT coalesce(a.block_public_acls, false) THEN 'BlockPublicAcls' END,
                        CASE WHEN NOT coalesce(c.ipa, false) AND NOT coalesce(a.ignore_public_acls, false) THEN 'IgnorePublicAcls' END,
                        CASE WHEN NOT coalesce(c.bpp, false) AND NOT coalesce(a.block_public_policy, false) THEN 'BlockPublicPolicy' END,
                        CASE WHEN NOT coalesce(c.rpb, false) AND NOT coalesce(a.restrict_public_buckets, false)
                             THEN 'RestrictPublicBuckets' END) AS uncovered
    FROM aws_s3_buckets b
    LEFT JOIN cfg c ON c.bucket_arn = b.arn
    LEFT JOIN unread u ON u.resource_arn = b.arn
    LEFT JOIN aws_s3_accounts a ON a.account_id = b.account_id
)
SELECT arn AS resource_arn, account_id, region,
    CASE WHEN code IS NOT NULL AND NOT configured THEN 'error' WHEN all_on THEN 'pass' ELSE 'fail' END AS status,
    CASE
        WHEN code IS NOT NULL AND NOT configured THEN 'The Block Public Access settings of bucket ' || name ||
            ' could not be read (' || code || ', see aws_encryption_sync_errors).'
        WHEN all_on THEN 'Bucket ' || name || ' has all four Block Public Access settings on.'
        ELSE 'Bucket ' || name || CASE WHEN configured THEN ' has Block Public Access ' || off || ' off'
                                       ELSE ' has no Block Public Access configuration of its own (all four off)' END ||
            CASE WHEN NOT account_read THEN '; account ' || account_id || '''s own settings were not read (see ' ||
                                            'aws_s3_accounts and aws_encryption_sync_coverage)'
                 WHEN uncovered = '' THEN '; account ' || account_id || '''s settings cover it for now, but one call ' ||
                                          'turning them off would leave the bucket open to a public policy or ACL'
                 ELSE '; account ' || account_id || '''s settings don''t cover ' || uncovered ||
                      ' either, so a public bucket policy or ACL would take effect' END ||
            '. Fix: aws s3api put-public-access-block --bucket ' || name || ' --public-access-block-configuration ' ||
            'BlockPublicAcls=true,IgnorePublicAcls=true,BlockPublicPolicy=true,RestrictPublicBuckets=true.'
    END AS reason
FROM judged
