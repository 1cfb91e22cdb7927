"""A search engine that is down when the agency starts: 503 with Retry-After, then service."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
from osmem_server import OsmemServer

from everest_elearn.api import create_app
from everest_elearn.settings import Settings
from tests.fixtures.provider import free_port
from tests.opensearch.client import XP, Feed, xml


async def test_an_engine_down_at_start_answers_503_until_it_comes_up(tmp_path: Path) -> None:
    port = free_port()
    settings = Settings(
        data_dir=tmp_path,
        catalogue={
            "backend": "elasticsearch",
            "elasticsearch_url": f"http://127.0.0.1:{port}",
            "index_prefix": "late",
        },  # type: ignore[arg-type]
    )
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
            assert (await http.get("/health")).status_code == 200
            atom = await http.get("/opensearch/collections")
            assert atom.status_code == 503 and int(atom.headers["retry-after"]) > 0
            assert xml(atom.content).xpath("//ows:ExceptionText", namespaces=XP)
            as_json = await http.get(
                "/opensearch/products", headers={"Accept": "application/geo+json"}
            )
            assert as_json.status_code == 503 and int(as_json.headers["retry-after"]) > 0
            assert as_json.json()["status"] == 503
            osdd = await http.get("/opensearch/description.xml")
            assert osdd.status_code == 503

            engine = OsmemServer.start(addr=f"127.0.0.1:{port}", japanese=False)
            try:
                status = 503
                for _ in range(300):  # the agency reconnects by itself; no restart
                    response = await http.get("/opensearch/collections")
                    status = response.status_code
                    if status != 503:
                        break
                    await asyncio.sleep(0.1)
                assert status == 200
                assert Feed(xml(response.content)).total == 0
            finally:
                engine.close()
