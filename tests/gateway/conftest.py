"""Gateway test helpers: provider files, product records, a lookup, and a gateway on a temp store."""

from __future__ import annotations

import hashlib
import os
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest

from everest_elearn.catalogue.model import Link, Record
from everest_elearn.errors import NotFound
from everest_elearn.gateway.factory import build_gateway
from everest_elearn.gateway.objectstore import ObjectStore
from everest_elearn.gateway.service import Gateway
from everest_elearn.security.identity import Identity
from everest_elearn.settings import GatewaySettings, Settings
from tests.fixtures.provider import SECRETS, Provider

COLLECTION = "S2_MSI_L2A"


def write_file(root: Path, name: str, size: int, seed: int = 1) -> str:
    """Deterministic pseudo-random content; returns its sha256."""
    path = root / name
    path.parent.mkdir(parents=True, exist_ok=True)
    block = hashlib.sha256(f"{seed}".encode()).digest() * 4096  # 128 KiB pattern
    with path.open("wb") as handle:
        left = size
        counter = 0
        while left > 0:
            piece = (counter.to_bytes(8, "big") + block)[: min(len(block) + 8, left)]
            handle.write(piece)
            left -= len(piece)
            counter += 1
    return hashlib.sha256(path.read_bytes()).hexdigest()


def product(
    href: str,
    identifier: str = "S2A_20240601_T31TCJ",
    checksum: str | None = None,
    length: int | None = None,
    media_type: str | None = "image/tiff",
    **properties: object,
) -> Record:
    props: dict[str, object] = {"platform": "sentinel-2a", "productType": "S2MSI2A"}
    props.update(properties)
    return Record(
        identifier=identifier,
        parent_identifier=COLLECTION,
        start=datetime(2024, 6, 1, tzinfo=UTC),
        properties=props,
        links=[Link(href=href, type=media_type, length=length, checksum=checksum)],
    )


class Lookup:
    """The catalogue's ``get`` over a fixed set of records (the ProductLookup interface)."""

    def __init__(self, *records: Record) -> None:
        self.records = {r.identifier: r for r in records}

    def add(self, record: Record) -> Record:
        self.records[record.identifier] = record
        return record

    async def get(self, identifier: str, identity: Identity) -> Record:
        if identifier not in self.records:
            raise NotFound("record", identifier)
        return self.records[identifier]


def sources_yaml(provider_url: str) -> str:
    return f"""
sources:
  - name: provider
    url: {provider_url}/open/
  - name: slow
    url: {provider_url}/slow/
  - name: cutoff
    url: {provider_url}/cutoff/
  - name: failing
    url: {provider_url}/fail/
  - name: redirecting
    url: {provider_url}/redirect/
  - name: basic
    url: {provider_url}/basic/
    auth: basic
    credential: PROVIDER_BASIC
  - name: bearer
    url: {provider_url}/bearer/
    auth: bearer
    credential: PROVIDER_TOKEN
  - name: cookie
    url: {provider_url}/cookie/
    auth: cookie
    credential: PROVIDER_COOKIE
"""


ENVIRON = {
    "PROVIDER_BASIC": SECRETS["basic"],
    "PROVIDER_TOKEN": SECRETS["bearer"],
    "PROVIDER_COOKIE": SECRETS["cookie"],
}

GatewayMaker = Callable[..., Awaitable[Gateway]]


@pytest.fixture
async def make_gateway(tmp_path: Path, provider: Provider) -> AsyncIterator[GatewayMaker]:
    """Build gateways whose rules are ``sources_yaml`` plus the given text."""
    made: list[Gateway] = []

    async def make(
        rules: str, store: ObjectStore | None = None, lookup: Lookup | None = None
    ) -> Gateway:
        rules_file = tmp_path / f"rules-{len(made)}.yaml"
        rules_file.write_text(sources_yaml(provider.url) + rules)
        settings = Settings(
            data_dir=tmp_path / "data",
            gateway=GatewaySettings(rules_file=rules_file),
        )
        gateway = build_gateway(settings, ENVIRON, lookup=lookup, store=store)
        assert gateway.rules.error is None, gateway.rules.error
        await gateway.start()
        made.append(gateway)
        return gateway

    yield make
    for gateway in made:
        await gateway.close()


async def read_all(stream: AsyncIterator[bytes]) -> bytes:
    return b"".join([chunk async for chunk in stream])


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def files_under(path: Path) -> list[str]:
    return (
        sorted(str(p.relative_to(path)) for p in path.rglob("*") if p.is_file())
        if path.exists()
        else []
    )


__all__ = ["COLLECTION", "ENVIRON", "Lookup", "os", "product", "read_all", "sha", "write_file"]
