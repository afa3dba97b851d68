"""The `aws-encryption` command line.

    aws-encryption serve [--address ...]   the CloudQuery plugin server (same flags as the SDK)
    aws-encryption --version
    aws-encryption package ...             the SDK's packaging (needs Docker)
"""

from __future__ import annotations

import argparse
import sys

from . import NAME, __version__
from .server import add_serve_arguments, package, serve


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = argparse.ArgumentParser(prog=NAME, description="Encryption posture of AWS organisations, as SQL.")
    parser.add_argument("--version", action="version", version=f"{NAME} {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    sp = sub.add_parser("serve", help="serve the CloudQuery source plugin over gRPC")
    add_serve_arguments(sp)
    sub.add_parser("package", help="package the plugin for the CloudQuery hub (needs Docker)", add_help=False)
    if argv and argv[0] == "package":
        package(argv[1:])
        return 0
    args = parser.parse_args(argv)
    if args.command == "serve":
        serve(args.address, args.network, args.log_format, args.log_level)
    return 0


if __name__ == "__main__":
    sys.exit(main())
