"""What the real Elasticsearch client sends (seen by the media-type proxy in front of osmem):
every constraint in filter context, the narrowest alias, bounded counts, search_after paging."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest

from everest_elearn.catalogue.backends.elasticsearch_ import ElasticsearchStore
from everest_elearn.catalogue.backends.es_mapping import slug
from everest_elearn.catalogue.query import Interval, OneOf, Query, SortKey
from everest_elearn.settings import CatalogueSettings
from tests.catalogue.test_elasticsearch import COLLECTION, T0, collection, products
from tests.contract.records import box
from tests.fixtures.osmem import MediaTypeProxy


@pytest.fixture
async def store(
    es_catalogue_settings: CatalogueSettings,
) -> AsyncIterator[ElasticsearchStore]:
    # "engine" is the production default: the engine evaluates geo_shape itself.
    settings = es_catalogue_settings.model_copy(
        update={"elasticsearch_geometry_check": "engine", "elasticsearch_max_window": 7}
    )
    opened = ElasticsearchStore(settings)
    await opened.open()
    tiles = [
        r.model_copy(update={"geometry": box(i % 10, 0, i % 10 + 1, 1)})
        for i, r in enumerate(products(40))
    ]
    await opened.upsert([collection(), *tiles])
    yield opened
    await opened.close()


def sent_since(proxy: MediaTypeProxy, mark: int) -> list[tuple[str, dict[str, Any]]]:
    return proxy.stats.searches[mark:]


async def test_every_constraint_is_in_filter_context_on_the_collection_alias(
    store: ElasticsearchStore, es_proxy: MediaTypeProxy
) -> None:
    mark = len(es_proxy.stats.searches)
    query = Query(
        parent=COLLECTION,
        terms=("scene",),
        geometry=box(2.2, 0.2, 4.8, 0.8),
        time_start=T0,
        time_end=T0 + timedelta(days=30),
        filters={"cloudCover": Interval(high=2), "platform": OneOf(("S2A", "S2B"))},
        visible_groups=frozenset(),
        sort=(SortKey("cloudCover"),),
        limit=5,
        count_limit=100,
    )
    result = await store.search(query)
    # Product i starts i hours after T0 (all in the time range) on tile i % 10, cloud cover i % 5.
    expected = [f"P{i:04d}" for i in range(40) if i % 10 in {2, 3, 4} and i % 5 <= 2]
    assert result.total == len(expected)
    assert [r.identifier for r in result.records] == sorted(
        expected, key=lambda name: (int(name[1:]) % 5, name)
    )[:5]
    (path, body), *_ = sent_since(es_proxy, mark)
    assert path == f"/{store.collection_alias(COLLECTION)}/_search"
    assert slug(COLLECTION) in path
    assert set(body["query"]) == {"bool"} and set(body["query"]["bool"]) == {"filter"}
    kinds = {next(iter(clause)) for clause in body["query"]["bool"]["filter"]}
    assert {"term", "match_phrase", "geo_shape", "range", "terms", "bool"} <= kinds
    assert body["track_total_hits"] == 100  # bounded, never True
    assert body["sort"][-1] == {"identifier": {"order": "asc"}}  # a total order for paging


async def test_pages_past_the_window_are_fetched_by_search_after(
    store: ElasticsearchStore, es_proxy: MediaTypeProxy
) -> None:
    mark = len(es_proxy.stats.searches)
    page = await store.search(
        Query(parent=COLLECTION, sort=(SortKey("start"),), offset=20, limit=5)
    )
    assert [r.identifier for r in page.records] == [f"P{i:04d}" for i in range(20, 25)]
    steps = [body for _, body in sent_since(es_proxy, mark)]
    assert len(steps) > 1 and all(body.get("from", 0) == 0 for body in steps)
    assert all("search_after" in body for body in steps[1:])
    assert all(body["size"] <= 7 for body in steps)
    # Only the first step counts; the others ask for no total at all.
    assert [body["track_total_hits"] for body in steps[1:]] == [False] * (len(steps) - 1)
