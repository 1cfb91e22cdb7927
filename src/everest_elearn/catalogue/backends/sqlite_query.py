"""Turns a catalogue Query into SQL for the embedded backend (pure: no connection here)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from everest_elearn.catalogue.backends.sqlite_schema import column, days, micros, to_sql
from everest_elearn.catalogue.query import Interval, OneOf, Query, SortKey, TemporalRelation
from everest_elearn.catalogue.registry import REGISTRY, ParamType, Registry
from everest_elearn.errors import InvalidInput

# Sort keys that are record columns rather than EO properties.
BUILTIN_SORT = {"start": "r.t0", "end": "r.t1", "identifier": "r.identifier"}


@dataclass
class Where:
    """A conjunction of SQL conditions and their parameters."""

    clauses: list[str] = field(default_factory=list)
    params: list[Any] = field(default_factory=list)

    def add(self, clause: str, *params: Any) -> None:
        self.clauses.append(clause)
        self.params.extend(params)

    def extend(self, other: Where) -> None:
        self.clauses.extend(other.clauses)
        self.params.extend(other.params)

    @property
    def sql(self) -> str:
        return " AND ".join(f"({c})" for c in self.clauses) if self.clauses else "1"


def fts_expression(terms: tuple[str, ...]) -> str:
    """Every term AND-ed; each is an FTS5 phrase so quoted phrases keep their word order."""
    phrases = ['"' + term.replace('"', '""') + '"' for term in terms if term.strip()]
    return " AND ".join(phrases)


def _param_type(field_name: str, registry: Registry) -> ParamType:
    param = registry.by_field(field_name)
    if param is None:
        raise InvalidInput(field_name, "not a searchable field of the catalogue")
    return param.type


def _condition(
    expr: str, kind: ParamType, cond: Interval | OneOf, where_name: str
) -> tuple[str, list[Any]]:
    if isinstance(cond, OneOf):
        values = [to_sql(kind, v, where_name) for v in cond.values]
        if not values:
            return "0", []
        return f"{expr} IN ({','.join('?' * len(values))})", values
    parts: list[str] = []
    params: list[Any] = []
    if cond.low is not None:
        parts.append(f"{expr} {'>=' if cond.low_inclusive else '>'} ?")
        params.append(to_sql(kind, cond.low, where_name))
    if cond.high is not None:
        parts.append(f"{expr} {'<=' if cond.high_inclusive else '<'} ?")
        params.append(to_sql(kind, cond.high, where_name))
    if not parts:
        parts.append(f"{expr} IS NOT NULL")
    return " AND ".join(parts), params


def time_where(query: Query, max_duration_us: int | None) -> Where:
    """Exact conditions on a record's [t0, t1] for the query's temporal relation."""
    where = Where()
    start = micros(query.time_start) if query.time_start else None
    end = micros(query.time_end) if query.time_end else None
    if start is None and end is None:
        return where
    where.add("r.t0 IS NOT NULL")
    rel = query.temporal_relation
    if rel is TemporalRelation.INTERSECTS:
        if end is not None:
            where.add("r.t0 <= ?", end)
        if start is not None:
            where.add("r.t1 >= ?", start)
            if max_duration_us is not None:
                # Lets the (kind, t0) index bound the scan: no record lasts longer than this.
                where.add("r.t0 >= ?", start - max_duration_us)
    elif rel is TemporalRelation.DURING:
        if start is not None:
            where.add("r.t0 >= ?", start)
        if end is not None:
            where.add("r.t1 <= ?", end)
    elif rel is TemporalRelation.EQUALS:
        if start is not None:
            where.add("r.t0 = ?", start)
        if end is not None:
            where.add("r.t1 = ?", end)
    else:  # disjoint: entirely before the start or entirely after the end
        sides = []
        params: list[Any] = []
        if start is not None:
            sides.append("r.t1 < ?")
            params.append(start)
        if end is not None:
            sides.append("r.t0 > ?")
            params.append(end)
        where.add(" OR ".join(sides), *params)
    return where


def time_window_days(query: Query) -> tuple[float, float] | None:
    """The R*Tree time window every match overlaps (None when the relation does not imply one)."""
    if query.time_start is None and query.time_end is None:
        return None
    if query.temporal_relation is TemporalRelation.DISJOINT:
        return None
    low = days(micros(query.time_start)) if query.time_start else -1.0e9
    high = days(micros(query.time_end)) if query.time_end else 1.0e9
    return low, high


def base_where(
    query: Query,
    multi_fields: set[str],
    max_duration_us: int | None,
    registry: Registry = REGISTRY,
    *,
    order_from_field_index: bool = False,
) -> Where:
    """Every constraint except the spatial one.

    ``order_from_field_index`` keeps the (kind, parent) index out of the plan (unary ``+``), so
    a search sorted by a filtered field walks that field's index in order and stops at the
    page instead of sorting the whole collection (the minimum and maximum of a field).
    """
    where = Where()
    scope = "+r" if order_from_field_index else "r"
    where.add(f"{scope}.kind = ?", query.kind.value)
    if query.parent is not None:
        where.add(f"{scope}.parent = ?", query.parent)
    if query.uids:
        where.add("r.identifier IN (SELECT value FROM json_each(?))", json.dumps(list(query.uids)))
    expression = fts_expression(query.terms)
    if expression:
        where.add("r.rid IN (SELECT rowid FROM text WHERE text MATCH ?)", expression)
    where.extend(time_where(query, max_duration_us))
    for name, cond in query.filters.items():
        kind = _param_type(name, registry)
        col = "r." + column(name)
        sql, params = _condition(col, kind, cond, name)
        if name in multi_fields:
            inner, inner_params = _condition("m.value", kind, cond, name)
            sql = f"({sql}) OR r.rid IN (SELECT m.rid FROM multi m WHERE m.field = ? AND {inner})"  # noqa: S608
            params = [*params, name, *inner_params]
        where.add(sql, *params)
    if query.visible_groups is not None:
        groups = json.dumps(sorted(query.visible_groups))
        where.add(
            "r.restricted = 0 OR EXISTS (SELECT 1 FROM groups g WHERE g.rid = r.rid"
            " AND g.grp IN (SELECT value FROM json_each(?)))",
            groups,
        )
    return where


def order_by(
    sort: tuple[SortKey, ...],
    registry: Registry = REGISTRY,
    not_null: frozenset[str] = frozenset(),
) -> str:
    """ORDER BY with missing values last and a stable tie-break by identifier.

    ``not_null`` names fields the WHERE clause already requires: sorting them needs no
    "missing last" term, so the field's index can deliver the order (min/max in one step).
    """
    keys = sort or (SortKey("start", ascending=False),)
    parts: list[str] = []
    for key in keys:
        expr = BUILTIN_SORT.get(key.field)
        if expr is None:
            _param_type(key.field, registry)
            expr = "r." + column(key.field)
        if key.ascending and key.field in not_null:
            parts.append(f"{expr} ASC")
        elif key.ascending:
            parts.append(f"{expr} IS NULL, {expr} ASC")
        else:
            parts.append(f"{expr} DESC")  # SQLite already sorts NULLs last when descending
    if not any(k.field == "identifier" for k in keys):
        parts.append("r.identifier ASC")
    return ", ".join(parts)
