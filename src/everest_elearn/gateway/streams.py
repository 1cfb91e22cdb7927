"""Byte streams as the gateway hands them out: counted into the statistics, verified when piped."""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
from collections.abc import AsyncIterator, Awaitable, Callable

from everest_elearn.errors import EverestError, UpstreamError
from everest_elearn.gateway.delivery import FileSpan
from everest_elearn.gateway.flight import ChecksumMismatch
from everest_elearn.gateway.stats import Stats

log = logging.getLogger(__name__)


async def nothing() -> AsyncIterator[bytes]:
    return
    yield b""  # an async generator that yields nothing


async def whole(fd: int, start: int, end: int) -> AsyncIterator[FileSpan]:
    yield FileSpan(fd, start, end - start + 1)


def closer(fd: int) -> Callable[[], Awaitable[None]]:
    async def close() -> None:
        with contextlib.suppress(OSError):
            os.close(fd)

    return close


async def _aclose(iterator: object) -> None:
    aclose = getattr(iterator, "aclose", None)
    if aclose is not None:
        await aclose()


async def counted(
    stats: Stats, chunks: AsyncIterator[bytes], fetched: bool = False
) -> AsyncIterator[bytes]:
    """``chunks``, counted as served (and as fetched, for bytes straight from a provider)."""
    try:
        async for chunk in chunks:
            stats.bytes_served += len(chunk)
            if fetched:
                stats.bytes_fetched += len(chunk)
            yield chunk
    finally:
        await _aclose(chunks)


async def counted_spans(stats: Stats, spans: AsyncIterator[FileSpan]) -> AsyncIterator[FileSpan]:
    try:
        async for span in spans:
            stats.bytes_served += span.count
            yield span
    finally:
        await _aclose(spans)


async def verified(
    stats: Stats, chunks: AsyncIterator[bytes], checksum: str | None, length: int | None
) -> AsyncIterator[bytes]:
    """Pass bytes on one chunk behind, so a wrong checksum stops the stream before its end."""
    algorithm, _, expected = (checksum or "").partition(":")
    digest = hashlib.new(algorithm) if expected else None
    held: bytes | None = None
    total = 0
    try:
        async for chunk in chunks:
            if digest is not None:
                digest.update(chunk)
            total += len(chunk)
            if held is not None:
                yield held
            held = chunk
    except EverestError:
        # The provider broke off (or stalled) mid-body: as much an upstream error as a failed
        # open, which the pipe counts itself; counted here once, the error goes on as it was.
        stats.upstream_errors += 1
        raise
    if length is not None and total != length:
        stats.upstream_errors += 1
        raise UpstreamError(f"the transfer was cut off after {total} of {length} bytes")
    if digest is not None and digest.hexdigest().lower() != expected.lower():
        stats.checksum_failures += 1
        log.warning("gateway: checksum mismatch while piping a file")
        raise ChecksumMismatch("checksum mismatch: the provider's file is not the one catalogued")
    if held is not None:
        yield held
