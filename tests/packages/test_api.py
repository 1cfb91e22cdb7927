"""The packages API on the real app: catalogue and gateway lifespans, directory volumes, a loopback provider."""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from everest_elearn.api import create_app
from everest_elearn.catalogue.model import Kind, Link, Record
from everest_elearn.security.identity import Identity, Role
from everest_elearn.settings import Settings
from tests.fixtures.provider import Provider

TOKEN = "admin-token-for-tests"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
SPEC = """
name: api-demo
version: "1"
licence: CC-BY-4.0
max_size: 5 MB
contents:
  - products: [P_1, P_2]
"""


@pytest.fixture
async def client(tmp_path: Path, provider: Provider) -> AsyncIterator[httpx.AsyncClient]:
    rules = tmp_path / "rules.yaml"
    rules.write_text(
        f"sources:\n  - name: p\n    url: {provider.url}/open/\nrules:\n  - name: c\n    strategy: cache\n"
    )
    settings = Settings(
        data_dir=tmp_path / "data",
        catalogue={"load_samples": False},
        gateway={"rules_file": rules},
        packages={"volumes": "directory"},
        security={"admin_token": TOKEN},
    )
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        records = [Record(identifier="C", kind=Kind.COLLECTION, title="c")]
        for i in (1, 2):
            body = bytes([i]) * 100_000
            (provider.root / f"p{i}.tif").write_bytes(body)
            link = Link(
                href=f"{provider.url}/open/p{i}.tif",
                length=len(body),
                checksum=f"sha256:{hashlib.sha256(body).hexdigest()}",
            )
            records.append(
                Record(identifier=f"P_{i}", parent_identifier="C", links=[link],
                       start=datetime(2020, 1, i, tzinfo=UTC))
            )  # fmt: skip
        await app.state.catalogue.upsert(records, Identity("admin", frozenset({Role.ADMIN})))
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://agency") as http:
            yield http


async def test_estimate_build_status_and_delete(client: httpx.AsyncClient) -> None:
    yaml = {**AUTH, "Content-Type": "application/yaml"}
    estimate = await client.post("/packages/estimate", content=SPEC, headers=yaml)
    assert estimate.status_code == 200, estimate.text
    assert estimate.json()["files"] == 2 and estimate.json()["bytes"] == 200_000
    assert (
        await client.post(
            "/packages/builds", content=SPEC, headers={"Content-Type": "application/yaml"}
        )
    ).status_code == 401
    started = await client.post("/packages/builds", content=SPEC, headers=yaml)
    assert started.status_code == 202, started.text
    status_url = started.headers["location"]
    for _ in range(200):
        status = (await client.get(status_url, headers=AUTH)).json()
        if status["state"] != "building":
            break
        await asyncio.sleep(0.05)
    assert status["state"] == "ready", status
    assert [f["state"] for f in status["progress"]["files"]] == ["durable", "durable"]
    assert status["progress"]["done_bytes"] == 200_000
    listed = (await client.get("/packages", headers=AUTH)).json()
    assert "plain directories" in listed["volumes"]
    assert listed["packages"][0]["current"] is True
    assert (await client.delete(status_url, headers=AUTH)).status_code == 204
    assert (await client.get(status_url, headers=AUTH)).status_code == 404


async def test_a_bad_spec_answers_400_naming_the_field(client: httpx.AsyncClient) -> None:
    bad = SPEC.replace("name: api-demo", "name: ../../etc")
    answer = await client.post(
        "/packages/builds", content=bad, headers={**AUTH, "Content-Type": "application/yaml"}
    )
    assert answer.status_code == 400
    assert answer.json()["parameter"] == "name"
    unknown = SPEC.replace("P_2", "P_9")
    answer = await client.post(
        "/packages/specs", content=unknown, headers={**AUTH, "Content-Type": "application/yaml"}
    )
    assert answer.status_code == 400 and answer.json()["parameter"] == "contents.0.products.1"
