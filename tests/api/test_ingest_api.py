"""POST /catalogue/ingest and the samples loaded at start, through the real app."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from everest_elearn.api import create_app
from everest_elearn.settings import Settings

FIXTURES = Path(__file__).resolve().parents[3] / "shared" / "fixtures" / "catalogue"
ADMIN = {"Authorization": "Bearer admin-secret"}
AGENT = {"Authorization": "Bearer agent-secret"}


def _settings(tmp_path: Path, **catalogue: object) -> Settings:
    return Settings(
        data_dir=tmp_path,
        security={"admin_token": "admin-secret", "agent_token": "agent-secret"},  # type: ignore[arg-type]
        catalogue={"load_samples": False, "ingest_max_bytes": 200_000, **catalogue},  # type: ignore[arg-type]
    )


@pytest.fixture
async def client(tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(_settings(tmp_path))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://agency") as http:
            yield http


async def test_ingest_stac_then_atom_with_a_collection(client: httpx.AsyncClient) -> None:
    collection = (FIXTURES / "stac/odc-stac-sentinel-2-l2a.collection.json").read_bytes()
    response = await client.post(
        "/catalogue/ingest",
        content=collection,
        headers={**AGENT, "Content-Type": "application/json"},
    )
    assert response.status_code == 200, response.text
    assert response.json()["created"] == 1

    atom = (FIXTURES / "opensearch/eodag-mundi_search.xml").read_bytes()
    response = await client.post(
        "/catalogue/ingest?collection=sentinel-2-l2a",
        content=atom,
        headers={**ADMIN, "Content-Type": "application/atom+xml; charset=utf-8"},
    )
    report = response.json()
    assert (report["received"], report["ingested"], report["rejected"]) == (2, 2, 0)
    record = await client.get(
        "/catalogue/records/S2A_MSIL1C_20200815T005251_N0209_R002_T55PBR_20200815T023440"
    )
    assert record.status_code == 200 and record.json()["properties"]["cloudCover"] == 6.6797


async def test_rejections_are_listed_with_position_and_reason(client: httpx.AsyncClient) -> None:
    atom = (FIXTURES / "opensearch/eodag-mundi_search.xml").read_bytes()
    response = await client.post(
        "/catalogue/ingest", content=atom, headers={**ADMIN, "Content-Type": "text/xml"}
    )
    assert response.status_code == 200
    report = response.json()
    assert report["rejected"] == 2 and report["ingested"] == 0
    first = report["rejected_items"][0]
    assert first["position"] == 1 and "own collection" in first["reason"]


@pytest.mark.parametrize(
    ("headers", "status"),
    [
        ({}, 401),
        ({"Authorization": "Bearer wrong"}, 401),
    ],
)
async def test_writers_only(
    client: httpx.AsyncClient, headers: dict[str, str], status: int
) -> None:
    response = await client.post(
        "/catalogue/ingest", content=b"[]", headers={**headers, "Content-Type": "application/json"}
    )
    assert response.status_code == status
    assert "secret" not in response.text


async def test_other_media_types_get_415(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/catalogue/ingest", content=b"a,b", headers={**ADMIN, "Content-Type": "text/csv"}
    )
    assert response.status_code == 415 and "text/csv" in response.json()["detail"]


async def test_documents_over_the_limit_get_413(client: httpx.AsyncClient) -> None:
    big = json.dumps([{"pad": "x" * 300_000}]).encode()
    response = await client.post(
        "/catalogue/ingest", content=big, headers={**ADMIN, "Content-Type": "application/json"}
    )
    assert response.status_code == 413

    async def chunks() -> AsyncIterator[bytes]:  # no Content-Length: counted while reading
        for _ in range(30):
            yield b" " * 10_000

    response = await client.post(
        "/catalogue/ingest", content=chunks(), headers={**ADMIN, "Content-Type": "application/json"}
    )
    assert response.status_code == 413


async def test_unsafe_collection_option_is_a_400(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/catalogue/ingest?collection=../x",
        content=b"[]",
        headers={**ADMIN, "Content-Type": "application/json"},
    )
    assert response.status_code == 400 and response.json()["parameter"] == "collection"


async def test_a_fresh_data_dir_offers_the_samples_once(tmp_path: Path) -> None:
    settings = _settings(tmp_path, load_samples=True)
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://agency") as http:
            listing = (await http.get("/catalogue/collections")).json()
            assert {c["identifier"] for c in listing["collections"]} == {
                "sentinel-1-grd",
                "sentinel-2-l2a",
            }
            first = await app.state.catalogue.count()
            assert first >= 202
            response = await http.delete("/catalogue/records/sentinel-2-l2a", headers=ADMIN)
            assert response.status_code == 204
    # Not empty any more: the next start keeps what is there and loads nothing.
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        remaining = await app.state.catalogue.count()
        assert 100 <= remaining < first
