"""aws_ec2_regional_configs: whether EBS encrypts new volumes by default in each account and Region
(GetEbsEncryptionByDefault) and with which key (GetEbsDefaultKmsKeyId: the aws/ebs alias ARN unless a
customer managed key was set). A Region whose default key is aws/ebs gives every new volume, and so
every snapshot and AMI made from it, a key no other account can use."""

from __future__ import annotations

from typing import Any, Iterator

from ...aws.calls import Ctx, Parent
from ..schema import BOOL, STR, Col, TableDef

DOC = "https://docs.aws.amazon.com/AWSEC2/latest/APIReference/"


def regional_config(ctx: Ctx, parent: Parent | None) -> Iterator[dict[str, Any]]:
    on = ctx.call("ec2", "GetEbsEncryptionByDefault", expect="EbsEncryptionByDefault")
    key = ctx.call("ec2", "GetEbsDefaultKmsKeyId", expect="KmsKeyId")
    if on is not None and key is not None:
        yield {"EbsEncryptionByDefault": on["EbsEncryptionByDefault"], "KmsKeyId": key["KmsKeyId"]}


REGIONAL_CONFIGS = TableDef(
    name="aws_ec2_regional_configs", title="AWS EC2 Regional Configs", description=DOC + "API_GetEbsDefaultKmsKeyId.html",
    columns=[Col("account_id", STR), Col("region", STR), Col("ebs_encryption_enabled_by_default", BOOL),
             Col("ebs_default_kms_key_id", STR, "The default EBS key (the aws/ebs alias ARN unless one was set)")],
    pk_components=["account_id", "region"], api_calls=["ec2:GetEbsEncryptionByDefault", "ec2:GetEbsDefaultKmsKeyId"],
    scope="region", listing="ec2:GetEbsEncryptionByDefault", resolve=regional_config,
    to_row=lambda ctx, item, parent: {"account_id": ctx.account_id, "region": ctx.region,
                                      "ebs_encryption_enabled_by_default": item["EbsEncryptionByDefault"],
                                      "ebs_default_kms_key_id": item["KmsKeyId"]},
)
