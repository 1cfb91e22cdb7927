"""The Sentinel-1 ground-track model behind the sample items, calibrated on a real SAFE product.

The model: a circular sun-synchronous orbit (inclination 98.18 deg, 175 orbits in 12 days), its
ascending-node epoch taken from the real manifest (``s1:ascendingNodeTime`` of orbit 4739), its
node longitude fitted so the modelled footprint of that real slice lands on the real one. The IW
swath lies right of the track, between the ground ranges of the real annotation's smallest and
largest incidence angles (30.5 and 45.9 deg: 362 to 612 km off nadir at 693 km altitude).
Relative orbits follow ESA's formulas (S1A: (abs - 73) % 175 + 1, S1B: (abs - 27) % 175 + 1);
S1B flies S1A's ground track 6 days later. Slices are 25 s long and aligned on the real slices'
boundaries.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from shapely.geometry import Point, Polygon

from everest_elearn.catalogue.samples.s1_safe import RealScene

PERIOD = 12 * 86400 / 175
INCLINATION = math.radians(98.18)
EARTH_RATE = 360 / 86164.0905  # deg/s, sidereal
NODE_RATE = 360 / (365.2422 * 86400)  # deg/s, sun-synchronous precession
EARTH_RADIUS = 6371.0
ALTITUDE_KM = 693.0
# The swath model is good to a few tens of km: accept passes whose swath misses the point by less.
COVER_MARGIN_KM = 40.0
SLICE_S = 25.0
S1B_LAUNCH = datetime(2016, 4, 25, 21, 2, tzinfo=UTC)
S1B_END = datetime(2021, 12, 23, tzinfo=UTC)


class GroundTrack:
    """Nadir and swath of Sentinel-1A at any time, from one real ascending-node epoch."""

    def __init__(
        self,
        epoch: datetime,
        node_longitude: float,
        bias: float = 0.0,
        swath_km: tuple[float, float] = (362.0, 612.0),
    ) -> None:
        self.epoch = epoch
        self.near_km, self.far_km = swath_km
        self.node_longitude = node_longitude
        # Seconds added along track: absorbs the spherical model's latitude error.
        self.bias = bias

    def nadir(self, when: datetime) -> tuple[float, float]:
        elapsed = (when - self.epoch).total_seconds() + self.bias
        orbits = math.floor(elapsed / PERIOD)
        since_node = elapsed - orbits * PERIOD
        node = self.node_longitude - (EARTH_RATE - NODE_RATE) * orbits * PERIOD
        u = 2 * math.pi * since_node / PERIOD
        lat = math.degrees(math.asin(math.sin(INCLINATION) * math.sin(u)))
        lon = node + math.degrees(math.atan2(math.cos(INCLINATION) * math.sin(u), math.cos(u)))
        lon -= (EARTH_RATE - NODE_RATE) * since_node
        return (lon + 180) % 360 - 180, lat

    def swath_point(self, when: datetime, offset_km: float) -> tuple[float, float]:
        lon1, lat1 = self.nadir(when)
        lon2, lat2 = self.nadir(when + timedelta(seconds=1))
        heading = _bearing(lon1, lat1, lon2, lat2)
        return _destination(lon1, lat1, heading + 90, offset_km)  # right-looking

    def footprint(self, start: datetime, end: datetime) -> list[list[float]]:
        ring = [
            self.swath_point(start, self.near_km),
            self.swath_point(end, self.near_km),
            self.swath_point(end, self.far_km),
            self.swath_point(start, self.far_km),
        ]
        if _signed_area(ring) < 0:  # RFC 7946: exterior rings counter-clockwise
            ring.reverse()
        return [[round(lon, 6), round(lat, 6)] for lon, lat in [*ring, ring[0]]]

    def orbit_start(self, index: int) -> datetime:
        return self.epoch + timedelta(seconds=index * PERIOD)


def _ground_range(incidence: float) -> float:
    """Distance off nadir (km) at which a spherical Earth sees the beam at ``incidence`` deg."""
    look = math.asin(
        EARTH_RADIUS / (EARTH_RADIUS + ALTITUDE_KM) * math.sin(math.radians(incidence))
    )
    return EARTH_RADIUS * (math.radians(incidence) - look)


def closed_ring(points: list[tuple[float, float]]) -> list[list[float]]:
    """A closed, counter-clockwise ring from corner points."""
    ring = list(points)
    if _signed_area(ring) < 0:
        ring.reverse()
    return [[lon, lat] for lon, lat in [*ring, ring[0]]]


def _bearing(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    p1, p2, dl = math.radians(lat1), math.radians(lat2), math.radians(lon2 - lon1)
    y = math.sin(dl) * math.cos(p2)
    x = math.cos(p1) * math.sin(p2) - math.sin(p1) * math.cos(p2) * math.cos(dl)
    return math.degrees(math.atan2(y, x))


def _destination(lon: float, lat: float, bearing: float, km: float) -> tuple[float, float]:
    d, b = km / EARTH_RADIUS, math.radians(bearing)
    p1, l1 = math.radians(lat), math.radians(lon)
    p2 = math.asin(math.sin(p1) * math.cos(d) + math.cos(p1) * math.sin(d) * math.cos(b))
    l2 = l1 + math.atan2(
        math.sin(b) * math.sin(d) * math.cos(p1), math.cos(d) - math.sin(p1) * math.sin(p2)
    )
    return (math.degrees(l2) + 180) % 360 - 180, math.degrees(p2)


def _signed_area(ring: list[tuple[float, float]]) -> float:
    return sum(
        x1 * y2 - x2 * y1 for (x1, y1), (x2, y2) in zip(ring, ring[1:] + ring[:1], strict=True)
    )


def calibrate(scene: RealScene) -> GroundTrack:
    """Fit node longitude and along-track bias so the modelled slice centre is the real one."""
    track = GroundTrack(
        scene.node_time,
        0.0,
        swath_km=(_ground_range(scene.incidence[0]), _ground_range(scene.incidence[1])),
    )
    real_lon = sum(p[0] for p in scene.footprint) / len(scene.footprint)
    real_lat = sum(p[1] for p in scene.footprint) / len(scene.footprint)
    ground_speed = 2 * math.pi * EARTH_RADIUS / PERIOD  # km/s
    for _ in range(4):
        ring = track.footprint(scene.start, scene.end)[:-1]
        track.node_longitude += real_lon - sum(p[0] for p in ring) / len(ring)
        error_km = (real_lat - sum(p[1] for p in ring) / len(ring)) * 111.2
        track.bias += error_km / ground_speed * (1 if scene.direction == "ASCENDING" else -1)
    return track


@dataclass(frozen=True)
class Area:
    """A place to cover, the pass direction, the dates, how many slices around the point."""

    name: str
    lon: float
    lat: float
    direction: str
    first: datetime
    last: datetime
    slices: int = 2
    # A real product's start time: the slice of the pass closest to it starts there.
    anchor: datetime | None = None


def passes(track: GroundTrack, area: Area) -> list[tuple[str, int, datetime]]:
    """(satellite, absolute orbit, time over the area's latitude) for each covering pass."""
    u = math.asin(math.sin(math.radians(area.lat)) / math.sin(INCLINATION))
    if area.direction == "DESCENDING":
        u = math.pi - u
    offset = timedelta(seconds=u / (2 * math.pi) * PERIOD)
    found: list[tuple[str, int, datetime]] = []
    first = math.floor((area.first - track.epoch).total_seconds() / PERIOD)
    last = math.ceil((area.last - track.epoch).total_seconds() / PERIOD)
    for index in range(first, last + 1):
        for satellite, shift in (("A", 0.0), ("B", 6 * 86400.0)):
            when = track.orbit_start(index) + offset + timedelta(seconds=shift)
            if satellite == "B" and not S1B_LAUNCH + timedelta(days=150) < when < S1B_END:
                continue
            if not area.first <= when <= area.last:
                continue
            if _distance_km(track, when - timedelta(seconds=shift), area) < COVER_MARGIN_KM:
                found.append((satellite, _absolute(satellite, 4739 + index, when), when))
    return found


def _distance_km(track: GroundTrack, when: datetime, area: Area) -> float:
    """How far the area's point lies outside the swath around ``when`` (0 inside)."""
    lon, _ = track.nadir(when)
    if abs((lon - area.lon + 180) % 360 - 180) > 20:  # far away (and no antimeridian strips)
        return math.inf
    strip = Polygon(track.footprint(when - timedelta(seconds=60), when + timedelta(seconds=60)))
    return float(strip.distance(Point(area.lon, area.lat))) * 111.2


def relative_orbit(satellite: str, absolute: int) -> int:
    """ESA's relative orbit of an absolute orbit of S1A or S1B."""
    return (absolute - (73 if satellite == "A" else 27)) % 175 + 1


def _absolute(satellite: str, s1a_orbit: int, when: datetime) -> int:
    if satellite == "A":
        return s1a_orbit
    # S1B on S1A's track six days later: same relative orbit, numbered from its own launch.
    wanted = relative_orbit("A", s1a_orbit)
    estimate = int((when - S1B_LAUNCH).total_seconds() / PERIOD) + 1
    return min(
        (n for n in range(estimate - 200, estimate + 200) if relative_orbit("B", n) == wanted),
        key=lambda n: abs(n - estimate),
    )


def swath_at_latitude(track: GroundTrack, when: datetime, lat: float) -> datetime:
    """When the swath centre (not the nadir) crosses ``lat``, by Newton steps from ``when``."""
    mid = (track.near_km + track.far_km) / 2
    for _ in range(5):
        now = track.swath_point(when, mid)[1]
        rate = track.swath_point(when + timedelta(seconds=1), mid)[1] - now
        when -= timedelta(seconds=(now - lat) / rate)
    return when


def slice_start(track: GroundTrack, when: datetime, phase: float) -> datetime:
    """The start of the slice holding ``when``, slices aligned ``phase`` s after the node."""
    since = (when - track.epoch).total_seconds() % PERIOD
    aligned = math.floor((since - phase) / SLICE_S) * SLICE_S + phase
    return when - timedelta(seconds=since - aligned)
