"""The demo world on an embedded AWS endpoint: `aws-encryption demo` and the test suite share it.

The world is the `aws/s3` cross-account failure of docs/key-types.md plus one key of every kind.
"""
