-- id: s3_account_public_access_block_disabled
-- title: Accounts have all four S3 Block Public Access settings on
-- severity: medium
-- resource_type: AwsAccount
-- description: An account passes when its own S3 Block Public Access configuration (S3 Control
--   GetPublicAccessBlock, aws_s3_accounts) has BlockPublicAcls, IgnorePublicAcls, BlockPublicPolicy and
--   RestrictPublicBuckets all on, as Security Hub S3.1 has it; no configuration, or any of them off,
--   fails. An account whose settings could not be read is an error. The account-level settings apply to
--   every bucket and access point the account owns, in every Region.
-- risk: Every bucket and access point of the account then relies on its own settings alone: a public bucket
--   policy, ACL or access point policy on any of them takes effect.
-- remediation: Turn on all four account-level settings, after checking that no bucket must stay public.
-- remediation_cli: aws s3control put-public-access-block --account-id <account-id> --public-access-block-configuration BlockPublicAcls=true,IgnorePublicAcls=true,BlockPublicPolicy=true,RestrictPublicBuckets=true
-- references: https://docs.aws.amazon.com/securityhub/latest/userguide/s3-controls.html#s3-1, https://docs.aws.amazon.com/AmazonS3/latest/userguide/access-control-block-public-access.html, https://docs.aws.amazon.com/AmazonS3/latest/userguide/configuring-block-public-access-account.html, https://docs.aws.amazon.com/AmazonS3/latest/API/API_control_GetPublicAccessBlock.html
-- compliance: CIS AWS Foundations 3.0.0: 2.1.4; AWS Security Hub: S3.1; PCI DSS 4.0: 1.4.4
-- peers: prowler s3_account_level_public_access_blocks; steampipe s3_public_access_block_account; AWS Config s3-account-level-public-access-blocks-periodic
WITH unread AS (
    -- the account's settings could not be read this sync (the coverage row, or the failed call itself)
    SELECT account_id, min(error_code) AS code FROM (
        SELECT account_id, error_code FROM aws_encryption_sync_coverage
        WHERE table_name = 'aws_s3_accounts' AND status = 'error'
        UNION ALL
        SELECT account_id, error_code FROM aws_encryption_sync_errors
        WHERE service = 's3control' AND operation = 'GetPublicAccessBlock')
    GROUP BY account_id
),
exposed AS (
    -- the account's buckets without all four settings of their own: what the account-level ones protect
    SELECT b.account_id, count(*) AS buckets,
           count(*) FILTER (WHERE NOT coalesce(
               CAST(p.public_access_block_configuration ->> '$.BlockPublicAcls' AS BOOLEAN)
               AND CAST(p.public_access_block_configuration ->> '$.IgnorePublicAcls' AS BOOLEAN)
               AND CAST(p.public_access_block_configuration ->> '$.BlockPublicPolicy' AS BOOLEAN)
               AND CAST(p.public_access_block_configuration ->> '$.RestrictPublicBuckets' AS BOOLEAN), false)) AS open
    FROM aws_s3_buckets b LEFT JOIN aws_s3_bucket_public_access_blocks p ON p.bucket_arn = b.arn
    GROUP BY b.account_id
),
judged AS (
    SELECT a.account_id, a.config_exists,
        coalesce(a.block_public_acls AND a.ignore_public_acls AND a.block_public_policy AND a.restrict_public_buckets,
                 false) AS all_on,
        concat_ws(', ', CASE WHEN NOT coalesce(a.block_public_acls, false) THEN 'BlockPublicAcls' END,
                        CASE WHEN NOT coalesce(a.ignore_public_acls, false) THEN 'IgnorePublicAcls' END,
                        CASE WHEN NOT coalesce(a.block_public_policy, false) THEN 'BlockPublicPolicy' END,
                        CASE WHEN NOT coalesce(a.restrict_public_buckets, false) THEN 'RestrictPublicBuckets' END) AS off,
        coalesce(e.buckets, 0) AS buckets, coalesce(e.open, 0) AS open
    FROM aws_s3_accounts a LEFT JOIN exposed e ON e.account_id = a.account_id
    WHERE a.account_id NOT IN (SELECT account_id FROM unread)
)
SELECT 'arn:aws:s3::' || account_id || ':account' AS resource_arn, account_id, '' AS region,
    CASE WHEN all_on THEN 'pass' ELSE 'fail' END AS status,
    CASE WHEN all_on THEN 'Account ' || account_id || ' has all four S3 Block Public Access settings on.'
         ELSE 'Account ' || account_id || CASE WHEN config_exists THEN ' has S3 Block Public Access ' || off || ' off'
                                               ELSE ' has no S3 Block Public Access configuration (all four off)' END ||
              ': for ' || CASE WHEN config_exists THEN 'those' ELSE 'all four' END ||
              ', its buckets and access points rely on their own settings' ||
              CASE WHEN buckets = 0 THEN ' (it has no synced bucket yet)'
                   ELSE ', and ' || open || ' of its ' || buckets || ' synced bucket' ||
                        CASE WHEN buckets = 1 THEN '' ELSE 's' END || ' lack one of the four' END ||
              '. Fix: aws s3control put-public-access-block --account-id ' || account_id ||
              ' --public-access-block-configuration BlockPublicAcls=true,IgnorePublicAcls=true,' ||
              'BlockPublicPolicy=true,RestrictPublicBuckets=true.' END AS reason
FROM judged
UNION ALL
SELECT 'arn:aws:s3::' || account_id || ':account', account_id, '', 'error',
    'The S3 Block Public Access settings of account ' || account_id || ' could not be read (s3control:' ||
    'GetPublicAccessBlock: ' || code || ', see aws_encryption_sync_errors).'
FROM unread
