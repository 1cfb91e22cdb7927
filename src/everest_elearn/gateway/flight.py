"""Single-flight fetching: one upstream download per file, followed by every reader as it arrives."""

from __future__ import annotations

import asyncio
import collections
import contextlib
import hashlib
import logging
import os
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

from everest_elearn.errors import EverestError, UpstreamError
from everest_elearn.gateway.objectstore import CHUNK
from everest_elearn.gateway.upstream import UpstreamFile

log = logging.getLogger(__name__)

# Followers of a download read up to this much at a time (bounded memory per reader).
FOLLOW_CHUNK = 2 * CHUNK
RECENT = 16


class ChecksumMismatch(UpstreamError):
    """The bytes received do not match the checksum the catalogue gives."""


class Flight:
    """One download into a spool file. Readers attach at any time and read what has arrived;
    the file's last bytes are held back until the whole file is checked, so a reader of a file
    that turns out broken gets an error, never a complete-looking wrong file."""

    def __init__(self, key: str, spool: Path, checksum: str | None, size: int | None) -> None:
        self.key = key
        self.spool = spool
        self.checksum = checksum
        self.size = size
        self.upstream: UpstreamFile | None = None
        self.ready = asyncio.Event()
        self.written = 0
        self.complete = False
        self.done = False
        self.error: EverestError | None = None
        self.sha256: str | None = None
        self.readers = 0
        self.retired = False
        self._progress = asyncio.Event()
        # The latest chunks as received (offset -> bytes): followers in step with the download
        # share these objects instead of each reading the spool (bounded: RECENT chunks).
        self._recent: collections.OrderedDict[int, bytes] = collections.OrderedDict()
        self._wfd = os.open(spool, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        self._rfd: int | None = os.open(spool, os.O_RDONLY)

    def _notify(self) -> None:
        self._progress.set()
        self._progress = asyncio.Event()

    def _fail(self, error: EverestError) -> None:
        self.error = error
        self.done = True
        self.ready.set()
        self._notify()
        with contextlib.suppress(OSError):
            self.spool.unlink()

    async def run(self, opener: Callable[[], Awaitable[UpstreamFile]]) -> bool:
        """Download, verify; True when the spool holds the complete, verified file."""
        algorithm, _, expected = (self.checksum or "").partition(":")
        digests = {"sha256": hashlib.sha256()}
        if algorithm and algorithm not in digests:
            digests[algorithm] = hashlib.new(algorithm)

        def write(chunk: bytes) -> None:
            view = memoryview(chunk)
            while view:
                view = view[os.write(self._wfd, view) :]
            for digest in digests.values():
                digest.update(chunk)

        try:
            try:
                upstream = self.upstream = await opener()
                if upstream.size is not None:
                    if self.size is not None and upstream.size != self.size:
                        raise UpstreamError(
                            f"the provider's file has {upstream.size} bytes, "
                            f"the catalogue says {self.size}"
                        )
                    self.size = upstream.size
                self.ready.set()
                try:
                    async for chunk in upstream.chunks:
                        await asyncio.to_thread(write, chunk)
                        self._recent[self.written] = chunk
                        if len(self._recent) > RECENT:
                            self._recent.popitem(last=False)
                        self.written += len(chunk)
                        self._notify()
                finally:
                    await upstream.close()
                if self.size is not None and self.written != self.size:
                    raise UpstreamError(
                        f"the transfer was cut off after {self.written} of {self.size} bytes"
                    )
                await asyncio.to_thread(os.fsync, self._wfd)
                if expected and digests[algorithm].hexdigest().lower() != expected.lower():
                    raise ChecksumMismatch(
                        f"checksum mismatch: the provider's file is not the one catalogued "
                        f"({algorithm})"
                    )
            finally:
                os.close(self._wfd)
        except EverestError as exc:
            self._fail(exc)
            return False
        except asyncio.CancelledError:
            self._fail(UpstreamError("the gateway stopped during the transfer"))
            raise
        except Exception:
            log.exception("fetch of %s failed", self.key)
            self._fail(UpstreamError("the transfer failed"))
            return False
        self.sha256 = digests["sha256"].hexdigest()
        self.size = self.written
        self.complete = True
        self.done = True
        self._notify()
        return True

    async def started(self) -> None:
        """Wait until the upstream answered; raise its error if it failed before any byte."""
        await self.ready.wait()
        if self.error is not None and self.upstream is None:
            raise type(self.error)(str(self.error))

    async def read(self, start: int = 0, end: int | None = None) -> AsyncIterator[bytes]:
        """Bytes ``start``..``end`` (inclusive) as they arrive; raises if the download fails."""
        self.readers += 1
        try:
            pos = start
            while True:
                limit = end + 1 if end is not None else self.size
                if self.size is not None and (limit is None or limit > self.size):
                    limit = self.size
                if limit is not None and pos >= limit:
                    return
                if self.error is not None:
                    raise UpstreamError(str(self.error))
                available = self.written if limit is None else min(self.written, limit)
                if pos >= available:
                    if self.done:
                        return
                    await self._progress.wait()
                    continue
                count = min(available - pos, FOLLOW_CHUNK)
                if self.size is not None and pos + count >= self.size and not self.done:
                    # The last bytes wait for the checksum.
                    await self._progress.wait()
                    continue
                shared = self._recent.get(pos)
                if shared is not None and len(shared) <= available - pos:
                    data = shared
                else:
                    fd = self._rfd
                    if fd is None:
                        raise UpstreamError("the transfer is no longer readable")
                    # Inline, not in a thread: these bytes were just written and sit in the page
                    # cache, so the read is a memory copy; a thread hop per chunk for a hundred
                    # followers costs more than the copy itself.
                    data = os.pread(fd, count, pos)
                if not data:
                    raise UpstreamError("the spooled transfer vanished")
                pos += len(data)
                yield data
        finally:
            self.readers -= 1
            self._release()

    def retire(self) -> None:
        """No new readers will attach; close the spool when the last reader leaves."""
        self.retired = True
        self._release()

    def _release(self) -> None:
        if self.retired and self.readers == 0 and self._rfd is not None:
            os.close(self._rfd)
            self._rfd = None


class Fetcher:
    """The registry of flights in this process, keyed by object key."""

    def __init__(self, spool_dir: Path) -> None:
        self.spool_dir = spool_dir
        self.flights: dict[str, Flight] = {}
        self.tasks: set[asyncio.Task[None]] = set()

    def clear_spool(self) -> int:
        """Everything in the spool is an interrupted transfer (called before serving)."""
        self.spool_dir.mkdir(parents=True, exist_ok=True)
        removed = 0
        for leftover in self.spool_dir.iterdir():
            leftover.unlink(missing_ok=True)
            removed += 1
        return removed

    def join(self, key: str) -> Flight | None:
        return self.flights.get(key)

    def start(
        self,
        key: str,
        checksum: str | None,
        size: int | None,
        opener: Callable[[], Awaitable[UpstreamFile]],
        finish: Callable[[Flight, bool], Awaitable[None]],
    ) -> Flight:
        spool = self.spool_dir / f"{uuid.uuid4().hex}.part"
        flight = Flight(key, spool, checksum, size)
        self.flights[key] = flight

        async def fly() -> None:
            try:
                ok = await flight.run(opener)
                await finish(flight, ok)
            finally:
                if self.flights.get(key) is flight:
                    del self.flights[key]
                flight.retire()
                with contextlib.suppress(OSError):
                    flight.spool.unlink()

        task = asyncio.create_task(fly(), name=f"gateway-fetch:{key}")
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)
        return flight

    async def close(self) -> None:
        for task in list(self.tasks):
            task.cancel()
        for task in list(self.tasks):
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
