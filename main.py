"""CloudQuery's convention: `python main.py serve` starts the plugin server."""

import sys

from plugin.cli.main import main

if __name__ == "__main__":
    sys.exit(main())
