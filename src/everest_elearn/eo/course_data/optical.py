"""Synthetic optical scenes: Sentinel-2 L2A crop fields in the Camargue, a Sentinel-3 OLCI bloom."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from everest_elearn.eo.course_data._shared import NAN, SHAPE, u8_band
from everest_elearn.samples import synthetic
from everest_elearn.samples.scenes import (
    CAMARGUE,
    Place,
    SampleProduct,
    at,
    collection,
    write_product,
)

S2_SERIES = collection(
    "course-s2-l2a-fields",
    "Sentinel-2 MSI L2A surface reflectance of crop fields, with cloud mask and field ids",
    [
        *({"name": b, "dtype": "uint16", "nodata": 0, "units": "1"} for b in synthetic.S2_BANDS),
        u8_band("cloud_mask"),
        u8_band("field_id", 0),
    ],
    {"platform": "Sentinel-2", "instrument": "MSI", "sensorType": "OPTICAL", "productType": "S2MSI2A",
     "processingLevel": "L2A"},
)  # fmt: skip


S2_DATES = (at(2022, 3, 15, 10, 30), at(2022, 4, 19, 10, 30), at(2022, 5, 24, 10, 30),
            at(2022, 6, 28, 10, 30), at(2022, 8, 2, 10, 30), at(2022, 9, 11, 10, 30))  # fmt: skip
CROPS = {
    "wheat": (0.55, 0.95, 0.8, 0.1, 0.0, 0.0),
    "maize": (0.0, 0.0, 0.2, 0.6, 0.95, 0.5),
    "rice": (0.0, 0.0, 0.05, 0.45, 0.9, 0.7),
}
S2_BOA_ADD_OFFSET = -1000  # reflectance = (DN + offset) / 10000 in L2A of baseline 04.00
FLOODED_RICE = (False, False, True, False, False, False)  # rice paddies are flooded in May
CLOUD_FRACTION = (0.0, 0.15, 0.05, 0.3, 0.0, 0.1)
_VEG = np.array(synthetic._COVER["vegetation"], dtype=np.float64)
_SOIL = np.array(synthetic._COVER["soil"], dtype=np.float64)
_WATER = np.array(synthetic._COVER["water"], dtype=np.float64)
_CLOUD = np.array(synthetic._COVER["cloud"], dtype=np.float64)


def crop_ndvi(crop: str, date_index: int) -> float:
    """The noise-free NDVI of a crop's field on a date: the series' truth."""
    if crop == "rice" and FLOODED_RICE[date_index]:
        surface = _WATER
    else:
        g = CROPS[crop][date_index]
        surface = _SOIL * (1 - g) + _VEG * g
    red, nir = surface[2], surface[3]
    return float((nir - red) / (nir + red))


def s2_fields(root: Path, base_url: str | None, seed: int = 61) -> list[SampleProduct]:
    """Six dates of 36 fields (6 x 6 parcels of 32 x 32 pixels), crops assigned by a seed."""
    rng = np.random.default_rng(seed)
    names = list(CROPS)
    crop_of = {f + 1: names[int(rng.integers(0, 3))] for f in range(36)}
    rows, cols = np.mgrid[0 : SHAPE[0], 0 : SHAPE[1]]
    field_id = (rows // 32) * 6 + cols // 32 + 1
    edge = (rows % 32 < 2) | (cols % 32 < 2)  # tracks and hedges between fields
    out = []
    for d, when in enumerate(S2_DATES):
        surface = np.empty((*SHAPE, 6))
        for f, crop in crop_of.items():
            inside = field_id == f
            if crop == "rice" and FLOODED_RICE[d]:
                surface[inside] = _WATER
            else:
                g = CROPS[crop][d]
                surface[inside] = _SOIL * (1 - g) + _VEG * g
        surface[edge] = _SOIL
        surface *= 1 + 0.03 * rng.standard_normal((*SHAPE, 1))
        cloudiness = synthetic.smooth_noise(rng, SHAPE, 12)
        frac = CLOUD_FRACTION[d]
        cloud = cloudiness > np.quantile(cloudiness, 1 - frac) if frac else np.zeros(SHAPE, bool)
        value = np.where(cloud[..., None], _CLOUD, surface)
        # Processing baseline 04.00 (N0400, from 25 January 2022): DN = 10000 rho + 1000
        # (BOA_ADD_OFFSET -1000 in MTD_MSIL2A.xml), so dark water is no longer clipped at 0.
        arrays: dict[str, tuple[Any, float | None]] = {
            band: (
                (np.clip(np.rint(value[..., i]), 0, 10000) - S2_BOA_ADD_OFFSET).astype(np.uint16),
                0,
            )
            for i, band in enumerate(synthetic.S2_BANDS)
        }
        arrays["cloud_mask"] = (cloud.astype(np.uint8), 255)
        arrays["field_id"] = (np.where(edge, 0, field_id).astype(np.uint8), 0)
        truth = {"crop_of_field": {str(k): v for k, v in crop_of.items()},
                 "ndvi_by_crop": {c: round(crop_ndvi(c, d), 4) for c in CROPS},
                 "cloud_cover": round(100 * float(cloud.mean()), 2)}  # fmt: skip
        ident = f"S2B_MSIL2A_{when:%Y%m%dT%H%M%S}_N0400_R108_T31TFJ_SYNTH_FIELDS"
        props = {"cloudCover": truth["cloud_cover"], "boaAddOffset": S2_BOA_ADD_OFFSET,
                 "boaQuantificationValue": 10000}  # fmt: skip
        out.append(write_product(root, S2_SERIES, ident, when, CAMARGUE, arrays, props, base_url,
                                 truth))  # fmt: skip
    return out


OLCI_RADIANCE = collection(
    "course-olci-radiance",
    "Sentinel-3 OLCI TOA radiance, red and near-infrared bands, with the true bloom",
    [*({"name": b, "dtype": "float32", "nodata": "NaN", "units": "mW.m-2.sr-1.nm-1"}
       for b in ("Oa06", "Oa08", "Oa10", "Oa11", "Oa12", "Oa17")), u8_band("bloom_truth")],
    {"platform": "Sentinel-3", "instrument": "OLCI", "sensorType": "OPTICAL", "productType": "OL_1_EFR",
     "processingLevel": "L1"},
)  # fmt: skip
BALTIC = Place("Gotland basin, Baltic Sea", "EPSG:4326", 19.0, 57.6, 0.003)
# Clear-water TOA radiance (mW m-2 sr-1 nm-1) and what a dense surface bloom adds at full strength:
# fluorescence at 681 nm, the strong 709 nm peak that MCI measures, some red-edge scattering.
_OLCI_SEA = {"Oa06": 30.0, "Oa08": 14.0, "Oa10": 13.0, "Oa11": 10.0, "Oa12": 7.0, "Oa17": 5.0}
_OLCI_BLOOM = {"Oa06": 4.0, "Oa08": 1.0, "Oa10": 2.0, "Oa11": 5.0, "Oa12": 1.0, "Oa17": 0.6}
_OLCI_LAND = {"Oa06": 55.0, "Oa08": 50.0, "Oa10": 52.0, "Oa11": 65.0, "Oa12": 85.0, "Oa17": 95.0}


def olci_bloom(root: Path, base_url: str | None, seed: int = 71) -> SampleProduct:
    """A cyanobacteria bloom in the Baltic Sea in July, with an island; truth: its extent and area."""
    rng = np.random.default_rng(seed)
    rows, cols = np.mgrid[0 : SHAPE[0], 0 : SHAPE[1]].astype(np.float64)
    land = np.hypot(rows - 30, cols - 160) < 22 + 4 * synthetic.smooth_noise(rng, SHAPE, 6)
    swirl = np.hypot(rows - 110, (cols - 80) * 0.7) / SHAPE[0] + 0.08 * synthetic.smooth_noise(
        rng, SHAPE, 8
    )
    bloom = ~land & (swirl < 0.3)
    strength = np.where(bloom, np.clip(1.0 - swirl / 0.3, 0.3, 1.0), 0.0)
    arrays: dict[str, tuple[Any, float | None]] = {}
    for band, sea in _OLCI_SEA.items():
        value = sea + _OLCI_BLOOM[band] * strength
        value = np.where(land, _OLCI_LAND[band], value) * (1 + 0.01 * rng.standard_normal(SHAPE))
        arrays[band] = (value.astype(np.float32), NAN)
    arrays["bloom_truth"] = (bloom.astype(np.uint8), 255)
    lat = np.radians(BALTIC.north - BALTIC.pixel * (rows + 0.5))
    cell_km2 = (BALTIC.pixel * 111.32) ** 2 * np.cos(lat)
    truth = {
        "bloom_pixels": int(bloom.sum()),
        "bloom_area_km2": round(float(cell_km2[bloom].sum()), 2),
    }
    when = at(2023, 7, 20, 9, 30)
    ident = f"S3A_OL_1_EFR____{when:%Y%m%dT%H%M%S}_SYNTH_BALTIC"
    return write_product(root, OLCI_RADIANCE, ident, when, BALTIC, arrays, {}, base_url, truth)
