"""The catalogue's JSON API through the real app factory, lifespan included."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI

from everest_elearn.api import create_app
from everest_elearn.catalogue.service import Catalogue
from everest_elearn.security.identity import Identity, Role
from everest_elearn.settings import Settings
from tests.contract.records import S1, S2, collection, everything, product

ADMIN_TOKEN = "admin-secret-token"
AGENT = Identity("agent", frozenset({Role.AGENT}))


@pytest.fixture
async def app(tmp_path: object) -> AsyncIterator[FastAPI]:
    settings = Settings(
        data_dir=tmp_path,  # type: ignore[arg-type]
        security={"admin_token": ADMIN_TOKEN},  # type: ignore[arg-type]
        catalogue={"load_samples": False},  # type: ignore[arg-type]
    )
    application = create_app(settings)
    async with application.router.lifespan_context(application):
        catalogue: Catalogue = application.state.catalogue
        await catalogue.upsert(everything(), AGENT)
        await catalogue.upsert([collection("PRIVATE", restricted_to=["esa"])], AGENT)
        await catalogue.upsert([product("hidden", "PRIVATE")], AGENT)
        yield application


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://agency") as c:
        yield c


async def test_get_record(client: httpx.AsyncClient) -> None:
    response = await client.get("/catalogue/records/S2_03")
    assert response.status_code == 200
    body = response.json()
    assert body["identifier"] == "S2_03" and body["properties"]["cloudCover"] == 30.0


async def test_restricted_record_is_not_found_for_others(client: httpx.AsyncClient) -> None:
    assert (await client.get("/catalogue/records/hidden")).status_code == 404
    admin = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
    assert (await client.get("/catalogue/records/hidden", headers=admin)).status_code == 200


async def test_collections(client: httpx.AsyncClient) -> None:
    body = (await client.get("/catalogue/collections")).json()
    assert [c["identifier"] for c in body["collections"]] == [S1, S2]
    assert body["total"] == 2


async def test_delete_needs_a_writer_token(client: httpx.AsyncClient) -> None:
    assert (await client.delete("/catalogue/records/S2_01")).status_code == 401
    wrong = {"Authorization": "Bearer not-the-token"}
    assert (await client.delete("/catalogue/records/S2_01", headers=wrong)).status_code == 401
    admin = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
    assert (await client.delete(f"/catalogue/records/{S1}", headers=admin)).status_code == 204
    assert (await client.get("/catalogue/records/S1_00")).status_code == 404
    assert (await client.delete(f"/catalogue/records/{S1}", headers=admin)).status_code == 404


async def test_unavailable_backend_is_503_with_retry_after(app: FastAPI) -> None:
    catalogue: Catalogue = app.state.catalogue
    await catalogue.store.close()  # the database is gone: the store refuses to work
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://agency") as c:
        admin = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
        response = await c.delete("/catalogue/records/S2_01", headers=admin)
    assert response.status_code == 503
    assert int(response.headers["Retry-After"]) > 0
    await catalogue.store.open()
