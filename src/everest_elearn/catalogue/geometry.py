"""Footprints: validation, bounding boxes, antimeridian handling, WKT parsing."""

from __future__ import annotations

from typing import Any

from everest_elearn.errors import InvalidInput


def _coords(geometry: dict[str, Any]) -> list[tuple[float, float]]:
    kind = geometry.get("type")
    if kind == "GeometryCollection":
        out: list[tuple[float, float]] = []
        for part in geometry.get("geometries", []):
            out.extend(_coords(part))
        return out
    points: list[tuple[float, float]] = []

    def walk(node: Any) -> None:
        if isinstance(node, (list, tuple)) and node and isinstance(node[0], (int, float)):
            points.append((float(node[0]), float(node[1])))
        elif isinstance(node, (list, tuple)):
            for child in node:
                walk(child)

    walk(geometry.get("coordinates", []))
    return points


def bbox_of(geometry: dict[str, Any]) -> tuple[float, float, float, float]:
    """West, south, east, north of a GeoJSON geometry (no antimeridian wrapping)."""
    points = _coords(geometry)
    if not points:
        raise InvalidInput("geometry", "the geometry has no coordinates")
    xs = [p[0] for p in points]
    ys = [p[1] for p in points]
    return min(xs), min(ys), max(xs), max(ys)
