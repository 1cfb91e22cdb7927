"""Contract: EO filters in every interval form, sorting, paging, facets, visibility and counts."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from everest_elearn.catalogue.model import Kind
from everest_elearn.catalogue.query import Condition, Interval, OneOf, Query, SortKey
from everest_elearn.catalogue.store import CatalogueStore
from tests.contract.records import S1, S2, T0, collection, ids, product, products


def expected_for(field: str, cond: Condition) -> list[str]:
    return sorted(r.identifier for r in products() if cond.contains(r.properties.get(field)))


async def found(store: CatalogueStore, **kw: Any) -> list[str]:
    result = await store.search(Query(limit=100, **kw))
    assert result.total == len(result.records)
    return sorted(ids(result.records))


# Cloud cover of S2_i is 10 * i (0..100); S1 products have none.
INTERVALS = {
    "closed [0,20]": Interval(0, 20),  # the classic bug turns this into an impossible condition
    "closed [10,30]": Interval(10, 30),
    "open ]10,30[": Interval(10, 30, False, False),
    "half-open [10,30[": Interval(10, 30, True, False),
    "half-open ]10,30]": Interval(10, 30, False, True),
    "at least [90": Interval(low=90),
    "at most 20]": Interval(high=20),
    "greater than ]90": Interval(low=90, low_inclusive=False),
    "less than 20[": Interval(high=20, high_inclusive=False),
    "one of {0,50,55}": OneOf((0, 50, 55)),
    "equal 30": OneOf((30,)),
    "degenerate [30,30]": Interval(30, 30),
    "empty ]30,30[": Interval(30, 30, False, False),
    "present": Interval(),
}


@pytest.mark.parametrize("name", list(INTERVALS))
async def test_cloud_cover_interval_forms(loaded: CatalogueStore, name: str) -> None:
    cond = INTERVALS[name]
    expected = expected_for("cloudCover", cond)
    assert await found(loaded, filters={"cloudCover": cond}) == expected
    if name == "closed [0,20]":
        assert expected == ["S2_00", "S2_01", "S2_02"]


@pytest.mark.parametrize(
    "cond",
    [Interval(103, 105), Interval(103, 201, False, False), Interval(low=202), OneOf((100, 200))],
)
async def test_integer_field(loaded: CatalogueStore, cond: Condition) -> None:
    assert await found(loaded, filters={"orbitNumber": cond}) == expected_for("orbitNumber", cond)


async def test_date_field(loaded: CatalogueStore) -> None:
    # creationDate of S2_i is T0 + (i + 1) days.
    low, high = T0 + timedelta(days=3), T0 + timedelta(days=5)
    assert await found(loaded, filters={"creationDate": Interval(low, high)}) == [
        "S2_02",
        "S2_03",
        "S2_04",
    ]
    assert await found(loaded, filters={"creationDate": Interval(low, high, False, False)}) == [
        "S2_03"
    ]
    assert await found(loaded, filters={"creationDate": OneOf((low.isoformat(),))}) == ["S2_02"]


async def test_keyword_filters(loaded: CatalogueStore) -> None:
    assert await found(loaded, filters={"platform": OneOf(("S1A",))}) == ["S1_00", "S1_01", "S1_02"]
    both = await found(loaded, filters={"platform": OneOf(("S1A", "S2B"))})
    assert both == ["S1_00", "S1_01", "S1_02", "S2_01", "S2_03", "S2_05", "S2_07", "S2_09"]
    assert await found(loaded, filters={"platform": OneOf(("s1a",))}) == []  # exact match
    assert await found(loaded, filters={"polarisationChannels": OneOf(("VV, VH",))}) == [
        "S1_00",
        "S1_01",
        "S1_02",
    ]


async def test_filters_combine_with_and(loaded: CatalogueStore) -> None:
    hits = await found(
        loaded,
        filters={
            "platform": OneOf(("S2A",)),
            "cloudCover": Interval(20, 60),
            "orbitNumber": Interval(low=104),
        },
    )
    assert hits == ["S2_04", "S2_06"]


async def test_collection_keywords_and_parent_field(loaded: CatalogueStore) -> None:
    assert await found(loaded, kind=Kind.COLLECTION, filters={"keyword": OneOf(("radar",))}) == [S1]
    assert await found(
        loaded, kind=Kind.COLLECTION, filters={"platform": OneOf(("Sentinel-2",))}
    ) == [S2]
    assert await found(loaded, filters={"parentIdentifier": OneOf((S1,))}) == [
        "S1_00",
        "S1_01",
        "S1_02",
    ]


async def test_default_order_is_newest_first(loaded: CatalogueStore) -> None:
    result = await loaded.search(Query(parent=S2, limit=3))
    assert ids(result.records) == ["S2_10", "S2_09", "S2_08"]


@pytest.mark.parametrize("ascending", [True, False])
async def test_sort_by_start(loaded: CatalogueStore, ascending: bool) -> None:
    result = await loaded.search(Query(limit=100, sort=(SortKey("start", ascending),)))
    starts = [r.start for r in result.records]
    assert starts == sorted(starts, reverse=not ascending)  # type: ignore[type-var]


@pytest.mark.parametrize("ascending", [True, False])
async def test_sort_by_cloud_cover_missing_last(loaded: CatalogueStore, ascending: bool) -> None:
    result = await loaded.search(Query(limit=100, sort=(SortKey("cloudCover", ascending),)))
    values = [r.properties.get("cloudCover") for r in result.records]
    present = [v for v in values if v is not None]
    assert present == sorted(present, reverse=not ascending)
    assert values[len(present) :] == [None, None, None]  # products without cloud cover come last


async def test_ties_are_broken_by_identifier(store: CatalogueStore) -> None:
    same = T0
    await store.upsert(
        [collection(), *(product(f"tie-{c}", start=same, cloudCover=5.0) for c in "dbeac")]
    )
    for sort in [(SortKey("start"),), (SortKey("start", False),), (SortKey("cloudCover"),), ()]:
        result = await store.search(Query(sort=sort))
        assert ids(result.records) == ["tie-a", "tie-b", "tie-c", "tie-d", "tie-e"]


@pytest.mark.parametrize("page", [1, 3, 5, 14])
async def test_paging_is_complete_and_stable(loaded: CatalogueStore, page: int) -> None:
    everything = await loaded.search(Query(limit=100, sort=(SortKey("cloudCover"),)))
    seen: list[str] = []
    for offset in range(0, everything.total, page):
        result = await loaded.search(
            Query(offset=offset, limit=page, sort=(SortKey("cloudCover"),))
        )
        assert result.total == 14
        seen.extend(ids(result.records))
    assert seen == ids(everything.records)
    assert len(set(seen)) == 14


async def test_paging_past_the_end_and_count_only(loaded: CatalogueStore) -> None:
    beyond = await loaded.search(Query(offset=50, limit=10))
    assert beyond.records == [] and beyond.total == 14
    counted = await loaded.search(Query(limit=0))
    assert counted.records == [] and counted.total == 14
    last = await loaded.search(Query(offset=12, limit=10))
    assert len(last.records) == 2


async def test_facets_count_the_whole_result(loaded: CatalogueStore) -> None:
    result = await loaded.search(Query(limit=1, facets=("platform", "productType")))
    assert len(result.records) == 1
    assert result.facets["platform"] == {"S2A": 6, "S2B": 5, "S1A": 3}
    assert result.facets["productType"] == {"S2MSI2A": 11, "GRD": 3}
    narrowed = await loaded.search(
        Query(limit=0, filters={"cloudCover": Interval(high=30)}, facets=("platform",))
    )
    assert narrowed.facets["platform"] == {"S2A": 2, "S2B": 2}


async def test_facets_of_collection_keywords(loaded: CatalogueStore) -> None:
    result = await loaded.search(Query(kind=Kind.COLLECTION, limit=0, facets=("keyword",)))
    assert result.facets["keyword"] == {"optical": 1, "land cover": 1, "radar": 1, "sea ice": 1}


async def test_visibility(store: CatalogueStore) -> None:
    await store.upsert(
        [
            collection(S2),
            collection(S1, restricted_to=["esa"]),
            product("open", S2, platform="X"),
            product("secret", S1, restricted_to=["esa"], platform="X"),
            product("shared", S1, restricted_to=["esa", "nasa"], platform="Y"),
        ]
    )
    facets = ("platform",)
    admin = await store.search(Query(visible_groups=None, facets=facets))
    assert sorted(ids(admin.records)) == ["open", "secret", "shared"]
    anonymous = await store.search(Query(visible_groups=frozenset(), facets=facets))
    assert ids(anonymous.records) == ["open"] and anonymous.total == 1
    assert anonymous.facets["platform"] == {"X": 1}
    nasa = await store.search(Query(visible_groups=frozenset({"nasa", "jaxa"}), facets=facets))
    assert sorted(ids(nasa.records)) == ["open", "shared"]
    assert nasa.facets["platform"] == {"X": 1, "Y": 1}
    cols = await store.search(Query(kind=Kind.COLLECTION, visible_groups=frozenset({"nasa"})))
    assert ids(cols.records) == [S2]
    esa = await store.search(Query(kind=Kind.COLLECTION, visible_groups=frozenset({"esa"})))
    assert sorted(ids(esa.records)) == [S1, S2]


async def test_count_limit_reports_a_lower_bound(loaded: CatalogueStore) -> None:
    bounded = await loaded.search(Query(limit=2, count_limit=5))
    assert len(bounded.records) == 2
    if bounded.total_exact:
        assert bounded.total == 14
    else:
        assert 5 <= bounded.total <= 14
    roomy = await loaded.search(Query(limit=2, count_limit=100))
    assert roomy.total == 14 and roomy.total_exact


async def test_unknown_filter_field_is_invalid_input(loaded: CatalogueStore) -> None:
    from everest_elearn.errors import InvalidInput

    with pytest.raises(InvalidInput):
        await loaded.search(Query(filters={"noSuchField": OneOf(("x",))}))
