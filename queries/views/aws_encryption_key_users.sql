-- aws_encryption_key_users (ours, a view): every synced resource encrypted under a KMS key, one row per
-- (key, resource): bucket default encryption (its resolved key), secrets, queues, topics, EBS and RDS
-- snapshots, AMIs (every encrypted volume) and backup vaults, each naming the key by ARN (anywhere) or
-- by key id or alias (in its own account and Region). Resources the sync does not read, and data that
-- applications encrypted themselves, are not in it.
CREATE OR REPLACE TEMP VIEW aws_encryption_key_users AS
WITH names AS (
    -- every name a key is known by: its ARN and id, and its aliases (name and ARN)
    SELECT arn AS key_arn, account_id, region, arn AS name FROM aws_kms_keys
    UNION ALL SELECT arn, account_id, region, key_id FROM aws_kms_keys
    UNION ALL SELECT k.arn, k.account_id, k.region, unnest([a.alias_name, a.alias_arn]) FROM aws_kms_aliases a
        JOIN aws_kms_keys k ON k.key_id = a.target_key_id AND k.account_id = a.account_id AND k.region = a.region
),
refs AS (
    SELECT bucket_arn AS resource_arn, 'S3 bucket' AS resource_type, account_id, bucket_region AS region,
           resolved_key_arn AS ref FROM aws_s3_bucket_encryption_keys
    UNION ALL SELECT arn, 'secret', account_id, region, kms_key_id FROM aws_secretsmanager_secrets
    UNION ALL SELECT arn, 'queue', account_id, region, kms_master_key_id FROM aws_sqs_queues
    UNION ALL SELECT arn, 'topic', account_id, region, kms_master_key_id FROM aws_sns_topics
    UNION ALL SELECT arn, 'EBS snapshot', account_id, region, kms_key_id FROM aws_ec2_ebs_snapshots
    UNION ALL SELECT arn, 'RDS DB snapshot', account_id, region, kms_key_id FROM aws_rds_db_snapshots
    UNION ALL SELECT arn, 'RDS DB cluster snapshot', account_id, region, kms_key_id FROM aws_rds_cluster_snapshots
    UNION ALL SELECT arn, 'backup vault', account_id, region, encryption_key_arn FROM aws_backup_vaults
    UNION ALL SELECT arn, 'AMI', account_id, region, m->>'$.Ebs.KmsKeyId'
        FROM (SELECT arn, account_id, region, unnest(CAST(block_device_mappings AS JSON[])) AS m FROM aws_ec2_images)
)
SELECT DISTINCT n.key_arn, r.resource_arn, r.resource_type, r.account_id, r.region, r.ref AS key_reference
FROM refs r JOIN names n ON n.name = r.ref AND (r.ref LIKE 'arn:%' OR (n.account_id = r.account_id AND n.region = r.region))
WHERE r.ref IS NOT NULL
