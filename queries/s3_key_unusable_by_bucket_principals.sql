-- id: s3_key_unusable_by_bucket_principals
-- title: Accounts a bucket policy admits can use the bucket's customer managed key
-- severity: high
-- resource_type: AwsS3Bucket
-- description: For a bucket default-encrypted with a customer managed KMS key, every other account its
--   bucket policy lets read objects needs kms:Decrypt on the key, and every account it lets write
--   objects needs kms:GenerateDataKey, from the key policy or a grant.
-- risk: A KMS key policy must grant access explicitly (an IAM policy alone is not enough). Without
--   it, the admitted account's reads or writes fail with AccessDenied from KMS.
-- remediation: Add a key policy statement (or a grant) for the account's principals with kms:Decrypt
--   (readers) and kms:GenerateDataKey (writers), and give those principals the same actions in their
--   own IAM policies.
-- remediation_cli: aws kms create-grant --key-id <key-arn> --grantee-principal <principal-arn> --operations Decrypt GenerateDataKey
-- references: https://docs.aws.amazon.com/kms/latest/developerguide/key-policy-modifying-external-accounts.html, https://repost.aws/knowledge-center/cross-account-access-denied-error-s3
-- compliance: AWS Security Hub: S3.17 (stricter)
-- peers: none
WITH admitted AS (
    SELECT p.bucket_arn, p.principal_account AS account,
           bool_or(p.grants_object_read) AS reads, bool_or(p.grants_object_write) AS writes
    FROM aws_s3_bucket_permissions p
    JOIN aws_s3_buckets b ON b.arn = p.bucket_arn
    WHERE p.effect = 'Allow' AND p.principal_account IS NOT NULL AND p.principal_account <> b.account_id
      AND (p.grants_object_read OR p.grants_object_write)
    GROUP BY p.bucket_arn, p.principal_account
),
key_use AS (
    SELECT k.key_arn, coalesce(k.principal_account, '*') AS account,
           bool_or(k.allows_decrypt) AS dec, bool_or(k.allows_generate_data_key) AS gen
    FROM aws_kms_key_permissions k
    WHERE k.effect = 'Allow'
      -- a kms:ViaService condition is fine as long as S3 is among the services
      AND (k.via_services IS NULL OR len(k.via_services) = 0
           OR array_to_string(k.via_services, ' ') LIKE '%s3.%')
      AND (k.principal_account IS NOT NULL OR k.is_public)
    GROUP BY 1, 2
),
missing AS (
    SELECT a.bucket_arn,
        string_agg(a.account || ' (' ||
            CASE WHEN a.reads AND NOT coalesce(kd.dec, pd.dec, false) AND a.writes AND NOT coalesce(kd.gen, pd.gen, false)
                     THEN 'kms:Decrypt, kms:GenerateDataKey'
                 WHEN a.reads AND NOT coalesce(kd.dec, pd.dec, false) THEN 'kms:Decrypt'
                 ELSE 'kms:GenerateDataKey' END || ')', ', ' ORDER BY a.account) AS detail
    FROM admitted a
    JOIN aws_s3_bucket_encryption_keys e ON e.bucket_arn = a.bucket_arn
    LEFT JOIN key_use kd ON kd.key_arn = e.resolved_key_arn AND kd.account = a.account
    LEFT JOIN key_use pd ON pd.key_arn = e.resolved_key_arn AND pd.account = '*'
    WHERE (a.reads AND NOT coalesce(kd.dec, pd.dec, false)) OR (a.writes AND NOT coalesce(kd.gen, pd.gen, false))
    GROUP BY a.bucket_arn
),
policy_unreadable AS (
    SELECT DISTINCT resource_arn FROM aws_encryption_sync_errors WHERE operation IN ('GetKeyPolicy', 'ListGrants')
),
bucket_policy_unreadable AS (
    SELECT DISTINCT resource_arn FROM aws_encryption_sync_errors WHERE operation = 'GetBucketPolicy'
)
SELECT b.arn AS resource_arn, b.account_id, b.region,
    CASE
        WHEN e.sse_algorithm IS NULL THEN 'error'
        WHEN e.sse_algorithm = 'SSE-S3' THEN 'skip'
        WHEN b.arn IN (SELECT resource_arn FROM bucket_policy_unreadable) THEN 'error'
        WHEN NOT EXISTS (SELECT 1 FROM admitted a WHERE a.bucket_arn = b.arn) THEN 'pass'
        WHEN e.key_type = 'aws_managed' THEN 'skip'
        WHEN e.key_type IS NULL OR e.key_type NOT LIKE 'customer_managed%' THEN 'error'
        WHEN e.resolved_key_arn IN (SELECT resource_arn FROM policy_unreadable) THEN 'error'
        WHEN m.bucket_arn IS NOT NULL THEN 'fail'
        ELSE 'pass'
    END AS status,
    CASE
        WHEN e.sse_algorithm IS NULL THEN 'The bucket''s default encryption could not be read (see aws_encryption_sync_errors).'
        WHEN e.sse_algorithm = 'SSE-S3' THEN 'Not encrypted with a KMS key (SSE-S3).'
        WHEN b.arn IN (SELECT resource_arn FROM bucket_policy_unreadable) THEN
            'The bucket policy could not be read (' || coalesce((SELECT min(error_code) FROM aws_encryption_sync_errors x
                WHERE x.resource_arn = b.arn AND x.operation = 'GetBucketPolicy'), '?') ||
            '), so who it admits, and whether key ' || coalesce(e.resolved_key_arn, e.key_reference, 'aws/s3') ||
            ' lets them in, is unknown.'
        WHEN NOT EXISTS (SELECT 1 FROM admitted a WHERE a.bucket_arn = b.arn) THEN
            'The bucket policy admits no other account to read or write objects.'
        WHEN e.key_type = 'aws_managed' THEN
            'Encrypted with an AWS managed key: see s3_aws_managed_key_cross_account.'
        WHEN e.key_type IS NULL THEN
            'The bucket policy admits other accounts, but the type and policy of key ' ||
            coalesce(e.resolved_key_arn, e.key_reference) || ' are unknown: ' ||
            CASE WHEN e.same_account THEN 'the sync could not describe it (see aws_encryption_sync_errors).'
                 ELSE 'it is in account ' || coalesce(e.key_account_id, '?') || ', which this sync did not read.' END
        WHEN e.key_type NOT LIKE 'customer_managed%' THEN
            'Key type ' || e.key_type || ' is not a customer managed key.'
        WHEN e.resolved_key_arn IN (SELECT resource_arn FROM policy_unreadable) THEN
            'The key policy or grants of ' || e.resolved_key_arn || ' could not be read (see aws_encryption_sync_errors).'
        WHEN m.bucket_arn IS NOT NULL THEN
            'The bucket policy admits ' || m.detail || ' but key ' || e.resolved_key_arn ||
            ' gives them no such permission in its key policy or grants: their requests will fail with AccessDenied.'
        ELSE 'Every account the bucket policy admits can use key ' || e.resolved_key_arn || '.'
    END AS reason,
    e.resolved_key_arn AS key_arn
FROM aws_s3_buckets b
LEFT JOIN aws_s3_bucket_encryption_keys e ON e.bucket_arn = b.arn
LEFT JOIN missing m ON m.bucket_arn = b.arn
