-- id: kms_key_policy_public
-- title: KMS key policies do not admit the public
-- severity: critical
-- resource_type: AwsKmsKey
-- description: A key policy statement allows any principal ("*", an account wildcard or NotPrincipal)
--   without a condition that restricts the caller to fixed accounts, an organisation, a network or a
--   source resource.
-- risk: Anyone with an AWS account can use (or manage) the key, within what the statement allows.
-- remediation: Replace the wildcard principal with the accounts or roles that need the key, or add a
--   restricting condition such as kms:CallerAccount or aws:PrincipalOrgID.
-- remediation_cli: aws kms put-key-policy --key-id <key-arn> --policy-name default --policy file://policy.json
-- references: https://docs.aws.amazon.com/kms/latest/developerguide/key-policies.html, https://docs.aws.amazon.com/kms/latest/developerguide/conditions-kms.html
-- compliance: AWS Security Hub: KMS.5
-- peers: prowler kms_key_not_publicly_accessible; steampipe kms_cmk_policy_prohibit_public_access; AWS Config kms-key-policy-no-public-access
WITH pub AS (
    SELECT key_arn, string_agg(DISTINCT statement_id, ', ' ORDER BY statement_id) AS statements
    FROM aws_kms_key_permissions WHERE source = 'key_policy' AND is_public GROUP BY key_arn
),
bad AS (
    SELECT key_arn, min(policy_error) AS policy_error FROM aws_kms_key_permissions
    WHERE policy_error IS NOT NULL GROUP BY key_arn
)
SELECT k.arn AS resource_arn, k.account_id, k.region,
    CASE
        WHEN p.key_arn IS NOT NULL THEN 'fail'
        WHEN bad.key_arn IS NOT NULL THEN 'error'
        WHEN NOT EXISTS (SELECT 1 FROM aws_kms_key_policies kp WHERE kp.key_arn = k.arn) THEN 'error'
        ELSE 'pass'
    END AS status,
    CASE
        WHEN p.key_arn IS NOT NULL THEN 'Key policy statement(s) ' || p.statements ||
            ' allow any principal with no condition restricting the caller.'
        WHEN bad.key_arn IS NOT NULL THEN 'The key policy could not be analysed: ' || bad.policy_error
        WHEN NOT EXISTS (SELECT 1 FROM aws_kms_key_policies kp WHERE kp.key_arn = k.arn) THEN
            'The key policy could not be read (see aws_encryption_sync_errors).'
        ELSE 'No key policy statement admits the public.'
    END AS reason
FROM aws_kms_keys k
LEFT JOIN pub p ON p.key_arn = k.arn
LEFT JOIN bad ON bad.key_arn = k.arn
