"""OpenSearch request parameters -> a validated ``Query``, and which of them were applied.

URL keys are the parameters' local names (``cloudCover``, ``box``, ``start``), except
``time:relation`` whose key is ``timeRelation`` (``relation`` is the spatial one). Empty values
mean absent (BP-005F) and unknown keys are ignored (BP-009B).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TypeVar

from everest_elearn.catalogue.model import Kind
from everest_elearn.catalogue.opensearch.geo import box_geometry, circle_geometry, wkt_geometry
from everest_elearn.catalogue.opensearch.interval import (
    bounds_of,
    format_condition,
    parse_condition,
    parse_datetime,
)
from everest_elearn.catalogue.query import (
    Condition,
    OneOf,
    Query,
    SortKey,
    SpatialRelation,
    TemporalRelation,
)
from everest_elearn.catalogue.registry import REGISTRY, Level, Parameter, ParamType, Registry
from everest_elearn.errors import InvalidInput

# Offsets beyond this are refused rather than handed to a backend (integer overflow, deep paging).
MAX_START_INDEX = 1_000_000_000
URL_KEY_OVERRIDES = {"time:relation": "timeRelation"}
# Non-registry parameters: the output format (FedEO convention), kept fixed in templates.
HTTP_ACCEPT = "httpAccept"


def url_key(parameter: Parameter) -> str:
    """The query-string key under which a parameter travels."""
    return URL_KEY_OVERRIDES.get(parameter.qname, parameter.name)


def display_name(parameter: Parameter) -> str:
    """How errors and the echo name a parameter: ``count`` for core ones, else ``eo:cloudCover``."""
    return parameter.name if parameter.prefix == "os" else parameter.qname


def template_token(parameter: Parameter) -> str:
    """The template token without braces: ``searchTerms`` or ``geo:box``."""
    return parameter.name if parameter.prefix == "os" else parameter.qname


def level_parameters(level: Level, registry: Registry = REGISTRY) -> list[Parameter]:
    """The parameters a template of this level offers; products get their parent fixed instead."""
    out = registry.for_level(level)
    if level is Level.PRODUCT:
        out = [p for p in out if p.qname != "eo:parentIdentifier"]
    return out


@dataclass(frozen=True)
class SearchRequest:
    """A parsed search: the query, the paging as the client sees it, and the applied parameters."""

    query: Query
    count: int
    start_index: int  # 1-based index of the first result
    # Applied parameters in the order of the registry, keyed by display name (for the echo).
    applied: dict[str, str] = field(default_factory=dict)
    # Applied parameters keyed by URL key (for navigation links).
    applied_keys: dict[str, str] = field(default_factory=dict)


# Control characters never belong in a search value (tab and line breaks count as spaces).
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def _single(params: Mapping[str, Sequence[str]], key: str, where: str) -> str | None:
    values = [v.strip() for v in params.get(key, ()) if v.strip()]
    if not values:
        return None
    if any(_CONTROL.search(v) for v in values):
        raise InvalidInput(where, "contains control characters")
    if len(set(values)) > 1:
        raise InvalidInput(where, f"given {len(values)} times with different values")
    return values[0]


def _int(text: str, where: str, minimum: int, maximum: int) -> int:
    if not re.fullmatch(r"\+?\d{1,12}", text):
        raise InvalidInput(where, f"{text!r} is not a whole number")
    value = int(text)
    if value < minimum or value > maximum:
        raise InvalidInput(where, f"{value} is outside {minimum}..{maximum}")
    return value


def split_terms(text: str) -> tuple[str, ...]:
    """Words and double-quoted phrases (BP-006); an unclosed quote runs to the end."""
    terms: list[str] = []
    for phrase, word in re.findall(r'"([^"]*)"?|(\S+)', text):
        value = (phrase if phrase else word).strip().strip('"')
        if value:
            terms.append(" ".join(value.split()))
    return tuple(terms)


def _keyword(text: str, where: str, kind: ParamType) -> Condition:
    if text.startswith("{") and text.endswith("}") and len(text) >= 2:
        values = tuple(v.strip() for v in text[1:-1].split(",") if v.strip())
        if not values:
            raise InvalidInput(where, f"{text!r}: a set needs values separated by commas")
    else:
        values = (text,)
    if kind is ParamType.BOOL:
        flags = {"true": True, "1": True, "false": False, "0": False}
        if any(v.lower() not in flags for v in values):
            raise InvalidInput(where, f"{text!r} is not true or false")
        return OneOf(tuple(flags[v.lower()] for v in values))
    return OneOf(values)


def _check_range(parameter: Parameter, condition: Condition, where: str) -> None:
    if parameter.type is ParamType.DATETIME:
        return
    low, high = bounds_of(condition)
    if parameter.minimum is not None and low is not None and low < parameter.minimum:
        raise InvalidInput(where, f"{low} is below the minimum {parameter.minimum:g}")
    if parameter.maximum is not None and high is not None and high > parameter.maximum:
        raise InvalidInput(where, f"{high} is above the maximum {parameter.maximum:g}")


def _sort(text: str, where: str, registry: Registry) -> tuple[SortKey, ...]:
    """SRU sortKeys: ``key[,schema[,ascending]]`` separated by spaces; ascending is 1 or 0."""
    keys: list[SortKey] = []
    sortable = {p.name: p.field for p in registry.sortable if p.field}
    sortable.update({p.qname: p.field for p in registry.sortable if p.field})
    sortable.update({"start": "start", "time:start": "start"})
    for item in text.split():
        name, _, rest = item.partition(",")
        parts = rest.split(",") if rest else []
        ascending_text = parts[1] if len(parts) > 1 else "1"
        if name not in sortable:
            options = ", ".join(sorted(k for k in sortable if ":" not in k))
            raise InvalidInput(where, f"cannot sort by {name!r}; sortable: {options}")
        if ascending_text not in {"0", "1", ""}:
            raise InvalidInput(where, f"{item!r}: the third part (ascending) must be 1 or 0")
        keys.append(SortKey(sortable[name], ascending=ascending_text != "0"))
    return tuple(keys)


def parse_request(
    params: Mapping[str, Sequence[str]],
    *,
    level: Level,
    default_count: int,
    max_count: int,
    count_limit: int | None = None,
    fixed_parent: str | None = None,
    registry: Registry = REGISTRY,
) -> SearchRequest:
    """Validate a search; raises InvalidInput naming the first malformed parameter."""
    kind = Kind.COLLECTION if level is Level.COLLECTION else Kind.PRODUCT
    values: dict[str, tuple[Parameter, str]] = {}
    offered = registry.for_level(level)
    for parameter in offered:
        value = _single(params, url_key(parameter), display_name(parameter))
        if value is not None:
            values[parameter.qname] = (parameter, value)

    applied: dict[str, str] = {}
    keys: dict[str, str] = {}

    def apply(qname: str, canonical: str) -> None:
        parameter = values[qname][0]
        applied[display_name(parameter)] = canonical
        keys[url_key(parameter)] = canonical

    def raw(qname: str) -> str | None:
        item = values.get(qname)
        return item[1] if item else None

    count = default_count
    if (text := raw("os:count")) is not None:
        count = min(_int(text, "count", 0, 10**12), max_count)  # above the maximum: clamp
        apply("os:count", str(count))
    start_index = 1
    if (text := raw("os:startIndex")) is not None:
        start_index = _int(text, "startIndex", 1, MAX_START_INDEX)
        apply("os:startIndex", str(start_index))
    if (text := raw("os:startPage")) is not None:
        page = _int(text, "startPage", 1, MAX_START_INDEX)
        if raw("os:startIndex") is None:  # BP-007: startIndex wins when both are given
            start_index = min((page - 1) * count + 1, MAX_START_INDEX)
            apply("os:startPage", str(page))

    terms: tuple[str, ...] = ()
    if (text := raw("os:searchTerms")) is not None:
        terms = split_terms(text)
        if terms:
            apply("os:searchTerms", text)

    uids: tuple[str, ...] = ()
    if (text := raw("geo:uid")) is not None:
        uids = tuple(u.strip() for u in text.split(",") if u.strip())
        apply("geo:uid", ",".join(uids))

    geometry = None
    spatial = [q for q in ("geo:box", "geo:geometry", "geo:lat", "geo:lon") if q in values]
    if "geo:radius" in values and not {"geo:lat", "geo:lon"} <= values.keys():
        raise InvalidInput("geo:radius", "needs geo:lat and geo:lon")
    if {"geo:lat", "geo:lon"} & values.keys() and not {"geo:lat", "geo:lon"} <= values.keys():
        raise InvalidInput(
            "geo:lat" if "geo:lon" in values else "geo:lon", "geo:lat and geo:lon go together"
        )
    if ("geo:box" in values and "geo:geometry" in values) or (
        {"geo:box", "geo:geometry"} & values.keys() and "geo:lat" in values
    ):
        raise InvalidInput(spatial[-1], "give only one of geo:box, geo:geometry, geo:lat/geo:lon")
    if (text := raw("geo:box")) is not None:
        geometry = box_geometry(text, "geo:box")
        apply("geo:box", text)
    if (text := raw("geo:geometry")) is not None:
        geometry = wkt_geometry(text, "geo:geometry")
        apply("geo:geometry", text)
    if (lat := raw("geo:lat")) is not None and (lon := raw("geo:lon")) is not None:
        radius = raw("geo:radius")
        geometry = circle_geometry(lat, lon, radius)
        apply("geo:lat", lat)
        apply("geo:lon", lon)
        if radius is not None:
            apply("geo:radius", radius)
    spatial_relation = SpatialRelation.INTERSECTS
    if (text := raw("geo:relation")) is not None:
        spatial_relation = _enum(SpatialRelation, text, "geo:relation")
        if geometry is not None:
            apply("geo:relation", spatial_relation.value)

    time_start: datetime | None = None
    time_end: datetime | None = None
    if (text := raw("time:start")) is not None:
        time_start = parse_datetime(text, "time:start")
        apply("time:start", text)
    if (text := raw("time:end")) is not None:
        time_end = parse_datetime(text, "time:end", end_of_day=True)
        apply("time:end", text)
    if time_start and time_end and time_start > time_end:
        raise InvalidInput("time:end", "is before time:start")
    temporal_relation = TemporalRelation.INTERSECTS
    if (text := raw("time:relation")) is not None:
        temporal_relation = _enum(TemporalRelation, text, "time:relation")
        if time_start or time_end:
            apply("time:relation", temporal_relation.value)

    sort: tuple[SortKey, ...] = ()
    if (text := raw("sru:sortKeys")) is not None:
        sort = _sort(text, "sru:sortKeys", registry)
        apply("sru:sortKeys", text)

    filters: dict[str, Condition] = {}
    parent = fixed_parent
    for qname, (parameter, text) in values.items():
        if parameter.field is None:
            continue
        where = display_name(parameter)
        if parameter.accepts_interval:
            condition = parse_condition(text, parameter.type, where)
            _check_range(parameter, condition, where)
            apply(qname, format_condition(condition))
        else:
            condition = _keyword(text, where, parameter.type)
            apply(qname, text)
        single = isinstance(condition, OneOf) and len(condition.values) == 1
        if qname == "eo:parentIdentifier" and kind is Kind.PRODUCT and parent is None and single:
            assert isinstance(condition, OneOf)
            parent = str(condition.values[0])
            continue
        filters[parameter.field] = condition

    facets = tuple(p.field for p in registry.faceted if p.field and level in p.levels)
    query = Query(
        kind=kind,
        parent=parent,
        terms=terms,
        uids=uids,
        geometry=geometry,
        spatial_relation=spatial_relation,
        time_start=time_start,
        time_end=time_end,
        temporal_relation=temporal_relation,
        filters=filters,
        sort=sort,
        offset=start_index - 1,
        limit=count,
        facets=facets,
        # Count at least past the requested page, so its records and links are always right.
        count_limit=None if count_limit is None else max(count_limit, start_index + count),
    )
    return SearchRequest(query, count, start_index, applied, keys)


_E = TypeVar("_E", SpatialRelation, TemporalRelation)


def _enum(cls: type[_E], text: str, where: str) -> _E:
    try:
        return cls(text.strip().lower())
    except ValueError:
        options = ", ".join(m.value for m in cls)
        raise InvalidInput(where, f"{text!r} is not one of {options}") from None
