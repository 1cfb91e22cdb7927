"""Volumes as plain directories under the data folder: the embedded default when no engine answers."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from pathlib import Path

from everest_elearn.errors import NotFound
from everest_elearn.packages.backends.hostfiles import (
    DirectoryWriter,
    empty_dir,
    export_from,
    read_inside,
    walk_files,
)
from everest_elearn.packages.volumes import (
    Capabilities,
    FileEntry,
    VolumeInfo,
    VolumeWriter,
    check_owner,
    check_path,
    check_volume_name,
)

LABELS_DIR = ".labels"


class DirectoryVolumes:
    """``<root>/<volume>/...``; labels beside them in ``<root>/.labels/<volume>.json``."""

    backend = "directory"
    capabilities = Capabilities(engine=False, host_path=True)

    def __init__(self, root: Path, reason: str = "configured") -> None:
        self.root = root
        self.reason = reason

    def describe(self) -> str:
        return f"plain directories under {self.root} ({self.reason})"

    def _dir(self, name: str) -> Path:
        return self.root / check_volume_name(name)

    def _labels_file(self, name: str) -> Path:
        return self.root / LABELS_DIR / f"{check_volume_name(name)}.json"

    def _info(self, name: str) -> VolumeInfo:
        labels_file = self._labels_file(name)
        labels = json.loads(labels_file.read_text()) if labels_file.exists() else {}
        return VolumeInfo(name, self.backend, "bind", str(self._dir(name).resolve()), labels)

    async def create(self, name: str, labels: Mapping[str, str]) -> VolumeInfo:
        directory = self._dir(name)
        labels_file = self._labels_file(name)
        if not directory.exists():
            labels_file.parent.mkdir(parents=True, exist_ok=True)
            temporary = labels_file.with_suffix(".tmp")
            temporary.write_text(json.dumps(dict(labels), sort_keys=True))
            os.replace(temporary, labels_file)
            directory.mkdir(parents=True, exist_ok=True)
            # Containers read packages as jovyan (uid 1000): world-readable, not world-writable.
            os.chmod(directory, 0o755)  # noqa: S103
        return check_owner(self._info(name), labels)

    async def get(self, name: str) -> VolumeInfo | None:
        return self._info(name) if self._dir(name).is_dir() else None

    async def list(self, labels: Mapping[str, str] | None = None) -> list[VolumeInfo]:
        if not self.root.is_dir():
            return []
        found = []
        for entry in sorted(self.root.iterdir()):
            if entry.is_dir() and entry.name != LABELS_DIR:
                info = self._info(entry.name)
                if all(info.labels.get(k) == v for k, v in (labels or {}).items()):
                    found.append(info)
        return found

    async def remove(self, name: str) -> bool:
        directory = self._dir(name)
        existed = directory.exists()
        await asyncio.to_thread(shutil.rmtree, directory, ignore_errors=True)
        self._labels_file(name).unlink(missing_ok=True)
        return existed

    async def empty(self, name: str) -> None:
        directory = self._dir(name)
        if not directory.is_dir():
            raise NotFound("volume", name)
        await asyncio.to_thread(empty_dir, directory)

    @asynccontextmanager
    async def writer(self, name: str) -> AsyncIterator[VolumeWriter]:
        directory = self._dir(name)
        if not directory.is_dir():
            raise NotFound("volume", name)
        yield DirectoryWriter(directory)

    async def read(self, name: str, path: str) -> bytes:
        return await asyncio.to_thread(read_inside, self._dir(name), check_path(path), name)

    async def copy(self, source: str, target: str) -> None:
        src, dst = self._dir(source), self._dir(target)
        for directory in (src, dst):
            if not directory.is_dir():
                raise NotFound("volume", directory.name)
        # Symlinks are copied as links, never followed: a results folder must not reach outside.
        await asyncio.to_thread(shutil.copytree, src, dst, symlinks=True, dirs_exist_ok=True)

    async def files(self, name: str) -> Sequence[FileEntry]:
        directory = self._dir(name)
        if not directory.is_dir():
            raise NotFound("volume", name)
        return await asyncio.to_thread(walk_files, directory)

    async def export(self, name: str, paths: Sequence[str], into: Path) -> None:
        await asyncio.to_thread(export_from, self._dir(name), list(paths), into, name)

    async def local_path(self, name: str) -> Path | None:
        directory = self._dir(name)
        return directory.resolve() if directory.is_dir() else None
