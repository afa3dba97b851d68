"""Reports of a check run (`aws-encryption check`), for people and pipelines: the report as data
(model.py) and one module per format behind a small registry (formats.py)."""

from .formats import FORMATS, REGISTRY, format_for, render
from .model import COVERAGE_CHECK, Report, ReportFormat, coverage_json, coverage_lines, sorted_findings, verdict

__all__ = ["FORMATS", "REGISTRY", "format_for", "render", "COVERAGE_CHECK", "Report", "ReportFormat", "coverage_json",
           "coverage_lines", "sorted_findings", "verdict"]
