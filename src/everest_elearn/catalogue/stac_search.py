"""STAC search parameters (GET strings or a POST body) to a Query, and the paging tokens."""

from __future__ import annotations

import base64
import binascii
import json
from datetime import UTC, datetime
from typing import Any

from everest_elearn.catalogue import geometry as geo
from everest_elearn.catalogue.model import Kind
from everest_elearn.catalogue.query import Condition, Interval, OneOf, Query, SortKey
from everest_elearn.catalogue.registry import REGISTRY
from everest_elearn.errors import InvalidInput

MAX_LIMIT = 1000
_OPS = {"eq", "lt", "lte", "gt", "gte", "in"}


def _field(name: str) -> str:
    """A registry field from a STAC name (eo:cloud_cover) or a field name (cloudCover)."""
    param = REGISTRY.by_field(name)
    if param is None:
        param = next((p for p in REGISTRY.fields if p.stac == name), None)
    if param is None or param.field is None:
        raise InvalidInput("query", f"{name!r} is not a queryable (see /stac/queryables)")
    return param.field


def _time(text: str, where: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise InvalidInput(where, f"{text[:40]!r} is not an RFC 3339 date-time") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _interval(text: str) -> tuple[datetime | None, datetime | None]:
    first, slash, second = text.partition("/")
    if not slash:
        moment = _time(first, "datetime")
        return moment, moment
    start = None if first in ("", "..") else _time(first, "datetime")
    end = None if second in ("", "..") else _time(second, "datetime")
    if start and end and end < start:
        raise InvalidInput("datetime", "the interval ends before it starts")
    return start, end


def _bbox(value: Any) -> dict[str, Any]:
    if isinstance(value, str):
        value = value.split(",")
    try:
        numbers = [float(v) for v in value]
    except (TypeError, ValueError):
        raise InvalidInput("bbox", "expected four numbers west,south,east,north") from None
    if len(numbers) == 6:
        numbers = [numbers[0], numbers[1], numbers[3], numbers[4]]
    if len(numbers) != 4:
        raise InvalidInput("bbox", "expected four numbers west,south,east,north")
    west, south, east, north = numbers
    ring = [[west, south], [east, south], [east, north], [west, north], [west, south]]
    if west > east:  # crosses the antimeridian
        ring = [
            [west, south],
            [east + 360, south],
            [east + 360, north],
            [west, north],
            [west, south],
        ]
    return geo.normalise({"type": "Polygon", "coordinates": [ring]}, "bbox")


def _conditions(value: Any) -> dict[str, Condition]:
    if not isinstance(value, dict):
        raise InvalidInput("query", "expected an object of property -> {operator: value}")
    out: dict[str, Condition] = {}
    for name, ops in value.items():
        field = _field(str(name))
        if not isinstance(ops, dict) or not ops or set(ops) - _OPS:
            raise InvalidInput("query", f"{name}: operators are {', '.join(sorted(_OPS))}")
        if "eq" in ops or "in" in ops:
            values = ops["in"] if "in" in ops else [ops["eq"]]
            if not isinstance(values, list):
                raise InvalidInput("query", f"{name}: 'in' takes a list")
            out[field] = OneOf(tuple(values))
            continue
        low = ops.get("gte", ops.get("gt"))
        high = ops.get("lte", ops.get("lt"))
        out[field] = Interval(low, high, "gt" not in ops, "lt" not in ops)
    return out


def _sort(value: Any) -> tuple[SortKey, ...]:
    if isinstance(value, str):
        value = [
            {"field": v.lstrip("+-"), "direction": "desc" if v.startswith("-") else "asc"}
            for v in value.split(",")
            if v
        ]
    keys = []
    for entry in value if isinstance(value, list) else []:
        name = str(entry.get("field", "")).removeprefix("properties.")
        field = "start" if name in ("datetime", "start_datetime") else _field(name)
        keys.append(SortKey(field, str(entry.get("direction", "asc")).lower() != "desc"))
    return tuple(keys)


def encode_token(offset: int) -> str:
    return base64.urlsafe_b64encode(json.dumps({"o": offset}).encode()).decode().rstrip("=")


def decode_token(token: str) -> int:
    try:
        padded = token + "=" * (-len(token) % 4)
        offset = json.loads(base64.urlsafe_b64decode(padded))["o"]
    except (ValueError, KeyError, TypeError, binascii.Error):
        raise InvalidInput("token", "not a paging token issued by this API") from None
    if not isinstance(offset, int) or offset < 0:
        raise InvalidInput("token", "not a paging token issued by this API")
    return offset


def _list(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [v for v in value.split(",") if v]
    if isinstance(value, list):
        return [str(v) for v in value]
    raise InvalidInput("collections", "expected a list of identifiers")


def search_query(params: dict[str, Any], collection: str | None = None) -> Query:
    """A Query from STAC search parameters (GET strings or a POST body), with its page."""
    collections = [collection] if collection else _list(params.get("collections"))
    if len(collections) > 1:
        raise InvalidInput("collections", "search one collection at a time (or all of them)")
    try:
        limit = int(params.get("limit", 10))
    except (TypeError, ValueError):
        raise InvalidInput("limit", "expected an integer") from None
    if not 1 <= limit <= MAX_LIMIT:
        raise InvalidInput("limit", f"must lie in 1..{MAX_LIMIT}")
    geometry = None
    if params.get("bbox") is not None and params.get("intersects") is not None:
        raise InvalidInput("intersects", "give bbox or intersects, not both")
    if params.get("bbox") is not None:
        geometry = _bbox(params["bbox"])
    elif params.get("intersects") is not None:
        shape = params["intersects"]
        if isinstance(shape, str):
            try:
                shape = json.loads(shape)
            except ValueError:
                raise InvalidInput("intersects", "not a GeoJSON geometry") from None
        if not isinstance(shape, dict):
            raise InvalidInput("intersects", "not a GeoJSON geometry")
        geometry = geo.normalise(shape, "intersects")
    start = end = None
    if params.get("datetime"):
        start, end = _interval(str(params["datetime"]))
    query = params.get("query")
    if isinstance(query, str):
        try:
            query = json.loads(query)
        except ValueError:
            raise InvalidInput("query", "not JSON") from None
    terms = params.get("q")
    return Query(
        kind=Kind.PRODUCT,
        parent=collections[0] if collections else None,
        uids=tuple(_list(params.get("ids"))),
        terms=tuple(_list(terms) if not isinstance(terms, str) else terms.split()),
        geometry=geometry,
        time_start=start,
        time_end=end,
        filters=_conditions(query) if query else {},
        sort=_sort(params.get("sortby")) or (SortKey("start", False),),
        offset=decode_token(str(params["token"])) if params.get("token") else 0,
        limit=limit,
    )
