-- id: cross_account_access_chain_broken
-- title: Roles and users a bucket shares with can get through all three links
-- severity: high
-- resource_type: AwsS3Bucket
-- description: A role or user of another synced account that a bucket admits (bucket policy, ACL,
--   access point, Multi-Region Access Point) reads or writes its objects only when three things line
--   up: the bucket side admits it, the bucket's KMS key admits it (key policy or grant, through S3),
--   and its own IAM allows the S3 action on the objects and the KMS operations on the key (identity
--   policies, permission boundary, and the organisation's SCPs when synced). Each principal is
--   evaluated at all three links; the finding names the broken one and its fix. A principal of an
--   account this sync did not read has an unknown identity link: skipped, never passed.
-- risk: The pipeline fails with AccessDenied (from S3 or from KMS) the first time the principal tries,
--   although the bucket policy says it is shared.
-- remediation: Apply the fix the finding names at the broken link: the identity policy statement to
--   add to the role, the key policy statement (or grant), or the Deny to narrow.
-- references: https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic-cross-account.html, https://repost.aws/knowledge-center/cross-account-access-denied-error-s3
-- peers: none (IAM Access Analyzer reports what a resource policy exposes, not whether the reader gets through)
WITH paths AS (
    SELECT p.*, b.name AS bucket_name
    FROM aws_s3_bucket_access_paths p
    JOIN aws_s3_buckets b ON b.arn = p.bucket_arn
    WHERE p.path IN ('bucket_policy', 'acl', 'access_point', 'multi_region_access_point')
      AND p.principal_type = 'principal' AND p.bucket_verdict = 'allow'
      AND p.principal_account IS DISTINCT FROM b.account_id
),
synced AS (
    -- accounts the latest sync opened (their IAM tables were meant to be read)
    SELECT DISTINCT account_id FROM aws_encryption_sync_coverage WHERE operation = 'AssumeRole' OR table_name = ''
),
judged AS (
    SELECT *,
        principal_label || ' may ' || access || ' objects of bucket ' || bucket_name || ' (' ||
            replace(path, '_', ' ') || coalesce(' ' || nullif(via, ''), '') ||
            coalesce(', statement ' || bucket_statement, '') || ')' ||
            CASE WHEN key_verdict = 'allow' THEN ' and key ' || key_arn || ' admits it (' || coalesce(key_decided_by, '?') || ')'
                 WHEN key_verdict = 'not_needed' THEN ' (SSE-S3: no key permission needed)' ELSE '' END AS admitted,
        CASE WHEN key_verdict IN ('not_allowed', 'deny') THEN
            'key ' || coalesce(key_arn, 'aws/s3') ||
            CASE WHEN key_verdict = 'deny' THEN ' denies ' ELSE ' gives it no ' END ||
            array_to_string(missing_operations, ', ') || coalesce(' (' || key_decided_by || ')', '') ||
            CASE WHEN key_type = 'aws_managed' THEN ' (an AWS managed key admits only its own account: move the bucket to a customer managed key' ||
                      coalesce(' with ' || fix_cli, '') || ')'
                 WHEN key_verdict = 'deny' THEN ' (narrow that Deny: it overrides every Allow and grant)'
                 ELSE coalesce(': add to the key policy ' || replace(replace(fix_statement, chr(10), ' '), '  ', ''), '')
                 END END AS key_link,
        CASE WHEN identity_verdict IN ('not_allowed', 'deny') THEN
            identity_reason ||
            CASE WHEN identity_verdict = 'deny' THEN ' (narrow that Deny: it overrides every Allow)'
                 ELSE coalesce(': add ' || identity_fix_statement || ' to ' || identity_fix_target, '') END END AS identity_link
    FROM paths
),
per_bucket AS (
    SELECT bucket_arn, any_value(account_id) AS account_id, any_value(bucket_region) AS region,
        string_agg(CASE WHEN key_link IS NOT NULL OR identity_link IS NOT NULL THEN
            admitted || ', but ' || concat_ws('; and ', key_link, identity_link) END, ' | '
            ORDER BY principal_label, access) AS broken,
        string_agg(CASE WHEN key_link IS NULL AND identity_link IS NULL
                         AND (key_verdict IN ('depends', 'unknown') OR identity_verdict = 'depends'
                              OR (identity_verdict = 'unknown' AND principal_account IN (SELECT account_id FROM synced))) THEN
            principal_label || ' (' || access || '): ' ||
            CASE WHEN identity_verdict = 'unknown' THEN identity_reason
                 WHEN identity_verdict = 'depends' THEN 'its IAM ' || identity_reason
                 WHEN key_verdict = 'unknown' THEN 'whether key ' || coalesce(key_arn, '?') || ' admits it is unknown'
                 ELSE 'key ' || coalesce(key_arn, '?') || ' depends on ' || array_to_string(key_depends_on, ', ') END
            END, ' | ' ORDER BY principal_label, access) AS undecided,
        string_agg(CASE WHEN identity_verdict = 'unknown' AND principal_account NOT IN (SELECT account_id FROM synced) THEN
            principal_label || ' (' || access || ')' END, ', ' ORDER BY principal_label, access) AS unsynced,
        string_agg(CASE WHEN key_verdict IN ('allow', 'not_needed') AND identity_verdict = 'allow' THEN
            principal_label || ' (' || access || ')' END, ', ' ORDER BY principal_label, access) AS through
    FROM judged
    GROUP BY bucket_arn
)
SELECT bucket_arn AS resource_arn, account_id, region,
    CASE WHEN broken IS NOT NULL THEN 'fail' WHEN undecided IS NOT NULL THEN 'error'
         WHEN through IS NULL THEN 'skip' ELSE 'pass' END AS status,
    CASE WHEN broken IS NOT NULL THEN broken || '. Its requests fail with AccessDenied.'
         WHEN undecided IS NOT NULL THEN 'Whether it gets through can''t be decided: ' || undecided || '.'
         WHEN through IS NULL THEN 'The identity link is unknown for every principal of another account the bucket admits: '
              || unsynced || ' (their accounts are not synced).'
         ELSE 'Every role and user of another synced account the bucket admits gets through all three links (bucket, key, '
              || 'its own IAM): ' || through || '.' ||
              coalesce(' Not synced, identity link unknown: ' || unsynced || '.', '') END AS reason
FROM per_bucket
