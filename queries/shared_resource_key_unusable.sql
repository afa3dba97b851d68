-- id: shared_resource_key_unusable
-- title: Accounts and services a secret, queue or topic is shared with can use its customer managed key
-- severity: high
-- resource_type: AwsSecretsManagerSecret
-- description: For a secret, queue or topic encrypted with a customer managed key, every other account
--   or AWS service its resource policy admits needs the KMS operations the service makes for it
--   (GetSecretValue: kms:Decrypt; SendMessage and Publish: kms:GenerateDataKey and kms:Decrypt) from the
--   key policy or a grant, evaluated at principal level through the service (kms:ViaService), explicit
--   Deny first. A principal the resource admits but the key does not fails, naming the statement to add.
-- risk: Reads of a shared secret fail with AccessDenied from KMS; messages AWS services deliver to a queue
--   or topic are dropped silently.
-- remediation: Add the key policy statement (or grant) the finding renders for the principal and key.
-- remediation_cli: aws kms create-grant --key-id <key-arn> --grantee-principal <principal-arn> --operations Decrypt GenerateDataKey
-- references: https://docs.aws.amazon.com/kms/latest/developerguide/key-policy-modifying-external-accounts.html, https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-key-management.html
-- peers: none
WITH paths AS (
    SELECT * FROM aws_secretsmanager_secret_access_paths
    UNION ALL BY NAME SELECT * FROM aws_sqs_queue_access_paths
    UNION ALL BY NAME SELECT * FROM aws_sns_topic_access_paths
),
resources AS (
    SELECT arn, account_id, region FROM aws_secretsmanager_secrets
    UNION ALL SELECT arn, account_id, region FROM aws_sqs_queues
    UNION ALL SELECT arn, account_id, region FROM aws_sns_topics
),
per_resource AS (
    SELECT resource_arn, any_value(key_type) AS key_type, any_value(key_arn) AS key_arn,
        string_agg(CASE WHEN resource_verdict = 'allow' AND key_verdict IN ('not_allowed', 'deny') THEN
            principal_label || ' (' || access || coalesce(', statement ' || statement, '') || ') gets ' ||
            CASE WHEN key_verdict = 'deny' THEN 'a Deny for ' ELSE 'no ' END || array_to_string(missing_operations, ', ')
            || coalesce(' (' || key_decided_by || ')', '') || ': ' || consequence ||
            CASE WHEN key_verdict = 'deny' THEN '. Fix: narrow key policy statement ' || coalesce(key_decided_by, '?')
                 ELSE coalesce('. Fix: add to the key policy ' || fix_statement, '') || coalesce(' or run ' || fix_cli, '')
            END END, ' | ' ORDER BY principal_label, access) AS refused,
        string_agg(CASE WHEN principal_type = 'unknown' THEN reason END, ' ' ORDER BY reason) AS unread,
        string_agg(CASE WHEN key_verdict IN ('unknown', 'depends') OR resource_verdict = 'depends' THEN
            principal_label || ' (' || access || ')' END, ', ' ORDER BY principal_label, access) AS undecided,
        string_agg(CASE WHEN key_verdict = 'allow' THEN principal_label || ' (' || access || ', ' ||
            coalesce(key_decided_by, '?') || ')' END, ', ' ORDER BY principal_label, access) AS admitted
    FROM paths GROUP BY resource_arn
)
SELECT r.arn AS resource_arn, r.account_id, r.region,
    CASE WHEN p.unread IS NOT NULL THEN 'error'
         WHEN p.key_type IN ('aws_managed', 'aws_owned', 'none') THEN 'skip'
         WHEN p.refused IS NOT NULL THEN 'fail'
         WHEN p.undecided IS NOT NULL THEN 'error'
         ELSE 'pass' END AS status,
    CASE WHEN p.unread IS NOT NULL THEN p.unread || '.'
         WHEN p.key_type IN ('aws_managed', 'aws_owned', 'none') THEN
             'Not on a customer managed key (' || p.key_type || '): see shared_resource_aws_managed_key.'
         WHEN p.refused IS NOT NULL THEN 'Key ' || coalesce(p.key_arn, '?') || ': ' || p.refused || '.'
         WHEN p.undecided IS NOT NULL THEN 'Whether key ' || coalesce(p.key_arn, '?') || ' admits ' || p.undecided ||
             ' can''t be decided from what was read.'
         WHEN p.admitted IS NULL THEN 'Not shared with another account or AWS service by its policy.'
         ELSE 'Every account and service it is shared with may use key ' || coalesce(p.key_arn, '?') || ': ' ||
             p.admitted || '.' END AS reason
FROM resources r LEFT JOIN per_resource p ON p.resource_arn = r.arn
