"""Many footprints at once: one vectorised shapely pass for plain polygons, the per-record path else.

Bulk ingest spends most of its Python time building one shapely object per record; the common
footprint (a single-ring GeoJSON Polygon with 2-D coordinates) is built here for a whole batch
from one coordinate array, and checked with array operations.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import shapely
from numpy.typing import NDArray

from everest_elearn.catalogue import geometry as geo
from everest_elearn.errors import InvalidInput


def _simple_rings(geometries: Sequence[dict[str, Any] | None]) -> list[int]:
    """Positions of the geometries that are a GeoJSON Polygon with exactly one ring."""
    found = []
    for i, g in enumerate(geometries):
        if isinstance(g, dict) and g.get("type") == "Polygon":
            rings = g.get("coordinates")
            if isinstance(rings, list) and len(rings) == 1 and isinstance(rings[0], list):
                found.append(i)
    return found


def _polygon_array(
    geometries: Sequence[dict[str, Any] | None], positions: list[int]
) -> tuple[NDArray[np.object_], NDArray[np.float64], NDArray[np.int64]] | None:
    """The polygons at ``positions``, their coordinates and ring offsets (None when irregular)."""
    points: list[Any] = []
    offsets = [0]
    for i in positions:
        ring = geometries[i]["coordinates"][0]  # type: ignore[index]
        points.extend(ring)
        offsets.append(len(points))
    try:
        coords = np.asarray(points, dtype=np.float64)
    except (ValueError, TypeError):  # ragged or non-numeric coordinates: the slow path says why
        return None
    if coords.ndim != 2 or coords.shape[1] != 2:
        return None
    ring_offsets = np.asarray(offsets, dtype=np.int64)
    if (np.diff(ring_offsets) < 4).any():
        return None
    polygon_offsets = np.arange(len(positions) + 1, dtype=np.int64)
    try:
        shapes = shapely.from_ragged_array(
            shapely.GeometryType.POLYGON, coords, (ring_offsets, polygon_offsets)
        )
    except (shapely.errors.GEOSException, ValueError):
        return None
    return shapes, coords, ring_offsets


def _plain_mask(
    shapes: NDArray[np.object_], coords: NDArray[np.float64], ring_offsets: NDArray[np.int64]
) -> NDArray[np.bool_]:
    """Finite, in range, valid, and no edge longer than 180 degrees of longitude (no crossing)."""
    bounds = shapely.bounds(shapes)
    ok: NDArray[np.bool_] = np.isfinite(bounds).all(axis=1)
    ok &= (bounds[:, 0] >= -180) & (bounds[:, 2] <= 180)
    ok &= (bounds[:, 1] >= -90) & (bounds[:, 3] <= 90)
    ok &= shapely.is_valid(shapes)
    long_edge = np.abs(np.diff(coords[:, 0])) > 180
    long_edge[ring_offsets[1:-1] - 1] = False  # pairs spanning two rings are not edges
    owner = np.searchsorted(ring_offsets, np.nonzero(long_edge)[0], side="right") - 1
    ok[owner] = False
    return ok


def normalise_many(
    geometries: Sequence[dict[str, Any] | None], where: str = "geometry"
) -> list[dict[str, Any] | InvalidInput | None]:
    """``geometry.normalise`` of each footprint (None stays None); a bad one gives its error."""
    out: list[dict[str, Any] | InvalidInput | None] = list(geometries)
    fast: set[int] = set()
    positions = _simple_rings(geometries)
    built = _polygon_array(geometries, positions) if positions else None
    if built is not None:
        plain = _plain_mask(*built)
        fast = {positions[k] for k in np.nonzero(plain)[0].tolist()}
    for i, g in enumerate(geometries):
        if g is None or i in fast:
            continue
        try:
            out[i] = geo.normalise(g, where)
        except InvalidInput as exc:
            out[i] = exc
    return out


def shapes_of(geometries: Sequence[dict[str, Any] | None]) -> NDArray[np.object_]:
    """Shapely geometries of already normalised footprints (None where there is none)."""
    out: NDArray[np.object_] = np.full(len(geometries), None, dtype=object)
    positions = _simple_rings(geometries)
    built = _polygon_array(geometries, positions) if positions else None
    if built is not None:
        out[positions] = built[0]
    for i, g in enumerate(geometries):
        if g is not None and out[i] is None:
            out[i] = geo.to_shape(g)
    return out
