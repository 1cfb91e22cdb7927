"""What the Sentinel-1 sample generator reads from a real zipped SAFE product."""

from __future__ import annotations

import re
import zipfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from lxml import etree

NS = {"safe": "http://www.esa.int/safe/sentinel-1.0", "gml": "http://www.opengis.net/gml"}


@dataclass
class RealScene:
    """What the generator needs from a real SAFE product."""

    name: str
    start: datetime
    end: datetime
    node_time: datetime
    orbit: int
    relative_orbit: int
    direction: str
    footprint: list[tuple[float, float]]  # (lon, lat)
    facility: str
    software: str
    processed: datetime
    datatake: int
    incidence: tuple[float, float]
    manifest_size: int


def _time(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def read_safe(path: Path) -> RealScene:
    """Read manifest.safe and the VV annotation of a zipped SAFE product."""
    with zipfile.ZipFile(path) as archive:
        manifest_name = next(n for n in archive.namelist() if n.endswith("manifest.safe"))
        manifest = archive.read(manifest_name).decode()
        annotation_name = next(
            n for n in archive.namelist() if re.search(r"annotation/s1.*-vv-.*\.xml$", n)
        )
        annotation = etree.fromstring(archive.read(annotation_name))
        size = archive.getinfo(manifest_name).file_size

    def first(pattern: str) -> str:
        match = re.search(pattern, manifest)
        if not match:
            raise ValueError(f"{path.name}: {pattern} not in the manifest")
        return match.group(1)

    coords = first(r"<gml:coordinates>([^<]+)<").split()
    footprint = [(float(c.split(",")[1]), float(c.split(",")[0])) for c in coords]
    incidence = [
        float(x.findtext("incidenceAngle")) for x in annotation.iter("geolocationGridPoint")
    ]
    return RealScene(
        name=path.stem,
        start=_time(first(r"<safe:startTime>([^<]+)<")),
        end=_time(first(r"<safe:stopTime>([^<]+)<")),
        node_time=_time(first(r"<s1:ascendingNodeTime>([^<]+)<")),
        orbit=int(first(r'<safe:orbitNumber type="start">(\d+)<')),
        relative_orbit=int(first(r'<safe:relativeOrbitNumber type="start">(\d+)<')),
        direction=first(r"<s1:pass>([A-Z]+)<"),
        footprint=footprint,
        facility=first(r'<safe:facility[^>]*name="([^"]+)"').rstrip("_"),
        software=first(r'<safe:software name="([^"]+)"') + " " + first(r'version="([\d.]+)"/>'),
        processed=_time(first(r'<safe:processing name="GRD Post Processing" start="([^"]+)"')),
        datatake=int(first(r"<s1sarl1:missionDataTakeID>(\d+)<")),
        incidence=(round(min(incidence), 2), round(max(incidence), 2)),
        manifest_size=size,
    )
