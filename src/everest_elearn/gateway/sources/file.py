"""Local file sources (``file:///...``): reads confined to the source's folder."""

from __future__ import annotations

import asyncio
import mimetypes
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import unquote, urlsplit

from everest_elearn.errors import UpstreamError
from everest_elearn.gateway.delivery import ByteRange
from everest_elearn.gateway.objectstore import CHUNK
from everest_elearn.gateway.rules import Source
from everest_elearn.gateway.upstream import UpstreamFile


class FileReader:
    """Opens files under a ``file:///`` source; symlinks may not lead out of it."""

    async def open(self, source: Source, href: str, byte_range: ByteRange | None) -> UpstreamFile:
        root, path = await asyncio.to_thread(
            lambda: (
                Path(unquote(urlsplit(source.url).path)).resolve(),
                Path(unquote(urlsplit(href).path)).resolve(),
            )
        )
        if path != root and root not in path.parents:
            raise UpstreamError(f"source '{source.name}' does not contain this file")
        try:
            handle = await asyncio.to_thread(open, path, "rb")
        except OSError:
            raise UpstreamError(f"source '{source.name}' has no such file") from None
        st = await asyncio.to_thread(lambda: path.stat())
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
