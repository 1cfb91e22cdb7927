"""Live progress of a build: phase and per-file bytes, observed by the CLI bar and the status API."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


@dataclass
class FileProgress:
    path: str
    size: int | None
    done: int = 0
    # pending, fetching, written, durable, skipped (already in the volume), failed
    state: str = "pending"
    origin: str | None = None


Listener = Callable[["BuildProgress", "FileProgress | None"], None]


@dataclass
class BuildProgress:
    """Mutable while a build runs; listeners are called on every change (keep them quick)."""

    name: str
    version: str
    phase: str = "resolving"  # resolving, fetching, cube layout, indexing, finishing, ready, failed
    files: dict[str, FileProgress] = field(default_factory=dict)
    started: float = field(default_factory=time.monotonic)
    error: str | None = None
    notes: list[str] = field(default_factory=list)
    listeners: list[Listener] = field(default_factory=list, repr=False)

    def _changed(self, item: FileProgress | None = None) -> None:
        for listener in self.listeners:
            listener(self, item)

    def set_phase(self, phase: str, error: str | None = None) -> None:
        self.phase, self.error = phase, error or self.error
        self._changed()

    def plan(self, files: list[tuple[str, int | None]]) -> None:
        self.files = {path: FileProgress(path, size) for path, size in files}
        self._changed()

    def file(
        self, path: str, state: str, done: int | None = None, origin: str | None = None
    ) -> None:
        item = self.files.setdefault(path, FileProgress(path, None))
        item.state = state
        if done is not None:
            item.done = done
        if origin is not None:
            item.origin = origin
        self._changed(item)

    def advance(self, path: str, amount: int) -> None:
        item = self.files[path]
        item.done += amount
        self._changed(item)

    @property
    def total_bytes(self) -> int:
        return sum(f.size or 0 for f in self.files.values())

    @property
    def done_bytes(self) -> int:
        return sum(f.done for f in self.files.values())

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "version": self.version,
            "phase": self.phase,
            "error": self.error,
            "notes": self.notes,
            "elapsed_s": round(time.monotonic() - self.started, 3),
            "total_bytes": self.total_bytes,
            "done_bytes": self.done_bytes,
            "files": [
                {
                    "path": f.path,
                    "size": f.size,
                    "done": f.done,
                    "state": f.state,
                    "origin": f.origin,
                }
                for f in self.files.values()
            ],
        }
