"""Facets of the embedded backend: every asked field counted in one pass over the result.

The result is materialised once (the WHERE clause runs once, however many fields are asked),
fields that no stored record has are skipped without a query, and the facets of a whole level
(no constraint but kind, collection and visibility: the description documents' option lists and
an unfiltered search) are cached until the next write.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from datetime import timedelta
from typing import Any

from everest_elearn.catalogue.backends import sqlite_schema as schema
from everest_elearn.catalogue.backends.sqlite_query import Where
from everest_elearn.catalogue.query import Query
from everest_elearn.catalogue.registry import ParamType, Registry

Facets = dict[str, dict[str, int]]


class FacetCache:
    """Facets of whole levels, keyed by the write generation so any write makes them stale."""

    def __init__(self, size: int = 64) -> None:
        # Facets, or other per-level answers of the same shape (field ranges).
        self._entries: OrderedDict[tuple[Any, ...], dict[str, dict[str, Any]]] = OrderedDict()
        self._lock = threading.Lock()
        self._size = size

    @staticmethod
    def key(query: Query, generation: int) -> tuple[Any, ...] | None:
        """The cache key of a query that constrains only kind, collection and visibility."""
        constrained = (
            query.terms
            or query.uids
            or query.geometry is not None
            or query.time_start is not None
            or query.time_end is not None
            or query.filters
        )
        if constrained:
            return None
        groups = None if query.visible_groups is None else tuple(sorted(query.visible_groups))
        return (generation, query.kind.value, query.parent, groups, tuple(sorted(query.facets)))

    def get(self, key: tuple[Any, ...]) -> dict[str, dict[str, Any]] | None:
        with self._lock:
            found = self._entries.get(key)
            if found is not None:
                self._entries.move_to_end(key)
            return found

    def put(self, key: tuple[Any, ...], value: dict[str, dict[str, Any]]) -> None:
        with self._lock:
            self._entries[key] = value
            while len(self._entries) > self._size:
                self._entries.popitem(last=False)


def facets(
    conn: Any,
    where: Where,
    names: tuple[str, ...],
    registry: Registry,
    columns: dict[str, str],
    present: set[str],
    multi: set[str],
) -> Facets:
    """field -> value -> count over the records matching ``where``, for each asked field."""
    out: Facets = {name: {} for name in names}
    fields = [n for n in dict.fromkeys(names) if n in columns and n in present]
    if not fields:
        return out
    cols = [schema.column(f) for f in fields]
    parts: list[str] = []
    params: list[Any] = []
    for i, col in enumerate(cols):
        # Column names come from the registry through schema.column's strict pattern.
        parts.append(f"SELECT {i}, {col}, count(*) FROM hit WHERE {col} IS NOT NULL GROUP BY 2")  # noqa: S608
        if fields[i] in multi:
            parts.append(
                f"SELECT {i}, m.value, count(*) FROM multi m JOIN hit ON hit.rid = m.rid"  # noqa: S608
                " WHERE m.field = ? GROUP BY 2"
            )
            params.append(fields[i])
    sql = (
        f"WITH hit AS MATERIALIZED (SELECT r.rid, {', '.join('r.' + c for c in cols)}"  # noqa: S608
        f" FROM records r WHERE {where.sql}) " + " UNION ALL ".join(parts)
    )
    kinds = [registry.by_field(f) for f in fields]
    for index, value, count in conn.execute(sql, [*where.params, *params]):
        param = kinds[index]
        key = facet_key(param.type if param else ParamType.KEYWORD, value)
        counts = out[fields[index]]
        counts[key] = counts.get(key, 0) + int(count)
    return out


def facet_key(kind: ParamType, value: Any) -> str:
    if kind is ParamType.DATETIME and isinstance(value, int):
        return (schema.EPOCH + timedelta(microseconds=value)).isoformat().replace("+00:00", "Z")
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)
