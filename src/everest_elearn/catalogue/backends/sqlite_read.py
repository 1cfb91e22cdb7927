"""The SQLite catalogue's read side: searches, counts and field ranges over a reader connection.

SQL here is assembled from fixed fragments and registry column names (checked against a strict
pattern in sqlite_schema.column); every value is a bound parameter, hence the S608 exemptions.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from everest_elearn.catalogue.backends import sqlite_schema as schema
from everest_elearn.catalogue.backends.sqlite_facets import FacetCache, facet_key, facets
from everest_elearn.catalogue.backends.sqlite_query import Where, base_where, order_by
from everest_elearn.catalogue.backends.sqlite_spatial import spatial
from everest_elearn.catalogue.model import Record
from everest_elearn.catalogue.query import Query
from everest_elearn.catalogue.registry import ParamType, Registry
from everest_elearn.catalogue.store import SearchResult


class Searcher:
    """Runs queries; counts, facets and ranges are cached per write generation of the file."""

    def __init__(self, registry: Registry, columns: dict[str, str]) -> None:
        self.registry = registry
        self._columns = columns
        self._facets = FacetCache()

    def _meta(self, conn: sqlite3.Connection, kind: str) -> dict[str, str]:
        keys = ("multi_fields", "present_fields", "generation", f"max_duration:{kind}")
        return dict(
            conn.execute("SELECT key, value FROM meta WHERE key IN (?, ?, ?, ?)", keys).fetchall()
        )

    def search(self, conn: sqlite3.Connection, query: Query) -> SearchResult:
        meta = self._meta(conn, query.kind.value)
        multi = set(json.loads(meta.get("multi_fields", "[]")))
        duration = meta.get(f"max_duration:{query.kind.value}")
        max_duration = int(duration) if duration is not None else None
        present = set(json.loads(meta.get("present_fields", "[]")))
        absent = [f for f in query.filters if f in self._columns and f not in present]
        if absent:
            # No stored record has ever had a value for this field: nothing can match, and
            # saying so costs no scan (description documents ask this for every parameter).
            empty: dict[str, dict[str, int]] = {name: {} for name in query.facets}
            return SearchResult(records=[], total=0, total_exact=True, facets=empty)
        # A filtered column is never NULL in the result (multi-valued fields match elsewhere too).
        not_null = frozenset(name for name in query.filters if name not in multi)
        by_field = bool(query.sort) and query.sort[0].field in not_null and query.limit > 0
        where = base_where(
            query, multi, max_duration, self.registry, order_from_field_index=by_field
        )
        known_total: int | None = None
        if query.geometry is not None:
            clause, params, known_total = spatial(conn, query, where)
            if known_total is not None:
                # The matching row ids are known exactly (every other constraint was applied
                # with the R*Tree): page and facets start from them, not from another index.
                where = Where()
            where.add(clause, *params)
        generation = int(meta.get("generation", 0))
        if known_total is not None:
            total, exact = known_total, True
        else:
            total, exact = self._cached_count(conn, where, query, generation)
        records: list[Record] = []
        # A bounded count may stop short of the page: then the page is fetched all the same.
        if query.limit > 0 and (total > query.offset or not exact):
            rows = conn.execute(
                f"SELECT d.doc FROM records r JOIN docs d ON d.rid = r.rid WHERE {where.sql}"  # noqa: S608
                f" ORDER BY {order_by(query.sort, self.registry, not_null)} LIMIT ? OFFSET ?",
                [*where.params, query.limit, query.offset],
            ).fetchall()
            records = [Record.model_validate_json(row[0]) for row in rows]
            if records and not exact:
                total = max(total, query.offset + len(records))
        found: dict[str, dict[str, int]] = {}
        if query.facets:
            key = FacetCache.key(query, generation)
            cached = self._facets.get(key) if key is not None else None
            if cached is None:
                cached = facets(
                    conn, where, query.facets, self.registry, self._columns, present, multi
                )
                if key is not None:
                    self._facets.put(key, cached)
            found = {name: dict(counts) for name, counts in cached.items()}
        return SearchResult(records=records, total=total, total_exact=exact, facets=found)

    def field_range(self, conn: sqlite3.Connection, query: Query, field: str) -> tuple[Any, Any]:
        """See ``SqliteStore.field_range``: one pass ranges every numeric and date field."""
        meta = self._meta(conn, query.kind.value)
        present = set(json.loads(meta.get("present_fields", "[]")))
        if field not in self._columns or field not in present:
            return None, None
        key = FacetCache.key(replace(query, facets=("ranges",)), int(meta.get("generation", 0)))
        ranges = self._facets.get(key) if key is not None else None
        if ranges is None:
            multi = set(json.loads(meta.get("multi_fields", "[]")))
            ranges = self._ranges(conn, query, present, multi)
            if key is not None:
                self._facets.put(key, ranges)
        low, high = ranges.get(field, {}).get("low"), ranges.get(field, {}).get("high")
        return low, high

    def _ranges(
        self, conn: sqlite3.Connection, query: Query, present: set[str], multi: set[str]
    ) -> dict[str, dict[str, Any]]:
        kinds = {ParamType.INT, ParamType.FLOAT, ParamType.DATETIME}
        fields = [
            f
            for f in sorted(present)
            if f in self._columns and (p := self.registry.by_field(f)) and p.type in kinds
        ]
        if not fields:
            return {}
        where = base_where(query, multi, None, self.registry)
        cols = [schema.column(f) for f in fields]
        ends = ", ".join(f"min(r.{c}), max(r.{c})" for c in cols)
        row = conn.execute(f"SELECT {ends} FROM records r WHERE {where.sql}", where.params)  # noqa: S608
        values = list(row.fetchone())
        out: dict[str, dict[str, Any]] = {}
        for n, field in enumerate(fields):
            low, high = values[2 * n], values[2 * n + 1]
            if field in multi:
                extra = conn.execute(
                    "SELECT min(m.value), max(m.value) FROM multi m JOIN records r"  # noqa: S608
                    f" ON r.rid = m.rid WHERE m.field = ? AND {where.sql}",
                    [field, *where.params],
                ).fetchone()
                low, high = _pick(min, low, extra[0]), _pick(max, high, extra[1])
            param = self.registry.by_field(field)
            assert param is not None
            out[field] = {
                "low": None if low is None else _range_value(param.type, low),
                "high": None if high is None else _range_value(param.type, high),
            }
        return out

    def _cached_count(
        self, conn: sqlite3.Connection, where: Where, query: Query, generation: int
    ) -> tuple[int, bool]:
        """The count, remembered until the next write for a whole level (a collection's size)."""
        key = FacetCache.key(replace(query, facets=(f"count:{query.count_limit}",)), generation)
        cached = self._facets.get(key) if key is not None else None
        if cached is not None:
            return int(cached["count"]["total"]), bool(cached["count"]["exact"])
        total, exact = self._count(conn, where, query)
        if key is not None:
            self._facets.put(key, {"count": {"total": total, "exact": exact}})
        return total, exact

    def _count(self, conn: sqlite3.Connection, where: Where, query: Query) -> tuple[int, bool]:
        if query.count_limit is None:
            row = conn.execute(f"SELECT count(*) FROM records r WHERE {where.sql}", where.params)  # noqa: S608
            return int(row.fetchone()[0]), True
        row = conn.execute(
            f"SELECT count(*) FROM (SELECT 1 FROM records r WHERE {where.sql} LIMIT ?)",  # noqa: S608
            [*where.params, query.count_limit + 1],
        )
        counted = int(row.fetchone()[0])
        if counted > query.count_limit:
            return query.count_limit, False
        return counted, True


def _pick(choose: Callable[[Any, Any], Any], a: Any, b: Any) -> Any:
    return b if a is None else a if b is None else choose(a, b)


def _range_value(kind: ParamType, value: Any) -> Any:
    """A stored column value as the record carries it (dates back to RFC 3339 text)."""
    if kind is ParamType.DATETIME and isinstance(value, int):
        return facet_key(kind, value)
    return value
