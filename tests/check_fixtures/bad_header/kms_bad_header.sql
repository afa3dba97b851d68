-- id: kms_bad_header
-- title: A check with a bad header
-- severity: medium
-- description: Test fixture: the header has a misspelt key.
-- remedation: Spelt wrong on purpose.
SELECT 1
