"""The upstream interface: open a file at a source the rules name, optionally a byte range."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from email.utils import parsedate_to_datetime
from typing import Protocol

from everest_elearn.gateway.delivery import ByteRange
from everest_elearn.gateway.rules import Source


async def _nothing() -> None:
    return None


@dataclass
class UpstreamFile:
    """An open upstream file (or part): ``start``..``end`` inclusive of ``size`` bytes in all."""

    chunks: AsyncIterator[bytes]
    size: int | None
    start: int = 0
    end: int | None = None
    media_type: str | None = None
    etag: str | None = None
    last_modified: datetime | None = None
    close: Callable[[], Awaitable[None]] = field(default=_nothing)


class SourceReader(Protocol):
    """One kind of source (http(s), s3, file); raises ``UpstreamError``/``Timeout`` on failure."""

    async def open(
        self, source: Source, href: str, byte_range: ByteRange | None
    ) -> UpstreamFile: ...

    async def close(self) -> None: ...


class Upstream:
    """Dispatches to the reader for the source's scheme."""

    def __init__(self, readers: dict[str, SourceReader]) -> None:
        self.readers = readers

    async def open(
        self, source: Source, href: str, byte_range: ByteRange | None = None
    ) -> UpstreamFile:
        scheme = "http" if source.scheme in ("http", "https") else source.scheme
        return await self.readers[scheme].open(source, href, byte_range)

    async def close(self) -> None:
        for reader in self.readers.values():
            await reader.close()


def http_date(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        return parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
