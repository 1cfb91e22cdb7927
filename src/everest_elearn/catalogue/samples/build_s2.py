"""Sentinel-2 L2A sample items on real MGRS tiles, with orbits consistent with real products.

Orbit numbering comes from two real datatakes (S2A orbit 26883 on 2020-08-15, S2B orbit 36143 on
2024-02-06; 143 orbits in 10 days; ESA's relative-orbit formulas S2A (abs + 2) % 143 + 1 and
S2B (abs - 27) % 143 + 1). They reproduce the relative orbits of the real items in
``fixtures/catalogue/stac`` (R043, R123), which the build checks. A tile is revisited every 5 days
by S2A and S2B in turn at the same time of day. Tile footprints are the MGRS 109.8 km squares
(UTM inverse after Snyder, USGS PP 1395). Cloud cover is drawn from a seeded beta distribution,
high on the days of the September 2019 storm over Valencia and Murcia (the Sen1Floods11 event).
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

PERIOD = 10 * 86400 / 143
INCLINATION = math.radians(98.62)
# Real datatakes: (absolute orbit, sensing time, latitude of the tile sensed then).
REFERENCE = {
    "A": (26883, datetime(2020, 8, 15, 0, 52, 51, tzinfo=UTC), 13.3),
    "B": (36143, datetime(2024, 2, 6, 13, 12, 59, tzinfo=UTC), 64.4),
}
_ROWS = "ABCDEFGHJKLMNPQRSTUV"
_COLUMNS = ("STUVWXYZ", "ABCDEFGH", "JKLMNPQR")  # indexed by zone % 3
_BANDS = ("B01", "B02", "B03", "B04", "B05", "B06", "B07", "B08", "B8A", "B09", "B11", "B12")
_RESOLUTION = {"B01": 60, "B09": 60, "B02": 10, "B03": 10, "B04": 10, "B08": 10}


def relative_orbit(satellite: str, absolute: int) -> int:
    return (absolute + 2) % 143 + 1 if satellite == "A" else (absolute - 27) % 143 + 1


def since_node(lat: float) -> timedelta:
    """Time from the ascending node to sensing latitude ``lat`` on the descending (day) pass."""
    u = math.pi - math.asin(math.sin(math.radians(lat)) / math.sin(INCLINATION))
    return timedelta(seconds=u / (2 * math.pi) * PERIOD)


def orbit_at(when: datetime, relative: int, lat: float) -> tuple[str, int]:
    """Which satellite senses latitude ``lat`` on relative orbit ``relative`` at ``when``."""
    best: tuple[float, str, int] | None = None
    for satellite, (orbit, epoch, epoch_lat) in REFERENCE.items():
        node, epoch_node = when - since_node(lat), epoch - since_node(epoch_lat)
        estimate = orbit + (node - epoch_node).total_seconds() / PERIOD
        for absolute in range(round(estimate) - 2, round(estimate) + 3):
            if relative_orbit(satellite, absolute) == relative:
                miss = abs(absolute - estimate)
                if best is None or miss < best[0]:
                    best = (miss, satellite, absolute)
    if best is None or best[0] > 0.1:
        raise ValueError(f"no Sentinel-2 on relative orbit {relative} at {when}")
    return best[1], best[2]


def utm_to_lonlat(zone: int, easting: float, northing: float) -> tuple[float, float]:
    """Inverse transverse Mercator on WGS 84, northern hemisphere (Snyder 8-17..8-25)."""
    a, f, k0 = 6378137.0, 1 / 298.257223563, 0.9996
    e2 = f * (2 - f)
    ep2 = e2 / (1 - e2)
    x, m = easting - 500000.0, northing / k0
    mu = m / (a * (1 - e2 / 4 - 3 * e2**2 / 64 - 5 * e2**3 / 256))
    e1 = (1 - math.sqrt(1 - e2)) / (1 + math.sqrt(1 - e2))
    phi = (
        mu
        + (3 * e1 / 2 - 27 * e1**3 / 32) * math.sin(2 * mu)
        + (21 * e1**2 / 16 - 55 * e1**4 / 32) * math.sin(4 * mu)
        + (151 * e1**3 / 96) * math.sin(6 * mu)
        + (1097 * e1**4 / 512) * math.sin(8 * mu)
    )
    sin, cos, tan = math.sin(phi), math.cos(phi), math.tan(phi)
    n = a / math.sqrt(1 - e2 * sin**2)
    t, c = tan**2, ep2 * cos**2
    r = a * (1 - e2) / (1 - e2 * sin**2) ** 1.5
    d = x / (n * k0)
    lat = phi - (n * tan / r) * (
        d**2 / 2
        - (5 + 3 * t + 10 * c - 4 * c**2 - 9 * ep2) * d**4 / 24
        + (61 + 90 * t + 298 * c + 45 * t**2 - 252 * ep2 - 3 * c**2) * d**6 / 720
    )
    lon = (
        d
        - (1 + 2 * t + c) * d**3 / 6
        + (5 - 2 * c + 28 * t - 3 * c**2 + 8 * ep2 + 24 * t**2) * d**5 / 120
    ) / cos
    return round(math.degrees(lon) - 183 + 6 * zone, 6), round(math.degrees(lat), 6)


def tile_footprint(tile: str) -> list[list[float]]:
    """The 109.8 km square of an MGRS tile such as '30SXH' (northern hemisphere)."""
    zone, band, column, row = int(tile[:2]), tile[2], tile[3], tile[4]
    easting = (_COLUMNS[zone % 3].index(column) + 1) * 100_000
    row_index = (_ROWS.index(row) - (5 if zone % 2 == 0 else 0)) % 20
    approx = ("CDEFGHJKLMNPQRSTUVWX".index(band) * 8 - 80 + 4) * 110_600  # band centre northing
    cycles = round((approx - row_index * 100_000) / 2_000_000)
    top = row_index * 100_000 + cycles * 2_000_000 + 100_000
    corners = [
        (easting, top - 109_800),
        (easting + 109_800, top - 109_800),
        (easting + 109_800, top),
        (easting, top),
    ]
    ring = [list(utm_to_lonlat(zone, e, n)) for e, n in corners]
    return [*ring, ring[0]]


def sun(when: datetime, lon: float, lat: float) -> tuple[float, float]:
    """Solar azimuth and elevation in degrees (NOAA low-precision formulas, good to ~0.5 deg)."""
    day = when.timetuple().tm_yday
    hour = when.hour + when.minute / 60
    gamma = 2 * math.pi / 365 * (day - 1 + (hour - 12) / 24)
    decl = (
        0.006918
        - 0.399912 * math.cos(gamma)
        + 0.070257 * math.sin(gamma)
        - 0.006758 * math.cos(2 * gamma)
        + 0.000907 * math.sin(2 * gamma)
    )
    eqtime = 229.18 * (
        0.000075
        + 0.001868 * math.cos(gamma)
        - 0.032077 * math.sin(gamma)
        - 0.014615 * math.cos(2 * gamma)
        - 0.040849 * math.sin(2 * gamma)
    )
    solar_minutes = hour * 60 + eqtime + 4 * lon
    hour_angle = math.radians(solar_minutes / 4 - 180)
    phi = math.radians(lat)
    cos_zenith = math.sin(phi) * math.sin(decl) + math.cos(phi) * math.cos(decl) * math.cos(
        hour_angle
    )
    zenith = math.acos(max(-1.0, min(1.0, cos_zenith)))
    azimuth = (
        math.degrees(
            math.atan2(
                math.sin(hour_angle),
                math.cos(hour_angle) * math.sin(phi) - math.tan(decl) * math.cos(phi),
            )
        )
        + 180
    )
    return round(azimuth % 360, 3), round(90 - math.degrees(zenith), 3)


@dataclass(frozen=True)
class Series:
    """Tiles seen on one relative orbit, from an anchor acquisition every 5 days."""

    tiles: tuple[str, ...]
    relative: int
    anchor: datetime
    first: datetime
    last: datetime
    # Days with storm clouds (cloud cover 70-100 %).
    stormy: tuple[datetime, datetime] | None = None


def generate(series: list[Series], base: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    for entry in series:
        k = math.ceil((entry.first - entry.anchor).total_seconds() / (5 * 86400))
        when = entry.anchor + timedelta(days=5 * k)
        while when <= entry.last:
            lat = tile_footprint(entry.tiles[0])[0][1]
            satellite, orbit = orbit_at(when, entry.relative, lat)
            for tile in entry.tiles:
                items.append(_item(tile, satellite, orbit, entry.relative, when, entry, base))
            when += timedelta(days=5)
    return items


def _item(
    tile: str, satellite: str, orbit: int, relative: int, when: datetime, series: Series, base: str
) -> dict[str, Any]:
    baseline = "02.13" if when.year < 2020 else "02.14"
    rng = random.Random(f"{tile}{when:%Y%m%d}")
    generated = when + timedelta(hours=2, minutes=rng.randint(10, 59), seconds=rng.randint(0, 59))
    name = (
        f"S2{satellite}_MSIL2A_{when:%Y%m%dT%H%M%S}_N{baseline.replace('.', '')}_R{relative:03d}"
        f"_T{tile}_{generated:%Y%m%dT%H%M%S}"
    )
    if series.stormy and series.stormy[0] <= when <= series.stormy[1]:
        clouds = 70 + 30 * rng.random()
    else:
        clouds = 100 * rng.betavariate(0.6, 3.0)
    ring = tile_footprint(tile)
    lons, lats = [p[0] for p in ring], [p[1] for p in ring]
    azimuth, elevation = sun(when, sum(lons) / 5, sum(lats) / 5)
    folder = f"{base}/sentinel-2-l2a/{tile[:2]}/{tile[2]}/{tile[3:]}/{when:%Y/%m}/{name}"
    assets: dict[str, Any] = {
        band: {
            "href": f"{folder}/{band}.tif",
            "type": "image/tiff; application=geotiff; profile=cloud-optimized",
            "title": f"Band {band} ({_RESOLUTION.get(band, 20)} m)",
            "roles": ["data"],
            "gsd": _RESOLUTION.get(band, 20),
            "file:size": rng.randint(20, 240) * 1_000_000 // (_RESOLUTION.get(band, 20) // 10) ** 2,
        }
        for band in (*_BANDS, "SCL", "AOT", "WVP")
    }
    assets["visual"] = {
        "href": f"{folder}/TCI.tif",
        "roles": ["visual"],
        "type": "image/tiff; application=geotiff; profile=cloud-optimized",
        "title": "True colour image",
    }
    assets["thumbnail"] = {
        "href": f"{folder}/preview.jpg",
        "type": "image/jpeg",
        "title": "Thumbnail",
        "roles": ["thumbnail"],
    }
    assets["granule-metadata"] = {
        "href": f"{folder}/MTD_TL.xml",
        "type": "application/xml",
        "title": "Granule metadata",
        "roles": ["metadata"],
    }
    return {
        "type": "Feature",
        "stac_version": "1.0.0",
        "stac_extensions": [
            "https://stac-extensions.github.io/eo/v1.1.0/schema.json",
            "https://stac-extensions.github.io/sat/v1.0.0/schema.json",
            "https://stac-extensions.github.io/view/v1.0.0/schema.json",
            "https://stac-extensions.github.io/mgrs/v1.0.0/schema.json",
            "https://stac-extensions.github.io/file/v2.1.0/schema.json",
        ],
        "id": name,
        "collection": "sentinel-2-l2a",
        "bbox": [min(lons), min(lats), max(lons), max(lats)],
        "geometry": {"type": "Polygon", "coordinates": [ring]},
        "properties": {
            "title": name,
            "datetime": when.isoformat().replace("+00:00", "Z"),
            "platform": f"sentinel-2{satellite.lower()}",
            "constellation": "sentinel-2",
            "instruments": ["msi"],
            "eo:cloud_cover": round(clouds, 4),
            "eo:snow_cover": 0.0,
            "gsd": 10,
            "proj:epsg": 32600 + int(tile[:2]),
            "mgrs:utm_zone": int(tile[:2]),
            "mgrs:latitude_band": tile[2],
            "mgrs:grid_square": tile[3:],
            "s2:mgrs_tile": tile,
            "s2:product_type": "S2MSI2A",
            "s2:processing_baseline": baseline,
            "s2:datatake_id": f"GS2{satellite}_{when:%Y%m%dT%H%M%S}_{orbit:06d}_N{baseline}",
            "s2:generation_time": generated.isoformat().replace("+00:00", "Z"),
            "sat:orbit_state": "descending",
            "sat:relative_orbit": relative,
            "sat:absolute_orbit": orbit,
            "processing:level": "L2A",
            "processing:facility": "ESA",
            "view:sun_azimuth": azimuth,
            "view:sun_elevation": elevation,
            "created": (generated + timedelta(minutes=30)).isoformat().replace("+00:00", "Z"),
        },
        "links": [],
        "assets": assets,
    }
