"""Products whose pixels are on no map grid, so an ODC dataset would place them wrongly.

An eo3 dataset is a grid: a CRS and one affine transform per raster. A product geolocated by
tie-point grids (a BEAM-DIMAP ``.dim`` with ``Geoposition_Points``, as MERIS and OLCI L1b are)
is in satellite geometry: the ground distance between pixels changes across the swath and the
terrain corrections bend it, and a package does not even carry the latitude/longitude grids a fit
would need. (On the course's MERIS FR subset, 221 x 184 pixels, the best affine fit misses its
tie points by up to 0.7 pixel, RMS 0.36, before any terrain correction.) Such products stay in
the package as files, indexed nowhere, and the build says how to read them.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from xml.etree import ElementTree

TIE_POINTS = "tie-point geocoding, not a regular grid; read with everest_elearn.eo.dimap.open_dimap"


def _tie_point_geocoded(dim: Path) -> bool:
    try:
        root = ElementTree.parse(dim).getroot()  # noqa: S314  (expat, no external entities)
    except (OSError, ElementTree.ParseError):
        return False
    return root.find("Geoposition/Geoposition_Points/TIE_POINT_GRID_NAME_LAT") is not None


def not_gridded(paths: Iterable[Path]) -> tuple[Path, str] | None:
    """The header file and the reason when a product's files are not on a map grid (blocks)."""
    for path in paths:
        if path.suffix.lower() == ".dim" and _tie_point_geocoded(path):
            return path, TIE_POINTS
    return None
