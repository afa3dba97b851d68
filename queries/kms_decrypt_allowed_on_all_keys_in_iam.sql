-- id: kms_decrypt_allowed_on_all_keys_in_iam
-- title: IAM policies do not allow decryption on all KMS keys
-- severity: medium
-- resource_type: AwsIamPolicy
-- description: An identity policy statement (a customer managed policy, or an inline policy of a role,
--   user or group) that allows kms:Decrypt or kms:ReEncryptFrom on every key (Resource "*", a KMS ARN pattern
--   open in both Region and account, or a NotResource that excludes no key) without a Condition lets its principals
--   decrypt anything any key policy delegates to their account's IAM. Statements with a Condition pass,
--   with the condition in the reason to judge. AWS managed policies are left out.
-- risk: Least privilege: a principal that should read one dataset can decrypt every dataset whose key
--   policy enables IAM policies of the account (the default key policy does).
-- remediation: Name the keys the principal needs in Resource, or add a condition (kms:ViaService,
--   aws:ResourceTag, kms:EncryptionContext) that narrows it.
-- references: https://docs.aws.amazon.com/securityhub/latest/userguide/kms-controls.html, https://docs.aws.amazon.com/kms/latest/developerguide/iam-policies-best-practices.html
-- compliance: AWS Security Hub: KMS.1; AWS Security Hub: KMS.2
-- peers: steampipe kms_key_decryption_restricted_in_iam_customer_managed_policy; steampipe kms_key_decryption_restricted_in_iam_inline_policy
WITH per_policy AS (
    SELECT coalesce(policy_arn, owner || ' inline policy ' || policy_name) AS resource_arn, account_id,
        string_agg(CASE WHEN NOT restricted THEN 'statement ' || statement_id || ' allows ' ||
                   array_to_string(actions, ', ') || ' on ' || array_to_string(resources, ', ') END, '; '
                   ORDER BY statement_id) AS open,
        string_agg(CASE WHEN restricted THEN 'statement ' || statement_id || ' (condition ' || CAST(conditions AS VARCHAR)
                   || ')' END, '; ' ORDER BY statement_id) AS narrowed,
        any_value(policy_type) AS policy_type, any_value(policy_name) AS policy_name, any_value(owner) AS owner,
        any_value(array_to_string(attached_to, ', ')) AS attached
    FROM aws_iam_kms_decrypt_statements GROUP BY 1, 2
),
iam_read AS (
    SELECT account_id, bool_and(status = 'ok') AS ok, any_value(error_code) AS code FROM aws_encryption_sync_coverage
    WHERE table_name = 'aws_iam_kms_decrypt_statements' GROUP BY account_id
)
SELECT resource_arn, account_id, '' AS region, CASE WHEN open IS NOT NULL THEN 'fail' ELSE 'pass' END AS status,
    CASE WHEN open IS NOT NULL THEN
        CASE WHEN policy_type = 'inline' THEN 'Inline policy ' || policy_name || ' of ' || owner
             ELSE 'Customer managed policy ' || resource_arn END || ': ' || open || ', without a condition' ||
        CASE WHEN policy_type = 'inline' THEN '' ELSE coalesce(' (attached to ' || nullif(attached, '') || ')', ' (attached to nothing)') END ||
        '. Fix: name the keys in Resource, or add a kms:ViaService or aws:ResourceTag condition.'
    ELSE 'Decryption on all keys only under a condition: ' || narrowed || '.' END AS reason
FROM per_policy
UNION ALL
SELECT 'arn:aws:iam::' || account_id || ':root', account_id, '',
    CASE WHEN ok THEN 'pass' ELSE 'error' END,
    CASE WHEN ok THEN 'No customer managed or inline IAM policy of account ' || account_id ||
                      ' allows kms:Decrypt or kms:ReEncryptFrom on all keys without a condition.'
         ELSE 'The IAM of account ' || account_id || ' could not be read (' || coalesce(code, '?') ||
              '): whether its policies allow decryption on all keys is unknown.' END
FROM iam_read
WHERE NOT ok OR account_id NOT IN (SELECT account_id FROM per_policy WHERE open IS NOT NULL)
