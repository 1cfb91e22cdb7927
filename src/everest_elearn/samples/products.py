"""The SYNTHETIC sample set: a Sentinel-1 flood pair, Sentinel-2 L2A scenes, an ocean-colour bloom.

``generate(dest)`` writes every product and returns them with their records; the same seed gives
the same bytes. Known truths (flood extent, cloud cover, bloom area) travel in ``truth`` and in
each record's ``extra["truth"]`` so tests and modules can check their results against them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from everest_elearn.samples import synthetic
from everest_elearn.samples.scenes import (
    CAMARGUE,
    CHIROMO,
    ETNA,
    GULF_OF_CADIZ,
    SIZE,
    SampleProduct,
    at,
    collection,
    pixel_area_km2,
    write_product,
)

SHAPE = (SIZE, SIZE)
NAN = float("nan")


def _f32(band: str, units: str, **more: Any) -> dict[str, Any]:
    return {"name": band, "dtype": "float32", "nodata": "NaN", "units": units, **more}


def _u8(band: str, nodata: int, **more: Any) -> dict[str, Any]:
    return {"name": band, "dtype": "uint8", "nodata": nodata, "units": "1", **more}


S1 = collection(
    "synthetic-s1-grd",
    "Sentinel-1 IW GRDH sigma0, VV and VH",
    [
        _f32("vv", "1", aliases=["VV"]),
        _f32("vh", "1", aliases=["VH"]),
        _f32("vv_db", "dB"),
        _f32("vh_db", "dB"),
        _u8("water_truth", 255),
    ],
    {"platform": "Sentinel-1", "instrument": "SAR-C", "sensorType": "RADAR", "productType": "GRD",
     "sensorMode": "IW", "polarisationChannels": "VV, VH", "processingLevel": "L1"},
)  # fmt: skip
S2 = collection(
    "synthetic-s2-l2a",
    "Sentinel-2 MSI L2A surface reflectance",
    [
        *({"name": b, "dtype": "uint16", "nodata": 0, "units": "1", "scale_factor": 0.0001}
          for b in synthetic.S2_BANDS),
        _u8("scl", 0, aliases=["SCL"]),
        _u8("cloud_mask", 255),
    ],
    {"platform": "Sentinel-2", "instrument": "MSI", "sensorType": "OPTICAL", "productType": "S2MSI2A",
     "processingLevel": "L2A"},
)  # fmt: skip
OCEAN = collection(
    "synthetic-olci-radiance",
    "Ocean colour radiance (MERIS/OLCI-like bands)",
    [*(_f32(b, "mW.m-2.sr-1.nm-1") for b in synthetic.OLCI_BANDS), _u8("bloom_truth", 255)],
    {"platform": "Sentinel-3", "instrument": "OLCI", "sensorType": "OPTICAL", "productType": "OL_1_EFR",
     "processingLevel": "L1"},
)  # fmt: skip
COLLECTIONS = (S1, S2, OCEAN)


def s1_flood_pair(root: Path, base_url: str | None, seed: int = 11) -> list[SampleProduct]:
    """Chiromo before and after a flood (dates of cyclone Idai, March 2019)."""
    plain = synthetic.flood_plain(seed, SHAPE)
    area = pixel_area_km2(CHIROMO)
    truth = {
        "flood_pixels": int(plain.flood.sum()),
        "flood_area_km2": round(float(plain.flood.sum()) * area, 4),
        "river_pixels": int(plain.river.sum()),
    }
    out = []
    for i, (when, water) in enumerate(
        ((at(2019, 3, 2, 3, 45), plain.river), (at(2019, 3, 14, 3, 45), plain.flooded))
    ):
        sigma = synthetic.sar_backscatter(seed + 100 + i, water, SHAPE)
        arrays: dict[str, tuple[Any, float | None]] = {
            "vv": (sigma["vv"].astype(np.float32), NAN),
            "vh": (sigma["vh"].astype(np.float32), NAN),
            "vv_db": (synthetic.to_db(sigma["vv"]).astype(np.float32), NAN),
            "vh_db": (synthetic.to_db(sigma["vh"]).astype(np.float32), NAN),
            "water_truth": (water.astype(np.uint8), 255),
        }
        ident = f"S1B_IW_GRDH_1SDV_{when:%Y%m%dT%H%M%S}_SYNTH_CHIROMO"
        props = {"orbitDirection": "DESCENDING", "orbitNumber": 15290 + 180 * i}
        out.append(
            write_product(
                root, S1, ident, when, CHIROMO, arrays, props, base_url, truth if i else {}
            )
        )
    return out


def s2_scene(
    root: Path, base_url: str | None, place: Any, when: Any, tile: str, seed: int
) -> SampleProduct:
    scene = synthetic.s2_scene(seed, SHAPE)
    arrays: dict[str, tuple[Any, float | None]] = {b: (v, 0) for b, v in scene.reflectance.items()}
    arrays["scl"] = (scene.scl, 0)
    arrays["cloud_mask"] = (scene.cloud.astype(np.uint8), 255)
    cloud_cover = round(100 * float(scene.cloud.mean()), 2)
    truth = {"cloud_cover": cloud_cover, "water_pixels": int(scene.water.sum()),
             "clear_vegetation_pixels": int(scene.vegetation.sum())}  # fmt: skip
    ident = f"S2A_MSIL2A_{when:%Y%m%dT%H%M%S}_N0509_R108_{tile}_SYNTH"
    return write_product(
        root, S2, ident, when, place, arrays, {"cloudCover": cloud_cover}, base_url, truth
    )


def ocean_bloom(root: Path, base_url: str | None, seed: int = 31) -> SampleProduct:
    """Gulf of Cadiz with a bloom of known area."""
    scene = synthetic.ocean_scene(seed, SHAPE)
    arrays: dict[str, tuple[Any, float | None]] = {
        b: (v.astype(np.float32), NAN) for b, v in scene.radiance.items()
    }
    arrays["bloom_truth"] = (scene.bloom.astype(np.uint8), 255)
    when = at(2023, 5, 20, 10, 50)
    truth = {"bloom_pixels": int(scene.bloom.sum()),
             "bloom_area_km2": round(float(scene.bloom.sum()) * pixel_area_km2(GULF_OF_CADIZ), 2)}  # fmt: skip
    ident = f"S3A_OL_1_EFR____{when:%Y%m%dT%H%M%S}_SYNTH_CADIZ"
    return write_product(root, OCEAN, ident, when, GULF_OF_CADIZ, arrays, {}, base_url, truth)


def generate(dest: Path, base_url: str | None = None) -> list[SampleProduct]:
    """Write the whole SYNTHETIC sample set under ``dest`` (about 12 MB); deterministic.

    ``base_url``: where a provider will serve ``dest`` (links become ``<base_url>/<path>``);
    None = ``file://`` links to the written files.
    """
    dest.mkdir(parents=True, exist_ok=True)
    products = s1_flood_pair(dest, base_url)
    products.append(s2_scene(dest, base_url, CAMARGUE, _when(2023, 6, 15), "T31TFJ", seed=21))
    products.append(s2_scene(dest, base_url, ETNA, _when(2023, 7, 2), "T33SVB", seed=22))
    products.append(ocean_bloom(dest, base_url))
    return products


def _when(year: int, month: int, day: int) -> Any:
    return at(year, month, day, 10, 20)
