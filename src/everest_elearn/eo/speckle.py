"""Speckle filters for SAR intensity: box mean, Lee (1980) and refined Lee (1981).

Speckle is multiplicative: I = R * n with E[n] = 1 and var[n] = 1 / ENL (equivalent number of
looks; about 4.4 for Sentinel-1 IW GRDH). The filters work on linear intensity, never on dB.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy import ndimage

from everest_elearn.eo._arrays import Float, like, values
from everest_elearn.errors import InvalidInput

S1_GRDH_ENL = 4.4


def _check(size: int) -> None:
    if size < 3 or size % 2 == 0:
        raise InvalidInput("size", f"the window is an odd number of pixels >= 3, not {size}")


def _moments(x: Float, size: int) -> tuple[Float, Float]:
    mean = ndimage.uniform_filter(x, size, mode="reflect")
    square = ndimage.uniform_filter(x * x, size, mode="reflect")
    return mean, np.maximum(square - mean * mean, 0.0)


def box(image: Any, size: int = 5) -> Any:
    """Moving average over a ``size`` x ``size`` window (blurs edges; the baseline to beat)."""
    _check(size)
    return like(ndimage.uniform_filter(values(image), size, mode="reflect"), image)


def _lee_weighting(x: Float, mean: Float, variance: Float, enl: float) -> Float:
    # Lee (1980): var(R) = (var(I) - mean^2 Cu^2) / (1 + Cu^2), Cu^2 = 1/ENL; the weight of the
    # pixel itself is var(R) / var(I): 0 on homogeneous areas (pure speckle), towards 1 on detail.
    cu2 = 1.0 / enl
    signal = np.maximum((variance - mean * mean * cu2) / (1.0 + cu2), 0.0)
    weight = np.divide(signal, variance, out=np.zeros_like(variance), where=variance > 0)
    return mean + weight * (x - mean)


def _filled(image: Any) -> tuple[Float, np.ndarray[Any, np.dtype[np.bool_]]]:
    x = values(image)
    missing = ~np.isfinite(x)
    if missing.all():
        raise InvalidInput("image", "no finite pixels to filter")
    # NaN would spread through every window; the local statistics use the scene mean instead.
    return np.where(missing, float(np.nanmean(x)), x), missing


def lee(image: Any, size: int = 7, enl: float = S1_GRDH_ENL) -> Any:
    """Lee filter: local mean plus the pixel's detail weighted by how much it exceeds speckle."""
    _check(size)
    x, missing = _filled(image)
    mean, variance = _moments(x, size)
    out = _lee_weighting(x, mean, variance, enl)
    out[missing] = np.nan
    return like(out, image)


def _half_windows() -> list[Float]:
    """The 8 edge-aligned 7x7 windows of the refined Lee filter, in the order of ``_SIDES``."""
    i, j = np.mgrid[0:7, 0:7]
    shapes = [
        i <= 3,  # above a horizontal edge
        i >= 3,  # below it
        j <= 3,  # left of a vertical edge
        j >= 3,  # right of it
        j - i >= 0,  # upper right of a "/" ... "\" diagonal through the centre
        i - j >= 0,  # lower left
        i + j <= 6,  # upper left of a "/" diagonal
        i + j >= 6,  # lower right
    ]
    return [s.astype(np.float64) / s.sum() for s in shapes]


# Block means of the 7x7 window: 3x3 blocks centred at offsets (-2, 0, 2) in rows and columns,
# numbered row by row 0..8 (4 is the centre). Each edge axis compares two opposite blocks; the
# side kept is the one whose block resembles the centre block.
_AXES = ((1, 7, 0, 1), (3, 5, 2, 3), (2, 6, 4, 5), (0, 8, 6, 7))


def refined_lee(image: Any, enl: float = S1_GRDH_ENL) -> Any:
    """Refined Lee (Lee 1981): Lee statistics from the half of a 7x7 window on the pixel's side of
    the strongest local edge, so edges stay sharp while homogeneous areas are smoothed."""
    x, missing = _filled(image)
    block = ndimage.uniform_filter(x, 3, mode="reflect")
    padded = np.pad(block, 2, mode="reflect")
    rows, cols = x.shape
    blocks = [
        padded[2 + dr : 2 + dr + rows, 2 + dc : 2 + dc + cols]
        for dr in (-2, 0, 2)
        for dc in (-2, 0, 2)
    ]
    gradients = np.stack([np.abs(blocks[a] - blocks[b]) for a, b, _, _ in _AXES])
    axis = np.argmax(gradients, axis=0)
    side = np.empty(x.shape, dtype=np.int64)
    for k, (a, b, first, second) in enumerate(_AXES):
        nearer_a = np.abs(blocks[a] - blocks[4]) <= np.abs(blocks[b] - blocks[4])
        side = np.where(axis == k, np.where(nearer_a, first, second), side)
    means, variances = [], []
    for kernel in _half_windows():
        m = ndimage.correlate(x, kernel, mode="reflect")
        s = ndimage.correlate(x * x, kernel, mode="reflect")
        means.append(m)
        variances.append(np.maximum(s - m * m, 0.0))
    mean = np.choose(side, means)
    variance = np.choose(side, variances)
    out = _lee_weighting(x, mean, variance, enl)
    out[missing] = np.nan
    return like(out, image)


def enl_estimate(image: Any) -> float:
    """Equivalent number of looks of a homogeneous area: mean^2 / variance of intensity."""
    x = values(image)
    x = x[np.isfinite(x)]
    variance = float(x.var())
    if variance == 0:
        raise InvalidInput("image", "no variance: the ENL is not defined")
    return float(x.mean() ** 2 / variance)
