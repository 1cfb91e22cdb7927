"""``dc.load`` of realistic scenes against rasterio windowed reads, in the notebook image.

Scenes: SYNTHETIC Sentinel-2 L2A reflectance from the sample generator (blue, green, red, NIR),
upsampled 2x with per-pixel noise so they compress like real data, written as multi-band COGs
(DEFLATE with predictor, 512-pixel internal tiles, overviews), once band-interleaved and once
pixel-interleaved. Two cases for each, all built into one package:

- ``stack``: one tile on four dates; a region of 3/4 of the tile's width, not on block edges;
- ``mosaic``: four adjacent tiles on one day (2x2); a tile-sized region across all four,
  ``group_by="solar_day"``.

The baseline opens the same files with rasterio and reads the same region at the same resolution
into the same arrays (windowed reads); the script checks both give identical values. Packages are
built cube-ready (``packages/cube_layout.py``), so the pixel-interleaved scenes land in the
package band-interleaved; a second baseline reads the files as the provider published them
(mounted read-only at ``/source``), so the rewrite's effect on a plain rasterio reader shows too.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import secrets
import subprocess
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import SecretStr

from bench.packages.services import ADMIN, stack
from everest_elearn.catalogue.model import Kind, Link, Record
from everest_elearn.images import ImageBuilder
from everest_elearn.packages.datacube import DatacubeIndex
from everest_elearn.samples import synthetic

BANDS = ("B02", "B03", "B04", "B08")
NAMES = ("blue", "green", "red", "nir")
CRS, WEST, NORTH, PIXEL = "EPSG:32631", 600_000.0, 4_850_000.0, 10.0
RUNS = 7
# Band interleaving keeps each band's tiles apart; pixel interleaving (the COG driver's default
# for several bands) packs all bands in every tile, so a band-by-band reader decompresses each
# tile once per band.
LAYOUTS = ("band", "pixel")
SOURCE = "/source"

SCRIPT = r"""
import json, os, statistics, sys, time
import datacube, numpy as np, rasterio
from rasterio.windows import from_bounds
case = json.loads(sys.argv[1])
west, south, east, north = case["bounds"]
res = case["pixel"]
width, height = round((east - west) / res), round((north - south) / res)
dc = datacube.Datacube(app="bench")

def load(driver=None):
    return dc.load(product=case["product"], measurements=case["bands"], x=(west, east), y=(south, north),
                   crs=case["crs"], output_crs=case["crs"], resolution=(-res, res),
                   time=tuple(case["time"]), group_by=case["group_by"], driver=driver)

def with_odc():
    return load()

def with_rasterio(times=case["files"]):
    # Same region, same grid: each file's window read straight into its part of the output.
    out = np.zeros((len(times), len(case["bands"]), height, width), dtype="uint16")
    for t, paths in enumerate(times):
        for path in paths:
            with rasterio.open(path) as src:
                l, b, r, tp = src.bounds
                w0, s0, e0, n0 = max(west, l), max(south, b), min(east, r), min(north, tp)
                if w0 >= e0 or s0 >= n0:
                    continue
                window = from_bounds(w0, s0, e0, n0, src.transform).round_offsets().round_lengths()
                row, col = round((north - n0) / res), round((w0 - west) / res)
                src.read(out=out[t, :, row:row + window.height, col:col + window.width], window=window)
    return out

def as_array(ds):
    return np.stack([ds[b].values for b in case["bands"]], axis=1)

rio = with_rasterio()  # warm: imports, connections, page cache
odc = as_array(with_odc())
equal = odc.shape == rio.shape and bool(np.array_equal(odc, rio))
functions = {"odc": with_odc, "rasterio": with_rasterio,
             "source": lambda: with_rasterio(case["sources"])}
runs = {name: [] for name in functions}
for _ in range(case["runs"]):
    for name, f in functions.items():
        began = time.perf_counter(); f(); runs[name].append(time.perf_counter() - began)
if os.environ.get("BENCH_PROFILE"):
    import cProfile, pstats
    profile = cProfile.Profile()
    profile.runcall(functions[os.environ["BENCH_PROFILE"]])
    pstats.Stats(profile, stream=sys.stderr).sort_stats("cumulative").print_stats(35)
# Medians, and minimums: on a shared machine the least disturbed run shows each one's own cost.
print(json.dumps({f"{name}_s": statistics.median(times) for name, times in runs.items()}
                 | {f"{name}_min_s": min(times) for name, times in runs.items()}
                 | {"shape": list(odc.shape), "equal": equal}))
"""


def _scenes(tile: int) -> list[np.ndarray]:
    """Eight distinct (band, y, x) uint16 arrays from two generated scenes."""
    half = tile // 2
    bases = []
    for seed in (41, 42):
        scene = synthetic.s2_scene(seed, (half, half))
        bases.append(np.stack([scene.reflectance[b] for b in BANDS]).astype(np.float32))
    out = []
    rng = np.random.default_rng(7)
    for i in range(8):
        base = bases[i % 2]
        base = np.flip(base, axis=1 + (i // 2) % 2) if i >= 2 else base
        up = np.repeat(np.repeat(base, 2, axis=1), 2, axis=2)
        up *= 1 + 0.03 * rng.standard_normal(up.shape, dtype=np.float32)
        out.append(np.clip(up, 1, 10000).astype(np.uint16))
    return out


def _write_cog(path: Path, array: np.ndarray, west: float, north: float, layout: str) -> None:
    """A tiled GeoTIFF with internal overviews in COG order: the COG driver for pixel
    interleaving; for band interleaving (which GDAL 3.10's COG driver cannot write) the GTiff
    driver copying overviews made first, the classic COG recipe."""
    import rasterio
    from affine import Affine
    from rasterio.enums import Resampling
    from rasterio.io import MemoryFile
    from rasterio.shutil import copy as rio_copy

    path.parent.mkdir(parents=True, exist_ok=True)
    profile = {
        "driver": "GTiff",
        "height": array.shape[1],
        "width": array.shape[2],
        "count": array.shape[0],
        "dtype": "uint16",
        "crs": CRS,
        "nodata": 0,
        "transform": Affine(PIXEL, 0, west, 0, -PIXEL, north),
        "interleave": layout,
    }
    options = {"compress": "DEFLATE", "predictor": 2}
    with MemoryFile() as mem, mem.open(**profile) as tmp:
        tmp.write(array)
        tmp.update_tags(SYNTHETIC="true")
        if layout == "pixel":
            rio_copy(tmp, path, driver="COG", blocksize=512, overview_resampling="average",
                     **options)  # fmt: skip
        else:
            levels = [f for f in (2, 4, 8) if array.shape[2] // f >= 256]
            tmp.build_overviews(levels, Resampling.average)
            rio_copy(tmp, path, driver="GTiff", tiled=True, blockxsize=512, blockysize=512,
                     interleave="band", copy_src_overviews=True, **options)  # fmt: skip
    with rasterio.open(path) as check:
        if check.block_shapes[0] != (512, 512) or not (check.overviews(1) or check.width <= 512):
            raise RuntimeError(f"{path} is not a tiled GeoTIFF with overviews")
        if check.interleaving.name.lower() != layout:
            raise RuntimeError(f"{path} is not {layout}-interleaved")


def _products(root: Path, base_url: str, tile: int) -> tuple[list[Record], list[Record]]:
    collections, records = [], []
    arrays = _scenes(tile)
    span = tile * PIXEL
    day = datetime(2023, 6, 1, 10, 30, tzinfo=UTC)
    placed = [(f"STACK_{i}", day + timedelta(days=5 * i), WEST, NORTH) for i in range(4)]
    mosaic_day = day + timedelta(days=40)
    placed += [
        (f"MOSAIC_{i}", mosaic_day, WEST + 2 * span + (i % 2) * span, NORTH - (i // 2) * span)
        for i in range(4)
    ]
    for layout in LAYOUTS:
        collection = Record(
            identifier=f"bench-s2-{layout}",
            kind=Kind.COLLECTION,
            title=f"bench S2 L2A, {layout}-interleaved (SYNTHETIC)",
            properties={"platform": "Sentinel-2", "productType": f"S2MSI2A-{layout}"},
            extra={
                "bands": [
                    {"name": n, "dtype": "uint16", "nodata": 0, "asset": "reflectance",
                     "band": i + 1}
                    for i, n in enumerate(NAMES)
                ]
            },
        )  # fmt: skip
        collections.append(collection)
        for (name, when, west, north), array in zip(placed, arrays, strict=True):
            ident = f"S2A_MSIL2A_{when:%Y%m%dT%H%M%S}_BENCH_{layout.upper()}_{name}"
            path = root / "s2" / ident / f"{ident}_reflectance.tif"
            _write_cog(path, array, west, north, layout)
            digest = hashlib.sha256(path.read_bytes()).hexdigest()
            link = Link(
                href=f"{base_url}/{path.relative_to(root).as_posix()}",
                rel="enclosure",
                type="image/tiff; application=geotiff; profile=cloud-optimized",
                title="reflectance",
                length=path.stat().st_size,
                checksum=f"sha256:{digest}",
            )
            records.append(
                Record(
                    identifier=ident,
                    parent_identifier=collection.identifier,
                    start=when,
                    end=when,
                    properties=dict(collection.properties),
                    links=[link],
                )
            )
    return collections, records


def _source(identifier: str) -> str:
    """Where the container sees the provider's copy of a scene (``_products`` lays them out)."""
    return f"{SOURCE}/s2/{identifier}/{identifier}_reflectance.tif"


def _cases(tile: int, mount: str, layout: dict[str, str]) -> list[dict[str, Any]]:
    span = tile * PIXEL
    margin = (tile // 8 + 3) * PIXEL  # off the 512-pixel block grid
    cx, cy = WEST + 3 * span, NORTH - span  # the mosaic's centre
    cases = []
    for interleave in LAYOUTS:
        mine = sorted(k for k in layout if f"_BENCH_{interleave.upper()}_" in k)
        common = {
            "product": f"bench_s2_{interleave}",
            "crs": CRS,
            "pixel": PIXEL,
            "bands": list(NAMES),
            "runs": RUNS,
        }
        cases.append(common | {
            "name": f"stack, {interleave}-interleaved",
            "group_by": "time",
            "files": [[f"{mount}/{layout[k]}"] for k in mine if "STACK" in k],
            "sources": [[_source(k)] for k in mine if "STACK" in k],
            "time": ["2023-05-31", "2023-06-30"],
            "bounds": [WEST + margin, NORTH - margin - 0.75 * span,
                       WEST + margin + 0.75 * span, NORTH - margin],
        })  # fmt: skip
        cases.append(common | {
            "name": f"mosaic, {interleave}-interleaved",
            "group_by": "solar_day",
            "files": [[f"{mount}/{layout[k]}" for k in mine if "MOSAIC" in k]],
            "sources": [[_source(k) for k in mine if "MOSAIC" in k]],
            "time": ["2023-07-10", "2023-07-12"],
            "bounds": [cx - span / 2, cy - span / 2, cx + span / 2, cy + span / 2],
        })  # fmt: skip
    return cases


@contextmanager
def _postgres() -> Any:
    from tests.fixtures import postgres

    # The tests' PostgreSQL and ODC fixtures, driven by hand outside pytest.
    server = contextmanager(postgres.postgres_server.__wrapped__)  # type: ignore[attr-defined]
    with server() as running:
        template = postgres.odc_template.__wrapped__(running)  # type: ignore[attr-defined]
        yield postgres.odc_db_url.__wrapped__(running, template)  # type: ignore[attr-defined]


async def run(work: Path, tile: int) -> list[dict[str, Any]]:
    with _postgres() as odc_url:
        async with stack(work / "load", datacube={"db_url": odc_url}) as s:
            collections, records = await asyncio.to_thread(
                _products, s.provider.root, f"{s.provider.url}/open", tile
            )
            await s.catalogue.upsert(collections, ADMIN)
            await s.catalogue.upsert(records, ADMIN)
            spec = {
                "name": "bench-load",
                "version": "1",
                "licence": "CC0-1.0 (synthetic)",
                "max_size": "10 GB",
                "contents": [{"products": [r.identifier for r in records]}],
            }
            report = await s.packages.build(spec, ADMIN)
            if report.datasets != len(records):
                raise RuntimeError(f"not every scene was indexed: {report.notes}")
            rows = await s.packages.state.files("bench-load", "1")
            layout = {r.product: r.path for r in rows}
            index = DatacubeIndex(odc_url)
            password = SecretStr(secrets.token_urlsafe(12))
            await index.ensure_readonly_role("everest_reader", password)
            url = index.reader_url("everest_reader", password, host="127.0.0.1")
            await index.close()
            image = await asyncio.to_thread(
                lambda: ImageBuilder(s.settings.images).build_sync("notebook").tag
            )
            mount = f"{s.settings.datacube.mount_root}/bench-load"
            results = []
            for case in _cases(tile, mount, layout):
                if os.environ.get("BENCH_CASE", "") not in case["name"]:
                    continue  # BENCH_CASE="mosaic, band" runs only the cases named so
                done = await asyncio.to_thread(
                    subprocess.run,
                    [
                        "docker",
                        "run",
                        "--rm",
                        "--network",
                        "host",
                        "-v",
                        f"{report.volume}:{mount}:ro",
                        "-v",
                        f"{s.provider.root}:{SOURCE}:ro",
                        "-e",
                        f"ODC_DEFAULT_DB_URL={url.get_secret_value()}",
                        "-e",
                        "ODC_DEFAULT_INDEX_DRIVER=postgres",
                        "-e",
                        f"BENCH_PROFILE={os.environ.get('BENCH_PROFILE', '')}",
                        image,
                        "python",
                        "-c",
                        SCRIPT,
                        json.dumps(case),
                    ],
                    capture_output=True,
                    text=True,
                    check=False,
                )
                if done.returncode != 0:
                    raise RuntimeError(f"{case['name']}: {done.stderr[-3000:]}")
                figures = json.loads(done.stdout.strip().splitlines()[-1])
                if os.environ.get("BENCH_PROFILE"):
                    print(done.stderr[-12000:])
                results.append(figures | {"name": case["name"], "runs": RUNS})
                print(f"  {case['name']}: {figures}", flush=True)
            return results
