"""Following another worker's download: read its growing spool file instead of fetching again."""

from __future__ import annotations

import asyncio
import contextlib
import os
import time
import weakref
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import datetime
from typing import Any

from everest_elearn.errors import EverestError, UpstreamError
from everest_elearn.gateway.delivery import FileSpan
from everest_elearn.gateway.lease import HOST, Leases
from everest_elearn.gateway.objectstore import CHUNK

# Seconds between looks at the spool file while waiting for bytes (one look per process, shared
# by all its readers of that file).
POLL = 0.02
# Without progress for this long, check that the downloading process is still alive.
STALL = 1.0
READ = 4 * CHUNK


class RemoteFlight:
    """A download owned by another process of this host, seen through its spool and state files.

    Same reading contract as ``Flight``: bytes as they arrive, the last ones only once the owner
    has verified the whole file; an error when the owner reports a failure or dies.
    """

    def __init__(
        self,
        key: str,
        leases: Leases,
        state: dict[str, Any],
        fd: int,
        landed: Callable[[], Awaitable[int | None]],
    ) -> None:
        self.key = key
        self.leases = leases
        self.fd = fd
        self.landed = landed
        self.size: int | None = None
        self.media_type: str | None = None
        self.etag: str | None = None
        self.last_modified: datetime | None = None
        self.error: EverestError | None = None
        self.written = 0
        self.complete = False
        self.done = False
        self.readers = 0
        self._state = "opening"
        self._moved = time.monotonic()
        self._tick: asyncio.Future[None] | None = None
        # Closed when the last reader lets go of this object (readers hold it while iterating).
        weakref.finalize(self, close_quietly, fd)
        self._apply(state)

    @classmethod
    def attach(
        cls, key: str, leases: Leases, landed: Callable[[], Awaitable[int | None]]
    ) -> RemoteFlight | None:
        state = leases.state(key)
        if state is None or state.get("host") != HOST or state.get("state") == "failed":
            return None
        try:
            fd = os.open(leases.spool / str(state["part"]), os.O_RDONLY)
        except (FileNotFoundError, KeyError):
            return None  # finished (promoted) or failed just now: the caller looks again
        return cls(key, leases, state, fd, landed)

    def _apply(self, state: dict[str, Any]) -> None:
        self._state = str(state.get("state"))
        if isinstance(state.get("size"), int):
            self.size = state["size"]
        self.media_type = state.get("media_type") or self.media_type
        self.etag = state.get("etag") or self.etag
        if state.get("last_modified"):
            with contextlib.suppress(ValueError):
                self.last_modified = datetime.fromisoformat(state["last_modified"])
        if self._state == "verified":
            self.complete = self.done = True
        elif self._state == "failed":
            self._failed(str(state.get("error") or "the transfer failed"))

    def _failed(self, message: str) -> None:
        self.error = UpstreamError(message)
        self.done = True

    async def _look(self) -> None:
        await asyncio.sleep(POLL)
        written = os.fstat(self.fd).st_size
        if written != self.written:
            self.written = written
            self._moved = time.monotonic()
        at_end = self.size is not None and written >= self.size
        stalled = time.monotonic() - self._moved > STALL
        if self._state == "opening" or at_end or stalled:
            state = await asyncio.to_thread(self.leases.state, self.key)
            if state is not None:
                self._apply(state)
                if not self.done and stalled and not self.leases.held(self.key):
                    self._failed("the worker downloading this file stopped")
                    self._moved = time.monotonic()
            else:
                # The owner finished and cleaned up: the store holds the file exactly when the
                # download succeeded.
                stored = await self.landed()
                if stored is not None and stored == written:
                    self.size = stored
                    self.complete = self.done = True
                else:
                    self._failed("the download in another worker failed")

    async def _wait(self) -> None:
        """One look at a time per followed file, however many readers wait on it."""
        if self._tick is None or self._tick.done():
            self._tick = asyncio.ensure_future(self._look())
        await asyncio.shield(self._tick)

    async def started(self) -> None:
        while self._state == "opening" and not self.done:
            await self._wait()
        if self.error is not None and self.written == 0:
            raise UpstreamError(str(self.error))

    async def _pieces(self, start: int, end: int | None) -> AsyncIterator[tuple[int, int]]:
        """(offset, count) of bytes ``start``..``end`` the owner has written, as it writes them."""
        pos = start
        while True:
            limit = self.size if end is None else end + 1
            if self.size is not None and limit is not None:
                limit = min(limit, self.size)
            if limit is not None and pos >= limit:
                return
            if self.error is not None:
                raise UpstreamError(str(self.error))
            self.written = max(self.written, os.fstat(self.fd).st_size)
            available = self.written if limit is None else min(self.written, limit)
            count = min(available - pos, READ)
            held_back = self.size is not None and pos + count >= self.size and not self.complete
            if count <= 0 or held_back:
                if self.done and not self.complete:
                    raise UpstreamError(str(self.error or "the transfer failed"))
                if self.done:
                    if limit is None:
                        return
                    raise UpstreamError("the spooled transfer is shorter than announced")
                await self._wait()
                continue
            yield pos, count
            pos += count

    async def read(self, start: int = 0, end: int | None = None) -> AsyncIterator[bytes]:
        """Bytes ``start``..``end`` (inclusive) as the owner writes them."""
        self.readers += 1
        try:
            async for pos, count in self._pieces(start, end):
                data = os.pread(self.fd, count, pos)
                if len(data) != count:
                    raise UpstreamError("the spooled transfer vanished")
                yield data
        finally:
            self.readers -= 1

    async def spans(self, start: int = 0, end: int | None = None) -> AsyncIterator[FileSpan]:
        """The same bytes as ``read``, as spans of the spool file (sent without copies)."""
        self.readers += 1
        try:
            async for pos, count in self._pieces(start, end):
                yield FileSpan(self.fd, pos, count)
        finally:
            self.readers -= 1


def close_quietly(fd: int) -> None:
    with contextlib.suppress(OSError):
        os.close(fd)
