"""`python -m plugin.cli ...` is `aws-encryption ...`."""

import sys

from .main import main

sys.exit(main())
