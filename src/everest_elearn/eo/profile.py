"""Backscatter profiles of an image stack and the choice of a reference image for a flood image.

After the criteria of Hostache, Matgen and Wagner (2012): a change-detection reference should be
(1) acquired in the same geometry as the flood image (same orbit direction and track), (2) as dry
as possible in the area that the flood can reach (high backscatter, few water-like pixels) and
(3) otherwise comparable to the flood image: in the area the flood never reaches, its backscatter
distribution should match the flood image's (no frost, wind, wet snow or a changed land cover).
The "backscatter profile" is the per-date statistics of the stack in those two areas. This is a
teaching version of the method, not a reimplementation of the authors' code.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from everest_elearn.eo._arrays import values
from everest_elearn.errors import InvalidInput


@dataclass(frozen=True)
class Profile:
    """Statistics of one date in dB: in the flood-prone area and in the stable area."""

    label: str
    prone_mean: float
    prone_p10: float
    prone_p50: float
    prone_water_fraction: float  # share of flood-prone pixels at or below the water threshold
    stable_p50: float
    stable_iqr: float


def profile(image_db: Any, prone: Any, water_threshold_db: float, label: str = "") -> Profile:
    """The backscatter profile of one image (dB) given the flood-prone mask (True = prone)."""
    x = values(image_db)
    mask = np.asarray(getattr(prone, "values", prone), dtype=bool)
    if mask.shape != x.shape:
        raise InvalidInput("prone", f"mask shape {mask.shape} is not the image's {x.shape}")
    inside = x[mask & np.isfinite(x)]
    outside = x[~mask & np.isfinite(x)]
    if inside.size == 0 or outside.size == 0:
        raise InvalidInput("prone", "both the flood-prone and the stable area need valid pixels")
    q25, q50, q75 = np.percentile(outside, [25, 50, 75])
    return Profile(
        label=label,
        prone_mean=float(inside.mean()),
        prone_p10=float(np.percentile(inside, 10)),
        prone_p50=float(np.median(inside)),
        prone_water_fraction=float((inside <= water_threshold_db).mean()),
        stable_p50=float(q50),
        stable_iqr=float(q75 - q25),
    )


@dataclass(frozen=True)
class Choice:
    """The chosen reference, and for each candidate why it was kept or left out."""

    reference: str
    reasons: dict[str, str]


def choose_reference(
    flood: Profile, candidates: Sequence[Profile], stable_tolerance_db: float = 1.0
) -> Choice:
    """The driest comparable candidate: the highest flood-prone mean among those whose stable-area
    median is within ``stable_tolerance_db`` of the flood image's."""
    reasons: dict[str, str] = {}
    kept: list[Profile] = []
    for c in candidates:
        shift = c.stable_p50 - flood.stable_p50
        if abs(shift) > stable_tolerance_db:
            reasons[c.label] = f"left out: stable area differs by {shift:+.2f} dB"
        else:
            kept.append(c)
            reasons[c.label] = (
                f"comparable (stable {shift:+.2f} dB); flood-prone mean {c.prone_mean:.2f} dB, "
                f"{100 * c.prone_water_fraction:.1f}% water-like"
            )
    if not kept:
        raise InvalidInput("candidates", "no candidate is comparable to the flood image")
    best = max(kept, key=lambda c: (c.prone_mean, -c.prone_water_fraction))
    reasons[best.label] += " -> chosen"
    return Choice(best.label, reasons)


def matching_query(
    properties: dict[str, Any], start: str, end: str, box: Sequence[float] | None = None
) -> dict[str, str]:
    """OpenSearch EO parameters for acquisitions in the flood image's geometry (same product
    type, orbit direction, relative orbit and mode), between ``start`` and ``end``.

    ``properties`` use the OGC 13-026 names the catalogue searches: the relative orbit is
    ``track`` (a catalogue ignores a parameter it does not know, so a wrong name widens the
    search silently).
    """
    query = {"start": start, "end": end}
    for key in ("productType", "orbitDirection", "track", "sensorMode"):
        if properties.get(key) not in (None, ""):
            query[key] = str(properties[key])
    if box is not None:
        query["box"] = ",".join(f"{v:g}" for v in box)
    return query
