"""A small realistic catalogue, stored through the Catalogue service, served in-process and on loopback.

Two open series (Sentinel-1 GRD, Sentinel-2 L2A) and one restricted to the group ``team-a``.
``RECORDS`` is the truth tests compute expected answers from.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from osmem_server import OsmemServer

from everest_elearn.api import create_app
from everest_elearn.catalogue.factory import create_store
from everest_elearn.catalogue.model import Kind, Link, Record
from everest_elearn.catalogue.service import Catalogue
from everest_elearn.security.identity import ChainResolver, Identity, Role
from everest_elearn.settings import Settings
from tests.fixtures.osmem import engine_settings
from tests.fixtures.provider import free_port

ADMIN = Identity("admin", frozenset({Role.ADMIN}))
MEMBER_TOKEN = "member-of-team-a"
ADMIN_TOKEN = "admin-token-for-tests"


def _box(west: float, south: float, east: float, north: float) -> dict[str, Any]:
    ring = [[west, south], [east, south], [east, north], [west, north], [west, south]]
    return {"type": "Polygon", "coordinates": [ring]}


def _collection(identifier: str, **kw: Any) -> Record:
    return Record(identifier=identifier, kind=Kind.COLLECTION, **kw)


def build_records() -> list[Record]:
    s1 = _collection(
        "S1_GRD",
        title="Sentinel-1 IW GRD",
        abstract="Sentinel-1 C-band SAR Level-1 Ground Range Detected scenes over Spain",
        keywords=["radar", "flood"],
        geometry=_box(-10, 35, 5, 45),
        start=datetime(2021, 1, 1, tzinfo=UTC),
        end=datetime(2021, 12, 31, tzinfo=UTC),
        properties={
            "platform": "SENTINEL-1",
            "instrument": "SAR-C",
            "sensorType": "RADAR",
            "productType": "GRD",
            "processingLevel": "L1",
        },
    )
    s2 = _collection(
        "S2_L2A",
        title="Sentinel-2 MSI Level-2A",
        abstract="Sentinel-2 bottom-of-atmosphere reflectance over Spain",
        keywords=["optical", "land"],
        geometry=_box(-10, 35, 5, 45),
        start=datetime(2021, 6, 1, tzinfo=UTC),
        end=datetime(2021, 8, 31, tzinfo=UTC),
        properties={
            "platform": "SENTINEL-2",
            "instrument": "MSI",
            "sensorType": "OPTICAL",
            "productType": "S2MSI2A",
            "processingLevel": "L2A",
        },
    )
    secret = _collection(
        "TEAM_A_PRIVATE",
        title="Private commercial scenes",
        abstract="Restricted optical scenes",
        restricted_to=["team-a"],
        properties={"platform": "PLEIADES", "productType": "ORTHO"},
    )
    records = [s1, s2, secret]
    base = datetime(2021, 6, 1, 10, 30, tzinfo=UTC)
    for i in range(23):  # a page size of 5 leaves a short last page
        start = base + timedelta(days=3 * i)
        west = -9 + (i % 6) * 2.0
        south = 36 + (i % 4) * 1.5
        records.append(
            Record(
                identifier=f"S2{'AB'[i % 2]}_MSIL2A_{start:%Y%m%d}_T{i:02d}",
                parent_identifier="S2_L2A",
                title=f"Sentinel-2{'AB'[i % 2]} L2A tile {i:02d}",
                keywords=["optical", "Rhone delta" if i == 4 else "iberia"],
                geometry=_box(west, south, west + 1.1, south + 1.0),
                start=start,
                end=start + timedelta(seconds=5),
                properties={
                    "platform": "SENTINEL-2",
                    "platformSerialIdentifier": f"2{'AB'[i % 2]}",
                    "instrument": "MSI",
                    "productType": "S2MSI2A",
                    "processingLevel": "L2A",
                    "cloudCover": float(i * 5) if i < 21 else 100.0 - (22 - i) * 0.5,
                    "orbitNumber": 31000 + i * 10,
                    "orbitDirection": "DESCENDING",
                    "processingDate": (start + timedelta(days=1)).isoformat(),
                },
                links=[
                    Link(
                        href=f"https://data.example.org/s2/{i}.zip",
                        type="application/zip",
                        length=800_000_000 + i,
                    ),
                    Link(
                        href=f"https://data.example.org/s2/{i}.jpg", rel="icon", type="image/jpeg"
                    ),
                    Link(
                        href=f"https://data.example.org/s2/{i}.xml",
                        rel="via",
                        type="application/xml",
                    ),
                ],
            )
        )
    for i in range(14):
        start = datetime(2021, 3, 1, 6, 0, tzinfo=UTC) + timedelta(days=6 * i)
        geometry = _box(-7 + (i % 5) * 2.0, 37 + (i % 3), -5 + (i % 5) * 2.0, 39 + (i % 3))
        if i == 13:  # a footprint in two parts
            geometry = {
                "type": "MultiPolygon",
                "coordinates": [
                    _box(-3, 40, -2, 41)["coordinates"],
                    _box(1, 40, 2, 41)["coordinates"],
                ],
            }
        records.append(
            Record(
                identifier=f"S1A_IW_GRDH_{start:%Y%m%dT%H%M%S}_{i:03d}",
                parent_identifier="S1_GRD",
                title=f"Sentinel-1A IW GRDH {start:%Y-%m-%d}",
                keywords=["radar", "flood" if i % 3 == 0 else "soil moisture"],
                geometry=geometry,
                start=start,
                end=start + timedelta(seconds=25),
                properties={
                    "platform": "SENTINEL-1",
                    "platformSerialIdentifier": "1A",
                    "instrument": "SAR-C",
                    "productType": "GRD",
                    "sensorMode": "IW",
                    "polarisationChannels": "VV, VH",
                    "orbitDirection": "ASCENDING" if i % 2 else "DESCENDING",
                    "track": 110 if i % 2 else 8,
                    "orbitNumber": 36000 + i * 100,
                },
                links=[
                    Link(
                        href=f"https://data.example.org/s1/{i}.zip",
                        type="application/zip",
                        length=1_600_000_000,
                    )
                ],
            )
        )
    for i in range(3):
        records.append(
            Record(
                identifier=f"PHR_PRIVATE_{i}",
                parent_identifier="TEAM_A_PRIVATE",
                title="Private scene",
                geometry=_box(-4, 40, -3, 41),
                start=datetime(2021, 7, 1, tzinfo=UTC) + timedelta(days=i),
                properties={"platform": "PLEIADES", "productType": "ORTHO", "cloudCover": 1.0},
            )
        )
    return records


RECORDS = build_records()


def products(parent: str) -> list[Record]:
    return [r for r in RECORDS if r.parent_identifier == parent]


class MemberResolver:
    """Resolves one token to a member of ``team-a`` (the hub plugs in the real resolver)."""

    async def resolve(self, token: str) -> Identity | None:
        if token == MEMBER_TOKEN:
            return Identity("alice", frozenset({Role.PARTICIPANT}), frozenset({"team-a"}))
        return None


def _fill(settings: Settings) -> None:
    async def run() -> None:
        store = create_store(settings)
        await store.open()
        try:
            await Catalogue(store).upsert(RECORDS, ADMIN)
        finally:
            await store.close()

    asyncio.run(run())


@pytest.fixture(scope="session")
def catalogue_settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    data = tmp_path_factory.mktemp("opensearch") / "data"
    data.mkdir()
    settings = Settings(
        data_dir=data,
        catalogue={"load_samples": False, "max_count": 50},  # type: ignore[arg-type]
        security={"admin_token": ADMIN_TOKEN},  # type: ignore[arg-type]
        api={"max_uri_length": 4096},  # type: ignore[arg-type]
    )
    _fill(settings)
    return settings


@pytest.fixture(scope="session")
def es_catalogue_settings(tmp_path_factory: pytest.TempPathFactory, osmem: OsmemServer) -> Settings:
    """The same records on the search-engine backend (osmem-server, OpenSearch flavour)."""
    catalogue = engine_settings(osmem.url, "auto", load_samples=False, max_count=50)
    settings = Settings(
        data_dir=tmp_path_factory.mktemp("opensearch-es"),
        catalogue=catalogue,
        security={"admin_token": ADMIN_TOKEN},  # type: ignore[arg-type]
        api={"max_uri_length": 4096},  # type: ignore[arg-type]
    )
    _fill(settings)
    return settings


@pytest.fixture(params=["sqlite", "elasticsearch"])
def backend_settings(request: pytest.FixtureRequest) -> Settings:
    """Settings of a filled catalogue, once per backend."""
    name = "catalogue_settings" if request.param == "sqlite" else "es_catalogue_settings"
    settings: Settings = request.getfixturevalue(name)
    return settings


@pytest.fixture
async def app(backend_settings: Settings) -> AsyncIterator[FastAPI]:
    """The app in-process with its lifespan run, and a resolver for a member of team-a."""
    application = create_app(backend_settings)
    resolver: ChainResolver = application.state.identity_resolver
    resolver.resolvers.append(MemberResolver())
    async with application.router.lifespan_context(application):
        yield application


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        yield http


@pytest.fixture(scope="session")
def server(catalogue_settings: Settings) -> Iterator[str]:
    """The agency on a loopback uvicorn server over the same catalogue file; yields its base URL."""
    port = free_port()
    env = {
        **os.environ,
        "EVEREST_DATA_DIR": str(catalogue_settings.data_dir),
        "EVEREST_CATALOGUE__LOAD_SAMPLES": "false",
        "EVEREST_CATALOGUE__MAX_COUNT": "50",
        "EVEREST_API__MAX_URI_LENGTH": "4096",
    }
    env.pop("EVEREST_CONFIG_FILE", None)
    log = Path(catalogue_settings.data_dir) / "uvicorn.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "uvicorn",
                "--factory",
                "everest_elearn.api.app:create_app",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--log-level",
                "warning",
            ],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{base}/health", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"uvicorn did not start: {log.read_text()[-2000:]}")
            time.sleep(0.1)
        yield base
    finally:
        process.terminate()
        process.wait(timeout=10)
