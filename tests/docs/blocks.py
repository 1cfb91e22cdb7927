"""Fenced shell blocks of docs/: which are runnable here, which need the full stack."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
_FENCE = re.compile(r"^```(\S*)(.*)$")


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
        if match and match.group(1):
            start, body = i + 1, []
            i += 1
            while i < len(lines) and not lines[i].startswith("```"):
                body.append(lines[i])
                i += 1
            marks = frozenset(match.group(2).split())
            found.append(Block(path, start, match.group(1), marks, "\n".join(body) + "\n"))
        i += 1
    return found


def doc_files() -> list[Path]:
    return sorted(DOCS.rglob("*.md"))


def shell_blocks(mark: str) -> list[Block]:
    return [
        b for p in doc_files() for b in blocks(p) if b.lang in ("sh", "bash") and mark in b.marks
    ]
