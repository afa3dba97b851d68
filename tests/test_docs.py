"""The README's generated sections match the code (tables, columns, IAM policy)."""

from __future__ import annotations

from pathlib import Path

from plugin.cli.docs import policy_markdown, render, table_list, tables_markdown

README = (Path(__file__).resolve().parent.parent / "README.md").read_text()


def test_readme_lists_every_table_with_its_columns():
    assert table_list() in README, "README table list is stale: run python -m plugin.cli.docs"
    assert tables_markdown() in README, "README table docs are stale: run python -m plugin.cli.docs"


def test_readme_has_the_iam_policy():
    assert policy_markdown() in README


def test_readme_is_up_to_date():
    assert render(README) == README, "run: python -m plugin.cli.docs README.md"
