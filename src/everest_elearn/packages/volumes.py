"""The volume interface: where a package's files live; backends in ``backends/`` (docker_, directory)."""

from __future__ import annotations

import re
from collections.abc import AsyncIterable, Callable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, Protocol, runtime_checkable

from everest_elearn.errors import Conflict, InvalidInput

# Docker volume names allow [a-zA-Z0-9][a-zA-Z0-9_.-]*; we keep to the same alphabet everywhere.
VOLUME_NAME = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,190}$")
# One component of a path inside a volume: no separators, no dot-only names, no control chars.
PATH_COMPONENT = re.compile(r"^[A-Za-z0-9_+=,@%-][A-Za-z0-9._+=,@%-]{0,254}$")
MAX_PATH_DEPTH = 16

# Labels every volume made by the platform carries.
LABEL_KIND = "everest.kind"  # "package" | "results" | "share"
LABEL_NAME = "everest.name"
LABEL_VERSION = "everest.version"
LABEL_OWNER = "everest.owner"


@dataclass(frozen=True)
class VolumeInfo:
    """A volume as containers see it: mount it by ``source`` with ``mount_type``."""

    name: str
    backend: str
    # "volume": ``source`` is a Docker volume name; "bind": ``source`` is a host directory.
    mount_type: Literal["volume", "bind"]
    source: str
    labels: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Capabilities:
    """What a backend offers beyond the contract."""

    # Files reach the volume through a container engine (mountable by name on any engine host).
    engine: bool = False
    # The volume is visible as a plain directory on the agency's host.
    host_path: bool = False


@dataclass(frozen=True)
class FileEntry:
    """A regular file in a volume."""

    path: str
    size: int
    sha256: str


class VolumeWriter(Protocol):
    """Writes files into one volume; ``flush`` makes everything written so far durable."""

    async def write(self, path: str, chunks: AsyncIterable[bytes], size: int) -> None:
        """Write ``size`` bytes from ``chunks`` at ``path``; a different length fails the write."""

    async def flush(self) -> None: ...


@runtime_checkable
class FileCopier(Protocol):
    """A writer that can take a whole file from this host's disk in one step (kernel copy)."""

    async def copy_file(
        self, path: str, source: Path, size: int, advance: Callable[[int], None], hash_it: bool
    ) -> str | None:
        """Copy ``source`` (``size`` bytes) to ``path``; its SHA-256 when ``hash_it``, else None.
        FileNotFoundError, before anything is written, when ``source`` is gone."""


@runtime_checkable
class Volumes(Protocol):
    """Creates, fills, reads and removes volumes. Methods may raise BackendUnavailable."""

    backend: str
    capabilities: Capabilities

    def describe(self) -> str:
        """One line for operators: which engine or directory, and why."""

    async def create(self, name: str, labels: Mapping[str, str]) -> VolumeInfo:
        """Create the volume, or return it if it exists (idempotent); Conflict when it exists for
        another package or owner (``check_owner``)."""

    async def get(self, name: str) -> VolumeInfo | None: ...

    async def list(self, labels: Mapping[str, str] | None = None) -> list[VolumeInfo]:
        """Volumes made by the platform, optionally only those carrying all ``labels``."""

    async def remove(self, name: str) -> bool:
        """Delete the volume and its files; True if it existed. Conflict if it is in use."""

    async def empty(self, name: str) -> None:
        """Delete every file and folder in the volume, even while containers mount it (they see
        an empty folder at once); the volume itself stays. NotFound if it does not exist."""

    def writer(self, name: str) -> AbstractAsyncContextManager[VolumeWriter]:
        """A writer; leaving the context flushes, an exception inside it aborts the pending files."""

    async def read(self, name: str, path: str) -> bytes:
        """A small file's content (manifests, markers); NotFound if absent."""

    async def copy(self, source: str, target: str) -> None:
        """Copy every file of volume ``source`` into volume ``target`` (both must exist)."""

    async def files(self, name: str) -> Sequence[FileEntry]:
        """Every regular file in the volume, sorted by path, with its size and SHA-256; symbolic
        links are left out."""

    async def export(self, name: str, paths: Sequence[str], into: Path) -> None:
        """Copy files out of the volume to ``into/<path>``, streamed (never whole in memory)."""

    async def local_path(self, name: str) -> Path | None:
        """A folder on this host where the volume's files can be read, when there is one."""


def check_volume_name(name: str) -> str:
    if not VOLUME_NAME.fullmatch(name):
        raise InvalidInput("volume", f"{name!r} is not a valid volume name")
    return name


def check_owner(info: VolumeInfo, labels: Mapping[str, str]) -> VolumeInfo:
    """``info`` unless it is labelled for another package, version or owner than ``labels``.

    Volume names join name and version with '-', which both may contain: ``foo-1`` 2 and ``foo``
    1-2 make the same name. Reusing the volume would mix their files and deleting one would free
    the other's, so the labels (which keep the parts apart) decide.
    """
    for key in (LABEL_NAME, LABEL_VERSION, LABEL_OWNER):
        have, want = info.labels.get(key), labels.get(key)
        if have is not None and want is not None and have != want:
            raise Conflict(
                f"volume {info.name} already holds {_who(info.labels)}, not {_who(labels)}; "
                "choose another name or version"
            )
    return info


def _who(labels: Mapping[str, str]) -> str:
    parts = (labels.get(key) for key in (LABEL_NAME, LABEL_VERSION, LABEL_OWNER))
    return " ".join(repr(part) for part in parts if part is not None) or "other files"


def check_path(path: str, where: str = "path") -> str:
    """A relative path inside a volume, refused when it could escape it or hold odd characters."""
    parts = path.split("/")
    if not path or path.startswith("/") or len(parts) > MAX_PATH_DEPTH:
        raise InvalidInput(where, f"{path!r} is not a relative path inside the volume")
    for part in parts:
        if not PATH_COMPONENT.fullmatch(part) or part.strip(".") == "":
            raise InvalidInput(where, f"{path!r} has an unsafe component {part!r}")
    return path
