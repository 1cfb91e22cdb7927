"""Query -> search-engine request body: every constraint in filter context, a total sort order."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from everest_elearn.catalogue.backends.es_mapping import PROPERTIES, coerce
from everest_elearn.catalogue.geometry import bbox_of
from everest_elearn.catalogue.model import Kind
from everest_elearn.catalogue.query import (
    Condition,
    OneOf,
    Query,
    SortKey,
    SpatialRelation,
    TemporalRelation,
)
from everest_elearn.catalogue.registry import REGISTRY, Registry
from everest_elearn.errors import InvalidInput

GeometryCheck = Literal["engine", "refine"]
# Top-level record fields a sort key or a filter may name besides the EO properties.
TOP_LEVEL = {"start", "end", "updated", "identifier", "kind", "parent_identifier", "keywords"}
# Unique per record: the last sort key, so paging by search_after never skips nor repeats.
TIE_BREAK = {"identifier": {"order": "asc"}}
DEFAULT_SORT = (SortKey("start", ascending=False),)


def field_path(name: str, registry: Registry = REGISTRY) -> str:
    """The indexed path of a filter, sort or facet field; unknown names are bad input."""
    if name in TOP_LEVEL:
        return name
    if registry.by_field(name) is not None:
        return f"{PROPERTIES}.{name}"
    raise InvalidInput(name, "not a searchable field of the catalogue")


def _value(name: str, value: Any, registry: Registry) -> Any:
    param = registry.by_field(name)
    if param is None:
        return value.isoformat() if isinstance(value, datetime) else value
    typed = coerce(param.type, value)
    if typed is None:
        raise InvalidInput(name, f"{value!r} is not a valid {param.type.value}")
    return typed


def condition(name: str, cond: Condition, registry: Registry = REGISTRY) -> dict[str, Any]:
    path = field_path(name, registry)
    if isinstance(cond, OneOf):
        return {"terms": {path: [_value(name, v, registry) for v in cond.values]}}
    bounds: dict[str, Any] = {}
    if cond.low is not None:
        bounds["gte" if cond.low_inclusive else "gt"] = _value(name, cond.low, registry)
    if cond.high is not None:
        bounds["lte" if cond.high_inclusive else "lt"] = _value(name, cond.high, registry)
    return {"range": {path: bounds}} if bounds else {"exists": {"field": path}}


def _range(path: str, **bounds: datetime) -> dict[str, Any]:
    return {"range": {path: {op: value.isoformat() for op, value in bounds.items()}}}


def temporal(query: Query) -> list[dict[str, Any]]:
    """Time filters on the record extent [start, end] (documents carry both, see es_mapping)."""
    qs, qe, relation = query.time_start, query.time_end, query.temporal_relation
    if qs is None and qe is None:
        return []
    if relation is TemporalRelation.DURING:
        out = [_range("start", gte=qs)] if qs else []
        return out + ([_range("end", lte=qe)] if qe else [])
    if relation is TemporalRelation.EQUALS:
        out = [{"term": {"start": qs.isoformat()}}] if qs else []
        return out + ([{"term": {"end": qe.isoformat()}}] if qe else [])
    if relation is TemporalRelation.DISJOINT:
        either = ([_range("end", lt=qs)] if qs else []) + ([_range("start", gt=qe)] if qe else [])
        return [{"bool": {"should": either, "minimum_should_match": 1}}]
    # Intersects: the extents share at least one instant.
    out = [_range("start", lte=qe)] if qe else []
    return out + ([_range("end", gte=qs)] if qs else [])


def spatial(query: Query, check: GeometryCheck) -> list[dict[str, Any]]:
    """geo_shape filters; with ``refine`` only a bounding-box candidate filter (see the store)."""
    if query.geometry is None:
        return []
    relation = query.spatial_relation
    if check == "refine":
        if relation is SpatialRelation.DISJOINT:
            return [{"exists": {"field": "geometry"}}]
        west, south, east, north = bbox_of(query.geometry)
        shape = {"type": "envelope", "coordinates": [[west, north], [east, south]]}
        return [{"geo_shape": {"envelope": {"shape": shape, "relation": "intersects"}}}]
    relate = [{"geo_shape": {"geometry": {"shape": query.geometry, "relation": relation.value}}}]
    if relation is SpatialRelation.DISJOINT:
        # A record without a footprint has no known place: it is not disjoint from anything
        # (as in the embedded backend and in refine mode), whatever the engine's version does.
        return [{"exists": {"field": "geometry"}}, *relate]
    return relate


def visibility(groups: frozenset[str] | None) -> list[dict[str, Any]]:
    if groups is None:
        return []
    should: list[dict[str, Any]] = [
        {"bool": {"must_not": [{"exists": {"field": "restricted_to"}}]}}
    ]
    if groups:
        should.append({"terms": {"restricted_to": sorted(groups)}})
    return [{"bool": {"should": should, "minimum_should_match": 1}}]


def text(terms: tuple[str, ...]) -> list[dict[str, Any]]:
    # Each term is a word or a quoted phrase; all must match. match_phrase covers both.
    return [{"match_phrase": {"text": term}} for term in terms if term.strip()]


def filters(query: Query, check: GeometryCheck = "engine") -> list[dict[str, Any]]:
    """Every constraint of the query, for a bool/filter clause (no scoring, cacheable)."""
    out: list[dict[str, Any]] = [{"term": {"kind": query.kind.value}}]
    if query.parent is not None and query.kind is Kind.PRODUCT:
        out.append({"term": {"parent_identifier": query.parent}})
    if query.uids:
        out.append({"terms": {"identifier": list(query.uids)}})
    out += text(query.terms)
    out += spatial(query, check)
    out += temporal(query)
    out += [condition(name, cond) for name, cond in query.filters.items()]
    out += visibility(query.visible_groups)
    return out


def sort(query: Query) -> list[dict[str, Any]]:
    keys: list[dict[str, Any]] = []
    for key in query.sort or DEFAULT_SORT:
        path = field_path(key.field)
        order = "asc" if key.ascending else "desc"
        keys.append({path: {"order": order, "missing": "_last"}})
        if path == "identifier":
            return keys  # already total
    return [*keys, TIE_BREAK]


def aggregations(facets: tuple[str, ...], size: int) -> dict[str, Any]:
    aggs: dict[str, Any] = {}
    for name in facets:
        aggs[name] = {"terms": {"field": field_path(name), "size": size}}
    return aggs


def body(query: Query, check: GeometryCheck = "engine") -> dict[str, Any]:
    """The query and sort of a search (paging, counting and facets are added by the store)."""
    return {"query": {"bool": {"filter": filters(query, check)}}, "sort": sort(query)}
