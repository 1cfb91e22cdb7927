"""Deterministic synthetic EO products: Sentinel-2-like tiles and Sentinel-1-like swath slices."""

from __future__ import annotations

import math
import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from everest_elearn.catalogue.model import Kind, Link, Record

EPOCH = datetime(2019, 1, 1, tzinfo=UTC)
SPAN_DAYS = 5 * 365  # five years of acquisitions
S2 = "SENTINEL-2_L2A"
S1 = "SENTINEL-1_GRD"


def collections() -> list[Record]:
    common = {"geometry": None, "start": EPOCH}
    return [
        Record(
            identifier=S2,
            kind=Kind.COLLECTION,
            title="Sentinel-2 MSI Level-2A",
            abstract="Surface reflectance tiles (synthetic benchmark data).",
            keywords=["optical", "reflectance"],
            properties={"platform": "Sentinel-2", "sensorType": "OPTICAL"},
            **common,  # type: ignore[arg-type]
        ),
        Record(
            identifier=S1,
            kind=Kind.COLLECTION,
            title="Sentinel-1 SAR GRD",
            abstract="Ground range detected IW scenes (synthetic benchmark data).",
            keywords=["radar", "SAR"],
            properties={"platform": "Sentinel-1", "sensorType": "RADAR"},
            **common,  # type: ignore[arg-type]
        ),
    ]


@dataclass(frozen=True)
class Footprint:
    ring: list[tuple[float, float]]


def _rotated_quad(
    lon: float, lat: float, width_km: float, height_km: float, angle_deg: float
) -> list[list[float]]:
    """A rectangle of the given size on the ground, rotated, in lon/lat degrees."""
    kx = 111.32 * max(math.cos(math.radians(lat)), 0.05)
    ky = 110.57
    a = math.radians(angle_deg)
    corners = []
    for dx, dy in ((-1, -1), (1, -1), (1, 1), (-1, 1)):
        x = dx * width_km / 2
        y = dy * height_km / 2
        rx = x * math.cos(a) - y * math.sin(a)
        ry = x * math.sin(a) + y * math.cos(a)
        corners.append([round(lon + rx / kx, 5), round(max(-89.9, min(89.9, lat + ry / ky)), 5)])
    corners.append(corners[0])
    return corners


def _land_lat(rng: random.Random) -> float:
    # Most acquisitions are over land between 60 S and 75 N; weight mid-latitudes.
    return max(-60.0, min(78.0, rng.gauss(20, 28)))


def product(i: int, seed: int = 7) -> Record:
    """Product number ``i`` (the same every run)."""
    rng = random.Random(seed * 1_000_003 + i)
    day = rng.random() * SPAN_DAYS
    start = EPOCH + timedelta(days=day)
    lon = rng.uniform(-180, 180)
    lat = _land_lat(rng)
    if rng.random() < 0.6:
        ring = _rotated_quad(lon, lat, 110, 110, rng.uniform(-3, 3))
        end = start + timedelta(seconds=5)
        platform = rng.choice(("S2A", "S2B"))
        props = {
            "platform": platform,
            "instrument": "MSI",
            "sensorType": "OPTICAL",
            "productType": "S2MSI2A",
            "processingLevel": "Level-2A",
            "cloudCover": round(rng.random() ** 1.5 * 100, 2),
            "orbitNumber": 10_000 + int(day * 14.3),
            "track": rng.randint(1, 143),
            "orbitDirection": "DESCENDING",
            "resolution": 10.0,
        }
        parent, kind = S2, "MSIL2A"
    else:
        ring = _rotated_quad(lon, lat, 250, 170, rng.choice((-12, 12)) + rng.uniform(-2, 2))
        end = start + timedelta(seconds=25)
        platform = rng.choice(("S1A", "S1B"))
        props = {
            "platform": platform,
            "instrument": "SAR-C",
            "sensorType": "RADAR",
            "productType": "GRD",
            "sensorMode": "IW",
            "polarisationChannels": rng.choice(("VV, VH", "HH, HV")),
            "orbitNumber": 20_000 + int(day * 15.0),
            "track": rng.randint(1, 175),
            "orbitDirection": rng.choice(("ASCENDING", "DESCENDING")),
            "resolution": 20.0,
        }
        parent, kind = S1, "IW_GRDH"
    stamp = start.strftime("%Y%m%dT%H%M%S")
    identifier = f"{platform}_{kind}_{stamp}_{i:07d}"
    return Record(
        identifier=identifier,
        parent_identifier=parent,
        title=f"{platform} {kind} {start:%Y-%m-%d %H:%M} track {props['track']}",
        geometry={"type": "Polygon", "coordinates": [ring]},
        start=start,
        end=end,
        properties=props,
        links=[
            Link(
                href=f"https://data.example.org/{identifier}.zip",
                type="application/zip",
                length=rng.randint(500_000_000, 1_200_000_000),
            )
        ],
    )


def products(count: int, seed: int = 7) -> Iterator[Record]:
    for i in range(count):
        yield product(i, seed)
