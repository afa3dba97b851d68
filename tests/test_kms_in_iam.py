"""Which Resource patterns read as "every KMS key" for kms_decrypt_allowed_on_all_keys_in_iam
(Security Hub KMS.1/KMS.2): AWS recommends scoping decryption to "keys in a particular Region for
your account", so a pattern fixing either is not every key."""

import pytest

from plugin.analysis.kms_in_iam import _all_keys


@pytest.mark.parametrize("resources, not_resources, every", [
    (["*"], [], True),
    (["arn:aws:kms:*:*:*"], [], True),
    (["arn:aws:kms:*:*:key/*"], [], True),
    (["arn:aws:kms:*:111122223333:key/*"], [], False),      # one account
    (["arn:aws:kms:us-east-1:*:key/*"], [], False),         # one Region
    (["arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"], [], False),
    (["arn:aws:s3:::bucket/*", "*"], [], True),
    ([], ["arn:aws:s3:::bucket/*"], True),                  # NotResource that excludes no key
    ([], ["arn:aws:kms:*:111122223333:key/*"], False),      # NotResource that excludes keys
    ([], [], False),
])
def test_every_key(resources, not_resources, every):
    assert _all_keys(resources, not_resources) is every
