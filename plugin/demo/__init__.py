"""The seed's world on an embedded AWS endpoint: `aws-encryption demo` and the test suite share it."""
