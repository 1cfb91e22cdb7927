"""Read a BEAM-DIMAP product (``.dim`` XML + ENVI ``.img``/``.hdr`` rasters), as SNAP writes it."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import numpy as np

from everest_elearn.errors import InvalidInput, NotFound


@dataclass(frozen=True)
class DimapBand:
    """One band's description: name, unit, centre wavelength (nm) and scaling to physical units."""

    name: str
    unit: str
    wavelength: float
    scale: float
    offset: float
    description: str


def read_bands(dim: Path) -> dict[str, DimapBand]:
    """The spectral band descriptions of a ``.dim`` file, by band name."""
    if not dim.is_file():
        raise NotFound("BEAM-DIMAP header", str(dim))
    try:
        root = ElementTree.parse(dim).getroot()  # noqa: S314  (see eo.safe: expat, no lxml)
    except ElementTree.ParseError as exc:
        raise InvalidInput(str(dim), f"not XML: {exc}") from None
    bands: dict[str, DimapBand] = {}
    for info in root.iter("Spectral_Band_Info"):
        name = info.findtext("BAND_NAME") or ""
        bands[name] = DimapBand(
            name=name,
            unit=info.findtext("PHYSICAL_UNIT") or "",
            wavelength=float(info.findtext("BAND_WAVELEN") or "nan"),
            scale=float(info.findtext("SCALING_FACTOR") or 1.0),
            offset=float(info.findtext("SCALING_OFFSET") or 0.0),
            description=info.findtext("BAND_DESCRIPTION") or "",
        )
    return bands


# ENVI "data type" codes and the numpy types they stand for.
_ENVI_TYPES = {1: "u1", 2: "i2", 3: "i4", 4: "f4", 5: "f8", 12: "u2", 13: "u4", 14: "i8", 15: "u8"}


def read_envi(img: Path) -> Any:
    """One single-band ENVI raster (``.img`` with its ``.hdr``); BEAM-DIMAP rasters carry no
    map georeferencing, so they are read directly rather than through GDAL."""
    header = img.with_suffix(".hdr")
    if not header.is_file():
        raise NotFound("ENVI header", str(header))
    fields: dict[str, str] = {}
    for line in header.read_text(encoding="latin-1").splitlines():
        key, sep, value = line.partition("=")
        if sep:
            fields[key.strip().lower()] = value.strip()
    try:
        rows, cols = int(fields["lines"]), int(fields["samples"])
        code = _ENVI_TYPES[int(fields["data type"])]
        order = ">" if fields.get("byte order", "0") == "1" else "<"
        offset = int(fields.get("header offset", "0"))
    except (KeyError, ValueError) as exc:
        raise InvalidInput(str(header), f"incomplete ENVI header: {exc}") from None
    if int(fields.get("bands", "1")) != 1:
        raise InvalidInput(str(header), "only single-band ENVI rasters are read")
    data = np.fromfile(img, dtype=np.dtype(order + code), count=rows * cols, offset=offset)
    if data.size != rows * cols:
        raise InvalidInput(str(img), f"{data.size} values, the header says {rows * cols}")
    return data.reshape(rows, cols)


def open_dimap(dim: Path, names: list[str] | None = None) -> Any:
    """The product's bands as an ``xarray.Dataset`` in physical units (scaling applied).

    Each variable keeps its wavelength, unit and description as attributes; coordinates are the
    pixel (``x``) and line (``y``) numbers, since the product is in satellite geometry with
    tie-point grids rather than a map grid.
    """
    import xarray as xr

    described = read_bands(dim)
    data_dir = dim.with_suffix(".data")
    if not data_dir.is_dir():  # a data package keeps a product's files side by side
        data_dir = dim.parent
    chosen = names or [n for n in described if (data_dir / f"{n}.img").is_file()]
    variables = {}
    for name in chosen:
        if name not in described:
            raise NotFound("band", f"{name} in {dim.name}")
        band = described[name]
        raw = read_envi(data_dir / f"{name}.img").astype(np.float64)
        physical = raw * band.scale + band.offset
        variables[name] = xr.DataArray(
            physical.astype(np.float32),
            dims=("y", "x"),
            attrs={
                "wavelength": band.wavelength,
                "units": band.unit,
                "long_name": band.description,
            },
        )
    return xr.Dataset(variables)


def read_flag_coding(dim: Path, band: str = "l1_flags") -> dict[str, int]:
    """The bit mask of each flag of a flag band, from the ``.dim`` header's ``Flag_Coding``.

    MERIS L1b: LAND_OCEAN (16) is set over land, COASTLINE (64), BRIGHT (32), INVALID (128) ...
    """
    if not dim.is_file():
        raise NotFound("BEAM-DIMAP header", str(dim))
    try:
        root = ElementTree.parse(dim).getroot()  # noqa: S314  (see eo.safe: expat, no lxml)
    except ElementTree.ParseError as exc:
        raise InvalidInput(str(dim), f"not XML: {exc}") from None
    for coding in root.iter("Flag_Coding"):
        if coding.get("name") == band:
            return {
                flag.findtext("Flag_Name") or "": int(flag.findtext("Flag_Index") or 0)
                for flag in coding.iter("Flag")
            }
    raise NotFound("flag coding", f"{band} in {dim.name}")


def flagged(flags: Any, coding: dict[str, int], *names: str) -> Any:
    """True where any of the named flags is set (``flags``: the flag band, numpy or xarray)."""
    mask = 0
    for name in names:
        if name not in coding:
            raise NotFound("flag", name)
        mask |= coding[name]
    bits = flags.astype(np.int64) if hasattr(flags, "astype") else np.asarray(flags, np.int64)
    return (bits & mask) != 0
