"""README sections generated from the table declarations, so the docs can't drift from the code.

`python -m plugin.cli.docs README.md` rewrites the sections between `<!-- generated:NAME -->` and
`<!-- end:NAME -->`; tests/test_docs.py checks the README holds them verbatim.
"""

from __future__ import annotations

import json

import pyarrow as pa

from ..tables.schema import TableDef
from ..tables import TOP_LEVEL, all_tables
from ..tables.iam import iam_policy, org_admin_policy


def type_name(t: pa.DataType) -> str:
    if isinstance(t, pa.ExtensionType):
        return str(t)
    if pa.types.is_list(t):
        return f"list<item: {type_name(t.value_type)}, nullable>"
    if pa.types.is_timestamp(t):
        return f"timestamp[{t.unit}, tz={t.tz}]"
    return {"string": "utf8", "bool": "bool", "int64": "int64"}.get(str(t), str(t))


def table_markdown(t: TableDef) -> str:
    lines = [f"#### `{t.name}`", ""]
    parent = f" Child of `{t.parent}`." if t.parent else ""
    lines.append(f"{t.title}. `_cq_id` from ({', '.join(t.pk_components)}).{parent} "
                 f"Calls: {', '.join(t.api_calls) or 'none (filled by the sync itself)'}. [AWS docs]({t.description})"
                 if t.description.startswith("http") else
                 f"{t.description} `_cq_id` from ({', '.join(t.pk_components)}).{parent}")
    if t.notes:
        lines += ["", t.notes]
    lines += ["", "| column | type | notes |", "|---|---|---|"]
    for c in t.all_columns():
        ours = " **(ours)**" if c.name in t.extra_columns else ""
        lines.append(f"| {c.name} | {type_name(c.type)} | {c.description}{ours} |".replace(" |  |", " | |"))
    return "\n".join(lines)


def tables_markdown() -> str:
    return "\n\n".join(table_markdown(t) for t in all_tables())


def policy_markdown() -> str:
    return "```json\n" + json.dumps(iam_policy(), indent=2) + "\n```"


def table_list() -> str:
    out = []
    for top in TOP_LEVEL:
        out.append(f"- `{top.name}` ({len(top.all_columns())} columns)")
        for c in top.children:
            out.append(f"  - `{c.name}` ({len(c.all_columns())} columns)")
    return "\n".join(out)


def org_policy_markdown() -> str:
    return "```json\n" + json.dumps(org_admin_policy(), indent=2) + "\n```"


SECTIONS = {"table-list": table_list, "table-docs": tables_markdown, "iam-policy": policy_markdown,
            "org-admin-policy": org_policy_markdown}


def render(text: str) -> str:
    import re
    for name, fn in SECTIONS.items():
        pattern = re.compile(rf"(<!-- generated:{name} -->\n).*?(<!-- end:{name} -->)", re.S)
        if not pattern.search(text):
            raise SystemExit(f"README has no <!-- generated:{name} --> section")
        text = pattern.sub(lambda m: m.group(1) + fn() + "\n" + m.group(2), text)
    return text


if __name__ == "__main__":
    import sys
    from pathlib import Path
    target = Path(sys.argv[1] if len(sys.argv) > 1 else "README.md")
    target.write_text(render(target.read_text()))
