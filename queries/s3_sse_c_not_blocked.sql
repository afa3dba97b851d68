-- id: s3_sse_c_not_blocked
-- title: Buckets block SSE-C (customer-provided keys)
-- severity: low
-- resource_type: AwsS3Bucket
-- description: Neither the bucket's default encryption rule (BlockedEncryptionTypes listing SSE-C) nor its
--   bucket policy blocks SSE-C, so writers can encrypt objects with keys S3 never stores. A bucket policy
--   blocks it with a Deny for every principal of s3:PutObject (which also authorises copies and multipart
--   uploads) on all the bucket's objects whose only condition is that the
--   s3:x-amz-server-side-encryption-customer-algorithm header is present (Null false, or the AES256 it
--   always carries). What could not be read, while nothing read blocks SSE-C, is an error.
-- risk: Objects encrypted with SSE-C are unreadable without the writer's key; ransomware has used this
--   to lock data. New buckets block SSE-C by default since April 2026; older ones do not.
-- remediation: Add BlockedEncryptionTypes {"EncryptionType": ["SSE-C"]} to the default encryption rule, or
--   a bucket policy statement denying s3:PutObject when the SSE-C header is present.
-- remediation_cli: aws s3api put-bucket-encryption --bucket <bucket> --server-side-encryption-configuration '{"Rules":[{"ApplyServerSideEncryptionByDefault":{"SSEAlgorithm":"aws:kms","KMSMasterKeyID":"<key-arn>"},"BucketKeyEnabled":true,"BlockedEncryptionTypes":{"EncryptionType":["SSE-C"]}}]}'
-- references: https://docs.aws.amazon.com/AmazonS3/latest/userguide/blocking-unblocking-s3-c-encryption-gpb.html, https://docs.aws.amazon.com/AmazonS3/latest/userguide/ServerSideEncryptionCustomerKeys.html, https://docs.aws.amazon.com/AmazonS3/latest/userguide/list_amazons3.html#amazons3-policy-keys
-- peers: none
WITH rules AS (
    SELECT bucket_arn, bool_or(coalesce(CAST(blocked_encryption_types AS VARCHAR), '') LIKE '%SSE-C%') AS blocked,
           any_value(apply_server_side_encryption_by_default) AS by_default, bool_or(bucket_key_enabled) AS bucket_key
    FROM aws_s3_bucket_encryption_rules GROUP BY bucket_arn
),
stmts AS (SELECT * FROM aws_encryption_bucket_policy_statements),
conds AS (
    -- the statement's only condition: the SSE-C algorithm header is present
    SELECT bucket_arn, idx, count(*) AS n,
           bool_and(k = 's3:x-amz-server-side-encryption-customer-algorithm' AND (
               (op = 'null' AND list_contains(vals, 'false'))
               OR (op IN ('stringequals', 'stringequalsignorecase', 'stringlike') AND list_contains(vals, 'aes256'))
               OR (op = 'stringlike' AND list_contains(vals, '*')))) AS only_ssec
    FROM (SELECT s.bucket_arn, s.idx, lower(o.key) AS op, lower(k.key) AS k,
                 CASE WHEN json_type(k.value) = 'ARRAY' THEN from_json(lower(CAST(k.value AS VARCHAR)), '["VARCHAR"]')
                      ELSE [lower(k.value ->> '$')] END AS vals
          FROM stmts s, json_each(s.st -> '$.Condition') o, json_each(o.value) k)
    GROUP BY bucket_arn, idx
),
parsed AS (
    SELECT s.bucket_arn, s.idx, coalesce(s.st ->> '$.Sid', '#' || s.idx) AS sid,
        (s.st ->> '$.Effect') = 'Deny' AND (s.st -> '$.NotPrincipal') IS NULL AND (s.st -> '$.NotAction') IS NULL
            AND ((s.st ->> '$.Principal') = '*' OR list_contains(
                CASE WHEN json_type(s.st -> '$.Principal.AWS') = 'ARRAY' THEN from_json(s.st -> '$.Principal.AWS', '["VARCHAR"]')
                     ELSE [s.st ->> '$.Principal.AWS'] END, '*'))
            AND coalesce(c.n = 1 AND c.only_ssec, false) AS denies_ssec,
        CASE WHEN (s.st -> '$.Action') IS NULL THEN []
             WHEN json_type(s.st -> '$.Action') = 'ARRAY' THEN from_json(lower(CAST(s.st -> '$.Action' AS VARCHAR)), '["VARCHAR"]')
             ELSE [lower(s.st ->> '$.Action')] END AS actions,
        CASE WHEN (s.st -> '$.Resource') IS NULL THEN []
             WHEN json_type(s.st -> '$.Resource') = 'ARRAY' THEN from_json(s.st -> '$.Resource', '["VARCHAR"]')
             ELSE [s.st ->> '$.Resource'] END AS resources
    FROM stmts s LEFT JOIN conds c ON c.bucket_arn = s.bucket_arn AND c.idx = s.idx
),
denying AS (
    -- statements denying SSE-C uploads of every object: Action and Resource patterns (wildcards * and ?) match
    -- s3:PutObject and any object key
    SELECT bucket_arn, string_agg(DISTINCT sid, ', ' ORDER BY sid) AS statements
    FROM (SELECT p.bucket_arn, p.idx, p.sid,
                 bool_or('s3:putobject' LIKE replace(replace(replace(replace(replace(a.action, '\', '\\'), '%', '\%'),
                                                                         '_', '\_'), '*', '%'), '?', '_') ESCAPE '\')
                     AS puts
          FROM parsed p, (SELECT unnest(p.actions) AS action) a
          WHERE p.denies_ssec GROUP BY p.bucket_arn, p.idx, p.sid) acts
    JOIN (SELECT p.bucket_arn, p.idx,
                 bool_or((p.bucket_arn || '/') LIKE g ESCAPE '\' AND (p.bucket_arn || '/any/key.bin') LIKE g ESCAPE '\')
                     AS objects
          FROM parsed p, (SELECT replace(replace(replace(replace(replace(unnest(p.resources), '\', '\\'), '%', '\%'),
                                                         '_', '\_'), '*', '%'), '?', '_') AS g) r
          WHERE p.denies_ssec GROUP BY p.bucket_arn, p.idx) res USING (bucket_arn, idx)
    WHERE puts AND objects
    GROUP BY bucket_arn
),
policy_unread AS (
    SELECT resource_arn, min(error_code) AS code FROM aws_encryption_sync_errors
    WHERE operation = 'GetBucketPolicy' GROUP BY resource_arn
)
SELECT b.arn AS resource_arn, b.account_id, b.region,
    CASE
        WHEN coalesce(r.blocked, false) OR d.bucket_arn IS NOT NULL THEN 'pass'
        WHEN e.sse_algorithm IS NULL OR pu.resource_arn IS NOT NULL THEN 'error'
        WHEN p.bucket_arn IS NOT NULL AND p.policy_json IS NULL THEN 'error'
        ELSE 'fail'
    END AS status,
    CASE
        WHEN coalesce(r.blocked, false) THEN 'SSE-C is blocked by the default encryption rule (BlockedEncryptionTypes).'
        WHEN d.bucket_arn IS NOT NULL THEN 'SSE-C is blocked by bucket policy statement ' || d.statements ||
            ' (Deny s3:PutObject when the x-amz-server-side-encryption-customer-algorithm header is present).'
        WHEN e.sse_algorithm IS NULL THEN 'The bucket''s default encryption could not be read (see aws_encryption_sync_errors).'
        WHEN pu.resource_arn IS NOT NULL THEN 'The bucket policy of ' || b.name || ' could not be read (' || pu.code ||
            ', see aws_encryption_sync_errors), and the default encryption rule does not block SSE-C.'
        WHEN p.bucket_arn IS NOT NULL AND p.policy_json IS NULL THEN 'The bucket policy of ' || b.name ||
            ' is not valid JSON, and the default encryption rule does not block SSE-C.'
        ELSE CASE WHEN r.bucket_arn IS NULL THEN 'No default encryption rule'
                  ELSE 'The default encryption rule does not block SSE-C' END ||
            ' and no bucket policy statement denies SSE-C uploads, so writers can encrypt objects of ' || b.name ||
            ' with keys S3 never stores. Fix: aws s3api put-bucket-encryption --bucket ' || b.name ||
            ' --server-side-encryption-configuration ''{"Rules":[{"ApplyServerSideEncryptionByDefault":' ||
            coalesce(CAST(r.by_default AS VARCHAR), '{"SSEAlgorithm":"AES256"}') ||
            coalesce(',"BucketKeyEnabled":' || CAST(r.bucket_key AS VARCHAR), '') ||
            ',"BlockedEncryptionTypes":{"EncryptionType":["SSE-C"]}}]}'' (' ||
            CASE WHEN r.bucket_arn IS NULL THEN 'SSE-S3, S3''s default' ELSE 'its current default encryption' END ||
            ', with SSE-C blocked).'
    END AS reason
FROM aws_s3_buckets b
LEFT JOIN aws_s3_bucket_encryption_keys e ON e.bucket_arn = b.arn
LEFT JOIN rules r ON r.bucket_arn = b.arn
LEFT JOIN aws_s3_bucket_policies p ON p.bucket_arn = b.arn
LEFT JOIN denying d ON d.bucket_arn = b.arn
LEFT JOIN policy_unread pu ON pu.resource_arn = b.arn
