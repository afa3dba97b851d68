-- id: snapshot_public
-- title: EBS and RDS snapshots and AMIs are not shared with everyone
-- severity: critical
-- resource_type: AwsEc2Snapshot
-- description: An EBS snapshot whose createVolumePermission, an AMI whose launchPermission, or an RDS DB or
--   cluster snapshot whose restore attribute includes "all" can be copied (or launched) by any AWS account. Unencrypted, its data is public; encrypted with a
--   customer managed key, only the key policy stands between it and everyone.
-- risk: Disclosure of the volume or database contents to any AWS account.
-- remediation: Remove "all" from the snapshot's sharing and share it with the accounts that need it.
-- remediation_cli: aws ec2 modify-snapshot-attribute --snapshot-id <snapshot-id> --attribute createVolumePermission --operation-type remove --group-names all
-- references: https://docs.aws.amazon.com/securityhub/latest/userguide/ec2-controls.html, https://docs.aws.amazon.com/securityhub/latest/userguide/rds-controls.html
-- compliance: AWS Security Hub: EC2.1; AWS Security Hub: RDS.1
-- peers: prowler ec2_ebs_public_snapshot; prowler ec2_ami_public; prowler rds_snapshots_public_access; steampipe ebs_snapshot_not_publicly_restorable; steampipe rds_db_snapshot_prohibit_public_access
WITH paths AS (
    SELECT resource_arn, principal_type, key_type, key_arn, reason FROM aws_ec2_ebs_snapshot_access_paths
    UNION ALL SELECT resource_arn, principal_type, key_type, key_arn, reason FROM aws_ec2_image_access_paths
    UNION ALL SELECT resource_arn, principal_type, key_type, key_arn, reason FROM aws_rds_db_snapshot_access_paths
    UNION ALL SELECT resource_arn, principal_type, key_type, key_arn, reason FROM aws_rds_cluster_snapshot_access_paths
),
resources AS (
    -- what it is, and the command that takes "all" off it
    SELECT arn, account_id, region, 'EBS snapshot' AS what, 'aws ec2 modify-snapshot-attribute --snapshot-id ' ||
           snapshot_id || ' --attribute createVolumePermission --operation-type remove --group-names all' AS unshare
    FROM aws_ec2_ebs_snapshots
    UNION ALL SELECT arn, account_id, region, 'AMI', 'aws ec2 modify-image-attribute --image-id ' || image_id ||
           ' --launch-permission "Remove=[{Group=all}]"' FROM aws_ec2_images
    UNION ALL SELECT arn, account_id, region, 'RDS DB snapshot', 'aws rds modify-db-snapshot-attribute ' ||
           '--db-snapshot-identifier ' || db_snapshot_identifier || ' --attribute-name restore --values-to-remove all'
    FROM aws_rds_db_snapshots
    UNION ALL SELECT arn, account_id, region, 'RDS DB cluster snapshot', 'aws rds modify-db-cluster-snapshot-attribute ' ||
           '--db-cluster-snapshot-identifier ' || db_cluster_snapshot_identifier ||
           ' --attribute-name restore --values-to-remove all' FROM aws_rds_cluster_snapshots
),
per_resource AS (
    SELECT resource_arn, bool_or(principal_type = 'public') AS public,
        string_agg(CASE WHEN principal_type = 'unknown' THEN reason END, ' ' ORDER BY reason) AS unread,
        any_value(key_type) AS key_type, any_value(key_arn) AS key_arn
    FROM paths GROUP BY resource_arn
)
SELECT r.arn AS resource_arn, r.account_id, r.region,
    CASE WHEN p.unread IS NOT NULL THEN 'error' WHEN p.public THEN 'fail' ELSE 'pass' END AS status,
    CASE WHEN p.unread IS NOT NULL THEN p.unread || '.'
         WHEN p.public THEN 'The ' || r.what || ' is shared with everyone ("all"): any AWS account may use it' ||
             CASE WHEN p.key_type = 'none' THEN ', and it is not encrypted: its data is public'
                  ELSE ' (encrypted with ' || coalesce(p.key_arn, p.key_type, '?') || ': only that key''s policy keeps '
                       || 'other accounts out)' END || '. Fix: ' || r.unshare || ' --region ' || r.region ||
             ', then share it with the accounts that need it.'
         ELSE 'Not shared with everyone.' END AS reason
FROM resources r LEFT JOIN per_resource p ON p.resource_arn = r.arn
