"""Re-indexing the search-engine catalogue through aliases, on osmem-server, with an agency's store
searching and writing throughout: a mapping change of a release applied with no search lost."""

from __future__ import annotations

import copy
import subprocess
import sys
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from osmem_server import OsmemServer

from everest_elearn.catalogue.backends.elasticsearch_ import ElasticsearchStore
from everest_elearn.catalogue.backends.es_mapping import index_settings, mapping, slug
from everest_elearn.catalogue.backends.es_reindex import reindex
from everest_elearn.catalogue.model import Kind, Record
from everest_elearn.catalogue.query import Interval, Query
from everest_elearn.errors import InvalidInput, UpstreamError
from everest_elearn.settings import CatalogueSettings

pytestmark = pytest.mark.services
COLLECTION = "S2:L2A"
PRODUCTS = 120
T0 = datetime(2021, 5, 1, tzinfo=UTC)
CLOUDY = Query(parent=COLLECTION, filters={"cloudCover": Interval(high=1.0)}, limit=0)


def records() -> list[Record]:
    head = Record(identifier=COLLECTION, kind=Kind.COLLECTION, title="Sentinel-2 L2A")
    return [head] + [
        Record(
            identifier=f"P{i:04d}",
            parent_identifier=COLLECTION,
            title=f"scene {i}",
            start=T0 + timedelta(hours=i),
            properties={"cloudCover": float(i % 10)},
        )
        for i in range(PRODUCTS)
    ]


def previous_release_layout(url: str, prefix: str) -> None:
    """The indices as a release without ``cloudCover`` in its registry would have made them."""
    old = copy.deepcopy(mapping())
    del old["properties"]["p"]["properties"]["cloudCover"]
    products = f"{prefix}-products-{slug(COLLECTION)}"
    layout = {
        f"{prefix}-collections-v1": [f"{prefix}-collections"],
        f"{products}-base": [products, f"{prefix}-products"],
    }
    for index, aliases in layout.items():
        body = {
            "settings": index_settings(10000),
            "mappings": old,
            "aliases": {a: {} for a in [*aliases, f"{prefix}-all"]},
        }
        httpx.put(f"{url}/{index}", json=body, timeout=10).raise_for_status()


def engine_aliases(url: str, prefix: str) -> dict[str, set[str]]:
    answer = httpx.get(f"{url}/_alias", timeout=10).json()
    return {i: set(b["aliases"]) for i, b in answer.items() if i.startswith(prefix)}


@pytest.fixture(params=["elasticsearch", "opensearch"])
def settings(
    request: pytest.FixtureRequest,
    es_catalogue_settings: CatalogueSettings,
    os_catalogue_settings: CatalogueSettings,
) -> CatalogueSettings:
    """Both flavours: the Elasticsearch client through the media-type proxy, and opensearch-py."""
    chosen = es_catalogue_settings if request.param == "elasticsearch" else os_catalogue_settings
    return chosen


@pytest.fixture
async def agency(
    settings: CatalogueSettings, osmem: OsmemServer
) -> AsyncIterator[ElasticsearchStore]:
    """The running agency's store, on indices made by the previous release."""
    previous_release_layout(osmem.url, settings.index_prefix)
    store = ElasticsearchStore(settings)
    await store.open()
    await store.upsert(records())
    yield store
    await store.close()


async def test_reindex_applies_the_mapping_while_searches_answer(
    agency: ElasticsearchStore, settings: CatalogueSettings, osmem: OsmemServer
) -> None:
    prefix = settings.index_prefix
    # The previous mapping did not index cloudCover: the filter finds nothing yet.
    assert (await agency.search(CLOUDY)).total == 0
    seen: list[tuple[str, int]] = []
    refused: list[str] = []

    async def during(name: str, copied: int, total: int) -> None:
        # Searches of the running agency answer in full at every step of the copy.
        found = await agency.search(Query(parent=COLLECTION, limit=5))
        assert found.total == PRODUCTS and len(found.records) == 5
        assert (await agency.get("P0007")) is not None
        seen.append((name, copied))
        if not refused:
            # Writes wait for the switch: refused with the engine's reason, nothing stored lost.
            late = Record(identifier="P0001", parent_identifier=COLLECTION, title="late")
            with pytest.raises(UpstreamError, match="block"):
                await agency.upsert([late])
            refused.append(name)

    worker = ElasticsearchStore(settings)  # the operator's command line, another process
    await worker.open()
    try:
        report = await reindex(worker, chunk=25, progress=during)
    finally:
        await worker.close()

    assert report.documents == PRODUCTS + 1
    assert {r.new for r in report.indices} == {f"{r.name}.r2" for r in report.indices}
    assert len(seen) >= PRODUCTS // 25 and refused
    after = engine_aliases(osmem.url, prefix)
    assert all(index.endswith(".r2") for index in after), after
    products = f"{prefix}-products-{slug(COLLECTION)}"
    assert after[f"{products}-base.r2"] == {
        f"{products}-base",
        products,
        f"{prefix}-products",
        f"{prefix}-all",
    }
    # The new mapping serves the filter; nothing was lost, the refused write changed nothing.
    assert (await agency.search(CLOUDY)).total == 24
    assert (await agency.search(Query(parent=COLLECTION, limit=0))).total == PRODUCTS
    kept = await agency.get("P0001")
    assert kept is not None and (kept.title, kept.properties) == ("scene 1", {"cloudCover": 1.0})

    # The agency keeps writing through the old names, now aliases of the new indices.
    outcomes = await agency.upsert(
        [
            Record(identifier="P0001", parent_identifier=COLLECTION, title="updated", start=T0),
            Record(identifier="P9999", parent_identifier=COLLECTION, title="new", start=T0),
        ]
    )
    assert [o.created for o in outcomes] == [False, True]
    assert (await agency.search(Query(parent=COLLECTION, limit=0))).total == PRODUCTS + 1
    updated = await agency.get("P0001")
    assert updated is not None and updated.title == "updated"
    assert await agency.delete("P9999")

    # And again: r2 -> r3, the aliases follow.
    again = await reindex(agency, chunk=1000)
    assert {r.old for r in again.indices} == {r.new for r in report.indices}
    assert all(i.endswith(".r3") for i in engine_aliases(osmem.url, prefix))
    assert (await agency.search(Query(parent=COLLECTION, limit=0))).total == PRODUCTS


async def test_a_failed_reindex_leaves_the_catalogue_as_it_was(
    agency: ElasticsearchStore, settings: CatalogueSettings, osmem: OsmemServer
) -> None:
    prefix = settings.index_prefix
    products = f"{prefix}-products-{slug(COLLECTION)}-base"
    # A document no release could read back (written past the store).
    bad: dict[str, Any] = {"identifier": "broken", "kind": "product", "record": {"kind": 5}}
    async with httpx.AsyncClient(timeout=10) as http:
        await http.put(f"{osmem.url}/{products}/_doc/broken?refresh=true", json=bad)
    before = engine_aliases(osmem.url, prefix)

    with pytest.raises(InvalidInput, match=f"record broken in {products}"):
        await reindex(agency, chunk=50)

    assert engine_aliases(osmem.url, prefix) == before
    # The write block is lifted again.
    late = Record(identifier="P0001", parent_identifier=COLLECTION, title="late", start=T0)
    assert [o.created for o in await agency.upsert([late])] == [False]


def test_reindex_command(
    osmem: OsmemServer, os_catalogue_settings: CatalogueSettings, tmp_path: Path
) -> None:
    prefix = os_catalogue_settings.index_prefix
    env = {
        "PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin",
        "HOME": "/tmp",
        "COLUMNS": "120",
        "EVEREST_CATALOGUE__BACKEND": "elasticsearch",
        "EVEREST_CATALOGUE__ELASTICSEARCH_URL": osmem.url,
        "EVEREST_CATALOGUE__INDEX_PREFIX": prefix,
        "EVEREST_CATALOGUE__LOAD_SAMPLES": "false",
    }
    ingest = cli(["catalogue", "ingest", "--samples"], env)
    assert ingest.returncode == 0, ingest.stderr[-2000:]
    done = cli(["catalogue", "reindex", "--chunk", "100"], env)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "Re-indexed" in done.stdout and ".r2" in done.stdout
    assert all(index.endswith(".r2") for index in engine_aliases(osmem.url, prefix))
    stats = cli(["catalogue", "stats"], env)
    assert stats.returncode == 0 and "sentinel-2-l2a" in stats.stdout

    embedded = {**env, "EVEREST_CATALOGUE__BACKEND": "sqlite", "EVEREST_DATA_DIR": str(tmp_path)}
    refused = cli(["catalogue", "reindex"], embedded)
    assert refused.returncode == 1
    assert "only the 'elasticsearch' backend" in refused.stdout + refused.stderr


def cli(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["everest-elearn", *args], capture_output=True, text=True, env=env, timeout=300, check=False
    )
