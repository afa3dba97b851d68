"""Strict YAML for spec files: only what JSON can say, each key once, and bounded in size.

PyYAML's safe loader turns `2024-01-01` into a date, `!!set`/`!!binary` into sets and bytes, lets
a key appear twice (the last one silently wins, so a whole `accounts:` list can vanish), accepts
numbers and lists as mapping keys, recurses once per nesting level, and expands aliases without
limit (a 647-byte "billion laughs" spec reached 1.6 GB through an error message). Spec files need
none of that. Here:

- values are strings, integers, floats, true/false, null, lists and mappings; any other tag (dates
  and times, sets, binary, ordered maps, custom `!tags`) is an error naming the field and line;
- mapping keys are strings, and each appears once per mapping (`<<:` merge keys are allowed and
  may be overridden, as YAML defines);
- at most MAX_DEPTH levels of nesting and MAX_NODES values, both counted with aliases expanded, and
  checked on the composed node graph before any Python object is built; composing itself stops at
  the same limits, so neither deep nesting nor an alias bomb costs more than a bounded amount of
  memory and time.

Every problem is a YamlSpecError carrying the line and the field path (`spec.spec.max_retries`).
"""

from __future__ import annotations

from typing import Any

import yaml
from yaml.nodes import Node, ScalarNode, SequenceNode

MAX_DEPTH = 32
# An explicit `accounts:` list of 5,000 accounts is ~30,000 values; alias bombs are millions.
MAX_NODES = 100_000
MAX_INT_DIGITS = 40  # beyond this int() is slow (and past 4300 digits Python refuses)

_T = "tag:yaml.org,2002:"
_SCALAR_TAGS = {_T + "str", _T + "int", _T + "float", _T + "bool", _T + "null"}
_MERGE = _T + "merge"
_WHY = {
    _T + "timestamp": "a date or time, which a spec has no use for; quote it if you mean a string",
    _T + "binary": "!!binary data; expected a string, number, true/false, list or mapping",
    _T + "set": "a !!set; expected a list",
    _T + "omap": "an !!omap; expected a mapping",
    _T + "pairs": "!!pairs; expected a mapping",
}


class YamlSpecError(ValueError):
    """A YAML document a spec can't be; `line` (1-based) and `field` (a path) say where."""

    def __init__(self, line: int | None, field: str, problem: str) -> None:
        where = ", ".join(x for x in (f"line {line}" if line else "", f"field {field}" if field else "") if x)
        super().__init__(f"{where}: {problem}" if where else problem)
        self.line, self.field, self.problem = line, field, problem


def not_valid_yaml(e: yaml.YAMLError) -> str:
    """How a file's YAML syntax error reads after its name: " line N: not valid YAML (problem)"."""
    mark = getattr(e, "problem_mark", None)
    where = f" line {mark.line + 1}:" if mark else ""
    problem = getattr(e, "problem", None) or str(e).split("\n")[0]
    return f"{where} not valid YAML ({problem})"


def _line(node_or_event: Any) -> int | None:
    mark = getattr(node_or_event, "start_mark", None)
    return mark.line + 1 if mark is not None else None


def _short(s: str, n: int = 40) -> str:
    return s if len(s) <= n else s[: n - 1] + "…"


class _Loader(yaml.SafeLoader):
    """SafeLoader whose composer stops at MAX_DEPTH levels and MAX_NODES nodes.

    PyYAML's composer recurses once per level, so 5,000 nested `[` hit Python's recursion limit;
    stopping at MAX_DEPTH keeps the recursion shallow and the node graph small.
    """

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._depth = 0
        self._composed = 0

    def compose_node(self, parent: Node | None, index: Any) -> Node:
        self._composed += 1
        if self._composed > MAX_NODES:
            raise YamlSpecError(_line(self.peek_event()), "", f"more than {MAX_NODES:,} values; "
                                "expected a spec file of ordinary size")
        if self._depth >= MAX_DEPTH:
            raise YamlSpecError(_line(self.peek_event()), "", f"nested deeper than {MAX_DEPTH} levels; "
                                "expected a spec of ordinary depth")
        self._depth += 1
        try:
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


class _Checker:
    """Walks one composed document as if aliases were expanded, without expanding them.

    Each distinct node is walked once (memoised by identity), so an alias bomb costs time in the
    number of distinct nodes, and the expanded size and depth are computed, not built.
    """

    def __init__(self, budget: int) -> None:
        self.budget = budget  # values left for this file, aliases expanded
        self.memo: dict[int, tuple[int, int]] = {}  # id(node) -> (expanded size, height)
        self.active: set[int] = set()

    def _spend(self, n: int, node: Node, path: str) -> None:
        self.budget -= n
        if self.budget < 0:
            raise YamlSpecError(_line(node), path, f"expands to more than {MAX_NODES:,} values (through YAML "
                                "aliases?); expected a spec file of ordinary size")

    def walk(self, node: Node, path: str = "", depth: int = 1) -> tuple[int, int]:
        if depth > MAX_DEPTH:
            raise YamlSpecError(_line(node), path, f"nested deeper than {MAX_DEPTH} levels (counting aliases); "
                                "expected a spec of ordinary depth")
        key = id(node)
        if key in self.active:
            raise YamlSpecError(_line(node), path, "an alias refers to a mapping or list that contains it; "
                                "expected a structure without cycles")
        if key in self.memo:
            size, height = self.memo[key]
            if depth + height - 1 > MAX_DEPTH:
                raise YamlSpecError(_line(node), path, f"nested deeper than {MAX_DEPTH} levels (counting "
                                    "aliases); expected a spec of ordinary depth")
            self._spend(size, node, path)
            return size, height
        self._spend(1, node, path)
        self.active.add(key)
        try:
            size, height = self._children(node, path, depth)
        finally:
            self.active.discard(key)
        self.memo[key] = (size, height)
        return size, height

    def _children(self, node: Node, path: str, depth: int) -> tuple[int, int]:
        if isinstance(node, ScalarNode):
            _check_scalar(node, path)
            return 1, 1
        size, height = 1, 0
        if isinstance(node, SequenceNode):
            if node.tag != _T + "seq":
                raise YamlSpecError(_line(node), path, _WHY.get(node.tag, f"tag {_short(node.tag)} is not supported; "
                                    "expected a plain list"))
            for i, item in enumerate(node.value):
                s, h = self.walk(item, f"{path}[{i}]", depth + 1)
                size, height = size + s, max(height, h)
            return size, height + 1
        if node.tag != _T + "map":
            raise YamlSpecError(_line(node), path, _WHY.get(node.tag, f"tag {_short(node.tag)} is not supported; "
                                "expected a plain mapping"))
        seen: dict[str, int] = {}
        for k, v in node.value:
            if k.tag == _MERGE:
                s, h = self.walk(v, path, depth + 1)  # `<<: *base`: the merged fields are this mapping's
            else:
                name = _key(k, path)
                if name in seen:
                    raise YamlSpecError(_line(k), _join(path, name), f"the key appears twice in one mapping "
                                        f"(first at line {seen[name]}); expected each key once")
                seen[name] = _line(k) or 0
                self._spend(1, k, path)
                s, h = self.walk(v, _join(path, name), depth + 1)
            size, height = size + s + 1, max(height, h)  # + 1: the key
        return size, height + 1


def _join(path: str, name: str) -> str:
    return f"{path}.{_short(name)}" if path else _short(name)


def _key(k: Node, path: str) -> str:
    if isinstance(k, ScalarNode) and k.tag == _T + "str":
        return k.value
    what = (f"{_short(k.value)!r}, which YAML reads as {k.tag.rsplit(':', 1)[-1]}" if isinstance(k, ScalarNode)
            else "a list or mapping")
    raise YamlSpecError(_line(k), path, f"a mapping key is {what}; expected a string key (quote it)")


def _check_scalar(node: ScalarNode, path: str) -> None:
    if node.tag not in _SCALAR_TAGS:
        why = _WHY.get(node.tag, f"tag {_short(node.tag)} is not supported; expected a string, number, "
                       "true/false or null")
        raise YamlSpecError(_line(node), path, f"{_short(node.value)!r} is {why}" if node.tag in _WHY else why)
    if node.tag == _T + "int" and len(node.value) > MAX_INT_DIGITS:
        raise YamlSpecError(_line(node), path, f"a number of {len(node.value)} digits; expected an ordinary number")


def load_all(text: str) -> list[Any]:
    """Every document of `text`, as plain Python values; raises YamlSpecError or yaml.YAMLError."""
    loader = _Loader(text)
    docs: list[Any] = []
    budget = MAX_NODES
    try:
        while loader.check_node():
            node = loader.get_node()
            if node is None:
                docs.append(None)
                continue
            checker = _Checker(budget)
            checker.walk(node)
            budget = checker.budget
            docs.append(loader.construct_document(node))
    finally:
        loader.dispose()
    return docs
