"""A loopback HTTP provider, product records on it, and the real catalogue and gateway over it.

The provider is a real HTTP server (it can hold a file mid-body) and the bytes really travel over
loopback; ``real_parts`` serves its files to the packages service through the real gateway.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import TYPE_CHECKING, Any

from everest_elearn.catalogue.factory import create_store
from everest_elearn.catalogue.model import Kind, Link, Record
from everest_elearn.catalogue.service import Catalogue
from everest_elearn.gateway.factory import build_gateway
from everest_elearn.gateway.service import Gateway
from everest_elearn.security.identity import Identity, Role
from everest_elearn.settings import Settings

if TYPE_CHECKING:
    from everest_elearn.packages.service import PackageService

CURATOR = Identity("curator", frozenset({Role.ADMIN}))


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


def collection(identifier: str = "S1_GRD") -> Record:
    """The collection ``product`` records belong to (the catalogue stores products under one)."""
    return Record(
        identifier=identifier,
        kind=Kind.COLLECTION,
        title="Sentinel-1 GRD (test)",
        properties={"platform": "sentinel-1a", "productType": "GRD"},
    )


@asynccontextmanager
async def real_parts(
    work: Path, provider: Provider, records: Sequence[Record] = ()
) -> AsyncIterator[tuple[Catalogue, Gateway]]:
    """The real catalogue holding ``records`` and the real gateway piping all of ``provider``
    (data under ``work/data``, as the packages service beside them keeps).

    A ``pipe`` rule streams every enclosure straight from the provider, checksum verified, with
    no cache; both are closed on exit.
    """
    rules = work / "rules.yaml"
    rules.write_text(
        f"sources:\n  - name: provider\n    url: {provider.url}\n"
        "rules:\n  - name: pipe everything\n    strategy: pipe\n"
    )
    config = Settings(
        data_dir=work / "data", catalogue={"load_samples": False}, gateway={"rules_file": rules}
    )
    store = create_store(config)
    await store.open()
    catalogue = Catalogue(store)
    await catalogue.upsert([r for r in records if r.kind is Kind.COLLECTION], CURATOR)
    await catalogue.upsert([r for r in records if r.kind is not Kind.COLLECTION], CURATOR)
    gateway = build_gateway(config, {}, lookup=catalogue)
    await gateway.start()
    try:
        yield catalogue, gateway
    finally:
        await gateway.close()
        await store.close()


async def shut(service: PackageService, *closers: Callable[[], Awaitable[object]]) -> None:
    """Delete every build of ``service`` (volumes and ODC entries), close it, then ``closers``."""
    for build in await service.state.builds():
        await service._delete(build.name, build.version)
    await service.close()
    for close in closers:
        await close()
