#!/usr/bin/env python3
"""A fast fake AWS endpoint (STS, KMS, S3, S3 Control, Organizations, IAM, Secrets Manager, SQS, SNS, EC2
EBS snapshots and AMIs, RDS DB snapshots, AWS Backup) for throughput benchmarks.
Stdlib only, one process.

moto serves ~100-150 req/s, below what one plugin process asks for (~400-700 req/s), so a
benchmark against moto measures moto. This server answers from a deterministic generated world
(N accounts x R regions x K KMS keys per region, B S3 buckets per account) with a fixed injected
latency, and serves >10x the plugin's request rate (measure it with bench/load_fake.py).

Protocol details it follows (what botocore 1.44 sends and parses):
- The service, region and access key of a request come from the SigV4 credential scope in
  `Authorization: AWS4-HMAC-SHA256 Credential=<AKID>/<date>/<region>/<service>/aws4_request`.
  Signatures are not verified.
- STS (query protocol, form body `Action=`): AssumeRole returns an access key `ASIA<12-digit
  account id><4 chars>`; every later request is attributed to the account encoded in its key. The
  base (non-ASIA) key is the "scanner" account (SCANNER_ACCOUNT). GetCallerIdentity.
- KMS (JSON 1.1, `X-Amz-Target: TrentService.<Op>`): ListKeys, DescribeKey, GetKeyRotationStatus,
  ListResourceTags, GetKeyPolicy, ListGrants, ListKeyRotations, ListAliases, with Limit/Marker/
  NextMarker/Truncated pagination and the per-op Limit ranges of the API. Rotation calls on
  asymmetric/HMAC keys answer UnsupportedOperationException, as AWS does.
- S3 (REST XML, path style `/<bucket>?<subresource>`): ListBuckets (max-buckets,
  continuation-token, prefix, bucket-region; BucketRegion per bucket), GetBucketLocation,
  GetBucketPolicyStatus, GetBucketTagging, GetBucketEncryption, GetBucketPolicy,
  GetPublicAccessBlock, GetBucketOwnershipControls, GetBucketAcl, GetBucketReplication,
  GetBucketLogging, HeadBucket. "Not configured" answers are the 404 errors S3 sends (NoSuchTagSet,
  NoSuchBucketPolicy, ReplicationConfigurationNotFoundError, ...); logging off is a 200 with an empty
  BucketLoggingStatus. A per-bucket call signed for another region than the bucket's is answered
  normally but counted (`s3_wrong_region` in the stats).
- S3 Control (REST XML under `/v20180820/`, signed as service `s3`, the account in the
  `x-amz-account-id` header, which must be the caller's; the host is not read, so requests sent to the
  endpoint's own host, as the plugin does for an immutable custom endpoint, are served):
  ListAccessPoints (maxResults, nextToken, bucket), GetAccessPoint (its PublicAccessBlockConfiguration,
  CreationDate, Endpoints; NoSuchAccessPoint) and GetAccessPointPolicy (NoSuchAccessPointPolicy) per
  account and region; GetPublicAccessBlock (`/v20180820/configuration/publicAccessBlock`, the account's
  own Block Public Access, in any Region; 404 NoSuchPublicAccessBlockConfiguration when it has none);
  ListMultiRegionAccessPoints and GetMultiRegionAccessPointPolicy (Established and Proposed) in
  us-west-2 only, as AWS routes them.
- Organizations (JSON 1.1, `X-Amz-Target: AWSOrganizationsV20161128.DescribeOrganization`): every
  account of the world is in one organisation whose management account is the first; any other
  caller gets AWSOrganizationsNotInUseException. Other Organizations operations count as
  `organizations.unknown`.
- IAM (query protocol, form body `Action=GetAccountAuthorizationDetails`, global: the credential
  scope's region is not read; the account from the access key): every account's users, groups, roles
  and managed policies, generated per account (default 5 roles, 2 users, 1 group, 10 customer managed
  policies, plus the AWS managed ones attached there, as IAM returns them without Filter). Roles have
  trust policies (the scanner, services, the account, the next account), 0-2 inline policies, 1-3
  attached policies, some a permission boundary or an EC2 instance profile, RoleLastUsed, tags; users
  are in groups; policies have 1-3 versions. Every document is URL-encoded JSON (botocore decodes it)
  naming the account's buckets and KMS keys, some the next account's, some kms:Decrypt on "*".
  `--iam-roles/--iam-users/--iam-groups/--iam-policies` set the sizes of every account, or with
  `--iam-heavy-accounts K` of the first K accounts only (the others keep the default). Pagination:
  MaxItems (1-1000, default 100) caps users + groups + roles + policies of a page, in that order;
  `IsTruncated` and `Marker` as IAM; `Filter.member.N` is honoured. Never throttled.
- Secrets Manager (JSON 1.1, `X-Amz-Target: secretsmanager.<Op>`): ListSecrets (MaxResults 1-100,
  NextToken) and GetResourcePolicy (SecretId: ARN, partial ARN or name; no ResourcePolicy when none).
- SQS (the JSON protocol botocore 1.44 uses: `X-Amz-Target: AmazonSQS.<Op>`,
  application/x-amz-json-1.0; errors with `__type` and `x-amzn-query-error`, which botocore reports):
  ListQueues (MaxResults 1-1000 and NextToken; without MaxResults up to 1,000 and no NextToken; an
  empty page has no QueueUrls, as SQS sends it), GetQueueAttributes (AttributeNames, All: every value a
  string), ListQueueTags (no Tags when none).
- SNS (query protocol, form body `Action=`, XML answers): ListTopics (100 per page, NextToken),
  GetTopicAttributes (Attributes entry/key/value), ListTagsForResource.
  Per account and region, by default 2 secrets, 2 queues and 2 topics (`--secrets/--queues/--topics`),
  in turn through a fixed mix of encryption and policy from a hashed start (SECRET_MIX, QUEUE_MIX,
  TOPIC_MIX): the service's AWS managed key (a secret without KmsKeyId, KmsMasterKeyId alias/aws/sqs or
  alias/aws/sns), a customer managed key of the world (a key ARN the fake's KMS serves for that account
  and region, some Disabled or PendingDeletion; a third of the SQS ones by alias), SQS managed SSE
  (SqsManagedSseEnabled), or none; resource policies admitting the next account, a role of the
  account, or events.amazonaws.com (queues, topics), or none (every topic has SNS's default policy).
- EC2 (the ec2 protocol: form body `Action=`, XML answers `<...Response><requestId>`, errors
  `<Response><Errors><Error>`): DescribeSnapshots (Owner.N self or an account id, SnapshotId.N,
  MaxResults 5-1000 and NextToken; without Owner.N also the snapshots other world accounts share with
  the caller or made public) and DescribeSnapshotAttribute (createVolumePermission: items with userId or
  group all; productCodes); DescribeImages and DescribeImageAttribute alike (Owner.N, ImageId.N, MaxResults
  5-1000, NextToken; launchPermission: items with userId, group all, organizationArn or
  organizationalUnitArn; productCodes; another account's AMI is AuthFailure, an unknown one
  InvalidAMIID.NotFound); GetEbsEncryptionByDefault and GetEbsDefaultKmsKeyId (per account and region,
  through EBS_DEFAULT_MIX from a hashed start: on or off, and the default key the region's aws/ebs alias ARN,
  as AWS answers when none was set, or a customer managed key of the world, as the snapshots').
  RDS (query protocol, XML): DescribeDBSnapshots (MaxRecords 20-100, default 100, Marker, SnapshotType,
  IncludeShared/IncludePublic, DBInstanceIdentifier, DBSnapshotIdentifier) and DescribeDBSnapshotAttributes
  (the restore attribute), and the same for Aurora, DescribeDBClusterSnapshots (DBClusterIdentifier,
  DBClusterSnapshotIdentifier) and DescribeDBClusterSnapshotAttributes. Other EC2/RDS operations count as
  `ec2.unknown` / `rds.unknown` and answer InvalidAction.
  Per account and region, by default 2 EBS snapshots, 2 DB snapshots and 2 DB cluster snapshots (one
  manual, one automated snapshot of the same DB instance or cluster)
  (`--ebs-snapshots/--db-snapshots/--cluster-snapshots`), in turn through EBS_MIX and
  DB_MIX from a hashed start: a customer managed key of the world (as the secrets'), the region's aws/ebs
  or aws/rds key (when the world's KMS has it, else unencrypted), or unencrypted; shared with the next
  account (never under the AWS managed key, as AWS refuses it), and a few unencrypted ones public
  (group all / restore all). AMIs: by default 1 or 2 per account and region (`--images N`: N), each with
  its root volume (a block device mapping with deviceName = rootDeviceName, ebs snapshotId, encrypted, and
  kmsKeyId when encrypted) on one of the region's EBS snapshots and under its key; through IMAGE_MIX
  shared with the next account, the organisation or its OU (never under the AWS managed key), and 10 %
  of the unencrypted ones public.
- AWS Backup (REST-JSON: GET paths of botocore's `backup` model, JSON answers, epoch-second timestamps; errors
  with `__type` and `message` and the `x-amzn-ErrorType` header): ListBackupVaults (`/backup-vaults/`,
  maxResults 1-1000, nextToken; vaultType, shared), GetBackupVaultAccessPolicy
  (`/backup-vaults/{name}/access-policy`; a vault without one answers 400 ResourceNotFoundException "...
  has no associated POLICY", as AWS does), ListBackupPlans (`/backup/plans/`), GetBackupPlan
  (`/backup/plans/{id}/`, versionId), ListTags (`/tags/{arn}/`, a vault's or a plan's). Per account and
  region, by default 2 vaults and 1 plan (`--backup-vaults/--backup-plans`): the Region's "Default" vault
  under its aws/backup key (the key's ARN when the world's KMS has that key, else the alias ARN), then
  vaults through VAULT_MIX from a hashed start: a customer managed key of the world (as the secrets') or
  aws/backup, and an access policy admitting the next account (backup:CopyIntoBackupVault), the
  organisation (aws:PrincipalOrgID), denying recovery point deletion, or none; 10 % locked. Each plan has
  a rule into one of the region's vaults with a CopyActions entry to the previous account's vault in the
  same region that admits this account (else its last vault), and half a second rule into Default. Other
  Backup operations count as `backup.unknown` (404 UnknownOperationException).
- `--throttle-fraction F`: that fraction of KMS, S3, S3 Control, Secrets Manager, SQS, SNS, EC2, RDS and
  AWS Backup requests (evenly spaced over the request sequence, so deterministic) is answered with KMS,
  Secrets Manager and AWS Backup `400 ThrottlingException` / S3 `503 SlowDown` / SQS `400 RequestThrottled`
  / SNS and RDS `400 Throttling` / EC2 `503 RequestLimitExceeded`.
  STS, Organizations and IAM (a few calls per account) are never throttled.
- `--latency-ms L`: every reply is sent L ms after the request arrived (an event-loop timer, never
  a blocking sleep); replies on one connection keep their order.

Speed: an asyncio BufferedProtocol HTTP/1.1 server (no task per request; replies due in the same
millisecond share one timer). The world is immutable, so each distinct request's answer is
computed once and cached; at start-up the answers to every per-resource request the plugin makes
(DescribeKey ... GetBucketLogging, GetAccessPoint, GetAccessPointPolicy,
GetMultiRegionAccessPointPolicy, S3 Control's GetPublicAccessBlock in us-east-1, DescribeOrganization,
every GetAccountAuthorizationDetails page at MaxItems=1000, GetResourcePolicy, GetQueueAttributes,
ListQueueTags, GetTopicAttributes, ListTagsForResource, DescribeSnapshotAttribute,
DescribeImageAttribute, GetEbsEncryptionByDefault, GetEbsDefaultKmsKeyId, DescribeDBSnapshotAttributes,
DescribeDBClusterSnapshotAttributes, GetBackupVaultAccessPolicy, ListTags, GetBackupPlan, with the
plugin's parameters) are computed ("prewarm", ~1-2 s for 5,000 keys), so a sync is served from memory.
`--no-prewarm --cache-entries 0` computes every answer per request (slower; bench/load_fake.py measures both).

Control (no Authorization header): `GET /__stats` returns the counters as JSON;
`POST /__reset` zeroes them. On SIGTERM/SIGINT the counters are printed on stderr as one line
`STATS {...}`. The first line on stdout is `PORT <n>` once the socket listens.

The world for the access-path calls is drawn, like keys and buckets, from hashes of `--seed` (each
from hashes of its own, so the keys' and buckets' earlier answers are unchanged): Object Ownership
75 % BucketOwnerEnforced (GetBucketAcl not asked), 25 % asked (owner FULL_CONTROL, the log
delivery group on each account-region's log bucket, 4 % public READ, 10 % READ for the next
account); 8 % of buckets replicate (a third to the next account, half with a ReplicaKmsKeyID); 15 %
log to their account-region's log bucket; 0-3 access points per account and region (60 % with a
policy; 85 % with all four Block Public Access settings on, 15 % all off); `--mraps N` Multi-Region
Access Points per account (default 0); each account's own Block Public Access: 70 % all four on, 10 %
the ACL ones only, 5 % configured all off, 15 % none (NoSuchPublicAccessBlockConfiguration).

Usage: python bench/fake_aws.py --accounts 2 --regions 1 --keys 2500 --buckets 1100 --port 0
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import hashlib
import json
import math
import re
import resource
import signal
import sys
import time
import uuid
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass
from email.utils import formatdate
from typing import Any, NamedTuple
from urllib.parse import parse_qsl, quote, unquote

SCANNER_ACCOUNT = "999999999999"
REGION_POOL = [
    "us-east-1", "eu-west-1", "us-west-2", "eu-central-1", "ap-northeast-1", "ap-southeast-2", "us-east-2",
    "eu-west-2", "ca-central-1", "sa-east-1", "ap-south-1", "eu-north-1", "us-west-1", "ap-northeast-2",
    "ap-southeast-1", "eu-west-3", "ap-northeast-3",
]
# 2020-09-13T12:26:40Z: creation dates are spread over the ~4 years after this.
BASE_EPOCH = 1_600_000_000
NOW = int(time.time())
DAY = 86_400
AWS_MANAGED = ["s3", "ebs", "rds", "lambda", "secretsmanager", "sns", "sqs", "dynamodb", "backup", "ssm",
               "logs", "acm"]
# Predefined aliases that exist in every region without a target key until a service creates it.
AWS_PREDEFINED = ["aws/cloud9", "aws/codecommit", "aws/elasticfilesystem", "aws/es", "aws/glue", "aws/kinesis",
                  "aws/kinesisvideo", "aws/redshift", "aws/xray", "aws/fsx", "aws/connect", "aws/codeartifact"]
APPS = ["payments", "orders", "ledger", "search", "billing", "identity", "analytics", "etl", "backup", "media",
        "reports", "gateway"]
ENVS = ["prod", "staging", "dev", "sandbox"]
BUCKET_PREFIXES = ["logs", "data", "backup", "assets", "tfstate", "athena-results", "cdn", "exports", "ml-artifacts"]
S3_NS = "http://s3.amazonaws.com/doc/2006-03-01/"
KMS_CTYPE = "application/x-amz-json-1.1"
STS_NS = "https://sts.amazonaws.com/doc/2011-06-15/"
S3C_NS = "http://awss3control.amazonaws.com/doc/2018-08-20/"
XSI = 'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"'
S3C_PREFIX = "/v20180820/"
# The only Region that answers the Multi-Region Access Point control plane (aws partition).
MRAP_REGION = "us-west-2"
# The benches' custom_endpoint_signing_region: where the plugin makes account-level calls (prewarm only).
GLOBAL_REGION = "us-east-1"
ALL_USERS = "http://acs.amazonaws.com/groups/global/AllUsers"
LOG_DELIVERY = "http://acs.amazonaws.com/groups/s3/LogDelivery"
IAM_NS = "https://iam.amazonaws.com/doc/2010-05-08/"
# IAM per account: (roles, users, groups, customer managed policies) of the default world.
IAM_DEFAULT = (5, 2, 1, 10)
# Named first, so that the principals the key policies, grants and bucket replication name exist.
IAM_NAMED_ROLES = ["audit", "terraform", "KeyAdmins", *[f"{a}-service" for a in APPS],
                   *[f"{a}-worker" for a in APPS], "s3-replication"]
IAM_NAMED_USERS = ["ci-deployer", "break-glass"]
IAM_NAMED_GROUPS = ["data-readers", "key-operators"]
# AWS managed policies attached in every account (GetAccountAuthorizationDetails without Filter returns
# the attached ones), with a short document of the same kind as AWS's.
IAM_AWS_MANAGED = [
    ("AmazonS3ReadOnlyAccess", "ANPAIZTJ4DXE7G6AGAE6M", "v3",
     {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": ["s3:Get*", "s3:List*",
                                                                             "s3:Describe*", "s3-object-lambda:Get*",
                                                                             "s3-object-lambda:List*"],
                                              "Resource": "*"}]}),
    ("AWSKeyManagementServicePowerUser", "ANPAJNPP7PPPPMJRV2SA4", "v2",
     {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": [
         "kms:CreateAlias", "kms:CreateKey", "kms:DeleteAlias", "kms:Describe*", "kms:GenerateRandom", "kms:Get*",
         "kms:List*", "kms:TagResource", "kms:UntagResource", "iam:ListGroups", "iam:ListRoles", "iam:ListUsers"],
         "Resource": "*"}]}),
]
IAM_ENTITY_FILTERS = {"User": "user", "Role": "role", "Group": "group", "LocalManagedPolicy": "local",
                      "AWSManagedPolicy": "aws"}

# Secrets Manager, SQS and SNS: (encryption, resource policy) of each resource, in turn from a hashed
# start per account and region, so that even two resources per region give every mix over a few
# accounts. Encryption: "aws" = the service's AWS managed key (a secret without KmsKeyId, a queue or
# topic with KmsMasterKeyId alias/aws/sqs|sns), "cmk" = a customer managed key of the world (the
# account and region's, some Disabled or PendingDeletion as the keys are), "sse-sqs" = SQS managed SSE,
# "none" = unencrypted. Policy: "cross" = admits the next account of the world, "role" = a role of the
# account, "events" = events.amazonaws.com for a rule of the account, None = no policy (an SNS topic
# always has its default policy; these add a statement to it).
SECRET_MIX = (("aws", "cross"), ("cmk", "cross"), ("cmk", None), ("aws", None), ("cmk", "role"), ("aws", "role"))
QUEUE_MIX = (("sse-sqs", "events"), ("aws", "events"), ("cmk", "cross"), ("aws", "cross"), ("cmk", None),
             ("sse-sqs", None), ("none", None), ("cmk", "events"))
TOPIC_MIX = (("none", None), ("aws", "events"), ("cmk", "cross"), ("aws", "cross"), ("cmk", None), ("none", "cross"),
             ("cmk", "events"))
SHARED_DEFAULT = (2, 2, 2)   # secrets, queues, topics per account and region
SECRET_KINDS = ["db-credentials", "api-key", "oauth-client", "tls-private-key", "service-token"]
QUEUE_PURPOSES = ["events", "jobs", "notifications", "ingest"]
TOPIC_PURPOSES = ["alerts", "events", "notifications", "audit"]
ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
SQS_CTYPE = "application/x-amz-json-1.0"
SNS_NS = "http://sns.amazonaws.com/doc/2010-03-31/"
SNS_PAGE = 100   # ListTopics: 100 topics per page
SNS_DELIVERY_POLICY = ('{"http":{"defaultHealthyRetryPolicy":{"minDelayTarget":20,"maxDelayTarget":20,"numRetries":3,'
                       '"numMaxDelayRetries":0,"numNoDelayRetries":0,"numMinDelayRetries":0,'
                       '"backoffFunction":"linear"},'
                       '"disableSubscriptionOverrides":false,"defaultRequestPolicy":{"headerContentType":'
                       '"text/plain; charset=UTF-8"}}}')
# EBS, RDS DB and DB cluster snapshots (plugin/tables/ec2, rds): (encryption, sharing) of each EBS snapshot,
# and of each DB instance or cluster whose snapshots they are, in turn from a hashed start per account and
# region, as for the secrets. Encryption: "cmk" = a customer managed key of the world (as the secrets'),
# "aws" = the region's aws/ebs or aws/rds key (an AWS managed key the fake's KMS serves; unencrypted when
# the region has none: fewer than 40 or 60 keys), "none" = unencrypted. Sharing (the createVolumePermission
# or restore attribute; manual RDS snapshots only): "cross" = the next account of the world. As AWS allows:
# never a snapshot under the AWS managed key (it can't be shared), and "all" (public) only for unencrypted
# ones, added to 12 % of them (EBS) or 15 % of the manual ones (RDS).
EBS_MIX = (("cmk", "cross"), ("aws", None), ("none", None), ("cmk", None), ("none", "cross"), ("aws", None),
           ("cmk", "cross"), ("none", None))
DB_MIX = (("cmk", "cross"), ("aws", None), ("none", "cross"), ("cmk", None), ("aws", None), ("none", None),
          ("cmk", "cross"))
# EBS snapshots, RDS DB snapshots, RDS DB cluster (Aurora) snapshots per account and region (RDS: even
# j manual, odd j the automated snapshot of the same instance or cluster)
SNAPSHOT_DEFAULT = (2, 2, 2)
EC2_NS = "http://ec2.amazonaws.com/doc/2016-11-15/"
RDS_NS = "http://rds.amazonaws.com/doc/2014-10-31/"
# AMIs (plugin/tables/ec2/images.py): whom each AMI's launchPermission names, in turn from a hashed start per
# account and region: "cross" = the next account of the world, "org" = the world's organisation, "ou" = its
# OU; as AWS allows, never an AMI whose root snapshot is under the AWS managed key, and "all" (public) only
# for unencrypted ones, added to 10 % of them. Its root volume is one of the account and region's EBS
# snapshots, with that snapshot's encryption and key.
IMAGE_MIX = (("cross",), (None,), ("org",), (None,), ("cross",), ("ou",), (None,), (None,))
# EBS encryption by default (plugin/tables/ec2/regional_configs.py): (on, default key) of each account and region,
# picked from a hashed start per account and region: the default key is "aws" = the region's aws/ebs alias ARN
# (AWS's answer when none was set) or "cmk" = a customer managed key of the world (as the snapshots').
EBS_DEFAULT_MIX = ((False, "aws"), (True, "aws"), (True, "cmk"), (False, "aws"), (True, "aws"), (False, "cmk"))
# AWS Backup (plugin/tables/backup): per account and region the Region's "Default" vault (under its aws/backup key,
# no access policy), then vaults with (encryption, access policy) in turn from a hashed start per account and
# region, as the secrets'. Encryption: "cmk" = a customer managed key of the world (as the secrets'; aws/backup
# where the region has none), "aws" = the region's aws/backup key. Policy: "cross" = the next account of the world
# may backup:CopyIntoBackupVault, "org" = any principal of the world's organisation may, "deny" = no one may
# delete recovery points, None = none (GetBackupVaultAccessPolicy answers ResourceNotFoundException).
VAULT_MIX = (("cmk", "cross"), ("cmk", None), ("aws", "cross"), ("cmk", "org"), ("cmk", "deny"), ("aws", None))
BACKUP_DEFAULT = (2, 1)   # vaults (the Default one included) and backup plans per account and region
BACKUP_PAGE = 1000        # ListBackupVaults / ListBackupPlans: MaxResults 1-1000, the whole list without it
BACKUP_CTYPE = "application/json"
# AWS Backup (REST-JSON): (method, path pattern, operation); a path's labels are percent-encoded by botocore
BACKUP_ROUTES = (("GET", re.compile(r"/backup-vaults/?"), "ListBackupVaults"),
                 ("GET", re.compile(r"/backup-vaults/([^/]+)/access-policy/?"), "GetBackupVaultAccessPolicy"),
                 ("GET", re.compile(r"/backup/plans/?"), "ListBackupPlans"),
                 ("GET", re.compile(r"/backup/plans/([^/]+)/?"), "GetBackupPlan"),
                 ("GET", re.compile(r"/tags/([^/]+)/?"), "ListTags"))
BACKUP_OPS = tuple(op for _, _, op in BACKUP_ROUTES)
# (name, schedule, lifecycle) of a plan's rules: the first copies to another account's vault
BACKUP_RULES = (("DailyBackups", "cron(0 5 ? * * *)", {"DeleteAfterDays": 35}),
                ("MonthlyBackups", "cron(0 5 1 * ? *)", {"MoveToColdStorageAfterDays": 30, "DeleteAfterDays": 365}))
BACKUP_PLAN_KINDS = ("daily", "weekly", "compliance", "critical")
# (name, root device, platform, PlatformDetails, UsageOperation, BootMode) of an AMI's operating system
AMI_SYSTEMS = (("al2023-base", "/dev/xvda", None, "Linux/UNIX", "RunInstances", "uefi-preferred"),
               ("ubuntu-jammy", "/dev/sda1", None, "Linux/UNIX", "RunInstances", None),
               ("windows-2022", "/dev/sda1", "windows", "Windows", "RunInstances:0002", "uefi"),
               ("rhel-9", "/dev/sda1", None, "Red Hat Enterprise Linux", "RunInstances:0010", None))


class Ec2Kind(NamedTuple):
    """EBS snapshots and AMIs: the same Describe / Describe...Attribute pair twice, with these names."""
    attrs_op: str                        # the attribute operation
    world: str                           # World.<world>(acct, region): the account's own, sorted by id
    id_key: str                          # the id's key (and its Describe's list parameter, <id_key>.N)
    prefix: str                          # of a well-formed id
    set_tag: str                         # the list element of the Describe answer
    shape: str                           # EC2_XML shape of one item
    attribute: str                       # the sharing attribute (besides productCodes)
    not_found: tuple[str, str]           # (code, message with {id})
    malformed: str                       # code of an id without `prefix`
    not_owner: tuple[int, str, str]      # (status, code, message with {id}): another account's


EC2_KINDS = {
    "DescribeSnapshots": Ec2Kind("DescribeSnapshotAttribute", "ebs_snapshots", "SnapshotId", "snap-", "snapshotSet",
                                 "snapshot", "createVolumePermission",
                                 ("InvalidSnapshot.NotFound", "The snapshot '{id}' does not exist."),
                                 "InvalidSnapshotID.Malformed",
                                 (403, "UnauthorizedOperation", "You are not authorized to perform this operation.")),
    "DescribeImages": Ec2Kind("DescribeImageAttribute", "images", "ImageId", "ami-", "imagesSet", "image",
                              "launchPermission", ("InvalidAMIID.NotFound", "The image id '[{id}]' does not exist"),
                              "InvalidAMIID.Malformed", (400, "AuthFailure", "Not authorized for image:{id}")),
}
EC2_ATTRS = {v.attrs_op: v for v in EC2_KINDS.values()}
# The region's EBS defaults (World.ebs_defaults): one element each, of the EC2_XML shape named by the operation
EC2_DEFAULT_OPS = ("GetEbsEncryptionByDefault", "GetEbsDefaultKmsKeyId")
EC2_OPS = (*EC2_KINDS, *EC2_ATTRS, *EC2_DEFAULT_OPS)
# The elements of an EBS snapshot and an AMI in their order, (element, key of the world's dict); a list or dict
# value is rendered with the shape named by its element (Server._ec2_xml)
EC2_XML: dict[str, tuple[tuple[str, str], ...]] = {
    "snapshot": (("snapshotId", "SnapshotId"), ("volumeId", "VolumeId"), ("status", "State"),
                 ("startTime", "StartTime"), ("progress", "Progress"), ("ownerId", "OwnerId"),
                 ("volumeSize", "VolumeSize"), ("description", "Description"), ("encrypted", "Encrypted"),
                 ("kmsKeyId", "KmsKeyId"), ("storageTier", "StorageTier"), ("tagSet", "Tags")),
    "image": (("imageId", "ImageId"), ("imageLocation", "ImageLocation"), ("imageState", "State"),
              ("imageOwnerId", "OwnerId"), ("creationDate", "CreationDate"), ("isPublic", "Public"),
              ("architecture", "Architecture"), ("imageType", "ImageType"), ("platform", "Platform"),
              ("sriovNetSupport", "SriovNetSupport"), ("name", "Name"), ("description", "Description"),
              ("rootDeviceType", "RootDeviceType"), ("rootDeviceName", "RootDeviceName"),
              ("blockDeviceMapping", "BlockDeviceMappings"), ("virtualizationType", "VirtualizationType"),
              ("tagSet", "Tags"), ("hypervisor", "Hypervisor"), ("enaSupport", "EnaSupport"),
              ("platformDetails", "PlatformDetails"), ("usageOperation", "UsageOperation"), ("bootMode", "BootMode"),
              ("imdsSupport", "ImdsSupport"), ("deprecationTime", "DeprecationTime")),
    "blockDeviceMapping": (("deviceName", "DeviceName"), ("virtualName", "VirtualName"), ("ebs", "Ebs")),
    "ebs": (("snapshotId", "SnapshotId"), ("volumeSize", "VolumeSize"), ("deleteOnTermination", "DeleteOnTermination"),
            ("volumeType", "VolumeType"), ("iops", "Iops"), ("throughput", "Throughput"), ("encrypted", "Encrypted"),
            ("kmsKeyId", "KmsKeyId")),
    "tagSet": (("key", "Key"), ("value", "Value")),
    "GetEbsEncryptionByDefault": (("ebsEncryptionByDefault", "EbsEncryptionByDefault"),),
    "GetEbsDefaultKmsKeyId": (("kmsKeyId", "KmsKeyId"),),
}
RDS_OPS = ("DescribeDBSnapshots", "DescribeDBSnapshotAttributes", "DescribeDBClusterSnapshots",
           "DescribeDBClusterSnapshotAttributes")
# RDS DB snapshots and DB cluster snapshots: the same API twice, with these names
RDS_KINDS: dict[str, dict[str, str]] = {
    "DescribeDBSnapshots": {
        "attrs_op": "DescribeDBSnapshotAttributes", "world": "db_snapshots", "ident": "DBSnapshotIdentifier",
        "arn": "DBSnapshotArn", "parent": "DBInstanceIdentifier", "not_found": "DBSnapshotNotFound",
        "noun": "DBSnapshot", "items": "DBSnapshots"},
    "DescribeDBClusterSnapshots": {
        "attrs_op": "DescribeDBClusterSnapshotAttributes", "world": "cluster_snapshots",
        "ident": "DBClusterSnapshotIdentifier", "arn": "DBClusterSnapshotArn", "parent": "DBClusterIdentifier",
        "not_found": "DBClusterSnapshotNotFoundFault", "noun": "DBClusterSnapshot", "items": "DBClusterSnapshots"},
}
RDS_ATTRS = {v["attrs_op"]: v for v in RDS_KINDS.values()}
# The elements of a DBSnapshot and a DBClusterSnapshot in their order (Server._rds_snapshot_xml)
RDS_XML_FIELDS = {
    "DBSnapshot": (
        "DBSnapshotIdentifier", "DBInstanceIdentifier", "SnapshotCreateTime", "Engine", "AllocatedStorage", "Status",
        "Port", "AvailabilityZone", "VpcId", "InstanceCreateTime", "MasterUsername", "EngineVersion", "LicenseModel",
        "SnapshotType", "Iops", "StorageThroughput", "OptionGroupName", "PercentProgress", "StorageType",
        "Encrypted", "KmsKeyId", "DBSnapshotArn", "IAMDatabaseAuthenticationEnabled", "<ProcessorFeatures/>",
        "DbiResourceId", "Tags", "OriginalSnapshotCreateTime", "SnapshotTarget",
        "<DedicatedLogVolume>false</DedicatedLogVolume>", "<MultiTenant>false</MultiTenant>"),
    "DBClusterSnapshot": (
        "AvailabilityZones", "DBClusterSnapshotIdentifier", "DBClusterIdentifier", "SnapshotCreateTime", "Engine",
        "EngineMode", "AllocatedStorage", "Status", "Port", "VpcId", "ClusterCreateTime", "MasterUsername",
        "EngineVersion", "LicenseModel", "SnapshotType", "PercentProgress", "StorageEncrypted", "KmsKeyId",
        "DBClusterSnapshotArn", "IAMDatabaseAuthenticationEnabled", "Tags", "StorageType", "DbClusterResourceId"),
}
# Aurora: (engine, version, port, license model, master user)
CLUSTER_ENGINES = (("aurora-postgresql", "16.4", 5432, "postgresql-license", "postgres"),
                   ("aurora-mysql", "8.0.mysql_aurora.3.07.1", 3306, "general-public-license", "admin"))
# (engine, version, port, license model, master user, option group); postgres and mysql twice as likely
DB_ENGINES = (("postgres", "16.4", 5432, "postgresql-license", "postgres", "default:postgres-16"),
              ("postgres", "15.8", 5432, "postgresql-license", "postgres", "default:postgres-15"),
              ("mysql", "8.0.39", 3306, "general-public-license", "admin", "default:mysql-8-0"),
              ("mysql", "8.0.35", 3306, "general-public-license", "admin", "default:mysql-8-0"),
              ("mariadb", "10.11.9", 3306, "general-public-license", "admin", "default:mariadb-10-11"),
              ("sqlserver-se", "15.00.4385.2.v1", 1433, "license-included", "admin", "default:sqlserver-se-15-00"),
              ("oracle-se2", "19.0.0.0.ru-2024-07.rur-2024-07.r1", 1521, "bring-your-own-license", "admin",
               "default:oracle-se2-19"))
EBS_DESCRIPTIONS = ("Created by CreateImage({instance}) for {ami}", "{app} {env} daily backup",
                    "This snapshot is created by the AWS Backup service.", "", "{app} {env} before upgrade")
# SQS (JSON protocol, query-compatible): botocore reads the error code from x-amzn-query-error.
SQS_ERROR_TYPES = {"AWS.SimpleQueueService.NonExistentQueue": "QueueDoesNotExist",
                   "RequestThrottled": "RequestThrottled", "InvalidParameterValue": "InvalidParameterValueException",
                   "AccessDenied": "AccessDeniedException",
                   "AWS.SimpleQueueService.UnsupportedOperation": "UnsupportedOperation"}

# KMS list operations: (items key, default Limit, max Limit) from the API reference.
KMS_LIST_LIMITS = {"ListKeys": (100, 1000), "ListAliases": (50, 100), "ListGrants": (50, 100),
                   "ListResourceTags": (50, 50), "ListKeyRotations": (100, 1000)}


def account_id(seed: int, i: int) -> str:
    return f"{seed % 90 + 10:02d}{i + 1:010d}"


def _access_point(w: "World", acct: str, region: str, name: str) -> dict:
    """The access point `name` of (account, Region), or S3 Control's NoSuchAccessPoint."""
    ap = next((a for a in w.access_points(acct, region) if a["Name"] == name), None)
    if ap is None:
        raise ApiError(404, "NoSuchAccessPoint", "The specified accesspoint does not exist")
    return ap


def canonical_id(acct: str) -> str:
    """The account's S3 canonical user id (the Owner.ID of ListBuckets and GetBucketAcl)."""
    return hashlib.sha256(acct.encode()).hexdigest()


def iso(ts: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime(ts))


def _pab_xml(cfg: dict[str, bool]) -> str:
    """A PublicAccessBlockConfiguration's four settings, in the API reference's order."""
    return "".join(f"<{k}>{'true' if cfg[k] else 'false'}</{k}>"
                   for k in ("BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets"))


def xml_escape(s: str) -> str:
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


# ---------------------------------------------------------------------------------------------
# The world


@dataclass(slots=True)
class Key:
    idx: int
    key_id: str
    arn: str
    kind: str  # customer | aws | external | rsa | hmac | pending | disabled
    created: int
    h: int  # per-key hash for every other choice
    aws_service: str = ""
    multi_region: bool = False
    rotation: bool = False
    period: int = 365

    @property
    def customer(self) -> bool:
        return self.kind != "aws"

    @property
    def symmetric(self) -> bool:
        return self.kind not in ("rsa", "hmac")

    @property
    def origin(self) -> str:
        return "EXTERNAL" if self.kind == "external" else "AWS_KMS"


class RdsDraw(NamedTuple):
    """What one RDS DB or cluster snapshot is drawn from (World._rds_snapshots): its parent (instance or
    cluster) n, the parent's and the snapshot's hashes, manual or automated, the key ARN, the parent's
    app, environment and creation time."""
    acct: str
    region: str
    n: int
    gi: int
    g: int
    manual: bool
    key: str | None
    app: str
    env: str
    created: int


@dataclass(slots=True)
class Bucket:
    name: str
    account: str
    region: str
    created: int
    h: int


class World:
    def __init__(self, accounts: int, regions: int, keys: int, buckets: int, seed: int, mraps: int = 0,
                 iam: tuple[int, int, int, int] = IAM_DEFAULT, iam_heavy_accounts: int = 0,
                 shared: tuple[int, int, int] = SHARED_DEFAULT,
                 snapshots: tuple[int, ...] = SNAPSHOT_DEFAULT, images: int | None = None,
                 backup: tuple[int, int] = BACKUP_DEFAULT) -> None:
        if regions > len(REGION_POOL):
            raise SystemExit(f"--regions at most {len(REGION_POOL)}")
        self.seed = seed
        self.accounts = [account_id(seed, i) for i in range(accounts)]
        self.account_set = set(self.accounts)
        self.regions = REGION_POOL[:regions]
        self.region_set = set(self.regions)
        self.keys_per_region = keys
        self.buckets_per_account = buckets
        self._keys: dict[tuple[str, str], tuple[list[Key], dict[str, Key]]] = {}
        self._aliases: dict[tuple[str, str], list[dict[str, Any]]] = {}
        self._buckets: dict[str, list[Bucket]] = {}
        self._bucket_by_name: dict[str, Bucket] = {}
        self._policies: dict[tuple, str] = {}
        self.mraps_per_account = mraps
        self._by_region: dict[tuple[str, str], list[Bucket]] = {}
        self._access_points: dict[tuple[str, str], list[dict[str, Any]]] = {}
        self._mraps: dict[str, list[dict[str, Any]]] = {}
        # (roles, users, groups, policies) of every account, or of the first `iam_heavy_accounts` only
        # (0: every account); the other accounts get IAM_DEFAULT.
        self.iam_sizes, self.iam_heavy_accounts = tuple(iam), iam_heavy_accounts
        self._iam: dict[str, list[tuple[str, str, dict[str, Any]]]] = {}
        # Secrets Manager, SQS, SNS: resources per account and region
        self.secrets_per_region, self.queues_per_region, self.topics_per_region = shared
        self._secrets: dict[tuple[str, str], list[dict[str, Any]]] = {}
        self._queues: dict[tuple[str, str], list[dict[str, Any]]] = {}
        self._topics: dict[tuple[str, str], list[dict[str, Any]]] = {}
        self._secret_by_id: dict[str, tuple[str, str, dict[str, Any]]] = {}   # ARN -> (account, region, secret)
        self._queue_by_url: dict[str, tuple[str, str, dict[str, Any]]] = {}
        self._topic_by_arn: dict[str, tuple[str, str, dict[str, Any]]] = {}
        # EBS snapshots and RDS DB snapshots: per account and region
        self.ebs_snapshots_per_region, self.db_snapshots_per_region, self.cluster_snapshots_per_region = \
            (*snapshots, *SNAPSHOT_DEFAULT[len(snapshots):])
        self._ebs: dict[tuple[str, str], list[dict[str, Any]]] = {}
        self._dbsnaps: dict[tuple[str, str], list[dict[str, Any]]] = {}
        self._clsnaps: dict[tuple[str, str], list[dict[str, Any]]] = {}
        # AMIs per account and region: that many, or None: 1 or 2, drawn per account and region
        self.images_per_region = images
        self._images: dict[tuple[str, str], list[dict[str, Any]]] = {}
        # AWS Backup: vaults (the Default one included) and backup plans per account and region
        self.vaults_per_region, self.plans_per_region = backup
        self._vaults: dict[tuple[str, str], list[dict[str, Any]]] = {}
        self._plans: dict[tuple[str, str], list[dict[str, Any]]] = {}

    def h(self, *parts: Any) -> int:
        return int.from_bytes(hashlib.blake2b("|".join(map(str, (self.seed, *parts))).encode(),
                                              digest_size=8).digest(), "big")

    # -- Lists per account and region, drawn in turn through a mix ---------------------------------
    def _per_region(self, cache: dict[tuple[str, str], list[Any]], acct: str, region: str,
                    build: Callable[[str, str], list[Any]], sort_key: str | None = None) -> list[Any]:
        """One kind of resource of an account and region, built once by `build(acct, region)` (sorted by
        `sort_key`, as its List/Describe call returns them); none outside the world."""
        got = cache.get((acct, region))
        if got is None:
            got = []
            if acct in self.account_set and region in self.region_set:
                got = build(acct, region)
                if sort_key is not None:
                    got.sort(key=lambda x: x[sort_key])
            cache[(acct, region)] = got
        return got

    def _drawn(self, tag: str, acct: str, region: str, count: int, mix: tuple[tuple[Any, ...], ...],
               mix_tag: str = "") -> list[tuple[int, int, tuple[Any, ...]]]:
        """(j, g, mix entry) of the j-th of `count` resources: g = h(tag, acct, region, j), and `mix`'s
        entries in turn from a hashed start per account and region (h(mix_tag or tag + "mix", ...))."""
        base = self.h(mix_tag or f"{tag}mix", acct, region)
        return [(j, self.h(tag, acct, region, j), mix[(base + j) % len(mix)]) for j in range(count)]

    @staticmethod
    def _app_env(g: int) -> tuple[str, str]:
        return APPS[g % len(APPS)], ENVS[(g >> 8) % len(ENVS)]

    @staticmethod
    def _team_tags(app: str, env: str, n: int) -> list[tuple[str, str]]:
        """The first n (0-3) of the tags the resources carry."""
        return [("Team", app), ("Environment", env), ("ManagedBy", "terraform")][:n]

    @staticmethod
    def _tag_list(pairs: list[tuple[str, str]]) -> list[dict[str, str]]:
        return [{"Key": k, "Value": v} for k, v in pairs]

    # -- KMS ------------------------------------------------------------------------------------
    def keys(self, acct: str, region: str) -> tuple[list[Key], dict[str, Key]]:
        got = self._keys.get((acct, region))
        if got is not None:
            return got
        out: list[Key] = []
        if acct in self.account_set and region in self.region_set:
            n_aws = min(len(AWS_MANAGED), max(1, self.keys_per_region // 20))
            for i in range(self.keys_per_region):
                h = self.h("key", acct, region, i)
                r = h % 1000
                if i < n_aws:
                    kind = "aws"
                elif r < 50:
                    kind = "pending"
                elif r < 80:
                    kind = "disabled"
                elif r < 150:
                    kind = "external"
                elif r < 230:
                    kind = "rsa"
                elif r < 250:
                    kind = "hmac"
                else:
                    kind = "customer"
                multi = kind == "customer" and (h >> 10) % 100 < 5
                kid = ("mrk-" + f"{h:016x}{self.h('mrk', acct, region, i):016x}") if multi else \
                    str(uuid.UUID(int=(h << 64) | self.h("kid", acct, region, i), version=4))
                k = Key(i, kid, f"arn:aws:kms:{region}:{acct}:key/{kid}", kind,
                        BASE_EPOCH + (h >> 20) % (4 * 365 * DAY), h, multi_region=multi)
                if kind == "aws":
                    k.aws_service = AWS_MANAGED[i]
                    k.rotation, k.period = True, 365
                elif kind in ("customer", "disabled", "pending"):
                    k.rotation = (h >> 30) % 100 < 65
                    k.period = (90, 180, 365, 365, 730)[(h >> 34) % 5]
                out.append(k)
        got = (out, {k.key_id: k for k in out})
        self._keys[(acct, region)] = got
        return got

    def find_key(self, acct: str, region: str, key_ref: str) -> Key:
        keys, by_id = self.keys(acct, region)
        ref = key_ref
        if ref.startswith("arn:"):
            parts = ref.split(":", 5)
            if len(parts) != 6 or parts[3] != region or parts[4] != acct:
                raise ApiError(400, "NotFoundException", f"Key '{key_ref}' does not exist")
            ref = parts[5]
            if ref.startswith("alias/"):
                return self._by_alias(acct, region, ref, key_ref)
            ref = ref.removeprefix("key/")
        elif ref.startswith("alias/"):
            return self._by_alias(acct, region, ref, key_ref)
        k = by_id.get(ref)
        if k is None:
            raise ApiError(400, "NotFoundException", f"Key '{key_ref}' does not exist")
        return k

    def _by_alias(self, acct: str, region: str, name: str, ref: str) -> Key:
        _, by_id = self.keys(acct, region)
        for a in self.aliases(acct, region):
            if a["AliasName"] == name and "TargetKeyId" in a:
                return by_id[a["TargetKeyId"]]
        raise ApiError(400, "NotFoundException", f"Alias '{ref}' does not exist")

    @staticmethod
    def alias_name(k: Key) -> str:
        """The alias of a customer key (ListAliases has one per key)."""
        app, env = World._app_env(k.h)
        return f"alias/{app}-{env}-{k.idx:05d}"

    def aliases(self, acct: str, region: str) -> list[dict[str, Any]]:
        got = self._aliases.get((acct, region))
        if got is not None:
            return got
        out: list[dict[str, Any]] = []
        keys, _ = self.keys(acct, region)
        if keys:
            for k in keys:
                if k.kind == "aws":
                    name = f"alias/aws/{k.aws_service}"
                else:
                    name = self.alias_name(k)
                ts = k.created + 60
                out.append({"AliasName": name, "AliasArn": f"arn:aws:kms:{region}:{acct}:{name}",
                            "TargetKeyId": k.key_id, "CreationDate": ts,
                            "LastUpdatedDate": ts + (k.h >> 40) % (90 * DAY)})
            used = {f"aws/{s}" for s in AWS_MANAGED[:sum(1 for k in keys if k.kind == 'aws')]}
            for p in AWS_PREDEFINED:
                if p not in used:
                    out.append({"AliasName": f"alias/{p}", "AliasArn": f"arn:aws:kms:{region}:{acct}:alias/{p}"})
            out.sort(key=lambda a: a["AliasName"])
        self._aliases[(acct, region)] = out
        return out

    def key_metadata(self, acct: str, region: str, k: Key) -> dict[str, Any]:
        m: dict[str, Any] = {
            "AWSAccountId": acct, "KeyId": k.key_id, "Arn": k.arn, "CreationDate": k.created,
            "Enabled": True, "Description": "", "KeyUsage": "ENCRYPT_DECRYPT", "KeyState": "Enabled",
            "Origin": k.origin, "KeyManager": "AWS" if k.kind == "aws" else "CUSTOMER",
            "CustomerMasterKeySpec": "SYMMETRIC_DEFAULT", "KeySpec": "SYMMETRIC_DEFAULT",
            "EncryptionAlgorithms": ["SYMMETRIC_DEFAULT"], "MultiRegion": k.multi_region,
        }
        app = APPS[k.h % len(APPS)]
        env = ENVS[(k.h >> 8) % len(ENVS)]
        if k.kind == "aws":
            m["Description"] = f"Default key that protects my {k.aws_service.upper()} data when no other key is defined"
        else:
            m["Description"] = f"{app} {env} data key #{k.idx}"
        if k.symmetric and k.kind not in ("external",):
            m["CurrentKeyMaterialId"] = f"{k.h:016x}" * 4
        if k.kind == "pending":
            days = (7, 30)[k.h % 2]
            m.update(Enabled=False, KeyState="PendingDeletion", DeletionDate=NOW + days * DAY - (k.h % DAY),
                     PendingDeletionWindowInDays=days)
        elif k.kind == "disabled":
            m.update(Enabled=False, KeyState="Disabled")
        elif k.kind == "external":
            if (k.h >> 12) % 10 == 0:
                m.update(Enabled=False, KeyState="PendingImport")
            elif (k.h >> 12) % 10 < 4:
                m.update(ExpirationModel="KEY_MATERIAL_EXPIRES", ValidTo=NOW + ((k.h >> 16) % 365 + 1) * DAY,
                         CurrentKeyMaterialId=f"{k.h:016x}" * 4)
            else:
                m.update(ExpirationModel="KEY_MATERIAL_DOES_NOT_EXPIRE", CurrentKeyMaterialId=f"{k.h:016x}" * 4)
        elif k.kind == "rsa":
            m.update(KeyUsage="SIGN_VERIFY", CustomerMasterKeySpec="RSA_2048", KeySpec="RSA_2048",
                     SigningAlgorithms=["RSASSA_PSS_SHA_256", "RSASSA_PSS_SHA_384", "RSASSA_PSS_SHA_512",
                                        "RSASSA_PKCS1_V1_5_SHA_256", "RSASSA_PKCS1_V1_5_SHA_384",
                                        "RSASSA_PKCS1_V1_5_SHA_512"])
            del m["EncryptionAlgorithms"]
        elif k.kind == "hmac":
            m.update(KeyUsage="GENERATE_VERIFY_MAC", CustomerMasterKeySpec="HMAC_256", KeySpec="HMAC_256",
                     MacAlgorithms=["HMAC_SHA_256"])
            del m["EncryptionAlgorithms"]
        if k.multi_region:
            other = REGION_POOL[(REGION_POOL.index(region) + 1) % len(REGION_POOL)]
            m["MultiRegionConfiguration"] = {
                "MultiRegionKeyType": "PRIMARY", "PrimaryKey": {"Arn": k.arn, "Region": region},
                "ReplicaKeys": [{"Arn": f"arn:aws:kms:{other}:{acct}:key/{k.key_id}", "Region": other}],
            }
        return m

    def key_policy(self, acct: str, region: str, k: Key) -> str:
        # The document depends only on (account, region, service) or (account, app, shared): render
        # each variant once (pretty-printing with json.dumps(indent=) is slow) and reuse it.
        if k.kind == "aws":
            ck: tuple = (acct, region, k.aws_service)
        else:
            ck = (acct, APPS[k.h % len(APPS)], k.h % 7 == 0)
        doc = self._policies.get(ck)
        if doc is None:
            doc = self._policies[ck] = self._render_key_policy(acct, region, k)
        return doc

    def _render_key_policy(self, acct: str, region: str, k: Key) -> str:
        if k.kind == "aws":
            svc = k.aws_service
            stmts = [
                {"Sid": f"Allow access through {svc.upper()} for all principals in the account that are authorized "
                        f"to use {svc.upper()}",
                 "Effect": "Allow", "Principal": {"AWS": "*"},
                 "Action": ["kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*",
                            "kms:CreateGrant", "kms:DescribeKey"],
                 "Resource": "*",
                 "Condition": {"StringEquals": {"kms:CallerAccount": acct,
                                                "kms:ViaService": f"{svc}.{region}.amazonaws.com"}}},
                {"Sid": "Allow direct access to key metadata to the account", "Effect": "Allow",
                 "Principal": {"AWS": f"arn:aws:iam::{acct}:root"},
                 "Action": ["kms:Describe*", "kms:Get*", "kms:List*", "kms:RevokeGrant"], "Resource": "*"},
            ]
            return json.dumps({"Version": "2012-10-17", "Id": f"auto-{svc}-2", "Statement": stmts}, indent=4)
        app = APPS[k.h % len(APPS)]
        stmts = [
            {"Sid": "Enable IAM User Permissions", "Effect": "Allow",
             "Principal": {"AWS": f"arn:aws:iam::{acct}:root"}, "Action": "kms:*", "Resource": "*"},
            {"Sid": "Allow access for Key Administrators", "Effect": "Allow",
             "Principal": {"AWS": [f"arn:aws:iam::{acct}:role/KeyAdmins", f"arn:aws:iam::{acct}:role/terraform"]},
             "Action": ["kms:Create*", "kms:Describe*", "kms:Enable*", "kms:List*", "kms:Put*", "kms:Update*",
                        "kms:Revoke*", "kms:Disable*", "kms:Get*", "kms:Delete*", "kms:TagResource",
                        "kms:UntagResource", "kms:ScheduleKeyDeletion", "kms:CancelKeyDeletion",
                        "kms:RotateKeyOnDemand"],
             "Resource": "*"},
            {"Sid": "Allow use of the key", "Effect": "Allow",
             "Principal": {"AWS": f"arn:aws:iam::{acct}:role/{app}-service"},
             "Action": ["kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:DescribeKey"],
             "Resource": "*"},
            {"Sid": "Allow attachment of persistent resources", "Effect": "Allow",
             "Principal": {"AWS": f"arn:aws:iam::{acct}:role/{app}-service"},
             "Action": ["kms:CreateGrant", "kms:ListGrants", "kms:RevokeGrant"], "Resource": "*",
             "Condition": {"Bool": {"kms:GrantIsForAWSResource": "true"}}},
        ]
        if k.h % 7 == 0:  # some keys shared with another account of the world
            other = self.accounts[(self.accounts.index(acct) + 1) % len(self.accounts)] if acct in self.account_set \
                else acct
            stmts.append({"Sid": "AllowCrossAccountDecrypt", "Effect": "Allow",
                          "Principal": {"AWS": f"arn:aws:iam::{other}:root"},
                          "Action": ["kms:Decrypt", "kms:DescribeKey"], "Resource": "*"})
        return json.dumps({"Version": "2012-10-17", "Id": "key-consolepolicy-3", "Statement": stmts}, indent=4)

    def grants(self, acct: str, region: str, k: Key) -> list[dict[str, Any]]:
        n = (k.h >> 44) % 3 if k.symmetric else 0
        out = []
        for j in range(n):
            g = self.h("grant", k.arn, j)
            gid = f"{g:016x}{self.h('g2', k.arn, j):016x}" * 2
            entry: dict[str, Any] = {
                "KeyId": k.arn, "GrantId": gid, "Name": "", "CreationDate": k.created + (g % (300 * DAY)),
                "IssuingAccount": f"arn:aws:iam::{acct}:root",
                "Operations": ["Decrypt", "Encrypt", "GenerateDataKeyWithoutPlaintext", "ReEncryptFrom",
                               "ReEncryptTo", "CreateGrant", "DescribeKey"],
            }
            if k.kind == "aws" or g % 2:
                entry["GranteePrincipal"] = f"{k.aws_service or 'ebs'}.{region}.amazonaws.com"
                entry["Constraints"] = {"EncryptionContextSubset": {"aws:ebs:id": f"vol-{g:017x}"[:21]}}
                entry["RetiringPrincipal"] = f"arn:aws:iam::{acct}:role/aws-service-role/autoscaling.amazonaws.com/" \
                                             "AWSServiceRoleForAutoScaling"
            else:
                entry["GranteePrincipal"] = f"arn:aws:iam::{acct}:role/{APPS[g % len(APPS)]}-worker"
                entry["Name"] = f"grant-{j}"
            out.append(entry)
        return out

    def tags(self, k: Key) -> list[dict[str, str]]:
        n = (k.h >> 46) % 4
        pool = [("Team", APPS[k.h % len(APPS)]), ("Environment", ENVS[(k.h >> 8) % len(ENVS)]),
                ("CostCenter", f"cc-{k.h % 9000 + 1000}"), ("ManagedBy", "terraform")]
        return [{"TagKey": a, "TagValue": b} for a, b in pool[:n]]

    def rotations(self, k: Key) -> list[dict[str, Any]]:
        if k.origin == "EXTERNAL":
            if (k.h >> 12) % 10 == 0:
                return []
            return [{"KeyId": k.key_id, "KeyMaterialId": f"{k.h:016x}" * 4, "ImportState": "IMPORTED",
                     "KeyMaterialState": "CURRENT", "ExpirationModel": "KEY_MATERIAL_DOES_NOT_EXPIRE",
                     "RotationDate": k.created + 3600, "RotationType": "ON_DEMAND"}]
        if not k.rotation:
            return []
        done = min(3, max(0, (NOW - k.created) // (k.period * DAY)))
        return [{"KeyId": k.key_id, "KeyMaterialId": f"{self.h('mat', k.arn, j):016x}" * 4,
                 "RotationDate": k.created + (j + 1) * k.period * DAY, "RotationType": "AUTOMATIC"}
                for j in range(done)]

    def rotation_status(self, k: Key) -> dict[str, Any]:
        out: dict[str, Any] = {"KeyId": k.arn, "KeyRotationEnabled": k.rotation}
        if k.rotation:
            period = k.period * DAY
            n = (NOW - k.created) // period + 1
            out["RotationPeriodInDays"] = k.period
            out["NextRotationDate"] = k.created + n * period
        return out

    # -- S3 -------------------------------------------------------------------------------------
    def buckets(self, acct: str) -> list[Bucket]:
        got = self._buckets.get(acct)
        if got is not None:
            return got
        out: list[Bucket] = []
        if acct in self.account_set:
            for i in range(self.buckets_per_account):
                h = self.h("bucket", acct, i)
                name = f"{BUCKET_PREFIXES[h % len(BUCKET_PREFIXES)]}-{acct}-{i:05d}"
                b = Bucket(name, acct, self.regions[(h >> 8) % len(self.regions)],
                           BASE_EPOCH + (h >> 20) % (4 * 365 * DAY), h)
                out.append(b)
                self._bucket_by_name[name] = b
            out.sort(key=lambda b: b.name)
        self._buckets[acct] = out
        return out

    def bucket(self, acct: str, name: str) -> Bucket:
        parts = name.rsplit("-", 2)
        owner = parts[1] if len(parts) == 3 else ""
        if owner in self.account_set:
            self.buckets(owner)
        b = self._bucket_by_name.get(name)
        if b is None:
            raise ApiError(404, "NoSuchBucket", "The specified bucket does not exist")
        if b.account != acct:
            raise ApiError(403, "AccessDenied", "Access Denied")
        return b

    @staticmethod
    def has_bucket_policy(b: Bucket) -> bool:
        return (b.h >> 24) % 100 < 45

    @staticmethod
    def bucket_public(b: Bucket) -> bool:
        return (b.h >> 24) % 100 < 5

    def bucket_policy(self, b: Bucket) -> str | None:
        r = (b.h >> 24) % 100
        if r >= 45:
            return None
        arn = f"arn:aws:s3:::{b.name}"
        stmts: list[dict[str, Any]] = [
            {"Sid": "DenyInsecureTransport", "Effect": "Deny", "Principal": "*", "Action": "s3:*",
             "Resource": [arn, f"{arn}/*"], "Condition": {"Bool": {"aws:SecureTransport": "false"}}},
        ]
        if r < 5:
            stmts.append({"Sid": "PublicRead", "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
                          "Resource": f"{arn}/*"})
        elif r < 20:
            stmts.append({"Sid": "AllowCloudFrontServicePrincipal", "Effect": "Allow",
                          "Principal": {"Service": "cloudfront.amazonaws.com"}, "Action": "s3:GetObject",
                          "Resource": f"{arn}/*",
                          "Condition": {"StringEquals": {"AWS:SourceArn":
                                                         f"arn:aws:cloudfront::{b.account}:distribution/E{b.h % 10**12:012d}"}}})
        else:
            stmts.append({"Sid": "DenyUnencryptedUploads", "Effect": "Deny", "Principal": "*",
                          "Action": "s3:PutObject", "Resource": f"{arn}/*",
                          "Condition": {"StringNotEquals": {"s3:x-amz-server-side-encryption": "aws:kms"}}})
        return json.dumps({"Version": "2012-10-17", "Statement": stmts}, separators=(",", ":"))

    def bucket_encryption(self, b: Bucket) -> str | None:
        r = (b.h >> 32) % 100
        if r < 5:
            return None
        bke = ""
        if r < 55:
            rule = "<SSEAlgorithm>AES256</SSEAlgorithm>"
        elif r < 80:
            keys, _ = self.keys(b.account, b.region)
            sym = [k for k in keys[:64] if k.symmetric and k.kind == "customer"]
            kid = sym[b.h % len(sym)].arn if sym else f"arn:aws:kms:{b.region}:{b.account}:alias/data"
            rule = f"<SSEAlgorithm>aws:kms</SSEAlgorithm><KMSMasterKeyID>{kid}</KMSMasterKeyID>"
            bke = "<BucketKeyEnabled>true</BucketKeyEnabled>"
        elif r < 93:
            rule = "<SSEAlgorithm>aws:kms</SSEAlgorithm>"
            bke = "<BucketKeyEnabled>false</BucketKeyEnabled>"
        else:
            rule = "<SSEAlgorithm>aws:kms:dsse</SSEAlgorithm>"
        blocked = "<BlockedEncryptionTypes><EncryptionType>SSE-C</EncryptionType></BlockedEncryptionTypes>" \
            if r % 3 == 0 else ""
        return (f'<?xml version="1.0" encoding="UTF-8"?>\n<ServerSideEncryptionConfiguration xmlns="{S3_NS}">'
                f"<Rule><ApplyServerSideEncryptionByDefault>{rule}</ApplyServerSideEncryptionByDefault>{bke}"
                f"{blocked}</Rule></ServerSideEncryptionConfiguration>")


    # -- S3 access paths: Object Ownership, ACL, replication, logging; access points, MRAPs ------
    # Drawn from hashes of their own (self.h("acl", ...), ...), never from the bits of Bucket.h that
    # the calls above use, so adding them changed no earlier answer.
    @staticmethod
    def ownership(b: Bucket) -> str | None:
        """ObjectOwnership (None: not configured): 75 % BucketOwnerEnforced (ACLs disabled, so the plugin
        skips GetBucketAcl), 10 % BucketOwnerPreferred, 10 % ObjectWriter, 5 % not configured."""
        r = (b.h >> 56) % 100
        if r < 5:
            return None
        return "BucketOwnerEnforced" if r >= 25 else ("BucketOwnerPreferred" if r >= 15 else "ObjectWriter")

    def _other_account(self, acct: str) -> str | None:
        if acct not in self.account_set or len(self.accounts) < 2:
            return None
        return self.accounts[(self.accounts.index(acct) + 1) % len(self.accounts)]

    def buckets_in(self, acct: str, region: str) -> list[Bucket]:
        got = self._by_region.get((acct, region))
        if got is None:
            got = self._by_region[(acct, region)] = [b for b in self.buckets(acct) if b.region == region]
        return got

    def log_target(self, acct: str, region: str) -> Bucket | None:
        """The bucket an account's buckets in a region deliver their access logs to (S3 wants the same
        region): its first `logs-` bucket there, else its first bucket there."""
        bs = self.buckets_in(acct, region)
        return next((b for b in bs if b.name.startswith("logs-")), bs[0] if bs else None)

    def bucket_acl(self, b: Bucket) -> list[tuple[str, str, str]]:
        """(grantee type, canonical id or group URI, permission): the owner's FULL_CONTROL; the log
        delivery group on the region's log target bucket; 4 % public READ; 10 % READ for the next
        account of the world. Only buckets whose ACLs are in force are asked (25 %)."""
        grants = [("CanonicalUser", canonical_id(b.account), "FULL_CONTROL")]
        if self.log_target(b.account, b.region) is b:
            grants += [("Group", LOG_DELIVERY, "WRITE"), ("Group", LOG_DELIVERY, "READ_ACP")]
        r = self.h("acl", b.name) % 100
        other = self._other_account(b.account)
        if r < 4:
            grants.append(("Group", ALL_USERS, "READ"))
        elif r < 14 and other:
            grants.append(("CanonicalUser", canonical_id(other), "READ"))
        return grants

    def bucket_replication(self, b: Bucket) -> str | None:
        """ReplicationConfiguration XML for 8 % of buckets (None: not configured). The destination is a
        bucket of the same account, or for a third of them of the next account; half of the rules
        replicate SSE-KMS objects with a ReplicaKmsKeyID of the destination's account and region."""
        h = self.h("repl", b.name)
        if h % 100 >= 8:
            return None
        other = self._other_account(b.account)
        dacct = other if other and (h >> 8) % 3 == 0 else b.account
        pool = self.buckets(dacct)
        if not pool:
            return None
        i = (h >> 16) % len(pool)
        dest = pool[i] if pool[i] is not b else pool[(i + 1) % len(pool)]
        if dest is b:
            return None
        enc = ssc = ""
        if (h >> 32) % 2:
            keys, _ = self.keys(dacct, dest.region)
            sym = [k for k in keys[:64] if k.symmetric and k.kind == "customer"]
            if sym:
                kid = sym[(h >> 40) % len(sym)].arn
                enc = f"<EncryptionConfiguration><ReplicaKmsKeyID>{kid}</ReplicaKmsKeyID></EncryptionConfiguration>"
                ssc = ("<SourceSelectionCriteria><SseKmsEncryptedObjects><Status>Enabled</Status>"
                       "</SseKmsEncryptedObjects></SourceSelectionCriteria>")
        cross = (f"<Account>{dacct}</Account><AccessControlTranslation><Owner>Destination</Owner>"
                 "</AccessControlTranslation>") if dacct != b.account else ""
        return (f'<?xml version="1.0" encoding="UTF-8"?>\n<ReplicationConfiguration xmlns="{S3_NS}">'
                f"<Role>arn:aws:iam::{b.account}:role/s3-replication</Role><Rule><ID>replicate-all</ID>"
                f"<Priority>1</Priority><Filter/><Status>Enabled</Status>{ssc}<Destination>"
                f"<Bucket>arn:aws:s3:::{dest.name}</Bucket>{cross}<StorageClass>STANDARD</StorageClass>{enc}"
                "</Destination><DeleteMarkerReplication><Status>Disabled</Status></DeleteMarkerReplication>"
                "</Rule></ReplicationConfiguration>")

    def bucket_logging(self, b: Bucket) -> tuple[str, str] | None:
        """(target bucket, prefix) for 15 % of buckets: the log target of their account and region."""
        if self.h("log", b.name) % 100 >= 15:
            return None
        t = self.log_target(b.account, b.region)
        if t is None or t is b:
            return None
        return t.name, f"{b.name}/"

    def access_points(self, acct: str, region: str) -> list[dict[str, Any]]:
        """An account-region's access points: none for 40 %, then 1 (30 %), 2 (20 %) or 3 (10 %), on
        buckets of that account and region; a third VPC-only; 60 % with a policy."""
        return self._per_region(self._access_points, acct, region, self._new_access_points)

    def _new_access_points(self, acct: str, region: str) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        bs = self.buckets_in(acct, region)
        if bs:
            r = self.h("aps", acct, region) % 100
            n = 0 if r < 40 else 1 if r < 70 else 2 if r < 90 else 3
            other = self._other_account(acct)
            for j in range(n):
                g = self.h("ap", acct, region, j)
                b = bs[g % len(bs)]
                app = APPS[(g >> 8) % len(APPS)]
                name = f"{app}-ap{j}"
                arn = f"arn:aws:s3:{region}:{acct}:accesspoint/{name}"
                ap: dict[str, Any] = {"Name": name, "Bucket": b.name, "AccessPointArn": arn,
                                      "Alias": f"{name}-{g:016x}-s3alias", "BucketAccountId": acct,
                                      "VpcId": f"vpc-{g:017x}" if (g >> 16) % 3 == 0 else "",
                                      "Policy": None}
                # GetAccessPoint only (a hash of its own, so the listing and policy answers are unchanged):
                # its own Block Public Access, fixed at creation (on by default: 85 % all four true, 15 %
                # all four false), and its creation date, after its bucket's
                gp = self.h("ap-pab", acct, region, j)
                ap["BlockPublic"] = gp % 100 >= 15
                ap["CreationDate"] = b.created + (gp >> 8) % (365 * DAY)
                pr = (g >> 24) % 100
                if pr < 60:
                    principal = f"arn:aws:iam::{other}:root" if pr < 12 and other else \
                        f"arn:aws:iam::{acct}:role/{app}-service"
                    ap["Policy"] = json.dumps({"Version": "2012-10-17", "Statement": [
                        {"Sid": "AllowReadThroughAccessPoint", "Effect": "Allow", "Principal": {"AWS": principal},
                         "Action": ["s3:GetObject", "s3:ListBucket"],
                         "Resource": [arn, f"{arn}/object/*"]}]}, separators=(",", ":"))
                out.append(ap)
        return out

    def account_public_access_block(self, acct: str) -> dict[str, bool] | None:
        """The account's own S3 Block Public Access (S3 Control GetPublicAccessBlock), or None when it has
        none (NoSuchPublicAccessBlockConfiguration): 70 % all four settings true, 10 % the ACL ones only
        (BlockPublicAcls, IgnorePublicAcls), 5 % configured with all four false, 15 % none; none outside
        the world. A hash of its own."""
        if acct not in self.account_set:
            return None
        r = self.h("account-pab", acct) % 100
        if r >= 85:
            return None
        acls, policy = r < 80, r < 70
        return {"BlockPublicAcls": acls, "IgnorePublicAcls": acls, "BlockPublicPolicy": policy,
                "RestrictPublicBuckets": policy}

    def mraps(self, acct: str) -> list[dict[str, Any]]:
        """`mraps_per_account` Multi-Region Access Points (0 by default), each over buckets of the
        account in up to two regions; two thirds with a policy."""
        got = self._mraps.get(acct)
        if got is not None:
            return got
        out: list[dict[str, Any]] = []
        if acct in self.account_set:
            for j in range(self.mraps_per_account):
                g = self.h("mrap", acct, j)
                regions = []
                for k in range(len(self.regions)):
                    bs = self.buckets_in(acct, self.regions[(g + k) % len(self.regions)])
                    if bs:
                        regions.append(bs[(g >> 8) % len(bs)])
                    if len(regions) == 2:
                        break
                if not regions:
                    break
                alias = base64.b32encode(g.to_bytes(8, "big")).decode().lower().rstrip("=") + ".mrap"
                m: dict[str, Any] = {"Name": f"mrap-{APPS[g % len(APPS)]}-{j}", "Alias": alias,
                                     "CreatedAt": BASE_EPOCH + (g >> 20) % (4 * 365 * DAY), "Buckets": regions,
                                     "Policy": None}
                if (g >> 40) % 3:
                    arn = f"arn:aws:s3::{acct}:accesspoint/{alias}"
                    m["Policy"] = json.dumps({"Version": "2012-10-17", "Statement": [
                        {"Sid": "AllowAccountRead", "Effect": "Allow",
                         "Principal": {"AWS": f"arn:aws:iam::{acct}:root"}, "Action": ["s3:GetObject"],
                         "Resource": f"{arn}/object/*"}]}, separators=(",", ":"))
                out.append(m)
        self._mraps[acct] = out
        return out

    def organization(self, acct: str) -> dict[str, Any] | None:
        """The organisation every account of the world is in (its first account is the management
        account); None for any other account (the scanner)."""
        if acct not in self.account_set or not self.accounts:
            return None
        master = self.accounts[0]
        oid = "o-" + self._org_id_chars("org", 10)
        return {"Id": oid, "Arn": f"arn:aws:organizations::{master}:organization/{oid}", "FeatureSet": "ALL",
                "MasterAccountArn": f"arn:aws:organizations::{master}:account/{oid}/{master}",
                "MasterAccountId": master, "MasterAccountEmail": f"aws-management+{master}@example.com",
                "AvailablePolicyTypes": [{"Type": "SERVICE_CONTROL_POLICY", "Status": "ENABLED"}]}

    def _org_id_chars(self, tag: str, n: int) -> str:
        """n lowercase letters or digits drawn from h(tag), as Organizations' ids have them."""
        h = self.h(tag)
        return "".join("abcdefghijklmnopqrstuvwxyz0123456789"[(h >> (5 * i)) % 36] for i in range(n))

    def org_targets(self, acct: str) -> dict[str, str]:
        """The ARNs a resource can be shared with in the organisation of a world account: "org" (the
        organisation), "ou" (its one OU, which every world account is taken to be in); {} for any other."""
        org = self.organization(acct)
        if org is None:
            return {}
        ou = f"ou-{self._org_id_chars('orgroot', 4)}-{self._org_id_chars('ou', 8)}"
        return {"org": org["Arn"], "ou": f"arn:aws:organizations::{org['MasterAccountId']}:ou/{org['Id']}/{ou}"}

    # -- IAM (GetAccountAuthorizationDetails) ---------------------------------------------------
    # Drawn from hashes of their own (self.h("iam...", ...)), so no earlier answer changed.
    def iam_size(self, acct: str) -> tuple[int, int, int, int]:
        """(roles, users, groups, customer managed policies) of an account; nothing for the scanner."""
        if acct not in self.account_set:
            return (0, 0, 0, 0)
        if self.iam_heavy_accounts and self.accounts.index(acct) >= self.iam_heavy_accounts:
            return IAM_DEFAULT
        return self.iam_sizes  # type: ignore[return-value]

    def _iam_id(self, prefix: str, *parts: Any) -> str:
        return prefix + base64.b32encode(self.h("iamid", *parts).to_bytes(8, "big")
                                         + self.h("iamid2", *parts).to_bytes(8, "big")).decode()[:17]

    def _iam_doc(self, acct: str, g: int, sid: str) -> dict[str, Any]:
        """An identity policy naming the account's buckets and keys (and, for some, the next account's):
        40 % read objects (+ Decrypt via S3), 20 % use keys, 10 % Decrypt on every key (half with a
        kms:ViaService condition), 10 % write objects under a key, 10 % cross-account read, 5 % deny key
        deletion, 5 % s3:* on a bucket."""
        other = self._other_account(acct)
        bs = self.buckets(acct)
        region0 = self.regions[0] if self.regions else "us-east-1"

        def bucket(i: int, a: str = acct) -> Bucket | None:
            pool = bs if a == acct else self.buckets(a)
            return pool[i % len(pool)] if pool else None

        def bname(i: int, a: str = acct) -> str:
            b = bucket(i, a)
            return b.name if b else f"data-{a}-{i % 50:05d}"

        def key(i: int, a: str = acct) -> str:
            for r in self.regions:
                ks = [k for k in self.keys(a, r)[0][:64] if k.kind == "customer"]
                if ks:
                    return ks[i % len(ks)].arn
            return f"arn:aws:kms:{region0}:{a}:key/{uuid.UUID(int=self.h('iamkey', a, i % 50) << 64, version=4)}"

        r = g % 100
        app = APPS[(g >> 8) % len(APPS)]
        n = 1 + (g >> 16) % 3
        stmts: list[dict[str, Any]]
        if r < 40:
            names = [bname((g >> 20) + 17 * t) for t in range(n)]
            b0 = bucket(g >> 20)
            stmts = [{"Sid": f"{sid}Read", "Effect": "Allow", "Action": ["s3:GetObject", "s3:GetObjectVersion"],
                      "Resource": [f"arn:aws:s3:::{x}/{app}/*" for x in names]},
                     {"Sid": f"{sid}List", "Effect": "Allow", "Action": "s3:ListBucket",
                      "Resource": [f"arn:aws:s3:::{x}" for x in names],
                      "Condition": {"StringLike": {"s3:prefix": [f"{app}/*"]}}},
                     {"Sid": f"{sid}Decrypt", "Effect": "Allow", "Action": "kms:Decrypt", "Resource": key(g >> 24),
                      "Condition": {"StringEquals": {"kms:ViaService": f"s3.{b0.region if b0 else region0}"
                                                                        ".amazonaws.com"}}}]
        elif r < 60:
            stmts = [{"Sid": f"{sid}UseKeys", "Effect": "Allow",
                      "Action": ["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey*", "kms:DescribeKey"],
                      "Resource": [key((g >> 20) + 5 * t) for t in range(n)]}]
        elif r < 70:
            st: dict[str, Any] = {"Sid": f"{sid}DecryptAll", "Effect": "Allow",
                                  "Action": ["kms:Decrypt", "kms:ReEncryptFrom"], "Resource": "*"}
            if (g >> 12) % 2:
                st["Condition"] = {"StringEquals": {"kms:ViaService": [f"s3.{r_}.amazonaws.com" for r_ in
                                                                        self.regions[:2] or [region0]]}}
            stmts = [st]
        elif r < 80:
            k = key(g >> 24)
            stmts = [{"Sid": f"{sid}Write", "Effect": "Allow", "Action": ["s3:PutObject", "s3:AbortMultipartUpload"],
                      "Resource": f"arn:aws:s3:::{bname(g >> 20)}/{app}/*",
                      "Condition": {"StringEquals": {"s3:x-amz-server-side-encryption": "aws:kms",
                                                     "s3:x-amz-server-side-encryption-aws-kms-key-id": k}}},
                     {"Sid": f"{sid}DataKeys", "Effect": "Allow", "Action": ["kms:GenerateDataKey", "kms:Decrypt"],
                      "Resource": k}]
        elif r < 90 and other:
            stmts = [{"Sid": f"{sid}CrossRead", "Effect": "Allow", "Action": ["s3:GetObject", "s3:ListBucket"],
                      "Resource": [f"arn:aws:s3:::{bname(g >> 20, other)}",
                                   f"arn:aws:s3:::{bname(g >> 20, other)}/*"]},
                     {"Sid": f"{sid}CrossDecrypt", "Effect": "Allow", "Action": "kms:Decrypt",
                      "Resource": key(g >> 24, other)}]
        elif r < 95:
            stmts = [{"Sid": f"{sid}ReadKeys", "Effect": "Allow", "Action": ["kms:List*", "kms:Describe*"],
                      "Resource": "*"},
                     {"Sid": f"{sid}ProtectKeys", "Effect": "Deny",
                      "Action": ["kms:ScheduleKeyDeletion", "kms:DisableKey", "kms:PutKeyPolicy"], "Resource": "*"}]
        else:
            x = bname(g >> 20)
            stmts = [{"Sid": f"{sid}Admin", "Effect": "Allow", "Action": "s3:*",
                      "Resource": [f"arn:aws:s3:::{x}", f"arn:aws:s3:::{x}/*"]}]
        return {"Version": "2012-10-17", "Statement": stmts}

    def _iam_trust(self, acct: str, name: str, g: int) -> tuple[dict[str, Any], bool]:
        """(trust policy, has an EC2 instance profile)."""
        other = self._other_account(acct)

        def doc(principal: dict[str, Any], cond: dict[str, Any] | None = None) -> dict[str, Any]:
            st: dict[str, Any] = {"Effect": "Allow", "Principal": principal, "Action": "sts:AssumeRole"}
            if cond:
                st["Condition"] = cond
            return {"Version": "2012-10-17", "Statement": [st]}

        if name == "audit":
            return doc({"AWS": f"arn:aws:iam::{SCANNER_ACCOUNT}:root"}), False
        if name == "terraform" and other:
            return doc({"AWS": f"arn:aws:iam::{other}:role/ci"},
                       {"StringEquals": {"sts:ExternalId": f"tf-{acct}"}}), False
        if name == "KeyAdmins":
            return doc({"AWS": f"arn:aws:iam::{acct}:root"}, {"Bool": {"aws:MultiFactorAuthPresent": "true"}}), False
        if name == "s3-replication":
            return doc({"Service": "s3.amazonaws.com"}), False
        if name.endswith("-worker"):
            return doc({"Service": "ec2.amazonaws.com"}), True
        r = g % 100
        if r < 70 or not other:
            svc = ("lambda", "ec2", "ecs-tasks", "glue")[(g >> 8) % 4]
            return doc({"Service": f"{svc}.amazonaws.com"}), svc == "ec2"
        if r < 90:
            return doc({"AWS": f"arn:aws:iam::{acct}:root"}), False
        return doc({"AWS": f"arn:aws:iam::{other}:root"}), False

    def iam(self, acct: str) -> list[tuple[str, str, int]]:
        """The account's authorization details as GetAccountAuthorizationDetails pages them: users, groups,
        roles, then managed policies (customer managed, then the attached AWS managed ones). Each item is
        (kind: user|group|role|local|aws, its <member> XML, its inline policies)."""
        got = self._iam.get(acct)
        if got is not None:
            return got
        n_roles, n_users, n_groups, n_pol = self.iam_size(acct)
        out: list[tuple[str, str, int]] = []
        if acct not in self.account_set:
            self._iam[acct] = out
            return out
        def enc(d: dict[str, Any], g: int) -> str:
            """URL-encoded JSON, as IAM returns documents; 30 % pretty-printed (as written by people)."""
            return quote(json.dumps(d, indent=4) if g % 10 < 3 else json.dumps(d, separators=(",", ":")), safe="*")

        t0 = BASE_EPOCH

        def when(g: int) -> str:
            return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t0 + (g >> 20) % (4 * 365 * DAY)))

        # managed policies: names, then who attaches them
        pol_names = ["permissions-boundary" if j == 0 else
                     f"{APPS[self.h('iampol', acct, j) % len(APPS)]}-{('read', 'write', 'keys', 'ops')[j % 4]}-{j:05d}"
                     for j in range(n_pol)]
        pol_arn = [f"arn:aws:iam::{acct}:policy/{'' if j % 5 else 'app/'}{pol_names[j]}" for j in range(n_pol)]
        aws_arn = [f"arn:aws:iam::aws:policy/{a[0]}" for a in IAM_AWS_MANAGED]
        attach_count: Counter = Counter()
        boundary_count: Counter = Counter()

        def pick(g: int, n: int) -> list[tuple[str, str]]:
            """n attached managed policies: customer managed (never the boundary, when there are others),
            and for 1 in 5 an AWS managed one."""
            got_: list[tuple[str, str]] = []
            if n_pol > 1:
                for t in range(n):
                    j = 1 + (g >> (8 + 5 * t)) % (n_pol - 1)
                    if (pol_names[j], pol_arn[j]) not in got_:
                        got_.append((pol_names[j], pol_arn[j]))
            if (g >> 40) % 5 == 0:
                a = IAM_AWS_MANAGED[(g >> 44) % len(IAM_AWS_MANAGED)]
                got_.append((a[0], f"arn:aws:iam::aws:policy/{a[0]}"))
            for _, arn in got_:
                attach_count[arn] += 1
            return got_

        def attached_xml(items: list[tuple[str, str]]) -> str:
            return "<AttachedManagedPolicies>" + "".join(
                f"<member><PolicyName>{nm}</PolicyName><PolicyArn>{arn}</PolicyArn></member>"
                for nm, arn in items) + "</AttachedManagedPolicies>"

        def inline_xml(tag: str, owner: str, g: int, n: int) -> str:
            return f"<{tag}>" + "".join(
                f"<member><PolicyName>{owner}-inline-{i}</PolicyName><PolicyDocument>"
                f"{enc(self._iam_doc(acct, self.h('iaminl', acct, owner, i), f'Inline{i}'), g >> i)}"
                f"</PolicyDocument></member>" for i in range(n)) + f"</{tag}>"

        def tags_xml(g: int) -> str:
            pool = [("Team", APPS[g % len(APPS)]), ("Environment", ENVS[(g >> 8) % len(ENVS)]),
                    ("ManagedBy", "terraform")]
            return "<Tags>" + "".join(f"<member><Key>{k}</Key><Value>{v}</Value></member>"
                                      for k, v in pool[:(g >> 50) % 4]) + "</Tags>"

        group_names = [IAM_NAMED_GROUPS[i] if i < len(IAM_NAMED_GROUPS) else f"group-{i:05d}" for i in range(n_groups)]
        for i in range(n_users):
            g = self.h("iamuser", acct, i)
            name = IAM_NAMED_USERS[i] if i < len(IAM_NAMED_USERS) else f"user-{i:05d}"
            groups = [group_names[i % n_groups]] if n_groups else []
            if n_groups > 1 and (g >> 4) % 3 == 0:
                groups.append(group_names[(i + 1) % n_groups])
            n_inl = 1 if i == 0 else (g >> 6) % 2
            xml = (f"<member><Path>/</Path><UserName>{name}</UserName><UserId>{self._iam_id('AIDA', acct, 'u', i)}"
                   f"</UserId><Arn>arn:aws:iam::{acct}:user/{name}</Arn><CreateDate>{when(g)}</CreateDate>"
                   f"{inline_xml('UserPolicyList', name, g, n_inl)}<GroupList>"
                   + "".join(f"<member>{x}</member>" for x in groups) + "</GroupList>"
                   f"{attached_xml(pick(g, (g >> 2) % 2))}{tags_xml(g)}</member>")
            out.append(("user", xml, n_inl))
        for i, name in enumerate(group_names):
            g = self.h("iamgroup", acct, i)
            xml = (f"<member><Path>/</Path><GroupName>{name}</GroupName><GroupId>{self._iam_id('AGPA', acct, 'g', i)}"
                   f"</GroupId><Arn>arn:aws:iam::{acct}:group/{name}</Arn><CreateDate>{when(g)}</CreateDate>"
                   f"{inline_xml('GroupPolicyList', name, g, 1)}{attached_xml(pick(g, 1))}</member>")
            out.append(("group", xml, 1))
        for i in range(n_roles):
            g = self.h("iamrole", acct, i)
            name = IAM_NAMED_ROLES[i] if i < len(IAM_NAMED_ROLES) else \
                f"{APPS[g % len(APPS)]}-{ENVS[(g >> 8) % len(ENVS)]}-role-{i:05d}"
            path = "/service-role/" if i >= len(IAM_NAMED_ROLES) and (g >> 3) % 4 == 0 else "/"
            arn = f"arn:aws:iam::{acct}:role{path}{name}"
            rid = self._iam_id("AROA", acct, "r", i)
            trust, ec2 = self._iam_trust(acct, name, g)
            n_inl = 1 if i == 0 else (g >> 4) % 3
            profile = ""
            if ec2:
                pid = self._iam_id("AIPA", acct, "ip", i)
                profile = (f"<member><Path>/</Path><InstanceProfileName>{name}</InstanceProfileName><InstanceProfileId>"
                           f"{pid}</InstanceProfileId><Arn>arn:aws:iam::{acct}:instance-profile/{name}</Arn>"
                           f"<CreateDate>{when(g)}</CreateDate><Roles><member><Path>{path}</Path><RoleName>{name}"
                           f"</RoleName><RoleId>{rid}</RoleId><Arn>{arn}</Arn><CreateDate>{when(g)}</CreateDate>"
                           f"<AssumeRolePolicyDocument>{enc(trust, 0)}</AssumeRolePolicyDocument></member></Roles>"
                           "</member>")
            boundary = ""
            if n_pol and i >= 3 and (g >> 30) % 10 == 0:
                boundary_count[pol_arn[0]] += 1
                boundary = (f"<PermissionsBoundary><PermissionsBoundaryType>Policy</PermissionsBoundaryType>"
                            f"<PermissionsBoundaryArn>{pol_arn[0]}</PermissionsBoundaryArn></PermissionsBoundary>")
            last = (f"<RoleLastUsed><LastUsedDate>{iso(NOW - (g >> 34) % (90 * DAY))}</LastUsedDate><Region>"
                    f"{self.regions[(g >> 12) % len(self.regions)] if self.regions else 'us-east-1'}</Region>"
                    "</RoleLastUsed>") if (g >> 24) % 10 < 7 else "<RoleLastUsed/>"
            xml = (f"<member><Path>{path}</Path><RoleName>{name}</RoleName><RoleId>{rid}</RoleId><Arn>{arn}</Arn>"
                   f"<CreateDate>{when(g)}</CreateDate><AssumeRolePolicyDocument>{enc(trust, g)}"
                   f"</AssumeRolePolicyDocument><InstanceProfileList>{profile}</InstanceProfileList>"
                   f"{inline_xml('RolePolicyList', name, g, n_inl)}{attached_xml(pick(g, 1 + (g >> 14) % 3))}"
                   f"{boundary}{tags_xml(g)}{last}</member>")
            out.append(("role", xml, n_inl))
        for j in range(n_pol):
            g = self.h("iampolicy", acct, j)
            nv = 1 + (g >> 6) % 3
            created = t0 + (g >> 20) % (3 * 365 * DAY)
            versions = []
            for v in range(nv):
                if j == 0:
                    doc: dict[str, Any] = {"Version": "2012-10-17", "Statement": [
                        {"Sid": "Workloads", "Effect": "Allow", "Action": ["s3:*", "kms:*", "sts:AssumeRole",
                                                                          "logs:*", "cloudwatch:*"],
                         "Resource": "*"},
                        {"Sid": "NoIam", "Effect": "Deny", "NotAction": ["iam:Get*", "iam:List*"],
                         "Resource": f"arn:aws:iam::{acct}:*"}]}
                else:
                    doc = self._iam_doc(acct, self.h("iamdoc", acct, j, v), f"V{v + 1}")
                versions.append(
                    f"<member><Document>{enc(doc, g >> v)}</Document><VersionId>v{v + 1}</VersionId>"
                    f"<IsDefaultVersion>{'true' if v == nv - 1 else 'false'}</IsDefaultVersion>"
                    f"<CreateDate>{iso(created + v * 30 * DAY)}</CreateDate></member>")
            desc = f"<Description>{xml_escape(APPS[g % len(APPS)])} &amp; friends: managed by terraform</Description>" \
                if (g >> 4) % 3 == 0 else ""
            arn = pol_arn[j]
            path = "/app/" if "/app/" in arn else "/"
            xml = (f"<member><PolicyName>{pol_names[j]}</PolicyName><PolicyId>{self._iam_id('ANPA', acct, 'p', j)}"
                   f"</PolicyId><Arn>{arn}</Arn><Path>{path}</Path><DefaultVersionId>v{nv}</DefaultVersionId>"
                   f"<AttachmentCount>{attach_count[arn]}</AttachmentCount><PermissionsBoundaryUsageCount>"
                   f"{boundary_count[arn]}</PermissionsBoundaryUsageCount><IsAttachable>true</IsAttachable>{desc}"
                   f"<CreateDate>{iso(created)}</CreateDate><UpdateDate>{iso(created + (nv - 1) * 30 * DAY)}"
                   f"</UpdateDate><PolicyVersionList>{''.join(versions)}</PolicyVersionList></member>")
            out.append(("local", xml, 0))
        for (name, pid, ver, doc), arn in zip(IAM_AWS_MANAGED, aws_arn):
            if not attach_count[arn]:
                continue  # AWS returns only the AWS managed policies that are attached
            xml = (f"<member><PolicyName>{name}</PolicyName><PolicyId>{pid}</PolicyId><Arn>{arn}</Arn><Path>/</Path>"
                   f"<DefaultVersionId>{ver}</DefaultVersionId><AttachmentCount>{attach_count[arn]}</AttachmentCount>"
                   "<PermissionsBoundaryUsageCount>0</PermissionsBoundaryUsageCount><IsAttachable>true</IsAttachable>"
                   f"<CreateDate>2015-02-06T18:40:58Z</CreateDate><UpdateDate>2023-08-10T21:31:39Z</UpdateDate>"
                   f"<PolicyVersionList><member><Document>{enc(doc, 5)}</Document><VersionId>{ver}</VersionId>"
                   "<IsDefaultVersion>true</IsDefaultVersion><CreateDate>2023-08-10T21:31:39Z</CreateDate></member>"
                   "</PolicyVersionList></member>")
            out.append(("aws", xml, 0))
        self._iam[acct] = out
        return out

    def iam_rows(self, acct: str) -> dict[str, int]:
        """Rows the IAM tables of a correct sync hold for this account."""
        items = self.iam(acct)
        c = Counter(k for k, _, _ in items)
        inl = Counter()
        for k, _, n in items:
            inl[k] += n
        return {"aws_iam_users": c["user"], "aws_iam_user_policies": inl["user"], "aws_iam_groups": c["group"],
                "aws_iam_group_policies": inl["group"], "aws_iam_roles": c["role"],
                "aws_iam_role_policies": inl["role"], "aws_iam_policies": c["local"] + c["aws"]}

    # -- Secrets Manager, SQS, SNS ---------------------------------------------------------------
    # Drawn from hashes of their own (self.h("secret", ...), ...), so no earlier answer changed.
    def _cmks(self, acct: str, region: str) -> list[Key]:
        """Customer managed symmetric keys a resource can be on (among the first 64, as for buckets):
        enabled ones mostly, some Disabled or PendingDeletion, in the keys' own proportions."""
        keys, _ = self.keys(acct, region)
        return [k for k in keys[:64] if k.kind in ("customer", "disabled", "pending")]

    def _customer_key(self, enc: str, acct: str, region: str, g: int) -> tuple[str, Key | None]:
        """(encryption, key): "cmk" is one of the account and region's customer managed keys (picked by g),
        or "aws" where the region has none; any other encryption has no key of its own."""
        if enc != "cmk":
            return enc, None
        cmks = self._cmks(acct, region)
        return ("cmk", cmks[(g >> 40) % len(cmks)]) if cmks else ("aws", None)

    def _principal(self, acct: str, pol: str | None, app: str) -> str:
        other = self._other_account(acct)
        if pol == "cross" and other:
            return f"arn:aws:iam::{other}:root"
        return f"arn:aws:iam::{acct}:role/{app}-service"

    @staticmethod
    def _policy_text(doc: dict[str, Any], g: int) -> str:
        """A policy as people store it: half pretty-printed (console), half compact."""
        return json.dumps(doc, indent=2) if g % 2 else json.dumps(doc, separators=(",", ":"))

    @staticmethod
    def _messaging_name(g: int, j: int, app: str, env: str, purposes: list[str]) -> tuple[bool, str]:
        """(FIFO, name) of a queue or topic: 10 % FIFO."""
        fifo = (g >> 12) % 10 == 0
        return fifo, f"{app}-{env}-{purposes[(g >> 16) % len(purposes)]}-{j:03d}" + (".fifo" if fifo else "")

    def secrets(self, acct: str, region: str) -> list[dict[str, Any]]:
        """The account and region's secrets, as ListSecrets returns them (sorted by name), each with its
        resource policy under "_policy" (None: no policy). SECRET_MIX: the AWS managed key (no KmsKeyId)
        or a customer managed key ARN; a policy admitting the next account, a role of the account, or
        none. 40 % rotate every 30 days."""
        return self._per_region(self._secrets, acct, region, self._new_secrets, "Name")

    def _new_secrets(self, acct: str, region: str) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        for j, g, (enc, pol) in self._drawn("secret", acct, region, self.secrets_per_region, SECRET_MIX):
            app, env = self._app_env(g)
            name = f"{app}/{env}/{SECRET_KINDS[(g >> 12) % len(SECRET_KINDS)]}-{j:03d}"
            suffix = "".join(ALNUM[(g >> (16 + 6 * i)) % len(ALNUM)] for i in range(6))
            arn = f"arn:aws:secretsmanager:{region}:{acct}:secret:{name}-{suffix}"
            created = BASE_EPOCH + (g >> 20) % (3 * 365 * DAY)
            changed = created + (g >> 28) % (300 * DAY)
            version = str(uuid.UUID(int=(g << 64) | self.h("secretver", arn), version=4))
            s: dict[str, Any] = {"ARN": arn, "Name": name}
            if (g >> 36) % 2:
                s["Description"] = f"{app} {env} {SECRET_KINDS[(g >> 12) % len(SECRET_KINDS)].replace('-', ' ')}"
            _, key = self._customer_key(enc, acct, region, g)
            if key is not None:
                s["KmsKeyId"] = key.arn
            rotates = (g >> 44) % 10 < 4
            s["RotationEnabled"] = rotates
            if rotates:
                last = NOW // DAY * DAY - ((g >> 48) % 30) * DAY
                s.update(RotationLambdaARN=f"arn:aws:lambda:{region}:{acct}:function:{app}-secret-rotation",
                         RotationRules={"AutomaticallyAfterDays": 30}, LastRotatedDate=last,
                         NextRotationDate=last + 30 * DAY)
                changed = max(changed, last)
            s["LastChangedDate"] = min(changed, NOW)
            s["LastAccessedDate"] = NOW // DAY * DAY - ((g >> 52) % 20) * DAY
            s["Tags"] = self._tag_list(self._team_tags(app, env, (g >> 56) % 4))
            s["SecretVersionsToStages"] = {version: ["AWSCURRENT"]}
            s["CreatedDate"] = created
            policy = None
            if pol is not None:
                policy = self._policy_text({"Version": "2012-10-17", "Statement": [
                    {"Sid": "AllowConsumerRead" if pol == "cross" else "AllowServiceRead", "Effect": "Allow",
                     "Principal": {"AWS": self._principal(acct, pol, app)},
                     "Action": ["secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"],
                     "Resource": "*"}]}, g)
            s["_policy"] = policy
            out.append(s)
            self._secret_by_id[arn] = (acct, region, s)
        return out

    def find_secret(self, acct: str, region: str, secret_id: str) -> dict[str, Any]:
        """A secret by ARN (the partial ARN without the suffix too) or name, as Secrets Manager finds it."""
        got = self._secret_by_id.get(secret_id)
        if got is not None and got[:2] == (acct, region):
            return got[2]
        for s in self.secrets(acct, region):
            if secret_id in (s["ARN"], s["Name"]) or s["ARN"].rsplit("-", 1)[0] == secret_id:
                return s
        raise ApiError(400, "ResourceNotFoundException", "Secrets Manager can't find the specified secret.")

    def queues(self, acct: str, region: str) -> list[dict[str, Any]]:
        """The account and region's queues (sorted by URL as ListQueues returns them): "url", "arn",
        "attrs" (GetQueueAttributes All, every value a string), "tags" (ListQueueTags). QUEUE_MIX: SQS
        managed SSE, KmsMasterKeyId alias/aws/sqs, a customer managed key (its ARN, or for a third its
        alias), or unencrypted; a policy (with the console's owner statement) for EventBridge rules of
        the account, the next account, or none. 10 % FIFO; 30 % redrive to the region's first queue."""
        return self._per_region(self._queues, acct, region, self._new_queues, "url")

    def _new_queues(self, acct: str, region: str) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        for j, g, (enc, pol) in self._drawn("queue", acct, region, self.queues_per_region, QUEUE_MIX):
            app, env = self._app_env(g)
            fifo, name = self._messaging_name(g, j, app, env, QUEUE_PURPOSES)
            arn = f"arn:aws:sqs:{region}:{acct}:{name}"
            created = BASE_EPOCH + (g >> 20) % (3 * 365 * DAY)
            a: dict[str, str] = {
                "QueueArn": arn, "ApproximateNumberOfMessages": str((g >> 28) % 40),
                "ApproximateNumberOfMessagesNotVisible": str((g >> 34) % 5),
                "ApproximateNumberOfMessagesDelayed": "0", "CreatedTimestamp": str(created),
                "LastModifiedTimestamp": str(created + (g >> 38) % (200 * DAY)),
                "VisibilityTimeout": ("30", "60", "300", "900")[(g >> 44) % 4], "MaximumMessageSize": "262144",
                "MessageRetentionPeriod": ("345600", "1209600")[(g >> 46) % 2], "DelaySeconds": "0",
            }
            if pol is not None:
                stmts: list[dict[str, Any]] = [
                    {"Sid": "__owner_statement", "Effect": "Allow",
                     "Principal": {"AWS": f"arn:aws:iam::{acct}:root"}, "Action": "SQS:*", "Resource": arn}]
                if pol == "events":
                    rule = f"arn:aws:events:{region}:{acct}:rule/{app}-{env}-to-queue"
                    stmts.append({"Sid": "AllowEventBridgeRule", "Effect": "Allow",
                                  "Principal": {"Service": "events.amazonaws.com"}, "Action": "sqs:SendMessage",
                                  "Resource": arn, "Condition": {"ArnEquals": {"aws:SourceArn": rule}}})
                else:
                    stmts.append({"Sid": "AllowConsumerAccount", "Effect": "Allow",
                                  "Principal": {"AWS": self._principal(acct, pol, app)},
                                  "Action": ["sqs:SendMessage", "sqs:ReceiveMessage", "sqs:DeleteMessage",
                                             "sqs:GetQueueAttributes"], "Resource": arn})
                a["Policy"] = json.dumps({"Version": "2012-10-17", "Id": f"{arn}/SQSDefaultPolicy",
                                          "Statement": stmts}, separators=(",", ":"))
            if j and not fifo and out and not out[0]["fifo"] and (g >> 50) % 10 < 3:
                a["RedrivePolicy"] = json.dumps({"deadLetterTargetArn": out[0]["arn"], "maxReceiveCount": 5},
                                                separators=(",", ":"))
            a["ReceiveMessageWaitTimeSeconds"] = ("0", "20")[(g >> 52) % 2]
            enc, key = self._customer_key(enc, acct, region, g)
            a["SqsManagedSseEnabled"] = "true" if enc == "sse-sqs" else "false"
            if enc in ("aws", "cmk"):
                if key is None:
                    a["KmsMasterKeyId"] = "alias/aws/sqs"
                else:
                    a["KmsMasterKeyId"] = self.alias_name(key) if (g >> 54) % 3 == 0 else key.arn
                a["KmsDataKeyReusePeriodSeconds"] = "300"
            if fifo:
                a.update(FifoQueue="true", ContentBasedDeduplication=("false", "true")[(g >> 56) % 2],
                         DeduplicationScope="queue", FifoThroughputLimit="perQueue")
            q = {"url": f"https://sqs.{region}.amazonaws.com/{acct}/{name}", "arn": arn, "fifo": fifo, "attrs": a,
                 "tags": dict(self._team_tags(app, env, (g >> 58) % 4))}
            out.append(q)
            self._queue_by_url[q["url"]] = (acct, region, q)
        return out

    def topics(self, acct: str, region: str) -> list[dict[str, Any]]:
        """The account and region's topics (sorted by ARN): "arn", "attrs" (GetTopicAttributes), "tags"
        [(key, value)]. Every topic has SNS's default policy; TOPIC_MIX adds a statement for EventBridge,
        the next account, or nothing, and sets KmsMasterKeyId alias/aws/sns, a customer managed key ARN,
        or none (unencrypted). 10 % FIFO."""
        return self._per_region(self._topics, acct, region, self._new_topics, "arn")

    def _new_topics(self, acct: str, region: str) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        for j, g, (enc, pol) in self._drawn("topic", acct, region, self.topics_per_region, TOPIC_MIX):
            app, env = self._app_env(g)
            fifo, name = self._messaging_name(g, j, app, env, TOPIC_PURPOSES)
            arn = f"arn:aws:sns:{region}:{acct}:{name}"
            stmts: list[dict[str, Any]] = [
                {"Sid": "__default_statement_ID", "Effect": "Allow", "Principal": {"AWS": "*"},
                 "Action": ["SNS:GetTopicAttributes", "SNS:SetTopicAttributes", "SNS:AddPermission",
                            "SNS:RemovePermission", "SNS:DeleteTopic", "SNS:Subscribe",
                            "SNS:ListSubscriptionsByTopic", "SNS:Publish"],
                 "Resource": arn, "Condition": {"StringEquals": {"AWS:SourceOwner": acct}}}]
            if pol == "events":
                stmts.append({"Sid": "AllowEventBridgePublish", "Effect": "Allow",
                              "Principal": {"Service": "events.amazonaws.com"}, "Action": "sns:Publish",
                              "Resource": arn})
            elif pol is not None:
                stmts.append({"Sid": "AllowConsumerPublish", "Effect": "Allow",
                              "Principal": {"AWS": self._principal(acct, pol, app)}, "Action": "SNS:Publish",
                              "Resource": arn})
            a: dict[str, str] = {
                "Policy": json.dumps({"Version": "2008-10-17", "Id": "__default_policy_ID", "Statement": stmts},
                                     separators=(",", ":")),
                "Owner": acct, "SubscriptionsPending": "0", "TopicArn": arn,
                "EffectiveDeliveryPolicy": SNS_DELIVERY_POLICY,
                "SubscriptionsConfirmed": str((g >> 20) % 6), "DisplayName": "" if (g >> 26) % 2 else app,
                "SubscriptionsDeleted": str((g >> 28) % 2),
            }
            enc, key = self._customer_key(enc, acct, region, g)
            if key is not None:
                a["KmsMasterKeyId"] = key.arn
            elif enc == "aws":
                a["KmsMasterKeyId"] = "alias/aws/sns"
            if fifo:
                a.update(FifoTopic="true", ContentBasedDeduplication=("false", "true")[(g >> 56) % 2])
            t = {"arn": arn, "attrs": a, "tags": self._team_tags(app, env, (g >> 58) % 4)}
            out.append(t)
            self._topic_by_arn[arn] = (acct, region, t)
        return out

    def shared_rows(self, acct: str) -> dict[str, int]:
        """Rows the Secrets Manager, SQS and SNS tables of a correct sync hold for this account."""
        return {"aws_secretsmanager_secrets": sum(len(self.secrets(acct, r)) for r in self.regions),
                "aws_sqs_queues": sum(len(self.queues(acct, r)) for r in self.regions),
                "aws_sns_topics": sum(len(self.topics(acct, r)) for r in self.regions)}

    # -- EBS snapshots, RDS DB snapshots -----------------------------------------------------------
    # Drawn from hashes of their own (self.h("ebs", ...), ...), so no earlier answer changed.
    def _aws_key(self, acct: str, region: str, service: str) -> Key | None:
        """The region's AWS managed key of `service` (aws/ebs, aws/rds), if the world has it."""
        keys, _ = self.keys(acct, region)
        return next((k for k in keys if k.kind == "aws" and k.aws_service == service), None)

    def _snapshot_encryption(self, enc: str, acct: str, region: str, service: str, g: int) -> tuple[str, str | None]:
        """(encryption actually used, key ARN or None): a customer managed key falls back to the AWS managed
        one when the region has none among its first 64 keys, and that to none."""
        enc, key = self._customer_key(enc, acct, region, g)
        if enc == "aws":
            key = self._aws_key(acct, region, service)
            if key is None:
                enc = "none"
        return enc, key.arn if key is not None else None

    @staticmethod
    def _shared_with(target: str | None, enc: str, g: int, public_percent: int) -> list[str]:
        """Whom a snapshot or AMI is shared with (an account id, organisation or OU ARN, "all"): `target`
        (never under the AWS managed key, which AWS refuses), and everyone for `public_percent` % of the
        unencrypted ones."""
        out: list[str] = []
        if target and enc != "aws":
            out.append(target)
        if enc == "none" and (g >> 50) % 100 < public_percent:
            out.append("all")
        return out

    def ebs_snapshots(self, acct: str, region: str) -> list[dict[str, Any]]:
        """The EBS snapshots the account owns in the region (sorted by id), as DescribeSnapshots returns
        them, with "_shared" (DescribeSnapshotAttribute createVolumePermission: account ids, "all") and
        "_enc" (their EBS_MIX encryption as used: "cmk", "aws", "none")."""
        return self._per_region(self._ebs, acct, region, self._new_ebs_snapshots, "SnapshotId")

    def _new_ebs_snapshots(self, acct: str, region: str) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        other = self._other_account(acct)
        for j, g, (enc, share) in self._drawn("ebs", acct, region, self.ebs_snapshots_per_region, EBS_MIX):
            enc, key = self._snapshot_encryption(enc, acct, region, "ebs", g)
            app, env = self._app_env(g)
            desc = EBS_DESCRIPTIONS[(g >> 12) % len(EBS_DESCRIPTIONS)].format(
                instance=f"i-{self.h('ebsinst', acct, region, j):017x}",
                ami=f"ami-{self.h('ebsami', acct, region, j):017x}", app=app, env=env)
            out.append({
                "SnapshotId": f"snap-{g:017x}", "VolumeId": f"vol-{self.h('ebsvol', acct, region, j):017x}",
                "State": "completed", "StartTime": BASE_EPOCH + (g >> 20) % (4 * 365 * DAY), "Progress": "100%",
                "OwnerId": acct, "VolumeSize": (8, 8, 20, 30, 50, 100, 200, 500, 1000)[(g >> 16) % 9],
                "Description": desc, "Encrypted": key is not None, "KmsKeyId": key,
                "StorageTier": "archive" if (g >> 24) % 10 == 0 else "standard",
                "Tags": self._tag_list([("Name", f"{app}-{env}-{j:03d}"), ("Team", app),
                                        ("Environment", env)][:(g >> 28) % 4]),
                "_shared": self._shared_with(other if share == "cross" else None, enc, g, 12), "_enc": enc,
            })
        return out

    def db_snapshots(self, acct: str, region: str) -> list[dict[str, Any]]:
        """The account's DB snapshots in the region (sorted by identifier): even j manual, odd j the
        automated snapshot of the same DB instance (j // 2), with the instance's encryption; "_shared" is
        the restore attribute of a manual one (account ids, "all"; always [] for automated ones)."""
        return self._per_region(self._dbsnaps, acct, region,
                                lambda a, r: self._rds_snapshots(a, r, "db", self.db_snapshots_per_region,
                                                                 self._db_snapshot), "DBSnapshotIdentifier")

    def cluster_snapshots(self, acct: str, region: str) -> list[dict[str, Any]]:
        """The account's DB cluster (Aurora) snapshots in the region, as db_snapshots (even j manual, odd j
        automated, of cluster j // 2; DB_MIX from a hashed start of their own), with "_shared"."""
        return self._per_region(self._clsnaps, acct, region,
                                lambda a, r: self._rds_snapshots(a, r, "cl", self.cluster_snapshots_per_region,
                                                                 self._cluster_snapshot),
                                "DBClusterSnapshotIdentifier")

    def _rds_snapshots(self, acct: str, region: str, tag: str, count: int,
                       describe: Callable[[RdsDraw], dict[str, Any]]) -> list[dict[str, Any]]:
        """Snapshots of DB instances or clusters (tag "db", "cl"): even j manual, odd j automated, of parent
        j // 2, with the parent's DB_MIX entry and encryption; `describe` gives a snapshot's fields."""
        other = self._other_account(acct)
        parents = self._drawn(f"{tag}inst", acct, region, (count + 1) // 2, DB_MIX, f"{tag}mix")
        out: list[dict[str, Any]] = []
        for j in range(count):
            n, gi, (enc, share) = parents[j // 2]
            g = self.h(f"{tag}snap", acct, region, j)
            enc, key = self._snapshot_encryption(enc, acct, region, "rds", gi)
            app, env = self._app_env(gi)
            d = RdsDraw(acct, region, n, gi, g, j % 2 == 0, key, app, env, BASE_EPOCH + (gi >> 20) % (3 * 365 * DAY))
            s = describe(d)
            s["_shared"] = self._shared_with(other if share == "cross" else None, enc, g, 15) if d.manual else []
            out.append(s)
        return out

    @staticmethod
    def _rds_when(d: RdsDraw, parent: str, backup_hour: int) -> tuple[int, str]:
        """(creation time, identifier) of an RDS snapshot: a manual one some time after its parent was
        created; an automated one within the last week, in the parent's backup window."""
        if d.manual:
            t = d.created + (d.g >> 20) % (300 * DAY)
            return t, (f"{parent}-{('manual', 'before-upgrade', 'pre-migration', 'final')[(d.g >> 16) % 4]}-"
                       f"{time.strftime('%Y%m%d', time.gmtime(t))}")
        t = NOW // DAY * DAY - ((d.g >> 20) % 7 + 1) * DAY + backup_hour * 3600 + (d.gi >> 30) % 3600
        return t, f"rds:{parent}-{time.strftime('%Y-%m-%d-%H-%M', time.gmtime(t))}"

    def _rds_common(self, d: RdsDraw, t: int, engine: tuple[Any, ...]) -> dict[str, Any]:
        """The fields DB snapshots and DB cluster snapshots share."""
        name, version, port, lic, user = engine[:5]
        return {"SnapshotCreateTime": t, "Engine": name, "Status": "available", "Port": port,
                "VpcId": f"vpc-{self.h('vpc', d.acct, d.region):017x}", "MasterUsername": user,
                "EngineVersion": version, "LicenseModel": lic, "SnapshotType": "manual" if d.manual else "automated",
                "PercentProgress": 100, "KmsKeyId": d.key, "IAMDatabaseAuthenticationEnabled": (d.gi >> 44) % 3 == 0,
                "Tags": self._tag_list(self._team_tags(d.app, d.env, (d.g >> 28) % 4))}

    @staticmethod
    def _resource_id(prefix: str, gi: int) -> str:
        return prefix + "".join(ALNUM[(gi >> (2 * i)) % 26] for i in range(26))

    def _db_snapshot(self, d: RdsDraw) -> dict[str, Any]:
        engine = DB_ENGINES[(d.gi >> 12) % len(DB_ENGINES)]
        inst = f"{d.app}-{d.env}-{engine[0].split('-')[0]}-{d.n:02d}"
        t, ident = self._rds_when(d, inst, backup_hour=3)
        size = (20, 20, 50, 100, 200, 500, 1000)[(d.gi >> 36) % 7]
        return {**self._rds_common(d, t, engine),
                "DBSnapshotIdentifier": ident, "DBInstanceIdentifier": inst, "AllocatedStorage": size,
                "AvailabilityZone": f"{d.region}{'abc'[(d.gi >> 40) % 3]}", "InstanceCreateTime": d.created,
                "Iops": 12000 if size >= 400 else 3000, "StorageThroughput": 500 if size >= 400 else 125,
                "OptionGroupName": engine[5], "StorageType": "gp3", "Encrypted": d.key is not None,
                "DBSnapshotArn": f"arn:aws:rds:{d.region}:{d.acct}:snapshot:{ident}",
                "DbiResourceId": self._resource_id("db-", d.gi), "OriginalSnapshotCreateTime": t,
                "SnapshotTarget": "region"}

    def _cluster_snapshot(self, d: RdsDraw) -> dict[str, Any]:
        engine = CLUSTER_ENGINES[(d.gi >> 12) % len(CLUSTER_ENGINES)]
        cluster = f"{d.app}-{d.env}-{engine[0].split('-')[1]}-cluster-{d.n:02d}"
        t, ident = self._rds_when(d, cluster, backup_hour=4)
        return {**self._rds_common(d, t, engine),
                "AvailabilityZones": [f"{d.region}{z}" for z in "abc"], "DBClusterSnapshotIdentifier": ident,
                "DBClusterIdentifier": cluster, "EngineMode": "provisioned",
                "AllocatedStorage": 1 + (d.g >> 36) % 500, "ClusterCreateTime": d.created,
                "StorageEncrypted": d.key is not None,
                "DBClusterSnapshotArn": f"arn:aws:rds:{d.region}:{d.acct}:cluster-snapshot:{ident}",
                "StorageType": "aurora-iopt1" if (d.gi >> 48) % 4 == 0 else "aurora",
                "DbClusterResourceId": self._resource_id("cluster-", d.gi)}

    def snapshot_rows(self, acct: str) -> dict[str, int]:
        """Rows the EBS and RDS snapshot tables of a correct sync hold for this account (one attributes row
        per EBS snapshot: DescribeSnapshotAttribute always answers)."""
        ebs = sum(len(self.ebs_snapshots(acct, r)) for r in self.regions)
        return {"aws_ec2_ebs_snapshots": ebs, "aws_ec2_ebs_snapshot_attributes": ebs,
                "aws_rds_db_snapshots": sum(len(self.db_snapshots(acct, r)) for r in self.regions),
                "aws_rds_cluster_snapshots": sum(len(self.cluster_snapshots(acct, r)) for r in self.regions)}

    # -- AMIs ---------------------------------------------------------------------------------------
    # Drawn from hashes of their own (self.h("ami", ...), ...), so no earlier answer changed.
    def images(self, acct: str, region: str) -> list[dict[str, Any]]:
        """The AMIs the account owns in the region (sorted by id), as DescribeImages returns them, with
        "_shared" (DescribeImageAttribute launchPermission: an account id, the organisation's or its OU's
        ARN, "all"). Each has its root volume on one of the region's EBS snapshots, so with the snapshot's
        encryption (Encrypted, and KmsKeyId when encrypted, as AWS returns it); none without snapshots."""
        return self._per_region(self._images, acct, region, self._new_images, "ImageId")

    def _new_images(self, acct: str, region: str) -> list[dict[str, Any]]:
        snaps = self.ebs_snapshots(acct, region)
        if not snaps:
            return []
        count = self.images_per_region
        if count is None:
            count = 1 + self.h("amicount", acct, region) % 2
        targets = {"cross": self._other_account(acct), **self.org_targets(acct)}
        first = self.h("amisnap", acct, region)
        out: list[dict[str, Any]] = []
        for j, g, (share,) in self._drawn("ami", acct, region, count, IMAGE_MIX):
            snap = snaps[(first + j) % len(snaps)]
            system, root, platform, details, usage, boot = AMI_SYSTEMS[(g >> 8) % len(AMI_SYSTEMS)]
            app, env = self._app_env(g)
            created = snap["StartTime"] + (g >> 12) % 600   # registered as its snapshot completed
            name = f"{app}-{env}-{system}-{time.strftime('%Y%m%d', time.gmtime(created))}-{j:02d}"
            ebs = {"SnapshotId": snap["SnapshotId"], "VolumeSize": snap["VolumeSize"], "DeleteOnTermination": True,
                   "VolumeType": "gp3", "Iops": 3000, "Throughput": 125, "Encrypted": snap["Encrypted"],
                   "KmsKeyId": snap["KmsKeyId"]}
            mappings: list[dict[str, Any]] = [{"DeviceName": root, "Ebs": ebs}]
            if (g >> 16) % 10 < 3:
                mappings.append({"DeviceName": "/dev/sdb", "VirtualName": "ephemeral0"})
            shared = self._shared_with(targets.get(share), snap["_enc"], g, 10)
            out.append({
                "ImageId": f"ami-{g:017x}", "ImageLocation": f"{acct}/{name}", "State": "available",
                "OwnerId": acct, "CreationDate": iso(created), "Public": "all" in shared,
                "Architecture": "arm64" if platform is None and (g >> 20) % 3 == 0 else "x86_64",
                "ImageType": "machine", "Platform": platform, "SriovNetSupport": "simple", "Name": name,
                "Description": f"{app} {env} golden image ({system})", "RootDeviceType": "ebs",
                "RootDeviceName": root, "BlockDeviceMappings": mappings, "VirtualizationType": "hvm",
                "Tags": self._tag_list([("Name", name), ("Team", app), ("Environment", env)][:(g >> 24) % 4]),
                "Hypervisor": "xen", "EnaSupport": True, "PlatformDetails": details, "UsageOperation": usage,
                "BootMode": boot, "ImdsSupport": "v2.0" if (g >> 28) % 2 else None,
                "DeprecationTime": iso(created + 2 * 365 * DAY) if (g >> 32) % 5 == 0 else None,
                "_shared": shared,
            })
        return out

    def image_rows(self, acct: str) -> dict[str, int]:
        """Rows the AMI tables of a correct sync hold for this account (one launch permission row per
        account, organisation, OU or "all" an AMI is shared with)."""
        imgs = [x for r in self.regions for x in self.images(acct, r)]
        return {"aws_ec2_images": len(imgs), "aws_ec2_image_launch_permissions": sum(len(x["_shared"]) for x in imgs)}

    # -- EBS encryption by default -------------------------------------------------------------------
    # Drawn from hashes of their own (self.h("ebsdefault", ...)), so no earlier answer changed.
    def ebs_defaults(self, acct: str, region: str) -> dict[str, Any]:
        """The region's EBS defaults, as GetEbsEncryptionByDefault and GetEbsDefaultKmsKeyId return them:
        EBS_DEFAULT_MIX's entry from a hashed start per account and region; the default key a customer managed
        key of the region (as the snapshots') or, as AWS answers when none was set, the aws/ebs alias ARN (also
        where the region has no customer key, and outside the world, where encryption by default is off)."""
        on, enc, g = False, "aws", 0
        if acct in self.account_set and region in self.region_set:
            _, g, (on, enc) = self._drawn("ebsdefault", acct, region, 1, EBS_DEFAULT_MIX)[0]
        _, key = self._customer_key(enc, acct, region, g)
        return {"EbsEncryptionByDefault": on,
                "KmsKeyId": key.arn if key is not None else f"arn:aws:kms:{region}:{acct}:alias/aws/ebs"}

    # -- AWS Backup ----------------------------------------------------------------------------------
    # Drawn from hashes of their own (self.h("vault", ...), self.h("backupplan", ...)), so no earlier answer changed.
    def backup_vaults(self, acct: str, region: str) -> list[dict[str, Any]]:
        """The account's backup vaults in the region (sorted by name), as ListBackupVaults returns them, with
        "_policy" (GetBackupVaultAccessPolicy's document, None: none), "_access" (its VAULT_MIX policy kind) and
        "_tags" (ListTags). The first is the Region's "Default" vault, the others go through VAULT_MIX. The
        key (always set, as AWS sets it) is a customer managed key of the world or the Region's aws/backup key:
        its ARN when the world's KMS has it (180+ keys per region), else the alias ARN alias/aws/backup."""
        return self._per_region(self._vaults, acct, region, self._new_vaults, "BackupVaultName")

    def _new_vaults(self, acct: str, region: str) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        if self.vaults_per_region < 1:
            return out
        aws_key = self._aws_key(acct, region, "backup")
        aws_arn = aws_key.arn if aws_key is not None else f"arn:aws:kms:{region}:{acct}:alias/aws/backup"
        for j, g, (enc, pol) in self._drawn("vault", acct, region, self.vaults_per_region, VAULT_MIX):
            if j == 0:
                enc, pol = "aws", None   # the Region's Default vault
            app, env = self._app_env(g)
            name = "Default" if j == 0 else f"{app}-{env}-vault-{j:02d}"
            _, key = self._customer_key(enc, acct, region, g)
            v: dict[str, Any] = {
                "BackupVaultName": name, "BackupVaultArn": f"arn:aws:backup:{region}:{acct}:backup-vault:{name}",
                "VaultType": "BACKUP_VAULT", "VaultState": "AVAILABLE",
                "CreationDate": BASE_EPOCH + (g >> 20) % (3 * 365 * DAY) + (g >> 12) % 1000 / 1000,
                "EncryptionKeyArn": key.arn if key is not None else aws_arn,
                "NumberOfRecoveryPoints": (g >> 32) % 400, "Locked": False,
            }
            if j and (g >> 44) % 2:
                v["CreatorRequestId"] = self._uuid("vaultreq", acct, region, j)
            if j and (g >> 46) % 10 == 0:   # Vault Lock (compliance mode once its LockDate has passed)
                v.update(Locked=True, MinRetentionDays=7, MaxRetentionDays=(365, 2555)[(g >> 48) % 2],
                         LockDate=v["CreationDate"] + 3 * DAY)
            v["_policy"] = None if pol is None else self._policy_text(self._vault_policy(acct, pol, app), g)
            v["_access"] = pol
            v["_tags"] = dict(self._team_tags(app, env, (g >> 56) % 4)) if j else {}
            out.append(v)
        return out

    def _uuid(self, *parts: Any) -> str:
        """A version 4 UUID drawn from h(*parts)."""
        return str(uuid.UUID(int=(self.h(*parts) << 64) | self.h(*parts, "low"), version=4))

    def _vault_policy(self, acct: str, pol: str, app: str) -> dict[str, Any]:
        """A vault access policy (VAULT_MIX's policy kind): the next account, or the organisation, may copy
        recovery points in; or no one may delete them."""
        if pol == "deny":
            return {"Version": "2012-10-17", "Statement": [
                {"Sid": "DenyRecoveryPointDeletion", "Effect": "Deny", "Principal": {"AWS": "*"},
                 "Action": ["backup:DeleteRecoveryPoint", "backup:UpdateRecoveryPointLifecycle",
                            "backup:DeleteBackupVault"], "Resource": "*"}]}
        org = self.organization(acct) if pol == "org" else None
        if org is not None:
            return {"Version": "2012-10-17", "Statement": [
                {"Sid": "AllowOrganizationCopyInto", "Effect": "Allow", "Principal": {"AWS": "*"},
                 "Action": "backup:CopyIntoBackupVault", "Resource": "*",
                 "Condition": {"StringEquals": {"aws:PrincipalOrgID": org["Id"]}}}]}
        return {"Version": "2012-10-17", "Statement": [
            {"Sid": "AllowCopyIntoFromPartnerAccount", "Effect": "Allow",
             "Principal": {"AWS": self._principal(acct, "cross", app)}, "Action": "backup:CopyIntoBackupVault",
             "Resource": "*"}]}

    def find_vault(self, acct: str, region: str, name: str) -> dict[str, Any] | None:
        return next((v for v in self.backup_vaults(acct, region) if v["BackupVaultName"] == name), None)

    def backup_plans(self, acct: str, region: str) -> list[dict[str, Any]]:
        """The account's backup plans in the region (sorted by name), as GetBackupPlan returns them, with
        "_tags"; none where the region has no vault (a rule needs one). The first rule backs up into one of the
        region's vaults and copies to the vault of the previous account of the world in the same region that
        admits this one (its "cross" or "org" vault; else its last vault, whose copies then fail); half the
        plans have a second rule into the Default vault, without copies."""
        return self._per_region(self._plans, acct, region, self._new_plans, "BackupPlanName")

    def _new_plans(self, acct: str, region: str) -> list[dict[str, Any]]:
        vaults = self.backup_vaults(acct, region)
        if not vaults:
            return []
        i = self.accounts.index(acct)
        dest = None
        if len(self.accounts) > 1:   # the previous account's vault that admits this one (the next of it)
            theirs = self.backup_vaults(self.accounts[i - 1], region)
            dest = next((v for v in theirs if v["_access"] in ("cross", "org")), theirs[-1] if theirs else None)
        out: list[dict[str, Any]] = []
        for j in range(self.plans_per_region):
            g = self.h("backupplan", acct, region, j)
            app, env = self._app_env(g)
            plan_id = self._uuid("planid", acct, region, j)
            version = base64.b64encode(self._uuid("planver", acct, region, j).encode()).decode()   # as AWS's
            created = BASE_EPOCH + (g >> 20) % (3 * 365 * DAY) + (g >> 8) % 1000 / 1000
            rules: list[dict[str, Any]] = []
            target = vaults[(g >> 36) % len(vaults)]["BackupVaultName"]
            for n, (rule, schedule, lifecycle) in enumerate(BACKUP_RULES[:1 + (g >> 40) % 2]):
                r: dict[str, Any] = {
                    "RuleName": rule, "TargetBackupVaultName": target if n == 0 else "Default",
                    "ScheduleExpression": schedule, "StartWindowMinutes": 480, "CompletionWindowMinutes": 10080,
                    "Lifecycle": lifecycle,
                    "RuleId": self._uuid("planrule", acct, region, j, n),
                    "EnableContinuousBackup": False, "ScheduleExpressionTimezone": "Etc/UTC",
                }
                if n == 0 and dest is not None:
                    r["CopyActions"] = [{"Lifecycle": {"DeleteAfterDays": (90, 365)[(g >> 42) % 2]},
                                         "DestinationBackupVaultArn": dest["BackupVaultArn"]}]
                rules.append(r)
            p: dict[str, Any] = {
                "BackupPlan": {"BackupPlanName": f"{app}-{env}-{BACKUP_PLAN_KINDS[(g >> 12) % 4]}-{j:02d}",
                               "Rules": rules},
                "BackupPlanId": plan_id, "BackupPlanArn": f"arn:aws:backup:{region}:{acct}:backup-plan:{plan_id}",
                "VersionId": version, "CreationDate": created,
                "LastExecutionDate": NOW // DAY * DAY - ((g >> 30) % 3 + 1) * DAY + 5 * 3600,
            }
            if (g >> 44) % 2:
                p["CreatorRequestId"] = self._uuid("planreq", acct, region, j)
            if (g >> 46) % 5 == 0:   # Windows VSS for EC2, which the plan and its listing both show
                p["BackupPlan"]["AdvancedBackupSettings"] = p["AdvancedBackupSettings"] = [
                    {"ResourceType": "EC2", "BackupOptions": {"WindowsVSS": "enabled"}}]
            p["BackupPlanName"] = p["BackupPlan"]["BackupPlanName"]   # for sorting and the listing
            p["_tags"] = dict(self._team_tags(app, env, (g >> 56) % 4))
            out.append(p)
        return out

    @staticmethod
    def plan_listing(p: dict[str, Any]) -> dict[str, Any]:
        """A plan as ListBackupPlans returns it (BackupPlansListMember)."""
        keys = ("BackupPlanArn", "BackupPlanId", "CreationDate", "VersionId", "BackupPlanName", "CreatorRequestId",
                "LastExecutionDate", "AdvancedBackupSettings")
        return {k: p[k] for k in keys if k in p}

    def backup_rows(self, acct: str) -> dict[str, int]:
        """Rows the AWS Backup tables of a correct sync hold for this account."""
        return {"aws_backup_vaults": sum(len(self.backup_vaults(acct, r)) for r in self.regions),
                "aws_backup_plans": sum(len(self.backup_plans(acct, r)) for r in self.regions)}


# ---------------------------------------------------------------------------------------------
# Request handling


def _marker(offset: int) -> str:
    return base64.urlsafe_b64encode(f"o:{offset}".encode()).decode().rstrip("=")


def _offset(marker: str | None, code: str) -> int:
    if not marker:
        return 0
    try:
        raw = base64.urlsafe_b64decode(marker + "=" * (-len(marker) % 4)).decode()
        if raw.startswith("o:"):
            return int(raw[2:])
    except (ValueError, UnicodeDecodeError):
        pass
    raise ApiError(400, code, "The marker/token is not valid")


def _paginate(items: list[Any], marker: str | None, size: int, code: str) -> tuple[list[Any], str]:
    """The page of `items` that starts at `marker` (an offset token from _marker; a bad one is ApiError
    `code`) and holds `size` at most, and the next page's marker ("" on the last page)."""
    start = _offset(marker, code)
    end = start + size
    return items[start:end], _marker(end) if end < len(items) else ""


def _int_or_zero(value: str | None, default: int) -> int:
    """An integer parameter (`default` when absent or empty; 0, out of every range, when not a number)."""
    try:
        return int(value or default)
    except ValueError:
        return 0


def _xml_error(ns: str, code: str, message: str, rid: str) -> bytes:
    """The error body of the query protocol (STS, IAM, SNS, RDS)."""
    return (f'<ErrorResponse xmlns="{ns}"><Error><Type>Sender</Type><Code>{code}</Code><Message>'
            f"{xml_escape(message)}</Message></Error><RequestId>{rid}</RequestId></ErrorResponse>").encode()


def _xml_answer(ns: str, op: str, result: str, rid: str) -> bytes:
    """The answer body of the query protocol (STS, IAM, SNS, RDS): `result` inside <{op}Result>."""
    return (f'<{op}Response xmlns="{ns}"><{op}Result>{result}</{op}Result><ResponseMetadata><RequestId>{rid}'
            f"</RequestId></ResponseMetadata></{op}Response>").encode()


def _ec2_error(ns: str, code: str, message: str, rid: str) -> bytes:
    """The error body of the ec2 protocol (no namespace)."""
    return (f'<?xml version="1.0" encoding="UTF-8"?>\n<Response><Errors><Error><Code>{code}</Code><Message>'
            f"{xml_escape(message)}</Message></Error></Errors><RequestID>{rid}</RequestID></Response>").encode()


def _ec2_answer(ns: str, op: str, result: str, rid: str) -> bytes:
    """The answer body of the ec2 protocol: `result` right in <{op}Response>, after <requestId>."""
    return (f'<?xml version="1.0" encoding="UTF-8"?>\n<{op}Response xmlns="{ns}"><requestId>{rid}</requestId>'
            f"{result}</{op}Response>").encode()


class FormService(NamedTuple):
    """A service with a form body (`Action=`) and XML answers, cached by (account, region, form):
    Server.<svc>_op(op, form, acct, region) gives an answer's result XML or raises ApiError."""
    ns: str
    ctype: str
    throttle: tuple[int, str, str] | None   # (status, code, message) of a throttled request; None: never
    ops: tuple[str, ...] | None             # counted by name (others as `<svc>.unknown`); None: every op
    regional: bool = True                   # False: global (the region is neither read nor in the cache key)
    rid48: bool = False                     # the request id's layout SNS and IAM were first served with
    answer: Callable[[str, str, str, str], bytes] = _xml_answer   # (ns, op, result, rid)
    error: Callable[[str, str, str, str], bytes] = _xml_error     # (ns, code, message, rid)


FORM_SERVICES = {
    "sns": FormService(SNS_NS, "text/xml", (400, "Throttling", "Rate exceeded"), None, rid48=True),
    "ec2": FormService(EC2_NS, "text/xml;charset=UTF-8", (503, "RequestLimitExceeded", "Request limit exceeded."),
                       EC2_OPS, answer=_ec2_answer, error=_ec2_error),
    "rds": FormService(RDS_NS, "text/xml", (400, "Throttling", "Rate exceeded"), RDS_OPS),
    "iam": FormService(IAM_NS, "text/xml", None, None, regional=False, rid48=True),
}


class Server:
    def __init__(self, world: World, latency: float, throttle: float, cache_limit: int = 2_000_000) -> None:
        self.world = world
        # Answers by request (the world is immutable): see kms_compute, s3_compute, prewarm.
        self.cache: dict[tuple, tuple] = {}
        self.cache_limit = cache_limit
        self.latency = latency
        self.throttle = throttle
        self.stats: Counter = Counter()
        self.errors: Counter = Counter()
        self.t_first = 0.0
        self.t_last = 0.0
        self._eligible = 0
        self._rid = 0
        self._date = ""
        self._date_t = 0
        self.connections = 0
        self.max_connections = 0
        # Replies due in the same millisecond share one event-loop timer (fewer wake-ups).
        self._due: dict[int, list[tuple["HttpConnection", list[Any]]]] = {}

    def schedule(self, conn: "HttpConnection", entry: list[Any]) -> None:
        loop = conn.loop
        tick = math.ceil((loop.time() + self.latency) * 1000)
        batch = self._due.get(tick)
        if batch is None:
            batch = self._due[tick] = []
            loop.call_at(tick / 1000, self._fire, tick)
        batch.append((conn, entry))

    def _fire(self, tick: int) -> None:
        for conn, entry in self._due.pop(tick):
            conn.ready(entry)

    # -- helpers --------------------------------------------------------------------------------
    def date(self) -> str:
        t = int(time.time())
        if t != self._date_t:
            self._date_t, self._date = t, formatdate(t, usegmt=True)
        return self._date

    def request_id(self) -> str:
        self._rid += 1
        return f"{self._rid:08X}-FAKE-4000-8000-{self.world.seed:012X}"

    def throttled(self) -> bool:
        if self.throttle <= 0:
            return False
        n = self._eligible
        self._eligible += 1
        return int((n + 1) * self.throttle) > int(n * self.throttle)

    def _throttle_hit(self, svc: str, op: str, code: str) -> bool:
        """Whether this request is one of the throttled fraction (then counted as error `code`)."""
        if not self.throttled():
            return False
        self.stats["throttled"] += 1
        self.errors[f"{svc}.{op}:{code}"] += 1
        return True

    def _answer(self, ck: Any, compute: Callable[..., tuple], *args: Any) -> tuple:
        """The answer to a request by its cache key: cached, or `compute(*args)` (and kept while there is room)."""
        entry = self.cache.get(ck)
        if entry is None:
            self.stats["cache_miss"] += 1
            entry = compute(*args)
            if len(self.cache) < self.cache_limit:
                self.cache[ck] = entry
        return entry

    def _prewarm(self, ck: Any, compute: Callable[..., tuple], *args: Any) -> None:
        if ck not in self.cache and len(self.cache) < self.cache_limit:
            self.cache[ck] = compute(*args)

    def _json_request_id(self) -> str:
        """The request id header of the JSON services (KMS, Organizations, Secrets Manager, SQS)."""
        self._rid += 1
        return f"x-amzn-RequestId: {self._rid:08x}-fake-4000-8000-{self.world.seed:012x}\r\n"

    def snapshot(self) -> dict[str, Any]:
        ru = resource.getrusage(resource.RUSAGE_SELF)
        total = sum(v for k, v in self.stats.items() if "." in k)
        span = max(self.t_last - self.t_first, 1e-9)
        return {"total": total, "ops": dict(sorted((k, v) for k, v in self.stats.items() if "." in k)),
                "throttled": self.stats["throttled"], "s3_wrong_region": self.stats["s3_wrong_region"],
                "cache_miss": self.stats["cache_miss"], "cache_entries": len(self.cache),
                "errors": dict(sorted(self.errors.items())), "span_s": round(span, 3),
                "req_per_s": round(total / span, 1) if total else 0.0,
                "cpu_s": round(ru.ru_utime + ru.ru_stime, 3), "max_rss_mb": round(ru.ru_maxrss / 1024, 1),
                "max_connections": self.max_connections,
                "world": {"accounts": self.world.accounts, "regions": self.world.regions,
                          "keys_per_region": self.world.keys_per_region,
                          "buckets_per_account": self.world.buckets_per_account,
                          "mraps_per_account": self.world.mraps_per_account,
                          "iam": dict(zip(("roles", "users", "groups", "policies"), self.world.iam_sizes)),
                          "iam_heavy_accounts": self.world.iam_heavy_accounts,
                          "secrets_queues_topics_per_region": [self.world.secrets_per_region,
                                                               self.world.queues_per_region,
                                                               self.world.topics_per_region],
                          "ebs_db_cluster_snapshots_per_region": [self.world.ebs_snapshots_per_region,
                                                                  self.world.db_snapshots_per_region,
                                                                  self.world.cluster_snapshots_per_region],
                          "images_per_region": self.world.images_per_region,
                          "backup_vaults_plans_per_region": [self.world.vaults_per_region,
                                                             self.world.plans_per_region],
                          "seed": self.world.seed},
                "latency_ms": self.latency * 1000, "throttle_fraction": self.throttle}

    # -- dispatch -------------------------------------------------------------------------------
    def handle(self, method: str, target: str, headers: dict[str, str], body: bytes) -> bytes:
        auth = headers.get("authorization", "")
        if not auth:
            return self.control(method, target)
        now = time.monotonic()
        if not self.t_first:
            self.t_first = now
        self.t_last = now
        akid = region = service = ""
        i = auth.find("Credential=")
        if i >= 0:
            scope = auth[i + 11:].split(",", 1)[0].split("/")
            if len(scope) >= 5:
                akid, region, service = scope[0], scope[2], scope[3]
        acct = akid[4:16] if akid.startswith("ASIA") and akid[4:16].isdigit() else SCANNER_ACCOUNT
        if service == "kms":
            return self.kms(headers, body, acct, region)
        if service == "s3":
            if target.startswith(S3C_PREFIX):  # S3 Control signs as "s3" too
                return self.s3control(method, target, headers, acct, region)
            return self.s3(method, target, acct, region)
        if service == "sts":
            return self.sts(body, acct, region)
        if service == "organizations":
            return self.organizations(headers, acct)
        if service in ("secretsmanager", "sqs"):
            return self.json_service(service, headers, body, acct, region)
        if service in FORM_SERVICES:   # SNS, EC2, RDS, IAM
            return self.form_service(service, body, acct, region)
        if service == "backup":
            return self.backup(method, target, acct, region)
        self.stats[f"{service or 'unknown'}.unknown"] += 1
        return self.http(400, "application/json", b'{"__type":"UnknownServiceException"}')

    def http(self, status: int, ctype: str, body: bytes, extra: str = "") -> bytes:
        reason = {200: "OK", 400: "Bad Request", 403: "Forbidden", 404: "Not Found", 501: "Not Implemented",
                  503: "Slow Down"}.get(status, "Error")
        head = (f"HTTP/1.1 {status} {reason}\r\nDate: {self.date()}\r\nContent-Type: {ctype}\r\n"
                f"Content-Length: {len(body)}\r\n{extra}\r\n")
        return head.encode() + body

    def control(self, method: str, target: str) -> bytes:
        path = target.split("?", 1)[0]
        if path == "/__stats":
            return self.http(200, "application/json", json.dumps(self.snapshot()).encode())
        if path == "/__reset" and method == "POST":
            self.stats.clear()
            self.errors.clear()
            self.t_first = self.t_last = 0.0
            self._eligible = 0
            return self.http(200, "application/json", b"{}")
        return self.http(403, "application/xml", b"<Error><Code>MissingAuthenticationToken</Code></Error>")

    # -- STS ------------------------------------------------------------------------------------
    def sts(self, body: bytes, acct: str, region: str) -> bytes:
        form = dict(parse_qsl(body.decode()))
        op = form.get("Action", "")
        self.stats[f"sts.{op}"] += 1
        rid = self.request_id()
        try:
            if op == "GetCallerIdentity":
                if acct == SCANNER_ACCOUNT:
                    arn, uid = f"arn:aws:iam::{acct}:user/bench-scanner", "AIDABENCHSCANNER00001"
                else:
                    arn, uid = f"arn:aws:sts::{acct}:assumed-role/audit/aws-encryption", "AROABENCHAUDIT:aws-encryption"
                res = f"<Arn>{arn}</Arn><UserId>{uid}</UserId><Account>{acct}</Account>"
            elif op == "AssumeRole":
                role = form.get("RoleArn", "")
                parts = role.split(":")
                target = parts[4] if len(parts) >= 6 else ""
                if target not in self.world.account_set:
                    raise ApiError(403, "AccessDenied", f"User: arn:aws:iam::{acct}:user/bench-scanner is not "
                                                        f"authorized to perform: sts:AssumeRole on resource: {role}")
                session = form.get("RoleSessionName", "session")
                self._rid += 1
                key = f"ASIA{target}{self._rid % 36**4:04X}"[:20]
                exp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 3600))
                res = (f"<Credentials><AccessKeyId>{key}</AccessKeyId><SecretAccessKey>fakeSecret{self._rid:030d}"
                       f"</SecretAccessKey><SessionToken>FQoGZXIvYXdzEFAKE{self._rid:040d}</SessionToken>"
                       f"<Expiration>{exp}</Expiration></Credentials><AssumedRoleUser>"
                       f"<AssumedRoleId>AROABENCH{target}:{xml_escape(session)}</AssumedRoleId>"
                       f"<Arn>arn:aws:sts::{target}:assumed-role/{xml_escape(parts[5].split('/', 1)[-1])}/"
                       f"{xml_escape(session)}</Arn></AssumedRoleUser><PackedPolicySize>6</PackedPolicySize>")
            else:
                raise ApiError(400, "InvalidAction", f"Could not find operation {op} for version 2011-06-15")
        except ApiError as e:
            self.errors[f"sts.{op}:{e.code}"] += 1
            return self.http(e.status, "text/xml", _xml_error(STS_NS, e.code, e.message, rid),
                             f"x-amzn-RequestId: {rid}\r\n")
        return self.http(200, "text/xml", _xml_answer(STS_NS, op, res, rid), f"x-amzn-RequestId: {rid}\r\n")

    # -- KMS ------------------------------------------------------------------------------------
    def kms(self, headers: dict[str, str], body: bytes, acct: str, region: str) -> bytes:
        op = headers.get("x-amz-target", "").rpartition(".")[2]
        self.stats[f"kms.{op}"] += 1
        extra = self._json_request_id()
        if self._throttle_hit("kms", op, "ThrottlingException"):
            return self.http(400, KMS_CTYPE, b'{"__type":"ThrottlingException","message":"Rate exceeded"}', extra)
        try:
            params = json.loads(body) if body else {}
            ck: Any = ("kms", acct, region, op, tuple(sorted(params.items())))
            hash(ck)
        except (ValueError, TypeError, AttributeError):
            return self.http(400, KMS_CTYPE, b'{"__type":"SerializationException"}', extra)
        status, out, code = self._answer(ck, self.kms_compute, op, params, acct, region)
        if code:
            self.errors[f"kms.{op}:{code}"] += 1
        return self.http(status, KMS_CTYPE, out, extra)

    def kms_compute(self, op: str, params: dict[str, Any], acct: str, region: str) -> tuple[int, bytes, str]:
        """(status, body, error code or "") of one KMS request; the world never changes, so it is cached."""
        try:
            return 200, json.dumps(self.kms_op(op, params, acct, region)).encode(), ""
        except ApiError as e:
            return e.status, json.dumps({"__type": e.code, "message": e.message}).encode(), e.code

    def prewarm(self) -> int:
        """Answer, once, every per-resource request the plugin makes (with its Limits), so the sync's
        requests are served from the cache as the load generator's are. Returns the number of answers."""
        w = self.world
        for acct in w.accounts:
            for region in w.regions:
                keys, _ = w.keys(acct, region)
                for k in keys:
                    for op, extra in (("DescribeKey", ()), ("GetKeyPolicy", (("PolicyName", "default"),)),
                                      ("ListGrants", (("Limit", 100),)), ("ListResourceTags", (("Limit", 50),)),
                                      ("GetKeyRotationStatus", ()), ("ListKeyRotations", (("Limit", 1000),))):
                        params = dict((("KeyId", k.arn), *extra))
                        self._prewarm(("kms", acct, region, op, tuple(sorted(params.items()))), self.kms_compute,
                                      op, params, acct, region)
            for b in w.buckets(acct):
                for sub in self.S3_SUBRESOURCES:
                    if sub == "acl" and w.ownership(b) == "BucketOwnerEnforced":
                        continue  # ACLs disabled: the plugin does not ask
                    target = f"/{b.name}?{sub}"
                    self._prewarm(("s3", acct, b.region, "GET", target), self.s3_compute, "GET", target, acct, b.region)
            control = [(region, f"{S3C_PREFIX}accesspoint/{ap['Name']}/policy")
                       for region in w.regions for ap in w.access_points(acct, region)]
            control += [(MRAP_REGION, f"{S3C_PREFIX}mrap/instances/{m['Name']}/policy") for m in w.mraps(acct)]
            # GetAccessPoint per access point, and the account's own GetPublicAccessBlock where the plugin asks
            # it (the global region of the bench specs' custom endpoint, custom_endpoint_signing_region)
            control += [(region, f"{S3C_PREFIX}accesspoint/{ap['Name']}")
                        for region in w.regions for ap in w.access_points(acct, region)]
            control.append((GLOBAL_REGION, f"{S3C_PREFIX}configuration/publicAccessBlock"))
            for region, target in control:
                self._prewarm(("s3c", acct, acct, region, "GET", target), self.s3control_compute, "GET", target, acct,
                              acct, region)
            self._prewarm(("org", acct, "DescribeOrganization"), self.organizations_compute, "DescribeOrganization",
                          acct)
            # Secrets Manager, SQS and SNS per resource, with the plugin's parameters
            for region in w.regions:
                for sec in w.secrets(acct, region):
                    self._prewarm_json("secretsmanager", acct, region, "GetResourcePolicy", {"SecretId": sec["ARN"]})
                for q in w.queues(acct, region):
                    self._prewarm_json("sqs", acct, region, "GetQueueAttributes",
                                       {"QueueUrl": q["url"], "AttributeNames": ["All"]})
                    self._prewarm_json("sqs", acct, region, "ListQueueTags", {"QueueUrl": q["url"]})
                for t in w.topics(acct, region):
                    for form in ({"Action": "GetTopicAttributes", "Version": "2010-03-31", "TopicArn": t["arn"]},
                                 {"Action": "ListTagsForResource", "Version": "2010-03-31", "ResourceArn": t["arn"]}):
                        self._prewarm_form("sns", acct, region, form)
                # EBS snapshots' createVolumePermission, AMIs' launchPermission, manual DB snapshots' attributes
                # (the plugin's asks)
                for k in EC2_KINDS.values():
                    for x in getattr(w, k.world)(acct, region):
                        self._prewarm_form("ec2", acct, region, {"Action": k.attrs_op, "Version": "2016-11-15",
                                                                 k.id_key: x[k.id_key], "Attribute": k.attribute})
                for op in EC2_DEFAULT_OPS:   # the region's EBS defaults, asked once per account and region
                    self._prewarm_form("ec2", acct, region, {"Action": op, "Version": "2016-11-15"})
                for snap in w.db_snapshots(acct, region):
                    if snap["SnapshotType"] == "manual":
                        self._prewarm_form("rds", acct, region, {"Action": "DescribeDBSnapshotAttributes",
                                                                 "Version": "2014-10-31",
                                                                 "DBSnapshotIdentifier": snap["DBSnapshotIdentifier"]})
                for snap in w.cluster_snapshots(acct, region):
                    if snap["SnapshotType"] == "manual":
                        self._prewarm_form("rds", acct, region, {
                            "Action": "DescribeDBClusterSnapshotAttributes", "Version": "2014-10-31",
                            "DBClusterSnapshotIdentifier": snap["DBClusterSnapshotIdentifier"]})
                # AWS Backup: each vault's access policy and tags, each plan (the paths botocore sends)
                for v in w.backup_vaults(acct, region):
                    for target in (f"/backup-vaults/{quote(v['BackupVaultName'], safe='-_.~')}/access-policy",
                                   f"/tags/{quote(v['BackupVaultArn'], safe='-_.~')}/"):
                        self._prewarm(("backup", acct, region, "GET", target), self.backup_compute, "GET", target,
                                      acct, region)
                for plan in w.backup_plans(acct, region):
                    target = f"/backup/plans/{quote(plan['BackupPlanId'], safe='-_.~')}/"
                    self._prewarm(("backup", acct, region, "GET", target), self.backup_compute, "GET", target, acct,
                                  region)
            # GetAccountAuthorizationDetails as the plugin pages it (MaxItems=1000, then each Marker)
            form = {"Action": "GetAccountAuthorizationDetails", "Version": "2010-05-08", "MaxItems": "1000"}
            for start in range(0, max(len(w.iam(acct)), 1), 1000):
                if start:
                    form["Marker"] = _marker(start)
                self._prewarm_form("iam", acct, "", dict(form))
        return len(self.cache)

    def _prewarm_form(self, svc: str, acct: str, region: str, form: dict[str, str]) -> None:
        self._prewarm(self._form_key(svc, acct, region, form), self.form_compute, svc, form, acct, region)

    def _prewarm_json(self, svc: str, acct: str, region: str, op: str, params: dict[str, Any]) -> None:
        self._prewarm((svc, acct, region, op, json.dumps(params, sort_keys=True)), self.json_compute, svc, op, params,
                      acct, region)

    def _page(self, op: str, items: list[Any], params: dict[str, Any], key: str) -> dict[str, Any]:
        default, hi = KMS_LIST_LIMITS[op]
        limit = params.get("Limit", default)
        if not isinstance(limit, int) or not 1 <= limit <= hi:
            raise ApiError(400, "ValidationException", f"1 validation error detected: Value '{limit}' at 'limit' "
                                                       f"failed to satisfy constraint: Member must have value less "
                                                       f"than or equal to {hi}")
        page, nxt = _paginate(items, params.get("Marker"), limit, "InvalidMarkerException")
        out: dict[str, Any] = {key: page, "Truncated": bool(nxt)}
        if nxt:
            out["NextMarker"] = nxt
        return out

    def kms_op(self, op: str, p: dict[str, Any], acct: str, region: str) -> dict[str, Any]:
        w = self.world
        if op == "ListKeys":
            keys, _ = w.keys(acct, region)
            return self._page_keys(keys, p)
        if op == "ListAliases":
            items = w.aliases(acct, region)
            if p.get("KeyId"):
                k = w.find_key(acct, region, p["KeyId"])
                items = [a for a in items if a.get("TargetKeyId") == k.key_id]
            return self._page(op, items, p, "Aliases")
        if "KeyId" not in p:
            if op in ("DescribeKey", "GetKeyRotationStatus", "ListResourceTags", "GetKeyPolicy", "ListGrants",
                      "ListKeyRotations"):
                raise ApiError(400, "ValidationException", "1 validation error detected: Value null at 'keyId' "
                                                           "failed to satisfy constraint: Member must not be null")
            raise ApiError(400, "UnknownOperationException", f"Unknown operation {op}")
        k = w.find_key(acct, region, p["KeyId"])
        if op == "DescribeKey":
            return {"KeyMetadata": w.key_metadata(acct, region, k)}
        if op == "GetKeyPolicy":
            name = p.get("PolicyName", "default")
            if name != "default":
                raise ApiError(400, "NotFoundException", f"Policy {name} does not exist")
            return {"Policy": w.key_policy(acct, region, k), "PolicyName": "default"}
        if op == "ListGrants":
            return self._page(op, w.grants(acct, region, k), p, "Grants")
        if op == "ListResourceTags":
            return self._page(op, w.tags(k), p, "Tags")
        if op == "GetKeyRotationStatus":
            if not k.symmetric:
                raise ApiError(400, "UnsupportedOperationException",
                               f"{k.arn} key usage is not supported for this operation")
            return w.rotation_status(k)
        if op == "ListKeyRotations":
            if not k.symmetric:
                raise ApiError(400, "UnsupportedOperationException",
                               f"{k.arn} key usage is not supported for this operation")
            return self._page(op, w.rotations(k), p, "Rotations")
        raise ApiError(400, "UnknownOperationException", f"Unknown operation {op}")

    def _page_keys(self, keys: list[Key], p: dict[str, Any]) -> dict[str, Any]:
        # Same as _page, without building the whole item list for big regions.
        default, hi = KMS_LIST_LIMITS["ListKeys"]
        limit = p.get("Limit", default)
        if not isinstance(limit, int) or not 1 <= limit <= hi:
            raise ApiError(400, "ValidationException", f"Value '{limit}' at 'limit' failed to satisfy constraint")
        page, nxt = _paginate(keys, p.get("Marker"), limit, "InvalidMarkerException")
        out: dict[str, Any] = {"Keys": [{"KeyId": k.key_id, "KeyArn": k.arn} for k in page], "Truncated": bool(nxt)}
        if nxt:
            out["NextMarker"] = nxt
        return out

    # -- S3 -------------------------------------------------------------------------------------
    S3_SUBRESOURCES = {"location": "GetBucketLocation", "policyStatus": "GetBucketPolicyStatus",
                       "tagging": "GetBucketTagging", "encryption": "GetBucketEncryption", "policy": "GetBucketPolicy",
                       "publicAccessBlock": "GetPublicAccessBlock", "ownershipControls": "GetBucketOwnershipControls",
                       "acl": "GetBucketAcl", "replication": "GetBucketReplication", "logging": "GetBucketLogging"}

    def s3(self, method: str, target: str, acct: str, region: str) -> bytes:
        self._rid += 1
        rid = f"{self._rid:016X}"
        op, status, ctype, body, extra, code, wrong_region = self._answer(
            ("s3", acct, region, method, target), self.s3_compute, method, target, acct, region)
        self.stats[f"s3.{op}"] += 1
        extra = f"x-amz-request-id: {rid}\r\nx-amz-id-2: {rid}{extra}"
        if self._throttle_hit("s3", op, "SlowDown"):
            xml = (f'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>SlowDown</Code><Message>Please reduce '
                   f"your request rate.</Message><RequestId>{rid}</RequestId><HostId>{rid}</HostId></Error>")
            return self.http(503, "application/xml", b"" if method == "HEAD" else xml.encode(), extra)
        if code:
            self.errors[f"s3.{op}:{code}"] += 1
        if wrong_region:
            self.stats["s3_wrong_region"] += 1
        return self.http(status, ctype, body, extra)

    def s3_compute(self, method: str, target: str, acct: str, region: str) -> tuple:
        """(op, status, content type, body, extra headers, error code, wrong region) of one S3 request."""
        path, _, qs = target.partition("?")
        query = {}
        if qs:
            for part in qs.split("&"):
                k, _, v = part.partition("=")
                query[k] = unquote(v) if "%" in v else v
        bucket = unquote(path.lstrip("/").split("/", 1)[0])
        if not bucket:
            op = "ListBuckets"
        elif method == "HEAD":
            op = "HeadBucket"
        else:
            op = next((v for k, v in self.S3_SUBRESOURCES.items() if k in query), "Unsupported")
        if method not in ("GET", "HEAD"):
            op = f"{method}:{op}"
        extra = "\r\n"
        wrong = False
        try:
            if op == "ListBuckets":
                return op, 200, "application/xml", self.list_buckets(acct, query).encode(), extra, "", False
            if op.startswith(("POST", "PUT", "DELETE")) or op == "Unsupported":
                raise ApiError(501, "NotImplemented", "A header you provided implies functionality that is not "
                                                      "implemented")
            b = self.world.bucket(acct, bucket)
            extra = f"\r\nx-amz-bucket-region: {b.region}\r\n"
            wrong = region != b.region and op != "GetBucketLocation"
            if op == "HeadBucket":
                return op, 200, "application/xml", b"", extra, "", wrong
            body, ctype = self.s3_op(op, b)
        except ApiError as e:
            name = f"<BucketName>{xml_escape(bucket)}</BucketName>" if bucket else ""
            rid = f"{hash(target) & 0xFFFFFFFFFFFFFFFF:016X}"
            xml = (f'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>{e.code}</Code><Message>'
                   f"{xml_escape(e.message)}</Message>{name}<RequestId>{rid}</RequestId><HostId>{rid}</HostId>"
                   "</Error>")
            return op, e.status, "application/xml", b"" if method == "HEAD" else xml.encode(), extra, e.code, wrong
        return op, 200, ctype, body.encode(), extra, "", wrong

    def list_buckets(self, acct: str, q: dict[str, str]) -> str:
        allb = self.world.buckets(acct)
        paginated = any(k in q for k in ("max-buckets", "continuation-token", "prefix", "bucket-region"))
        if "max-buckets" in q:
            mx = _int_or_zero(q["max-buckets"], 0)
            if not 1 <= mx <= 10000:
                raise ApiError(400, "InvalidArgument", "max-buckets must be between 1 and 10000")
        else:
            mx = 10000 if paginated else len(allb) or 1
        items = allb
        if q.get("prefix"):
            items = [b for b in items if b.name.startswith(q["prefix"])]
        if q.get("bucket-region"):
            items = [b for b in items if b.region == q["bucket-region"]]
        page, nxt = _paginate(items, q.get("continuation-token"), mx, "InvalidToken")
        parts = [f'<?xml version="1.0" encoding="UTF-8"?>\n<ListAllMyBucketsResult xmlns="{S3_NS}"><Owner>'
                 f"<DisplayName>bench-{acct}</DisplayName><ID>{hashlib.sha256(acct.encode()).hexdigest()}</ID></Owner>"
                 "<Buckets>"]
        for b in page:
            region = f"<BucketRegion>{b.region}</BucketRegion>" if paginated else ""
            parts.append(f"<Bucket><Name>{b.name}</Name><CreationDate>{iso(b.created)}</CreationDate>{region}"
                         f"<BucketArn>arn:aws:s3:::{b.name}</BucketArn></Bucket>")
        parts.append("</Buckets>")
        if paginated and nxt:
            parts.append(f"<ContinuationToken>{nxt}</ContinuationToken>")
        if q.get("prefix"):
            parts.append(f"<Prefix>{xml_escape(q['prefix'])}</Prefix>")
        parts.append("</ListAllMyBucketsResult>")
        return "".join(parts)

    def s3_op(self, op: str, b: Bucket) -> tuple[str, str]:
        w = self.world
        head = '<?xml version="1.0" encoding="UTF-8"?>\n'
        if op == "GetBucketLocation":
            loc = "" if b.region == "us-east-1" else b.region
            return f'{head}<LocationConstraint xmlns="{S3_NS}">{loc}</LocationConstraint>', "application/xml"
        if op == "GetBucketPolicy":
            pol = w.bucket_policy(b)
            if pol is None:
                raise ApiError(404, "NoSuchBucketPolicy", "The bucket policy does not exist")
            return pol, "application/json"
        if op == "GetBucketPolicyStatus":
            if not w.has_bucket_policy(b):
                raise ApiError(404, "NoSuchBucketPolicy", "The bucket policy does not exist")
            public = "true" if w.bucket_public(b) else "false"
            return f'{head}<PolicyStatus xmlns="{S3_NS}"><IsPublic>{public}</IsPublic></PolicyStatus>', \
                "application/xml"
        if op == "GetBucketTagging":
            n = (b.h >> 40) % 10
            if n < 3:
                raise ApiError(404, "NoSuchTagSet", "The TagSet does not exist")
            pool = [("Team", APPS[b.h % len(APPS)]), ("Environment", ENVS[(b.h >> 8) % len(ENVS)]),
                    ("CostCenter", f"cc-{b.h % 9000 + 1000}"), ("DataClassification", "internal"),
                    ("ManagedBy", "terraform")]
            tags = "".join(f"<Tag><Key>{k}</Key><Value>{v}</Value></Tag>" for k, v in pool[:n - 2])
            return f'{head}<Tagging xmlns="{S3_NS}"><TagSet>{tags}</TagSet></Tagging>', "application/xml"
        if op == "GetBucketEncryption":
            enc = w.bucket_encryption(b)
            if enc is None:
                raise ApiError(404, "ServerSideEncryptionConfigurationNotFoundError",
                               "The server side encryption configuration was not found")
            return enc, "application/xml"
        if op == "GetPublicAccessBlock":
            r = (b.h >> 48) % 100
            if r < 10:
                raise ApiError(404, "NoSuchPublicAccessBlockConfiguration",
                               "The public access block configuration was not found")
            vals = ["true"] * 4 if r >= 15 else ["true", "true", "false", "false"]
            return (f'{head}<PublicAccessBlockConfiguration xmlns="{S3_NS}"><BlockPublicAcls>{vals[0]}'
                    f"</BlockPublicAcls><IgnorePublicAcls>{vals[1]}</IgnorePublicAcls><BlockPublicPolicy>{vals[2]}"
                    f"</BlockPublicPolicy><RestrictPublicBuckets>{vals[3]}</RestrictPublicBuckets>"
                    "</PublicAccessBlockConfiguration>"), "application/xml"
        if op == "GetBucketOwnershipControls":
            own = w.ownership(b)
            if own is None:
                raise ApiError(404, "OwnershipControlsNotFoundError", "The bucket ownership controls were not found")
            return (f'{head}<OwnershipControls xmlns="{S3_NS}"><Rule><ObjectOwnership>{own}</ObjectOwnership>'
                    "</Rule></OwnershipControls>"), "application/xml"
        if op == "GetBucketAcl":
            owner = canonical_id(b.account)
            parts = [(f'{head}<AccessControlPolicy xmlns="{S3_NS}"><Owner><ID>{owner}</ID>'
                      f"<DisplayName>bench-{b.account}</DisplayName></Owner><AccessControlList>")]
            for gtype, gid, perm in w.bucket_acl(b):
                who = f"<ID>{gid}</ID>" if gtype == "CanonicalUser" else f"<URI>{gid}</URI>"
                parts.append(f'<Grant><Grantee {XSI} xsi:type="{gtype}">{who}</Grantee>'
                             f"<Permission>{perm}</Permission></Grant>")
            parts.append("</AccessControlList></AccessControlPolicy>")
            return "".join(parts), "application/xml"
        if op == "GetBucketReplication":
            repl = w.bucket_replication(b)
            if repl is None:
                raise ApiError(404, "ReplicationConfigurationNotFoundError",
                               "The replication configuration was not found")
            return repl, "application/xml"
        if op == "GetBucketLogging":
            lg = w.bucket_logging(b)
            inner = "" if lg is None else (f"<LoggingEnabled><TargetBucket>{lg[0]}</TargetBucket>"
                                           f"<TargetPrefix>{xml_escape(lg[1])}</TargetPrefix></LoggingEnabled>")
            return f'{head}<BucketLoggingStatus xmlns="{S3_NS}">{inner}</BucketLoggingStatus>', "application/xml"
        raise ApiError(501, "NotImplemented", f"{op} is not implemented by the fake")


    # -- S3 Control (REST XML under /v20180820/, account in x-amz-account-id) -------------------
    def s3control(self, method: str, target: str, headers: dict[str, str], acct: str, region: str) -> bytes:
        self._rid += 1
        rid = f"{self._rid:016X}"
        hdr = headers.get("x-amz-account-id", "")
        op, status, body, code = self._answer(("s3c", acct, hdr, region, method, target), self.s3control_compute,
                                              method, target, acct, hdr, region)
        self.stats[f"s3control.{op}"] += 1
        extra = f"x-amz-request-id: {rid}\r\nx-amz-id-2: {rid}\r\n"
        if self._throttle_hit("s3control", op, "SlowDown"):
            xml = (f'<?xml version="1.0" encoding="UTF-8"?>\n<ErrorResponse><Error><Code>SlowDown</Code><Message>'
                   f"Please reduce your request rate.</Message></Error><RequestId>{rid}</RequestId>"
                   f"<HostId>{rid}</HostId></ErrorResponse>")
            return self.http(503, "application/xml", xml.encode(), extra)
        if code:
            self.errors[f"s3control.{op}:{code}"] += 1
        return self.http(status, "application/xml", body, extra)

    def s3control_compute(self, method: str, target: str, acct: str, hdr: str, region: str) -> tuple:
        """(op, status, body, error code) of one S3 Control request."""
        path, _, qs = target.partition("?")
        query = dict(parse_qsl(qs, keep_blank_values=True)) if qs else {}
        rest = path[len(S3C_PREFIX):]
        name = ""
        if rest == "accesspoint":
            op = "ListAccessPoints"
        elif rest.startswith("accesspoint/") and rest.endswith("/policy"):
            op, name = "GetAccessPointPolicy", unquote(rest[len("accesspoint/"):-len("/policy")])
        elif rest == "mrap/instances":
            op = "ListMultiRegionAccessPoints"
        elif rest.startswith("mrap/instances/") and rest.endswith("/policy"):
            op, name = "GetMultiRegionAccessPointPolicy", unquote(rest[len("mrap/instances/"):-len("/policy")])
        elif rest == "configuration/publicAccessBlock":
            op = "GetPublicAccessBlock"
        elif rest.startswith("accesspoint/") and rest[len("accesspoint/"):] and "/" not in rest[len("accesspoint/"):]:
            op, name = "GetAccessPoint", unquote(rest[len("accesspoint/"):])
        else:
            op = "Unsupported"
        if method != "GET":
            op = f"{method}:{op}"
        head = '<?xml version="1.0" encoding="UTF-8"?>\n'
        w = self.world
        try:
            if method != "GET" or op == "Unsupported":
                raise ApiError(501, "NotImplemented", "A header you provided implies functionality that is not "
                                                      "implemented")
            if not hdr:
                raise ApiError(400, "InvalidRequest", "Missing required header for this request: x-amz-account-id")
            if hdr != acct:
                raise ApiError(403, "AccessDenied", "Access Denied")
            if op.startswith(("ListMultiRegion", "GetMultiRegion")) and region != MRAP_REGION:
                raise ApiError(400, "InvalidRequest", f"Multi-Region Access Point requests must be sent to "
                                                      f"{MRAP_REGION}")
            if op in ("ListAccessPoints", "ListMultiRegionAccessPoints"):
                hi = 1000 if op == "ListAccessPoints" else 100
                try:
                    mx = int(query.get("maxResults") or hi)
                except ValueError:
                    mx = -1
                if not 0 <= mx <= hi:
                    raise ApiError(400, "InvalidRequest", f"maxResults must be between 0 and {hi}")
                mx = mx or hi
                if op == "ListAccessPoints":
                    items = w.access_points(acct, region)
                    if query.get("bucket"):
                        items = [a for a in items if a["Bucket"] == query["bucket"]]
                    page, nxt = _paginate(items, query.get("nextToken"), mx, "InvalidToken")
                    xml_items = [self._access_point_xml(a) for a in page]
                    result, list_tag = "ListAccessPointsResult", "AccessPointList"
                else:
                    page, nxt = _paginate(w.mraps(acct), query.get("nextToken"), mx, "InvalidToken")
                    xml_items = [self._mrap_xml(acct, m) for m in page]
                    result, list_tag = "ListMultiRegionAccessPointsResult", "AccessPoints"
                token = f"<NextToken>{nxt}</NextToken>" if nxt else ""
                body = (f'{head}<{result} xmlns="{S3C_NS}"><{list_tag}>{"".join(xml_items)}</{list_tag}>{token}'
                        f"</{result}>")
            elif op == "GetPublicAccessBlock":
                # account-level, not regional: answered in any Region (the plugin asks in the global one)
                cfg = w.account_public_access_block(acct)
                if cfg is None:
                    raise ApiError(404, "NoSuchPublicAccessBlockConfiguration",
                                   "The public access block configuration was not found")
                body = (f'{head}<PublicAccessBlockConfiguration xmlns="{S3C_NS}">{_pab_xml(cfg)}'
                        "</PublicAccessBlockConfiguration>")
            elif op == "GetAccessPoint":
                ap = _access_point(w, acct, region, name)
                body = (f'{head}<GetAccessPointResult xmlns="{S3C_NS}">{self._get_access_point_xml(ap, region)}'
                        "</GetAccessPointResult>")
            elif op == "GetAccessPointPolicy":
                ap = _access_point(w, acct, region, name)
                if ap["Policy"] is None:
                    raise ApiError(404, "NoSuchAccessPointPolicy", "The specified accesspoint policy does not exist")
                body = (f'{head}<GetAccessPointPolicyResult xmlns="{S3C_NS}"><Policy>{xml_escape(ap["Policy"])}'
                        "</Policy></GetAccessPointPolicyResult>")
            else:
                m = next((x for x in w.mraps(acct) if x["Name"] == name), None)
                if m is None:
                    raise ApiError(404, "NoSuchMultiRegionAccessPoint",
                                   "The specified Multi-Region Access Point does not exist")
                if m["Policy"] is None:
                    raise ApiError(404, "NoSuchMultiRegionAccessPointPolicy",
                                   "The specified Multi-Region Access Point policy does not exist")
                pol = xml_escape(m["Policy"])
                body = (f'{head}<GetMultiRegionAccessPointPolicyResult xmlns="{S3C_NS}"><Policy><Established>'
                        f"<Policy>{pol}</Policy></Established><Proposed><Policy>{pol}</Policy></Proposed></Policy>"
                        "</GetMultiRegionAccessPointPolicyResult>")
        except ApiError as e:
            rid = f"{hash(target) & 0xFFFFFFFFFFFFFFFF:016X}"
            xml = (f"{head}<ErrorResponse><Error><Code>{e.code}</Code><Message>{xml_escape(e.message)}</Message>"
                   f"</Error><RequestId>{rid}</RequestId><HostId>{rid}</HostId></ErrorResponse>")
            return op, e.status, xml.encode(), e.code
        return op, 200, body.encode(), ""

    @staticmethod
    def _access_point_xml(a: dict[str, Any]) -> str:
        vpc = f"<VpcConfiguration><VpcId>{a['VpcId']}</VpcId></VpcConfiguration>" if a["VpcId"] else ""
        return (f"<AccessPoint><Name>{a['Name']}</Name><NetworkOrigin>{'VPC' if vpc else 'Internet'}</NetworkOrigin>"
                f"{vpc}<Bucket>{a['Bucket']}</Bucket><AccessPointArn>{a['AccessPointArn']}</AccessPointArn>"
                f"<Alias>{a['Alias']}</Alias><BucketAccountId>{a['BucketAccountId']}</BucketAccountId></AccessPoint>")

    @staticmethod
    def _get_access_point_xml(a: dict[str, Any], region: str) -> str:
        """GetAccessPoint's members, in the order of the API reference (no DataSourceId/Type: not an FSx one)."""
        vpc = f"<VpcConfiguration><VpcId>{a['VpcId']}</VpcId></VpcConfiguration>" if a["VpcId"] else ""
        on = a["BlockPublic"]
        pab = _pab_xml({"BlockPublicAcls": on, "IgnorePublicAcls": on, "BlockPublicPolicy": on,
                        "RestrictPublicBuckets": on})
        endpoints = "".join(f"<entry><key>{k}</key><value>{v}</value></entry>" for k, v in (
            ("ipv4", f"s3-accesspoint.{region}.amazonaws.com"),
            ("fips", f"s3-accesspoint-fips.{region}.amazonaws.com"),
            ("fips_dualstack", f"s3-accesspoint-fips.dualstack.{region}.amazonaws.com"),
            ("dualstack", f"s3-accesspoint.dualstack.{region}.amazonaws.com")))
        return (f"<Name>{a['Name']}</Name><Bucket>{a['Bucket']}</Bucket>"
                f"<NetworkOrigin>{'VPC' if vpc else 'Internet'}</NetworkOrigin>{vpc}"
                f"<PublicAccessBlockConfiguration>{pab}</PublicAccessBlockConfiguration>"
                f"<CreationDate>{iso(a['CreationDate'])}</CreationDate><Alias>{a['Alias']}</Alias>"
                f"<AccessPointArn>{a['AccessPointArn']}</AccessPointArn><Endpoints>{endpoints}</Endpoints>"
                f"<BucketAccountId>{a['BucketAccountId']}</BucketAccountId>")

    @staticmethod
    def _mrap_xml(acct: str, m: dict[str, Any]) -> str:
        pab = "".join(f"<{k}>true</{k}>" for k in ("BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy",
                                                    "RestrictPublicBuckets"))
        regions = "".join(f"<Region><Bucket>{b.name}</Bucket><Region>{b.region}</Region>"
                          f"<BucketAccountId>{acct}</BucketAccountId></Region>" for b in m["Buckets"])
        return (f"<AccessPoint><Name>{m['Name']}</Name><Alias>{m['Alias']}</Alias><CreatedAt>{iso(m['CreatedAt'])}"
                f"</CreatedAt><PublicAccessBlock>{pab}</PublicAccessBlock><Status>READY</Status>"
                f"<Regions>{regions}</Regions></AccessPoint>")

    # -- Organizations (JSON 1.1, X-Amz-Target: AWSOrganizationsV20161128.<Op>); never throttled ----
    def organizations(self, headers: dict[str, str], acct: str) -> bytes:
        op = headers.get("x-amz-target", "").rpartition(".")[2]
        # Unserved operations keep the `.unknown` count they had before Organizations was served
        # (bench_org.py lists those as what the fake could not answer); the error names the operation.
        self.stats[f"organizations.{op}" if op == "DescribeOrganization" else "organizations.unknown"] += 1
        extra = self._json_request_id()
        status, out, code = self._answer(("org", acct, op), self.organizations_compute, op, acct)
        if code:
            self.errors[f"organizations.{op}:{code}"] += 1
        return self.http(status, KMS_CTYPE, out, extra)

    def organizations_compute(self, op: str, acct: str) -> tuple[int, bytes, str]:
        if op != "DescribeOrganization":
            code, msg = "UnknownOperationException", f"Unknown operation {op}"
        else:
            org = self.world.organization(acct)
            if org is not None:
                return 200, json.dumps({"Organization": org}).encode(), ""
            code, msg = "AWSOrganizationsNotInUseException", "Your account is not a member of an organization."
        return 400, json.dumps({"__type": code, "Message": msg}).encode(), code

    # -- Secrets Manager (JSON 1.1) and SQS (JSON 1.0, query-compatible) ------------------------
    def json_service(self, svc: str, headers: dict[str, str], body: bytes, acct: str, region: str) -> bytes:
        """Secrets Manager (`X-Amz-Target: secretsmanager.<Op>`) and SQS (`AmazonSQS.<Op>`): the answers
        are cached by (account, region, operation, canonical parameters)."""
        op = headers.get("x-amz-target", "").rpartition(".")[2]
        self.stats[f"{svc}.{op}"] += 1
        extra = self._json_request_id()
        ctype = SQS_CTYPE if svc == "sqs" else KMS_CTYPE
        code = "RequestThrottled" if svc == "sqs" else "ThrottlingException"
        if self._throttle_hit(svc, op, code):
            _, out, _, hdr = self._json_error(svc, ApiError(400, code, "Rate exceeded"))
            return self.http(400, ctype, out, extra + hdr)
        try:
            params = json.loads(body) if body else {}
            ck = (svc, acct, region, op, json.dumps(params, sort_keys=True))
        except (ValueError, TypeError):
            params = None
        if not isinstance(params, dict):
            return self.http(400, ctype, b'{"__type":"SerializationException"}', extra)
        status, out, code, hdr = self._answer(ck, self.json_compute, svc, op, params, acct, region)
        if code:
            self.errors[f"{svc}.{op}:{code}"] += 1
        return self.http(status, ctype, out, extra + hdr)

    @staticmethod
    def _json_error(svc: str, e: ApiError) -> tuple[int, bytes, str, str]:
        """(status, body, code, extra header): SQS names the error twice, `__type` in the body and the
        query protocol's code in `x-amzn-query-error` (which botocore reports, as the service is
        awsQueryCompatible); Secrets Manager as KMS."""
        if svc == "sqs":
            typ = SQS_ERROR_TYPES.get(e.code, e.code)
            body = json.dumps({"__type": f"com.amazonaws.sqs#{typ}", "message": e.message}).encode()
            return e.status, body, e.code, f"x-amzn-query-error: {e.code};Sender\r\n"
        return e.status, json.dumps({"__type": e.code, "Message": e.message}).encode(), e.code, ""

    def json_compute(self, svc: str, op: str, p: dict[str, Any], acct: str, region: str) -> tuple[int, bytes, str, str]:
        try:
            out = self.secretsmanager_op(op, p, acct, region) if svc == "secretsmanager" else \
                self.sqs_op(op, p, acct, region)
            return 200, json.dumps(out, separators=(",", ":")).encode(), "", ""
        except ApiError as e:
            return self._json_error(svc, e)

    @staticmethod
    def _max_results(p: dict[str, Any], hi: int, code: str) -> int:
        mx = p.get("MaxResults", hi)
        if not isinstance(mx, int) or isinstance(mx, bool) or not 1 <= mx <= hi:
            raise ApiError(400, code, f"1 validation error detected: Value '{mx}' at 'maxResults' failed to satisfy "
                                      f"constraint: Member must have value less than or equal to {hi}")
        return mx

    def secretsmanager_op(self, op: str, p: dict[str, Any], acct: str, region: str) -> dict[str, Any]:
        w = self.world
        if op == "ListSecrets":
            mx = self._max_results(p, 100, "ValidationException")
            page, nxt = _paginate(w.secrets(acct, region), p.get("NextToken"), mx, "InvalidNextTokenException")
            out: dict[str, Any] = {"SecretList": [{k: v for k, v in s.items() if k[0] != "_"} for s in page]}
            if nxt:
                out["NextToken"] = nxt
            return out
        if op == "GetResourcePolicy":
            sid = p.get("SecretId")
            if not isinstance(sid, str) or not sid:
                raise ApiError(400, "ValidationException", "1 validation error detected: Value null at 'secretId' "
                                                           "failed to satisfy constraint: Member must not be null")
            s = w.find_secret(acct, region, sid)
            out = {"ARN": s["ARN"], "Name": s["Name"]}
            if s["_policy"] is not None:
                out["ResourcePolicy"] = s["_policy"]
            return out
        raise ApiError(400, "UnknownOperationException", f"Unknown operation {op}")

    def sqs_op(self, op: str, p: dict[str, Any], acct: str, region: str) -> dict[str, Any]:
        w = self.world
        if op == "ListQueues":
            # Without MaxResults: up to 1,000 queues and never a NextToken. An empty page has no
            # QueueUrls at all (SQS omits the empty list, in both protocols).
            paged = "MaxResults" in p
            mx = self._max_results(p, 1000, "InvalidParameterValue")
            items = w.queues(acct, region)
            if p.get("QueueNamePrefix"):
                items = [q for q in items if q["url"].rsplit("/", 1)[1].startswith(p["QueueNamePrefix"])]
            page, nxt = _paginate(items, p.get("NextToken") if paged else None, mx, "InvalidParameterValue")
            out: dict[str, Any] = {}
            if page:
                out["QueueUrls"] = [q["url"] for q in page]
            if paged and nxt:
                out["NextToken"] = nxt
            return out
        if op in ("GetQueueAttributes", "ListQueueTags"):
            q = self._queue(p.get("QueueUrl"), acct, region)
            if op == "ListQueueTags":
                return {"Tags": q["tags"]} if q["tags"] else {}
            names = p.get("AttributeNames") or []
            if not isinstance(names, list):
                raise ApiError(400, "InvalidParameterValue", "AttributeNames must be a list")
            if "All" in names:
                return {"Attributes": q["attrs"]}
            return {"Attributes": {k: v for k, v in q["attrs"].items() if k in names}} if names else {}
        raise ApiError(400, "AWS.SimpleQueueService.UnsupportedOperation", f"Unknown operation {op}")

    def _queue(self, url: Any, acct: str, region: str) -> dict[str, Any]:
        """A queue by URL; another account's is AccessDenied (no queue of the world admits the reader's
        GetQueueAttributes), a URL of another region or no queue is NonExistentQueue."""
        if not isinstance(url, str) or not url:
            raise ApiError(400, "InvalidParameterValue", "Value for parameter QueueUrl is invalid.")
        self.world.queues(acct, region)
        got = self.world._queue_by_url.get(url)
        if got is not None and got[0] != acct:
            raise ApiError(403, "AccessDenied", "Access to the resource is denied.")
        if got is None or got[1] != region:
            raise ApiError(400, "AWS.SimpleQueueService.NonExistentQueue", "The specified queue does not exist.")
        return got[2]

    # -- Form services (FORM_SERVICES): SNS, EC2, RDS, IAM; form body Action=, XML answers ----------
    def form_service(self, svc: str, body: bytes, acct: str, region: str) -> bytes:
        """SNS, EC2, RDS and IAM: the answers are cached by (account, region (not for IAM), form). EC2 and
        RDS operations the fake does not serve count as `ec2.unknown` / `rds.unknown`."""
        spec = FORM_SERVICES[svc]
        form = dict(parse_qsl(body.decode()))
        op = form.get("Action", "")
        self.stats[f"{svc}.{op}" if spec.ops is None or op in spec.ops else f"{svc}.unknown"] += 1
        rid = self.request_id()
        extra = f"x-amzn-RequestId: {rid}\r\n"
        if spec.throttle is not None and self._throttle_hit(svc, op, spec.throttle[1]):
            status, code, message = spec.throttle
            return self.http(status, spec.ctype, spec.error(spec.ns, code, message, rid), extra)
        status, out, code = self._answer(self._form_key(svc, acct, region, form), self.form_compute, svc, form, acct,
                                         region)
        if code:
            self.errors[f"{svc}.{op}:{code}"] += 1
        return self.http(status, spec.ctype, out, extra)

    @staticmethod
    def _form_key(svc: str, acct: str, region: str, form: dict[str, str]) -> tuple:
        if FORM_SERVICES[svc].regional:
            return svc, acct, region, tuple(sorted(form.items()))
        return svc, acct, tuple(sorted(form.items()))

    def form_compute(self, svc: str, form: dict[str, str], acct: str, region: str) -> tuple[int, bytes, str]:
        """(status, body, error code) of one request to a form service: the result of Server.<svc>_op in
        the service's answer, or its ApiError in the service's error shape."""
        spec = FORM_SERVICES[svc]
        op = form.get("Action", "")
        rid = self._form_rid(svc, acct, region, form)
        try:
            result = getattr(self, f"{svc}_op")(op, form, acct, region)
        except ApiError as e:
            return e.status, spec.error(spec.ns, e.code, e.message, rid), e.code
        return 200, spec.answer(spec.ns, op, result, rid), ""

    def _form_rid(self, svc: str, acct: str, region: str, form: dict[str, str]) -> str:
        """A request id drawn from the request, so that a cached answer keeps its own."""
        spec = FORM_SERVICES[svc]
        h = self.world.h(f"{svc}rid", acct, *((region,) if spec.regional else ()), sorted(form.items()))
        if spec.rid48:
            x = f"{h % 16**12:012x}"
            return f"{x[:8]}-{x[8:12]}-4000-8000-{self.world.seed:012x}"
        return f"{h % 16**8:08x}-{(h >> 32) % 16**4:04x}-4000-8000-{self.world.seed:012x}"

    @staticmethod
    def _members(form: dict[str, str], name: str) -> list[str]:
        """The values of a list parameter serialized as Name.1, Name.2, ... (in order)."""
        got = [(int(k[len(name) + 1:]), v) for k, v in form.items()
               if k.startswith(name + ".") and k[len(name) + 1:].isdigit()]
        return [v for _, v in sorted(got)]

    def _shared_from_others(self, snapshots: Callable[[str, str], list[dict[str, Any]]], acct: str, region: str,
                            whom: tuple[str, ...]) -> list[dict[str, Any]]:
        """Other world accounts' snapshots in the region shared with any of `whom` (`acct`, "all": public)."""
        return [s for a in self.world.accounts if a != acct for s in snapshots(a, region)
                if any(p in whom for p in s["_shared"])]

    # -- SNS (query protocol) ---------------------------------------------------------------------
    def sns_op(self, op: str, form: dict[str, str], acct: str, region: str) -> str:
        """ListTopics (100 per page, NextToken), GetTopicAttributes, ListTagsForResource."""
        w = self.world
        if op == "ListTopics":
            page, nxt = _paginate(w.topics(acct, region), form.get("NextToken"), SNS_PAGE, "InvalidParameter")
            return ("<Topics>" + "".join(f"<member><TopicArn>{t['arn']}</TopicArn></member>" for t in page)
                    + "</Topics>" + (f"<NextToken>{nxt}</NextToken>" if nxt else ""))
        if op not in ("GetTopicAttributes", "ListTagsForResource"):
            raise ApiError(400, "InvalidAction", f"Could not find operation {op} for version 2010-03-31")
        arn = form.get("TopicArn" if op == "GetTopicAttributes" else "ResourceArn", "")
        parts = arn.split(":")
        if len(parts) != 6 or parts[2] != "sns":
            raise ApiError(400, "InvalidParameter", f"Invalid parameter: TopicArn Reason: {arn!r} is not a valid ARN")
        w.topics(acct, region)
        got = w._topic_by_arn.get(arn)
        if got is not None and got[0] != acct:
            raise ApiError(403, "AuthorizationError", "User is not authorized to perform this action")
        if got is None or got[1] != region:
            if op == "GetTopicAttributes":
                raise ApiError(404, "NotFound", "Topic does not exist")
            raise ApiError(404, "ResourceNotFound", "Resource does not exist")
        t = got[2]
        if op == "GetTopicAttributes":
            return "<Attributes>" + "".join(f"<entry><key>{k}</key><value>{xml_escape(v)}</value></entry>"
                                            for k, v in t["attrs"].items()) + "</Attributes>"
        return "<Tags>" + "".join(f"<member><Key>{k}</Key><Value>{xml_escape(v)}</Value></member>"
                                  for k, v in t["tags"]) + "</Tags>"

    # -- EC2 (ec2 protocol) ----------------------------------------------------------------------
    def ec2_op(self, op: str, form: dict[str, str], acct: str, region: str) -> str:
        """DescribeSnapshots and DescribeImages (EC2_KINDS): Owner.N (self, an account id; without it, the
        account's own and those other accounts of the world share with it, its organisation or OU, or made
        public), SnapshotId.N / ImageId.N, MaxResults (5-1000; not with the ids) and NextToken; Filter.N,
        ExecutableBy.N, IncludeDeprecated and IncludeDisabled are not read. DescribeSnapshotAttribute
        (createVolumePermission) and DescribeImageAttribute (launchPermission): items with userId, group,
        organizationArn or organizationalUnitArn; or productCodes; for the account's own snapshots and AMIs.
        GetEbsEncryptionByDefault and GetEbsDefaultKmsKeyId: the region's EBS defaults (World.ebs_defaults)."""
        if op in EC2_KINDS:
            return self._ec2_describe(EC2_KINDS[op], form, acct, region)
        if op in EC2_DEFAULT_OPS:
            return self._ec2_xml(self.world.ebs_defaults(acct, region), op)
        if op not in EC2_ATTRS:
            raise ApiError(400, "InvalidAction", f"The action {op} is not valid for this web service.")
        k = EC2_ATTRS[op]
        id_param = k.id_key[0].lower() + k.id_key[1:]
        ident = form.get(k.id_key, "")
        attr = form.get("Attribute", "")
        if not ident:
            raise ApiError(400, "MissingParameter", f"The request must contain the parameter {id_param}")
        if not attr:
            raise ApiError(400, "MissingParameter", "The request must contain the parameter attribute")
        if attr not in (k.attribute, "productCodes"):
            raise ApiError(400, "InvalidParameterValue",
                           f"Value ({attr}) for parameter attribute is invalid. Unknown attribute.")
        if not ident.startswith(k.prefix):
            raise ApiError(400, k.malformed, f'Invalid id: "{ident}" (expecting "{k.prefix}...")')
        own = getattr(self.world, k.world)
        x = next((x for x in own(acct, region) if x[k.id_key] == ident), None)
        if x is None:
            if any(y[k.id_key] == ident for y in self._ec2_shared_with(own, acct, region)):
                status, code, message = k.not_owner
                raise ApiError(status, code, message.format(id=ident))
            raise ApiError(400, k.not_found[0], k.not_found[1].format(id=ident))
        if attr == "productCodes":
            return f"<{id_param}>{ident}</{id_param}><productCodes/>"
        inner = "".join(f"<item>{self._permission_xml(p)}</item>" for p in x["_shared"])
        return f"<{id_param}>{ident}</{id_param}><{attr}>{inner}</{attr}>"

    def _ec2_shared_with(self, own: Callable[[str, str], list[dict[str, Any]]], acct: str,
                         region: str) -> list[dict[str, Any]]:
        """Other world accounts' snapshots or AMIs in the region shared with `acct`, its organisation or OU,
        or made public."""
        return self._shared_from_others(own, acct, region, (acct, "all", *self.world.org_targets(acct).values()))

    def _ec2_describe(self, k: Ec2Kind, form: dict[str, str], acct: str, region: str) -> str:
        """DescribeSnapshots / DescribeImages (k: their EC2_KINDS entry)."""
        w = self.world
        owners = self._members(form, "Owner")
        ids = self._members(form, k.id_key)
        mx_raw = form.get("MaxResults")
        if mx_raw is not None and ids:
            raise ApiError(400, "InvalidParameterCombination",
                           f"The parameter {k.set_tag} cannot be used with the parameter maxResults")
        own = getattr(w, k.world)(acct, region)
        shared = self._ec2_shared_with(getattr(w, k.world), acct, region)
        if not owners:
            items = own + shared
        else:
            items = []
            if "self" in owners or acct in owners:
                items += own
            others = [x for x in owners if x in w.account_set and x != acct]
            if others:
                items += [x for x in shared if x["OwnerId"] in others]
        if ids:
            by_id = {x[k.id_key]: x for x in items}
            missing = [i for i in ids if i not in by_id]
            if missing:
                raise ApiError(400, k.not_found[0], k.not_found[1].format(id=missing[0]))
            items = [by_id[i] for i in dict.fromkeys(ids)]
        token = ""
        if mx_raw is not None:
            mx = _int_or_zero(mx_raw, 0)
            if not 5 <= mx <= 1000:
                raise ApiError(400, "InvalidParameterValue", f"Value ( {mx_raw} ) for parameter maxResults is "
                                                             "invalid. Expecting a value between 5 and 1000.")
            items, nxt = _paginate(items, form.get("NextToken"), mx, "InvalidParameterValue")
            token = f"<nextToken>{nxt}</nextToken>" if nxt else ""
        return (f"<{k.set_tag}>" + "".join(f"<item>{self._ec2_xml(x, k.shape)}</item>" for x in items)
                + f"</{k.set_tag}>" + token)

    @staticmethod
    def _permission_xml(p: str) -> str:
        """One createVolumePermission / launchPermission item's element: "all", an organisation or OU ARN,
        or an account id."""
        tag = ("group" if p == "all" else "organizationArn" if ":organization/" in p
               else "organizationalUnitArn" if ":ou/" in p else "userId")
        return f"<{tag}>{p}</{tag}>"

    @classmethod
    def _ec2_xml(cls, x: dict[str, Any], shape: str) -> str:
        """`x`'s elements in the order of EC2_XML[shape]: None and [] left out, a list as <item>s and a dict as
        one element, each of the shape its element names, booleans true/false, an int *Time in ISO 8601."""
        parts = []
        for tag, key in EC2_XML[shape]:
            v = x.get(key)
            if v is None or v == []:
                continue
            if isinstance(v, list):
                v = "".join(f"<item>{cls._ec2_xml(i, tag)}</item>" for i in v)
            elif isinstance(v, dict):
                v = cls._ec2_xml(v, tag)
            elif isinstance(v, bool):
                v = "true" if v else "false"
            elif isinstance(v, int) and key.endswith("Time"):
                v = iso(v)
            elif isinstance(v, str):
                v = xml_escape(v)
            parts.append(f"<{tag}>{v}</{tag}>")
        return "".join(parts)

    # -- RDS (query protocol) --------------------------------------------------------------------
    def rds_op(self, op: str, form: dict[str, str], acct: str, region: str) -> str:
        """DescribeDBSnapshots / DescribeDBClusterSnapshots: MaxRecords (20-100, default 100), Marker,
        SnapshotType (automated, manual, shared, public, awsbackup), IncludeShared, IncludePublic,
        DBInstanceIdentifier / DBClusterIdentifier, DBSnapshotIdentifier / DBClusterSnapshotIdentifier (not
        found: DBSnapshotNotFound / DBClusterSnapshotNotFoundFault); Filters.N is not read.
        DescribeDBSnapshotAttributes / DescribeDBClusterSnapshotAttributes: the restore attribute of one of
        the account's snapshots (by identifier or ARN)."""
        if op in RDS_KINDS:
            k = RDS_KINDS[op]
            mx = _int_or_zero(form.get("MaxRecords"), 100)
            if not 20 <= mx <= 100:
                raise ApiError(400, "InvalidParameterValue",
                               f"Invalid value {form.get('MaxRecords')} for MaxRecords. Must be between 20 and 100")
            stype = form.get("SnapshotType", "")
            if stype and stype not in ("automated", "manual", "shared", "public", "awsbackup"):
                raise ApiError(400, "InvalidParameterValue", f"Unknown snapshot type: {stype}")
            snapshots = getattr(self.world, k["world"])
            own = snapshots(acct, region)
            if stype in ("automated", "manual"):
                items = [x for x in own if x["SnapshotType"] == stype]
            elif stype in ("shared", "public"):
                items = self._shared_from_others(snapshots, acct, region, ("all",) if stype == "public" else (acct,))
            elif stype == "awsbackup":
                items = []
            else:
                items = list(own)
                if form.get("IncludeShared") == "true":
                    items += self._shared_from_others(snapshots, acct, region, (acct,))
                if form.get("IncludePublic") == "true":
                    items += self._shared_from_others(snapshots, acct, region, ("all",))
            if form.get(k["parent"]):
                items = [x for x in items if x[k["parent"]] == form[k["parent"]]]
            sid = form.get(k["ident"])
            if sid:
                items = [x for x in items if sid in (x[k["ident"]], x[k["arn"]])]
                if not items:
                    raise ApiError(404, k["not_found"], f"{k['noun']} {sid} not found.")
            page, nxt = _paginate(items, form.get("Marker"), mx, "InvalidParameterValue")
            return ((f"<Marker>{nxt}</Marker>" if nxt else "") + f"<{k['items']}>"
                    + "".join(self._rds_snapshot_xml(k["noun"], x) for x in page) + f"</{k['items']}>")
        if op not in RDS_ATTRS:
            raise ApiError(400, "InvalidAction", f"Could not find operation {op} for version 2014-10-31")
        k = RDS_ATTRS[op]
        sid = form.get(k["ident"], "")
        if not sid:
            raise ApiError(400, "MissingParameter", f"The request must contain the parameter {k['ident']}")
        snap = next((x for x in getattr(self.world, k["world"])(acct, region) if sid in (x[k["ident"]], x[k["arn"]])),
                    None)
        if snap is None:
            raise ApiError(404, k["not_found"], f"{k['noun']} {sid} not found.")
        vals = "".join(f"<AttributeValue>{v}</AttributeValue>" for v in snap["_shared"])
        n = k["noun"]
        return (f"<{n}AttributesResult><{k['ident']}>{snap[k['ident']]}</{k['ident']}><{n}Attributes>"
                f"<{n}Attribute><AttributeName>restore</AttributeName><AttributeValues>{vals}</AttributeValues>"
                f"</{n}Attribute></{n}Attributes></{n}AttributesResult>")

    @staticmethod
    def _rds_snapshot_xml(noun: str, x: dict[str, Any]) -> str:
        """A <DBSnapshot> or <DBClusterSnapshot>: the fields RDS_XML_FIELDS[noun] in their order (an entry
        starting with "<" is a fixed element), times in ISO 8601, booleans true/false, KmsKeyId only when
        encrypted, Tags as <TagList>."""
        parts = [f"<{noun}>"]
        for f in RDS_XML_FIELDS[noun]:
            if f[0] == "<":
                parts.append(f)
                continue
            v = x[f]
            if f == "KmsKeyId" and v is None:
                continue
            if f == "Tags":
                f, v = "TagList", "".join(f"<Tag><Key>{t['Key']}</Key><Value>{xml_escape(t['Value'])}</Value></Tag>"
                                          for t in v)
            elif f == "AvailabilityZones":
                v = "".join(f"<AvailabilityZone>{z}</AvailabilityZone>" for z in v)
            elif isinstance(v, bool):
                v = "true" if v else "false"
            elif f.endswith("Time"):
                v = iso(v)
            parts.append(f"<{f}>{v}</{f}>")
        parts.append(f"</{noun}>")
        return "".join(parts)

    # -- IAM (query protocol; global: any region); never throttled ------------------------------
    IAM_LISTS = (("user", "UserDetailList"), ("group", "GroupDetailList"), ("role", "RoleDetailList"))

    def iam_op(self, op: str, form: dict[str, str], acct: str, region: str) -> str:
        """GetAccountAuthorizationDetails (global: the region is not read): MaxItems (1-1000, default 100) caps
        users + groups + roles + policies of a page, in that order; Marker / IsTruncated as IAM;
        Filter.member.N (User, Role, Group, LocalManagedPolicy, AWSManagedPolicy)."""
        if op != "GetAccountAuthorizationDetails":
            raise ApiError(400, "InvalidAction", f"Could not find operation {op} for version 2010-05-08")
        mx = _int_or_zero(form.get("MaxItems"), 100)
        if not 1 <= mx <= 1000:
            raise ApiError(400, "ValidationError", f"1 validation error detected: Value '{form.get('MaxItems')}' "
                                                   "at 'maxItems' failed to satisfy constraint: Member must have "
                                                   "value less than or equal to 1000")
        kinds: set[str] = set()
        for k, v in form.items():
            if k.startswith("Filter.member."):
                if v not in IAM_ENTITY_FILTERS:
                    raise ApiError(400, "ValidationError", f"1 validation error detected: Value '[{v}]' at "
                                                           "'filter' failed to satisfy constraint")
                kinds.add(IAM_ENTITY_FILTERS[v])
        items = self.world.iam(acct)
        if kinds:
            items = [x for x in items if x[0] in kinds]
        page, nxt = _paginate(items, form.get("Marker"), mx, "ValidationError")
        parts = [f"<IsTruncated>{'true' if nxt else 'false'}</IsTruncated>"]
        if nxt:
            parts.append(f"<Marker>{nxt}</Marker>")
        for kind, tag in self.IAM_LISTS:
            parts.append(f"<{tag}>{''.join(x for k, x, _ in page if k == kind)}</{tag}>")
        parts.append(f"<Policies>{''.join(x for k, x, _ in page if k in ('local', 'aws'))}</Policies>")
        return "".join(parts)

    # -- AWS Backup (REST-JSON) ------------------------------------------------------------------
    def backup(self, method: str, target: str, acct: str, region: str) -> bytes:
        """AWS Backup: the answers are cached by (account, region, method, path and query). Operations the
        fake does not serve count as `backup.unknown`."""
        op, status, body, code = self._answer(("backup", acct, region, method, target), self.backup_compute,
                                              method, target, acct, region)
        self.stats[f"backup.{op}" if op in BACKUP_OPS else "backup.unknown"] += 1
        extra = self._json_request_id()
        if self._throttle_hit("backup", op, "ThrottlingException"):
            return self.http(400, BACKUP_CTYPE, b'{"__type":"ThrottlingException","message":"Rate exceeded"}',
                             extra + "x-amzn-ErrorType: ThrottlingException\r\n")
        if code:
            self.errors[f"backup.{op}:{code}"] += 1
            extra += f"x-amzn-ErrorType: {code}\r\n"
        return self.http(status, BACKUP_CTYPE, body, extra)

    def backup_compute(self, method: str, target: str, acct: str, region: str) -> tuple[str, int, bytes, str]:
        """(op, status, body, error code or "") of one AWS Backup request. Errors as the REST-JSON services
        send them: `__type` and `message` in the body (and x-amzn-ErrorType, added by Server.backup)."""
        path, _, qs = target.partition("?")
        query = dict(parse_qsl(qs, keep_blank_values=True)) if qs else {}
        op, label = "unknown", ""
        for m, pattern, name in BACKUP_ROUTES:
            got = pattern.fullmatch(path)
            if got and m == method:
                op, label = name, unquote(got.group(1)) if got.groups() else ""
                break
        try:
            if op == "unknown":
                raise ApiError(404, "UnknownOperationException", f"No operation for {method} {path}")
            out = self.backup_op(op, label, query, acct, region)
        except ApiError as e:
            return op, e.status, json.dumps({"__type": e.code, "message": e.message}).encode(), e.code
        return op, 200, json.dumps(out, separators=(",", ":")).encode(), ""

    def backup_op(self, op: str, label: str, q: dict[str, str], acct: str, region: str) -> dict[str, Any]:
        """ListBackupVaults (maxResults 1-1000, nextToken, vaultType, shared), GetBackupVaultAccessPolicy,
        ListBackupPlans (maxResults, nextToken; includeDeleted: none are deleted), GetBackupPlan (versionId) and
        ListTags (a vault's or plan's ARN; another account's is AccessDeniedException); unknown vaults and plans
        are ResourceNotFoundException (400, as AWS Backup answers)."""
        w = self.world
        if op in ("ListBackupVaults", "ListBackupPlans"):
            mx = _int_or_zero(q.get("maxResults"), BACKUP_PAGE)
            if not 1 <= mx <= BACKUP_PAGE:
                raise ApiError(400, "InvalidParameterValueException",
                               f"1 validation error detected: Value '{q.get('maxResults')}' at 'maxResults' failed "
                               f"to satisfy constraint: Member must have value less than or equal to {BACKUP_PAGE}")
            vaults = op == "ListBackupVaults"
            items = w.backup_vaults(acct, region) if vaults else w.backup_plans(acct, region)
            if vaults and (q.get("vaultType", "BACKUP_VAULT") != "BACKUP_VAULT" or q.get("shared") == "true"):
                items = []   # no logically air-gapped, restore access or shared vaults
            page, nxt = _paginate(items, q.get("nextToken"), mx, "InvalidParameterValueException")
            out: dict[str, Any] = (
                {"BackupVaultList": [{k: x for k, x in v.items() if k[0] != "_"} for v in page]} if vaults
                else {"BackupPlansList": [w.plan_listing(p) for p in page]})
            if nxt:
                out["NextToken"] = nxt
            return out
        if op == "GetBackupVaultAccessPolicy":
            v = w.find_vault(acct, region, label)
            if v is None:
                raise ApiError(400, "ResourceNotFoundException", f"Backup vault {label} does not exist")
            if v["_policy"] is None:
                raise ApiError(400, "ResourceNotFoundException",
                               f"Backup Vault {v['BackupVaultArn']} has no associated POLICY")
            return {"BackupVaultName": v["BackupVaultName"], "BackupVaultArn": v["BackupVaultArn"],
                    "Policy": v["_policy"]}
        if op == "GetBackupPlan":
            p = next((x for x in w.backup_plans(acct, region) if x["BackupPlanId"] == label), None)
            if p is None or q.get("versionId", p["VersionId"]) != p["VersionId"]:
                raise ApiError(400, "ResourceNotFoundException", "Failed reading Backup plan with provided version")
            return {k: v for k, v in p.items() if k[0] != "_" and k != "BackupPlanName"}
        # ListTags: arn:aws:backup:<region>:<account>:backup-vault:<name> | backup-plan:<id>
        parts = label.split(":")
        if len(parts) != 7 or parts[2] != "backup" or parts[5] not in ("backup-vault", "backup-plan"):
            raise ApiError(400, "InvalidParameterValueException", f"Invalid ARN: {label}")
        if parts[4] != acct:
            raise ApiError(403, "AccessDeniedException", f"Insufficient privileges to perform this action on {label}")
        x: dict[str, Any] | None = None
        if parts[3] == region:
            x = w.find_vault(acct, region, parts[6]) if parts[5] == "backup-vault" else \
                next((p for p in w.backup_plans(acct, region) if p["BackupPlanId"] == parts[6]), None)
        if x is None:
            raise ApiError(400, "ResourceNotFoundException", f"Resource {label} does not exist")
        return {"Tags": x["_tags"]}


# ---------------------------------------------------------------------------------------------
# HTTP/1.1 keep-alive transport (asyncio Protocol: no task per request)


_WANTED_HEADERS = ("content-length", "authorization", "x-amz-target", "connection", "x-amz-account-id")


def _headers(head: str) -> dict[str, str]:
    """The few request headers the fake uses (finding 5 names beats splitting ~15 header lines)."""
    low = head.lower()
    out = {}
    for name in _WANTED_HEADERS:
        j = low.find("\r\n" + name + ":")
        if j >= 0:
            j += len(name) + 3
            out[name] = head[j:head.index("\r\n", j)].strip()
    return out


class HttpConnection(asyncio.BufferedProtocol):
    """One keep-alive connection. A BufferedProtocol: the loop recv()s straight into our buffer
    (a plain Protocol makes asyncio allocate a 256 KiB bytes object per recv, which costs more
    than answering the request)."""

    __slots__ = ("server", "loop", "transport", "rbuf", "filled", "pending", "closing", "closed")

    def __init__(self, server: Server, loop: asyncio.AbstractEventLoop) -> None:
        self.server, self.loop = server, loop
        self.rbuf = bytearray(65536)
        self.filled = 0
        self.pending: deque[list[Any]] = deque()
        self.closing = False
        self.closed = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        s = self.server
        s.connections += 1
        s.max_connections = max(s.max_connections, s.connections)

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        self.server.connections -= 1

    def get_buffer(self, sizehint: int) -> memoryview:
        if len(self.rbuf) - self.filled < 8192:
            if len(self.rbuf) >= 16 * 1024 * 1024:  # a request this big is not one botocore sends
                self.transport.close()
                self.filled = 0
            else:
                self.rbuf.extend(bytes(len(self.rbuf)))
        return memoryview(self.rbuf)[self.filled:]

    def buffer_updated(self, nbytes: int) -> None:
        self.filled += nbytes
        buf = self.rbuf
        pos = 0
        filled = self.filled
        while not self.closing:
            i = buf.find(b"\r\n\r\n", pos, filled)
            if i < 0:
                break
            head = buf[pos:i + 2].decode("latin-1")
            try:
                method, target, _ = head[:head.index("\r\n")].split(" ", 2)
            except ValueError:
                self.transport.close()
                return
            headers = _headers(head)
            n = int(headers.get("content-length") or 0)
            end = i + 4 + n
            if filled < end:
                break
            body = bytes(buf[i + 4:end])
            pos = end
            try:
                resp = self.server.handle(method, target, headers, body)
            except Exception as e:  # a bug in the fake: answer 500 so the client sees it, keep serving
                self.server.errors[f"internal:{type(e).__name__}"] += 1
                msg = f"fake_aws internal error: {type(e).__name__}: {e}".encode()
                resp = (f"HTTP/1.1 500 Internal Server Error\r\nContent-Type: text/plain\r\n"
                        f"Content-Length: {len(msg)}\r\n\r\n").encode() + msg
            if headers.get("connection", "").lower() == "close":
                self.closing = True
            entry = [False, resp]
            self.pending.append(entry)
            if self.server.latency > 0 and target[:3] != "/__":
                self.server.schedule(self, entry)
            else:
                self.ready(entry)
        if pos:
            rest = filled - pos
            if rest:
                buf[:rest] = buf[pos:filled]
            self.filled = rest

    def ready(self, entry: list[Any]) -> None:
        entry[0] = True
        if self.closed:
            return
        p = self.pending
        while p and p[0][0]:
            self.transport.write(p.popleft()[1])
        if self.closing and not p:
            self.transport.close()


async def serve(args: argparse.Namespace) -> None:
    world = World(args.accounts, args.regions, args.keys, args.buckets, args.seed, args.mraps,
                  (args.iam_roles, args.iam_users, args.iam_groups, args.iam_policies), args.iam_heavy_accounts,
                  (args.secrets, args.queues, args.topics),
                  (args.ebs_snapshots, args.db_snapshots, args.cluster_snapshots), args.images,
                  (args.backup_vaults, args.backup_plans))
    for a in world.accounts:  # build everything up front so the first requests are not slower
        for r in world.regions:
            world.aliases(a, r)
            world.access_points(a, r)
            world.secrets(a, r)
            world.queues(a, r)
            world.topics(a, r)
            world.ebs_snapshots(a, r)
            world.images(a, r)
            world.db_snapshots(a, r)
            world.cluster_snapshots(a, r)
            world.backup_vaults(a, r)
        world.buckets(a)
        world.mraps(a)
    for a in world.accounts:  # IAM documents name keys and buckets of the next account too
        world.iam(a)
        for r in world.regions:   # backup plans copy to another account's vault
            world.backup_plans(a, r)
    server = Server(world, args.latency_ms / 1000.0, args.throttle_fraction, args.cache_entries)
    if args.prewarm:
        t0 = time.perf_counter()
        n = server.prewarm()
        print(f"fake_aws: prewarmed {n} answers in {time.perf_counter() - t0:.1f}s", file=sys.stderr, flush=True)
    loop = asyncio.get_running_loop()
    srv = await loop.create_server(lambda: HttpConnection(server, loop), args.host, args.port, backlog=4096,
                                   reuse_address=True)
    port = srv.sockets[0].getsockname()[1]
    print(f"PORT {port}", flush=True)
    print(f"fake_aws: http://{args.host}:{port} accounts={world.accounts} regions={world.regions} "
          f"keys/region={args.keys} buckets/account={args.buckets} mraps/account={args.mraps} "
          f"iam roles/users/groups/policies={world.iam_sizes} "
          f"(on {args.iam_heavy_accounts or 'every'} account(s); others {IAM_DEFAULT}) "
          f"secrets/queues/topics per region={args.secrets}/{args.queues}/{args.topics} "
          f"EBS/DB/cluster snapshots per region={args.ebs_snapshots}/{args.db_snapshots}/{args.cluster_snapshots} "
          f"AMIs per region={'1-2' if args.images is None else args.images} "
          f"backup vaults/plans per region={args.backup_vaults}/{args.backup_plans} "
          f"latency={args.latency_ms}ms "
          f"throttle={args.throttle_fraction}", file=sys.stderr, flush=True)
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    async with srv:
        await stop.wait()
    print("STATS " + json.dumps(server.snapshot()), file=sys.stderr, flush=True)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--accounts", type=int, default=2)
    ap.add_argument("--regions", type=int, default=1)
    ap.add_argument("--keys", type=int, default=2500, help="KMS keys per account and region")
    ap.add_argument("--buckets", type=int, default=1100, help="S3 buckets per account")
    ap.add_argument("--mraps", type=int, default=0, help="S3 Multi-Region Access Points per account")
    ap.add_argument("--iam-roles", type=int, default=IAM_DEFAULT[0], help="IAM roles per account")
    ap.add_argument("--iam-users", type=int, default=IAM_DEFAULT[1], help="IAM users per account")
    ap.add_argument("--iam-groups", type=int, default=IAM_DEFAULT[2], help="IAM groups per account")
    ap.add_argument("--iam-policies", type=int, default=IAM_DEFAULT[3],
                    help="customer managed IAM policies per account")
    ap.add_argument("--iam-heavy-accounts", type=int, default=0,
                    help="the --iam-* sizes apply to the first K accounts only (the others get the default "
                         f"{IAM_DEFAULT[0]}/{IAM_DEFAULT[1]}/{IAM_DEFAULT[2]}/{IAM_DEFAULT[3]}); 0: every account")
    ap.add_argument("--secrets", type=int, default=SHARED_DEFAULT[0],
                    help="Secrets Manager secrets per account and region")
    ap.add_argument("--queues", type=int, default=SHARED_DEFAULT[1], help="SQS queues per account and region")
    ap.add_argument("--topics", type=int, default=SHARED_DEFAULT[2], help="SNS topics per account and region")
    ap.add_argument("--ebs-snapshots", type=int, default=SNAPSHOT_DEFAULT[0],
                    help="EBS snapshots per account and region")
    ap.add_argument("--db-snapshots", type=int, default=SNAPSHOT_DEFAULT[1],
                    help="RDS DB snapshots per account and region (in turn manual, automated)")
    ap.add_argument("--cluster-snapshots", type=int, default=SNAPSHOT_DEFAULT[2],
                    help="RDS DB cluster (Aurora) snapshots per account and region (in turn manual, automated)")
    ap.add_argument("--images", type=int, default=None,
                    help="AMIs per account and region (default: 1 or 2, drawn per account and region; none "
                         "without EBS snapshots, which back their root volumes)")
    ap.add_argument("--backup-vaults", type=int, default=BACKUP_DEFAULT[0],
                    help="AWS Backup vaults per account and region, the Region's Default vault included (0: none, "
                         "and then no backup plans either)")
    ap.add_argument("--backup-plans", type=int, default=BACKUP_DEFAULT[1],
                    help="AWS Backup plans per account and region (where it has vaults)")
    ap.add_argument("--latency-ms", type=float, default=30.0)
    ap.add_argument("--throttle-fraction", type=float, default=0.0)
    ap.add_argument("--host", default="127.0.0.1", choices=["127.0.0.1", "::1", "localhost"],
                    help="loopback only")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--no-prewarm", dest="prewarm", action="store_false",
                    help="do not compute the per-resource answers at start-up (big worlds start faster)")
    ap.add_argument("--cache-entries", type=int, default=2_000_000, help="answers kept in memory at most")
    a = ap.parse_args(argv)
    if not 0 <= a.throttle_fraction < 1:
        ap.error("--throttle-fraction must be in [0, 1)")
    return a


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    asyncio.run(serve(args))


if __name__ == "__main__":
    main()
