"""Files of a volume folder on this host: the writer (a spool thread per file, one-step kernel
copies), reads that never follow links out of the folder, listing with checksums, and export.

Used by the directory backend and by Docker volumes whose mount point is on this host.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import os
import queue
import shutil
from collections.abc import AsyncIterable, Callable, Sequence
from pathlib import Path
from typing import Any, BinaryIO

from everest_elearn.errors import InvalidInput, NotFound
from everest_elearn.packages.volumes import FileEntry, check_path

# Chunks queued per file between the event loop and its writing thread (about 16 MB).
SPOOL_CHUNKS = 16
# Bytes per step of a whole-file copy (progress is reported after each).
COPY_STEP = 32 * 1024 * 1024


class _Spool:
    """Writes one file's chunks in a thread of its own while the event loop fetches and hashes the
    next ones: reading, hashing and writing overlap instead of taking turns."""

    def __init__(self, handle: BinaryIO) -> None:
        self.handle = handle
        self.queue: queue.Queue[bytes | None] = queue.Queue(maxsize=SPOOL_CHUNKS)
        self.error: BaseException | None = None
        self.task = asyncio.create_task(asyncio.to_thread(self._run))

    def _run(self) -> None:
        # Keeps draining after an error so that a producer blocked on a full queue never hangs.
        while (item := self.queue.get()) is not None:
            if self.error is None:
                try:
                    _write_all(self.handle.fileno(), memoryview(item))
                except BaseException as exc:
                    self.error = exc

    async def _enqueue(self, item: bytes | None) -> None:
        try:
            self.queue.put_nowait(item)
        except queue.Full:
            await asyncio.to_thread(self.queue.put, item)

    async def put(self, chunk: bytes) -> None:
        if self.error is not None:
            raise self.error
        await self._enqueue(chunk)

    async def close(self) -> None:
        """Wait until every chunk is written (or the first error, raised here)."""
        if not self.task.done():
            await self._enqueue(None)
            await self.task
        if self.error is not None:
            raise self.error


def _make_parents(root: Path, target: Path) -> None:
    # Containers read packages as jovyan (uid 1000): folders 0755 whatever this process's umask.
    folder = root
    for part in target.relative_to(root).parts[:-1]:
        folder = folder / part
        if not folder.is_dir():
            folder.mkdir(exist_ok=True)
            os.chmod(folder, 0o755)  # noqa: S103


def _open_partial(root: Path, target: Path) -> tuple[Path, BinaryIO]:
    _make_parents(root, target)
    partial = target.with_name(f".{target.name}.partial")
    # Unbuffered: the chunks are large already, a buffer would only add a copy of each.
    return partial, partial.open("wb", buffering=0)


def _commit(handle: BinaryIO, partial: Path, target: Path) -> None:
    handle.close()
    os.chmod(partial, 0o644)
    os.replace(partial, target)


def _discard(handle: BinaryIO, partial: Path) -> None:
    handle.close()
    partial.unlink(missing_ok=True)


def read_inside(root: Path, path: str, volume: str) -> bytes:
    """A file of the volume at ``root``; NotFound for links leading out of it."""
    return _inside(root, path, volume).read_bytes()


def _inside(root: Path, path: str, volume: str) -> Path:
    # A results volume is written by its user, who may leave symlinks pointing anywhere.
    target = (root / path).resolve()
    if not target.is_relative_to(root.resolve()) or not target.is_file():
        raise NotFound("file", f"{volume}/{path}")
    return target


def export_from(root: Path, paths: Sequence[str], into: Path, volume: str) -> None:
    """Copy ``paths`` of the volume at ``root`` to ``into`` (the kernel copies, where it can)."""
    for path in paths:
        source = _inside(root, check_path(path), volume)
        target = into / path
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, target)


def empty_dir(root: Path) -> None:
    """Remove everything inside ``root`` (kept itself: containers may mount it); links are
    removed, never followed."""
    for entry in list(root.iterdir()):
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry)
        else:
            entry.unlink(missing_ok=True)


def walk_files(root: Path) -> list[FileEntry]:
    """Regular files under ``root`` with sizes and SHA-256; links (file or folder) left out."""
    found = []
    for path in sorted(root.rglob("*")):
        if path.is_file() and not path.is_symlink():
            digest = hashlib.sha256()
            with path.open("rb") as handle:
                for block in iter(lambda: handle.read(1 << 20), b""):
                    digest.update(block)
            found.append(
                FileEntry(
                    path.relative_to(root).as_posix(), path.stat().st_size, digest.hexdigest()
                )
            )
    return found


def _write_all(fd: int, data: memoryview) -> None:
    while data:
        data = data[os.write(fd, data) :]


def _copy_range(src: int, dst: int, size: int, advance: Callable[[int], None]) -> int:
    done = 0
    while done < size:
        try:
            step = os.copy_file_range(src, dst, min(COPY_STEP, size - done))
        except OSError:  # another file system or an old kernel: plain reads and writes
            return done + _copy_read(src, dst, size - done, advance, None)
        if step == 0:
            break
        done += step
        advance(step)
    return done


def _copy_read(
    src: int, dst: int, size: int, advance: Callable[[int], None], digest: Any | None
) -> int:
    buffer = bytearray(COPY_STEP)
    view = memoryview(buffer)
    done = 0
    while done < size:
        step = os.readv(src, [view[: min(COPY_STEP, size - done)]])
        if step == 0:
            break
        if digest is not None:
            digest.update(view[:step])
        _write_all(dst, view[:step])
        done += step
        advance(step)
    return done


def copy_file(
    root: Path, target: Path, source: Path, size: int, advance: Callable[[int], None], hash_it: bool
) -> str | None:
    """Copy ``source`` to ``target`` under ``root`` in this thread; its SHA-256 if ``hash_it``."""
    with source.open("rb", buffering=0) as src:  # FileNotFoundError before anything is made
        partial, handle = _open_partial(root, target)
        try:
            digest = hashlib.sha256() if hash_it else None
            if digest is None:
                done = _copy_range(src.fileno(), handle.fileno(), size, advance)
            else:
                done = _copy_read(src.fileno(), handle.fileno(), size, advance, digest)
            if done != size or os.read(src.fileno(), 1):
                raise InvalidInput(target.name, f"the stored file is not {size} bytes long")
        except BaseException:
            _discard(handle, partial)
            raise
        _commit(handle, partial, target)
    return digest.hexdigest() if digest is not None else None


class DirectoryWriter:
    """Each file goes to a temporary name first and is renamed into place once complete.

    Used for directory volumes and for Docker volumes whose mount point is on this host.
    """

    def __init__(self, root: Path) -> None:
        self.root = root

    async def write(self, path: str, chunks: AsyncIterable[bytes], size: int) -> None:
        target = self.root / check_path(path)
        partial, handle = await asyncio.to_thread(_open_partial, self.root, target)
        spool = _Spool(handle)
        written = 0
        try:
            async for chunk in chunks:
                written += len(chunk)
                if written > size:
                    raise InvalidInput(path, f"more than the announced {size} bytes")
                await spool.put(chunk)
            await spool.close()
            if written != size:
                raise InvalidInput(path, f"{written} bytes received, {size} announced")
        except BaseException:
            with contextlib.suppress(BaseException):
                await asyncio.shield(spool.close())
            await asyncio.to_thread(_discard, handle, partial)
            raise
        await asyncio.to_thread(_commit, handle, partial, target)

    async def copy_file(
        self, path: str, source: Path, size: int, advance: Callable[[int], None], hash_it: bool
    ) -> str | None:
        loop = asyncio.get_running_loop()

        def report(step: int) -> None:
            loop.call_soon_threadsafe(advance, step)

        target = self.root / check_path(path)
        return await asyncio.to_thread(copy_file, self.root, target, source, size, report, hash_it)

    async def flush(self) -> None:
        # Every completed write was renamed into place already; nothing is pending.
        return None
