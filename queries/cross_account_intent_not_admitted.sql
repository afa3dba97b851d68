-- id: cross_account_intent_not_admitted
-- title: Buckets and keys a role's IAM policies reach for in another synced account admit the role
-- severity: medium
-- resource_type: AwsIamRole
-- description: A role whose identity policies allow object reads or writes on a bucket, or KMS use of a
--   key, owned by another synced account means to use it; the bucket policy (and the key policy or its
--   grants) of that account must admit the role too, evaluated at principal level (explicit Deny,
--   conditions, the account root delegating to the account's IAM). A role whose intent the resource side
--   does not admit fails, naming the missing bucket or key statement.
-- risk: The role's requests fail with AccessDenied although its own policy allows them: usually a bucket
--   or key policy that admits another role, or was never updated for this one.
-- remediation: Add the bucket policy or key policy statement the finding renders (or, if the role should
--   not reach the resource, remove the statement from its IAM policy).
-- references: https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic-cross-account.html, https://docs.aws.amazon.com/kms/latest/developerguide/key-policy-modifying-external-accounts.html
-- peers: none
WITH judged AS (
    SELECT i.*,
        CASE WHEN target_type = 's3_bucket' THEN 'bucket ' || target || ' (account ' || account_id || ')'
             ELSE 'key ' || target END AS what,
        identity_statement || ' allows ' || array_to_string(actions, ', ') || ' on ' || resource_pattern AS intent
    FROM (SELECT *, 's3_bucket' AS target_type FROM aws_s3_bucket_role_intents
          UNION ALL BY NAME
          SELECT *, 'kms_key' AS target_type FROM aws_kms_key_role_intents) i
),
per_role AS (
    SELECT role_arn, any_value(role_account_id) AS account_id,
        string_agg(CASE WHEN resource_verdict IN ('not_allowed', 'deny') THEN
            intent || ', but ' || what || CASE WHEN resource_verdict = 'deny' THEN ' denies it (' ||
                coalesce(resource_decided_by, '?') || ': narrow that Deny)'
                ELSE ' does not admit the role' || coalesce(' for ' || nullif(array_to_string(missing_actions, ', '), ''), '') ||
                     coalesce(': add to its ' || CASE WHEN target_type = 's3_bucket' THEN 'bucket' ELSE 'key' END ||
                              ' policy ' || fix_statement, '') END END, ' | ' ORDER BY target, access) AS broken,
        string_agg(CASE WHEN resource_verdict IN ('unknown', 'depends') THEN what || ': ' || resource_reason END, ' | '
                   ORDER BY target, access) AS undecided,
        string_agg(CASE WHEN resource_verdict = 'allow' THEN what || ' (' || access || ', ' ||
                   coalesce(resource_decided_by, '?') || ')' END, ', ' ORDER BY target, access) AS admitted
    FROM judged GROUP BY role_arn
),
iam_unread AS (
    SELECT account_id, any_value(error_code) AS code FROM aws_encryption_sync_coverage
    WHERE table_name = 'aws_iam_roles' AND status = 'error' GROUP BY account_id
)
SELECT role_arn AS resource_arn, account_id, '' AS region,
    CASE WHEN broken IS NOT NULL THEN 'fail' WHEN undecided IS NOT NULL THEN 'error' ELSE 'pass' END AS status,
    CASE WHEN broken IS NOT NULL THEN broken || '. The role''s requests fail with AccessDenied.'
         WHEN undecided IS NOT NULL THEN 'Whether the resource side admits the role can''t be decided: ' || undecided || '.'
         ELSE 'Every bucket and key of another synced account its IAM policies name admits it: ' || admitted || '.'
    END AS reason
FROM per_role
UNION ALL
SELECT 'arn:aws:iam::' || account_id || ':root', account_id, '', 'error',
    'The IAM of account ' || account_id || ' could not be read (' || code || '): which buckets and keys of other '
    || 'accounts its roles reach for is unknown.'
FROM iam_unread
