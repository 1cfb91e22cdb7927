"""The object store interface: where cached and mirrored files live (local directory or S3)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Protocol

from everest_elearn.errors import InvalidInput

# Read granularity: large enough that per-chunk overhead vanishes, small enough for bounded memory.
CHUNK = 1024 * 1024


@dataclass(frozen=True)
class StoredObject:
    """A complete object. ``meta`` holds small text values (sha256, content_type, etag, ...);
    ``list`` may return it empty when the backend cannot list metadata cheaply (S3)."""

    key: str
    size: int
    modified: datetime
    meta: dict[str, str] = field(default_factory=dict)


class ObjectStore(Protocol):
    """Keys are ``/``-separated relative paths. Objects appear complete or not at all."""

    name: str

    async def check(self) -> None:
        """Raise ``BackendUnavailable`` when the store cannot be reached."""
        ...

    async def recover(self) -> int:
        """Remove leftovers of writes interrupted by a crash; returns how many were removed."""
        ...

    async def stat(self, key: str) -> StoredObject | None:
        """The complete object under ``key``, or None."""
        ...

    def read(self, key: str, start: int = 0, end: int | None = None) -> AsyncIterator[bytes]:
        """Bytes ``start``..``end`` (inclusive; None = to the end) of a complete object."""
        ...

    async def open_file(self, key: str) -> int | None:
        """A read-only descriptor of the complete object when it is a local file (for serving
        without copies; the caller closes it), else None."""
        ...

    async def put_file(self, key: str, path: Path, meta: dict[str, str]) -> StoredObject:
        """Store a local file under ``key`` atomically (readers see all or nothing); the file at
        ``path`` is consumed (moved or deleted)."""
        ...

    async def delete(self, key: str) -> bool:
        """Remove an object; False when there was none."""
        ...

    def list(self, prefix: str = "") -> AsyncIterator[StoredObject]:
        """Complete objects whose key starts with ``prefix``."""
        ...

    async def close(self) -> None: ...


def check_key(key: str) -> str:
    """Refuse keys that could escape the store's namespace."""
    parts = key.split("/")
    if (
        not key
        or key.startswith("/")
        or "\\" in key
        or "\x00" in key
        or any(p in ("", ".", "..") for p in parts)
    ):
        raise InvalidInput("object key", f"{key!r} is not a safe relative key")
    return key
