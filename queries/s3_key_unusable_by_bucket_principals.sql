-- id: s3_key_unusable_by_bucket_principals
-- title: Principals a bucket admits can use the bucket's customer managed key
-- severity: high
-- resource_type: AwsS3Bucket
-- description: For a bucket default-encrypted with a customer managed KMS key, every principal of
--   another account that may read its objects (bucket policy, ACL, access point, Multi-Region Access
--   Point) needs kms:Decrypt on the key, and every one that may write needs kms:GenerateDataKey and
--   kms:Decrypt (multipart uploads), from the key policy or a grant, evaluated at principal level:
--   explicit Deny wins, a statement naming one role covers that role only, the account root
--   delegates to the account's IAM, kms:ViaService must be s3.<bucket region>.amazonaws.com, and
--   kms:EncryptionContext conditions see the bucket ARN when an S3 Bucket Key is on.
-- risk: A KMS key policy must grant access explicitly (an IAM policy alone is not enough). Without
--   it, the admitted account's reads or writes fail with AccessDenied from KMS.
-- remediation: Add the key policy statement (or the grant) each finding renders for the principal
--   and key, and give the principal the same actions in its own IAM policies.
-- remediation_cli: aws kms create-grant --key-id <key-arn> --grantee-principal <principal-arn> --operations Decrypt GenerateDataKey
-- references: https://docs.aws.amazon.com/kms/latest/developerguide/key-policy-modifying-external-accounts.html, https://repost.aws/knowledge-center/cross-account-access-denied-error-s3
-- compliance: AWS Security Hub: S3.17 (stricter)
-- peers: none
WITH paths AS (
    SELECT p.*, b.account_id AS bucket_account
    FROM aws_s3_bucket_access_paths p
    JOIN aws_s3_buckets b ON b.arn = p.bucket_arn
    WHERE p.path IN ('bucket_policy', 'acl', 'access_point', 'multi_region_access_point')
      AND p.bucket_verdict IN ('allow', 'depends')
      AND p.principal_account IS DISTINCT FROM b.account_id
),
per_bucket AS (
    SELECT bucket_arn,
        count(*) AS admitted,
        string_agg(CASE WHEN bucket_verdict = 'allow' AND key_verdict IN ('not_allowed', 'deny') THEN
            principal_label || ' may ' || access || ' (' || replace(path, '_', ' ') ||
            coalesce(' ' || nullif(via, ''), '') || coalesce(', statement ' || bucket_statement, '') || ') but key ' ||
            coalesce(key_arn, '?') || CASE WHEN key_verdict = 'deny' THEN ' denies ' ELSE ' gives no ' END ||
            array_to_string(missing_operations, ', ') || coalesce(' (' || key_decided_by || ')', '') ||
            -- the key policy statements and grants that would have applied but for a condition
            coalesce(' (' || nullif(array_to_string(key_not_applying, '; '), '') || ')', '') ||
            CASE WHEN access = 'write' AND list_contains(missing_operations, 'kms:Decrypt')
                      AND NOT list_contains(missing_operations, 'kms:GenerateDataKey')
                 THEN ' (multipart uploads need kms:Decrypt as well as kms:GenerateDataKey)' ELSE '' END ||
            CASE WHEN key_verdict = 'deny' THEN '. Fix: change key policy statement ' || coalesce(key_decided_by, '?') ||
                      ' so that it does not apply to ' || principal_label ||
                      ' (an explicit Deny overrides every Allow and grant)'
                 ELSE coalesce('. Fix: add to the key policy ' || replace(replace(fix_statement, chr(10), ' '), '  ', ''), '') ||
                      coalesce(' or run ' || fix_cli, '') END END, ' | ' ORDER BY principal_label, access) AS failing,
        string_agg(CASE WHEN key_verdict = 'unknown' THEN principal_label || ' (' || access || ')' END, ', ') AS unknown,
        string_agg(CASE WHEN key_verdict = 'depends' OR (bucket_verdict = 'depends' AND key_verdict <> 'allow') THEN
            principal_label || ' (' || access || ': ' ||
            CASE WHEN key_verdict = 'depends' THEN 'key policy statement or grant ' || coalesce(key_decided_by, '?')
                 ELSE 'bucket statement ' || coalesce(bucket_statement, '?') END || ' depends on ' ||
            array_to_string(list_concat(bucket_depends_on, key_depends_on), ', ') || ')' END, ', ') AS undecided,
        string_agg(DISTINCT principal_label, ', ') AS everyone,
        string_agg(CASE WHEN key_verdict = 'allow' THEN principal_label || ' (' || access || ', allowed by ' ||
            coalesce(key_decided_by, '?') || CASE WHEN key_delegated THEN ', which admits account ' ||
            coalesce(principal_account, '?') || ' as a whole: its own IAM policies must allow it too' ELSE '' END ||
            ')' END, '; ' ORDER BY principal_label, access) AS admitted_by
    FROM paths
    GROUP BY bucket_arn
),
unread_paths AS (
    -- paths the sync could not read (ACL, access point or MRAP policies, their listings)
    SELECT bucket_arn, string_agg(DISTINCT reason, ' ') AS what
    FROM aws_s3_bucket_access_paths WHERE bucket_verdict = 'unknown'
    GROUP BY bucket_arn
),
key_unreadable AS (
    SELECT DISTINCT resource_arn FROM aws_encryption_sync_errors WHERE operation IN ('GetKeyPolicy', 'ListGrants')
),
bucket_unreadable AS (
    SELECT DISTINCT resource_arn FROM aws_encryption_sync_errors WHERE operation IN ('GetBucketPolicy', 'GetBucketAcl')
)
SELECT b.arn AS resource_arn, b.account_id, b.region,
    CASE
        WHEN e.sse_algorithm IS NULL THEN 'error'
        WHEN e.sse_algorithm = 'SSE-S3' THEN 'skip'
        WHEN e.key_type = 'aws_managed' THEN 'skip'
        WHEN pb.failing IS NOT NULL THEN 'fail'
        WHEN b.arn IN (SELECT resource_arn FROM bucket_unreadable) OR up.bucket_arn IS NOT NULL THEN 'error'
        WHEN pb.bucket_arn IS NULL THEN 'pass'
        WHEN e.key_type IS NULL OR pb.unknown IS NOT NULL
             OR e.resolved_key_arn IN (SELECT resource_arn FROM key_unreadable) THEN 'error'
        WHEN pb.undecided IS NOT NULL THEN 'error'
        ELSE 'pass'
    END AS status,
    CASE
        WHEN e.sse_algorithm IS NULL THEN 'The bucket''s default encryption could not be read (see aws_encryption_sync_errors).'
        WHEN e.sse_algorithm = 'SSE-S3' THEN 'Not encrypted with a KMS key (SSE-S3).'
        WHEN e.key_type = 'aws_managed' THEN 'Encrypted with an AWS managed key: see s3_aws_managed_key_cross_account.'
        WHEN pb.failing IS NOT NULL THEN
            pb.failing || '. Their requests fail with AccessDenied from KMS (default encryption: new objects ' ||
            'written without their own encryption headers).'
        WHEN b.arn IN (SELECT resource_arn FROM bucket_unreadable) THEN
            'The bucket policy or ACL could not be read (' || coalesce((SELECT string_agg(DISTINCT x.error_code, ', ')
                FROM aws_encryption_sync_errors x WHERE x.resource_arn = b.arn
                AND x.operation IN ('GetBucketPolicy', 'GetBucketAcl')), '?') ||
            '), so who it admits, and whether key ' || coalesce(e.resolved_key_arn, e.key_reference, 'aws/s3') ||
            ' lets them in, is unknown.'
        WHEN up.bucket_arn IS NOT NULL THEN
            up.what || ' Whether every principal it admits may use key ' ||
            coalesce(e.resolved_key_arn, e.key_reference, '?') || ' is unknown.'
        WHEN pb.bucket_arn IS NULL THEN 'No principal of another account may read or write objects (bucket policy, ' ||
            'ACL, access points).'
        WHEN e.key_type IS NULL OR pb.unknown IS NOT NULL
             OR e.resolved_key_arn IN (SELECT resource_arn FROM key_unreadable) THEN
            'Other accounts may use the bucket (' || pb.everyone || '), but the policy of key ' ||
            coalesce(e.resolved_key_arn, e.key_reference) || ' is unknown: ' ||
            CASE WHEN e.same_account THEN 'the sync could not read it (see aws_encryption_sync_errors).'
                 ELSE 'it is in account ' || coalesce(e.key_account_id, '?') || ', which this sync did not read.' END
        WHEN pb.undecided IS NOT NULL THEN
            'Whether key ' || e.resolved_key_arn || ' lets them in can''t be decided from the policies alone: ' ||
            pb.undecided || '.'
        ELSE 'Every principal of another account the bucket admits may use key ' || e.resolved_key_arn ||
            ' for what it is admitted to: ' || coalesce(pb.admitted_by, pb.everyone) || '.'
    END AS reason,
    e.resolved_key_arn AS key_arn
FROM aws_s3_buckets b
LEFT JOIN aws_s3_bucket_encryption_keys e ON e.bucket_arn = b.arn
LEFT JOIN per_bucket pb ON pb.bucket_arn = b.arn
LEFT JOIN unread_paths up ON up.bucket_arn = b.arn
