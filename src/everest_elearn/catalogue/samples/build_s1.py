"""Sentinel-1 GRD sample items: real SAFE manifests, and a ground-track model calibrated on them.

The SAFE reading lives in ``s1_safe`` and the orbit model in ``s1_track``; this module makes the
items. Datatake and product unique ids of generated products are synthetic (derived from a hash);
those of the real SAFE products are real.
"""

from __future__ import annotations

import hashlib
import random
from datetime import UTC, datetime, timedelta
from typing import Any

from everest_elearn.catalogue.samples.s1_safe import RealScene, read_safe
from everest_elearn.catalogue.samples.s1_track import (
    SLICE_S,
    Area,
    GroundTrack,
    calibrate,
    closed_ring,
    passes,
    relative_orbit,
    slice_start,
    swath_at_latitude,
)

# Names build.py uses through this module.
__all__ = ["Area", "RealScene", "calibrate", "closed_ring", "generate", "item", "read_safe"]


def _name(satellite: str, start: datetime, end: datetime, orbit: int, datatake: int) -> str:
    stamp = "%Y%m%dT%H%M%S"
    stem = f"S1{satellite}_IW_GRDH_1SDV_{start:{stamp}}_{end:{stamp}}_{orbit:06d}_{datatake:06X}"
    unique = hashlib.sha1(stem.encode()).hexdigest()[:4].upper()  # noqa: S324 (an id, not security)
    return f"{stem}_{unique}"


def generate(
    track: GroundTrack, real: RealScene, areas: list[Area], base: str
) -> list[dict[str, Any]]:
    """STAC items for every pass over the areas; deterministic (seeded by identifier)."""
    phase = ((real.start - real.node_time).total_seconds()) % SLICE_S
    items: list[dict[str, Any]] = []
    for area in areas:
        for satellite, orbit, when in passes(track, area):
            shift = timedelta(days=6) if satellite == "B" else timedelta(0)
            centre = swath_at_latitude(track, when - shift, area.lat)
            first = slice_start(track, centre, phase) - timedelta(
                seconds=SLICE_S * ((area.slices - 1) // 2)
            )
            if area.anchor and abs((area.anchor - when).total_seconds()) < 300:
                first = area.anchor - shift
            for n in range(area.slices):
                start = first + timedelta(seconds=SLICE_S * n)
                end = start + timedelta(seconds=SLICE_S)
                geometry = track.footprint(start, end)
                rate = 7.4 if satellite == "A" else 6.9  # datatakes per orbit, synthetic
                datatake = int((orbit - (4739 if satellite == "A" else 0)) * rate) + (
                    real.datatake if satellite == "A" else 1000
                )
                name = _name(satellite, start + shift, end + shift, orbit, datatake)
                items.append(
                    item(
                        name,
                        satellite,
                        start + shift,
                        end + shift,
                        orbit,
                        area.direction,
                        geometry,
                        real,
                        base,
                        datatake,
                    )
                )
    return items


def item(
    name: str,
    satellite: str,
    start: datetime,
    end: datetime,
    orbit: int,
    direction: str,
    geometry: list[list[float]],
    real: RealScene,
    base: str,
    datatake: int,
) -> dict[str, Any]:
    rng = random.Random(name)
    lons = [p[0] for p in geometry]
    lats = [p[1] for p in geometry]
    folder = f"{base}/sentinel-1-grd/{start:%Y/%m/%d}/{name}"
    processed = start + timedelta(hours=2, minutes=rng.randint(5, 50), seconds=rng.randint(0, 59))
    size = rng.randint(1_550_000_000, 1_750_000_000)
    return {
        "type": "Feature",
        "stac_version": "1.0.0",
        "stac_extensions": [
            "https://stac-extensions.github.io/sar/v1.0.0/schema.json",
            "https://stac-extensions.github.io/sat/v1.0.0/schema.json",
            "https://stac-extensions.github.io/processing/v1.1.0/schema.json",
            "https://stac-extensions.github.io/file/v2.1.0/schema.json",
        ],
        "id": name,
        "collection": "sentinel-1-grd",
        "bbox": [min(lons), min(lats), max(lons), max(lats)],
        "geometry": {"type": "Polygon", "coordinates": [geometry]},
        "properties": {
            "title": name,
            "datetime": _iso(start),
            "start_datetime": _iso(start),
            "end_datetime": _iso(end),
            "platform": f"sentinel-1{satellite.lower()}",
            "constellation": "sentinel-1",
            "instruments": ["c-sar"],
            "product:type": "IW_GRDH_1S",
            "sar:product_type": "GRD",
            "sar:instrument_mode": "IW",
            "sar:frequency_band": "C",
            "sar:center_frequency": 5.405,
            "sar:polarizations": ["VV", "VH"],
            "sar:observation_direction": "right",
            "sar:resolution_range": 20,
            "sar:resolution_azimuth": 22,
            "sar:pixel_spacing_range": 10,
            "sar:pixel_spacing_azimuth": 10,
            "sar:looks_range": 5,
            "sar:looks_azimuth": 1,
            "sat:orbit_state": direction.lower(),
            "sat:absolute_orbit": orbit,
            "sat:relative_orbit": relative_orbit(satellite, orbit),
            "s1:datatake_id": str(datatake),
            "processing:level": "L1",
            "processing:facility": real.facility,
            "processing:software": {
                real.software.rsplit(" ", 1)[0]: real.software.rsplit(" ", 1)[1]
            },
            "processing:datetime": _iso(processed),
            "view:incidence_angle": round(sum(real.incidence) / 2, 2),
            "gsd": 10,
            "created": _iso(processed + timedelta(minutes=20)),
            "published": _iso(processed + timedelta(minutes=35)),
        },
        "links": [],
        "assets": {
            "safe": {
                "href": f"{folder}.SAFE.zip",
                "type": "application/zip",
                "title": "SAFE product (zip)",
                "roles": ["data", "archive"],
                "file:size": size,
            },
            **{
                pol: {
                    "href": f"{folder}/measurement/{pol}.tiff",
                    "type": "image/tiff; application=geotiff",
                    "title": f"{pol.upper()} measurement (GRD amplitude)",
                    "roles": ["data", "amplitude"],
                    "sar:polarizations": [pol.upper()],
                    "file:size": size * 45 // 100,
                }
                for pol in ("vv", "vh")
            },
            "manifest": {
                "href": f"{folder}/manifest.safe",
                "type": "application/xml",
                "title": "SAFE manifest",
                "roles": ["metadata"],
                "file:size": real.manifest_size,
            },
            "thumbnail": {
                "href": f"{folder}/preview/quick-look.png",
                "type": "image/png",
                "title": "Quick-look",
                "roles": ["thumbnail"],
            },
        },
    }


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
