"""A normal install (`pip install .`, the Docker image) carries every package and data file the
editable checkout uses: pyproject.toml lists its packages by hand, so a new one must be listed."""

from __future__ import annotations

import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _setuptools() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]


def test_every_python_package_is_listed():
    found = {".".join(p.parent.relative_to(ROOT).parts) for p in (ROOT / "plugin").rglob("__init__.py")}
    listed = set(_setuptools()["packages"]) - {"plugin.queries"}
    assert found - listed == set(), "packages missing from pyproject.toml"
    assert listed - found == set(), "pyproject.toml lists packages that do not exist"


def test_every_data_file_is_covered_by_package_data():
    data = _setuptools()["package-data"]
    dirs = {"plugin.queries": ROOT / "queries", "plugin.checks": ROOT / "plugin" / "checks"}
    for package, base in dirs.items():
        covered = {f for pattern in data.get(package, []) for f in base.glob(pattern)}
        wanted = {f for f in base.rglob("*") if f.suffix in (".sql", ".yaml") and "__pycache__" not in f.parts}
        assert wanted - covered == set(), f"{package}: files left out of the install"
