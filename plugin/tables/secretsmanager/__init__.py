"""AWS Secrets Manager: secrets (metadata and resource policy), and who another account may read them
as under their KMS key (aws_secretsmanager_secret_access_paths, ours)."""

from ...analysis.shared_resources import Access, SharedType, access_paths_table
from ..service import Service
from .secrets import SECRETS

SHARED = SharedType(
    resource_type="AwsSecretsManagerSecret", noun="secret", service="secretsmanager",
    default_alias="alias/aws/secretsmanager",
    accesses=(
        Access("read", ("secretsmanager:GetSecretValue",), ("kms:Decrypt",),
               "its GetSecretValue fails with AccessDenied from KMS although the secret's policy shares it"),
        Access("write", ("secretsmanager:PutSecretValue", "secretsmanager:UpdateSecret"), ("kms:GenerateDataKey",),
               "its PutSecretValue fails with AccessDenied from KMS"),
    ),
    fix_cli="aws secretsmanager update-secret --secret-id {arn} --kms-key-id <customer-managed-key-arn> "
            "--region {region}",
    # Secrets Manager's encryption context (AWS Secrets Manager User Guide, "Secret encryption and decryption")
    context=lambda arn: {"kms:EncryptionContext:SecretARN": [arn]},
)

PATHS = access_paths_table("aws_secretsmanager_secret_access_paths", SECRETS.name, SHARED)
SECRETS.children.append(PATHS)

SERVICE = Service(name="secretsmanager", tables=[SECRETS],
                  # requests per second per account and Region (AWS Secrets Manager quotas)
                  quotas={"ListSecrets": 100, "GetResourcePolicy": 5000})
