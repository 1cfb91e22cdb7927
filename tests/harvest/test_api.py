"""The harvest API on the real app: status and last error per source, runs triggered and scheduled."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from everest_elearn.api import create_app
from everest_elearn.settings import Settings
from tests.harvest.conftest import earth_search_item, moments
from tests.harvest.replay import Replay
from tests.harvest.stac_server import StacApi

ADMIN = {"Authorization": "Bearer admin-secret"}
AGENT = {"Authorization": "Bearer agent-secret"}
SOURCES = """\
sources:
  - name: es
    kind: stac
    url: {url}
    collection: sentinel-2-l1c
    page_size: 2
    schedule: {schedule}
  - name: down
    kind: stac
    url: http://127.0.0.1:9/nothing
    limits: {{retries: 0}}
"""


def _app(tmp_path: Path, url: str, schedule: str, agent_enabled: bool) -> object:
    sources = tmp_path / "sources.yaml"
    sources.write_text(SOURCES.format(url=url, schedule=schedule))
    settings = Settings(
        data_dir=tmp_path / "data",
        security={"admin_token": "admin-secret", "agent_token": "agent-secret"},  # type: ignore[arg-type]
        catalogue={"load_samples": False},  # type: ignore[arg-type]
        harvest={"sources_file": sources, "agent_enabled": agent_enabled, "tick": 0.1},  # type: ignore[arg-type]
    )
    return create_app(settings)


@pytest.fixture
async def client(tmp_path: Path, replay: Replay) -> AsyncIterator[httpx.AsyncClient]:
    StacApi(replay, [earth_search_item(i, t) for i, t in enumerate(moments(5))], page=2)
    app = _app(tmp_path, replay.url, "1h", agent_enabled=False)
    async with app.router.lifespan_context(app):  # type: ignore[attr-defined]
        transport = httpx.ASGITransport(app=app)  # type: ignore[arg-type]
        async with httpx.AsyncClient(transport=transport, base_url="http://agency") as http:
            yield http


async def test_status_needs_an_operator_and_runs_need_a_writer(client: httpx.AsyncClient) -> None:
    assert (await client.get("/harvest/sources")).status_code == 401
    assert (await client.post("/harvest/sources/es/run")).status_code == 401
    assert (await client.post("/harvest/sources/nope/run", headers=ADMIN)).status_code == 404


async def test_a_triggered_run_and_the_last_error_per_source(client: httpx.AsyncClient) -> None:
    response = await client.post("/harvest/sources/es/run?wait=true", headers=AGENT)
    assert response.status_code == 200, response.text
    assert response.json()["created"] == 5 and response.json()["pages"] == 3
    failed = (await client.post("/harvest/sources/down/run?wait=true", headers=ADMIN)).json()
    assert failed["state"] == "failed"
    rows = {
        r["name"]: r
        for r in (await client.get("/harvest/sources", headers=ADMIN)).json()["sources"]
    }
    assert rows["es"]["state"] == "ok" and rows["es"]["last_error"] is None
    assert rows["es"]["totals"]["created"] == 5 and rows["es"]["since"].startswith("2024-02-02")
    assert rows["down"]["state"] == "failed" and "127.0.0.1:9" in rows["down"]["last_error"]
    assert rows["down"]["next_due"] is not None  # retried later with backoff
    one = await client.get("/harvest/sources/es", headers=AGENT)
    assert one.json()["last_run"]["created"] == 5
    record = await client.get(f"/catalogue/records/{earth_search_item(0, moments(1)[0])['id']}")
    assert record.status_code == 200


async def test_a_background_trigger(client: httpx.AsyncClient) -> None:
    response = await client.post("/harvest/sources/es/run", headers=ADMIN)
    assert response.status_code == 202 and response.json()["started"] is True
    for _ in range(200):
        row = (await client.get("/harvest/sources/es", headers=ADMIN)).json()
        if row["state"] == "ok":
            break
        await asyncio.sleep(0.05)
    assert row["state"] == "ok" and row["totals"]["created"] == 5


async def test_the_agent_ingests_new_products_on_its_schedule(
    tmp_path: Path, replay: Replay
) -> None:
    api = StacApi(replay, [earth_search_item(i, t) for i, t in enumerate(moments(3))], page=2)
    app = _app(tmp_path, replay.url, "1s", agent_enabled=True)
    async with app.router.lifespan_context(app):  # type: ignore[attr-defined]
        transport = httpx.ASGITransport(app=app)  # type: ignore[arg-type]
        async with httpx.AsyncClient(transport=transport, base_url="http://agency") as http:
            newest = earth_search_item(99, moments(1)[0].replace(month=5))
            totals: dict[str, int] = {}
            for step in range(300):
                if step == 20:
                    api.items.append(newest)  # published while the agent runs
                row = (await http.get("/harvest/sources/es", headers=ADMIN)).json()
                totals = row["totals"]
                if totals.get("created", 0) >= 4:
                    break
                await asyncio.sleep(0.05)
            assert totals.get("created") == 4
            assert (await http.get(f"/catalogue/records/{newest['id']}")).status_code == 200
