"""Cube-ready rasters: multi-band GeoTIFFs rewritten band-interleaved at build time.

A pixel-interleaved GeoTIFF (GDAL's COG driver writes several bands that way by default) packs
every band in each tile. The Open Data Cube reads one band at a time and opens the file anew for
each, so every tile is decompressed once per band: bench/packages measured ``dc.load`` 3.3 to 4.6
times slower than rasterio reading all bands at once from the same files, against 1.1 to 1.2 on
band-interleaved files. Rewriting keeps the pixels, the tile size, the compression, the
predictor, nodata, tags, band descriptions and overviews; only the order of the tiles changes.
The manifest keeps the source's checksum beside the rewritten file's.
"""

from __future__ import annotations

import asyncio
import hashlib
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path

from everest_elearn.packages.manifest import ManifestFile
from everest_elearn.packages.progress import BuildProgress
from everest_elearn.packages.spec import PackageSpec
from everest_elearn.packages.state import FileState, PackageState
from everest_elearn.packages.volumes import Volumes

SUFFIXES = (".tif", ".tiff")
REWRITTEN = "rewritten band-interleaved for dc.load (same pixels; source checksum kept)"
CHUNK = 1024 * 1024


def is_geotiff_name(name: str) -> bool:
    return name.lower().endswith(SUFFIXES)


def rewrite_band_interleaved(source: Path, target: Path) -> bool:
    """Write ``source`` band-interleaved to ``target`` when it is a tiled multi-band
    pixel-interleaved GeoTIFF; False (nothing written) for anything else."""
    import rasterio
    from rasterio.enums import Interleaving
    from rasterio.errors import RasterioError
    from rasterio.shutil import copy as rio_copy

    try:
        with rasterio.open(source) as src:
            if src.driver != "GTiff" or src.count < 2 or src.interleaving is not Interleaving.pixel:
                return False
            structure = src.tags(ns="IMAGE_STRUCTURE")
            height, width = src.block_shapes[0]
            # IF_SAFER: BigTIFF only when the uncompressed size could pass 4 GB.
            options: dict[str, object] = {
                "interleave": "band",
                "copy_src_overviews": True,
                "bigtiff": "IF_SAFER",
            }
            if width != src.width:  # tiled (strips span the whole width)
                options |= {"tiled": True, "blockxsize": width, "blockysize": height}
            if src.compression is not None:
                options["compress"] = src.compression.name
            if "PREDICTOR" in structure:
                options["predictor"] = structure["PREDICTOR"]
            rio_copy(src, target, driver="GTiff", **options)
    except RasterioError:
        return False  # not a raster GDAL reads: kept as received
    return True


async def file_chunks(path: Path) -> AsyncIterator[bytes]:
    """A local file as the chunks a volume writer takes."""
    with path.open("rb") as handle:
        while chunk := await asyncio.to_thread(handle.read, CHUNK):
            yield chunk


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


async def rewrite_rasters(
    volumes: Volumes,
    state: PackageState,
    spec: PackageSpec,
    entries: list[ManifestFile],
    progress: BuildProgress,
) -> int:
    """Rewrite the package's multi-band pixel-interleaved GeoTIFFs in its volume; how many.

    Each file's registry entry is marked rewritten before its new bytes replace the old, so a
    build interrupted between the two fetches that file again on resume (the builder's
    ``_still_valid``) and never lists a checksum the volume does not hold.
    """
    candidates = [e for e in entries if is_geotiff_name(e.file_name) and not e.rewritten]
    if not candidates:
        return 0
    root = await volumes.local_path(spec.volume_name)
    rewritten = 0
    with tempfile.TemporaryDirectory(prefix="everest-cube-") as scratch:
        work = Path(scratch)
        async with volumes.writer(spec.volume_name) as writer:
            for entry in candidates:
                if root is None:  # a remote engine: the file comes out through its API
                    await volumes.export(spec.volume_name, [entry.path], work)
                source = (root or work) / entry.path
                target = work / "rewritten.tif"
                if not await asyncio.to_thread(rewrite_band_interleaved, source, target):
                    continue
                entry.source_sha256, entry.rewritten = entry.sha256, REWRITTEN
                entry.sha256 = await asyncio.to_thread(sha256_of, target)
                entry.size = target.stat().st_size
                await state.file_progress(
                    spec.name, spec.version, entry.path, FileState.WRITTEN, entry.size,
                    entry=entry.model_dump(mode="json"),
                )  # fmt: skip
                await writer.write(entry.path, file_chunks(target), entry.size)
                await writer.flush()
                await state.mark_durable(spec.name, spec.version, [entry.path])
                progress.file(entry.path, "durable")
                target.unlink()
                rewritten += 1
    return rewritten
