"""Spectral indices from surface reflectance (0..1), on numpy arrays or xarray objects.

Each takes reflectances as floats and returns the index with the same type and coordinates;
division by zero gives NaN, never an exception. Sentinel-2 L2A: rho = DN / 10000 up to processing
baseline 03.xx, rho = (DN - 1000) / 10000 from baseline 04.00 (N0400, 25 January 2022).
"""

from __future__ import annotations

from typing import Any

import numpy as np


def _ratio(numerator: Any, denominator: Any) -> Any:
    if hasattr(denominator, "dims"):  # xarray: mask the zeros, keep the coordinates
        return numerator / denominator.where(denominator != 0)
    num = np.asarray(numerator, dtype=np.float64)
    den = np.asarray(denominator, dtype=np.float64)
    out = np.full(np.broadcast(num, den).shape, np.nan)
    return np.divide(num, den, out=out, where=den != 0)


def normalised_difference(a: Any, b: Any) -> Any:
    """(a - b) / (a + b)."""
    return _ratio(a - b, a + b)


def ndvi(nir: Any, red: Any) -> Any:
    """Normalised Difference Vegetation Index (Rouse et al. 1974): (NIR - red) / (NIR + red)."""
    return normalised_difference(nir, red)


def evi(nir: Any, red: Any, blue: Any) -> Any:
    """Enhanced Vegetation Index (Huete et al. 2002): 2.5 (NIR - red) / (NIR + 6 red - 7.5 blue + 1)."""
    return _ratio(2.5 * (nir - red), nir + 6.0 * red - 7.5 * blue + 1.0)


def savi(nir: Any, red: Any, soil: float = 0.5) -> Any:
    """Soil Adjusted Vegetation Index (Huete 1988): (1 + L)(NIR - red) / (NIR + red + L)."""
    return _ratio((1.0 + soil) * (nir - red), nir + red + soil)


def ndwi(green: Any, nir: Any) -> Any:
    """Normalised Difference Water Index (McFeeters 1996): (green - NIR) / (green + NIR)."""
    return normalised_difference(green, nir)


def mndwi(green: Any, swir: Any) -> Any:
    """Modified NDWI (Xu 2006): (green - SWIR1) / (green + SWIR1); SWIR1 is Sentinel-2 B11."""
    return normalised_difference(green, swir)


def nbr(nir: Any, swir2: Any) -> Any:
    """Normalised Burn Ratio (Key and Benson 2006): (NIR - SWIR2) / (NIR + SWIR2); B8, B12."""
    return normalised_difference(nir, swir2)


def ndmi(nir: Any, swir: Any) -> Any:
    """Normalised Difference Moisture Index (Gao 1996, NDWI of leaves): (NIR - SWIR1) / (NIR + SWIR1)."""
    return normalised_difference(nir, swir)


# Sentinel-2 MSI bands each index uses, for notebooks that pick bands by name.
S2_BANDS = {
    "blue": "B02",
    "green": "B03",
    "red": "B04",
    "nir": "B08",
    "swir1": "B11",
    "swir2": "B12",
}
