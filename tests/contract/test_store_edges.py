"""Contract: records without a footprint, NUL in search terms, pages past a bounded count."""

from __future__ import annotations

import pytest

from everest_elearn.catalogue import geometry as geo
from everest_elearn.catalogue.query import Query, SpatialRelation
from everest_elearn.catalogue.store import CatalogueStore
from everest_elearn.errors import InvalidInput
from tests.contract.records import box, collection, ids, product, s2_product


@pytest.mark.parametrize("relation", list(SpatialRelation))
async def test_a_record_without_footprint_matches_no_spatial_relation(
    store: CatalogueStore, relation: SpatialRelation
) -> None:
    # Its place is unknown: it neither intersects, contains nor is disjoint from any area
    # (as a record without time matches no temporal relation). docs/opensearch.md says so.
    await store.upsert([collection(), product("bare", geometry=None), s2_product(3)])
    far = geo.normalise(box(100, 50, 110, 60))
    near = geo.normalise(box(3.2, 0.2, 3.8, 0.8))
    for area in (far, near):
        found = await store.search(Query(geometry=area, spatial_relation=relation, limit=10))
        assert "bare" not in ids(found.records)
        assert found.total == len(found.records)
    assert sorted(ids((await store.search(Query(limit=10))).records)) == ["S2_03", "bare"]


async def test_nul_in_search_terms_is_bad_input_naming_the_parameter(
    loaded: CatalogueStore,
) -> None:
    with pytest.raises(InvalidInput) as caught:
        await loaded.search(Query(terms=("Sentinel\x00-2",)))
    assert caught.value.where == "searchTerms"
    with pytest.raises(InvalidInput):
        await loaded.search(Query(uids=("S2_01\x00",)))


async def test_a_page_past_the_count_limit_still_has_its_records(loaded: CatalogueStore) -> None:
    # 14 products; counting stops at 5 but the page at offset 8 exists.
    result = await loaded.search(Query(offset=8, limit=4, count_limit=5))
    everything = await loaded.search(Query(limit=20))
    assert ids(result.records) == ids(everything.records[8:12])
    if not result.total_exact:
        assert 12 <= result.total <= 14  # a lower bound, at least past this page
    else:
        assert result.total == 14
    past_the_end = await loaded.search(Query(offset=30, limit=4, count_limit=5))
    assert past_the_end.records == []
