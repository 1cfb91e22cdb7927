"""ODC entries for loose GeoTIFFs (published results): products from the files' own bands.

Results have no catalogue collection to say what their bands are, so each GeoTIFF describes
itself: files with the same bands (count, data type, nodata, names) share one ODC product named
after the share (``<share>``, then ``<share>_2``, ...). A band's name is its description when every
band of the file has a distinct usable one, else ``band_1``, ``band_2``, ... A file's time is its
``TIFFTAG_DATETIME`` when set, else the snapshot's time. Files that are not georeferenced
rasters stay in the share as plain files, and the outcome says why.
"""

from __future__ import annotations

import asyncio
import hashlib
import shutil
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from everest_elearn.catalogue.model import Kind, Record
from everest_elearn.errors import Conflict, InvalidInput
from everest_elearn.packages.odc_documents import DTYPES, odc_name
from everest_elearn.packages.volumes import FileEntry, Volumes

if TYPE_CHECKING:
    from everest_elearn.packages.datacube import DatacubeIndex

SUFFIXES = (".tif", ".tiff")
ASSET = "file"


@dataclass
class RasterOutcome:
    datasets: list[str] = field(default_factory=list)
    products: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Bands:
    """What makes two files members of one product."""

    names: tuple[str, ...]
    dtype: str
    nodata: float | None


def describe(path: Path) -> tuple[Bands, datetime | None]:
    """A file's bands and its own time; InvalidInput when it is no georeferenced raster (blocks)."""
    import rasterio

    try:
        with rasterio.open(path) as src:
            if src.crs is None:
                raise InvalidInput(path.name, "the raster has no CRS")
            dtypes = set(src.dtypes)
            if len(dtypes) != 1 or next(iter(dtypes)) not in DTYPES:
                raise InvalidInput(path.name, f"band data types {sorted(dtypes)} are not supported")
            described = [odc_name(d) if d and odc_name_ok(d) else "" for d in src.descriptions]
            names = (
                tuple(described)
                if all(described) and len(set(described)) == len(described)
                else tuple(f"band_{i + 1}" for i in range(src.count))
            )
            stamp = src.tags().get("TIFFTAG_DATETIME")
    except rasterio.errors.RasterioIOError as exc:
        raise InvalidInput(path.name, "not a readable raster") from exc
    return Bands(names, dtypes.pop(), src.nodata), _tiff_time(stamp)


def odc_name_ok(text: str) -> bool:
    try:
        odc_name(text)
    except InvalidInput:
        return False
    return True


def _tiff_time(stamp: str | None) -> datetime | None:
    try:
        return datetime.strptime(stamp or "", "%Y:%m:%d %H:%M:%S").replace(tzinfo=UTC)
    except ValueError:
        return None


def product_record(name: str, bands: Bands, title: str) -> Record:
    """A collection record whose ``extra["bands"]`` make the ODC product of ``bands``."""
    nodata: Any = bands.nodata
    if nodata is not None and nodata != nodata:  # NaN
        nodata = "NaN"
    return Record(
        identifier=name,
        kind=Kind.COLLECTION,
        title=title,
        extra={
            "bands": [
                {"name": n, "dtype": bands.dtype, "nodata": nodata, "asset": ASSET, "band": i + 1}
                for i, n in enumerate(bands.names)
            ]
        },
    )


def dataset_record(product: str, path: str, when: datetime) -> Record:
    # Stable per path, safe as a file name, distinct for "a/b.tif" and "a_b.tif".
    suffix = hashlib.sha256(path.encode()).hexdigest()[:8]
    return Record(
        identifier=f"{odc_name(path)[:80]}_{suffix}", parent_identifier=product, start=when
    )


async def index_rasters(
    index: DatacubeIndex,
    volumes: Volumes,
    volume: str,
    package: str,
    files: Sequence[FileEntry],
    when: datetime,
    mount_root: str,
) -> RasterOutcome:
    """Index the GeoTIFFs among ``files``; datasets point at ``<mount_root>/<package>/<path>``."""
    outcome = RasterOutcome()
    rasters = [f.path for f in files if f.path.lower().endswith(SUFFIXES)]
    if not rasters:
        return outcome
    local = await volumes.local_path(volume)
    scratch = None
    if local is None:  # a remote engine: the files come out one at a time, streamed
        scratch = Path(await asyncio.to_thread(tempfile.mkdtemp, prefix="everest-share-"))
    products: dict[Bands, str] = {}
    base = odc_name(package)
    try:
        for path in rasters:
            root = local or scratch
            assert root is not None
            if scratch is not None:
                await volumes.export(volume, [path], scratch)
            try:
                bands, own_time = await asyncio.to_thread(describe, root / path)
                if bands not in products:
                    products[bands] = base if not products else f"{base}_{len(products) + 1}"
                    collection = product_record(products[bands], bands, f"results {package}")
                    await index.ensure_product(collection)
                    outcome.products.append(products[bands])
                name = products[bands]
                dataset = await index.index_record(
                    product_record(name, bands, f"results {package}"),
                    dataset_record(name, path, own_time or when),
                    {ASSET: root / path},
                    package=package,
                    package_dir=root,
                    mount_root=mount_root,
                    product=name,
                )
                outcome.datasets.append(str(dataset))
            except (InvalidInput, Conflict) as exc:
                # Conflict: an earlier snapshot of this share made the product with other bands.
                outcome.notes.append(f"{path} not indexed: {exc}")
            finally:
                if scratch is not None:
                    await asyncio.to_thread((scratch / path).unlink, missing_ok=True)
    finally:
        if scratch is not None:
            await asyncio.to_thread(shutil.rmtree, scratch, ignore_errors=True)
    return outcome
