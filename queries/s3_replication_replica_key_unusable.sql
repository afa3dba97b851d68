-- id: s3_replication_replica_key_unusable
-- title: Replication roles can use the keys they read and write replicas with
-- severity: high
-- resource_type: AwsS3Bucket
-- description: For each enabled replication rule (GetBucketReplication), the rule's IAM role needs
--   kms:Decrypt on the source bucket's key to read the objects and kms:Encrypt on the replica key
--   (ReplicaKmsKeyID) to write the replicas, from the key policies or grants; a destination in
--   another account usually holds the replica key, whose policy must admit the source account's role.
-- risk: Replication stops for objects it can't decrypt or re-encrypt (their replication status
--   becomes FAILED); the disaster-recovery copy silently falls behind.
-- remediation: Add the key policy statement or grant the finding renders for the replication role
--   on the key it lacks, and the same permissions to the role's IAM policy.
-- remediation_cli: aws kms create-grant --key-id <replica-key-arn> --grantee-principal <replication-role-arn> --operations Encrypt
-- references: https://docs.aws.amazon.com/AmazonS3/latest/userguide/replication-config-for-kms-objects.html, https://docs.aws.amazon.com/AmazonS3/latest/userguide/replication-walkthrough-4.html
-- peers: none
WITH rules AS (
    SELECT p.bucket_arn,
        string_agg(CASE WHEN p.key_verdict IN ('not_allowed', 'deny') THEN
            p.principal_label || ' ' || CASE WHEN p.access = 'read' THEN 'reads source objects' ELSE
            'writes replicas to ' || p.via END || ' but key ' || coalesce(p.key_arn, '?') ||
            CASE WHEN p.key_verdict = 'deny' THEN ' denies ' ELSE ' gives it no ' END ||
            array_to_string(p.missing_operations, ', ') || coalesce(' (' || p.key_decided_by || ')', '') ||
            CASE WHEN p.key_verdict = 'deny' THEN '. Fix: change key policy statement ' ||
                      coalesce(p.key_decided_by, '?') || ' so that it does not apply to ' || p.principal ||
                      ' (an explicit Deny overrides every Allow and grant)'
                 ELSE coalesce('. Fix: ' || p.fix_cli, '') END END, ' | ') AS failing,
        string_agg(CASE WHEN p.key_verdict IN ('unknown', 'depends') THEN
            p.principal_label || ' on ' || coalesce(p.key_arn, '?') || ' (' || p.key_verdict ||
            CASE WHEN p.key_verdict = 'depends' THEN ' on ' || array_to_string(p.key_depends_on, ', ') ELSE '' END ||
            ')' END, ', ') AS undecided,
        string_agg(DISTINCT p.via, ', ') AS destinations,
        string_agg(DISTINCT CASE WHEN p.key_verdict = 'allow' THEN p.principal_label || ' on ' || p.key_arn ||
                   coalesce(' (allowed by ' || p.key_decided_by || ')', '') END, '; ') AS allowed
    FROM aws_s3_bucket_access_paths p WHERE p.path = 'replication'
    GROUP BY p.bucket_arn
),
unreadable AS (SELECT DISTINCT resource_arn FROM aws_encryption_sync_errors WHERE operation = 'GetBucketReplication')
SELECT b.arn AS resource_arn, b.account_id, b.region,
    CASE
        WHEN r.failing IS NOT NULL THEN 'fail'
        WHEN b.arn IN (SELECT resource_arn FROM unreadable) THEN 'error'
        WHEN r.bucket_arn IS NULL THEN 'skip'
        WHEN r.undecided IS NOT NULL THEN 'error'
        ELSE 'pass'
    END AS status,
    CASE
        WHEN r.failing IS NOT NULL THEN r.failing || '. Replication of those objects fails.'
        WHEN b.arn IN (SELECT resource_arn FROM unreadable) THEN
            'The replication configuration could not be read (see aws_encryption_sync_errors).'
        WHEN r.bucket_arn IS NULL THEN 'No enabled replication rule.'
        WHEN r.undecided IS NOT NULL THEN 'Whether the replication role may use its keys is unknown: ' || r.undecided || '.'
        ELSE 'The replication role may use the source and replica keys for ' || r.destinations ||
            coalesce(': ' || r.allowed, '') || '.'
    END AS reason
FROM aws_s3_buckets b
LEFT JOIN rules r ON r.bucket_arn = b.arn
