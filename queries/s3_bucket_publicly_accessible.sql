-- id: s3_bucket_publicly_accessible
-- title: Buckets are not public
-- severity: critical
-- resource_type: AwsS3Bucket
-- description: A bucket is public when anyone may reach it through its bucket policy (S3's own verdict,
--   GetBucketPolicyStatus IsPublic, or a statement the policy analyser finds admits everyone without a
--   condition), through its ACL (a grant to AllUsers or AuthenticatedUsers while ACLs are in force), or
--   through one of its access points or Multi-Region Access Points (a public access point policy the
--   bucket policy delegates to), and Block Public Access does not stop it. S3 applies the most
--   restrictive combination of the settings: RestrictPublicBuckets of the bucket or of its account stops
--   public policies (the bucket's and its access points'), IgnorePublicAcls of either makes S3 ignore
--   public ACLs, an access point's own RestrictPublicBuckets stops its policy, and an access point with a
--   VPC network origin is never public. Any of these that could not be read, where it decides, is an error.
--   Object ACLs are not read.
-- risk: Anyone on the internet can read (or write, as the grant says) the bucket's objects.
-- remediation: Turn on Block Public Access for the bucket (or the account) after checking that nothing needs
--   public access, and remove the public statement, grant or access point policy.
-- remediation_cli: aws s3api put-public-access-block --bucket <bucket> --public-access-block-configuration BlockPublicAcls=true,IgnorePublicAcls=true,BlockPublicPolicy=true,RestrictPublicBuckets=true
-- references: https://docs.aws.amazon.com/AmazonS3/latest/userguide/access-control-block-public-access.html, https://docs.aws.amazon.com/AmazonS3/latest/userguide/access-control-block-public-access.html#access-control-block-public-access-policy-status, https://docs.aws.amazon.com/AmazonS3/latest/userguide/access-points-bpa-settings.html, https://docs.aws.amazon.com/AmazonS3/latest/userguide/multi-region-access-point-block-public-access.html, https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetBucketPolicyStatus.html
-- compliance: AWS Security Hub: S3.2; AWS Security Hub: S3.3
-- peers: prowler s3_bucket_public_access; steampipe s3_bucket_restrict_public_read_access; steampipe s3_bucket_restrict_public_write_access; steampipe s3_bucket_policy_restrict_public_access; IAM Access Analyzer for S3
WITH errs AS (
    SELECT resource_arn, operation, min(error_code) AS code FROM aws_encryption_sync_errors
    WHERE service = 's3' AND operation IN ('GetBucketPolicy', 'GetBucketPolicyStatus', 'GetBucketAcl', 'GetPublicAccessBlock')
    GROUP BY resource_arn, operation
),
account_unread AS (
    SELECT DISTINCT account_id FROM aws_encryption_sync_coverage WHERE table_name = 'aws_s3_accounts' AND status = 'error'
    UNION SELECT DISTINCT account_id FROM aws_encryption_sync_errors
    WHERE service = 's3control' AND operation = 'GetPublicAccessBlock'
),
policy_public AS (
    -- the analyser's public rows: "*" with no condition restricting the caller (aws_s3_bucket_access_paths)
    SELECT bucket_arn, string_agg(bucket_statement || ': ' || accesses, ', ' ORDER BY bucket_statement) AS statements
    FROM (SELECT bucket_arn, bucket_statement, string_agg(DISTINCT access, ', ' ORDER BY access) AS accesses
          FROM aws_s3_bucket_access_paths
          WHERE path = 'bucket_policy' AND principal_type = 'public' AND bucket_verdict = 'allow'
          GROUP BY bucket_arn, bucket_statement)
    GROUP BY bucket_arn
),
acl_public AS (
    SELECT bucket_arn, string_agg(permission || ' to ' || split_part(grantee_id, '/', -1), ', '
                                  ORDER BY grantee_id, permission) AS grants
    FROM aws_s3_bucket_grants
    WHERE grantee_id IN ('http://acs.amazonaws.com/groups/global/AllUsers',
                         'http://acs.amazonaws.com/groups/global/AuthenticatedUsers')
    GROUP BY bucket_arn
),
state AS (
    SELECT b.arn, b.name, b.account_id, b.region,
        -- Block Public Access of the bucket and of its account: true, false, or NULL when it could not be read
        CASE WHEN bp.bucket_arn IS NOT NULL
                  THEN coalesce(CAST(bp.public_access_block_configuration ->> '$.RestrictPublicBuckets' AS BOOLEAN), false)
             WHEN ebp.code IS NULL THEN false END AS b_rpb,
        CASE WHEN bp.bucket_arn IS NOT NULL
                  THEN coalesce(CAST(bp.public_access_block_configuration ->> '$.IgnorePublicAcls' AS BOOLEAN), false)
             WHEN ebp.code IS NULL THEN false END AS b_ipa,
        ebp.code AS bpa_err,
        CASE WHEN a.account_id IS NOT NULL AND au.account_id IS NULL THEN coalesce(a.restrict_public_buckets, false) END
            AS a_rpb,
        CASE WHEN a.account_id IS NOT NULL AND au.account_id IS NULL THEN coalesce(a.ignore_public_acls, false) END
            AS a_ipa,
        pp.statements AS pol_statements, CAST(b.policy_status ->> '$.IsPublic' AS BOOLEAN) AS status_public,
        pol.bucket_arn IS NOT NULL AS has_policy, epol.code AS pol_err, epst.code AS pst_err,
        ap.grants AS acl_grants, eacl.code AS acl_err
    FROM aws_s3_buckets b
    LEFT JOIN aws_s3_bucket_public_access_blocks bp ON bp.bucket_arn = b.arn
    LEFT JOIN errs ebp ON ebp.resource_arn = b.arn AND ebp.operation = 'GetPublicAccessBlock'
    LEFT JOIN aws_s3_accounts a ON a.account_id = b.account_id
    LEFT JOIN account_unread au ON au.account_id = b.account_id
    LEFT JOIN policy_public pp ON pp.bucket_arn = b.arn
    LEFT JOIN aws_s3_bucket_policies pol ON pol.bucket_arn = b.arn
    LEFT JOIN errs epol ON epol.resource_arn = b.arn AND epol.operation = 'GetBucketPolicy'
    LEFT JOIN errs epst ON epst.resource_arn = b.arn AND epst.operation = 'GetBucketPolicyStatus'
    LEFT JOIN acl_public ap ON ap.bucket_arn = b.arn
    LEFT JOIN errs eacl ON eacl.resource_arn = b.arn AND eacl.operation = 'GetBucketAcl'
),
chan AS (
    SELECT s.*,
        s.b_rpb OR s.a_rpb AS restricted,          -- three-valued: NULL when unknown and not known true
        s.b_ipa OR s.a_ipa AS acls_ignored,
        concat_ws(' and ', CASE WHEN s.b_rpb THEN 'the bucket''s' END, CASE WHEN s.a_rpb THEN 'account ' || s.account_id || '''s' END)
            AS rpb_by,
        concat_ws(' and ', CASE WHEN s.b_ipa THEN 'the bucket''s' END, CASE WHEN s.a_ipa THEN 'account ' || s.account_id || '''s' END)
            AS ipa_by,
        concat_ws(' and ', CASE WHEN s.b_rpb IS NULL OR s.b_ipa IS NULL THEN 'the bucket''s Block Public Access (GetPublicAccessBlock: '
                                                                             || s.bpa_err || ')' END,
                           CASE WHEN s.a_rpb IS NULL THEN 'account ' || s.account_id || '''s (s3control:GetPublicAccessBlock)' END)
            AS bpa_unread,
        CASE WHEN s.pol_statements IS NOT NULL OR s.status_public THEN true
             WHEN s.status_public = false THEN false
             WHEN s.pol_err IS NOT NULL THEN NULL
             WHEN NOT s.has_policy THEN false END AS pol_exposed,
        CASE WHEN s.acl_grants IS NOT NULL THEN true WHEN s.acl_err IS NULL THEN false END AS acl_exposed
    FROM state s
),
points AS (
    -- access points and Multi-Region Access Points whose policy admits anyone, delegated to by the bucket policy
    SELECT x.bucket_arn, x.statements,
        CASE WHEN x.path = 'access_point' THEN 'access point ' || coalesce(ap.name, x.via)
             ELSE 'Multi-Region Access Point ' || coalesce(m.name, x.via) END AS label,
        ap.network_origin = 'VPC' AS vpc,
        CASE WHEN x.path = 'access_point' AND ap.network_origin = 'VPC' THEN true
             WHEN x.path = 'access_point' AND ap.public_access_block_configuration IS NOT NULL
                  THEN coalesce(CAST(ap.public_access_block_configuration ->> '$.RestrictPublicBuckets' AS BOOLEAN), false)
             WHEN x.path = 'multi_region_access_point' AND m.public_access_block IS NOT NULL
                  THEN coalesce(CAST(m.public_access_block ->> '$.RestrictPublicBuckets' AS BOOLEAN), false) END AS own_rpb
    FROM (SELECT bucket_arn, path, via, string_agg(DISTINCT bucket_statement, ', ' ORDER BY bucket_statement) AS statements
          FROM aws_s3_bucket_access_paths
          WHERE path IN ('access_point', 'multi_region_access_point') AND principal_type = 'public'
            AND bucket_verdict = 'allow'
          GROUP BY bucket_arn, path, via) x
    LEFT JOIN aws_s3_access_points ap ON x.path = 'access_point' AND ap.arn = x.via
    LEFT JOIN aws_s3_multi_region_access_points m ON x.path = 'multi_region_access_point' AND m.arn = x.via
),
point_state AS (
    SELECT p.*, NOT (p.own_rpb OR c.restricted) AS open, c.rpb_by
    FROM points p JOIN chan c ON c.arn = p.bucket_arn
),
point_agg AS (
    SELECT bucket_arn, count(*) FILTER (WHERE open) AS n_open, count(*) FILTER (WHERE open IS NULL) AS n_unknown,
        string_agg(CASE WHEN open THEN label || ' (its own RestrictPublicBuckets off; statement ' || statements || ')' END,
                   ', ' ORDER BY label) AS open_list,
        string_agg(CASE WHEN open IS NULL THEN label || ' admits anyone (statement ' || statements || ')' END,
                   ', ' ORDER BY label) AS unknown_list,
        string_agg(CASE WHEN NOT open THEN label || ' admits anyone (statement ' || statements || '), but ' ||
                        CASE WHEN vpc THEN 'its network origin is a VPC, never public'
                             WHEN own_rpb THEN 'its own RestrictPublicBuckets stops it'
                             ELSE 'RestrictPublicBuckets (' || rpb_by || ') stops it' END END,
                   '; ' ORDER BY label) AS closed_list
    FROM point_state GROUP BY bucket_arn
),
points_unread AS (
    -- an access point or MRAP policy, or the account's access point or MRAP listing, that could not be read
    SELECT bucket_arn, string_agg(DISTINCT split_part(reason, ';', 1), '; ') AS what
    FROM aws_s3_bucket_access_paths
    WHERE path IN ('access_point', 'multi_region_access_point') AND principal_type = 'unknown'
    GROUP BY bucket_arn
),
points_any AS (
    -- public access point policies, whether or not the bucket policy (read or not) delegates to them
    SELECT DISTINCT bucket_arn FROM aws_s3_bucket_access_paths
    WHERE path IN ('access_point', 'multi_region_access_point') AND principal_type = 'public'
),
judged AS (
    SELECT c.*, pa.open_list, pa.unknown_list, pa.closed_list, pu.what AS points_what,
        c.pol_exposed AND NOT c.restricted AS pol_open,
        c.acl_exposed AND NOT c.acls_ignored AS acl_open,
        CASE WHEN coalesce(pa.n_open, 0) > 0 THEN true
             WHEN coalesce(c.restricted, false) THEN false
             WHEN coalesce(pa.n_unknown, 0) > 0 OR pu.bucket_arn IS NOT NULL THEN NULL
             -- the bucket policy, which must delegate to them, could not be read
             WHEN c.pol_err IS NOT NULL AND pn.bucket_arn IS NOT NULL THEN NULL
             ELSE false END AS points_open
    FROM chan c
    LEFT JOIN point_agg pa ON pa.bucket_arn = c.arn
    LEFT JOIN points_unread pu ON pu.bucket_arn = c.arn
    LEFT JOIN points_any pn ON pn.bucket_arn = c.arn
)
SELECT arn AS resource_arn, account_id, region,
    CASE WHEN pol_open OR acl_open OR points_open THEN 'fail'
         WHEN (pol_open OR acl_open OR points_open) IS NULL THEN 'error'
         ELSE 'pass' END AS status,
    CASE
        WHEN pol_open OR acl_open OR points_open THEN 'Bucket ' || name || ' is public: ' || concat_ws('; ',
                CASE WHEN pol_open THEN 'its bucket policy admits anyone (' ||
                     coalesce('statement ' || pol_statements, 'GetBucketPolicyStatus: IsPublic') || ')' END,
                CASE WHEN acl_open THEN 'its ACL grants ' || acl_grants END,
                CASE WHEN points_open THEN open_list || ' admit' || CASE WHEN open_list LIKE '%), %' THEN '' ELSE 's' END ||
                                          ' anyone' END) ||
            '. No Block Public Access setting stops it: ' ||
            CASE WHEN (pol_open OR points_open) AND acl_open THEN 'RestrictPublicBuckets and IgnorePublicAcls are'
                 WHEN acl_open THEN 'IgnorePublicAcls is' ELSE 'RestrictPublicBuckets is' END ||
            ' off for the bucket and for account ' || account_id || '. Fix: aws s3api put-public-access-block --bucket ' ||
            name || ' --public-access-block-configuration BlockPublicAcls=true,IgnorePublicAcls=true,' ||
            'BlockPublicPolicy=true,RestrictPublicBuckets=true (it also holds for its access points), then remove ' ||
            'the public ' || concat_ws(', ', CASE WHEN pol_open THEN 'policy statement' END, CASE WHEN acl_open THEN 'ACL grant' END,
                                       CASE WHEN points_open THEN 'access point policy' END) || '.'
        WHEN (pol_open OR acl_open OR points_open) IS NULL THEN 'Whether bucket ' || name || ' is public is unknown: ' ||
            concat_ws('; ',
                CASE WHEN pol_open IS NULL THEN
                     CASE WHEN pol_exposed IS NULL AND pol_err IS NOT NULL
                               THEN 'its bucket policy could not be read (GetBucketPolicy: ' || pol_err || ')'
                          WHEN pol_exposed IS NULL THEN 'its policy status could not be read (GetBucketPolicyStatus: ' ||
                               coalesce(pst_err, 'not synced') || ')'
                          ELSE 'its bucket policy admits anyone (' || coalesce('statement ' || pol_statements,
                               'GetBucketPolicyStatus: IsPublic') || ') and ' || bpa_unread ||
                               ' could not be read, which decides whether RestrictPublicBuckets stops it' END END,
                CASE WHEN acl_open IS NULL THEN
                     CASE WHEN acl_exposed IS NULL THEN 'its ACL could not be read (GetBucketAcl: ' || acl_err || ')'
                          ELSE 'its ACL grants ' || acl_grants || ' and ' || bpa_unread ||
                               ' could not be read, which decides whether IgnorePublicAcls stops it' END END,
                CASE WHEN points_open IS NULL THEN
                     coalesce(unknown_list || ', and ' || nullif(bpa_unread, '') || ' could not be read', unknown_list,
                              points_what, 'its bucket policy, which decides what its access points may grant, ' ||
                                           'could not be read') END) || '.'
        ELSE 'Bucket ' || name || ' is not public' || coalesce(': ' || nullif(concat_ws('; ',
                CASE WHEN pol_exposed AND restricted THEN 'its bucket policy admits anyone (' ||
                     coalesce('statement ' || pol_statements, 'GetBucketPolicyStatus: IsPublic') ||
                     '), but RestrictPublicBuckets (' || rpb_by || ') limits it to the account and AWS services' END,
                CASE WHEN acl_exposed AND acls_ignored THEN 'its ACL grants ' || acl_grants ||
                     ', but IgnorePublicAcls (' || ipa_by || ') makes S3 ignore it' END,
                closed_list), ''), ': no bucket policy statement, ACL grant or access point admits anyone') || '.'
    END AS reason
FROM judged
