"""A parsed, validated catalogue query: what every backend receives (no HTTP, no strings to parse)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from everest_elearn.catalogue.model import Kind
from everest_elearn.errors import InvalidInput


@dataclass(frozen=True)
class Interval:
    """A range from the EO interval notation; an open end is None."""

    low: Any = None
    high: Any = None
    low_inclusive: bool = True
    high_inclusive: bool = True

    def contains(self, value: Any) -> bool:
        if value is None:
            return False
        if self.low is not None and (
            value < self.low or (value == self.low and not self.low_inclusive)
        ):
            return False
        return not (
            self.high is not None
            and (value > self.high or (value == self.high and not self.high_inclusive))
        )


@dataclass(frozen=True)
class OneOf:
    """Equality with any of the values (``{a,b,c}``; a single value is a one-element set)."""

    values: tuple[Any, ...]

    def contains(self, value: Any) -> bool:
        return value in self.values


Condition = Interval | OneOf


class SpatialRelation(StrEnum):
    INTERSECTS = "intersects"
    CONTAINS = "contains"  # the record contains the query geometry
    DISJOINT = "disjoint"


class TemporalRelation(StrEnum):
    INTERSECTS = "intersects"
    DURING = "during"  # the record lies within [start, end]
    DISJOINT = "disjoint"
    EQUALS = "equals"


@dataclass(frozen=True)
class SortKey:
    field: str  # "start" or a Record.properties field
    ascending: bool = True


@dataclass(frozen=True)
class Query:
    """Everything a backend needs to answer one search."""

    kind: Kind = Kind.PRODUCT
    # Products of this collection only (two-step search); None searches every collection.
    parent: str | None = None
    # Free text: each inner tuple is a word or a quoted phrase; all must match (AND).
    terms: tuple[str, ...] = ()
    uids: tuple[str, ...] = ()
    # GeoJSON geometry in EPSG:4326, already validated and normalised.
    geometry: dict[str, Any] | None = None
    spatial_relation: SpatialRelation = SpatialRelation.INTERSECTS
    time_start: datetime | None = None
    time_end: datetime | None = None
    temporal_relation: TemporalRelation = TemporalRelation.INTERSECTS
    # Record.properties field -> condition.
    filters: dict[str, Condition] = field(default_factory=dict)
    sort: tuple[SortKey, ...] = ()
    offset: int = 0  # 0-based
    limit: int = 10
    # Caller's groups; None means "sees everything" (an administrator).
    visible_groups: frozenset[str] | None = frozenset()
    # Facet these fields over the whole result.
    facets: tuple[str, ...] = ()
    # Bound on exact totals; above it the backend may report a lower bound.
    count_limit: int | None = None

    def __post_init__(self) -> None:
        # NUL ends strings in search engines' query parsers (SQLite FTS5: "unterminated string"):
        # refused here, so every caller (OpenSearch, STAC, the API) gets a 400, never a 500.
        for where, values in (("searchTerms", self.terms), ("uid", self.uids)):
            if any("\x00" in value for value in values):
                raise InvalidInput(where, "contains a NUL character")
