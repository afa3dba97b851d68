-- id: kms_key_external_access
-- title: KMS keys are usable only by trusted accounts
-- severity: high
-- resource_type: AwsKmsKey
-- description: A key policy statement or a grant allows an account that is not the key's account,
--   not one of the synced accounts and not listed in trusted_accounts.
-- risk: Principals of that account can use the key (decrypt data, or more), within what the
--   statement or grant allows and their own IAM policies permit.
-- remediation: Remove the statement or retire the grant, or add the account to trusted_accounts in the
--   spec if it belongs to your organisation.
-- remediation_cli: aws kms retire-grant --key-id <key-arn> --grant-id <grant-id>  (or put-key-policy without the statement)
-- references: https://docs.aws.amazon.com/kms/latest/developerguide/key-policy-modifying-external-accounts.html, https://docs.aws.amazon.com/kms/latest/developerguide/grants.html
-- compliance: AWS Security Hub: KMS.5 (extended to named accounts and grants)
-- peers: cloud-custodian kms-key cross-account filter; IAM Access Analyzer
WITH inside AS (
    -- the other accounts and organisations the key admits that are ours (synced, trusted, our organisation)
    SELECT key_arn,
           string_agg(DISTINCT who || ' via ' || source || ' ' || statement_id, '; '
                      ORDER BY who || ' via ' || source || ' ' || statement_id) AS detail
    FROM (SELECT *, CASE WHEN trust = 'organization'
                         THEN 'every account of our organisation ' ||
                              coalesce(regexp_extract(CAST(conditions AS VARCHAR), '"(o-[a-z0-9]+)"', 1), '')
                         ELSE 'account ' || principal_account || ' (' || replace(trust, '_', ' ') || ')' END AS who
          FROM aws_kms_key_permissions
          WHERE effect = 'Allow' AND trust IN ('synced_account', 'trusted_account', 'organization')) p
    GROUP BY key_arn
),
ext AS (
    SELECT key_arn,
           string_agg(DISTINCT who || ' via ' || source || ' ' || statement_id, '; '
                      ORDER BY who || ' via ' || source || ' ' || statement_id) AS detail
    FROM (SELECT *, coalesce(principal_account,
                             CASE WHEN trust = 'external' AND principal_type IN ('AWS', '*')
                                  THEN 'every account of an organisation that is not ours ' ||
                                       coalesce(regexp_extract(CAST(conditions AS VARCHAR), '"(o-[a-z0-9]+)"', 1), '')
                                  ELSE principal END) AS who
          FROM aws_kms_key_permissions) p
    WHERE effect = 'Allow' AND is_external GROUP BY key_arn
),
undecided_org AS (
    -- organisation-wide statements whose organisation may be ours: not every account's was learnt
    SELECT key_arn, string_agg(DISTINCT coalesce(regexp_extract(CAST(conditions AS VARCHAR), '"(o-[a-z0-9]+)"', 1),
                                                 '?') || ' via ' || source || ' ' || statement_id, '; ') AS detail
    FROM aws_kms_key_permissions WHERE effect = 'Allow' AND trust = 'unknown_organization'
    GROUP BY key_arn
),
unreadable AS (
    SELECT DISTINCT resource_arn FROM aws_encryption_sync_errors WHERE operation IN ('GetKeyPolicy', 'ListGrants')
    UNION
    SELECT key_arn FROM aws_kms_key_permissions WHERE policy_error IS NOT NULL
    UNION
    SELECT k.arn FROM aws_kms_keys k WHERE NOT EXISTS (SELECT 1 FROM aws_kms_key_policies p WHERE p.key_arn = k.arn)
)
SELECT k.arn AS resource_arn, k.account_id, k.region,
    CASE
        WHEN ext.key_arn IS NOT NULL THEN 'fail'
        WHEN k.arn IN (SELECT resource_arn FROM unreadable) OR u.key_arn IS NOT NULL THEN 'error'
        ELSE 'pass'
    END AS status,
    CASE
        WHEN ext.key_arn IS NOT NULL THEN 'Key usable by accounts outside the trusted set: ' || ext.detail ||
            '. Fix: remove or narrow those key policy statements (aws kms put-key-policy --key-id ' || k.arn ||
            ' --policy-name default) and retire those grants (aws kms retire-grant --key-id ' || k.arn ||
            ' --grant-id <grant id>); an account that is yours belongs in trusted_accounts.'
        WHEN k.arn IN (SELECT resource_arn FROM unreadable) THEN
            'The key policy or grants could not be read or analysed (see aws_encryption_sync_errors and ' ||
            'aws_kms_key_permissions.policy_error), so who may use the key is unknown.'
        WHEN u.key_arn IS NOT NULL THEN
            'The key admits every account of an organisation (' || u.detail || '), and whether it is ours is ' ||
            'unknown: the organisation of every synced account could not be learnt (DescribeOrganization ' ||
            'failed, see aws_encryption_sync_errors, or aws_organizations was not synced).'
        ELSE 'Only the key''s account and trusted accounts appear in its key policy and grants' ||
             coalesce(': ' || inside.detail, '') || '.'
    END AS reason
FROM aws_kms_keys k
LEFT JOIN ext ON ext.key_arn = k.arn
LEFT JOIN inside ON inside.key_arn = k.arn
LEFT JOIN undecided_org u ON u.key_arn = k.arn
