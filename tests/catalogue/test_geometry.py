"""Footprint and query geometry handling: WKT, validation, antimeridian, circles and boxes."""

from __future__ import annotations

import math

import pytest
import shapely
from shapely.geometry import shape

from everest_elearn.catalogue import geometry as geo
from everest_elearn.errors import InvalidInput


@pytest.mark.parametrize(
    ("wkt", "kind"),
    [
        ("POINT (1 2)", "Point"),
        ("MULTIPOINT ((1 2), (3 4))", "MultiPoint"),
        ("LINESTRING (0 0, 1 1)", "LineString"),
        ("MULTILINESTRING ((0 0, 1 1), (2 2, 3 3))", "MultiLineString"),
        ("POLYGON ((0 0, 1 0, 1 1, 0 1, 0 0))", "Polygon"),
        ("MULTIPOLYGON (((0 0, 1 0, 1 1, 0 0)), ((5 5, 6 5, 6 6, 5 5)))", "MultiPolygon"),
        ("GEOMETRYCOLLECTION (POINT (1 2), LINESTRING (0 0, 1 1))", "GeometryCollection"),
        ("polygon((0 0,1 0,1 1,0 1,0 0))", "Polygon"),
    ],
)
def test_wkt_of_every_type(wkt: str, kind: str) -> None:
    assert geo.parse_wkt(wkt)["type"] == kind


@pytest.mark.parametrize(
    ("wkt", "message"),
    [
        ("", "empty"),
        ("POLYGON ((0 0, 1 0", "WKT"),
        ("CIRCLE (1 2)", "WKT"),
        ("POINT (0 95)", "latitude"),
        ("POINT (200 0)", "longitude"),
        ("POLYGON EMPTY", "empty"),
    ],
)
def test_bad_wkt_names_the_parameter(wkt: str, message: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        geo.parse_wkt(wkt, "geo:geometry")
    assert caught.value.where == "geo:geometry"
    assert message.lower() in caught.value.message.lower()


def test_polygon_across_the_antimeridian_becomes_two_parts() -> None:
    ring = [[170, -10], [-170, -10], [-170, 10], [170, 10], [170, -10]]
    result = geo.normalise({"type": "Polygon", "coordinates": [ring]})
    assert result["type"] == "MultiPolygon"
    parts = shape(result)
    assert math.isclose(parts.area, 20 * 20)
    assert parts.bounds == (-180, -10, 180, 10)
    assert all(-180 <= x <= 180 for x, _ in parts.geoms[0].exterior.coords)


def test_polygon_written_with_longitudes_beyond_180_is_split_too() -> None:
    ring = [[170, 0], [190, 0], [190, 5], [170, 5], [170, 0]]
    result = shape(geo.normalise({"type": "Polygon", "coordinates": [ring]}))
    assert isinstance(result, shapely.MultiPolygon) and math.isclose(result.area, 100)


def test_world_box_is_not_mistaken_for_a_crossing() -> None:
    ring = [[-180, -90], [180, -90], [180, 90], [-180, 90], [-180, -90]]
    result = geo.normalise({"type": "Polygon", "coordinates": [ring]})
    assert result["type"] == "Polygon" and math.isclose(shape(result).area, 360 * 180)


def test_self_intersecting_polygon_is_repaired() -> None:
    bowtie = {"type": "Polygon", "coordinates": [[[0, 0], [10, 10], [10, 0], [0, 10], [0, 0]]]}
    result = shape(geo.normalise(bowtie))
    assert result.is_valid and math.isclose(result.area, 50)


def test_malformed_geojson() -> None:
    with pytest.raises(InvalidInput, match="GeoJSON"):
        geo.normalise({"type": "Polygon", "coordinates": [[[0, 0], [1]]]})
    with pytest.raises(InvalidInput, match="GeoJSON"):
        geo.normalise({"type": "Blob"})


def test_boxes() -> None:
    assert shape(geo.from_box(0, 0, 10, 5)).area == 50
    crossing = shape(geo.from_box(170, -5, -170, 5))
    assert isinstance(crossing, shapely.MultiPolygon) and math.isclose(crossing.area, 200)
    assert geo.from_box(1, 2, 1, 2)["type"] == "Point"
    assert geo.from_box(1, 2, 1, 3)["type"] == "LineString"
    with pytest.raises(InvalidInput, match="south"):
        geo.from_box(0, 10, 1, 5)
    with pytest.raises(InvalidInput):
        geo.from_box(0, 0, 1, 91)


def test_circle_has_the_right_size() -> None:
    disc = shape(geo.circle(0.0, 10.0, 111_195.0))  # one degree of arc at the equator
    west, south, east, north = disc.bounds
    assert math.isclose(north, 1.0, abs_tol=0.01) and math.isclose(south, -1.0, abs_tol=0.01)
    assert math.isclose(east - west, 2.0, abs_tol=0.01)
    assert disc.contains(shapely.Point(10.5, 0.5))


def test_circle_across_the_antimeridian_and_over_a_pole() -> None:
    dateline = shape(geo.circle(0.0, 179.9, 50_000))
    assert isinstance(dateline, shapely.MultiPolygon)
    assert dateline.intersects(shapely.Point(-179.9, 0)) and dateline.intersects(
        shapely.Point(179.9, 0)
    )
    polar = shape(geo.circle(89.5, 0.0, 200_000))
    assert polar.bounds[3] == 90 and polar.contains(shapely.Point(120, 89.9))
    with pytest.raises(InvalidInput) as caught:
        geo.circle(0, 0, -5)
    assert caught.value.where == "radius"


def test_parts_and_rectangles() -> None:
    assert geo.is_rectangle(shape(geo.from_box(0, 0, 1, 1)))
    assert not geo.is_rectangle(shapely.Polygon([(0, 0), (1, 0), (0, 1)]))
    assert len(geo.parts_bboxes(geo.from_box(170, -5, -170, 5))) == 2
