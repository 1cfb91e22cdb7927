"""What parsing a document yields: records, and per-item rejections and skips with reasons."""

from __future__ import annotations

from dataclasses import dataclass, field

from everest_elearn.catalogue.model import Record


class Reject(Exception):
    """Raised inside a parser: this item cannot become a record (the message says why)."""


class Skip(Exception):
    """Raised inside a parser: this item is not a record at all (e.g. a search link entry)."""


@dataclass(frozen=True)
class Problem:
    """One item that was rejected, skipped or changed; ``position`` is 1-based in its document."""

    reason: str
    position: int | None = None
    identifier: str | None = None
    source: str | None = None

    def describe(self) -> str:
        where = [self.source or "", f"#{self.position}" if self.position else ""]
        label = " ".join(part for part in where if part)
        ident = f" ({self.identifier})" if self.identifier else ""
        return f"{label}{ident}: {self.reason}" if label or ident else self.reason


@dataclass
class Parsed:
    """The outcome of parsing one document; ``format`` names what was detected."""

    format: str
    source: str | None = None
    records: list[tuple[int, Record]] = field(default_factory=list)
    rejected: list[Problem] = field(default_factory=list)
    skipped: list[Problem] = field(default_factory=list)
    # Non-fatal: something dropped from an otherwise good record (e.g. a link with a file: URL).
    warnings: list[Problem] = field(default_factory=list)

    @property
    def received(self) -> int:
        return len(self.records) + len(self.rejected) + len(self.skipped)
