-- id: kms_key_multi_region
-- title: Multi-Region KMS keys are known and intended
-- severity: info
-- resource_type: AwsKmsKey
-- description: A multi-Region key shares its key material with its replicas in other Regions: a ciphertext
--   made in one Region decrypts in every Region that holds a replica, and each replica has its own key
--   policy and grants to keep right. Informational: every multi-Region customer managed key fails with its
--   primary and replicas listed, so that each one is a deliberate choice; single-Region keys pass.
-- risk: Data sovereignty and blast radius: access in any replica Region reaches data encrypted anywhere.
-- remediation: For data that must stay in one Region, use a single-Region key (a key can't be made
--   single-Region: create a new one and re-encrypt).
-- remediation_cli: aws kms create-key --no-multi-region
-- references: https://docs.aws.amazon.com/kms/latest/developerguide/multi-region-keys-overview.html, https://docs.aws.amazon.com/kms/latest/developerguide/mrk-when-to-use.html
-- peers: prowler kms_cmk_not_multi_region
SELECT k.arn AS resource_arn, k.account_id, k.region,
    CASE WHEN k.key_manager IS NULL THEN 'error'
         WHEN k.key_manager = 'AWS' THEN 'skip'
         WHEN k.multi_region IS NULL THEN 'error'
         WHEN k.multi_region THEN 'fail'
         ELSE 'pass' END AS status,
    CASE WHEN k.key_manager IS NULL THEN 'The key could not be described (see aws_encryption_sync_errors).'
         WHEN k.key_manager = 'AWS' THEN 'AWS managed key: always single-Region.'
         WHEN k.multi_region IS NULL THEN 'Whether the key is multi-Region is not in its description.'
         WHEN k.multi_region THEN
             'Multi-Region ' || lower(coalesce(k.multi_region_configuration->>'$.MultiRegionKeyType', 'key')) ||
             ' key ' || k.arn || ': primary ' || coalesce(k.multi_region_configuration->>'$.PrimaryKey.Arn', '?') ||
             '; replicas: ' || coalesce(nullif(array_to_string(list_sort(
                 json_extract_string(k.multi_region_configuration, '$.ReplicaKeys[*].Arn')), ', '), ''),
                 'none') || '. Its key material decrypts in every one of these Regions. Fix, if the data must stay ' ||
             'in one Region: aws kms create-key --no-multi-region --region ' || k.region ||
             ', then re-encrypt what the key protects under it and schedule the deletion of the replicas.'
         ELSE 'Single-Region key.' END AS reason
FROM aws_kms_keys k
