-- id: backup_copy_key_unusable
-- title: Backup vaults that copy to, or take copies from, other accounts are under keys those copies can use
-- severity: medium
-- resource_type: AwsBackupBackupVault
-- description: A cross-account backup copy needs both keys right. The source vault's key must admit the
--   destination account (kms:Decrypt, kms:DescribeKey, kms:CreateGrant through AWS Backup): an AWS managed
--   key (aws/backup, every default vault's) never does, so every copy rule of a backup plan that sends the
--   vault's recovery points to another account fails. A vault whose access policy lets another account copy
--   into it (backup:CopyIntoBackupVault) needs a customer managed key: on aws/backup, AWS Backup refuses the
--   copies of every resource type it does not fully manage (EBS, EC2, RDS, Aurora ...). Recovery points of
--   fully managed types are encrypted with the vault's key; others keep their source resource's (see
--   snapshot_shared_key_unusable).
-- risk: The copy jobs fail and the backups meant to survive the loss of the account or Region do not
--   exist; it is found when they are needed.
-- remediation: Create a vault with a customer managed key (a vault's key can't be changed) that admits the
--   destination account, and point the backup plans and copy rules at it; or add the key policy
--   statement the finding renders.
-- remediation_cli: aws backup create-backup-vault --backup-vault-name <name> --encryption-key-arn <customer-managed-key-arn>
-- references: https://docs.aws.amazon.com/aws-backup/latest/devguide/create-cross-account-backup.html, https://docs.aws.amazon.com/aws-backup/latest/devguide/encryption.html
-- peers: none (peers check that a vault is encrypted or locked, not whether a copy can use its key)
WITH per_vault AS (
    SELECT resource_arn, any_value(key_type) AS key_type, any_value(key_arn) AS key_arn,
        string_agg(CASE WHEN resource_verdict = 'allow' AND key_verdict IN ('not_allowed', 'deny') THEN
            reason || CASE WHEN key_verdict = 'deny' THEN ' Fix: narrow key policy statement ' || coalesce(key_decided_by, '?')
                           WHEN key_type = 'aws_managed' THEN coalesce(' Fix: ' || fix_cli, '')
                           ELSE coalesce(' Fix: add to the key policy ' || fix_statement, '') ||
                                coalesce(' or run ' || fix_cli, '') END END,
                   ' | ' ORDER BY principal_label, access) AS refused,
        string_agg(CASE WHEN principal_type = 'unknown' THEN reason END, ' ' ORDER BY reason) AS unread,
        string_agg(CASE WHEN key_verdict IN ('unknown', 'depends') OR resource_verdict = 'depends' THEN
            principal_label || ' (' || access || ')' END, ', ' ORDER BY principal_label, access) AS undecided,
        string_agg(CASE WHEN resource_verdict = 'allow' AND key_verdict IN ('allow', 'not_needed') THEN
            principal_label || ' (' || access || ')' END, ', ' ORDER BY principal_label, access) AS usable
    FROM aws_backup_vault_access_paths GROUP BY resource_arn
)
SELECT v.arn AS resource_arn, v.account_id, v.region,
    CASE WHEN p.unread IS NOT NULL THEN 'error' WHEN p.refused IS NOT NULL THEN 'fail'
         WHEN p.undecided IS NOT NULL THEN 'error' WHEN p.usable IS NULL THEN 'skip' ELSE 'pass' END AS status,
    CASE WHEN p.unread IS NOT NULL THEN p.unread || '.'
         WHEN p.refused IS NOT NULL THEN p.refused
         WHEN p.undecided IS NOT NULL THEN 'Whether key ' || coalesce(p.key_arn, v.encryption_key_arn, '?') ||
             ' serves the copies of ' || p.undecided || ' is unknown (its policy or grants were not read, or depend '
             || 'on a condition).'
         WHEN p.usable IS NULL THEN 'No copy to or from another account.'
         ELSE 'Cross-account copies work with key ' || coalesce(p.key_arn, v.encryption_key_arn, '?') || ': ' ||
             p.usable || '.' END AS reason
FROM aws_backup_vaults v LEFT JOIN per_vault p ON p.resource_arn = v.arn
