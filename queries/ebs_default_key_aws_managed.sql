-- id: ebs_default_key_aws_managed
-- title: Regions that share EBS snapshots or AMIs encrypt new volumes with a customer managed key
-- severity: low
-- resource_type: AwsEc2Volume
-- description: Where an account shares EBS snapshots or AMIs with other accounts, the Region's EBS default key
--   (GetEbsDefaultKmsKeyId) decides what every new volume, and so every later snapshot and AMI, is encrypted
--   with when no key is named. If it is the AWS managed aws/ebs key, none of them can be used by the accounts
--   they are shared with. Regions that share nothing pass.
-- risk: The next snapshot or AMI shared for disaster recovery or a deployment pipeline can't be restored or
--   launched by the other account.
-- remediation: Set a customer managed key that admits the accounts you share with as the Region's EBS default.
-- remediation_cli: aws ec2 modify-ebs-default-kms-key-id --kms-key-id <customer-managed-key-arn> --region <region>
-- references: https://docs.aws.amazon.com/ebs/latest/userguide/work-with-ebs-encr.html, https://docs.aws.amazon.com/ebs/latest/userguide/ebs-encryption.html
-- peers: none (Security Hub EC2.7 and Prowler check only that encryption by default is on)
WITH shares AS (
    SELECT account_id, region, count(DISTINCT resource_arn) AS shared,
           string_agg(DISTINCT principal_label, ', ' ORDER BY principal_label) AS whom
    FROM (SELECT account_id, region, resource_arn, principal_label, principal_type FROM aws_ec2_ebs_snapshot_access_paths
          UNION ALL
          SELECT account_id, region, resource_arn, principal_label, principal_type FROM aws_ec2_image_access_paths)
    WHERE principal_type <> 'unknown'
    GROUP BY account_id, region
),
keyed AS (
    SELECT c.*, coalesce(k.key_type, ka.key_type,
                         CASE WHEN c.ebs_default_kms_key_id LIKE '%:alias/aws/ebs' OR c.ebs_default_kms_key_id = 'alias/aws/ebs'
                              THEN 'aws_managed' END) AS key_type
    FROM aws_ec2_regional_configs c
    LEFT JOIN aws_kms_keys k ON k.arn = c.ebs_default_kms_key_id
    LEFT JOIN aws_kms_aliases al ON al.alias_arn = c.ebs_default_kms_key_id
    LEFT JOIN aws_kms_keys ka ON ka.key_id = al.target_key_id AND ka.account_id = al.account_id AND ka.region = al.region
),
unread AS (
    SELECT account_id, region, any_value(error_code) AS code FROM aws_encryption_sync_coverage
    WHERE table_name = 'aws_ec2_regional_configs' AND status = 'error' GROUP BY account_id, region
)
SELECT 'arn:aws:ec2:' || k.region || ':' || k.account_id || ':ebs-default-key' AS resource_arn, k.account_id, k.region,
    CASE WHEN s.shared IS NULL THEN 'pass' WHEN k.key_type = 'aws_managed' THEN 'fail'
         WHEN k.key_type IS NULL THEN 'error' ELSE 'pass' END AS status,
    CASE WHEN s.shared IS NULL THEN 'No EBS snapshot or AMI of this Region is shared with another account.'
         WHEN k.key_type = 'aws_managed' THEN 'The Region''s EBS default key is the AWS managed aws/ebs (' ||
             k.ebs_default_kms_key_id || CASE WHEN k.ebs_encryption_enabled_by_default THEN ', encryption by default on'
             ELSE '' END || '), while ' || s.shared || ' snapshot(s) or AMI(s) are shared with ' || s.whom ||
             ': new volumes, and the snapshots and AMIs made from them, get a key those accounts can''t use. Fix: aws ec2 '
             || 'modify-ebs-default-kms-key-id --kms-key-id <customer-managed-key-arn> --region ' || k.region || '.'
         WHEN k.key_type IS NULL THEN 'The Region''s EBS default key ' || k.ebs_default_kms_key_id ||
             ' is of unknown type (not described by the sync).'
         ELSE 'The Region''s EBS default key is ' || k.key_type || ' (' || k.ebs_default_kms_key_id || ').' END AS reason
FROM keyed k LEFT JOIN shares s ON s.account_id = k.account_id AND s.region = k.region
UNION ALL
SELECT 'arn:aws:ec2:' || region || ':' || account_id || ':ebs-default-key', account_id, region, 'error',
    'The Region''s EBS encryption defaults could not be read (' || code || ').'
FROM unread
