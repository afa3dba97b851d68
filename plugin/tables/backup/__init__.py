"""AWS Backup: vaults (key, access policy), backup plans (their copy rules), and who another account
may copy recovery points in to or receives them from, under the vault's KMS key
(aws_backup_vault_access_paths, ours)."""

from ...analysis.shared_resources import Access, SharedType, access_paths_table
from ..service import Service
from .plans import PLANS
from .vaults import VAULTS

# AWS Backup Developer Guide, "Creating backup copies across AWS accounts" and "Encryption for backups":
# a cross-account copy needs the source key to admit the destination account (an AWS managed key
# never does), and a destination vault with a customer managed key for resource types AWS Backup does
# not fully manage. Recovery points of fully managed types are encrypted with the vault's key; others
# keep their source's (EBS, RDS: see the snapshot paths).
SHARED = SharedType(
    resource_type="AwsBackupBackupVault", noun="backup vault", service="backup", service_name="AWS Backup",
    name_column="backup_vault_name",
    default_alias="alias/aws/backup",
    accesses=(
        Access("copy into", ("backup:CopyIntoBackupVault",), (),
               "its copies of resources AWS Backup does not fully manage (EBS, EC2, RDS, Aurora ...) into this "
               "vault fail; the cross-account backup it is meant to hold does not exist",
               verb="copy recovery points into", cmk_required=True),
    ),
    copies=Access("copy to", ("backup:CopyIntoBackupVault",), ("kms:Decrypt", "kms:DescribeKey", "kms:CreateGrant"),
                  "its copy jobs fail on the source key: the copy of the backups it is meant to keep for recovery "
                  "does not exist"),
    fix_cli="aws backup create-backup-vault --backup-vault-name {name}-cmk --encryption-key-arn "
            "<customer-managed-key-arn> --region {region}, then back up (and copy) into it: a vault's key can't "
            "be changed",
)

VAULTS.children.append(access_paths_table("aws_backup_vault_access_paths", VAULTS.name, SHARED))

SERVICE = Service(name="backup", tables=[VAULTS, PLANS])
