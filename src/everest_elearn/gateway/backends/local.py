"""The embedded object store: a local directory (objects/, meta/, tmp/ under one root)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shutil
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

from everest_elearn.errors import BackendUnavailable
from everest_elearn.gateway.objectstore import CHUNK, StoredObject, check_key

# The metadata's record of its data file's modification time (ns): which data it describes.
STAMP = "data_mtime_ns"


class LocalStore:
    """Objects at ``root/objects/<key>``, metadata at ``root/meta/<key>.json``.

    An object is complete when its data file exists and its metadata names it (size and
    modification time, ``stamp``). A replacement removes the old data first, then renames the
    new metadata and last the new data into place: any crash leaves the old pair, nothing, or the
    new pair, never the old bytes under the new metadata. Metadata without data is ignored (and
    removed by ``recover``).
    """

    name = "local"

    def __init__(self, root: Path) -> None:
        self.root = root
        self.objects = root / "objects"
        self.meta = root / "meta"
        self.tmp = root / "tmp"

    def _paths(self, key: str) -> tuple[Path, Path]:
        check_key(key)
        return self.objects / key, self.meta / f"{key}.json"

    async def check(self) -> None:
        try:
            for folder in (self.objects, self.meta, self.tmp):
                folder.mkdir(parents=True, exist_ok=True)
            if not os.access(self.objects, os.W_OK):
                raise PermissionError(str(self.objects))
        except OSError:
            raise BackendUnavailable("object store (local directory)") from None

    async def recover(self) -> int:
        await self.check()
        return await asyncio.to_thread(self._recover)

    def _recover(self) -> int:
        removed = 0
        for leftover in self.tmp.iterdir():
            if leftover.is_dir():
                shutil.rmtree(leftover, ignore_errors=True)
            else:
                leftover.unlink(missing_ok=True)
            removed += 1
        for meta in self.meta.rglob("*.json"):
            data = self.objects / meta.relative_to(self.meta).as_posix()[: -len(".json")]
            if not data.exists():
                meta.unlink(missing_ok=True)
                removed += 1
        return removed

    async def stat(self, key: str) -> StoredObject | None:
        data, meta = self._paths(key)
        return await asyncio.to_thread(self._stat, key, data, meta)

    def _stat(self, key: str, data: Path, meta: Path) -> StoredObject | None:
        if not self.root.is_dir():
            raise BackendUnavailable("object store (local directory)")
        try:
            st = data.stat()
            values = json.loads(meta.read_text())
        except (FileNotFoundError, NotADirectoryError, ValueError):
            return None
        if str(values.get("size", st.st_size)) != str(st.st_size):
            return None
        # Metadata of another data file (a replacement under way): not this object.
        if str(values.pop(STAMP, st.st_mtime_ns)) != str(st.st_mtime_ns):
            return None
        modified = datetime.fromtimestamp(st.st_mtime, UTC)
        return StoredObject(key, st.st_size, modified, {k: str(v) for k, v in values.items()})

    async def read(self, key: str, start: int = 0, end: int | None = None) -> AsyncIterator[bytes]:
        data, _ = self._paths(key)
        try:
            handle = await asyncio.to_thread(open, data, "rb")
        except FileNotFoundError:
            return
        try:
            handle.seek(start)
            remaining = None if end is None else end - start + 1
            while remaining is None or remaining > 0:
                size = CHUNK if remaining is None else min(CHUNK, remaining)
                chunk = await asyncio.to_thread(handle.read, size)
                if not chunk:
                    break
                if remaining is not None:
                    remaining -= len(chunk)
                yield chunk
        finally:
            handle.close()

    async def open_file(self, key: str) -> int | None:
        data, _ = self._paths(key)
        try:
            return await asyncio.to_thread(os.open, data, os.O_RDONLY)
        except (FileNotFoundError, NotADirectoryError):
            return None

    async def put_file(self, key: str, path: Path, meta: dict[str, str]) -> StoredObject:
        data, meta_path = self._paths(key)
        await self.check()
        return await asyncio.to_thread(self._put, key, path, data, meta_path, meta)

    def _put(
        self, key: str, path: Path, data: Path, meta_path: Path, meta: dict[str, str]
    ) -> StoredObject:
        size = path.stat().st_size
        staged = self.tmp / f"{uuid.uuid4().hex}.part"
        try:
            os.replace(path, staged)
        except OSError:  # another file system: copy, then the rename below is still atomic
            shutil.copyfile(path, staged)
            path.unlink(missing_ok=True)
        stamp = staged.stat().st_mtime_ns
        with contextlib.suppress(OSError):
            if data.stat().st_mtime_ns == stamp:  # written in the same clock tick: tell apart
                os.utime(staged, ns=(stamp + 1, stamp + 1))
                stamp = staged.stat().st_mtime_ns  # as the file system keeps it
        meta_path.parent.mkdir(parents=True, exist_ok=True)
        meta_tmp = self.tmp / f"{uuid.uuid4().hex}.json"
        meta_tmp.write_text(json.dumps({**meta, "size": str(size), STAMP: str(stamp)}))
        data.unlink(missing_ok=True)  # the old object is incomplete before its metadata goes
        os.replace(meta_tmp, meta_path)
        data.parent.mkdir(parents=True, exist_ok=True)
        os.replace(staged, data)
        st = data.stat()
        return StoredObject(
            key, st.st_size, datetime.fromtimestamp(st.st_mtime, UTC), {**meta, "size": str(size)}
        )

    async def delete(self, key: str) -> bool:
        data, meta = self._paths(key)

        def _delete() -> bool:
            existed = data.exists()
            data.unlink(missing_ok=True)  # data first: the object stops being complete at once
            meta.unlink(missing_ok=True)
            return existed

        return await asyncio.to_thread(_delete)

    async def list(self, prefix: str = "") -> AsyncIterator[StoredObject]:
        def _keys() -> list[str]:
            if not self.objects.is_dir():
                return []
            return sorted(
                p.relative_to(self.objects).as_posix()
                for p in self.objects.rglob("*")
                if p.is_file()
            )

        for key in await asyncio.to_thread(_keys):
            if key.startswith(prefix):
                found = await self.stat(key)
                if found is not None:
                    yield found

    async def close(self) -> None:
        return None
