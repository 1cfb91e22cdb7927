"""A loopback HTTP provider, and catalogue/gateway stand-ins that implement the packages' protocols.

The stand-ins exist because the catalogue service and the gateway service are built in parallel;
the provider is a real HTTP server and the bytes really travel over loopback.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any

import httpx

from everest_elearn.catalogue.model import Kind, Link, Record
from everest_elearn.catalogue.query import Query
from everest_elearn.catalogue.store import SearchResult
from everest_elearn.errors import NotFound, UpstreamError
from everest_elearn.gateway.delivery import FileStream, Origin, Strategy
from everest_elearn.security.identity import Identity

if TYPE_CHECKING:
    from everest_elearn.packages.service import PackageService


class Provider:
    """Serves ``files`` (path -> bytes) on 127.0.0.1; counts requests; can hold a path."""

    def __init__(self) -> None:
        self.files: dict[str, bytes] = {}
        self.hits: dict[str, int] = {}
        self.hold: dict[str, threading.Event] = {}
        provider = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                path = self.path.lstrip("/")
                provider.hits[path] = provider.hits.get(path, 0) + 1
                body = provider.files.get(path)
                if body is None:
                    self.send_error(404)
                    return
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.send_header("Content-Type", "image/tiff")
                self.end_headers()
                half = len(body) // 2
                self.wfile.write(body[:half])
                self.wfile.flush()
                gate = provider.hold.get(path)
                if gate is not None:
                    gate.wait(30)
                self.wfile.write(body[half:])

            def log_message(self, *args: Any) -> None:
                return None

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def __enter__(self) -> Provider:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        for gate in self.hold.values():
            gate.set()
        self.server.shutdown()
        self.server.server_close()

    def total_hits(self) -> int:
        return sum(self.hits.values())


def product(
    provider: Provider,
    identifier: str,
    files: dict[str, bytes],
    day: int = 17,
    corrupt: bool = False,
) -> Record:
    """A product record whose enclosures point at ``provider``; ``corrupt`` lies about checksums."""
    links = []
    for name, body in files.items():
        provider.files[f"{identifier}/{name}"] = body
        digest = hashlib.sha256(body if not corrupt else body + b"x").hexdigest()
        links.append(
            Link(
                href=f"{provider.url}/{identifier}/{name}",
                rel="enclosure",
                type="image/tiff",
                length=len(body),
                checksum=f"sha256:{digest}",
            )
        )
    return Record(
        identifier=identifier,
        kind=Kind.PRODUCT,
        parent_identifier="S1_GRD",
        start=datetime(2019, 9, day, 6, 0, tzinfo=UTC),
        end=datetime(2019, 9, day, 6, 1, tzinfo=UTC),
        properties={"platform": "sentinel-1a", "productType": "GRD"},
        links=links,
    )


class Catalogue:
    """Records by identifier; ``search`` honours ``parent`` and paging (enough for saved queries)."""

    def __init__(self, records: list[Record]) -> None:
        self.records = {r.identifier: r for r in records}

    async def get(self, identifier: str, identity: Identity) -> Record:
        if identifier not in self.records:
            raise NotFound("record", identifier)
        return self.records[identifier]

    async def search(self, query: Query, identity: Identity) -> SearchResult:
        found = [r for r in self.records.values() if query.parent in (None, r.parent_identifier)]
        return SearchResult(found[query.offset : query.offset + query.limit], len(found))


class Gateway:
    """Streams the enclosure over HTTP like the gateway's ``pipe`` strategy."""

    def __init__(self) -> None:
        self.client = httpx.AsyncClient(timeout=60)
        self.opened: list[str] = []

    async def open(self, product: Record, file_name: str, identity: Identity) -> FileStream:
        link = next((x for x in product.data_links if x.href.endswith("/" + file_name)), None)
        if link is None:
            raise NotFound("file", f"{product.identifier}/{file_name}")
        self.opened.append(f"{product.identifier}/{file_name}")
        request = self.client.build_request("GET", link.href)
        response = await self.client.send(request, stream=True)
        if response.status_code != 200:
            await response.aclose()
            raise UpstreamError(f"provider answered {response.status_code}")

        async def chunks() -> AsyncIterator[bytes]:
            async for chunk in response.aiter_bytes(1 << 20):
                yield chunk

        size = int(response.headers["content-length"])
        stream = FileStream(
            name=file_name,
            media_type=response.headers.get("content-type", "application/octet-stream"),
            size=size,
            start=0,
            end=None,
            etag=None,
            last_modified=None,
            strategy=Strategy.PIPE,
            origin=Origin.PIPE,
            chunks=chunks(),
        )
        stream._closers.append(response.aclose)
        return stream

    async def aclose(self) -> None:
        await self.client.aclose()


async def shut(service: PackageService, *closers: Callable[[], Awaitable[object]]) -> None:
    """Delete every build of ``service`` (volumes and ODC entries), close it, then ``closers``."""
    for build in await service.state.builds():
        await service._delete(build.name, build.version)
    await service.close()
    for close in closers:
        await close()
