"""What one run of one source did: counts, the first rejections with reasons, the outcome."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from everest_elearn.catalogue.ingest.outcome import Problem

MAX_KEPT = 100  # rejections kept in a run's report (all are counted)


@dataclass
class RunReport:
    """One run of one source: what came in, what was stored, what was refused and why."""

    source: str
    state: str = "running"  # ok | limited | failed | interrupted
    pages: int = 0
    received: int = 0
    created: int = 0
    updated: int = 0
    skipped: int = 0
    rejected: int = 0
    rejections: list[Problem] = field(default_factory=list)
    bytes: int = 0
    mirrored: int = 0
    mirror_errors: list[str] = field(default_factory=list)
    error: str | None = None

    def reject(self, problem: Problem) -> None:
        self.rejected += 1
        if len(self.rejections) < MAX_KEPT:
            self.rejections.append(problem)

    def to_dict(self) -> dict[str, Any]:
        return {
            "source": self.source, "state": self.state, "pages": self.pages,
            "received": self.received, "created": self.created, "updated": self.updated,
            "skipped": self.skipped, "rejected": self.rejected, "bytes": self.bytes,
            "mirrored": self.mirrored, "mirror_errors": self.mirror_errors[:MAX_KEPT],
            "error": self.error,
            "rejections": [
                {"where": p.source, "position": p.position, "identifier": p.identifier, "reason": p.reason}
                for p in self.rejections
            ],
        }  # fmt: skip
