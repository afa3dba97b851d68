-- id: kms_key_external_admin
-- title: No account outside the trusted set can take over a KMS key (change its policy, grant it, or delete it)
-- severity: critical
-- resource_type: AwsKmsKey
-- description: A key policy statement or grant that lets an account that is not the key's account, not a
--   synced account and not in trusted_accounts call kms:PutKeyPolicy, kms:CreateGrant or
--   kms:ScheduleKeyDeletion (or kms:*) hands that account the key itself: it can rewrite the policy to lock
--   the owner out, give the key to anyone through grants, or schedule its deletion, after which everything
--   encrypted under it is lost. Use of the key (kms:Decrypt ...) is kms_key_external_access. A CreateGrant
--   constrained to grants for AWS resources (kms:GrantIsForAWSResource true), which AWS documents for
--   letting another account's EBS or RDS use a key, is use, not takeover.
-- risk: Another account can lock the owner out of the key, or destroy it and the data encrypted under it.
-- remediation: Remove those actions from the statement (keep the use actions the account needs, and
--   CreateGrant only with kms:GrantIsForAWSResource), or retire the grant.
-- remediation_cli: aws kms put-key-policy --key-id <key-arn> --policy-name default --policy file://policy.json
-- references: https://docs.aws.amazon.com/kms/latest/developerguide/key-policy-modifying-external-accounts.html, https://docs.aws.amazon.com/kms/latest/developerguide/key-policy-default.html#key-policy-default-allow-administrators, https://docs.aws.amazon.com/kms/latest/developerguide/conditions-kms.html#conditions-kms-grant-is-for-aws-resource
-- compliance: AWS Security Hub: KMS.5 (extended to key administration by named accounts)
-- peers: prowler kms_key_not_publicly_accessible (public only); IAM Access Analyzer (external access, not the actions)
WITH takeover AS (
    SELECT key_arn,
        string_agg(DISTINCT coalesce(principal_account, principal) || ' may ' ||
            concat_ws(', ', CASE WHEN allows_put_key_policy THEN 'kms:PutKeyPolicy' END,
                      CASE WHEN allows_create_grant AND NOT coalesce(CAST(conditions AS VARCHAR) ILIKE
                           '%kms:GrantIsForAWSResource%true%', false) THEN 'kms:CreateGrant' END,
                      CASE WHEN allows_schedule_key_deletion THEN 'kms:ScheduleKeyDeletion' END) ||
            ' (' || source || ' ' || statement_id || ')', '; ') AS detail
    FROM aws_kms_key_permissions
    WHERE effect = 'Allow' AND is_external AND (allows_put_key_policy OR allows_schedule_key_deletion OR
          (allows_create_grant AND NOT coalesce(CAST(conditions AS VARCHAR) ILIKE '%kms:GrantIsForAWSResource%true%',
                                                false)))
    GROUP BY key_arn
),
unreadable AS (
    SELECT DISTINCT resource_arn AS key_arn FROM aws_encryption_sync_errors WHERE operation IN ('GetKeyPolicy', 'ListGrants')
    UNION
    SELECT key_arn FROM aws_kms_key_permissions WHERE policy_error IS NOT NULL
    UNION
    SELECT k.arn FROM aws_kms_keys k WHERE NOT EXISTS (SELECT 1 FROM aws_kms_key_policies p WHERE p.key_arn = k.arn)
)
SELECT k.arn AS resource_arn, k.account_id, k.region,
    CASE WHEN t.key_arn IS NOT NULL THEN 'fail'
         WHEN k.key_manager = 'AWS' THEN 'skip'
         WHEN k.arn IN (SELECT key_arn FROM unreadable) THEN 'error'
         ELSE 'pass' END AS status,
    CASE WHEN t.key_arn IS NOT NULL THEN
             'Accounts outside the trusted set can take over key ' || k.arn || ': ' || t.detail ||
             '. Fix: remove those actions from the key policy statements (aws kms get-key-policy --key-id ' ||
             k.arn || ' --policy-name default, edit, then aws kms put-key-policy --key-id ' || k.arn ||
             ' --policy-name default --policy file://policy.json) and retire those grants (aws kms retire-grant ' ||
             '--key-id ' || k.arn || ' --grant-id <grant id>); an account that is yours belongs in trusted_accounts.'
         WHEN k.key_manager = 'AWS' THEN 'AWS managed key: its policy is AWS''s and admits no other account.'
         WHEN k.arn IN (SELECT key_arn FROM unreadable) THEN
             'The key policy or grants could not be read or analysed (see aws_encryption_sync_errors and ' ||
             'aws_kms_key_permissions.policy_error), so who may administer the key is unknown.'
         ELSE 'No account outside the trusted set may change the key policy, create unconstrained grants or '
              || 'schedule the key''s deletion.' END AS reason
FROM aws_kms_keys k LEFT JOIN takeover t ON t.key_arn = k.arn
