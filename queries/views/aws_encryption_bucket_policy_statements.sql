-- aws_encryption_bucket_policy_statements (ours, a view): every statement of every bucket policy the sync
-- read, one row each: bucket_arn, idx (its position), st (the statement as JSON). "Statement" may be one
-- object or a list of them; anything else in the list is left out.
CREATE OR REPLACE TEMP VIEW aws_encryption_bucket_policy_statements AS
SELECT p.bucket_arn, s.key AS idx, s.value AS st
FROM aws_s3_bucket_policies p,
     json_each(CASE WHEN json_type(p.policy_json -> '$.Statement') = 'ARRAY' THEN p.policy_json -> '$.Statement'
                    ELSE json_array(p.policy_json -> '$.Statement') END) s
WHERE json_type(s.value) = 'OBJECT'
