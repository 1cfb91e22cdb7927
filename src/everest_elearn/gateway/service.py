"""The gateway service: the one entry point for the API, the CLI and the packages builder."""

from __future__ import annotations

from pathlib import Path

from everest_elearn.catalogue.model import Record
from everest_elearn.gateway.delivery import ByteRange, FetchedFile, FileStream, Redirect
from everest_elearn.security.identity import Identity


class Gateway:
    """Applies the rules and policies to a product's file and delivers its bytes.

    Programmatic interface (used by the packages builder):

    - ``await gateway.open(product, file_name, identity, byte_range=None) -> FileStream``:
      an async byte stream plus metadata (size, media type, ETag, Last-Modified, strategy,
      origin). Never a redirect: for a ``redirect`` rule the gateway fetches from the source
      itself. Use ``async with await gateway.open(...) as stream: async for chunk in stream``.
    - ``await gateway.fetch_to(product, file_name, dest, identity) -> FetchedFile``: writes the
      file to ``dest`` (temporary name, checksum verified, then renamed) through the rules,
      cache and mirror.
    - ``await gateway.serve(...) -> Redirect | FileStream``: what the HTTP endpoint uses.

    ``file_name`` is the last path segment of one of the product's enclosure links.
    Errors: ``NotFound`` (no such file), ``Forbidden`` (no policy grants it), ``UpstreamError``
    (provider failed, checksum mismatch), ``BackendUnavailable`` (object store down and the
    rules allow no fallback).
    """

    async def serve(
        self,
        product: Record,
        file_name: str,
        identity: Identity,
        byte_range: ByteRange | None = None,
    ) -> Redirect | FileStream:
        raise NotImplementedError

    async def open(
        self,
        product: Record,
        file_name: str,
        identity: Identity,
        byte_range: ByteRange | None = None,
    ) -> FileStream:
        raise NotImplementedError

    async def fetch_to(
        self, product: Record, file_name: str, dest: Path, identity: Identity
    ) -> FetchedFile:
        raise NotImplementedError
