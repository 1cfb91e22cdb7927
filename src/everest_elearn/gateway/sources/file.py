"""Local file sources (``file:///...``): reads confined to the source's folder."""

from __future__ import annotations

import asyncio
import errno
import mimetypes
import os
import stat
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO
from urllib.parse import unquote, urlsplit

from everest_elearn.errors import UpstreamError
from everest_elearn.gateway.delivery import ByteRange
from everest_elearn.gateway.objectstore import CHUNK
from everest_elearn.gateway.rules import Source
from everest_elearn.gateway.upstream import UpstreamFile

# O_NOFOLLOW: a symlink swapped in after the check fails to open instead of leading elsewhere.
# O_NONBLOCK: opening a FIFO does not wait for a writer (it is refused right after, by fstat).
_FLAGS = os.O_RDONLY | os.O_CLOEXEC | os.O_NOFOLLOW | os.O_NONBLOCK


class FileReader:
    """Opens files under a ``file:///`` source; symlinks may not lead out of it."""

    async def open(self, source: Source, href: str, byte_range: ByteRange | None) -> UpstreamFile:
        path, handle, st = await asyncio.to_thread(_open_inside, source, href)
        size = st.st_size
        start = byte_range.start if byte_range else 0
        end = size - 1 if byte_range is None or byte_range.end is None else byte_range.end
        end = min(end, size - 1)

        async def chunks() -> AsyncIterator[bytes]:
            try:
                await asyncio.to_thread(handle.seek, start)
                remaining = end - start + 1
                while remaining > 0:
                    chunk = await asyncio.to_thread(handle.read, min(CHUNK, remaining))
                    if not chunk:
                        raise UpstreamError(f"source '{source.name}': the file shrank while read")
                    remaining -= len(chunk)
                    yield chunk
            finally:
                handle.close()

        async def close() -> None:
            handle.close()

        return UpstreamFile(
            chunks=chunks(),
            size=size,
            start=start,
            end=end if size else None,
            media_type=mimetypes.guess_type(path.name)[0],
            etag=f'"{st.st_mtime_ns:x}-{size:x}"',
            last_modified=datetime.fromtimestamp(st.st_mtime, UTC),
            close=close,
        )

    async def close(self) -> None:
        return None


def _open_inside(source: Source, href: str) -> tuple[Path, BinaryIO, os.stat_result]:
    """The regular file ``href`` names inside the source's folder, open; else ``UpstreamError``.

    The path is resolved and checked first, so nothing outside is opened in the usual case;
    the opened descriptor is checked again, since the file system may change in between.
    """
    root = Path(unquote(urlsplit(source.url).path)).resolve()
    path = Path(unquote(urlsplit(href).path)).resolve()
    outside = UpstreamError(f"source '{source.name}' does not contain this file")
    if not _within(path, root):
        raise outside
    try:
        fd = os.open(path, _FLAGS)
    except OSError as exc:
        if exc.errno == errno.ELOOP:  # the final component became a symlink after the check
            raise outside from None
        raise UpstreamError(f"source '{source.name}' has no such file") from None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            # A FIFO would block a worker thread on read, a device could be endless.
            raise UpstreamError(
                f"source '{source.name}' does not contain this file (not a regular file)"
            )
        real = _fd_path(fd)
        if real is not None and not _within(real, root):
            raise outside
        os.set_blocking(fd, True)
        return path, os.fdopen(fd, "rb"), st
    except BaseException:
        os.close(fd)
        raise


def _within(path: Path, root: Path) -> bool:
    return path == root or root in path.parents


def _fd_path(fd: int) -> Path | None:
    """Where an open descriptor really leads (Linux ``/proc``); None where that is unknown."""
    try:
        return Path(os.readlink(f"/proc/self/fd/{fd}"))
    except OSError:
        return None
