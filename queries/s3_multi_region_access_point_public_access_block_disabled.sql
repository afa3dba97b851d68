-- id: s3_multi_region_access_point_public_access_block_disabled
-- title: Multi-Region Access Points have all four Block Public Access settings on
-- severity: medium
-- resource_type: AwsS3AccessPoint
-- description: A Multi-Region Access Point has Block Public Access settings of its own (in its
--   ListMultiRegionAccessPoints report; S3 applies the most restrictive combination of them, the
--   underlying buckets' and their owner accounts'). It passes when BlockPublicAcls, IgnorePublicAcls,
--   BlockPublicPolicy and RestrictPublicBuckets are all on, the default, and fails otherwise, as Security
--   Hub S3.24 has it; the reason says whether its policy admits the public today. Accounts whose
--   Multi-Region Access Points could not be listed are errors.
-- risk: Its policy can be made public at any time, and only the buckets' or the accounts' settings then stand
--   between its buckets and everyone; its settings can't be turned on after it is created.
-- remediation: Create a replacement Multi-Region Access Point over the same buckets with the default
--   settings (all four on), move its policy and clients to it, then delete the old one.
-- remediation_cli: aws s3control create-multi-region-access-point --account-id <account-id> --details '{"Name":"<new-name>","Regions":[{"Bucket":"<bucket>"}]}' --region us-west-2
-- references: https://docs.aws.amazon.com/securityhub/latest/userguide/s3-controls.html#s3-24, https://docs.aws.amazon.com/AmazonS3/latest/userguide/multi-region-access-point-block-public-access.html, https://docs.aws.amazon.com/AmazonS3/latest/API/API_control_MultiRegionAccessPointReport.html
-- compliance: AWS Security Hub: S3.24; PCI DSS 4.0: 1.4.4
-- peers: prowler s3_multi_region_access_point_public_access_block; steampipe s3_multi_region_access_point_public_access_blocked
WITH unread_listing AS (
    SELECT account_id, min(error_code) AS code FROM aws_encryption_sync_coverage
    WHERE table_name = 'aws_s3_multi_region_access_points' AND status = 'error' GROUP BY account_id
),
public_policy AS (
    SELECT via, string_agg(DISTINCT bucket_statement, ', ' ORDER BY bucket_statement) AS statements
    FROM aws_s3_bucket_access_paths
    WHERE path = 'multi_region_access_point' AND principal_type = 'public' AND bucket_verdict = 'allow'
    GROUP BY via
),
judged AS (
    SELECT m.*, pp.statements, m.public_access_block IS NOT NULL AS read,
        coalesce(CAST(m.public_access_block ->> '$.BlockPublicAcls' AS BOOLEAN)
                 AND CAST(m.public_access_block ->> '$.IgnorePublicAcls' AS BOOLEAN)
                 AND CAST(m.public_access_block ->> '$.BlockPublicPolicy' AS BOOLEAN)
                 AND CAST(m.public_access_block ->> '$.RestrictPublicBuckets' AS BOOLEAN), false) AS all_on,
        concat_ws(', ',
            CASE WHEN NOT coalesce(CAST(m.public_access_block ->> '$.BlockPublicAcls' AS BOOLEAN), false)
                 THEN 'BlockPublicAcls' END,
            CASE WHEN NOT coalesce(CAST(m.public_access_block ->> '$.IgnorePublicAcls' AS BOOLEAN), false)
                 THEN 'IgnorePublicAcls' END,
            CASE WHEN NOT coalesce(CAST(m.public_access_block ->> '$.BlockPublicPolicy' AS BOOLEAN), false)
                 THEN 'BlockPublicPolicy' END,
            CASE WHEN NOT coalesce(CAST(m.public_access_block ->> '$.RestrictPublicBuckets' AS BOOLEAN), false)
                 THEN 'RestrictPublicBuckets' END) AS off,
        (SELECT '[' || string_agg('{"Bucket":"' || (r.value ->> '$.Bucket') || '"}', ',') || ']'
         FROM json_each(m.regions) r) AS buckets_json
    FROM aws_s3_multi_region_access_points m
    LEFT JOIN public_policy pp ON pp.via = m.arn
)
SELECT arn AS resource_arn, account_id, '' AS region,
    CASE WHEN NOT read THEN 'error' WHEN all_on THEN 'pass' ELSE 'fail' END AS status,
    CASE
        WHEN NOT read THEN 'The Block Public Access settings of Multi-Region Access Point ' || name ||
            ' were not in its ListMultiRegionAccessPoints report.'
        WHEN all_on THEN 'Multi-Region Access Point ' || name || ' has all four Block Public Access settings on.'
        ELSE 'Multi-Region Access Point ' || name || ' has Block Public Access ' || off || ' off' ||
            CASE WHEN statements IS NOT NULL THEN '; its policy admits anyone (statement ' || statements ||
                                                  '): see s3_bucket_publicly_accessible for its buckets'
                 ELSE '; its policy does not admit the public today, but can be changed to at any time' END ||
            '. Its settings can''t be changed after creation. Fix: aws s3control create-multi-region-access-point ' ||
            '--account-id ' || account_id || ' --details ''{"Name":"' || name || '-blocked","Regions":' ||
            coalesce(buckets_json, '[]') || '}'' --region us-west-2 (all four on by default), move its policy and ' ||
            'clients there, then aws s3control delete-multi-region-access-point --account-id ' || account_id ||
            ' --details Name=' || name || ' --region us-west-2.'
    END AS reason
FROM judged
UNION ALL
SELECT 'arn:aws:s3::' || account_id || ':accesspoint/*', account_id, '', 'error',
    'The Multi-Region Access Points of account ' || account_id || ' could not be listed (s3control:' ||
    'ListMultiRegionAccessPoints: ' || code || '), so their Block Public Access settings are unknown.'
FROM unread_listing
