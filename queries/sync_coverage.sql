-- id: sync_coverage
-- title: The sync read every account, region and listing
-- severity: high
-- resource_type: AwsAccount
-- description: One pass finding per account whose credentials, regions and listings were all read
--   by its latest sync, and one error finding per account, region or listing that could not be read
--   (AssumeRole, missing credentials, ListKeys, ListAliases, ListBuckets, region discovery,
--   organisation discovery), naming the call and the error. The rows of an unread scope are kept
--   from earlier syncs, not refreshed: the reason says from when.
-- risk: Whatever the sync could not read is invisible to every other check, so their passes say
--   nothing about it: an account whose role broke keeps no finding of its own.
-- remediation: Fix what the error names (the audit role's trust policy or permissions, the profile or
--   credentials, a region that is disabled or unreachable), then sync again. aws-encryption check
--   fails (exit 1) while any scope is unread, unless --allow-incomplete.
-- remediation_cli: aws sts assume-role --role-arn <audit-role-arn> --role-session-name aws-encryption-test
-- references: https://docs.aws.amazon.com/IAM/latest/UserGuide/troubleshoot_roles.html, https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_use_permissions-to-switch.html
-- peers: prowler and steampipe report failed API calls in their logs only
WITH latest AS (
    -- The latest sync of each scope: older rows linger when write_mode is overwrite or append.
    SELECT c.*, max(c._cq_sync_time) OVER (PARTITION BY c._cq_source_name, c.account_id, c.region, c.table_name)
               AS newest
    FROM aws_encryption_sync_coverage c
),
cur AS (SELECT * FROM latest WHERE _cq_sync_time = newest),
unread AS (
    -- With several shard processes one scope can have an ok and an error row: error wins.
    SELECT * FROM cur WHERE status = 'error'
),
read_accounts AS (
    SELECT a.account_id, max(a._cq_sync_time) AS synced, count(*) FILTER (WHERE a.table_name <> '') AS listings,
           count(DISTINCT nullif(a.region, '')) AS regions,
           min(a.service || ':' || a.operation) FILTER (WHERE a.table_name = '') AS setup
    FROM cur a
    WHERE a.account_id <> '' AND a.table_name <> 'aws_organizations_accounts'
    GROUP BY a.account_id
    HAVING bool_and(a.status = 'ok') AND count(*) FILTER (WHERE a.table_name = '') > 0
       AND NOT EXISTS (SELECT 1 FROM unread u WHERE u.account_id = a.account_id)
)
SELECT coalesce(nullif(u.account_id, ''), CASE WHEN u.table_name = 'aws_organizations_accounts'
                                              THEN 'organization' ELSE 'default-credentials' END)
           || coalesce('/' || nullif(u.region, ''), '') || '/' || u.service || ':' || u.operation AS resource_arn,
       u.account_id, u.region, 'error' AS status,
       CASE
           WHEN u.table_name = 'aws_organizations_accounts' THEN
               'Organisation discovery failed at ' || u.service || ':' || u.operation || ' (' || u.error_code ||
               ': ' || left(u.message, 300) || '): no member account was synced'
           WHEN u.table_name = '' THEN
               'Account ' || coalesce(nullif(u.account_id, ''), 'of the default credentials') ||
               ' could not be read: ' || u.service || ':' || u.operation || ' failed (' || u.error_code || ': ' ||
               left(u.message, 300) || '), so nothing of it was synced'
           ELSE
               u.service || ':' || u.operation || ' failed in account ' || u.account_id ||
               coalesce(' region ' || nullif(u.region, ''), '') || ' (' || u.error_code || ': ' ||
               left(u.message, 300) || '): ' || u.table_name || ' there was not read' ||
               CASE WHEN u.resources > 0 THEN ' completely (' || u.resources || ' items listed before it failed)'
                    ELSE '' END
       END || '; ' ||
       CASE
           WHEN u.kept_rows > 0 THEN
               u.kept_rows || ' rows from the sync of ' || strftime(u.kept_sync_time, '%Y-%m-%d %H:%M UTC') ||
               ' (' || date_diff('day', u.kept_sync_time, u._cq_sync_time) ||
               ' days before this sync) are kept, not refreshed.'
           WHEN u.kept_rows = 0 THEN 'no earlier data of it is kept.'
           ELSE 'earlier data of it is kept only by the aws-encryption DuckDB writer.'
       END AS reason,
       u.service || ':' || u.operation AS operation, u.error_code, u.kept_rows,
       u.kept_sync_time AS data_as_of
FROM unread u
UNION ALL
SELECT a.account_id || '/' || a.setup, a.account_id, '', 'pass',
       'Account ' || a.account_id || ' was read completely by the sync of ' ||
       strftime(a.synced, '%Y-%m-%d %H:%M UTC') || ': credentials (' || a.setup || '), ' || a.regions ||
       ' region' || CASE WHEN a.regions = 1 THEN '' ELSE 's' END || ', ' || a.listings || ' listing' ||
       CASE WHEN a.listings = 1 THEN '' ELSE 's' END || '.',
       a.setup, '', NULL, a.synced
FROM read_accounts a
UNION ALL
SELECT 'organization/' || o.service || ':' || o.operation, o.account_id, '', 'pass',
       'Organisation discovery listed ' || o.resources || ' member account' ||
       CASE WHEN o.resources = 1 THEN '' ELSE 's' END || ' to sync (through account ' || o.account_id || ').',
       o.service || ':' || o.operation, '', NULL, o._cq_sync_time
FROM cur o
WHERE o.table_name = 'aws_organizations_accounts' AND o.status = 'ok'
  AND NOT EXISTS (SELECT 1 FROM unread u WHERE u.table_name = 'aws_organizations_accounts')
