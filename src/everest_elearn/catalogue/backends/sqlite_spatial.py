"""The embedded backend's spatial filter: R*Tree candidates, then an exact shapely test."""

from __future__ import annotations

import json
import sqlite3
from typing import Any

import numpy as np
import shapely

from everest_elearn.catalogue import geometry as geo
from everest_elearn.catalogue.backends.sqlite_query import Where, time_window_days
from everest_elearn.catalogue.query import Query, SpatialRelation

# SQL here is assembled from fixed fragments; every value is a bound parameter (S608 exemptions).


def spatial(
    conn: sqlite3.Connection, query: Query, base: Where
) -> tuple[str, list[Any], int | None]:
    """R*Tree prefilter, then an exact shapely test of the records on the window's border."""
    assert query.geometry is not None
    target = geo.to_shape(query.geometry, "geometry")
    relation = query.spatial_relation
    parts = list(target.geoms) if isinstance(target, shapely.MultiPolygon) else [target]
    if relation is SpatialRelation.CONTAINS:
        parts = parts[:1]  # a record containing the whole contains the first part
    window = time_window_days(query)
    sure: set[int] = set()
    unsure: dict[int, bytes] = {}
    for part in parts:
        x0, y0, x1, y1 = part.bounds
        if relation is SpatialRelation.CONTAINS:
            box_sql, params = (
                "s.x0 <= ? AND s.x1 >= ? AND s.y0 <= ? AND s.y1 >= ?",
                [x0, x1, y0, y1],
            )
        else:
            box_sql, params = (
                "s.x0 <= ? AND s.x1 >= ? AND s.y0 <= ? AND s.y1 >= ?",
                [x1, x0, y1, y0],
            )
        inside, inside_params = "0", []
        if relation is not SpatialRelation.CONTAINS and geo.is_rectangle(part):
            inside = "s.x0 >= ? AND s.x1 <= ? AND s.y0 >= ? AND s.y1 <= ?"
            inside_params = [x0, x1, y0, y1]
        if window is not None:
            box_sql += " AND s.t0 <= ? AND s.t1 >= ?"
            params += [window[1], window[0]]
        rows = conn.execute(
            f"SELECT r.rid, {inside}, r.geom FROM space AS s CROSS JOIN records AS r"  # noqa: S608
            f" WHERE r.rid = s.id AND {box_sql} AND r.geom IS NOT NULL AND {base.sql}",
            [*inside_params, *params, *base.params],
        )
        for rid, is_inside, wkb in rows:
            if is_inside:
                sure.add(rid)
            elif rid not in sure:
                unsure[rid] = wkb
    for rid in sure:
        unsure.pop(rid, None)
    if unsure:
        rids = np.fromiter(unsure.keys(), dtype=np.int64, count=len(unsure))
        shapes = shapely.from_wkb(list(unsure.values()))
        if relation is SpatialRelation.CONTAINS:
            hits = shapely.contains(shapes, target)
        else:
            shapely.prepare(target)
            hits = shapely.intersects(target, shapes)
        sure.update(int(r) for r in rids[hits])
    ids = json.dumps(sorted(sure))
    if relation is SpatialRelation.DISJOINT:
        return (
            "r.geom IS NOT NULL AND r.rid NOT IN (SELECT value FROM json_each(?))",
            [ids],
            None,
        )
    return "r.rid IN (SELECT value FROM json_each(?))", [ids], len(sure)
