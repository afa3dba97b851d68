-- id: snapshot_shared_key_unusable
-- title: EBS and RDS snapshots and AMIs shared with other accounts are under a key those accounts can use
-- severity: medium
-- resource_type: AwsEc2Snapshot
-- description: An EBS snapshot (createVolumePermission), AMI (launchPermission: the keys of its volumes'
--   snapshots) or RDS DB or cluster snapshot (restore attribute) shared with another account is of use to it
--   only if that account may use the KMS key: an AWS managed
--   key (aws/ebs, aws/rds) admits only its own account, and a customer managed key must admit the account
--   (kms:CreateGrant and kms:DescribeKey through the service, kms:Decrypt for EBS) in its policy or a
--   grant. The refusal is loud, but late: at restore or copy time, typically during a DR test.
-- risk: The disaster-recovery or migration account can't restore or copy the snapshot when it is needed.
-- remediation: Copy the snapshot under a customer managed key that admits the other account and share the
--   copy (for an AWS managed key the only way), or add the key policy statement the finding renders.
-- remediation_cli: aws ec2 copy-snapshot --source-snapshot-id <snapshot-id> --source-region <region> --encrypted --kms-key-id <customer-managed-key-arn>
-- references: https://docs.aws.amazon.com/ebs/latest/userguide/share-kms-key.html, https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/share-encrypted-snapshot.html
-- peers: none (peers check that snapshots are encrypted or not public, not whether the sharer can use the key)
WITH paths AS (
    SELECT * FROM aws_ec2_ebs_snapshot_access_paths
    UNION ALL BY NAME SELECT * FROM aws_ec2_image_access_paths
    UNION ALL BY NAME SELECT * FROM aws_rds_db_snapshot_access_paths
    UNION ALL BY NAME SELECT * FROM aws_rds_cluster_snapshot_access_paths
),
resources AS (
    SELECT arn, account_id, region FROM aws_ec2_ebs_snapshots
    UNION ALL SELECT arn, account_id, region FROM aws_ec2_images
    UNION ALL SELECT arn, account_id, region FROM aws_rds_db_snapshots
    UNION ALL SELECT arn, account_id, region FROM aws_rds_cluster_snapshots
),
per_resource AS (
    SELECT resource_arn, any_value(key_type) AS key_type, any_value(key_arn) AS key_arn,
        string_agg(CASE WHEN key_verdict IN ('not_allowed', 'deny') THEN
            principal_label || ' gets ' || CASE WHEN key_verdict = 'deny' THEN 'a Deny for ' ELSE 'no ' END ||
            array_to_string(missing_operations, ', ') || ' on ' ||
            CASE WHEN key_type = 'aws_managed' THEN 'the AWS managed key ' || coalesce(key_arn, key_reference, '?') ||
                      ' (it admits only account ' || coalesce(key_account_id, '?') || ')'
                 ELSE 'key ' || coalesce(key_arn, '?') || coalesce(' of ' || key_covers, '') ||
                      coalesce(' (' || key_decided_by || ')', '') END ||
            ': ' || consequence ||
            CASE WHEN key_type = 'aws_managed' THEN coalesce('. Fix: ' || fix_cli, '')
                 WHEN key_verdict = 'deny' THEN '. Fix: narrow key policy statement ' || coalesce(key_decided_by, '?')
                 ELSE coalesce('. Fix: add to the key policy ' || fix_statement, '') || coalesce(' or run ' || fix_cli, '')
            END END, ' | ' ORDER BY principal_label) AS refused,
        string_agg(CASE WHEN principal_type = 'unknown' THEN reason END, ' ' ORDER BY reason) AS unread,
        string_agg(CASE WHEN key_verdict IN ('unknown', 'depends') THEN principal_label END, ', ' ORDER BY principal_label) AS undecided,
        string_agg(CASE WHEN key_verdict IN ('allow', 'not_needed') THEN principal_label END, ', '
                   ORDER BY principal_label) AS usable
    FROM paths GROUP BY resource_arn
)
SELECT r.arn AS resource_arn, r.account_id, r.region,
    CASE WHEN p.unread IS NOT NULL THEN 'error' WHEN p.refused IS NOT NULL THEN 'fail'
         WHEN p.undecided IS NOT NULL THEN 'error' WHEN p.resource_arn IS NULL THEN 'skip' ELSE 'pass' END AS status,
    CASE WHEN p.unread IS NOT NULL THEN p.unread || '.'
         WHEN p.refused IS NOT NULL THEN 'Shared, but ' || p.refused || '.'
         WHEN p.undecided IS NOT NULL THEN 'Whether ' || p.undecided || ' may use key ' || coalesce(p.key_arn, '?') ||
             ' is unknown (its policy or grants were not read, or depend on a condition).'
         WHEN p.resource_arn IS NULL THEN 'Not shared with another account.'
         ELSE 'Shared with ' || p.usable || ', who may use its key (or it is not encrypted).' END AS reason
FROM resources r LEFT JOIN per_resource p ON p.resource_arn = r.arn
