"""Builds from a warm gateway cache: hits of the local store are copied in one step, byte for byte,
with the gateway's checksums; ``verify_cached`` hashes them again and catches a file corrupted on
disk; an engine reached through its API only gets the same bytes streamed."""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from everest_elearn.catalogue.factory import create_store
from everest_elearn.catalogue.model import Kind, Link, Record
from everest_elearn.catalogue.service import Catalogue
from everest_elearn.errors import UpstreamError
from everest_elearn.gateway.factory import build_gateway
from everest_elearn.gateway.service import Gateway
from everest_elearn.packages.backends.directory import DirectoryVolumes
from everest_elearn.packages.backends.hostfiles import COPY_STEP
from everest_elearn.packages.manifest import MANIFEST_PATH
from everest_elearn.packages.service import PackageService
from everest_elearn.packages.volumes import Volumes
from everest_elearn.security.identity import Identity, Role
from everest_elearn.settings import Settings
from tests.fixtures.provider import Provider
from tests.packages.support import shut

ADMIN = Identity("admin", frozenset({Role.ADMIN}))
FILES = {"big.bin": os.urandom(COPY_STEP + 12_345), "small.bin": os.urandom(1000)}


@dataclass
class World:
    service: PackageService
    gateway: Gateway
    provider: Provider
    tmp: Path


async def _world(
    tmp: Path, provider: Provider, volumes: Volumes, **packages: Any
) -> AsyncIterator[World]:
    links = []
    for name, body in FILES.items():
        (provider.root / "P1").mkdir(exist_ok=True)
        (provider.root / "P1" / name).write_bytes(body)
        links.append(Link(href=f"{provider.url}/open/P1/{name}", length=len(body),
                          checksum=f"sha256:{hashlib.sha256(body).hexdigest()}"))  # fmt: skip
    (tmp / "rules.yaml").write_text(
        f"sources:\n  - name: p\n    url: {provider.url}/open/\n"
        "rules:\n  - name: cache\n    strategy: cache\n"
    )
    settings = Settings(data_dir=tmp / "data", catalogue={"load_samples": False},
                        gateway={"rules_file": tmp / "rules.yaml"}, packages=packages)  # fmt: skip
    store = create_store(settings)
    await store.open()
    catalogue = Catalogue(store)
    await catalogue.upsert([Record(identifier="C", kind=Kind.COLLECTION, title="c")], ADMIN)
    await catalogue.upsert(
        [Record(identifier="P1", parent_identifier="C", start=datetime(2024, 5, 1, tzinfo=UTC),
                properties={"platform": "bench"}, links=links)], ADMIN,
    )  # fmt: skip
    gateway = build_gateway(settings, {}, lookup=catalogue)
    await gateway.start()
    service = await PackageService.open(settings, catalogue, gateway, volumes=volumes)
    try:
        yield World(service, gateway, provider, tmp)
    finally:
        await shut(service, gateway.close, store.close)


@pytest.fixture
async def world(volumes: Volumes, tmp_path: Path, provider: Provider) -> AsyncIterator[World]:
    async for made in _world(tmp_path, provider, volumes):
        yield made


def spec(version: str) -> dict[str, Any]:
    return {"name": "warm", "version": version, "licence": "CC0", "max_size": "1 GB",
            "contents": [{"products": ["P1"]}]}  # fmt: skip


async def test_a_warm_build_copies_cache_hits_byte_for_byte(world: World) -> None:
    service = world.service
    first = await service.build(spec("1"), ADMIN)
    assert first.origins == {"miss": 2}
    served = world.gateway.stats.bytes_served
    second = await service.build(spec("2"), ADMIN)
    assert second.origins == {"hit": 2} and second.state == "ready"
    streamed = world.gateway.stats.bytes_served - served
    one_step = isinstance(service.volumes, DirectoryVolumes) or service.volumes.host_access  # type: ignore[attr-defined]
    # Copied from the store's file in one step: the gateway's stream was opened, never read.
    assert streamed == (0 if one_step else sum(map(len, FILES.values())))
    volume = second.volume
    for name, body in FILES.items():
        assert await service.volumes.read(volume, f"bench/C/2024-05-01/P1/{name}") == body
    manifest = json.loads(await service.volumes.read(volume, MANIFEST_PATH))
    assert {(f["strategy"], f["rule"]) for f in manifest["files"]} == {("cache", "cache")}
    assert {f["file_name"]: f["sha256"] for f in manifest["files"]} == {
        name: hashlib.sha256(body).hexdigest() for name, body in FILES.items()
    }
    status = await service.status("warm", "2", ADMIN)
    assert {f["done"] for f in status["progress"]["files"]} == set(map(len, FILES.values()))


async def test_verify_cached_catches_a_cache_file_corrupted_on_disk(
    tmp_path: Path, provider: Provider
) -> None:
    volumes = DirectoryVolumes(tmp_path / "volumes")
    async for world in _world(tmp_path, provider, volumes, verify_cached=True):
        await world.service.build(spec("1"), ADMIN)
        stored = tmp_path / "data" / "gateway" / "store" / "objects"
        big = next(p for p in stored.rglob("big.bin"))
        data = bytearray(await asyncio.to_thread(big.read_bytes))
        data[COPY_STEP + 7] ^= 0xFF  # same size: only hashing the bytes can tell
        stamp = big.stat()
        await asyncio.to_thread(big.write_bytes, bytes(data))
        # Bit rot keeps the file's times (a rewrite does not: the store then sees a changed
        # object and fetches it again), so put them back.
        os.utime(big, ns=(stamp.st_atime_ns, stamp.st_mtime_ns))
        with pytest.raises(UpstreamError, match=r"P1/big\.bin: checksum mismatch"):
            await world.service.build(spec("2"), ADMIN)
