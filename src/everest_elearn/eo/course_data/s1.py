"""Synthetic Sentinel-1 GRD scenes: the Nsanje flood stack (Malawi) and Mount Etna.

Digital numbers are made through the REAL calibration LUT of a 2015 Sentinel-1A product, so a
module calibrates them back with that LUT.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from everest_elearn.eo.course_data._shared import NAN, SHAPE, u8_band
from everest_elearn.eo.generated import (
    FLOODPLAIN,
    LAND,
    RIVER,
    SAFE_FOR_LUT,
    SHADOW,
    SMOOTH,
    URBAN,
    lut_rows_cols,
)  # fmt: skip
from everest_elearn.samples import synthetic
from everest_elearn.samples.scenes import (
    Place,
    SampleProduct,
    at,
    collection,
    pixel_area_km2,
    write_product,
)

NSANJE = Place("Nsanje / Chiromo, Shire river, Malawi", "EPSG:32736", 708_000.0, 8_160_000.0, 20.0)


S1_DN = collection(
    "course-s1-grd-dn",
    "Sentinel-1 IW GRDH digital numbers (amplitude), VV and VH, with incidence and truth",
    [
        {"name": "dn_vv", "dtype": "uint16", "nodata": 0, "units": "1"},
        {"name": "dn_vh", "dtype": "uint16", "nodata": 0, "units": "1"},
        {"name": "incidence", "dtype": "float32", "nodata": "NaN", "units": "degree"},
        u8_band("water_truth"),
        u8_band("landcover"),
    ],
    {"platform": "Sentinel-1", "instrument": "SAR-C", "sensorType": "RADAR", "productType": "GRD",
     "sensorMode": "IW", "polarisationChannels": "VV, VH", "processingLevel": "L1"},
)  # fmt: skip


@dataclass(frozen=True)
class Acquisition:
    when: datetime
    direction: str
    relative_orbit: int
    ponding: float  # share of the floodplain under shallow water on that date
    soil_db: float  # backscatter shift of the floodplain's soil (moisture)
    stable_db: float  # shift of everything outside the floodplain (geometry, season)


# Sentinel-1A, 12-day repeat; the flood image is the last. 2014-12-10 is the driest comparable
# date over the floodplain (moist soil, no ponding): the reference Hostache et al. would pick.
NSANJE_STACK = (
    Acquisition(at(2014, 10, 11, 3, 40), "DESCENDING", 6, 0.00, -1.6, 0.0),
    Acquisition(at(2014, 10, 23, 3, 40), "DESCENDING", 6, 0.00, -1.4, 0.1),
    Acquisition(at(2014, 11, 4, 15, 55), "ASCENDING", 174, 0.00, 1.5, -2.2),
    Acquisition(at(2014, 11, 16, 3, 40), "DESCENDING", 6, 0.00, -0.6, 0.0),
    Acquisition(at(2014, 11, 28, 3, 40), "DESCENDING", 6, 0.12, 0.2, 0.1),
    Acquisition(at(2014, 12, 10, 3, 40), "DESCENDING", 6, 0.00, 1.2, 0.0),
    Acquisition(at(2014, 12, 22, 3, 40), "DESCENDING", 6, 0.25, 0.8, 0.2),
    Acquisition(at(2015, 1, 3, 3, 40), "DESCENDING", 6, 0.03, 0.9, 0.1),
    Acquisition(at(2015, 1, 15, 3, 40), "DESCENDING", 6, 1.00, 0.9, 0.1),  # the flood
)
BEST_REFERENCE = "2014-12-10"


def _nsanje_layout(
    seed: int,
) -> tuple[npt.NDArray[np.uint8], npt.NDArray[np.float64], synthetic.FloodPlain]:
    plain = synthetic.flood_plain(seed, SHAPE, flood_fraction=0.22)
    cover = np.full(SHAPE, LAND, np.uint8)
    cover[plain.flooded & ~plain.river] = FLOODPLAIN
    cover[plain.river] = RIVER
    rows, cols = np.mgrid[0 : SHAPE[0], 0 : SHAPE[1]]
    hill = (rows - 150) ** 2 / 30**2 + (cols - 20) ** 2 / 14**2 < 1
    # The slope facing away from the radar: the scenes are of descending track 6 (8 of 9 dates),
    # which looks west, so the hill's west side is in shadow.
    cover[hill & (cols < 20)] = SHADOW
    cover[(rows > 20) & (rows < 26) & (cols > 140) & (cols < 185)] = SMOOTH  # the airstrip
    town = (rows - 40) ** 2 + (cols - 60) ** 2 < 14**2
    cover[town & (cover != RIVER)] = URBAN
    # Depth order for ponding: the lowest floodplain floods first (a smooth random field).
    depth = synthetic.smooth_noise(np.random.default_rng(seed + 1), SHAPE, 8)
    return cover, depth, plain


def _sigma0_db(cover: npt.NDArray[np.uint8], water: npt.NDArray[np.bool_], a: Acquisition,
               rng: np.random.Generator, cross: bool) -> npt.NDArray[np.float64]:  # fmt: skip
    texture = synthetic.smooth_noise(rng, SHAPE, 6)
    offset = -6.5 if cross else 0.0
    db = -9.5 + offset + 1.2 * texture + a.stable_db
    db = np.where(cover == FLOODPLAIN, -10.5 + offset + a.soil_db + 1.0 * texture, db)
    db = np.where(cover == URBAN, -3.0 + offset + 1.5 * texture + a.stable_db, db)
    db = np.where(cover == SHADOW, -25.0 + offset + 0.5 * texture, db)
    db = np.where(cover == SMOOTH, -23.0 + offset + 0.5 * texture, db)
    return np.where(water & (cover != URBAN), -22.5 + offset + 0.8 * texture, db)


def _dn(
    sigma0_linear: npt.NDArray[np.float64], a_lut: npt.NDArray[np.float64]
) -> npt.NDArray[np.uint16]:
    # DN = A sqrt(sigma0): the inverse of the calibration; 0 is nodata, so the darkest DN is 1.
    return np.clip(np.rint(a_lut * np.sqrt(sigma0_linear)), 1, 65535).astype(np.uint16)


def nsanje_stack(root: Path, base_url: str | None, lut: Any, seed: int = 41) -> list[SampleProduct]:
    """The Nsanje stack (9 dates, the last one flooded); truth on the flood image's record."""
    cover, depth, plain = _nsanje_layout(seed)
    rows, cols = lut_rows_cols(SHAPE)
    a_vv = lut.interpolate(rows, cols, "sigmaNought")
    prone = cover == FLOODPLAIN
    area = pixel_area_km2(NSANJE)
    out: list[SampleProduct] = []
    before: npt.NDArray[np.bool_] | None = None
    for i, a in enumerate(NSANJE_STACK):
        rng = np.random.default_rng(seed + 10 + i)
        threshold = np.quantile(depth[prone], a.ponding) if 0 < a.ponding < 1 else None
        ponded = (
            prone
            if a.ponding >= 1
            else (prone & (depth <= threshold) if threshold is not None else np.zeros(SHAPE, bool))
        )
        water = (cover == RIVER) | ponded
        flood_day = i == len(NSANJE_STACK) - 1
        if flood_day:  # the flood also reaches part of the town: bright double bounce, not dark
            water = water | ((cover == URBAN) & plain.flooded)
        arrays: dict[str, tuple[Any, float | None]] = {}
        for pol, cross in (("vv", False), ("vh", True)):
            db = _sigma0_db(cover, water, a, rng, cross)
            linear = 10 ** (db / 10) * synthetic.speckle(rng, SHAPE)
            arrays[f"dn_{pol}"] = (_dn(linear, a_vv), 0)
        # Right-looking: ascending passes look east (incidence grows eastwards), descending west.
        ramp = np.linspace(33.0, 38.0, SHAPE[1])
        ramp = ramp if a.direction == "ASCENDING" else ramp[::-1]
        arrays["incidence"] = (np.broadcast_to(ramp, SHAPE).astype(np.float32), NAN)
        arrays["water_truth"] = (water.astype(np.uint8), 255)
        arrays["landcover"] = (cover, 255)
        truth: dict[str, Any] = {}
        if flood_day and before is not None:
            flood = water & ~before & (cover != URBAN)
            truth = {"flood_pixels": int(flood.sum()), "flood_area_km2": round(float(flood.sum()) * area, 4),
                     "flooded_urban_pixels": int((water & (cover == URBAN)).sum()),
                     "best_reference": BEST_REFERENCE, "reference_date": "2015-01-03"}  # fmt: skip
        before = water
        props = {
            "orbitDirection": a.direction,
            "track": a.relative_orbit,  # OGC 13-026 eo:track, as the catalogue searches it
            "lutSource": SAFE_FOR_LUT,
        }
        ident = f"S1A_IW_GRDH_1SDV_{a.when:%Y%m%dT%H%M%S}_SYNTH_NSANJE"
        out.append(
            write_product(root, S1_DN, ident, a.when, NSANJE, arrays, props, base_url, truth)
        )
    return out


ETNA_S1 = Place("Mount Etna, Sicily", "EPSG:32633", 494_000.0, 4_186_000.0, 40.0)
# gamma0 (flat terrain, dB) of the Etna scene's covers, in VV; the scene's known truth.
ETNA_GAMMA0_DB = {"lava": -12.0, "vegetation": -7.5}


def etna_scene(root: Path, base_url: str | None, lut: Any, seed: int = 51) -> SampleProduct:
    """Mount Etna as a cone seen by a radar looking east: brighter west flank, darker east flank."""
    rng = np.random.default_rng(seed)
    rows, cols = np.mgrid[0 : SHAPE[0], 0 : SHAPE[1]].astype(np.float64)
    r = np.hypot(rows - 96, cols - 96) * ETNA_S1.pixel
    elevation = np.maximum(3300.0 - r * 0.45, 900.0) + 15 * synthetic.smooth_noise(rng, SHAPE, 4)
    incidence = np.broadcast_to(np.linspace(36.0, 40.0, SHAPE[1]), SHAPE)
    # Ascending and right-looking, the radar looks east: ground rising eastwards (the west flank)
    # faces it, so the local incidence angle is the ellipsoid's minus the slope along x.
    slope = np.arctan(np.gradient(elevation, ETNA_S1.pixel, axis=1))
    local = np.radians(incidence) - slope
    lava = synthetic.smooth_noise(rng, SHAPE, 10) > 0.1
    gamma_db = np.where(lava, ETNA_GAMMA0_DB["lava"], ETNA_GAMMA0_DB["vegetation"])
    gamma = 10 ** ((gamma_db + 0.6 * synthetic.smooth_noise(rng, SHAPE, 5)) / 10)
    sigma0 = gamma * np.cos(local)  # sigma0 = gamma0 cos(local incidence)
    rows_l, cols_l = lut_rows_cols(SHAPE)
    a_vv = lut.interpolate(rows_l, cols_l, "sigmaNought")
    arrays: dict[str, tuple[Any, float | None]] = {
        "dn_vv": (_dn(sigma0 * synthetic.speckle(rng, SHAPE), a_vv), 0),
        "dn_vh": (_dn(sigma0 * 0.2 * synthetic.speckle(rng, SHAPE), a_vv), 0),
        "incidence": (incidence.astype(np.float32), NAN),
        "water_truth": (np.zeros(SHAPE, np.uint8), 255),
        "landcover": (lava.astype(np.uint8), 255),  # 1 lava, 0 vegetation
    }
    elevation_file = {"elevation": (elevation.astype(np.float32), NAN)}
    when = at(2021, 2, 24, 16, 55)  # ascending passes cross Sicily at about 18 h local time
    ident = f"S1B_IW_GRDH_1SDV_{when:%Y%m%dT%H%M%S}_SYNTH_ETNA"
    truth = {"gamma0_db": ETNA_GAMMA0_DB, "landcover": {"1": "lava", "0": "vegetation"}}
    props = {"orbitDirection": "ASCENDING", "track": 44, "lutSource": SAFE_FOR_LUT}
    product = write_product(
        root, S1_DN, ident, when, ETNA_S1, {**arrays, **elevation_file}, props, base_url, truth
    )
    return product
