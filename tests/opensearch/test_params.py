"""Request parsing: every parameter becomes the right Query field, bad values name themselves."""

from __future__ import annotations

from collections.abc import Mapping

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from everest_elearn.catalogue.model import Kind
from everest_elearn.catalogue.opensearch.params import SearchRequest, parse_request, split_terms
from everest_elearn.catalogue.query import Interval, OneOf, SortKey, SpatialRelation
from everest_elearn.catalogue.registry import REGISTRY, Level
from everest_elearn.errors import InvalidInput


def parse(params: Mapping[str, str], level: Level = Level.PRODUCT) -> SearchRequest:
    return parse_request(
        {k: [v] for k, v in params.items()}, level=level, default_count=10, max_count=50
    )


def test_terms_are_words_and_quoted_phrases() -> None:
    assert split_terms('flood "Sentinel-1  GRD" spain') == ("flood", "Sentinel-1 GRD", "spain")
    assert split_terms('"unclosed phrase') == ("unclosed phrase",)
    assert split_terms('  ""  ') == ()


def test_empty_values_mean_absent_and_unknown_keys_are_ignored() -> None:
    request = parse({"cloudCover": "", "box": " ", "foo": "bar", "count": ""})
    assert request.query.filters == {}
    assert request.query.geometry is None
    assert request.applied == {}
    assert request.count == 10


def test_paging_start_index_wins_over_start_page() -> None:
    assert parse({"count": "5", "startPage": "3"}).query.offset == 10
    both = parse({"count": "5", "startPage": "3", "startIndex": "2"})
    assert both.query.offset == 1
    assert "startPage" not in both.applied


def test_count_above_the_maximum_is_clamped_and_zero_is_allowed() -> None:
    assert parse({"count": "1000"}).count == 50
    assert parse({"count": "1000"}).applied["count"] == "50"
    assert parse({"count": "0"}).query.limit == 0


@pytest.mark.parametrize(
    ("key", "value", "where"),
    [
        ("count", "-1", "count"),
        ("count", "ten", "count"),
        ("startIndex", "0", "startIndex"),
        ("startPage", "1e3", "startPage"),
        ("box", "1,2,3", "geo:box"),
        ("box", "10,50,20,40", "geo:box"),
        ("box", "0,0,200,10", "geo:box"),
        ("geometry", "POLYGON((0 0, 1 1))", "geo:geometry"),
        ("geometry", "CIRCLE(1 2)", "geo:geometry"),
        ("geometry", "POINT(500 0)", "geo:geometry"),
        ("lat", "95", "geo:lon"),
        ("radius", "100", "geo:radius"),
        ("start", "yesterday", "time:start"),
        ("relation", "touches", "geo:relation"),
        ("cloudCover", "[10,", "eo:cloudCover"),
        ("cloudCover", "150", "eo:cloudCover"),
        ("orbitNumber", "1.5", "eo:orbitNumber"),
        ("sortKeys", "colour,,1", "sru:sortKeys"),
        ("searchTerms", "flood\x00", "searchTerms"),
        ("platform", "\x1b[31m", "eo:platform"),
    ],
)
def test_malformed_values_name_the_parameter(key: str, value: str, where: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        parse({key: value})
    assert caught.value.where == where


def test_spatial_parameters() -> None:
    box = parse({"box": "-10,35,5,45", "relation": "contains"}).query
    assert box.geometry is not None and box.geometry["type"] == "Polygon"
    assert box.spatial_relation is SpatialRelation.CONTAINS
    crossing = parse({"box": "170,-10,-170,10"}).query.geometry
    assert crossing is not None and crossing["type"] == "MultiPolygon"
    circle = parse({"lat": "40", "lon": "-3", "radius": "10000"}).query.geometry
    assert circle is not None and circle["type"] == "Polygon"
    point = parse({"lat": "40", "lon": "-3"}).query.geometry
    assert point == {"type": "Point", "coordinates": [-3.0, 40.0]}


@pytest.mark.parametrize(
    "wkt",
    [
        "POINT(1 2)",
        "MULTIPOINT((1 2),(3 4))",
        "LINESTRING(0 0, 1 1)",
        "MULTILINESTRING((0 0, 1 1),(2 2, 3 3))",
        "POLYGON((0 0, 1 0, 1 1, 0 1, 0 0))",
        "MULTIPOLYGON(((0 0, 1 0, 1 1, 0 0)),((5 5, 6 5, 6 6, 5 5)))",
        "GEOMETRYCOLLECTION(POINT(1 2), LINESTRING(0 0, 1 1))",
        "POINT Z (1 2 3)",
    ],
)
def test_every_wkt_type_is_accepted(wkt: str) -> None:
    geometry = parse({"geometry": wkt}).query.geometry
    assert geometry is not None
    assert geometry["type"].upper() == wkt.split("(")[0].split(" ")[0].upper()


def test_eo_parameters_filters_and_echo() -> None:
    request = parse(
        {
            "cloudCover": "[0,20]",
            "platform": "{Sentinel-2A,Sentinel-2B}",
            "orbitDirection": "ASCENDING",
            "orbitNumber": "{1,2}",
            "parentIdentifier": "S2_L2A",
            "sortKeys": "cloudCover,,1 start,,0",
            "start": "2021-01-01",
            "end": "2021-12-31",
            "timeRelation": "during",
            "searchTerms": 'flood "Rhone delta"',
        }
    )
    query = request.query
    assert query.kind is Kind.PRODUCT
    assert query.parent == "S2_L2A"
    assert query.filters["cloudCover"] == Interval(0.0, 20.0)
    assert query.filters["platform"] == OneOf(("Sentinel-2A", "Sentinel-2B"))
    assert query.filters["orbitNumber"] == OneOf((1, 2))
    assert query.sort == (SortKey("cloudCover", True), SortKey("start", False))
    assert query.terms == ("flood", "Rhone delta")
    assert query.time_end is not None and query.time_end.hour == 23
    assert request.applied["eo:cloudCover"] == "[0,20]"
    assert request.applied["time:relation"] == "during"
    assert request.applied["eo:parentIdentifier"] == "S2_L2A"
    assert request.applied_keys["timeRelation"] == "during"


def test_product_parameters_are_ignored_in_a_collection_search() -> None:
    request = parse({"cloudCover": "10", "platform": "Sentinel-2A"}, Level.COLLECTION)
    assert request.query.kind is Kind.COLLECTION
    assert "cloudCover" not in request.query.filters
    assert request.query.filters["platform"] == OneOf(("Sentinel-2A",))


def test_repeated_parameters_with_different_values_are_refused() -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_request(
            {"cloudCover": ["10", "20"]}, level=Level.PRODUCT, default_count=10, max_count=50
        )
    assert caught.value.where == "eo:cloudCover"


KEYS = sorted({k for p in REGISTRY for k in (p.name, "timeRelation")} | {"httpAccept", "x"})


@settings(max_examples=400, deadline=None)
@given(st.dictionaries(st.sampled_from(KEYS), st.lists(st.text(max_size=40), max_size=2)))
def test_any_input_parses_or_raises_invalid_input(params: dict[str, list[str]]) -> None:
    for level in Level:
        try:
            parse_request(params, level=level, default_count=10, max_count=50)
        except InvalidInput as exc:
            assert exc.where
