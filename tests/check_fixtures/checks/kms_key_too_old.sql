-- id: kms_key_too_old
-- title: KMS keys are younger than a maximum age
-- severity: high
-- resource_type: AwsKmsKey
-- description: Test fixture with parameters: keys of the expected manager created more than
--   max_age_days ago fail.
-- remediation: Create a new key and re-encrypt the data with it.
-- references: https://docs.aws.amazon.com/kms/latest/developerguide/create-keys.html
-- params: max_age_days=365, manager=CUSTOMER
SELECT
    arn AS resource_arn,
    account_id,
    region,
    CASE
        WHEN key_manager <> /*param:manager*/'CUSTOMER' THEN 'skip'
        WHEN date_diff('day', creation_date, now()::TIMESTAMP) > /*param:max_age_days*/365 THEN 'fail'
        ELSE 'pass'
    END AS status,
    'Key ' || arn || ' in account ' || account_id || ' was created on '
        || strftime(creation_date, '%Y-%m-%d') || ', '
        || date_diff('day', creation_date, now()::TIMESTAMP) || ' days ago (limit '
        || /*param:max_age_days*/365 || ' days for ' || /*param:manager*/'CUSTOMER' || ' keys).' AS reason,
    creation_date,
    date_diff('day', creation_date, now()::TIMESTAMP) AS age_days
FROM aws_kms_keys
ORDER BY arn
