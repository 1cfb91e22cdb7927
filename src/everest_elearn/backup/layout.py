"""A backup on disk: one folder, one ``manifest.json`` listing every part's files and checksums."""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from everest_elearn import __version__
from everest_elearn.errors import InvalidInput

FORMAT = 1
MANIFEST = "manifest.json"


@dataclass
class PartEntry:
    """One part of a backup: what it holds, its files (relative path -> sha256) and counts."""

    name: str
    description: str
    files: dict[str, str] = field(default_factory=dict)
    items: int = 0
    bytes: int = 0
    note: str = ""


@dataclass
class Manifest:
    """What a backup holds; written last, so a folder without one is an unfinished backup."""

    format: int = FORMAT
    version: str = __version__
    created: str = field(default_factory=lambda: datetime.now(UTC).isoformat(timespec="seconds"))
    parts: list[PartEntry] = field(default_factory=list)

    def part(self, name: str) -> PartEntry | None:
        return next((p for p in self.parts if p.name == name), None)

    def write(self, folder: Path) -> None:
        temp = folder / f".{MANIFEST}.part"
        temp.write_text(json.dumps(asdict(self), indent=2) + "\n", encoding="utf-8")
        os.replace(temp, folder / MANIFEST)

    @classmethod
    def read(cls, folder: Path) -> Manifest:
        path = folder / MANIFEST
        if not path.is_file():
            raise InvalidInput(str(folder), "not a finished backup (no manifest.json)")
        try:
            raw: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
            if raw.get("format") != FORMAT:
                raise InvalidInput(str(path), f"backup format {raw.get('format')} is not {FORMAT}")
            parts = [PartEntry(**p) for p in raw.pop("parts")]
            return cls(**raw, parts=parts)
        except (ValueError, TypeError, KeyError) as exc:
            raise InvalidInput(str(path), f"unreadable manifest: {exc}") from None


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def record_files(entry: PartEntry, folder: Path, paths: list[Path]) -> None:
    """Checksum ``paths`` (inside ``folder``) into ``entry``."""
    for path in paths:
        entry.files[str(path.relative_to(folder))] = sha256_file(path)
        entry.bytes += path.stat().st_size


def verify(folder: Path, manifest: Manifest, only: set[str] | None = None) -> list[str]:
    """Files missing or changed since the backup was written; empty when all is intact."""
    problems = []
    for part in manifest.parts:
        if only is not None and part.name not in only:
            continue
        for relative, expected in part.files.items():
            path = folder / relative
            if not path.is_file():
                problems.append(f"{relative}: missing")
            elif sha256_file(path) != expected:
                problems.append(f"{relative}: checksum differs")
    return problems
