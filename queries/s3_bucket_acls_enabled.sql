-- id: s3_bucket_acls_enabled
-- title: Buckets have ACLs disabled (Object Ownership BucketOwnerEnforced)
-- severity: medium
-- resource_type: AwsS3Bucket
-- description: With Object Ownership BucketOwnerEnforced S3 disables ACLs: it ignores them in every access
--   decision, and the bucket owner owns every object. A bucket passes with it, and fails with
--   ObjectWriter, BucketOwnerPreferred or no Object Ownership configuration (which means ACLs are in force,
--   as for buckets created before April 2023), as Security Hub S3.12 has it. The reason names the ACL
--   grants the bucket has beyond its owner. Object Ownership that could not be read is an error.
-- risk: ACLs grant access outside the bucket policy, to other accounts and to everyone, and objects another
--   account writes stay that account's; access reviews of the policy miss both.
-- remediation: Move any grant the bucket ACL makes to others into the bucket policy, reset the ACL to
--   private (S3 refuses BucketOwnerEnforced while the bucket ACL grants to others), then set Object
--   Ownership to BucketOwnerEnforced.
-- remediation_cli: aws s3api put-bucket-ownership-controls --bucket <bucket> --ownership-controls 'Rules=[{ObjectOwnership=BucketOwnerEnforced}]'
-- references: https://docs.aws.amazon.com/securityhub/latest/userguide/s3-controls.html#s3-12, https://docs.aws.amazon.com/AmazonS3/latest/userguide/about-object-ownership.html, https://docs.aws.amazon.com/AmazonS3/latest/userguide/object-ownership-migrating-acls-prerequisites.html
-- compliance: AWS Security Hub: S3.12
-- peers: prowler s3_bucket_acl_prohibited; steampipe s3_bucket_acls_should_prohibit_user_access; AWS Config s3-bucket-acl-prohibited
WITH own AS (
    SELECT bucket_arn, min(object_ownership) AS ownership FROM aws_s3_bucket_ownership_controls GROUP BY bucket_arn
),
unread AS (
    SELECT resource_arn, min(error_code) AS code FROM aws_encryption_sync_errors
    WHERE operation = 'GetBucketOwnershipControls' GROUP BY resource_arn
),
acl_unread AS (
    SELECT DISTINCT resource_arn FROM aws_encryption_sync_errors WHERE operation = 'GetBucketAcl'
),
others AS (
    -- the ACL's grants beyond the owner's own
    SELECT bucket_arn, string_agg(permission || ' to ' ||
               CASE WHEN grantee_id LIKE 'http://acs.amazonaws.com/groups/%' THEN split_part(grantee_id, '/', -1)
                    ELSE coalesce(grantee_type || ' ', '') || grantee_id END, ', ' ORDER BY grantee_id, permission) AS grants
    FROM aws_s3_bucket_grants WHERE grantee_id IS DISTINCT FROM owner_id GROUP BY bucket_arn
)
SELECT b.arn AS resource_arn, b.account_id, b.region,
    CASE WHEN u.resource_arn IS NOT NULL AND o.bucket_arn IS NULL THEN 'error'
         WHEN o.ownership = 'BucketOwnerEnforced' THEN 'pass' ELSE 'fail' END AS status,
    CASE
        WHEN u.resource_arn IS NOT NULL AND o.bucket_arn IS NULL THEN 'The Object Ownership of bucket ' || b.name ||
            ' could not be read (' || u.code || ', see aws_encryption_sync_errors), so whether ACLs are in force is unknown.'
        WHEN o.ownership = 'BucketOwnerEnforced' THEN
            'Bucket ' || b.name || ' has ACLs disabled (Object Ownership BucketOwnerEnforced).'
        ELSE 'Bucket ' || b.name || ' has ACLs in force (Object Ownership ' ||
            coalesce(o.ownership, 'not configured, which means ObjectWriter') || ')' ||
            CASE WHEN g.grants IS NOT NULL THEN ' and its ACL grants ' || g.grants
                 WHEN au.resource_arn IS NOT NULL THEN '; its ACL could not be read (see aws_encryption_sync_errors)'
                 ELSE '; its ACL grants only the owner' END ||
            '. Fix: ' || CASE WHEN g.grants IS NOT NULL OR au.resource_arn IS NOT NULL
                              THEN 'move the ACL''s grants to others into the bucket policy, then aws s3api ' ||
                                   'put-bucket-acl --bucket ' || b.name || ' --acl private, then ' ELSE '' END ||
            'aws s3api put-bucket-ownership-controls --bucket ' || b.name ||
            ' --ownership-controls ''Rules=[{ObjectOwnership=BucketOwnerEnforced}]''.'
    END AS reason
FROM aws_s3_buckets b
LEFT JOIN own o ON o.bucket_arn = b.arn
LEFT JOIN unread u ON u.resource_arn = b.arn
LEFT JOIN acl_unread au ON au.resource_arn = b.arn
LEFT JOIN others g ON g.bucket_arn = b.arn
