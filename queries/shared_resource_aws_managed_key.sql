-- id: shared_resource_aws_managed_key
-- title: Secrets, queues and topics shared with other accounts or AWS services are not on an AWS managed key
-- severity: high
-- resource_type: AwsSecretsManagerSecret
-- description: A secret, queue or topic whose resource policy admits another account (or an AWS service
--   such as EventBridge, SNS or S3 event notifications) while it is encrypted with the service's AWS
--   managed key (aws/secretsmanager, aws/sqs, aws/sns) can't be used by them: that key's policy admits
--   only its own account, through its own service, and nobody can change it or grant on it. The share
--   is accepted, and use fails later, silently for services (messages dropped).
-- risk: Cross-account readers of a secret get AccessDenied from KMS; messages AWS services deliver to a
--   queue or topic are dropped without an error anyone sees.
-- remediation: Move the resource to a customer managed key whose policy admits the other account or
--   service through the resource's service (the finding renders the command), then, for secrets, rotate
--   or re-put the value so that it is encrypted under the new key.
-- remediation_cli: aws secretsmanager update-secret --secret-id <secret-arn> --kms-key-id <customer-managed-key-arn>
-- references: https://docs.aws.amazon.com/secretsmanager/latest/userguide/auth-and-access_examples_cross.html, https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-key-management.html, https://docs.aws.amazon.com/sns/latest/dg/sns-key-management.html
-- peers: none (Prowler and Steampipe check that a KMS key is set, not whether the sharer can use it)
WITH paths AS (
    SELECT * FROM aws_secretsmanager_secret_access_paths
    UNION ALL BY NAME SELECT * FROM aws_sqs_queue_access_paths
    UNION ALL BY NAME SELECT * FROM aws_sns_topic_access_paths
),
resources AS (
    SELECT arn, account_id, region, 'secret' AS noun FROM aws_secretsmanager_secrets
    UNION ALL SELECT arn, account_id, region, 'queue' FROM aws_sqs_queues
    UNION ALL SELECT arn, account_id, region, 'topic' FROM aws_sns_topics
),
per_resource AS (
    SELECT resource_arn, any_value(key_type) AS key_type, any_value(coalesce(key_arn, key_reference)) AS key_ref,
        string_agg(CASE WHEN resource_verdict IN ('allow', 'depends') AND key_verdict IN ('not_allowed', 'deny') THEN
            principal_label || ' (' || access || coalesce(', statement ' || statement, '') ||
            CASE WHEN resource_verdict = 'depends' THEN ', if ' || array_to_string(resource_depends_on, ', ') ELSE '' END ||
            '): ' || consequence END, ' | ' ORDER BY principal_label, access) AS refused,
        string_agg(CASE WHEN principal_type = 'unknown' THEN reason END, ' ' ORDER BY reason) AS unread,
        string_agg(CASE WHEN key_verdict = 'unknown' THEN principal_label END, ', ' ORDER BY principal_label) AS key_unknown,
        any_value(fix_cli) FILTER (WHERE fix_cli IS NOT NULL) AS fix
    FROM paths GROUP BY resource_arn
)
SELECT r.arn AS resource_arn, r.account_id, r.region,
    CASE WHEN p.unread IS NOT NULL THEN 'error'
         WHEN p.key_type = 'aws_managed' AND p.refused IS NOT NULL THEN 'fail'
         WHEN p.resource_arn IS NULL THEN 'pass'
         -- shared, under a key the sync could not describe: it may be an AWS managed one
         WHEN p.key_type IS NULL THEN 'error'
         WHEN p.key_type <> 'aws_managed' THEN 'pass'
         WHEN p.key_unknown IS NOT NULL THEN 'error'
         ELSE 'pass' END AS status,
    CASE WHEN p.unread IS NOT NULL THEN p.unread || '.'
         WHEN p.key_type = 'aws_managed' AND p.refused IS NOT NULL THEN
             'The ' || r.noun || ' is encrypted with its service''s AWS managed key, whose policy admits only account '
             || r.account_id || ' through that service and can''t be changed, but its policy shares it with ' ||
             p.refused || '. Fix: ' || coalesce(p.fix, 'move it to a customer managed key') || '.'
         WHEN p.resource_arn IS NULL THEN 'Not shared with another account or AWS service by its policy.'
         WHEN p.key_type IS NULL THEN 'Shared (' || (SELECT string_agg(DISTINCT x.principal_label, ', ' ORDER BY
             x.principal_label) FROM paths x WHERE x.resource_arn = r.arn) || '), but whether its key ' ||
             coalesce(p.key_ref, '?') || ' is AWS managed is unknown: the sync did not describe it (another account, '
             || 'or no permission).'
         WHEN p.key_type <> 'aws_managed' THEN 'Not on an AWS managed key (' || p.key_type || ').'
         WHEN p.key_unknown IS NOT NULL THEN 'Whether the key admits ' || p.key_unknown || ' is unknown.'
         ELSE 'On an AWS managed key, and shared with no other account or service.' END AS reason
FROM resources r LEFT JOIN per_resource p ON p.resource_arn = r.arn
