"""The data of the e-learning modules that the shared sample set lacks, with catalogue records.

SYNTHETIC (seeded, deterministic; made with :mod:`everest_elearn.samples`' writer):

- a Sentinel-1 GRD stack over Nsanje / Chiromo (Malawi) from October 2014 to the flood of
  January 2015, as digital numbers made through the REAL calibration LUT of a 2015 Sentinel-1A
  product (so a module calibrates them back with that LUT), with a hill that casts radar shadow,
  a smooth airstrip, a town, the Shire river and its floodplain; truth: water per date, land cover,
  the flood extent, the best change-detection reference;
- one Sentinel-1 GRD scene over Mount Etna (DN through the same LUT, terrain from a cone);
- a Sentinel-2 L2A time series of fields in the Camargue (wheat, maize, rice) with clouds.

REAL, described in place: the two Sentinel-1A SAFE packages and the MERIS FR subset of the shared
fixtures (files only: not rasters a data cube indexes).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from everest_elearn.catalogue.model import Kind, Link, Record
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
from everest_elearn.eo.safe import Safe
from everest_elearn.samples import synthetic
from everest_elearn.samples.scenes import (
    CAMARGUE,
    Place,
    SampleProduct,
    at,
    collection,
    pixel_area_km2,
    write_product,
)  # fmt: skip

SHAPE = (192, 192)
NSANJE = Place("Nsanje / Chiromo, Shire river, Malawi", "EPSG:32736", 708_000.0, 8_160_000.0, 20.0)
NAN = float("nan")


def _u8(name: str, nodata: int = 255) -> dict[str, Any]:
    return {"name": name, "dtype": "uint8", "nodata": nodata, "units": "1"}


S1_DN = collection(
    "course-s1-grd-dn",
    "Sentinel-1 IW GRDH digital numbers (amplitude), VV and VH, with incidence and truth",
    [
        {"name": "dn_vv", "dtype": "uint16", "nodata": 0, "units": "1"},
        {"name": "dn_vh", "dtype": "uint16", "nodata": 0, "units": "1"},
        {"name": "incidence", "dtype": "float32", "nodata": "NaN", "units": "degree"},
        _u8("water_truth"),
        _u8("landcover"),
    ],
    {"platform": "Sentinel-1", "instrument": "SAR-C", "sensorType": "RADAR", "productType": "GRD",
     "sensorMode": "IW", "polarisationChannels": "VV, VH", "processingLevel": "L1"},
)  # fmt: skip
S2_SERIES = collection(
    "course-s2-l2a-fields",
    "Sentinel-2 MSI L2A surface reflectance of crop fields, with cloud mask and field ids",
    [
        *({"name": b, "dtype": "uint16", "nodata": 0, "units": "1"} for b in synthetic.S2_BANDS),
        _u8("cloud_mask"),
        _u8("field_id", 0),
    ],
    {"platform": "Sentinel-2", "instrument": "MSI", "sensorType": "OPTICAL", "productType": "S2MSI2A",
     "processingLevel": "L2A"},
)  # fmt: skip
SAFE_COLLECTION = Record(
    identifier="s1-safe-metadata",
    kind=Kind.COLLECTION,
    title="Sentinel-1A IW GRDH SAFE packages, metadata only (real, pyroSAR test data)",
    abstract="Manifest, annotation, calibration and noise XML; empty measurement/. MIT (pyroSAR).",
    properties={"platform": "Sentinel-1", "instrument": "SAR-C", "productType": "GRD"},
    extra={"license": "MIT"},
)
MERIS_COLLECTION = Record(
    identifier="meris-fr-l1b-dimap",
    kind=Kind.COLLECTION,
    title="Envisat MERIS FR L1b subset, BEAM-DIMAP, Gulf of Cadiz 2007 (real, esa-snappy test data)",
    abstract="15 TOA radiance bands, flags and tie-point grids; 221 x 184 pixels. MIT (esa-snappy).",
    properties={"platform": "Envisat", "instrument": "MERIS", "productType": "MER_FRS_1P"},
    extra={"license": "MIT"},
)
COLLECTIONS = (S1_DN, S2_SERIES, SAFE_COLLECTION, MERIS_COLLECTION)  # and OLCI_RADIANCE


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


# Crops of the Camargue fields: greenness (0 bare .. 1 full canopy) on each date, and flooding.
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


def _file_link(path: Path, root: Path, base_url: str | None, media: str) -> Link:
    href = (
        f"{base_url.rstrip('/')}/{path.relative_to(root).as_posix()}"
        if base_url
        else path.resolve().as_uri()
    )
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    return Link(href=href, rel="enclosure", type=media, title=path.name,
                length=path.stat().st_size, checksum=f"sha256:{digest}")  # fmt: skip


def safe_products(real: Path, base_url: str | None) -> list[SampleProduct]:
    """The real SAFE zips under ``real/safe`` as products (footprint and times from the manifest)."""
    out = []
    for path in sorted((real / "safe").glob("*.zip")):
        manifest = Safe(path).manifest()
        pairs = [tuple(float(v) for v in p.split(",")) for p in manifest["coordinates"].split()]
        ring = [[lon, lat] for lat, lon in pairs]
        start = datetime.fromisoformat(manifest["start_time"] + "+00:00")
        end = datetime.fromisoformat(manifest["stop_time"] + "+00:00")
        record = Record(
            identifier=path.stem, parent_identifier=SAFE_COLLECTION.identifier,
            title=f"{path.stem} (real, metadata only)",
            geometry={"type": "Polygon", "coordinates": [[*ring, ring[0]]]},
            start=start, end=end,
            properties={**SAFE_COLLECTION.properties, "orbitDirection": manifest["pass"],
                        "track": int(manifest["relative_orbit"]), "sensorMode": "IW"},
            links=[_file_link(path, real, base_url, "application/zip")],
            extra={"synthetic": False},
        )  # fmt: skip
        out.append(SampleProduct(record, SAFE_COLLECTION, {"safe": path}))
    return out


def meris_product(real: Path, base_url: str | None) -> SampleProduct:
    """The real MERIS subset: its .dim and the radiance rasters (flat in a package)."""
    dim = real / "meris" / "MER_FRS_L1B_SUBSET.dim"
    data = dim.with_suffix(".data")
    files = [dim, *sorted(data.glob("radiance_*")), data / "l1_flags.img", data / "l1_flags.hdr"]
    ring = [[-7.6, 36.6], [-6.9, 36.6], [-6.9, 37.2], [-7.6, 37.2], [-7.6, 36.6]]
    record = Record(
        identifier="MER_FRS_L1B_SUBSET", parent_identifier=MERIS_COLLECTION.identifier,
        title="MER_FRS_L1B_SUBSET (real)", geometry={"type": "Polygon", "coordinates": [ring]},
        start=at(2007, 1, 1, 11, 0), end=at(2007, 1, 1, 11, 0),
        properties=dict(MERIS_COLLECTION.properties),
        links=[_file_link(p, real, base_url, "application/octet-stream") for p in files],
        extra={"synthetic": False, "note": "acquisition date not kept in the subset: 2007 only"},
    )  # fmt: skip
    return SampleProduct(record, MERIS_COLLECTION, {p.name: p for p in files})


OLCI_RADIANCE = collection(
    "course-olci-radiance",
    "Sentinel-3 OLCI TOA radiance, red and near-infrared bands, with the true bloom",
    [*({"name": b, "dtype": "float32", "nodata": "NaN", "units": "mW.m-2.sr-1.nm-1"}
       for b in ("Oa06", "Oa08", "Oa10", "Oa11", "Oa12", "Oa17")), _u8("bloom_truth")],
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


REAL_FILES = ("safe", "meris", "rasters")


def course_products(dest: Path, base_url: str | None, fixtures: Path) -> list[SampleProduct]:
    """Every product the modules use, written or copied under ``dest`` (served at ``base_url``).

    The real fixtures are copied to ``dest/real`` (a provider serves only its own folder); the
    shared sample set's ocean-colour bloom is written too.
    """
    import shutil

    from everest_elearn.samples.products import ocean_bloom
    from everest_elearn.samples.real import real_products

    dest.mkdir(parents=True, exist_ok=True)
    real = dest / "real"
    for name in REAL_FILES:
        if not (real / name).exists():
            shutil.copytree(fixtures / name, real / name)
    real_url = f"{base_url.rstrip('/')}/real" if base_url else None
    lut = Safe(real / "safe" / f"{SAFE_FOR_LUT}.zip").calibration("VV")
    products = nsanje_stack(dest, base_url, lut)
    products.append(etna_scene(dest, base_url, lut))
    products += s2_fields(dest, base_url)
    products.append(ocean_bloom(dest, base_url))
    products.append(olci_bloom(dest, base_url))
    products += safe_products(real, real_url)
    products.append(meris_product(real, real_url))
    products += real_products(real, real_url)
    return products
