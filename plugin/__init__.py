"""aws-encryption: a CloudQuery source plugin for the encryption posture of AWS organisations."""

NAME = "aws-encryption"
TEAM = "aws-encryption"
__version__ = "0.1.0"
