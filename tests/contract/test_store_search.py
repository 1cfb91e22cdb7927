"""Contract: kind, parent, free text, identifiers, space and time, with every relation."""

from __future__ import annotations

from datetime import timedelta

import pytest

from everest_elearn.catalogue import geometry as geo
from everest_elearn.catalogue.model import Kind
from everest_elearn.catalogue.query import Query, SpatialRelation, TemporalRelation
from everest_elearn.catalogue.store import CatalogueStore
from tests.contract.records import S1, S2, T0, box, collection, ids, product


async def found(store: CatalogueStore, **kw: object) -> list[str]:
    result = await store.search(Query(limit=100, **kw))  # type: ignore[arg-type]
    assert result.total == len(result.records)
    return sorted(ids(result.records))


S2_ALL = [f"S2_{i:02d}" for i in range(11)]
S1_ALL = ["S1_00", "S1_01", "S1_02"]


async def test_kind_and_parent(loaded: CatalogueStore) -> None:
    assert await found(loaded, kind=Kind.COLLECTION) == [S1, S2]
    assert await found(loaded) == sorted(S1_ALL + S2_ALL)
    assert await found(loaded, parent=S1) == S1_ALL
    assert await found(loaded, parent="unknown") == []


@pytest.mark.parametrize(
    ("terms", "expected"),
    [
        (("radar",), [S1]),
        (("Radar",), [S1]),  # case-insensitive
        (("sea", "ice"), [S1]),
        (("sea ice",), [S1]),  # a phrase
        (("ice sea",), []),  # a phrase keeps its word order
        (("ice", "sea"), [S1]),  # separate words do not
        (("optical", "radar"), []),  # every term must match (AND)
        (("reflectance",), [S2]),  # abstract
        (("land cover",), [S2]),  # keywords
        (("S1_GRD",), [S1]),  # identifier
        (("nothing-like-this",), []),
    ],
)
async def test_free_text_on_collections(
    loaded: CatalogueStore, terms: tuple[str, ...], expected: list[str]
) -> None:
    assert await found(loaded, kind=Kind.COLLECTION, terms=terms) == expected


async def test_free_text_on_products(loaded: CatalogueStore) -> None:
    assert await found(loaded, terms=("north", "coast")) == [f"S2_{i:02d}" for i in (1, 3, 5, 7, 9)]
    assert await found(loaded, terms=("tile number 4",)) == ["S2_04"]
    assert await found(loaded, terms=("S2_07",)) == ["S2_07"]
    assert await found(loaded, terms=('say "hello"',)) == []  # quotes inside a term are literal


async def test_uids(loaded: CatalogueStore) -> None:
    assert await found(loaded, uids=("S2_03", "S1_01", "nope")) == ["S1_01", "S2_03"]
    assert await found(loaded, kind=Kind.COLLECTION, uids=(S2,)) == [S2]


@pytest.mark.parametrize(
    ("area", "relation", "expected"),
    [
        # Footprint i spans longitudes [i, i+1] x latitudes [0, 1].
        (box(2.5, 0.2, 4.5, 0.8), SpatialRelation.INTERSECTS, ["S2_02", "S2_03", "S2_04"]),
        (box(3, 0, 4, 1), SpatialRelation.INTERSECTS, ["S2_02", "S2_03", "S2_04"]),  # edges touch
        (box(3.2, 0.2, 3.8, 0.8), SpatialRelation.CONTAINS, ["S2_03"]),
        (box(2.5, 0.2, 3.5, 0.8), SpatialRelation.CONTAINS, []),
        (box(-50, -50, 50, 50), SpatialRelation.INTERSECTS, S2_ALL + S1_ALL),
        (box(-1, -1, 10.5, 2), SpatialRelation.DISJOINT, S1_ALL),
        (box(100, 50, 110, 60), SpatialRelation.DISJOINT, S2_ALL + S1_ALL),
        (box(100, 50, 110, 60), SpatialRelation.INTERSECTS, []),
        # A U shape whose bounding box covers tiles 0..4 but which leaves tile 2 out.
        (
            {
                "type": "Polygon",
                "coordinates": [
                    [
                        [0.5, 0.5],
                        [1.5, 0.5],
                        [1.5, 1.5],
                        [3.5, 1.5],
                        [3.5, 0.5],
                        [4.5, 0.5],
                        [4.5, 2],
                        [0.5, 2],
                        [0.5, 0.5],
                    ]
                ],
            },
            SpatialRelation.INTERSECTS,
            ["S2_00", "S2_01", "S2_03", "S2_04"],
        ),
        ({"type": "Point", "coordinates": [5.5, 0.5]}, SpatialRelation.INTERSECTS, ["S2_05"]),
        ({"type": "Point", "coordinates": [5.5, 0.5]}, SpatialRelation.CONTAINS, ["S2_05"]),
        (
            {"type": "LineString", "coordinates": [[6.5, -1], [6.5, 2]]},
            SpatialRelation.INTERSECTS,
            ["S2_06"],
        ),
    ],
)
async def test_spatial_relations(
    loaded: CatalogueStore, area: dict[str, object], relation: SpatialRelation, expected: list[str]
) -> None:
    query_geometry = geo.normalise(area)
    assert await found(loaded, geometry=query_geometry, spatial_relation=relation) == sorted(
        expected
    )


async def test_thin_sliver_polygon(loaded: CatalogueStore) -> None:
    sliver = geo.normalise(
        {"type": "Polygon", "coordinates": [[[0.1, 0.1], [7.5, 0.1], [0.1, 0.2], [0.1, 0.1]]]}
    )
    assert await found(loaded, geometry=sliver) == [f"S2_{i:02d}" for i in range(8)]


async def test_antimeridian_footprint_and_box(store: CatalogueStore) -> None:
    crossing = geo.normalise(
        {
            "type": "Polygon",
            "coordinates": [[[178, -5], [-178, -5], [-178, 5], [178, 5], [178, -5]]],
        }
    )
    assert crossing["type"] == "MultiPolygon"
    await store.upsert(
        [
            collection(),
            product("dateline", geometry=crossing),
            product("greenwich", geometry=box(-2, -5, 2, 5)),
        ]
    )
    assert await found(store, geometry=geo.from_box(179, -1, 179.5, 1)) == ["dateline"]
    assert await found(store, geometry=geo.from_box(-179.5, -1, -179, 1)) == ["dateline"]
    # A query box across the antimeridian (west > east).
    assert await found(store, geometry=geo.from_box(170, -1, -170, 1)) == ["dateline"]
    assert await found(store, geometry=geo.from_box(0, -1, 1, 1)) == ["greenwich"]
    assert await found(
        store, geometry=geo.from_box(0, -1, 1, 1), spatial_relation=SpatialRelation.DISJOINT
    ) == ["dateline"]
    # Nothing near 0 longitude intersects the dateline scene although its parts span the globe.
    assert await found(store, geometry=geo.from_box(10, -1, 11, 1)) == []


async def test_multipolygon_query(loaded: CatalogueStore) -> None:
    two = {
        "type": "MultiPolygon",
        "coordinates": [
            box(1.2, 0.2, 1.4, 0.4)["coordinates"],
            box(8.2, 0.2, 8.4, 0.4)["coordinates"],
        ],
    }
    assert await found(loaded, geometry=geo.normalise(two)) == ["S2_01", "S2_08"]


async def test_spatial_with_other_constraints(loaded: CatalogueStore) -> None:
    area = geo.from_box(0, 0, 30, 30)
    assert await found(loaded, geometry=area, parent=S1) == S1_ALL
    assert await found(loaded, geometry=area, terms=("north",)) == [
        "S2_01",
        "S2_03",
        "S2_05",
        "S2_07",
        "S2_09",
    ]
    start = T0 + timedelta(days=2, minutes=30)
    assert await found(loaded, geometry=area, time_start=start, time_end=start) == ["S2_02"]


# Product S2_i covers [T0 + i days, T0 + i days + 1 h].
def _at(day: int, hours: float = 0) -> object:
    return T0 + timedelta(days=day, hours=hours)


@pytest.mark.parametrize(
    ("start", "end", "relation", "expected"),
    [
        (_at(2), _at(4), TemporalRelation.INTERSECTS, ["S2_02", "S2_03", "S2_04"]),
        (_at(2, 0.5), _at(4, -1), TemporalRelation.INTERSECTS, ["S2_02", "S2_03"]),
        (_at(2, 1), _at(2, 2), TemporalRelation.INTERSECTS, ["S2_02"]),  # touching the end
        (_at(2, 1.5), _at(2, 2), TemporalRelation.INTERSECTS, []),
        (_at(2), _at(4), TemporalRelation.DURING, ["S2_02", "S2_03"]),
        (_at(2), _at(4, 1), TemporalRelation.DURING, ["S2_02", "S2_03", "S2_04"]),
        (_at(2), _at(2, 1), TemporalRelation.EQUALS, ["S2_02"]),
        (_at(2), _at(2, 2), TemporalRelation.EQUALS, []),
        (_at(1, 0.5), _at(9, 0.5), TemporalRelation.DISJOINT, ["S2_00", "S2_10", *S1_ALL]),
        (_at(9), None, TemporalRelation.INTERSECTS, ["S2_09", "S2_10", *S1_ALL]),
        (None, _at(1), TemporalRelation.INTERSECTS, ["S2_00", "S2_01"]),
        (None, _at(1, 0.5), TemporalRelation.DURING, ["S2_00"]),
        (_at(10), None, TemporalRelation.DURING, ["S2_10", *S1_ALL]),
        (_at(10, 0.5), None, TemporalRelation.DISJOINT, [f"S2_{i:02d}" for i in range(10)]),
        (
            None,
            _at(1, 0.5),
            TemporalRelation.DISJOINT,
            [f"S2_{i:02d}" for i in range(2, 11)] + S1_ALL,
        ),
    ],
)
async def test_temporal_relations(
    loaded: CatalogueStore,
    start: object,
    end: object,
    relation: TemporalRelation,
    expected: list[str],
) -> None:
    hits = await found(loaded, time_start=start, time_end=end, temporal_relation=relation)
    assert hits == sorted(expected)


async def test_records_without_time_never_match_a_time_constraint(store: CatalogueStore) -> None:
    await store.upsert([collection(), product("timeless", start=None), product("timed")])
    assert await found(store, time_start=_at(-10), time_end=_at(10)) == ["timed"]
    assert await found(store, time_start=_at(5), temporal_relation=TemporalRelation.DISJOINT) == [
        "timed"
    ]
