"""Fenced blocks and inline command spans of the documentation (docs/ and the README)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
# Any fence CommonMark renders: backticks or tildes, indented (in a list) or not.
_FENCE = re.compile(r"^(\s*)(`{3,}|~{3,})\s*(\S*)(.*)$")
_SPAN = re.compile(r"(?<!`)`([^`]+)`(?!`)")
SHELL = ("sh", "bash", "shell", "console", "zsh")


@dataclass(frozen=True)
class Block:
    """A fenced block: its file, first line number, language, marks and text."""

    path: Path
    line: int
    lang: str
    marks: frozenset[str]
    text: str

    @property
    def where(self) -> str:
        return f"{self.path.relative_to(ROOT)}:{self.line}"


def blocks(path: Path) -> list[Block]:
    found: list[Block] = []
    lines = path.read_text(encoding="utf-8").splitlines()
    i = 0
    while i < len(lines):
        match = _FENCE.match(lines[i])
        if match:
            indent, fence = len(match.group(1)), match.group(2)
            start, body = i + 1, []
            i += 1
            while i < len(lines) and not lines[i].strip().startswith(fence):
                body.append(lines[i][indent:] if lines[i][:indent].isspace() else lines[i])
                i += 1
            marks = frozenset(match.group(4).split())
            found.append(Block(path, start, match.group(3), marks, "\n".join(body) + "\n"))
        i += 1
    return found


def prose(path: Path) -> str:
    """The page without its fenced blocks (their lines kept empty, so line numbers hold)."""
    lines = path.read_text(encoding="utf-8").splitlines()
    spans = {(b.line, b.line + b.text.count("\n")) for b in blocks(path)}
    out = []
    for number, line in enumerate(lines, 1):
        inside_block = any(first <= number <= last for first, last in spans)
        out.append("" if inside_block else line)
    return "\n".join(out)


def inline_spans(path: Path) -> list[tuple[str, str]]:
    """(where, text) of every inline code span outside fenced blocks, whitespace collapsed."""
    text = prose(path)
    found = []
    for match in _SPAN.finditer(text):
        line = text.count("\n", 0, match.start()) + 1
        found.append((f"{path.relative_to(ROOT)}:{line}", " ".join(match.group(1).split())))
    return found


def doc_files() -> list[Path]:
    return [*sorted(DOCS.rglob("*.md")), ROOT / "README.md"]


def shell_blocks(mark: str) -> list[Block]:
    return [b for p in doc_files() for b in blocks(p) if b.lang in SHELL and mark in b.marks]
