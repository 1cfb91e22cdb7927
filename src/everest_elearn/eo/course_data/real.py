"""The real fixtures described in place: two Sentinel-1A SAFE packages and a MERIS FR subset.

Files only, not rasters a data cube indexes.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from pathlib import Path

from everest_elearn.catalogue.model import Kind, Link, Record
from everest_elearn.eo.safe import Safe
from everest_elearn.samples.scenes import SampleProduct, at

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
