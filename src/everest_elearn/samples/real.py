"""Catalogue records for the REAL raster fixtures (``../shared/fixtures/rasters``), read in place.

Real pixels first: these records describe the small real files kept beside the project (see the
fixtures' README for origin and licence); the files are never copied into the repository.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from everest_elearn.catalogue.model import Kind, Link, Record
from everest_elearn.samples.scenes import SampleProduct, at

SEN1FLOODS11_CITE = (
    "Bonafilia, Tellman, Anderson, Issenberg (2020), Sen1Floods11: a georeferenced dataset to train "
    "and test deep learning flood algorithms for Sentinel-1, CVPR Workshops, pp. 210-211. "
    "Contains modified Copernicus Sentinel data."
)
S2_L1C_BANDS = ("B1", "B2", "B3", "B4", "B5", "B6", "B7", "B8", "B8A", "B9", "B10", "B11", "B12")

SEN1FLOODS11_S1 = Record(
    identifier="sen1floods11-s1",
    kind=Kind.COLLECTION,
    title="Sen1Floods11 Sentinel-1 GRD chips, VV and VH in dB (real)",
    abstract=SEN1FLOODS11_CITE,
    properties={"platform": "Sentinel-1", "instrument": "SAR-C", "sensorType": "RADAR", "productType": "GRD"},
    extra={
        "bands": [
            {"name": "vv_db", "dtype": "float32", "nodata": "NaN", "units": "dB", "asset": "s1", "band": 1, "aliases": ["VV"]},
            {"name": "vh_db", "dtype": "float32", "nodata": "NaN", "units": "dB", "asset": "s1", "band": 2, "aliases": ["VH"]},
        ],
        "license": "various",
    },
)  # fmt: skip
SEN1FLOODS11_S2 = Record(
    identifier="sen1floods11-s2",
    kind=Kind.COLLECTION,
    title="Sen1Floods11 Sentinel-2 L1C chips, TOA reflectance x10000 (real)",
    abstract=SEN1FLOODS11_CITE,
    properties={"platform": "Sentinel-2", "instrument": "MSI", "sensorType": "OPTICAL", "productType": "S2MSI1C"},
    extra={
        "bands": [
            {"name": b, "dtype": "int16", "nodata": 0, "units": "1", "asset": "s2", "band": i + 1}
            for i, b in enumerate(S2_L1C_BANDS)
        ],
        "license": "various",
    },
)  # fmt: skip
SEN1FLOODS11_LABEL = Record(
    identifier="sen1floods11-label",
    kind=Kind.COLLECTION,
    title="Sen1Floods11 hand-labelled water: 1 water, 0 not water, -1 invalid (real)",
    abstract=SEN1FLOODS11_CITE,
    properties={"productType": "LabelHand"},
    extra={
        "bands": [{"name": "water", "dtype": "int16", "nodata": -1, "units": "1", "asset": "label"}]
    },
)
PYROSAR_S1 = Record(
    identifier="pyrosar-s1-vv-db",
    kind=Kind.COLLECTION,
    title="Sentinel-1A IW GRD VV, geocoded, normalised, dB, Camargue (real, pyroSAR test data)",
    abstract="From pyroSAR's tests/data (MIT). Contains modified Copernicus Sentinel data.",
    properties={"platform": "Sentinel-1", "instrument": "SAR-C", "sensorType": "RADAR", "productType": "GRD"},
    extra={"bands": [{"name": "vv_db", "dtype": "float32", "nodata": -99, "units": "dB", "asset": "vv"}], "license": "MIT"},
)  # fmt: skip
COLLECTIONS = (SEN1FLOODS11_S1, SEN1FLOODS11_S2, SEN1FLOODS11_LABEL, PYROSAR_S1)


def fixtures_dir(project_root: Path) -> Path:
    """``../shared/fixtures`` next to the checkout."""
    return project_root.parent / "shared" / "fixtures"


def _footprint(path: Path) -> dict[str, Any]:
    import rasterio
    from rasterio.warp import transform_bounds

    with rasterio.open(path) as src:
        w, s, e, n = transform_bounds(src.crs, "EPSG:4326", *src.bounds)
    ring = [[w, s], [e, s], [e, n], [w, n], [w, s]]
    return {"type": "Polygon", "coordinates": [[[round(x, 6), round(y, 6)] for x, y in ring]]}


def _product(
    coll: Record, ident: str, when: Any, files: dict[str, Path], base_url: str | None, root: Path
) -> SampleProduct:
    links = []
    for key, path in files.items():
        if not path.is_file():
            raise FileNotFoundError(f"real fixture missing: {path}")
        href = (
            f"{base_url.rstrip('/')}/{path.relative_to(root).as_posix()}"
            if base_url
            else path.resolve().as_uri()
        )
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        links.append(Link(href=href, title=key, type="image/tiff; application=geotiff",
                          length=path.stat().st_size, checksum=f"sha256:{digest}"))  # fmt: skip
    record = Record(
        identifier=ident,
        parent_identifier=coll.identifier,
        title=f"{ident} (real)",
        geometry=_footprint(next(iter(files.values()))),
        start=when,
        end=when,
        properties=dict(coll.properties),
        links=links,
        extra={"synthetic": False},
    )
    return SampleProduct(record, coll, dict(files))


def real_products(fixtures: Path, base_url: str | None = None) -> list[SampleProduct]:
    """The real raster fixtures as products with records; ``base_url`` serves ``fixtures``."""
    s1f = fixtures / "rasters" / "sen1floods11"
    pyrosar = (
        fixtures / "rasters" / "pyrosar" / "S1A__IW___A_20150309T173017_VV_grd_mli_geo_norm_db.tif"
    )
    flood_day = at(2019, 9, 17, 17, 50)
    return [
        _product(SEN1FLOODS11_S1, "Spain_7370579_S1Hand", flood_day, {"s1": s1f / "Spain_7370579_S1Hand.tif"}, base_url, fixtures),
        _product(SEN1FLOODS11_S2, "Spain_7370579_S2Hand", flood_day, {"s2": s1f / "Spain_7370579_S2Hand.tif"}, base_url, fixtures),
        _product(SEN1FLOODS11_LABEL, "Spain_7370579_LabelHand", flood_day, {"label": s1f / "Spain_7370579_LabelHand.tif"}, base_url, fixtures),
        _product(PYROSAR_S1, "S1A_IW_GRDH_20150309T173017_pyroSAR_VV_db", at(2015, 3, 9, 17, 30, 17), {"vv": pyrosar}, base_url, fixtures),
    ]  # fmt: skip
