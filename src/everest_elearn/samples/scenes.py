"""SYNTHETIC sample scenes written as Cloud Optimized GeoTIFFs, with their catalogue records.

Every file is made by :mod:`everest_elearn.samples.synthetic` from a fixed seed, georeferenced over
a real place, and says so in its metadata (``SYNTHETIC`` in the title, ``synthetic: true`` in the
record). Layout: ``<mission>/<product type>/<date>/<product id>/<product id>_<band>.tif``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from everest_elearn.catalogue.model import Kind, Link, Record

SIZE = 256
SYNTHETIC_NOTE = (
    "SYNTHETIC sample made by everest-elearn's seeded generator (not satellite data); "
    "values follow typical published ranges."
)


@dataclass(frozen=True)
class Place:
    """A real area: CRS and the upper-left corner and pixel size in its units."""

    name: str
    crs: str
    west: float
    north: float
    pixel: float


# Areas of the real fixtures and of later modules.
CHIROMO = Place("Chiromo, Shire river, Malawi", "EPSG:32736", 700_000.0, 8_172_000.0, 20.0)
CAMARGUE = Place("Camargue, Rhone delta, France", "EPSG:32631", 620_000.0, 4_830_000.0, 10.0)
GULF_OF_CADIZ = Place("Gulf of Cadiz", "EPSG:4326", -7.6, 37.2, 0.0027)
ETNA = Place("Mount Etna, Sicily", "EPSG:32633", 495_000.0, 4_180_000.0, 10.0)
SPAIN_SEGURA = Place("Vega Baja del Segura, Spain", "EPSG:32630", 680_000.0, 4_225_000.0, 20.0)


@dataclass
class SampleProduct:
    """A written product: its record, its collection and its files by asset (band) key."""

    record: Record
    collection: Record
    files: dict[str, Path]
    truth: dict[str, Any] = field(default_factory=dict)


def _transform(place: Place) -> Any:
    from affine import Affine

    return Affine(place.pixel, 0.0, place.west, 0.0, -place.pixel, place.north)


def _footprint(place: Place) -> dict[str, Any]:
    from rasterio.warp import transform_bounds

    t = _transform(place)
    west, north = t @ (0, 0)
    east, south = t @ (SIZE, SIZE)
    w, s, e, n = transform_bounds(place.crs, "EPSG:4326", west, south, east, north)
    ring = [[w, s], [e, s], [e, n], [w, n], [w, s]]
    return {"type": "Polygon", "coordinates": [[[round(x, 6), round(y, 6)] for x, y in ring]]}


def write_cog(
    path: Path, array: npt.NDArray[Any], place: Place, nodata: float | None, description: str
) -> Path:
    """Write one band as a COG (deflate, internal tiles and overviews), atomically."""
    import rasterio
    from rasterio.io import MemoryFile
    from rasterio.shutil import copy as rio_copy

    path.parent.mkdir(parents=True, exist_ok=True)
    profile = {
        "driver": "GTiff",
        "height": array.shape[0],
        "width": array.shape[1],
        "count": 1,
        "dtype": array.dtype.name,
        "crs": place.crs,
        "transform": _transform(place),
        "nodata": nodata,
    }
    part = path.with_suffix(".tif.part")
    with MemoryFile() as mem, mem.open(**profile) as tmp:
        tmp.write(array, 1)
        tmp.set_band_description(1, description)
        tmp.update_tags(SYNTHETIC="true", NOTE=SYNTHETIC_NOTE)
        rio_copy(
            tmp,
            part,
            driver="COG",
            compress="DEFLATE",
            blocksize=128,
            overview_resampling="average",
        )
    with rasterio.open(part) as check:  # a COG that does not read back is not kept
        check.read(1, window=((0, 1), (0, 1)))
    part.replace(path)
    return path


def _link(path: Path, root: Path, key: str, base_url: str | None) -> Link:
    relative = path.relative_to(root).as_posix()
    href = f"{base_url.rstrip('/')}/{relative}" if base_url else path.resolve().as_uri()
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    return Link(
        href=href,
        rel="enclosure",
        type="image/tiff; application=geotiff; profile=cloud-optimized",
        title=key,
        length=path.stat().st_size,
        checksum=f"sha256:{digest}",
    )


def collection(
    identifier: str, title: str, bands: list[dict[str, Any]], properties: dict[str, Any]
) -> Record:
    return Record(
        identifier=identifier,
        kind=Kind.COLLECTION,
        title=f"{title} (SYNTHETIC samples)",
        abstract=SYNTHETIC_NOTE,
        keywords=["synthetic", "sample"],
        properties=properties,
        extra={"bands": bands, "synthetic": True, "license": "CC0-1.0"},
    )


def write_product(
    root: Path,
    coll: Record,
    identifier: str,
    when: datetime,
    place: Place,
    arrays: dict[str, tuple[npt.NDArray[Any], float | None]],
    properties: dict[str, Any],
    base_url: str | None,
    truth: dict[str, Any] | None = None,
) -> SampleProduct:
    """Write the bands of one product and return it with its catalogue record."""
    mission = str(coll.properties.get("platform", "synthetic")).lower().replace(" ", "-")
    product_type = str(coll.properties.get("productType", coll.identifier))
    folder = root / mission / product_type / when.strftime("%Y-%m-%d") / identifier
    files = {
        key: write_cog(folder / f"{identifier}_{key}.tif", array, place, nodata, key)
        for key, (array, nodata) in arrays.items()
    }
    record = Record(
        identifier=identifier,
        parent_identifier=coll.identifier,
        title=f"{identifier} (SYNTHETIC, {place.name})",
        abstract=SYNTHETIC_NOTE,
        geometry=_footprint(place),
        start=when,
        end=when,
        properties={**coll.properties, **properties},
        links=[_link(path, root, key, base_url) for key, path in files.items()],
        extra={"synthetic": True, "place": place.name, "crs": place.crs, "truth": truth or {}},
    )
    return SampleProduct(record, coll, files, truth or {})


def at(
    year: int, month: int, day: int, hour: int = 10, minute: int = 30, second: int = 0
) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


Writer = Callable[[Path, str | None], list[SampleProduct]]


def pixel_area_km2(place: Place) -> float:
    """Area of one pixel; for geographic CRSs, at the scene's centre latitude."""
    if place.crs == "EPSG:4326":
        lat = np.radians(place.north - place.pixel * SIZE / 2)
        return float((place.pixel * 111.32) ** 2 * np.cos(lat))
    return (place.pixel / 1000) ** 2
