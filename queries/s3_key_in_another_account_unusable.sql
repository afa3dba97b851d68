-- id: s3_key_in_another_account_unusable
-- title: A bucket's key held in another account admits the bucket's own account
-- severity: high
-- resource_type: AwsS3Bucket
-- description: When a bucket's default encryption names a key of another account (a central key
--   account), the bucket's own account needs kms:GenerateDataKey and kms:Decrypt on it through S3,
--   from that key's policy or grants; otherwise every write that uses the default encryption, and
--   every read, fails, including the owner's.
-- risk: The bucket can't be written or read by anyone through its default encryption.
-- remediation: Add a statement to the central key's policy admitting the bucket's account through
--   S3 (kms:ViaService s3.<region>.amazonaws.com), as the finding renders it.
-- remediation_cli: aws kms create-grant --key-id <central-key-arn> --grantee-principal arn:aws:iam::<bucket-account>:root --operations GenerateDataKey Decrypt
-- references: https://docs.aws.amazon.com/kms/latest/developerguide/key-policy-modifying-external-accounts.html, https://docs.aws.amazon.com/AmazonS3/latest/userguide/UsingKMSEncryption.html
-- peers: none
WITH owner AS (
    SELECT p.bucket_arn,
        string_agg(CASE WHEN p.key_verdict IN ('not_allowed', 'deny') THEN
            p.access || ' needs ' || array_to_string(p.missing_operations, ', ') ||
            CASE WHEN p.key_verdict = 'deny' THEN ', denied by key policy statement ' || coalesce(p.key_decided_by, '?')
                 ELSE '' END END, '; ' ORDER BY p.access) AS failing,
        string_agg(CASE WHEN p.key_verdict IN ('unknown', 'depends') THEN p.access || ' (' || p.key_verdict || ')' END,
                   '; ') AS undecided,
        -- the fix that covers every access (writes need more operations than reads)
        arg_max(p.fix_statement, len(p.missing_operations)) AS fix_statement, min(p.key_arn) AS key_arn,
        string_agg(DISTINCT CASE WHEN p.key_verdict = 'allow' THEN p.key_decided_by END, ', ') AS admitted_by
    FROM aws_s3_bucket_access_paths p WHERE p.path = 'owner'
    GROUP BY p.bucket_arn
)
SELECT b.arn AS resource_arn, b.account_id, b.region,
    CASE
        WHEN e.sse_algorithm IS NULL THEN 'error'
        WHEN o.bucket_arn IS NULL THEN 'skip'
        WHEN o.failing IS NOT NULL THEN 'fail'
        WHEN o.undecided IS NOT NULL THEN 'error'
        ELSE 'pass'
    END AS status,
    CASE
        WHEN e.sse_algorithm IS NULL THEN 'The bucket''s default encryption could not be read (see aws_encryption_sync_errors).'
        WHEN o.bucket_arn IS NULL THEN 'The bucket''s key (if any) is in its own account.'
        WHEN o.failing IS NOT NULL THEN
            'The default encryption uses key ' || o.key_arn || ' of account ' || coalesce(e.key_account_id, '?') ||
            ', which does not admit the bucket''s own account ' || b.account_id || ' through S3 (' || o.failing ||
            '): reads and writes fail with AccessDenied from KMS.' ||
            coalesce(' Fix: add to the key policy ' || replace(replace(o.fix_statement, chr(10), ' '), '  ', ''), '')
        WHEN o.undecided IS NOT NULL THEN
            'The default encryption uses key ' || o.key_arn || ' of account ' || coalesce(e.key_account_id, '?') ||
            '; whether it admits account ' || b.account_id || ' is unknown: ' || o.undecided || '.'
        ELSE 'Key ' || o.key_arn || ' of account ' || coalesce(e.key_account_id, '?') || ' admits account ' ||
            b.account_id || ' through S3' || coalesce(' (statement ' || o.admitted_by || ')', '') || '.'
    END AS reason
FROM aws_s3_buckets b
LEFT JOIN aws_s3_bucket_encryption_keys e ON e.bucket_arn = b.arn
LEFT JOIN owner o ON o.bucket_arn = b.arn
