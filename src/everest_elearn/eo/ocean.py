"""Ocean colour line heights: Maximum Chlorophyll Index and Fluorescence Line Height.

Both measure how far the radiance of a middle band rises above the straight line (the baseline)
between two neighbouring bands, in the band's own units (TOA radiance here):

    LH = L2 - [L1 + (L3 - L1) (lambda2 - lambda1) / (lambda3 - lambda1)]

FLH (Letelier and Abbott 1996; Gower et al. 1999) takes the chlorophyll fluorescence peak at
681 nm over 665 and 709 nm; MCI (Gower et al. 2005) takes the 709 nm peak of dense surface
blooms over 681 and 754 nm.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class LineHeightBands:
    """Band names and centre wavelengths (nm) of a baseline (1, 3) and its peak (2)."""

    low: str
    peak: str
    high: str
    wl_low: float
    wl_peak: float
    wl_high: float


# MERIS FR band numbers (radiance_N) and nominal centres; OLCI Oa bands and centres.
MERIS_FLH = LineHeightBands("radiance_7", "radiance_8", "radiance_9", 665.0, 681.25, 708.75)
MERIS_MCI = LineHeightBands("radiance_8", "radiance_9", "radiance_10", 681.25, 708.75, 753.75)
OLCI_FLH = LineHeightBands("Oa08", "Oa10", "Oa11", 665.0, 681.25, 708.75)
OLCI_MCI = LineHeightBands("Oa10", "Oa11", "Oa12", 681.25, 708.75, 753.75)


def line_height(
    low: Any, peak: Any, high: Any, wl_low: float, wl_peak: float, wl_high: float
) -> Any:
    """Height of ``peak`` above the baseline from ``low`` to ``high`` (same units as the input)."""
    fraction = (wl_peak - wl_low) / (wl_high - wl_low)
    return peak - (low + (high - low) * fraction)


def flh(
    l665: Any,
    l681: Any,
    l709: Any,
    wavelengths: tuple[float, float, float] = (665.0, 681.25, 708.75),
) -> Any:
    """Fluorescence Line Height: the 681 nm radiance above the 665-709 nm baseline."""
    return line_height(l665, l681, l709, *wavelengths)


def mci(
    l681: Any,
    l709: Any,
    l754: Any,
    wavelengths: tuple[float, float, float] = (681.25, 708.75, 753.75),
) -> Any:
    """Maximum Chlorophyll Index: the 709 nm radiance above the 681-754 nm baseline."""
    return line_height(l681, l709, l754, *wavelengths)


def from_bands(data: Any, bands: LineHeightBands) -> Any:
    """Line height from a mapping or Dataset holding the three bands by name."""
    return line_height(
        data[bands.low], data[bands.peak], data[bands.high],
        bands.wl_low, bands.wl_peak, bands.wl_high,
    )  # fmt: skip
