"""The shared checks of the rules parser: keys, types and texts, each problem noted by line."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from everest_elearn.gateway.delivery import Strategy
from everest_elearn.gateway.rules.model import SECRET_KEYS, Problem
from everest_elearn.gateway.yamlines import LineDict, LineList


class Checker:
    """Collects problems by line while the parse goes on, so one run reports them all."""

    def __init__(self) -> None:
        self.problems: list[Problem] = []

    def fail(self, line: int, message: str) -> None:
        self.problems.append(Problem(line, message))

    def keys(self, node: LineDict, allowed: set[str], what: str) -> None:
        for key in node:
            if key in allowed:
                continue
            if key.lower() in SECRET_KEYS:
                self.fail(
                    node.line_of(key),
                    f"{what}: '{key}' would put a secret in the rules; name it instead "
                    "with 'credential: NAME' (an environment variable or a secret file)",
                )
            else:
                self.fail(
                    node.line_of(key),
                    f"{what}: unknown key '{key}' (expected one of {', '.join(sorted(allowed))})",
                )

    def mapping(self, value: Any, line: int, what: str) -> LineDict | None:
        if isinstance(value, LineDict):
            return value
        self.fail(line, f"{what} must be a mapping")
        return None

    def sequence(self, value: Any, line: int, what: str) -> LineList | None:
        if isinstance(value, LineList):
            return value
        self.fail(line, f"{what} must be a list")
        return None

    def entries(
        self, value: Any, line: int, what: str, each: str
    ) -> Iterator[tuple[int, LineDict]]:
        """The mappings in list ``what`` with their index; any other item is a problem."""
        items = self.sequence(value, line, what)
        for index, item in enumerate(items or []):
            item_line = items.item_lines[index] if items else line
            node = self.mapping(item, item_line, each)
            if node is not None:
                yield index, node

    def text(self, node: LineDict, key: str, what: str, required: bool = False) -> str | None:
        if key not in node or node[key] is None:
            if required:
                self.fail(node.line, f"{what}: '{key}' is required")
            return None
        value = node[key]
        if not isinstance(value, str | int | float) or isinstance(value, bool) or value == "":
            self.fail(node.line_of(key), f"{what}: '{key}' must be a non-empty text")
            return None
        return str(value)

    def strategy(self, node: LineDict, key: str, what: str) -> Strategy | None:
        raw = self.text(node, key, what)
        if raw is None:
            return None
        try:
            return Strategy(raw.lower())
        except ValueError:
            choices = ", ".join(s.value for s in Strategy)
            self.fail(node.line_of(key), f"{what}: {key} '{raw}' is not one of {choices}")
            return None

    def patterns(self, node: LineDict, key: str, what: str) -> tuple[str, ...]:
        value = node.get(key)
        if value is None:
            return ()
        items = value if isinstance(value, list) else [value]
        out: list[str] = []
        for item in items:
            if isinstance(item, str | int | float) and not isinstance(item, bool) and item != "":
                out.append(str(item))
            else:
                self.fail(node.line_of(key), f"{what}: '{key}' must be a text or a list of texts")
        return tuple(out)

    def unique(self, seen: dict[str, int], name: str, node: LineDict, what: str) -> None:
        """Names identify rules and policies in logs and status: two alike would be ambiguous."""
        line = node.line_of("name")
        if name in seen:
            self.fail(line, f"{what} is defined twice (first at line {seen[name]})")
        else:
            seen[name] = line

    def selector(self, node: LineDict, key: str, what: str) -> tuple[str, ...]:
        """A policy's groups/roles/users: absent means anyone, so present must name someone."""
        found = self.patterns(node, key, what)
        if key in node and not found and node[key] in (None, []):
            # An empty selector would otherwise read as "no condition": everyone.
            self.fail(node.line_of(key), f"{what}: '{key}' is empty; name at least one or omit it")
        return found
