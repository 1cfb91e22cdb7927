"""What the gateway hands out: a byte stream with its metadata, or a redirect; and the product lookup."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Protocol

from everest_elearn.catalogue.model import Record
from everest_elearn.security.identity import Identity


class Strategy(StrEnum):
    """Where the bytes of a product's file come from."""

    REDIRECT = "redirect"  # the client goes to the provider
    PIPE = "pipe"  # streamed through, with the provider credentials the rule names
    CACHE = "cache"  # kept in the object store for a retention time, under a size budget
    MIRROR = "mirror"  # kept in the object store without time limit


class Origin(StrEnum):
    """How a delivered stream was produced (for headers, logs and statistics)."""

    HIT = "hit"  # complete in the object store
    MISS = "miss"  # fetched upstream now (or joined a fetch in flight), kept afterwards
    PIPE = "pipe"  # streamed from upstream, not kept
    FALLBACK = "fallback"  # object store unreachable: piped instead of cached


class ProductLookup(Protocol):
    """Finds a product visible to a caller; ``catalogue.service.Catalogue`` satisfies it."""

    async def get(self, identifier: str, identity: Identity) -> Record: ...


@dataclass(frozen=True)
class ByteRange:
    """An inclusive byte range as in HTTP ``Range: bytes=start-end``; ``end`` None = to the end."""

    start: int
    end: int | None = None


@dataclass(frozen=True)
class Redirect:
    """Send the client to the provider (strategy ``redirect``)."""

    url: str
    strategy: Strategy = Strategy.REDIRECT


@dataclass(frozen=True)
class FileSpan:
    """``count`` bytes at ``offset`` of the open file ``fd``: what a server can send without
    going through the ASGI body (``pread`` + ``write``, or ``os.sendfile``). The descriptor
    belongs to the stream."""

    fd: int
    offset: int
    count: int


@dataclass
class FileStream:
    """An open file of a product: metadata plus an async iterator of its bytes.

    Use it as an async context manager (or call ``aclose``) so upstream connections and file
    handles are released even when the consumer stops early. ``start``/``end`` (inclusive) give
    the part of the file the iterator yields; ``size`` is the whole file's length when known.
    If the upstream breaks off or the checksum does not match, iteration raises
    ``UpstreamError`` and nothing is kept.

    ``spans``, when not None, yields the same bytes as ``FileSpan``s of local files (a stored
    object, or a download's spool file as it grows): a consumer uses either ``chunks`` or
    ``spans``, never both.
    """

    name: str
    media_type: str
    size: int | None
    start: int
    end: int | None
    etag: str | None
    last_modified: datetime | None
    strategy: Strategy
    origin: Origin
    chunks: AsyncIterator[bytes]
    checksum: str | None = None
    _closers: list[Callable[[], Awaitable[None]]] = field(default_factory=list, repr=False)
    spans: AsyncIterator[FileSpan] | None = None
    # The name of the gateway rule that decided how the file is delivered (None: not known).
    rule: str | None = None

    @property
    def partial(self) -> bool:
        return self.start > 0 or (
            self.end is not None and self.size is not None and self.end < self.size - 1
        )

    @property
    def length(self) -> int | None:
        """Number of bytes the iterator yields, when known."""
        if self.end is not None:
            return self.end - self.start + 1
        if self.size is not None:
            return self.size - self.start
        return None

    def __aiter__(self) -> AsyncIterator[bytes]:
        return self.chunks

    async def aclose(self) -> None:
        closers, self._closers = self._closers, []
        for iterator in (self.chunks, self.spans):
            aclose = getattr(iterator, "aclose", None)
            if aclose is not None:
                await aclose()
        for closer in reversed(closers):
            await closer()

    async def __aenter__(self) -> FileStream:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()


@dataclass(frozen=True)
class FetchedFile:
    """A file written to a local path by ``Gateway.fetch_to``."""

    path: str
    size: int
    sha256: str
    media_type: str
    strategy: Strategy
    origin: Origin
