"""Tar streams through the engine's archive API: uploads fed from the event loop, and a file-like
view of the engine's chunked answers for ``tarfile`` in stream mode."""

from __future__ import annotations

import asyncio
import io
import queue
import tarfile
import threading
import time
from collections.abc import AsyncIterable, Iterable, Iterator
from contextlib import suppress
from typing import Any

import docker.errors

from everest_elearn.errors import BackendUnavailable, InvalidInput
from everest_elearn.packages.volumes import check_path

MOUNT = "/v"
# Chunks sent to the engine are coalesced to this size: fewer thread hand-offs per gigabyte.
CHUNK = 1 << 20
_END = object()


class _Abort(Exception):
    """Raised inside the request body generator to cut an upload short."""


class _Upload:
    """One ``put_archive`` request whose body is fed from the event loop through a bounded queue."""

    def __init__(self, api: Any, container: str) -> None:
        self.queue: queue.Queue[object] = queue.Queue(maxsize=32)
        self.done = threading.Event()
        self.error: BaseException | None = None
        self.task = asyncio.create_task(asyncio.to_thread(self._run, api, container))

    def _body(self) -> Iterator[bytes]:
        while True:
            item = self.queue.get()
            if item is _END:
                return
            if isinstance(item, _Abort):
                raise item
            assert isinstance(item, bytes)
            yield item

    def _run(self, api: Any, container: str) -> None:
        try:
            if not api.put_archive(container, MOUNT, data=self._body()):
                raise BackendUnavailable("docker engine (put_archive refused)")
        except BaseException as exc:
            self.error = exc
        finally:
            self.done.set()

    def _put_blocking(self, item: object) -> None:
        while not self.done.is_set():
            try:
                self.queue.put(item, timeout=0.2)
                return
            except queue.Full:
                continue
        raise self._failure()

    def _failure(self) -> BaseException:
        if isinstance(self.error, docker.errors.APIError):
            return BackendUnavailable(f"docker engine ({self.error.explanation})")
        return self.error or BackendUnavailable("docker engine (upload ended early)")

    async def send(self, item: object) -> None:
        if self.done.is_set():
            raise self._failure()
        try:
            self.queue.put_nowait(item)
        except queue.Full:
            await asyncio.to_thread(self._put_blocking, item)

    async def finish(self) -> None:
        await self.send(_END)
        await self.task
        if self.error is not None:
            raise self._failure()

    async def abort(self) -> None:
        if not self.done.is_set():
            try:
                self.queue.put_nowait(_Abort("aborted"))
            except queue.Full:
                # The sender thread is blocked on a full queue: drain it so the abort gets in.
                while not self.done.is_set():
                    with suppress(queue.Empty):
                        self.queue.get_nowait()
                    try:
                        self.queue.put_nowait(_Abort("aborted"))
                        break
                    except queue.Full:
                        continue
        await asyncio.gather(self.task, return_exceptions=True)


def _header(name: str, size: int, directory: bool = False) -> bytes:
    info = tarfile.TarInfo(name + "/" if directory else name)
    info.type = tarfile.DIRTYPE if directory else tarfile.REGTYPE
    info.mode = 0o755 if directory else 0o644
    info.size = 0 if directory else size
    info.mtime = int(time.time())
    info.uname = info.gname = "root"
    return info.tobuf(format=tarfile.PAX_FORMAT)


class DockerWriter:
    """Streams files as one tar per flush; files appear in the volume as the engine unpacks them."""

    def __init__(self, api: Any, container: str) -> None:
        self.api = api
        self.container = container
        self.upload: _Upload | None = None
        self.dirs: set[str] = set()

    async def _upload(self) -> _Upload:
        if self.upload is None:
            self.upload = _Upload(self.api, self.container)
        return self.upload

    async def write(self, path: str, chunks: AsyncIterable[bytes], size: int) -> None:
        check_path(path)
        upload = await self._upload()
        parts = path.split("/")
        for depth in range(1, len(parts)):
            parent = "/".join(parts[:depth])
            if parent not in self.dirs:
                await upload.send(_header(parent, 0, directory=True))
                self.dirs.add(parent)
        await upload.send(_header(path, size))
        written = 0
        pending: list[bytes] = []
        pending_size = 0
        async for chunk in chunks:
            written += len(chunk)
            if written > size:
                raise InvalidInput(path, f"more than the announced {size} bytes")
            pending.append(chunk)
            pending_size += len(chunk)
            if pending_size >= CHUNK:
                await upload.send(b"".join(pending))
                pending, pending_size = [], 0
        if written != size:
            raise InvalidInput(path, f"{written} bytes received, {size} announced")
        pending.append(b"\0" * (-size % tarfile.BLOCKSIZE))
        await upload.send(b"".join(pending))

    async def flush(self) -> None:
        if self.upload is not None:
            upload, self.upload = self.upload, None
            self.dirs.clear()
            await upload.send(b"\0" * (2 * tarfile.BLOCKSIZE))
            await upload.finish()

    async def abort(self) -> None:
        if self.upload is not None:
            upload, self.upload = self.upload, None
            await upload.abort()


class StreamReader(io.RawIOBase):
    """A file-like view of the engine's chunked answer, for ``tarfile`` in stream mode."""

    def __init__(self, chunks: Iterable[bytes]) -> None:
        self.chunks = iter(chunks)
        self.pending = b""

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        while not self.pending:
            try:
                self.pending = next(self.chunks)
            except StopIteration:
                return 0
        size = min(len(buffer), len(self.pending))
        buffer[:size] = self.pending[:size]
        self.pending = self.pending[size:]
        return size
