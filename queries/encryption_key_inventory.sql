-- id: encryption_key_inventory
-- title: Inventory of keys and bucket encryption by key type
-- severity: info
-- resource_type: AwsKmsKey, AwsS3Bucket
-- description: Every KMS key and every bucket's default-encryption key, mapped to the key types of
--   aws_encryption_key_types (customer managed with AWS, external or custom key store material; AWS
--   managed; AWS owned), with what each type allows. Informational: every row is a pass.
-- risk: None by itself; it shows which data depends on keys that can't be shared or rotated.
-- remediation: None.
-- references: https://docs.aws.amazon.com/kms/latest/developerguide/concepts.html#key-mgmt
SELECT k.arn AS resource_arn, k.account_id, k.region,
    CASE WHEN k.key_type IS NULL THEN 'error' ELSE 'pass' END AS status,
    CASE WHEN k.key_type IS NULL THEN 'The key could not be described (see aws_encryption_sync_errors).'
         ELSE 'KMS key: ' || t.name || ' (' || coalesce(k.key_spec, '?') || ', ' || coalesce(k.key_state, '?') ||
              '); cross-account use: ' || t.multi_account_access || ', automatic rotation: ' || t.automatic_rotation || '.'
    END AS reason,
    k.key_type, k.key_manager, k.origin, k.key_state, CAST(NULL AS VARCHAR) AS key_arn
FROM aws_kms_keys k
LEFT JOIN aws_encryption_key_types t ON t.key_type = k.key_type
UNION ALL
SELECT b.arn, b.account_id, b.region,
    CASE WHEN e.sse_algorithm IS NULL OR e.key_type IS NULL THEN 'error' ELSE 'pass' END,
    CASE WHEN e.sse_algorithm IS NULL THEN 'The bucket''s default encryption could not be read (see aws_encryption_sync_errors).'
         WHEN e.key_type IS NULL THEN 'Bucket encrypted with ' || e.sse_algorithm || ' using key ' ||
              coalesce(e.resolved_key_arn, e.key_reference, '?') || ', whose type is unknown (not described by ' ||
              'the sync: another account, or no permission).'
         ELSE 'Bucket encrypted with ' || e.sse_algorithm || coalesce(' using ' || t.name, '') ||
              coalesce(' (' || e.resolved_key_arn || ')', '') || '.'
    END,
    e.key_type, e.key_manager, e.key_origin, e.key_state, e.resolved_key_arn
FROM aws_s3_buckets b
LEFT JOIN aws_s3_bucket_encryption_keys e ON e.bucket_arn = b.arn
LEFT JOIN aws_encryption_key_types t ON t.key_type = e.key_type
