-- id: s3_bucket_tls_not_required
-- title: Bucket policies require requests to use TLS
-- severity: medium
-- resource_type: AwsS3Bucket
-- description: S3 accepts plain HTTP unless the bucket policy refuses it. A bucket passes when its policy
--   has Deny statements for every principal ("*" or {"AWS": "*"}), for s3:* (or *), on the bucket and
--   on all its objects, whose only condition is aws:SecureTransport false (Bool or BoolIfExists), the
--   statement AWS documents for Security Hub S3.5 (the bucket and its objects may be in two statements).
--   A Deny narrowed by another condition, to some actions or principals, or by NotAction, NotPrincipal
--   or NotResource does not count. A policy that could not be read is an error.
-- risk: Requests over HTTP carry object data, and the responses, unencrypted: anyone on the network path
--   can read or alter them.
-- remediation: Add a Deny statement for "Principal": "*", "Action": "s3:*", "Resource": [the bucket ARN,
--   the bucket ARN + "/*"] with "Condition": {"Bool": {"aws:SecureTransport": "false"}} to the bucket
--   policy. put-bucket-policy replaces the whole policy: add the statement to the existing one.
-- remediation_cli: aws s3api put-bucket-policy --bucket <bucket> --policy '{"Version":"2012-10-17","Statement":[{"Sid":"DenyInsecureTransport","Effect":"Deny","Principal":"*","Action":"s3:*","Resource":["arn:aws:s3:::<bucket>","arn:aws:s3:::<bucket>/*"],"Condition":{"Bool":{"aws:SecureTransport":"false"}}}]}'
-- references: https://docs.aws.amazon.com/securityhub/latest/userguide/s3-controls.html#s3-5, https://docs.aws.amazon.com/AmazonS3/latest/userguide/security-best-practices.html, https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html
-- compliance: CIS AWS Foundations 3.0.0: 2.1.1; AWS Security Hub: S3.5; PCI DSS 4.0: 4.2.1
-- peers: prowler s3_bucket_secure_transport_policy; steampipe s3_bucket_enforces_ssl; AWS Config s3-bucket-ssl-requests-only
WITH stmts AS (SELECT * FROM aws_encryption_bucket_policy_statements),
conds AS (
    -- one row per statement that has conditions: how many, and whether aws:SecureTransport false is all
    SELECT s.bucket_arn, s.idx, count(*) AS n,
           bool_and(lower(o.key) IN ('bool', 'boolifexists') AND lower(k.key) = 'aws:securetransport'
                    AND list_contains(CASE WHEN json_type(k.value) = 'ARRAY'
                                           THEN from_json(lower(CAST(k.value AS VARCHAR)), '["VARCHAR"]')
                                           ELSE [lower(k.value ->> '$')] END, 'false')) AS only_tls,
           bool_or(lower(k.key) = 'aws:securetransport') AS mentions_tls
    FROM stmts s, json_each(s.st -> '$.Condition') o, json_each(o.value) k
    GROUP BY s.bucket_arn, s.idx
),
parsed_raw AS (
    SELECT s.bucket_arn, s.idx, coalesce(s.st ->> '$.Sid', '#' || s.idx) AS sid,
        (s.st ->> '$.Effect') = 'Deny' AS deny,
        (s.st -> '$.NotPrincipal') IS NULL AND ((s.st ->> '$.Principal') = '*' OR list_contains(
            CASE WHEN json_type(s.st -> '$.Principal.AWS') = 'ARRAY' THEN from_json(s.st -> '$.Principal.AWS', '["VARCHAR"]')
                 ELSE [s.st ->> '$.Principal.AWS'] END, '*')) AS all_principals,
        CASE WHEN (s.st -> '$.Action') IS NULL THEN []
             WHEN json_type(s.st -> '$.Action') = 'ARRAY' THEN from_json(s.st -> '$.Action', '["VARCHAR"]')
             ELSE [s.st ->> '$.Action'] END AS actions,
        CASE WHEN (s.st -> '$.Resource') IS NULL THEN []
             WHEN json_type(s.st -> '$.Resource') = 'ARRAY' THEN from_json(s.st -> '$.Resource', '["VARCHAR"]')
             ELSE [s.st ->> '$.Resource'] END AS resources,
        coalesce(c.n = 1 AND c.only_tls, false) AS only_tls, coalesce(c.mentions_tls, false) AS mentions_tls
    FROM stmts s LEFT JOIN conds c ON c.bucket_arn = s.bucket_arn AND c.idx = s.idx
),
parsed AS (
    -- action names are case-insensitive
    SELECT *, list_contains(string_split(lower(array_to_string(actions, ',')), ','), 's3:*')
              OR list_contains(string_split(lower(array_to_string(actions, ',')), ','), '*') AS all_actions
    FROM parsed_raw
),
covered AS (
    -- the policy's Resource patterns (IAM wildcards * and ?) against the bucket and any object of it
    SELECT bucket_arn, idx, bool_or(bucket_arn LIKE pat ESCAPE '\') AS bucket,
           bool_or((bucket_arn || '/') LIKE pat ESCAPE '\' AND (bucket_arn || '/any/key.bin') LIKE pat ESCAPE '\') AS objects
    FROM (SELECT bucket_arn, idx, replace(replace(replace(replace(replace(unnest(resources), '\', '\\'), '%', '\%'),
                                                          '_', '\_'), '*', '%'), '?', '_') AS pat
          FROM parsed)
    GROUP BY bucket_arn, idx
),
judged AS (
    SELECT p.*, coalesce(c.bucket, false) AS on_bucket, coalesce(c.objects, false) AS on_objects,
           p.deny AND p.all_principals AND p.only_tls AND p.all_actions AS denies_http
    FROM parsed p LEFT JOIN covered c ON c.bucket_arn = p.bucket_arn AND c.idx = p.idx
),
per_bucket AS (
    SELECT bucket_arn,
        bool_or(denies_http AND on_bucket) AS bucket_ok, bool_or(denies_http AND on_objects) AS objects_ok,
        nullif(array_to_string(list_sort(list_distinct(list(CASE WHEN denies_http AND (on_bucket OR on_objects)
                                                                   THEN sid END))), ', '), '') AS deciding,
        string_agg(CASE WHEN deny AND mentions_tls AND NOT (denies_http AND on_bucket AND on_objects) THEN
            'statement ' || sid || ' denies plain HTTP but ' || concat_ws(', ',
                CASE WHEN NOT all_principals THEN 'not for every principal' END,
                CASE WHEN NOT all_actions
                     THEN 'only for ' || coalesce(nullif(array_to_string(actions, ', '), ''), 'NotAction') END,
                CASE WHEN NOT only_tls THEN 'under other conditions too' END,
                CASE WHEN NOT on_bucket THEN 'not on the bucket itself' END,
                CASE WHEN NOT on_objects THEN 'not on all its objects' END) END, '; ' ORDER BY idx) AS near
    FROM judged GROUP BY bucket_arn
),
unread AS (
    SELECT resource_arn, min(error_code) AS code FROM aws_encryption_sync_errors
    WHERE operation = 'GetBucketPolicy' GROUP BY resource_arn
)
SELECT b.arn AS resource_arn, b.account_id, b.region,
    CASE
        WHEN u.resource_arn IS NOT NULL THEN 'error'
        WHEN p.bucket_arn IS NOT NULL AND p.policy_json IS NULL THEN 'error'
        WHEN pb.bucket_ok AND pb.objects_ok THEN 'pass'
        ELSE 'fail'
    END AS status,
    CASE
        WHEN u.resource_arn IS NOT NULL THEN 'The bucket policy of ' || b.name || ' could not be read (' || u.code ||
            ', see aws_encryption_sync_errors), so whether it refuses plain HTTP is unknown.'
        WHEN p.bucket_arn IS NOT NULL AND p.policy_json IS NULL THEN
            'The bucket policy of ' || b.name || ' is not valid JSON, so whether it refuses plain HTTP is unknown.'
        WHEN pb.bucket_ok AND pb.objects_ok THEN 'The bucket policy of ' || b.name || ' denies every request over ' ||
            'plain HTTP (aws:SecureTransport false) to the bucket and its objects (statement' ||
            CASE WHEN pb.deciding LIKE '%, %' THEN 's ' ELSE ' ' END || pb.deciding || ').'
        ELSE 'Bucket ' || b.name || CASE WHEN p.bucket_arn IS NULL THEN ' has no bucket policy'
                                         ELSE '''s bucket policy has no Deny for aws:SecureTransport false on s3:* for '
                                              || 'every principal on the bucket and all its objects' END ||
            coalesce(' (' || pb.near || ')', '') || ', so S3 accepts requests over plain HTTP. Fix: ' ||
            CASE WHEN p.bucket_arn IS NULL THEN 'aws s3api put-bucket-policy --bucket ' || b.name ||
                     ' --policy ''{"Version":"2012-10-17","Statement":[' ELSE 'add the statement ' END ||
            '{"Sid":"DenyInsecureTransport","Effect":"Deny","Principal":"*","Action":"s3:*","Resource":["' || b.arn ||
            '","' || b.arn || '/*"],"Condition":{"Bool":{"aws:SecureTransport":"false"}}}' ||
            CASE WHEN p.bucket_arn IS NULL THEN ']}''.'
                 ELSE ' to the policy (put-bucket-policy replaces it whole: aws s3api get-bucket-policy --bucket ' ||
                      b.name || ' --query Policy --output text > policy.json, add the statement, then aws s3api ' ||
                      'put-bucket-policy --bucket ' || b.name || ' --policy file://policy.json).' END
    END AS reason
FROM aws_s3_buckets b
LEFT JOIN aws_s3_bucket_policies p ON p.bucket_arn = b.arn
LEFT JOIN per_bucket pb ON pb.bucket_arn = b.arn
LEFT JOIN unread u ON u.resource_arn = b.arn
