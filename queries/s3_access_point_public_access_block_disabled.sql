-- id: s3_access_point_public_access_block_disabled
-- title: Access points have all four Block Public Access settings on
-- severity: medium
-- resource_type: AwsS3AccessPoint
-- description: An access point has Block Public Access settings of its own (GetAccessPoint; S3 applies the
--   most restrictive combination of the access point's, its bucket's and the bucket owner account's). It
--   passes when BlockPublicAcls, IgnorePublicAcls, BlockPublicPolicy and RestrictPublicBuckets are all on,
--   the default, and fails otherwise, as Security Hub S3.19 has it; the reason says whether its policy
--   admits the public today and whether the bucket's or the account's settings stop that. Settings that
--   could not be read, or Regions whose access points could not be listed, are errors.
-- risk: The access point's policy can be made public at any time, and only the bucket's or the account's
--   settings then stand between its bucket and everyone; an access point's settings can't be turned on
--   after it is created.
-- remediation: Create a replacement access point with the default settings (all four on), move its policy
--   and its users to it, then delete the old one.
-- remediation_cli: aws s3control create-access-point --account-id <account-id> --name <new-name> --bucket <bucket> --region <region>
-- references: https://docs.aws.amazon.com/securityhub/latest/userguide/s3-controls.html#s3-19, https://docs.aws.amazon.com/AmazonS3/latest/userguide/access-points-bpa-settings.html, https://docs.aws.amazon.com/AmazonS3/latest/userguide/access-control-block-public-access.html, https://docs.aws.amazon.com/AmazonS3/latest/API/API_control_GetAccessPoint.html
-- compliance: AWS Security Hub: S3.19; PCI DSS 4.0: 1.4.4
-- peers: prowler s3_access_point_public_access_block; steampipe s3_access_point_restrict_public_access; AWS Config s3-access-point-public-access-blocks
WITH unread_listing AS (
    SELECT account_id, region, min(error_code) AS code FROM aws_encryption_sync_coverage
    WHERE table_name = 'aws_s3_access_points' AND status = 'error' GROUP BY account_id, region
),
unread AS (
    SELECT resource_arn, min(error_code) AS code FROM aws_encryption_sync_errors
    WHERE service = 's3control' AND operation = 'GetAccessPoint' GROUP BY resource_arn
),
public_policy AS (
    -- the access point's policy admits anyone, and the bucket policy delegates to it (aws_s3_bucket_access_paths)
    SELECT via, string_agg(DISTINCT bucket_statement, ', ' ORDER BY bucket_statement) AS statements
    FROM aws_s3_bucket_access_paths
    WHERE path = 'access_point' AND principal_type = 'public' AND bucket_verdict = 'allow'
    GROUP BY via
),
judged AS (
    SELECT ap.*, u.code, pp.statements,
        ap.public_access_block_configuration IS NOT NULL AS read,
        coalesce(CAST(ap.public_access_block_configuration ->> '$.BlockPublicAcls' AS BOOLEAN)
                 AND CAST(ap.public_access_block_configuration ->> '$.IgnorePublicAcls' AS BOOLEAN)
                 AND CAST(ap.public_access_block_configuration ->> '$.BlockPublicPolicy' AS BOOLEAN)
                 AND CAST(ap.public_access_block_configuration ->> '$.RestrictPublicBuckets' AS BOOLEAN), false) AS all_on,
        concat_ws(', ',
            CASE WHEN NOT coalesce(CAST(ap.public_access_block_configuration ->> '$.BlockPublicAcls' AS BOOLEAN), false)
                 THEN 'BlockPublicAcls' END,
            CASE WHEN NOT coalesce(CAST(ap.public_access_block_configuration ->> '$.IgnorePublicAcls' AS BOOLEAN), false)
                 THEN 'IgnorePublicAcls' END,
            CASE WHEN NOT coalesce(CAST(ap.public_access_block_configuration ->> '$.BlockPublicPolicy' AS BOOLEAN), false)
                 THEN 'BlockPublicPolicy' END,
            CASE WHEN NOT coalesce(CAST(ap.public_access_block_configuration ->> '$.RestrictPublicBuckets' AS BOOLEAN),
                                   false) THEN 'RestrictPublicBuckets' END) AS off,
        -- the bucket's and the bucket owner account's RestrictPublicBuckets, which also hold for its access points
        CAST(bp.public_access_block_configuration ->> '$.RestrictPublicBuckets' AS BOOLEAN) AS bucket_rpb,
        a.restrict_public_buckets AS account_rpb
    FROM aws_s3_access_points ap
    LEFT JOIN unread u ON u.resource_arn = ap.arn
    LEFT JOIN public_policy pp ON pp.via = ap.arn
    LEFT JOIN aws_s3_bucket_public_access_blocks bp ON bp.bucket_arn = 'arn:aws:s3:::' || ap.bucket
    LEFT JOIN aws_s3_accounts a ON a.account_id = coalesce(ap.bucket_account_id, ap.account_id)
)
SELECT arn AS resource_arn, account_id, region,
    CASE WHEN NOT read THEN 'error' WHEN all_on THEN 'pass' ELSE 'fail' END AS status,
    CASE
        WHEN NOT read THEN 'The Block Public Access settings of access point ' || name || ' could not be read (' ||
            coalesce('GetAccessPoint: ' || code || ', see aws_encryption_sync_errors', 'GetAccessPoint') || ').'
        WHEN all_on THEN 'Access point ' || name || ' (bucket ' || bucket || ') has all four Block Public Access ' ||
            'settings on.'
        ELSE 'Access point ' || name || ' (bucket ' || bucket || ') has Block Public Access ' || off || ' off' ||
            CASE WHEN network_origin = 'VPC' THEN '; its network origin is a VPC, which S3 never treats as public'
                 WHEN statements IS NOT NULL THEN '; its policy admits anyone (statement ' || statements || ')' ||
                     CASE WHEN coalesce(bucket_rpb, false) OR coalesce(account_rpb, false)
                          THEN ', which the ' || CASE WHEN coalesce(bucket_rpb, false) THEN 'bucket''s'
                                                      ELSE 'account''s' END ||
                               ' RestrictPublicBuckets stops for now'
                          ELSE ': see s3_bucket_publicly_accessible for its bucket' END
                 ELSE '; its policy does not admit the public today, but can be changed to at any time' END ||
            '. Its settings can''t be changed after creation. Fix: aws s3control create-access-point --account-id ' ||
            account_id || ' --name ' || name || '-blocked --bucket ' || bucket || ' --region ' || region ||
            ' (all four on by default), move its policy and users there, then aws s3control delete-access-point ' ||
            '--account-id ' || account_id || ' --name ' || name || ' --region ' || region || '.'
    END AS reason
FROM judged
UNION ALL
SELECT 'arn:aws:s3:' || region || ':' || account_id || ':accesspoint/*', account_id, region, 'error',
    'The access points of account ' || account_id || ' in ' || region || ' could not be listed (s3control:' ||
    'ListAccessPoints: ' || code || '), so their Block Public Access settings are unknown.'
FROM unread_listing
