"""Radar-geometry windows from the real geolocation grid; map subsets and reprojection."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import xarray as xr
from odc.geo.xr import assign_crs

from everest_elearn.eo.geometry import (
    lonlat_to_image,
    map_subset,
    pixel_area_m2,
    radar_window,
    reproject,
)
from everest_elearn.eo.safe import Safe
from everest_elearn.errors import InvalidInput


def test_tie_points_map_back_to_their_line_and_pixel(safe_zip: Path) -> None:
    grid = Safe(safe_zip).annotation("VV").grid
    rows, cols = lonlat_to_image(grid, grid.longitude, grid.latitude)
    assert np.abs(rows - grid.line).max() < 15  # pixels, over a 16685-line scene
    assert np.abs(cols - grid.pixel).max() < 15


def test_window_around_a_tie_point_contains_it(safe_zip: Path) -> None:
    a = Safe(safe_zip).annotation("VV")
    i = 100
    lon, lat = a.grid.longitude[i], a.grid.latitude[i]
    w = radar_window(a.grid, lon - 0.02, lat - 0.02, lon + 0.02, lat + 0.02, a.lines, a.samples)
    assert w.row_start <= a.grid.line[i] < w.row_stop
    assert w.col_start <= a.grid.pixel[i] < w.col_stop
    # 0.04 degrees is about 4.4 km north-south: a few hundred 10 m lines.
    assert 300 < w.shape[0] < 900 and 200 < w.shape[1] < 900


def test_boxes_outside_or_reversed_are_refused(safe_zip: Path) -> None:
    a = Safe(safe_zip).annotation("VV")
    with pytest.raises(InvalidInput):
        radar_window(a.grid, 10, 50, 9, 51, a.lines, a.samples)
    with pytest.raises(InvalidInput):
        radar_window(a.grid, 100, 0, 101, 1, a.lines, a.samples)


def utm_image() -> xr.DataArray:
    x = 700_000 + 20 * np.arange(50) + 10
    y = 8_172_000 - 20 * np.arange(40) - 10
    data = xr.DataArray(np.arange(2000.0).reshape(40, 50), dims=("y", "x"), coords={"y": y, "x": x})
    return assign_crs(data, "EPSG:32736")


def test_map_subset_takes_either_axis_order() -> None:
    image = utm_image()
    part = map_subset(image, (700_100, 700_300), (8_171_900, 8_171_700))
    assert part.shape == (10, 10)
    assert pixel_area_m2(image) == 400.0


def test_reprojection_to_geographic_keeps_values_and_footprint() -> None:
    image = utm_image()
    geo = reproject(image, "EPSG:4326", 0.0002)
    assert geo.odc.geobox.crs == "EPSG:4326"
    finite = geo.values[np.isfinite(geo.values)]
    assert set(np.unique(finite)) <= set(image.values.ravel())
    west, south, east, north = geo.odc.geobox.boundingbox
    assert 34.87 < west < east < 34.89 and -16.55 < south < north < -16.5
    with pytest.raises(InvalidInput):
        pixel_area_m2(geo)
