-- id: kms_imported_key_material_expiring
-- title: Imported key material does not expire soon (or has not expired)
-- severity: high
-- resource_type: AwsKmsKey
-- description: Key material imported with an expiration date (ExpirationModel KEY_MATERIAL_EXPIRES) is
--   deleted by KMS at ValidTo: the key goes to PendingImport and everything encrypted under it is
--   unreadable until the same material is imported again. Fails when the material expires within the
--   parameter days (default 30) or has already expired; material that does not expire passes.
-- risk: Every read and write under the key fails at expiry; without a copy of the material, the data is lost.
-- remediation: Re-import the same key material with a new expiration date (or none) before ValidTo.
-- remediation_cli: aws kms import-key-material --key-id <key-arn> --encrypted-key-material fileb://material.bin --import-token fileb://token.bin --expiration-model KEY_MATERIAL_DOES_NOT_EXPIRE
-- references: https://docs.aws.amazon.com/kms/latest/developerguide/importing-keys-import-key-material.html, https://docs.aws.amazon.com/kms/latest/developerguide/importing-keys-delete-key-material.html
-- peers: none (Prowler and Security Hub have no expiry check for imported material)
-- params: days=30
SELECT k.arn AS resource_arn, k.account_id, k.region,
    CASE WHEN k.key_manager IS NULL THEN 'error'
         WHEN k.key_manager = 'AWS' OR k.origin IS DISTINCT FROM 'EXTERNAL' THEN 'skip'
         WHEN k.key_state IN ('PendingDeletion', 'PendingReplicaDeletion') THEN 'skip'
         WHEN k.key_state = 'PendingImport' AND k.valid_to IS NULL THEN 'skip'
         WHEN k.expiration_model = 'KEY_MATERIAL_DOES_NOT_EXPIRE' THEN 'pass'
         WHEN k.valid_to IS NULL THEN 'error'
         WHEN k.valid_to < now()::TIMESTAMP + INTERVAL (/*param:days*/30) DAY THEN 'fail'
         ELSE 'pass' END AS status,
    CASE WHEN k.key_manager IS NULL THEN 'The key could not be described (see aws_encryption_sync_errors).'
         WHEN k.key_manager = 'AWS' OR k.origin IS DISTINCT FROM 'EXTERNAL' THEN 'Key material made by AWS: it does not expire.'
         WHEN k.key_state IN ('PendingDeletion', 'PendingReplicaDeletion') THEN 'Key is ' || k.key_state || '.'
         WHEN k.key_state = 'PendingImport' AND k.valid_to IS NULL THEN
             'No key material imported yet: the key was never usable.'
         WHEN k.expiration_model = 'KEY_MATERIAL_DOES_NOT_EXPIRE' THEN 'Imported key material that does not expire.'
         WHEN k.valid_to IS NULL THEN
             'The key''s material expires (' || coalesce(k.expiration_model, 'expiration model unknown') ||
             ') but its ValidTo date is not in its description.'
         ELSE 'Imported key material of key ' || k.arn ||
              CASE WHEN k.valid_to < now()::TIMESTAMP THEN ' expired on ' ELSE ' expires on ' END ||
              strftime(k.valid_to, '%Y-%m-%d') ||
              CASE WHEN k.valid_to < now()::TIMESTAMP THEN ': the key is unusable and everything under it unreadable'
                   ELSE ' (in ' || date_diff('day', now()::TIMESTAMP, k.valid_to) || ' days; limit ' ||
                        /*param:days*/30 || ')' END ||
              CASE WHEN k.valid_to < now()::TIMESTAMP + INTERVAL (/*param:days*/30) DAY
                   THEN '. Fix: re-import the same material' ||
                        CASE WHEN k.valid_to >= now()::TIMESTAMP THEN ' before then' ELSE '' END ||
                        ': aws kms get-parameters-for-import --key-id ' ||
                        k.arn || ' --wrapping-algorithm RSAES_OAEP_SHA_256 --wrapping-key-spec RSA_4096 --region ' ||
                        k.region || ', then aws kms import-key-material --key-id ' || k.arn ||
                        ' --encrypted-key-material fileb://material.bin --import-token fileb://token.bin ' ||
                        '--expiration-model KEY_MATERIAL_DOES_NOT_EXPIRE --region ' || k.region
                   ELSE '' END || '.' END AS reason
FROM aws_kms_keys k
