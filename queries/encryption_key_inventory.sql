-- id: encryption_key_inventory
-- title: Inventory of keys, and of the encryption of buckets, secrets, queues, topics, snapshots, AMIs and backup vaults, by key type
-- severity: info
-- resource_type: AwsKmsKey, AwsS3Bucket
-- description: Every KMS key, and the key of every bucket (default encryption), secret, queue, topic, EBS
--   snapshot, AMI (its root device), RDS DB or cluster snapshot and backup vault, mapped to the key types of aws_encryption_key_types
--   (customer managed with AWS, external or custom key store material; AWS managed; AWS owned), with
--   what each type allows, or "not encrypted". Informational: every row is a pass, or an error when the
--   key's type is unknown.
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
UNION ALL
SELECT r.arn, r.account_id, r.region,
    CASE WHEN r.state = 'kms' AND coalesce(kb.key_type, ka.key_type, ki.key_type, r.implied) IS NULL THEN 'error'
         ELSE 'pass' END,
    CASE WHEN r.state = 'none' THEN r.what || ' not encrypted with KMS.'
         WHEN r.state = 'aws_owned' THEN r.what || ' encrypted with an AWS owned key (SSE-SQS).'
         WHEN coalesce(kb.key_type, ka.key_type, ki.key_type, r.implied) IS NULL THEN
             r.what || ' encrypted with key ' || r.ref || ', whose type is unknown (not described by the sync: '
             || 'another account, or no permission).'
         ELSE r.what || ' encrypted with ' || coalesce(t.name, coalesce(kb.key_type, ka.key_type, ki.key_type, r.implied))
              || ' (' || coalesce(kb.arn, ka.arn, ki.arn, r.ref) || ').' END,
    coalesce(kb.key_type, ka.key_type, ki.key_type, r.implied,
             CASE WHEN r.state = 'aws_owned' THEN 'aws_owned' END),
    coalesce(kb.key_manager, ka.key_manager, ki.key_manager), coalesce(kb.origin, ka.origin, ki.origin),
    coalesce(kb.key_state, ka.key_state, ki.key_state), coalesce(kb.arn, ka.arn, ki.arn)
FROM (
  -- implied: a service default alias (aws/<service>) names an AWS managed key, described or not
  SELECT r0.*, CASE WHEN r0.state = 'kms' AND (r0.ref LIKE 'alias/aws/%' OR r0.ref LIKE 'arn:%:alias/aws/%')
                    THEN 'aws_managed' END AS implied
  FROM (
    -- state: kms | aws_owned | none; ref: the key as configured, or the service's default alias
    SELECT arn, account_id, region, 'Secret' AS what, 'kms' AS state,
           coalesce(kms_key_id, 'alias/aws/secretsmanager') AS ref FROM aws_secretsmanager_secrets
    UNION ALL
    SELECT arn, account_id, region, 'Queue',
           CASE WHEN kms_master_key_id IS NOT NULL THEN 'kms' WHEN sqs_managed_sse_enabled THEN 'aws_owned'
                ELSE 'none' END, kms_master_key_id FROM aws_sqs_queues
    UNION ALL
    SELECT arn, account_id, region, 'Topic', CASE WHEN kms_master_key_id IS NOT NULL THEN 'kms' ELSE 'none' END,
           kms_master_key_id FROM aws_sns_topics
    UNION ALL
    SELECT arn, account_id, region, 'EBS snapshot', CASE WHEN encrypted THEN 'kms' ELSE 'none' END,
           coalesce(kms_key_id, 'alias/aws/ebs') FROM aws_ec2_ebs_snapshots
    UNION ALL
    SELECT arn, account_id, region, 'RDS DB snapshot', CASE WHEN encrypted THEN 'kms' ELSE 'none' END,
           coalesce(kms_key_id, 'alias/aws/rds') FROM aws_rds_db_snapshots
    UNION ALL
    SELECT arn, account_id, region, 'RDS DB cluster snapshot', CASE WHEN storage_encrypted THEN 'kms' ELSE 'none' END,
           coalesce(kms_key_id, 'alias/aws/rds') FROM aws_rds_cluster_snapshots
    UNION ALL
    SELECT arn, account_id, region, 'Backup vault', 'kms', coalesce(encryption_key_arn, 'alias/aws/backup')
    FROM aws_backup_vaults
    UNION ALL
    -- an AMI: its root device's EBS mapping
    SELECT arn, account_id, region, 'AMI', CASE WHEN root->>'$.Ebs.Encrypted' = 'true' THEN 'kms' ELSE 'none' END,
           coalesce(root->>'$.Ebs.KmsKeyId', 'alias/aws/ebs')
    FROM (SELECT i.*, (SELECT m FROM unnest(CAST(i.block_device_mappings AS JSON[])) AS t(m)
                       WHERE m->>'$.DeviceName' = i.root_device_name LIMIT 1) AS root FROM aws_ec2_images i)
  ) r0
) r
-- by key ARN, by alias (name or ARN) in the resource's account and Region, by key id there
LEFT JOIN aws_kms_keys kb ON r.state = 'kms' AND kb.arn = r.ref
LEFT JOIN aws_kms_aliases al ON r.state = 'kms' AND (al.alias_arn = r.ref OR (al.alias_name = r.ref
          AND al.account_id = r.account_id AND al.region = r.region))
LEFT JOIN aws_kms_keys ka ON ka.key_id = al.target_key_id AND ka.account_id = al.account_id AND ka.region = al.region
LEFT JOIN aws_kms_keys ki ON r.state = 'kms' AND ki.key_id = r.ref AND ki.account_id = r.account_id
          AND ki.region = r.region
LEFT JOIN aws_encryption_key_types t ON t.key_type = coalesce(kb.key_type, ka.key_type, ki.key_type, r.implied)
