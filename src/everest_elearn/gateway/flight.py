"""Single-flight fetching: one upstream download per file, followed by every reader as it arrives."""

from __future__ import annotations

import asyncio
import collections
import contextlib
import hashlib
import logging
import os
import weakref
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import datetime
from pathlib import Path

from everest_elearn.errors import EverestError, UpstreamError
from everest_elearn.gateway.delivery import FileSpan
from everest_elearn.gateway.follow import RemoteFlight, close_quietly
from everest_elearn.gateway.lease import Lease, Leases
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

    def __init__(self, lease: Lease, checksum: str | None, size: int | None) -> None:
        self.key = lease.key
        self.lease = lease
        self.spool = spool = lease.part
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
        self._rfd = os.open(spool, os.O_RDONLY)
        # Closed when the last holder lets go of this flight: a request that joined it may
        # start reading only after the download ended (and the file moved into the store).
        weakref.finalize(self, close_quietly, self._rfd)

    def _notify(self) -> None:
        self._progress.set()
        self._progress = asyncio.Event()

    @property
    def media_type(self) -> str | None:
        return self.upstream.media_type if self.upstream else None

    @property
    def last_modified(self) -> datetime | None:
        return self.upstream.last_modified if self.upstream else None

    def _fail(self, error: EverestError) -> None:
        self.error = error
        self.done = True
        self.ready.set()
        self._notify()
        with contextlib.suppress(OSError):
            self.spool.unlink()
        with contextlib.suppress(OSError):
            self.lease.write_state("failed", error=str(error))

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
                self.lease.write_state(
                    "streaming",
                    size=self.size,
                    media_type=upstream.media_type,
                    etag=upstream.etag,
                    last_modified=(
                        upstream.last_modified.isoformat() if upstream.last_modified else None
                    ),
                )
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
                if expected and digests[algorithm].hexdigest().lower() != expected.lower():
                    raise ChecksumMismatch(
                        f"checksum mismatch: the provider's file is not the one catalogued "
                        f"({algorithm})"
                    )
                # Readers get the last bytes as soon as the checksum holds; the disk flush is
                # for the store (promotion follows it) and need not hold them up.
                self.sha256 = digests["sha256"].hexdigest()
                self.size = self.written
                self.lease.write_state("verified", size=self.size, sha256=self.sha256)
                self.complete = True
                self.done = True
                self._notify()
                await asyncio.to_thread(os.fsync, self._wfd)
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
        return True

    async def started(self) -> None:
        """Wait until the upstream answered; raise its error if it failed before any byte."""
        await self.ready.wait()
        if self.error is not None and self.upstream is None:
            raise type(self.error)(str(self.error))

    async def _pieces(self, start: int, end: int | None) -> AsyncIterator[tuple[int, int]]:
        """(offset, count) of bytes ``start``..``end`` that have arrived, as they arrive."""
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
            yield pos, count
            pos += count

    def _fd(self) -> int:
        return self._rfd

    async def read(self, start: int = 0, end: int | None = None) -> AsyncIterator[bytes]:
        """Bytes ``start``..``end`` (inclusive) as they arrive; raises if the download fails."""
        self.readers += 1
        try:
            async for pos, count in self._pieces(start, end):
                shared = self._recent.get(pos)
                if shared is not None and len(shared) <= count:
                    data = shared
                else:
                    # Inline, not in a thread: these bytes were just written and sit in the page
                    # cache, so the read is a memory copy; a thread hop per chunk for a hundred
                    # followers costs more than the copy itself.
                    data = os.pread(self._fd(), count, pos)
                if not data:
                    raise UpstreamError("the spooled transfer vanished")
                yield data
                # _pieces advanced by count; a shorter shared chunk is followed by the rest.
                if len(data) < count:
                    rest = os.pread(self._fd(), count - len(data), pos + len(data))
                    if len(rest) != count - len(data):
                        raise UpstreamError("the spooled transfer vanished")
                    yield rest
        finally:
            self.readers -= 1

    async def spans(self, start: int = 0, end: int | None = None) -> AsyncIterator[FileSpan]:
        """The same bytes as ``read``, as spans of the spool file (sent without copies)."""
        self.readers += 1
        try:
            async for pos, count in self._pieces(start, end):
                yield FileSpan(self._fd(), pos, count)
        finally:
            self.readers -= 1

    def retire(self) -> None:
        """No new readers will attach (the spool descriptor closes with the last holder)."""
        self.retired = True


class Fetcher:
    """Downloads of this process, and the host-wide leases that keep them single."""

    def __init__(self, spool_dir: Path) -> None:
        self.spool_dir = spool_dir
        self.leases = Leases(spool_dir)
        self.flights: dict[str, Flight] = {}
        self.followed: dict[str, RemoteFlight] = {}
        self.tasks: set[asyncio.Task[None]] = set()

    def clear_spool(self) -> int:
        """Remove interrupted transfers; another worker's download in progress stays."""
        return self.leases.clear()

    def join(
        self, key: str, landed: Callable[[], Awaitable[int | None]]
    ) -> Flight | RemoteFlight | None:
        """The download of ``key`` in progress in this process or another one of this host.

        ``landed`` returns the stored object's size (None if absent): a followed download that
        ended without a state to read succeeded exactly when the object is in the store.
        """
        local = self.flights.get(key)
        if local is not None:
            return local
        for name in [k for k, f in self.followed.items() if f.done]:
            del self.followed[name]  # its descriptor closes when its last reader lets go
        followed = self.followed.get(key)
        if followed is not None and not followed.done:
            return followed
        if not self.leases.held(key):
            return None
        remote = RemoteFlight.attach(key, self.leases, landed)
        if remote is not None:
            self.followed[key] = remote
        return remote

    def claim(self, key: str) -> Lease | None:
        return self.leases.claim(key)

    def start(
        self,
        lease: Lease,
        checksum: str | None,
        size: int | None,
        opener: Callable[[], Awaitable[UpstreamFile]],
        finish: Callable[[Flight, bool], Awaitable[None]],
    ) -> Flight:
        key = lease.key
        flight = Flight(lease, checksum, size)
        self.flights[key] = flight

        async def fly() -> None:
            try:
                ok = await flight.run(opener)
                await finish(flight, ok)
            finally:
                if self.flights.get(key) is flight:
                    del self.flights[key]
                flight.retire()
                lease.release()

        task = asyncio.create_task(fly(), name=f"gateway-fetch:{key}")
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)
        return flight

    async def settled(self, key: str, landed: Callable[[], Awaitable[int | None]]) -> None:
        """Wait until no process of this host is downloading ``key`` any more."""
        for task in [t for t in self.tasks if t.get_name() == f"gateway-fetch:{key}"]:
            await asyncio.shield(task)
        # Another process's download: nothing to await across processes, so look now and then.
        for _ in range(36000):
            if not self.leases.held(key) or await landed() is not None:
                return
            await asyncio.sleep(0.05)

    async def close(self) -> None:
        for task in list(self.tasks):
            task.cancel()
        for task in list(self.tasks):
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self.followed.clear()
