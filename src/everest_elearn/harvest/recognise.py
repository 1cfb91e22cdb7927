"""Products recognised from their files: Sentinel SAFE (zip or folder) and GeoTIFF/COG.

Metadata comes from the files themselves: ``manifest.safe`` (times, orbit, footprint,
polarisations, mode) and the GeoTIFF's georeferencing and tags (footprint, CRS, time), falling
back to the file name for the time. Files are opened through an ``Opener`` so the same code reads
a local disk, an HTTP server or an S3 bucket by ranges. Every function raises ``Reject``.
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Callable
from datetime import UTC, datetime
from typing import IO, Any

from lxml import etree

from everest_elearn.catalogue.ingest import values
from everest_elearn.catalogue.ingest.draft import Draft
from everest_elearn.catalogue.ingest.outcome import Reject
from everest_elearn.catalogue.model import Record

Opener = Callable[[], IO[bytes]]
SAFE_ZIP = re.compile(r"^(S[123][A-D]_[A-Z0-9_]+)(\.SAFE)?\.zip$", re.IGNORECASE)
TIFF = re.compile(r"\.(tif|tiff)$", re.IGNORECASE)
MAX_MANIFEST = 4 * 1024 * 1024
_XML = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)
_NS = {
    "safe": "http://www.esa.int/safe/sentinel-1.0",
    "s1": "http://www.esa.int/safe/sentinel-1.0/sentinel-1",
    "s1sarl1": "http://www.esa.int/safe/sentinel-1.0/sentinel-1/sar/level-1",
    "gml": "http://www.opengis.net/gml",
}
_NAME_TIME = re.compile(r"(?<!\d)(\d{8})(?:T(\d{6}))?(?!\d)")


def kind_of(name: str) -> str | None:
    """``safe-zip``, ``safe-manifest`` or ``geotiff`` for a file name (a path), else None."""
    base = name.rsplit("/", 1)[-1]
    if ".SAFE/" in name.upper() and base != "manifest.safe":
        return None  # a file inside a SAFE folder belongs to that product
    if SAFE_ZIP.match(base):
        return "safe-zip"
    if base == "manifest.safe" and name.rsplit("/", 2)[-2].upper().endswith(".SAFE"):
        return "safe-manifest"
    if TIFF.search(base):
        return "geotiff"
    return None


def safe_zip(opener: Opener, name: str, parent: str) -> Draft:
    """A zipped SAFE product: the manifest read from inside the archive (by ranges when remote)."""
    try:
        with opener() as handle, zipfile.ZipFile(handle) as archive:
            names = [
                n
                for n in archive.namelist()
                if n.endswith("/manifest.safe") or n == "manifest.safe"
            ]
            if not names:
                raise Reject("manifest.safe: not in the archive")
            info = archive.getinfo(names[0])
            if info.file_size > MAX_MANIFEST:
                raise Reject(f"manifest.safe: larger than {MAX_MANIFEST} bytes")
            data = archive.read(info)
    except zipfile.BadZipFile as exc:
        raise Reject(f"not a readable zip archive: {exc}") from None
    folder = names[0].rsplit("/", 1)[0] if "/" in names[0] else name.rsplit("/", 1)[-1]
    return safe_manifest(
        data, re.sub(r"(\.SAFE)?(\.zip)?$", "", folder, flags=re.IGNORECASE), parent
    )


def safe_manifest(data: bytes, product: str, parent: str) -> Draft:
    """A Sentinel-1 SAFE ``manifest.safe`` as a draft record; ``product`` is the SAFE's name."""
    try:
        root = etree.fromstring(data, parser=_XML)
    except etree.XMLSyntaxError as exc:
        raise Reject(f"manifest.safe: not well-formed XML ({str(exc)[:80]})") from None

    def text(path: str) -> str | None:
        found = root.find(path, _NS)
        return found.text.strip() if found is not None and found.text else None

    family = text(".//safe:platform/safe:familyName")
    if not family:
        raise Reject("manifest.safe: no platform (not a Sentinel SAFE manifest)")
    start = text(".//safe:acquisitionPeriod/safe:startTime")
    if start is None:
        raise Reject("manifest.safe: no acquisition start time")
    coordinates = text(".//safe:footPrint/gml:coordinates")
    if coordinates is None:
        raise Reject("manifest.safe: no footprint")
    draft = Draft(values.identifier(product, "product name"), parent=parent)
    draft.start = values.timestamp(start, "startTime")
    stop = text(".//safe:acquisitionPeriod/safe:stopTime")
    draft.end = values.timestamp(stop, "stopTime") if stop else draft.start
    draft.geometry = footprint(coordinates)
    draft.title = product
    draft.set_platform(f"{family}{text('.//safe:platform/safe:number') or ''}")
    draft.set("instrument", "SAR")
    draft.set("sensorType", "RADAR")
    draft.set("sensorMode", text(".//s1sarl1:instrumentMode/s1sarl1:mode"))
    draft.set("swathIdentifier", text(".//s1sarl1:instrumentMode/s1sarl1:swath"))
    draft.set("productType", text(".//s1sarl1:productType"))
    draft.set("orbitNumber", text(".//safe:orbitReference/safe:orbitNumber"))
    draft.set("track", text(".//safe:orbitReference/safe:relativeOrbitNumber"))
    draft.set("orbitDirection", text(".//safe:orbitReference//s1:pass"))
    channels = [
        e.text.strip()
        for e in root.iterfind(".//s1sarl1:transmitterReceiverPolarisation", _NS)
        if e.text
    ]
    if channels:
        draft.set("polarisationChannels", ", ".join(channels))
        draft.set("polarisationMode", {1: "S", 2: "D", 4: "Q"}.get(len(channels)))
    facility = root.find(".//safe:processing/safe:facility", _NS)
    if facility is not None:
        draft.set(
            "processingCenter", facility.get("name", "").strip("_ ") or facility.get("organisation")
        )
        software = facility.find("safe:software", _NS)
        if software is not None and software.get("name"):
            draft.set(
                "processorName", f"{software.get('name')} {software.get('version', '')}".strip()
            )
    return draft


def footprint(coordinates: str) -> dict[str, Any]:
    """``lat,lon lat,lon ...`` (GML 2 in EPSG:4326 order) as a closed GeoJSON polygon."""
    points: list[list[float]] = []
    for pair in coordinates.split():
        lat, _, lon = pair.partition(",")
        try:
            points.append([float(lon), float(lat)])
        except ValueError:
            raise Reject(f"footprint: {pair[:40]!r} is not 'lat,lon'") from None
    if len(points) < 3:
        raise Reject("footprint: fewer than 3 corners")
    if points[0] != points[-1]:
        points.append(points[0])
    return values.geometry({"type": "Polygon", "coordinates": [points]}, "footprint")


def name_time(name: str) -> datetime | None:
    """The first ``YYYYMMDD[THHMMSS]`` in a file name, in UTC."""
    match = _NAME_TIME.search(name)
    if not match:
        return None
    try:
        return datetime.strptime(
            match.group(1) + (match.group(2) or "000000"), "%Y%m%d%H%M%S"
        ).replace(tzinfo=UTC)
    except ValueError:
        return None


def geotiff(opener: Opener, name: str, parent: str) -> Draft:
    """A GeoTIFF/COG: footprint from its bounds (any CRS), time from tags or the file name."""
    try:
        import rasterio
        from rasterio.errors import RasterioError
        from rasterio.warp import transform_bounds
    except ImportError:
        raise Reject(
            "GeoTIFF: rasterio is not installed (pip install 'everest-elearn[harvest]')"
        ) from None

    stem = TIFF.sub("", name.rsplit("/", 1)[-1])
    opened: list[_Plain] = []

    def plain(path: str, mode: str = "rb") -> _Plain:
        # GDAL also looks for side-car files (.aux.xml, .xml, .ovr): there are none here, and
        # answering with the image itself would read it again for each of them.
        if path != name:
            raise FileNotFoundError(path)
        opened.append(_Plain(opener()))
        return opened[-1]

    try:
        with rasterio.open(name, opener=plain) as dataset:
            if dataset.crs is None:
                raise Reject("GeoTIFF: no coordinate reference system")
            west, south, east, north = transform_bounds(dataset.crs, "EPSG:4326", *dataset.bounds)
            tags = dataset.tags()
            crs = dataset.crs.to_string()
            resolution = abs(dataset.res[0]) if dataset.crs.is_projected else None
            bands = [d or f"band {i + 1}" for i, d in enumerate(dataset.descriptions)]
            shape = [dataset.height, dataset.width]
    except RasterioError as exc:
        failed = next((f.error for f in opened if f.error is not None), None)
        if isinstance(failed, Reject):
            raise failed from None
        reason = f"{failed}" if failed is not None else str(exc)
        raise Reject(f"GeoTIFF: cannot be read ({reason[:160]})") from None
    failed = next((f.error for f in opened if f.error is not None), None)
    if failed is not None:  # GDAL read what it needed before a later read failed
        raise Reject(f"GeoTIFF: cannot be read ({str(failed)[:160]})") from None
    safe_id = re.sub(r"[^A-Za-z0-9._:-]", "_", stem).strip("._-")
    draft = Draft(values.identifier(safe_id, "file name"), parent=parent)
    draft.geometry = values.box_polygon(*(round(v, 7) for v in (west, south, east, north)))
    moment = _tag_time(tags) or name_time(stem)
    if moment is None:
        raise Reject(
            "time: no acquisition time in the GeoTIFF tags (TIFFTAG_DATETIME, ACQUISITION_*) or in the file name"
        )
    draft.start = draft.end = moment
    draft.title = stem
    if stem[:3].upper() in ("S1A", "S1B", "S1C", "S2A", "S2B", "S2C"):
        draft.set_platform(stem[:3])
    draft.set("resolution", resolution)
    draft.extra = {"raster": {"crs": crs, "bands": bands, "shape": shape}}
    return draft


class _Plain(io.RawIOBase):
    """A file without a descriptor: GDAL's Python opener treats real files as terminals.

    An exception raised into GDAL from a read callback aborts the whole process (rasterio's
    opener), so a failed read (a server error, a limit) is kept in ``error`` and reported to
    GDAL as the end of the file; ``geotiff`` then rejects the file with that error.
    """

    def __init__(self, handle: IO[bytes]) -> None:
        self.handle = handle
        self.error: Exception | None = None

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def seek(self, offset: int, whence: int = 0) -> int:
        return self.handle.seek(offset, whence)

    def tell(self) -> int:
        return self.handle.tell()

    def readinto(self, buffer: Any) -> int:
        if self.error is not None:
            return 0
        try:
            data = self.handle.read(len(buffer))
        except Exception as exc:  # never into GDAL; reported by geotiff()
            self.error = exc
            return 0
        buffer[: len(data)] = data
        return len(data)

    def close(self) -> None:
        self.handle.close()
        super().close()


def _tag_time(tags: dict[str, str]) -> datetime | None:
    for key in (
        "ACQUISITION_START_TIME",
        "ACQUISITION_DATETIME",
        "ACQUISITION_DATE",
        "TIFFTAG_DATETIME",
    ):
        raw = tags.get(key)
        if not raw:
            continue
        for pattern in ("%Y:%m:%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d", "%Y%m%d"):
            try:
                return datetime.strptime(raw.strip()[:19].rstrip("Z"), pattern).replace(tzinfo=UTC)
            except ValueError:
                continue
    return None


def finish(draft: Draft, links: list[tuple[str, str, str | None, int | None]]) -> Record:
    """The record with its links ``(href, rel, media type, length)``; raises Reject."""
    for href, rel, media_type, length in links:
        if not href:
            continue
        draft.add_link(href, rel, type=media_type, length=length)
    return draft.finish()
