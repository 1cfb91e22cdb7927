"""Radiometry: decibels, sigma0 from digital numbers through the calibration LUT, incidence."""

from __future__ import annotations

from typing import Any

import numpy as np

from everest_elearn.eo._arrays import Float, like, values

# Below this linear power a pixel is "no signal": log10 of 0 is not a number of dB.
FLOOR = 1e-10


def to_db(linear: Any) -> Any:
    """10 log10(x) for power quantities (sigma0, beta0, gamma0); values <= 0 become NaN."""
    x = values(linear)
    out = np.full_like(x, np.nan)
    positive = x > 0
    out[positive] = 10.0 * np.log10(np.maximum(x[positive], FLOOR))
    return like(out, linear)


def from_db(decibels: Any) -> Any:
    """10 ** (x / 10): linear power from dB."""
    return like(10.0 ** (values(decibels) / 10.0), decibels)


def calibrate(dn: Any, lut: Any, noise: Any | None = None) -> Any:
    """sigma0 (or beta0, gamma0) = (|DN|^2 - N) / A^2, with A the LUT interpolated on DN's grid.

    ESA, "Sentinel-1 Level 1 Detailed Algorithm Definition" (S1-TN-MDA-52-7445), section 9:
    the calibration vectors give A at a sparse grid of lines and pixels; ``lut`` is that A
    already interpolated to the image's pixels (see :meth:`CalibrationLut.interpolate`).
    ``noise``: the noise vectors N interpolated the same way (thermal noise removal); power
    below the noise is no signal, 0 rather than negative.
    """
    power = values(dn) ** 2
    if noise is not None:
        power = np.maximum(power - values(noise), 0.0)
    a = values(lut)
    out = np.where(a > 0, power / np.maximum(a, FLOOR) ** 2, np.nan)
    return like(out, dn)


def gamma0_from_sigma0(sigma0: Any, incidence_deg: Any) -> Any:
    """gamma0 = sigma0 / cos(theta): lessens the brightening of the near range (flat terrain)."""
    return like(values(sigma0) / np.cos(np.radians(values(incidence_deg))), sigma0)


def interpolate_grid(
    grid_rows: Float, grid_cols: Float, grid: Float, rows: Float, cols: Float
) -> Float:
    """Bilinear interpolation of a sparse (rows x cols) grid at every (row, col) of a window.

    ``grid[i, j]`` is the value at ``grid_rows[i]``, ``grid_cols[j]`` (both increasing); the
    answer has shape ``(len(rows), len(cols))``. Outside the grid, the edge value is kept.
    """
    along_cols = np.stack([np.interp(cols, grid_cols, line) for line in grid])
    return np.stack(
        [np.interp(rows, grid_rows, along_cols[:, j]) for j in range(cols.size)], axis=1
    )
