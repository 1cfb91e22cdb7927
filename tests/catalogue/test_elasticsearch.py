"""The Elasticsearch/OpenSearch store against a real osmem-server: layout, paging, counts, faults."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from osmem_server import OsmemServer

from everest_elearn.catalogue.backends.elasticsearch_ import ElasticsearchStore
from everest_elearn.catalogue.backends.es_client import ElasticsearchEngine, OpenSearchEngine
from everest_elearn.catalogue.backends.es_mapping import slug
from everest_elearn.catalogue.model import Kind, Record
from everest_elearn.catalogue.query import OneOf, Query, SortKey, SpatialRelation
from everest_elearn.catalogue.registry import REGISTRY
from everest_elearn.errors import BackendUnavailable, UpstreamError
from everest_elearn.settings import CatalogueSettings
from tests.contract.records import box
from tests.fixtures.osmem import MediaTypeProxy, engine_settings

COLLECTION = "S2:L2A"
T0 = datetime(2020, 3, 1, tzinfo=UTC)


def collection() -> Record:
    return Record(identifier=COLLECTION, kind=Kind.COLLECTION, title="Sentinel-2 L2A")


def products(count: int, *, years: int = 1) -> list[Record]:
    return [
        Record(
            identifier=f"P{i:04d}",
            parent_identifier=COLLECTION,
            title=f"scene {i}",
            start=T0.replace(year=T0.year + i % years) + timedelta(hours=i),
            # Cloud cover repeats, so sorting by it alone would leave ties to break.
            properties={"cloudCover": float(i % 5), "platform": "S2A" if i % 2 else "S2B"},
        )
        for i in range(count)
    ]


@pytest.fixture
async def es_store(es_catalogue_settings: CatalogueSettings) -> AsyncIterator[ElasticsearchStore]:
    store = ElasticsearchStore(es_catalogue_settings)
    await store.open()
    yield store
    await store.close()


async def raw(
    osmem: OsmemServer, method: str, path: str, json: dict[str, object] | None = None
) -> httpx.Response:
    """A request straight to the engine, bypassing the store."""
    async with httpx.AsyncClient(base_url=osmem.url, timeout=10) as http:
        return await http.request(method, path, json=json)


async def aliases(osmem: OsmemServer, prefix: str) -> dict[str, set[str]]:
    """index -> its aliases, read straight from the engine."""
    answer = (await raw(osmem, "GET", "/_alias")).json()
    return {
        index: set(body["aliases"]) for index, body in answer.items() if index.startswith(prefix)
    }


async def test_the_elasticsearch_client_goes_through_the_vendor_media_type(
    es_store: ElasticsearchStore, es_proxy: MediaTypeProxy
) -> None:
    before = es_proxy.stats.vendor_requests
    assert isinstance(es_store.engine, ElasticsearchEngine)
    await es_store.upsert([collection(), *products(3)])
    assert (await es_store.search(Query(parent=COLLECTION))).total == 3
    # Every call of the Elasticsearch client carried compatible-with, translated by the proxy.
    assert es_proxy.stats.vendor_requests - before >= 3


async def test_elasticsearch_flavour_straight_to_an_opensearch_server_says_why(
    osmem: OsmemServer,
) -> None:
    store = ElasticsearchStore(engine_settings(osmem.url, "elasticsearch"))
    with pytest.raises(UpstreamError, match=r"406|not Elasticsearch") as caught:
        await store.open()
    assert "elasticsearch_flavour" in str(caught.value)


async def test_auto_flavour_picks_the_opensearch_client(
    os_catalogue_settings: CatalogueSettings,
) -> None:
    store = ElasticsearchStore(os_catalogue_settings)
    await store.open()
    try:
        assert isinstance(store.engine, OpenSearchEngine)
        await store.upsert([collection(), *products(4)])
        result = await store.search(Query(parent=COLLECTION, filters={"platform": OneOf(("S2A",))}))
        assert sorted(r.identifier for r in result.records) == ["P0001", "P0003"]
    finally:
        await store.close()


async def test_indices_per_collection_behind_aliases(
    es_store: ElasticsearchStore, osmem: OsmemServer
) -> None:
    prefix = es_store.settings.index_prefix
    await es_store.upsert([collection(), *products(2)])
    layout = await aliases(osmem, prefix)
    per_collection = f"{prefix}-products-{slug(COLLECTION)}"
    assert layout == {
        f"{prefix}-collections-v1": {f"{prefix}-collections", f"{prefix}-all"},
        f"{per_collection}-base": {per_collection, f"{prefix}-products", f"{prefix}-all"},
    }
    assert ":" not in per_collection and per_collection == per_collection.lower()


async def test_mapping_comes_from_the_registry(
    es_store: ElasticsearchStore, osmem: OsmemServer
) -> None:
    index = f"{es_store.settings.index_prefix}-collections-v1"
    answer = (await raw(osmem, "GET", f"/{index}/_mapping")).json()
    fields = answer[index]["mappings"]["properties"]
    eo = fields["p"]["properties"]
    assert set(eo) == {p.field for p in REGISTRY.fields}
    assert eo["cloudCover"]["type"] == "double"
    assert eo["orbitNumber"]["type"] == "long"
    assert eo["platform"]["type"] == "keyword"
    assert eo["creationDate"]["type"] == "date"
    assert fields["geometry"]["type"] == "geo_shape"
    assert fields["restricted_to"]["type"] == "keyword"
    assert fields["start"]["type"] == fields["end"]["type"] == "date"


@pytest.mark.parametrize("flavour", ["elasticsearch", "opensearch"])
async def test_large_collections_split_into_year_indices(
    flavour: str,
    es_catalogue_settings: CatalogueSettings,
    os_catalogue_settings: CatalogueSettings,
    osmem: OsmemServer,
) -> None:
    chosen = es_catalogue_settings if flavour == "elasticsearch" else os_catalogue_settings
    settings = chosen.model_copy(
        update={"elasticsearch_partition_threshold": 6, "elasticsearch_flavour": flavour}
    )
    store = ElasticsearchStore(settings)
    await store.open()
    try:
        first = products(6, years=3)
        await store.upsert([collection(), *first])
        # The base index reached the threshold: new and updated products go to year indices.
        later = [
            r.model_copy(update={"identifier": f"N{i}", "start": T0.replace(year=2030 + i)})
            for i, r in enumerate(first[:2])
        ]
        moved = first[0].model_copy(update={"title": "moved on update"})
        await store.upsert([*later, moved])
        prefix = settings.index_prefix
        per_collection = f"{prefix}-products-{slug(COLLECTION)}"
        layout = await aliases(osmem, prefix)
        assert {f"{per_collection}-y2030", f"{per_collection}-y2031"} <= set(layout)
        assert f"{per_collection}-y2020" in layout  # where the updated P0000 went
        for index in layout:
            if index.startswith(per_collection):
                assert per_collection in layout[index]
        result = await store.search(Query(parent=COLLECTION, limit=50))
        names = [r.identifier for r in result.records]
        assert result.total == 8 and len(set(names)) == 8  # nothing duplicated by the move
        stored = await store.get("P0000")
        assert stored is not None and stored.title == "moved on update"
        # Deleting the collection drops every one of its indices.
        assert await store.delete(COLLECTION) is True
        assert not [i for i in (await aliases(osmem, prefix)) if i.startswith(per_collection)]
    finally:
        await store.close()


async def test_deep_pages_use_search_after_and_never_skip_or_repeat(
    es_catalogue_settings: CatalogueSettings, osmem: OsmemServer
) -> None:
    # A window of 7 is also set as index.max_result_window: from+size beyond it fails in the
    # engine itself, so pages past it can only come from search_after.
    settings = es_catalogue_settings.model_copy(update={"elasticsearch_max_window": 7})
    store = ElasticsearchStore(settings)
    await store.open()
    try:
        records = products(40)
        await store.upsert([collection(), *records])
        index = f"{settings.index_prefix}-products-{slug(COLLECTION)}-base"
        refused = await raw(osmem, "POST", f"/{index}/_search", json={"from": 5, "size": 5})
        assert refused.status_code == 400 and "max_result_window" in refused.text
        order = (SortKey("cloudCover"),)
        expected = [
            r.identifier
            for r in sorted(records, key=lambda r: (r.properties["cloudCover"], r.identifier))
        ]
        seen: list[str] = []
        for offset in range(0, 40, 6):
            page = await store.search(Query(parent=COLLECTION, sort=order, offset=offset, limit=6))
            assert page.total == 40
            seen += [r.identifier for r in page.records]
        assert seen == expected
        # One page larger than the window, and a page past the end.
        big = await store.search(Query(parent=COLLECTION, sort=order, offset=3, limit=20))
        assert [r.identifier for r in big.records] == expected[3:23]
        past = await store.search(Query(parent=COLLECTION, sort=order, offset=45, limit=5))
        assert past.records == [] and past.total == 40
    finally:
        await store.close()


async def test_counts_are_bounded_and_say_so(es_store: ElasticsearchStore) -> None:
    await es_store.upsert([collection(), *products(30)])
    bounded = await es_store.search(Query(parent=COLLECTION, count_limit=10, limit=3))
    assert bounded.total_exact is False and bounded.total == 10 and len(bounded.records) == 3
    exact = await es_store.search(Query(parent=COLLECTION, count_limit=100, limit=3))
    assert exact.total_exact is True and exact.total == 30
    assert es_store.capabilities.exact_totals is False


async def test_facets_are_terms_aggregations_over_the_whole_result(
    es_store: ElasticsearchStore,
) -> None:
    await es_store.upsert([collection(), *products(9)])
    result = await es_store.search(Query(parent=COLLECTION, limit=2, facets=("platform",)))
    assert result.facets == {"platform": {"S2A": 4, "S2B": 5}}


async def test_a_server_that_goes_away_is_backend_unavailable(
    es_catalogue_settings: CatalogueSettings, osmem: OsmemServer
) -> None:
    proxy = MediaTypeProxy(osmem.url).start()
    settings = es_catalogue_settings.model_copy(update={"elasticsearch_url": proxy.url})
    store = ElasticsearchStore(settings)
    await store.open()
    try:
        await store.upsert([collection()])
        proxy.stop()
        with pytest.raises(BackendUnavailable):
            await store.search(Query(kind=Kind.COLLECTION))
        with pytest.raises(BackendUnavailable):
            await store.upsert([collection()])
        assert await store.ping() is False
    finally:
        await store.close()


@pytest.mark.parametrize("flavour", ["elasticsearch", "opensearch", "auto"])
async def test_no_server_at_open_is_backend_unavailable_without_leaking_secrets(
    flavour: str, caplog: pytest.LogCaptureFixture
) -> None:
    # A port nothing listens on: bind, read the number, close.
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    settings = engine_settings(
        f"http://agent:url-secret@127.0.0.1:{port}",
        flavour,
        elasticsearch_username="agent",
        elasticsearch_password="s3cret-pw",
        elasticsearch_timeout=2.0,
    )
    store = ElasticsearchStore(settings)
    with caplog.at_level(logging.DEBUG), pytest.raises(BackendUnavailable) as caught:
        await store.open()
    assert caught.value.retry_after > 0
    for secret in ("s3cret-pw", "url-secret"):
        assert secret not in str(caught.value)
        assert secret not in caplog.text
    assert await store.ping() is False


async def test_engine_geometry_check_sends_geo_shape_to_the_engine(
    es_catalogue_settings: CatalogueSettings,
) -> None:
    # "engine" (the production default) leaves the relation to geo_shape. osmem evaluates it on
    # bounding boxes, which is exact for these axis-aligned boxes.
    settings = es_catalogue_settings.model_copy(update={"elasticsearch_geometry_check": "engine"})
    store = ElasticsearchStore(settings)
    await store.open()
    try:
        tiles = [
            r.model_copy(update={"geometry": box(i, 0, i + 1, 1)})
            for i, r in enumerate(products(5))
        ]
        await store.upsert([collection(), *tiles])

        async def found(area: dict[str, object], relation: SpatialRelation) -> list[str]:
            query = Query(parent=COLLECTION, geometry=area, spatial_relation=relation, limit=20)
            return sorted(r.identifier for r in (await store.search(query)).records)

        inside = box(2.2, 0.2, 2.8, 0.8)
        assert await found(box(1.5, 0.2, 3.5, 0.8), SpatialRelation.INTERSECTS) == [
            "P0001",
            "P0002",
            "P0003",
        ]
        assert await found(inside, SpatialRelation.CONTAINS) == ["P0002"]
        assert await found(box(-1, -1, 2.5, 2), SpatialRelation.DISJOINT) == ["P0003", "P0004"]
    finally:
        await store.close()
