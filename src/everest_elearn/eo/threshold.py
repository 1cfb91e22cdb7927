"""Binarisation thresholds: Otsu (1979) on a histogram of the finite pixels."""

from __future__ import annotations

from typing import Any

import numpy as np

from everest_elearn.eo._arrays import values
from everest_elearn.errors import InvalidInput


def otsu(image: Any, bins: int = 256) -> float:
    """The threshold that maximises the between-class variance of the histogram (Otsu 1979).

    Works on any numpy array or DataArray; NaN and infinite pixels are left out. The histogram has
    ``bins`` equal bins between the minimum and the maximum and the threshold is a bin centre,
    as in scikit-image's ``threshold_otsu``: pixels ``<= threshold`` form the lower class.
    """
    pixels = values(image).ravel()
    pixels = pixels[np.isfinite(pixels)]
    if pixels.size == 0:
        raise InvalidInput("image", "no finite pixels to threshold")
    low, high = float(pixels.min()), float(pixels.max())
    if low == high:
        raise InvalidInput("image", f"every pixel equals {low}: nothing to split")
    counts, edges = np.histogram(pixels, bins=bins, range=(low, high))
    centres = (edges[:-1] + edges[1:]) / 2
    counts = counts.astype(np.float64)
    # Class weights and means for every split "bins[:i+1] | bins[i+1:]".
    weight_low = np.cumsum(counts)
    weight_high = np.cumsum(counts[::-1])[::-1]
    mean_low = np.cumsum(counts * centres) / np.maximum(weight_low, 1e-300)
    mean_high = (np.cumsum((counts * centres)[::-1]) / np.maximum(weight_high[::-1], 1e-300))[::-1]
    between = weight_low[:-1] * weight_high[1:] * (mean_low[:-1] - mean_high[1:]) ** 2
    return float(centres[int(np.argmax(between))])


def below(image: Any, threshold: float) -> Any:
    """Boolean mask of pixels at or below ``threshold`` (NaN pixels are False)."""
    return image <= threshold
