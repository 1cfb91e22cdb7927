"""Spatial parameters (OGC 10-032): ``geo:box``, ``geo:geometry`` (WKT) and ``geo:lat/lon/radius``."""

from __future__ import annotations

import math
import warnings
from typing import Any

import shapely
import shapely.wkt
from shapely.geometry import mapping

from everest_elearn.errors import InvalidInput

# Advertised in the description document (CEOS BP-002C).
WKT_TYPES = (
    "POINT",
    "MULTIPOINT",
    "LINESTRING",
    "MULTILINESTRING",
    "POLYGON",
    "MULTIPOLYGON",
    "GEOMETRYCOLLECTION",
)
METRES_PER_DEGREE = 111_320.0  # along a meridian; the circle is approximated equirectangularly
CIRCLE_SEGMENTS = 32


def _float(text: str, where: str) -> float:
    try:
        value = float(text.strip())
    except ValueError:
        raise InvalidInput(where, f"{text!r} is not a number") from None
    if not math.isfinite(value):
        raise InvalidInput(where, f"{text!r} is not a finite number")
    return value


def _polygon(west: float, south: float, east: float, north: float) -> list[list[list[float]]]:
    return [[[west, south], [east, south], [east, north], [west, north], [west, south]]]


def box_geometry(text: str, where: str = "geo:box") -> dict[str, Any]:
    """``west,south,east,north``; west > east crosses the antimeridian (two boxes)."""
    parts = text.split(",")
    if len(parts) != 4:
        raise InvalidInput(where, f"{text!r}: expected west,south,east,north (4 numbers)")
    west, south, east, north = (_float(p, where) for p in parts)
    if not (-180 <= west <= 180 and -180 <= east <= 180):
        raise InvalidInput(where, "longitudes must lie within -180..180")
    if not (-90 <= south <= 90 and -90 <= north <= 90):
        raise InvalidInput(where, "latitudes must lie within -90..90")
    if south > north:
        raise InvalidInput(where, "south is above north")
    if west > east:
        return {
            "type": "MultiPolygon",
            "coordinates": [
                _polygon(west, south, 180.0, north),
                _polygon(-180.0, south, east, north),
            ],
        }
    if west == east and south == north:
        return {"type": "Point", "coordinates": [west, south]}
    if west == east or south == north:
        return {"type": "LineString", "coordinates": [[west, south], [east, north]]}
    return {"type": "Polygon", "coordinates": _polygon(west, south, east, north)}


def wkt_geometry(text: str, where: str = "geo:geometry") -> dict[str, Any]:
    """Any WKT geometry in EPSG:4326 (lon lat order); invalid polygons are repaired."""
    head = text.strip().split("(", 1)[0].strip().upper().split(" ")[0]
    if head not in WKT_TYPES:
        raise InvalidInput(where, f"{head or text!r} is not one of {', '.join(WKT_TYPES)}")
    try:
        # GEOS reports bad input as exceptions and sometimes warnings; both mean malformed WKT.
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            geometry = shapely.wkt.loads(text)
            geometry = shapely.force_2d(geometry)
    except Exception as exc:  # shapely raises several unrelated types for bad WKT
        raise InvalidInput(where, f"malformed WKT ({type(exc).__name__})") from None
    if geometry.is_empty:
        raise InvalidInput(where, "the geometry is empty")
    west, south, east, north = geometry.bounds
    if not all(math.isfinite(v) for v in (west, south, east, north)):
        raise InvalidInput(where, "coordinates must be finite numbers")
    if west < -180 or east > 180 or south < -90 or north > 90:
        raise InvalidInput(
            where, "coordinates must be longitude latitude within -180..180, -90..90"
        )
    if not geometry.is_valid:
        geometry = shapely.make_valid(geometry)
    result: dict[str, Any] = _plain(mapping(geometry))
    return result


def _plain(node: Any) -> Any:
    """Shapely's mapping uses tuples; backends and JSON want lists."""
    if isinstance(node, dict):
        return {k: _plain(v) for k, v in node.items()}
    if isinstance(node, (list, tuple)):
        return [_plain(v) for v in node]
    return node


def circle_geometry(lat_text: str, lon_text: str, radius_text: str | None) -> dict[str, Any]:
    """A point, or a polygon approximating the circle of ``radius`` metres around it."""
    lat = _float(lat_text, "geo:lat")
    lon = _float(lon_text, "geo:lon")
    if not -90 <= lat <= 90:
        raise InvalidInput("geo:lat", f"{lat:g} is outside -90..90")
    if not -180 <= lon <= 180:
        raise InvalidInput("geo:lon", f"{lon:g} is outside -180..180")
    if radius_text is None:
        return {"type": "Point", "coordinates": [lon, lat]}
    radius = _float(radius_text, "geo:radius")
    if radius < 0:
        raise InvalidInput("geo:radius", "must not be negative")
    if radius == 0:
        return {"type": "Point", "coordinates": [lon, lat]}
    dlat = radius / METRES_PER_DEGREE
    cos_lat = math.cos(math.radians(lat))
    if lat + dlat >= 90 or lat - dlat <= -90 or cos_lat <= 1e-9 or dlat / cos_lat >= 180:
        # The circle reaches a pole or wraps the globe: a latitude band is the honest answer.
        south, north = max(-90.0, lat - dlat), min(90.0, lat + dlat)
        return {"type": "Polygon", "coordinates": _polygon(-180.0, south, 180.0, north)}
    dlon = dlat / cos_lat
    ring = []
    for i in range(CIRCLE_SEGMENTS):
        angle = 2 * math.pi * i / CIRCLE_SEGMENTS
        x = lon + dlon * math.cos(angle)
        ring.append([max(-180.0, min(180.0, x)), lat + dlat * math.sin(angle)])
    ring.append(ring[0])
    return {"type": "Polygon", "coordinates": [ring]}
