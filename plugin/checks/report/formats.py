"""The report formats, by name: adding one is a module of this package with a `FORMAT` and a line here."""

from __future__ import annotations

from ..files import CheckError
from . import csv_format, html, json_format, markdown, ocsf, sarif, table
from .model import Report, ReportFormat

REGISTRY: dict[str, ReportFormat] = {f.name: f for f in (
    table.FORMAT, json_format.FORMAT, csv_format.FORMAT, sarif.FORMAT, ocsf.FORMAT, markdown.FORMAT,
    html.FORMAT)}
FORMATS: tuple[str, ...] = tuple(REGISTRY)


def render(report: Report, fmt: str, color: bool = False) -> str:
    f = REGISTRY.get(fmt)
    if f is None:
        raise CheckError(f"unknown format {fmt} (one of {', '.join(FORMATS)})")
    return f.render(report, color)


def format_for(output: str | None, is_tty: bool) -> str:
    """`--format`'s default: table on a terminal, json otherwise; with `--output FILE` the format whose
    suffix ends the file name (the longest one that does), else json."""
    if output is None:
        return "table" if is_tty else "json"
    name = output.lower()
    matches = [(len(s), f.name) for f in REGISTRY.values() for s in f.suffixes if name.endswith(s)]
    return max(matches)[1] if matches else "json"
