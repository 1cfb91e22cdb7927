"""Validation of everything a remote source sends: identifiers, times, numbers, geometries, links.

Every function raises :class:`Reject` with a message naming the field, so the caller can report
the item and go on with the next one.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any

from everest_elearn.catalogue.ingest.outcome import Reject
from everest_elearn.catalogue.model import IDENTIFIER_PATTERN, Link
from everest_elearn.catalogue.registry import REGISTRY, ParamType

_IDENTIFIER = re.compile(IDENTIFIER_PATTERN)
# Earliest and latest plausible EO dates: anything outside is a unit or format error upstream.
EARLIEST = datetime(1950, 1, 1, tzinfo=UTC)
LATEST = datetime(2100, 1, 1, tzinfo=UTC)
MAX_TEXT = 4096
MAX_ABSTRACT = 65536
MAX_KEYWORDS = 200
MAX_VERTICES = 100_000
MAX_LINKS = 500
# Schemes a client may follow; file: paths exist on one host only and javascript:/data: are unsafe.
LINK_SCHEMES = ("http://", "https://", "s3://", "gs://", "ftp://", "ftps://")
_INT64 = 2**63 - 1


def identifier(value: Any, where: str = "identifier") -> str:
    if not isinstance(value, str) or not value.strip():
        raise Reject(f"{where}: missing or not a string")
    value = value.strip()
    if not _IDENTIFIER.match(value):
        shown = value if len(value) <= 80 else value[:77] + "..."
        raise Reject(
            f"{where}: {shown!r} is not a safe identifier (letters, digits and . _ : - only, "
            "at most 255 characters, starting with a letter or digit)"
        )
    return str(value)


def text(value: Any, where: str, limit: int = MAX_TEXT) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise Reject(f"{where}: expected text, got {type(value).__name__}")
    out = str(value).strip()
    if len(out) > limit:
        raise Reject(f"{where}: longer than {limit} characters")
    return out or None


def keywords(value: Any, where: str = "keywords") -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        value = [part for part in re.split(r"[,;]", value)]
    if not isinstance(value, list):
        raise Reject(f"{where}: expected a list of strings")
    out: list[str] = []
    for item in value[:MAX_KEYWORDS]:
        word = text(item, where, 256)
        if word and word not in out:
            out.append(word)
    return out


def timestamp(value: Any, where: str) -> datetime:
    """An RFC 3339 date-time (or a date), in UTC, within a plausible range for EO."""
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, str):
        raw = value.strip()
        try:
            if len(raw) == 10:
                moment = datetime.combine(date.fromisoformat(raw), datetime.min.time())
            else:
                moment = datetime.fromisoformat(raw.replace("z", "Z"))
        except ValueError:
            raise Reject(f"{where}: {value[:40]!r} is not an RFC 3339 date-time") from None
    else:
        raise Reject(f"{where}: expected an RFC 3339 date-time string")
    if moment.tzinfo is None:  # naive times in EO metadata are UTC by convention
        moment = moment.replace(tzinfo=UTC)
    moment = moment.astimezone(UTC)
    if not EARLIEST <= moment < LATEST:
        raise Reject(f"{where}: {moment.date()} is outside 1950..2099")
    return moment


def iso(moment: datetime) -> str:
    """Fixed-width UTC form, so stored dates also sort as strings."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def interval(value: Any, where: str) -> tuple[datetime, datetime | None]:
    """``start/end`` (OGC 17-047 ``date``) or a single instant; ``..`` means open."""
    if not isinstance(value, str):
        raise Reject(f"{where}: expected 'start/end'")
    first, _, second = value.partition("/")
    if first in {"", ".."}:
        raise Reject(f"{where}: the interval has no start")
    start = timestamp(first, where)
    end = timestamp(second, where) if second not in {"", ".."} else None
    return start, end


def number(value: Any, where: str, integer: bool = False) -> float | int:
    if isinstance(value, bool):
        raise Reject(f"{where}: expected a number, got a boolean")
    if isinstance(value, str):
        try:
            value = float(value.strip()) if not integer else _int_text(value)
        except ValueError:
            raise Reject(f"{where}: {value[:40]!r} is not a number") from None
    if not isinstance(value, (int, float)):
        raise Reject(f"{where}: expected a number, got {type(value).__name__}")
    if isinstance(value, float) and not math.isfinite(value):
        raise Reject(f"{where}: not a finite number")
    if integer:
        if isinstance(value, float):
            if not value.is_integer():
                raise Reject(f"{where}: {value} is not an integer")
            value = int(value)
        if abs(value) > _INT64:
            raise Reject(f"{where}: {value} is too large")
        return int(value)
    if abs(value) > 1e300:
        raise Reject(f"{where}: {value} is too large")
    return float(value)


def _int_text(raw: str) -> int | float:
    raw = raw.strip()
    return int(raw) if re.fullmatch(r"[+-]?\d{1,19}", raw) else float(raw)


def eo_value(field: str, value: Any) -> Any:
    """Coerce one EO property to its registry type and range; None drops it."""
    param = REGISTRY.by_field(field)
    if param is None:
        raise Reject(f"{field}: not a registry parameter")
    if value is None or value == "" or value == []:
        return None
    where = param.name
    out: Any
    if param.type in {ParamType.INT, ParamType.FLOAT}:
        out = number(value, where, integer=param.type is ParamType.INT)
        if param.minimum is not None and out < param.minimum:
            raise Reject(f"{where}: {out} is below the minimum {param.minimum:g}")
        if param.maximum is not None and out > param.maximum:
            raise Reject(f"{where}: {out} is above the maximum {param.maximum:g}")
    elif param.type is ParamType.DATETIME:
        out = iso(timestamp(value, where))
    elif param.type is ParamType.BOOL:
        out = value if isinstance(value, bool) else str(value).strip().lower() == "true"
    elif isinstance(value, list):
        out = text(", ".join(str(text(v, where, 256)) for v in value if v is not None), where)
    else:
        out = text(value, where, 1024)
    return out


def eo_properties(raw: dict[str, Any]) -> dict[str, Any]:
    coerced = {field: eo_value(field, value) for field, value in raw.items()}
    return {field: value for field, value in coerced.items() if value is not None}


def _position(node: Any, where: str) -> list[float]:
    if not isinstance(node, list) or len(node) < 2 or len(node) > 4:
        raise Reject(f"{where}: a position must be [lon, lat]")
    lon, lat = (number(node[0], where), number(node[1], where))
    if not -180.0 <= lon <= 180.0 or not -90.0 <= lat <= 90.0:
        raise Reject(f"{where}: ({lon}, {lat}) is outside lon -180..180, lat -90..90")
    return [float(lon), float(lat)]


def _ring(node: Any, where: str) -> list[list[float]]:
    if not isinstance(node, list):
        raise Reject(f"{where}: a ring must be a list of positions")
    ring = [_position(p, where) for p in node]
    if len(ring) < 4 or ring[0] != ring[-1]:
        raise Reject(f"{where}: a polygon ring needs 4 or more positions and must be closed")
    return ring


def _many(node: Any, where: str, each: Callable[[Any, str], Any], least: int = 1) -> list[Any]:
    if not isinstance(node, list) or len(node) < least:
        raise Reject(f"{where}: expected a list of at least {least}")
    return [each(part, where) for part in node]


def _polygon(node: Any, where: str) -> list[list[list[float]]]:
    return _many(node, where, _ring)


_GEOMETRY_PARTS: dict[str, Callable[[Any, str], Any]] = {
    "Point": _position,
    "MultiPoint": lambda n, w: _many(n, w, _position),
    "LineString": lambda n, w: _many(n, w, _position, 2),
    "MultiLineString": lambda n, w: _many(n, w, lambda m, v: _many(m, v, _position, 2)),
    "Polygon": _polygon,
    "MultiPolygon": lambda n, w: _many(n, w, _polygon),
}


def geometry(value: Any, where: str = "geometry") -> dict[str, Any]:
    """A GeoJSON geometry in EPSG:4326, checked for structure, ranges and size."""
    if not isinstance(value, dict):
        raise Reject(f"{where}: missing or not a GeoJSON object")
    kind = value.get("type")
    if kind == "GeometryCollection":
        parts = value.get("geometries")
        if not isinstance(parts, list) or not parts:
            raise Reject(f"{where}: an empty GeometryCollection")
        return {"type": kind, "geometries": [geometry(part, where) for part in parts]}
    if kind not in _GEOMETRY_PARTS:
        raise Reject(f"{where}: unknown geometry type {str(kind)[:40]!r}")
    if _count_positions(value.get("coordinates")) > MAX_VERTICES:
        raise Reject(f"{where}: more than {MAX_VERTICES} vertices")
    return {"type": kind, "coordinates": _GEOMETRY_PARTS[kind](value.get("coordinates"), where)}


def _count_positions(node: Any) -> int:
    if not isinstance(node, list) or not node:
        return 0
    if not isinstance(node[0], list):
        return 1
    return sum(_count_positions(child) for child in node)


def box_polygon(west: float, south: float, east: float, north: float) -> dict[str, Any]:
    ring = [[west, south], [east, south], [east, north], [west, north], [west, south]]
    return geometry({"type": "Polygon", "coordinates": [ring]}, "bbox")


def bbox_geometry(value: Any, where: str = "bbox") -> dict[str, Any]:
    """A GeoJSON/STAC bbox (2D or 3D) as a polygon; west > east crosses the antimeridian."""
    if not isinstance(value, list) or len(value) not in {4, 6}:
        raise Reject(f"{where}: expected [west, south, east, north]")
    values = [number(v, where) for v in value]
    if len(values) == 6:  # west, south, zmin, east, north, zmax
        values = [values[0], values[1], values[3], values[4]]
    west, south, east, north = values
    if south > north:
        raise Reject(f"{where}: south is above north")
    if west > east:  # split at the antimeridian
        left = box_polygon(west, south, 180.0, north)["coordinates"]
        right = box_polygon(-180.0, south, east, north)["coordinates"]
        return {"type": "MultiPolygon", "coordinates": [left, right]}
    return box_polygon(west, south, east, north)


_MULTIHASH = {"11": "sha1", "12": "sha256", "13": "sha512", "d5": "md5"}


def checksum(value: Any) -> str | None:
    """``<algo>:<hex>`` from a multihash (STAC file:checksum), an ``algo:hex`` or a bare MD5."""
    if not isinstance(value, str):
        return None
    raw = value.strip().lower()
    if re.fullmatch(r"(md5|sha1|sha256|sha512):[0-9a-f]+", raw):
        return raw
    if re.fullmatch(r"[0-9a-f]{32}", raw):  # DHuS and resto publish bare MD5 sums
        return f"md5:{raw}"
    if re.fullmatch(r"[0-9a-f]{6,}", raw):
        algo = _MULTIHASH.get(raw[:2])
        length = int(raw[2:4], 16) if algo else 0
        digest = raw[4:]
        if algo and len(digest) == 2 * length:
            return f"{algo}:{digest}"
    return None


def link(
    href: Any,
    rel: str,
    media_type: Any = None,
    title: Any = None,
    length: Any = None,
    digest: Any = None,
) -> Link:
    """A link a client may follow; raises Reject (to be reported as a warning) when unsafe."""
    if not isinstance(href, str) or not href.strip():
        raise Reject(f"link {rel}: missing href")
    href = href.strip()
    if not href.lower().startswith(LINK_SCHEMES):
        raise Reject(f"link {rel}: {href[:60]!r} is not an http(s), s3, gs or ftp URL; dropped")
    if len(href) > 4096 or any(c in href for c in ' \n\r\t<>"'):
        raise Reject(f"link {rel}: malformed URL; dropped")
    size: int | None = None
    if length not in (None, ""):
        try:
            size = int(number(length, "length", integer=True))
        except Reject:
            size = None
        if size is not None and size < 0:
            size = None
    return Link(
        href=href,
        rel=rel,
        type=text(media_type, "type", 255) if isinstance(media_type, str) else None,
        title=text(title, "title", 1024) if isinstance(title, (str, int, float)) else None,
        length=size,
        checksum=checksum(digest),
    )
