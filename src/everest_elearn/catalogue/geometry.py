"""Footprints: validation, bounding boxes, antimeridian handling, WKT parsing, circles and boxes."""

from __future__ import annotations

import itertools
import json
import math
from typing import Any

import shapely
import shapely.affinity
from shapely.geometry import box as _box
from shapely.geometry import shape as _shape
from shapely.geometry.base import BaseGeometry

from everest_elearn.errors import InvalidInput

# Mean Earth radius (IUGG), metres: geo:radius is in metres on a sphere (OGC 10-032 leaves the model open).
EARTH_RADIUS_M = 6_371_008.8
GEOJSON_TYPES = (
    "Point",
    "MultiPoint",
    "LineString",
    "MultiLineString",
    "Polygon",
    "MultiPolygon",
    "GeometryCollection",
)
WORLD = (-180.0, -90.0, 180.0, 90.0)


def _coords(geometry: dict[str, Any]) -> list[tuple[float, float]]:
    kind = geometry.get("type")
    if kind == "GeometryCollection":
        out: list[tuple[float, float]] = []
        for part in geometry.get("geometries", []):
            out.extend(_coords(part))
        return out
    points: list[tuple[float, float]] = []

    def walk(node: Any) -> None:
        if isinstance(node, (list, tuple)) and node and isinstance(node[0], (int, float)):
            points.append((float(node[0]), float(node[1])))
        elif isinstance(node, (list, tuple)):
            for child in node:
                walk(child)

    walk(geometry.get("coordinates", []))
    return points


def bbox_of(geometry: dict[str, Any]) -> tuple[float, float, float, float]:
    """West, south, east, north of a GeoJSON geometry (no antimeridian wrapping)."""
    points = _coords(geometry)
    if not points:
        raise InvalidInput("geometry", "the geometry has no coordinates")
    xs = [p[0] for p in points]
    ys = [p[1] for p in points]
    return min(xs), min(ys), max(xs), max(ys)


def to_geojson(geom: BaseGeometry) -> dict[str, Any]:
    """A shapely geometry as a plain GeoJSON dict (lists, not tuples)."""
    result: dict[str, Any] = json.loads(shapely.to_geojson(geom))
    return result


def to_shape(geometry: dict[str, Any], where: str = "geometry") -> BaseGeometry:
    """A GeoJSON dict as a shapely geometry; malformed input raises InvalidInput naming ``where``."""
    if not isinstance(geometry, dict) or geometry.get("type") not in GEOJSON_TYPES:
        raise InvalidInput(where, f"not a GeoJSON geometry (type must be one of {GEOJSON_TYPES})")
    try:
        geom = _shape(geometry)
    except (ValueError, TypeError, AttributeError, IndexError, KeyError) as exc:
        raise InvalidInput(where, f"malformed GeoJSON geometry: {exc}") from None
    except shapely.errors.GEOSException as exc:
        raise InvalidInput(where, f"malformed GeoJSON geometry: {exc}") from None
    if geom.is_empty:
        raise InvalidInput(where, "the geometry is empty")
    return geom


def _unwrap_ring(ring: list[tuple[float, float]]) -> list[tuple[float, float]]:
    """Make longitudes continuous: an edge jumping more than 180 degrees crosses the antimeridian."""
    out = [ring[0]]
    offset = 0.0
    for (x0, _), (x1, y1) in itertools.pairwise(ring):
        step = x1 - x0
        if step > 180:
            offset -= 360
        elif step < -180:
            offset += 360
        out.append((x1 + offset, y1))
    return out


def _split_polygon(poly: shapely.Polygon) -> list[shapely.Polygon]:
    """Cut a polygon whose (unwrapped) longitudes leave [-180, 180] into parts shifted back."""
    shell = _unwrap_ring([(float(x), float(y)) for x, y, *_ in poly.exterior.coords])
    holes = []
    shell_x = shell[0][0]
    for interior in poly.interiors:
        ring = _unwrap_ring([(float(x), float(y)) for x, y, *_ in interior.coords])
        # Holes follow the shell's side of the antimeridian.
        shift = round((shell_x - ring[0][0]) / 360) * 360
        holes.append([(x + shift, y) for x, y in ring])
    whole = shapely.make_valid(shapely.Polygon(shell, holes))
    if whole.area == 0 or (whole.bounds[2] - whole.bounds[0]) > (poly.bounds[2] - poly.bounds[0]):
        # Unwrapping made it worse (e.g. a box from -180 to 180): the polygon never crossed.
        whole = poly if poly.is_valid else shapely.make_valid(poly)
    west, _, east, _ = whole.bounds
    if west >= -180 and east <= 180:
        return _polygons(whole)
    parts: list[shapely.Polygon] = []
    for turn in (-720.0, -360.0, 0.0, 360.0, 720.0):
        window = _box(-180 - turn, -90, 180 - turn, 90)
        piece = whole.intersection(window)
        if not piece.is_empty:
            parts.extend(_polygons(shapely.affinity.translate(piece, xoff=turn)))
    return parts


def _polygons(geom: BaseGeometry) -> list[shapely.Polygon]:
    if isinstance(geom, shapely.Polygon):
        return [] if geom.is_empty or geom.area == 0 else [geom]
    if hasattr(geom, "geoms"):
        out: list[shapely.Polygon] = []
        for part in geom.geoms:
            out.extend(_polygons(part))
        return out
    return []


def _check_ranges(geom: BaseGeometry, where: str) -> None:
    west, south, east, north = geom.bounds
    if not all(math.isfinite(v) for v in (west, south, east, north)):
        raise InvalidInput(where, "coordinates must be finite numbers")
    if south < -90 or north > 90:
        raise InvalidInput(where, f"latitudes must lie in [-90, 90] (got {south}..{north})")
    if west < -540 or east > 540:
        raise InvalidInput(where, f"longitudes must lie in [-180, 180] (got {west}..{east})")


def _plain(poly: shapely.Polygon) -> bool:
    west, _, east, _ = poly.bounds
    if west < -180 or east > 180 or not poly.is_valid:
        return False
    xs = shapely.get_coordinates(poly.exterior)[:, 0]
    return bool((abs(xs[1:] - xs[:-1]) <= 180).all())


def normalise(geometry: dict[str, Any], where: str = "geometry") -> dict[str, Any]:
    """Validate a GeoJSON geometry, repair self-intersections, split antimeridian crossings.

    Polygons crossing the antimeridian (an edge longer than 180 degrees of longitude, or
    longitudes beyond +-180) become a MultiPolygon of parts on either side.
    """
    geom = to_shape(geometry, where)
    _check_ranges(geom, where)
    if isinstance(geom, shapely.Polygon) and _plain(geom):
        return geometry  # the common case: already valid, inside +-180, no long edge
    if isinstance(geom, (shapely.Polygon, shapely.MultiPolygon)):
        parts: list[shapely.Polygon] = []
        for poly in _polygons(geom) if isinstance(geom, shapely.MultiPolygon) else [geom]:
            parts.extend(_split_polygon(poly))
        if not parts:
            raise InvalidInput(where, "the polygon has no area")
        merged = shapely.unary_union(parts) if len(parts) > 1 else parts[0]
        polys = _polygons(merged)
        result: BaseGeometry = polys[0] if len(polys) == 1 else shapely.MultiPolygon(polys)
        return to_geojson(result)
    west, _, east, _ = geom.bounds
    if west < -180 or east > 180:
        raise InvalidInput(where, f"longitudes must lie in [-180, 180] (got {west}..{east})")
    if not geom.is_valid:
        geom = shapely.make_valid(geom)
    return to_geojson(geom)


def parse_wkt(text: str, where: str = "geometry") -> dict[str, Any]:
    """Parse WKT (every OGC simple-feature type, EPSG:4326 lon/lat) into a normalised GeoJSON dict."""
    if not text or not text.strip():
        raise InvalidInput(where, "empty WKT")
    try:
        geom = shapely.from_wkt(text.strip())
    except (shapely.errors.GEOSException, ValueError) as exc:
        raise InvalidInput(where, f"not valid WKT: {exc}") from None
    if geom is None or geom.is_empty:
        raise InvalidInput(where, "the WKT geometry is empty")
    return normalise(to_geojson(geom), where)


def from_box(
    west: float, south: float, east: float, north: float, where: str = "box"
) -> dict[str, Any]:
    """A geo:box as GeoJSON; west > east means the box crosses the antimeridian."""
    values = (west, south, east, north)
    if not all(math.isfinite(v) for v in values):
        raise InvalidInput(where, "box values must be finite numbers")
    if not (-180 <= west <= 180 and -180 <= east <= 180):
        raise InvalidInput(where, "box longitudes must lie in [-180, 180]")
    if not (-90 <= south <= 90 and -90 <= north <= 90):
        raise InvalidInput(where, "box latitudes must lie in [-90, 90]")
    if south > north:
        raise InvalidInput(where, "south is greater than north")
    if west <= east:
        if west == east and south == north:
            return to_geojson(shapely.Point(west, south))
        if west == east or south == north:
            return to_geojson(shapely.LineString([(west, south), (east, north)]))
        return to_geojson(_box(west, south, east, north))
    return to_geojson(
        shapely.MultiPolygon([_box(west, south, 180, north), _box(-180, south, east, north)])
    )


def circle(lat: float, lon: float, radius_m: float, segments: int = 64) -> dict[str, Any]:
    """The area within ``radius_m`` metres of a point on the sphere, as a (multi)polygon."""
    if not (-90 <= lat <= 90):
        raise InvalidInput("lat", "latitude must lie in [-90, 90]")
    if not (-180 <= lon <= 180):
        raise InvalidInput("lon", "longitude must lie in [-180, 180]")
    if not math.isfinite(radius_m) or radius_m <= 0:
        raise InvalidInput("radius", "the radius must be a positive number of metres")
    angular = radius_m / EARTH_RADIUS_M
    if angular >= math.pi:
        return to_geojson(_box(*WORLD))
    phi, lam = math.radians(lat), math.radians(lon)
    top, bottom = lat + math.degrees(angular), lat - math.degrees(angular)
    if top >= 90 or bottom <= -90:
        # The circle covers a pole: a latitude band is the closest simple polygon.
        south, north = (max(bottom, -90.0), 90.0) if top >= 90 else (-90.0, min(top, 90.0))
        return to_geojson(_box(-180, south, 180, north))
    ring = []
    for i in range(segments):
        bearing = 2 * math.pi * i / segments
        phi2 = math.asin(
            math.sin(phi) * math.cos(angular)
            + math.cos(phi) * math.sin(angular) * math.cos(bearing)
        )
        lam2 = lam + math.atan2(
            math.sin(bearing) * math.sin(angular) * math.cos(phi),
            math.cos(angular) - math.sin(phi) * math.sin(phi2),
        )
        ring.append((math.degrees(lam2), math.degrees(phi2)))
    ring.append(ring[0])
    return normalise({"type": "Polygon", "coordinates": [ring]}, "radius")


def is_rectangle(geom: BaseGeometry) -> bool:
    """True when a polygon equals its bounding box (then a bbox test is exact)."""
    return isinstance(geom, shapely.Polygon) and not geom.interiors and geom.equals(geom.envelope)


def parts_bboxes(geometry: dict[str, Any]) -> list[tuple[float, float, float, float]]:
    """Bounding boxes of the parts of a geometry (one per polygon of a multipolygon)."""
    geom = to_shape(geometry)
    if isinstance(geom, (shapely.MultiPolygon, shapely.MultiPoint, shapely.MultiLineString)):
        return [tuple(part.bounds) for part in geom.geoms]
    return [tuple(geom.bounds)]
