"""Geometry helpers: subsets in radar geometry (line/pixel) and in map geometry, reprojection."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from everest_elearn.eo.safe import GeolocationGrid
from everest_elearn.errors import InvalidInput


@dataclass(frozen=True)
class Window:
    """Rows ``row_start..row_stop`` and columns ``col_start..col_stop`` (stop excluded)."""

    row_start: int
    row_stop: int
    col_start: int
    col_stop: int

    @property
    def shape(self) -> tuple[int, int]:
        return self.row_stop - self.row_start, self.col_stop - self.col_start

    def slices(self) -> tuple[slice, slice]:
        return slice(self.row_start, self.row_stop), slice(self.col_start, self.col_stop)


def _fit(grid: GeolocationGrid) -> tuple[Any, Any]:
    # Line and pixel as quadratic functions of (lon, lat), least squares over the tie points:
    # over one GRD scene the mapping is smooth and a second-order fit stays within a few pixels.
    lon, lat = grid.longitude, grid.latitude
    design = np.column_stack([np.ones_like(lon), lon, lat, lon * lat, lon**2, lat**2])
    line_coef = np.linalg.lstsq(design, grid.line, rcond=None)[0]
    pixel_coef = np.linalg.lstsq(design, grid.pixel, rcond=None)[0]
    return line_coef, pixel_coef


def lonlat_to_image(grid: GeolocationGrid, lon: Any, lat: Any) -> tuple[Any, Any]:
    """Approximate (line, pixel) of geographic points, from the annotation's tie points."""
    line_coef, pixel_coef = _fit(grid)
    lon = np.asarray(lon, dtype=np.float64)
    lat = np.asarray(lat, dtype=np.float64)
    terms = np.stack([np.ones_like(lon), lon, lat, lon * lat, lon**2, lat**2])
    return np.tensordot(line_coef, terms, 1), np.tensordot(pixel_coef, terms, 1)


def radar_window(
    grid: GeolocationGrid, west: float, south: float, east: float, north: float,
    lines: int, samples: int,
) -> Window:  # fmt: skip
    """The image window (radar geometry) that covers a longitude/latitude box."""
    if not (west < east and south < north):
        raise InvalidInput("box", "west < east and south < north are needed")
    lons = np.array([west, east, east, west])
    lats = np.array([south, south, north, north])
    rows, cols = lonlat_to_image(grid, lons, lats)
    window = Window(
        max(int(np.floor(rows.min())), 0), min(int(np.ceil(rows.max())) + 1, lines),
        max(int(np.floor(cols.min())), 0), min(int(np.ceil(cols.max())) + 1, samples),
    )  # fmt: skip
    if window.shape[0] <= 0 or window.shape[1] <= 0:
        raise InvalidInput("box", "the box does not overlap the image")
    return window


def map_subset(data: Any, x: tuple[float, float], y: tuple[float, float]) -> Any:
    """A DataArray/Dataset cut to ``x`` and ``y`` ranges in its own CRS (either axis order)."""
    ys = data["y"].values
    y_slice = slice(max(y), min(y)) if ys[0] > ys[-1] else slice(min(y), max(y))
    return data.sel(x=slice(min(x), max(x)), y=y_slice)


def reproject(data: Any, crs: str, resolution: float, resampling: str = "nearest") -> Any:
    """Reproject a georeferenced DataArray/Dataset to ``crs`` on a grid of ``resolution``.

    Uses odc-geo: the output grid covers the input's footprint, north up, square pixels.
    """
    import odc.geo.xr  # noqa: F401  (registers the .odc accessor)
    from odc.geo.geobox import GeoBox

    source = data.odc.geobox
    if source is None:
        raise InvalidInput("data", "no CRS or transform: load it with dc.load or assign_crs first")
    target = GeoBox.from_bbox(source.boundingbox.to_crs(crs), crs=crs, resolution=resolution)
    return data.odc.reproject(target, resampling=resampling)


def pixel_area_m2(data: Any) -> float:
    """Area of one pixel of a projected DataArray/Dataset (metres); geographic CRSs are refused."""
    import odc.geo.xr  # noqa: F401

    box = data.odc.geobox
    if box is None or box.crs is None or box.crs.geographic:
        raise InvalidInput("data", "a projected CRS in metres is needed to measure areas")
    res = box.resolution
    return abs(float(res.x) * float(res.y))
