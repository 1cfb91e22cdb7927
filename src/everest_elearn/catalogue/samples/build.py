"""Build the bundled sample catalogue (run once; the output files are committed).

    python -m everest_elearn.catalogue.samples.build [FIXTURES_DIR]

Inputs are the real metadata documents in ``../shared/fixtures`` (two Sentinel-1 SAFE packages,
the Planetary Computer Sentinel-2 L2A collection and two real L2A items); everything else is
derived from them by ``build_s1`` and ``build_s2``, deterministically (same inputs, same bytes).
Areas: the Sen1Floods11 Spain event (Vega Baja / Murcia, September 2019: S1 descending relative
orbit 110 on 2019-09-17, S2 on 2019-09-18), the pyroSAR Camargue scene (S1A ascending,
2015-03-09 17:30:17) and the two real SAFE slices over Germany (2015-02-22).

Data links of generated products point at ``PLACEHOLDER_BASE`` (an ``.invalid`` host that never
resolves); ``samples.documents(base_url=...)`` rewrites it. Which real source serves a product is
decided by the gateway rules, not by these hrefs. Tests never fetch them.
"""

from __future__ import annotations

import gzip
import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from everest_elearn.catalogue.samples import DATA_FILES, PLACEHOLDER_BASE, build_s1, build_s2

HERE = Path(__file__).resolve().parent
COPERNICUS_LICENCE = "https://sentinel.esa.int/documents/247904/690755/Sentinel_Data_Legal_Notice"


def _d(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


S1_AREAS = [
    build_s1.Area("vega-baja", -0.76, 38.1, "DESCENDING", _d("2019-08-01"), _d("2019-10-31"), 2),
    build_s1.Area("vega-baja", -0.76, 38.1, "ASCENDING", _d("2019-08-01"), _d("2019-10-31"), 1),
    build_s1.Area(
        "camargue",
        4.55,
        43.6,
        "ASCENDING",
        _d("2015-01-01"),
        _d("2015-04-30"),
        1,
        anchor=_d("2015-03-09T17:30:17"),
    ),
    build_s1.Area("germany", 10.4, 50.5, "ASCENDING", _d("2015-01-15"), _d("2015-03-31"), 2),
]
S2_SERIES = [
    build_s2.Series(
        ("30SXH", "30SYH", "30SXJ", "30SYJ"),
        51,
        _d("2019-09-18T10:50:31"),
        _d("2019-08-01"),
        _d("2019-10-31"),
        (_d("2019-09-11"), _d("2019-09-15")),
    ),
    build_s2.Series(
        ("31TFJ", "31TEJ"), 108, _d("2020-06-18T10:30:31"), _d("2020-06-01"), _d("2020-08-31")
    ),
]


def s1_collection(items: list[dict[str, Any]]) -> dict[str, Any]:
    polarisations = {
        pol: {
            "title": f"{pol.upper()} amplitude",
            "type": "image/tiff; application=geotiff",
            "roles": ["data", "amplitude"],
            "sar:polarizations": [pol.upper()],
            "gsd": 10,
            "raster:bands": [
                {
                    "name": pol.upper(),
                    "data_type": "uint16",
                    "nodata": 0,
                    "spatial_resolution": 10,
                    "unit": "digital number (amplitude)",
                }
            ],
        }
        for pol in ("vv", "vh")
    }
    return _collection(
        "sentinel-1-grd",
        "Sentinel-1 GRD, IW, dual polarisation (samples)",
        "Sentinel-1 Level-1 Ground Range Detected products, Interferometric Wide swath, VV+VH, "
        "10 m pixels: a sample series over the Vega Baja / Murcia flood of September 2019 "
        "(Sen1Floods11), the Camargue (pyroSAR) and two real SAFE slices over Germany.",
        ["Sentinel-1", "SAR", "C-band", "GRD", "Copernicus", "flood"],
        items,
        {
            "platform": ["sentinel-1a", "sentinel-1b"],
            "constellation": ["sentinel-1"],
            "instruments": ["c-sar"],
            "sar:instrument_mode": ["IW"],
            "sar:frequency_band": ["C"],
            "sar:polarizations": ["VV", "VH"],
            "sar:product_type": ["GRD"],
            "product:type": ["IW_GRDH_1S"],
            "processing:level": ["L1"],
            "sat:orbit_state": ["ascending", "descending"],
            "gsd": [10],
        },
        polarisations,
    )


def s2_collection(items: list[dict[str, Any]], real: dict[str, Any]) -> dict[str, Any]:
    # Band definitions from the real Planetary Computer collection (odc-stac test data).
    item_assets = {key: value for key, value in real["item_assets"].items() if key in _S2_ASSETS}
    for key, asset in item_assets.items():
        if key not in {"SCL", "visual"}:
            for band in asset.get("raster:bands", []):
                band.update({"scale": 0.0001, "offset": -0.1, "spatial_resolution": asset["gsd"]})
    item_assets["SCL"]["classification:classes"] = [
        {"value": v, "name": n}
        for v, n in enumerate(
            [
                "no_data",
                "saturated_or_defective",
                "dark_area_pixels",
                "cloud_shadows",
                "vegetation",
                "not_vegetated",
                "water",
                "unclassified",
                "cloud_medium_probability",
                "cloud_high_probability",
                "thin_cirrus",
                "snow",
            ]
        )
    ]
    return _collection(
        "sentinel-2-l2a",
        "Sentinel-2 L2A surface reflectance (samples)",
        "Sentinel-2 Level-2A bottom-of-atmosphere reflectance on MGRS tiles, 13 bands at "
        "10/20/60 m and the scene classification (SCL): a sample series over Valencia and "
        "Murcia (summer and autumn 2019, including the flood of September 2019) and the "
        "Camargue (summer 2020), plus two real items.",
        ["Sentinel-2", "MSI", "optical", "L2A", "Copernicus", "reflectance"],
        items,
        {
            "platform": ["sentinel-2a", "sentinel-2b"],
            "constellation": ["sentinel-2"],
            "instruments": ["msi"],
            "product:type": ["S2MSI2A"],
            "processing:level": ["L2A"],
            "gsd": [10, 20, 60],
            "eo:bands": real["summaries"]["eo:bands"],
        },
        item_assets,
    )


_S2_ASSETS = {
    "B01",
    "B02",
    "B03",
    "B04",
    "B05",
    "B06",
    "B07",
    "B08",
    "B8A",
    "B09",
    "B11",
    "B12",
    "SCL",
    "AOT",
    "WVP",
    "visual",
}


def _collection(
    ident: str,
    title: str,
    description: str,
    keywords: list[str],
    items: list[dict[str, Any]],
    summaries: dict[str, Any],
    item_assets: dict[str, Any],
) -> dict[str, Any]:
    boxes = [item["bbox"] for item in items]
    times = sorted(item["properties"]["datetime"] for item in items)
    return {
        "type": "Collection",
        "stac_version": "1.0.0",
        "stac_extensions": ["https://stac-extensions.github.io/item-assets/v1.0.0/schema.json"],
        "id": ident,
        "title": title,
        "description": description,
        "keywords": keywords,
        "license": "proprietary",
        "providers": [
            {"name": "ESA", "roles": ["producer", "licensor"], "url": "https://sentinel.esa.int"}
        ],
        "extent": {
            "spatial": {
                "bbox": [
                    [
                        min(b[0] for b in boxes),
                        min(b[1] for b in boxes),
                        max(b[2] for b in boxes),
                        max(b[3] for b in boxes),
                    ]
                ]
            },
            "temporal": {"interval": [[times[0], times[-1]]]},
        },
        "summaries": summaries,
        "item_assets": item_assets,
        "links": [{"rel": "license", "href": COPERNICUS_LICENCE, "title": "Copernicus licence"}],
    }


def real_items(fixtures: Path) -> tuple[list[dict[str, Any]], list[dict[str, Any]], dict[str, Any]]:
    scenes = [build_s1.read_safe(p) for p in sorted((fixtures / "safe").glob("*.zip"))]
    s1 = [
        build_s1.item(
            s.name,
            s.name[2],
            s.start,
            s.end,
            s.orbit,
            s.direction,
            build_s1.closed_ring(s.footprint),
            s,
            PLACEHOLDER_BASE,
            s.datatake,
        )
        for s in scenes
    ]
    stac = fixtures / "catalogue" / "stac"
    s2 = []
    for path in sorted(stac.glob("odc-stac-S2*.json")):
        item = json.loads(path.read_text())
        item["links"] = [link for link in item["links"] if link["rel"] in {"self", "license"}]
        item["collection"] = "sentinel-2-l2a"
        s2.append(item)
    collection = json.loads((stac / "odc-stac-sentinel-2-l2a.collection.json").read_text())
    return s1, s2, {"scenes": scenes, "collection": collection}


def build(fixtures: Path, out: Path = HERE) -> dict[str, int]:
    s1_real, s2_real, extra = real_items(fixtures)
    scenes = extra["scenes"]
    track = build_s1.calibrate(scenes[0])
    s1 = [
        item
        for item in build_s1.generate(track, scenes[0], S1_AREAS, PLACEHOLDER_BASE)
        if not any(_overlaps(item, real) for real in s1_real)
    ] + s1_real
    s2 = build_s2.generate(S2_SERIES, PLACEHOLDER_BASE) + s2_real
    for item in s2_real:  # the orbit model must reproduce the real items' relative orbits
        product = item["properties"].get("sentinel:product_id") or item["id"]
        relative = int(product.split("_R")[1][:3])
        moment = datetime.fromisoformat(item["properties"]["datetime"].replace("Z", "+00:00"))
        lat = (item["bbox"][1] + item["bbox"][3]) / 2
        build_s2.orbit_at(moment, relative, lat)
    s1.sort(key=lambda i: (i["properties"]["datetime"], i["id"]))
    s2.sort(key=lambda i: (i["properties"]["datetime"], i["id"]))
    documents = {
        DATA_FILES[0]: [s1_collection(s1), s2_collection(s2, extra["collection"])],
        DATA_FILES[1]: {"type": "FeatureCollection", "features": s1},
        DATA_FILES[2]: {"type": "FeatureCollection", "features": s2},
    }
    for name, document in documents.items():
        data = json.dumps(document, separators=(",", ":"), ensure_ascii=False).encode()
        (out / name).write_bytes(gzip.compress(data, compresslevel=9, mtime=0))
    return {"sentinel-1-grd": len(s1), "sentinel-2-l2a": len(s2)}


def _overlaps(item: dict[str, Any], real: dict[str, Any]) -> bool:
    a, b = item["properties"], real["properties"]
    return bool(
        a["sat:absolute_orbit"] == b["sat:absolute_orbit"]
        and a["start_datetime"] < b["end_datetime"]
        and b["start_datetime"] < a["end_datetime"]
    )


def main() -> None:
    fixtures = Path(sys.argv[1]) if len(sys.argv) > 1 else HERE.parents[4] / "shared" / "fixtures"
    counts = build(fixtures)
    print(", ".join(f"{name}: {count} products" for name, count in counts.items()))


if __name__ == "__main__":
    main()
