"""Read a Sentinel-1 SAFE package (folder or zip): manifest, annotation, calibration vectors."""

from __future__ import annotations

import zipfile
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import numpy as np

from everest_elearn.eo._arrays import Float
from everest_elearn.eo.radiometry import interpolate_grid
from everest_elearn.errors import InvalidInput, NotFound

CALIBRATIONS = ("sigmaNought", "betaNought", "gamma", "dn")


class Safe:
    """The files of one SAFE package, read from its ``.SAFE`` folder or its ``.zip``."""

    def __init__(self, path: Path) -> None:
        if not path.exists():
            raise NotFound("SAFE package", str(path))
        self.path = path
        if path.is_dir():
            self.names = sorted(
                p.relative_to(path).as_posix() for p in path.rglob("*") if p.is_file()
            )
        else:
            try:
                with zipfile.ZipFile(path) as archive:
                    self.names = [
                        n.split("/", 1)[1]
                        for n in archive.namelist()
                        if "/" in n and not n.endswith("/")
                    ]
                    self._prefix = archive.namelist()[0].split("/", 1)[0]
            except zipfile.BadZipFile:
                raise InvalidInput(str(path), "neither a .SAFE folder nor a zip file") from None
        self.name = path.name.removesuffix(".zip").removesuffix(".SAFE")

    def read(self, name: str) -> bytes:
        """One file's bytes by its path inside the package (``manifest.safe``, ...)."""
        if name not in self.names:
            raise NotFound("file in SAFE package", name)
        if self.path.is_dir():
            return (self.path / name).read_bytes()
        with zipfile.ZipFile(self.path) as archive:
            return archive.read(f"{self._prefix}/{name}")

    def xml(self, name: str) -> Any:
        # Standard-library parser: the notebook image has no lxml; expat (>= 2.4) refuses entity
        # expansion attacks and never fetches external entities.
        try:
            return ElementTree.fromstring(self.read(name))  # noqa: S314
        except ElementTree.ParseError as exc:
            raise InvalidInput(name, f"not XML: {exc}") from None

    def find(self, folder: str, polarisation: str, prefix: str = "") -> str:
        """The XML file of ``folder`` (``annotation``, ``annotation/calibration``) for a channel."""
        pol = polarisation.lower()
        for name in self.names:
            head, _, base = name.rpartition("/")
            if (
                head == folder
                and base.startswith(prefix)
                and f"-{pol}-" in base
                and base.endswith(".xml")
            ):
                return name
        raise NotFound(f"{folder} XML", f"{prefix}*-{pol}-* in {self.name}")

    @property
    def polarisations(self) -> list[str]:
        pols = {
            n.rsplit("/", 1)[-1].split("-")[3].upper()
            for n in self.names
            if n.startswith("annotation/s1")
        }
        return sorted(pols)

    def annotation(self, polarisation: str) -> Annotation:
        return read_annotation(self.xml(self.find("annotation", polarisation)))

    def calibration(self, polarisation: str) -> CalibrationLut:
        return read_calibration(
            self.xml(self.find("annotation/calibration", polarisation, "calibration-"))
        )

    def noise(self, polarisation: str) -> CalibrationLut:
        """The range noise vectors (table ``noiseLut``: N in DN^2, on their own lines)."""
        return read_noise(self.xml(self.find("annotation/calibration", polarisation, "noise-")))

    def manifest(self) -> dict[str, str]:
        return read_manifest(self.xml("manifest.safe"))


def _text(node: Any, path: str) -> str:
    found = node.find(path)
    return "" if found is None or found.text is None else str(found.text).strip()


@dataclass(frozen=True)
class GeolocationGrid:
    """Tie points of the annotation: image line/pixel with latitude, longitude, incidence."""

    line: Float
    pixel: Float
    latitude: Float
    longitude: Float
    incidence: Float
    height: Float


@dataclass(frozen=True)
class Annotation:
    """The fields of a product annotation XML that the modules explain."""

    fields: dict[str, str]
    lines: int
    samples: int
    grid: GeolocationGrid


ANNOTATION_FIELDS = {
    "mission": "adsHeader/missionId",
    "product_type": "adsHeader/productType",
    "polarisation": "adsHeader/polarisation",
    "mode": "adsHeader/mode",
    "start_time": "adsHeader/startTime",
    "stop_time": "adsHeader/stopTime",
    "absolute_orbit": "adsHeader/absoluteOrbitNumber",
    "pass": "generalAnnotation/productInformation/pass",
    "radar_frequency_hz": "generalAnnotation/productInformation/radarFrequency",
    "range_sampling_rate_hz": "generalAnnotation/productInformation/rangeSamplingRate",
    "platform_heading_deg": "generalAnnotation/productInformation/platformHeading",
    "projection": "generalAnnotation/productInformation/projection",
    "range_pixel_spacing_m": "imageAnnotation/imageInformation/rangePixelSpacing",
    "azimuth_pixel_spacing_m": "imageAnnotation/imageInformation/azimuthPixelSpacing",
    "incidence_mid_swath_deg": "imageAnnotation/imageInformation/incidenceAngleMidSwath",
    "lines": "imageAnnotation/imageInformation/numberOfLines",
    "samples": "imageAnnotation/imageInformation/numberOfSamples",
}


def read_annotation(root: Any) -> Annotation:
    fields = {key: _text(root, path) for key, path in ANNOTATION_FIELDS.items()}
    points = root.findall("geolocationGrid/geolocationGridPointList/geolocationGridPoint")
    if not points:
        raise InvalidInput("annotation", "no geolocationGridPoint")

    def column(tag: str) -> Float:
        return np.array([float(_text(p, tag)) for p in points])

    grid = GeolocationGrid(
        column("line"), column("pixel"), column("latitude"), column("longitude"),
        column("incidenceAngle"), column("height"),
    )  # fmt: skip
    return Annotation(fields, int(fields["lines"]), int(fields["samples"]), grid)


@dataclass(frozen=True)
class CalibrationLut:
    """Calibration vectors: A values on a sparse grid of lines (rows) and pixels (columns)."""

    lines: Float
    pixels: Float
    tables: dict[str, Float] = field(default_factory=dict)  # name -> (lines x pixels)
    absolute_constant: float = 1.0

    def interpolate(self, rows: Any, cols: Any, kind: str = "sigmaNought") -> Float:
        """A at every (row, col) of a window, bilinear between the vectors (ESA's recipe)."""
        if kind not in self.tables:
            raise NotFound("calibration table", kind)
        return interpolate_grid(
            self.lines, self.pixels, self.tables[kind],
            np.asarray(rows, dtype=np.float64), np.asarray(cols, dtype=np.float64),
        )  # fmt: skip


def read_calibration(root: Any) -> CalibrationLut:
    vectors = root.findall("calibrationVectorList/calibrationVector")
    if not vectors:
        raise InvalidInput("calibration", "no calibrationVector")
    pixels = [np.array(_text(v, "pixel").split(), dtype=np.float64) for v in vectors]
    if any(p.size != pixels[0].size or not np.array_equal(p, pixels[0]) for p in pixels):
        raise InvalidInput(
            "calibration", "vectors with different pixel positions are not supported"
        )
    tables = {
        kind: np.stack([np.array(_text(v, kind).split(), dtype=np.float64) for v in vectors])
        for kind in CALIBRATIONS
    }
    lines = np.array([float(_text(v, "line")) for v in vectors])
    constant = float(_text(root, "calibrationInformation/absoluteCalibrationConstant") or 1.0)
    return CalibrationLut(lines, pixels[0], tables, constant)


def read_noise(root: Any) -> CalibrationLut:
    # IPF before 2.90 writes noiseVectorList/noiseVector; later ones noiseRangeVectorList (with
    # noiseRangeLut) plus azimuth vectors, which this teaching reader does not apply.
    vectors = root.findall("noiseVectorList/noiseVector") or root.findall(
        "noiseRangeVectorList/noiseRangeVector"
    )
    if not vectors:
        raise InvalidInput("noise", "no noiseVector")
    pixels = [np.array(_text(v, "pixel").split(), dtype=np.float64) for v in vectors]
    if any(not np.array_equal(p, pixels[0]) for p in pixels):
        raise InvalidInput("noise", "vectors with different pixel positions are not supported")
    table = np.stack(
        [
            np.array((_text(v, "noiseLut") or _text(v, "noiseRangeLut")).split(), dtype=np.float64)
            for v in vectors
        ]
    )
    lines = np.array([float(_text(v, "line")) for v in vectors])
    return CalibrationLut(lines, pixels[0], {"noiseLut": table})


def read_manifest(root: Any) -> dict[str, str]:
    """Platform, instrument, mode, times, orbits and footprint from ``manifest.safe``."""
    wanted = {
        "family": "familyName", "number": "number", "instrument_mode": "mode",
        "start_time": "startTime", "stop_time": "stopTime", "orbit_start": "orbitNumber",
        "relative_orbit": "relativeOrbitNumber", "pass": "pass", "product_class": "productClass",
        "product_type": "productType", "coordinates": "coordinates", "facility": "facility",
        "software": "software",
    }  # fmt: skip
    out: dict[str, str] = {}
    for node in root.iter():
        if not isinstance(node.tag, str):
            continue
        local = node.tag.rpartition("}")[2]
        for key, tag in wanted.items():
            if local == tag and key not in out:
                text = (node.text or "").strip() or " ".join(
                    f"{k}={v}" for k, v in node.attrib.items()
                )
                out[key] = text
    return out


def start_time(fields: dict[str, str]) -> datetime:
    return datetime.fromisoformat(fields["start_time"])
