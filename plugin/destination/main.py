"""`aws-encryption-duckdb`: the DuckDB destination's executable, light to import (see server.LazyServicer)."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from .. import __version__
from ..server.serve import add_serve_arguments, run_server

NAME = "aws-encryption-duckdb"


def _build(logger: Any) -> Any:
    from .plugin import build_servicer
    return build_servicer(logger)


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = argparse.ArgumentParser(prog=NAME, description="DuckDB destination for the CloudQuery CLI, "
                                                            "one transaction per sync.")
    parser.add_argument("--version", action="version", version=f"{NAME} {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    add_serve_arguments(sub.add_parser("serve", help="serve the CloudQuery destination plugin over gRPC"),
                        spec_allow_lists=False)
    args = parser.parse_args(argv)
    run_server(_build, args.address, args.network, args.log_format, args.log_level, NAME, workers=4)
    return 0


if __name__ == "__main__":
    sys.exit(main())
