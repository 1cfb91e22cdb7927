"""Notebook-side helpers: where a mounted package is, loading a product on its own grid, results.

The notebooks run in the notebook image (ODC, xarray) on the packages mounted read-only under
``$EVEREST_DATA_ROOT/<package>``; ``datacube.Datacube()`` reads ``ODC_DEFAULT_DB_URL``.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from everest_elearn.errors import NotFound

RESULTS_PREFIX = "EVEREST_RESULTS "


def package_dir(package: str, data_root: str | None = None) -> Path:
    """The folder a package is mounted at (``$EVEREST_DATA_ROOT/<package>``, ``~/data`` default)."""
    root = Path(data_root or os.environ.get("EVEREST_DATA_ROOT", "~/data")).expanduser()
    folder = root / package
    if not folder.is_dir():
        raise NotFound("mounted package", str(folder))
    return folder


def find_file(folder: Path, pattern: str) -> Path:
    """The first file under ``folder`` whose name matches ``pattern`` (sorted, so stable)."""
    found = sorted(folder.rglob(pattern))
    if not found:
        raise NotFound("file", f"{pattern} under {folder}")
    return found[0]


def native_grid(dataset: Any) -> Any:
    """The odc-geo GeoBox of an indexed eo3 dataset's default grid."""
    from affine import Affine
    from odc.geo.geobox import GeoBox

    grid = dataset.metadata_doc["grids"]["default"]
    return GeoBox(tuple(grid["shape"]), Affine(*grid["transform"][:6]), dataset.crs)


def load_native(
    dc: Any,
    product: str,
    measurements: list[str] | None = None,
    package: Path | None = None,
    **query: Any,
) -> Any:
    """``dc.load`` of ``product`` on the grid its (first) dataset was produced on: no resampling.

    ``package``: keep only datasets whose files are in that mounted package (the index may hold
    the same product from packages this container does not mount). ``query`` is any
    ``dc.find_datasets`` search (``time=``, ``x=``, ``y=``, ...).
    """
    datasets = dc.find_datasets(product=product, **query)
    if package is not None:
        prefix = package.resolve().as_uri() + "/"
        datasets = [d for d in datasets if str(d.uri).startswith(prefix)]
    if not datasets:
        raise NotFound("datasets", f"{product} matching {query} in {package or 'the index'}")
    datasets = sorted(datasets, key=lambda d: d.center_time)
    return dc.load(datasets=datasets, measurements=measurements, like=native_grid(datasets[0]))


def report(results: dict[str, Any]) -> None:
    """Print the module's results on one line that ``modules validate`` and the tests read."""
    print(RESULTS_PREFIX + json.dumps(results, sort_keys=True, default=float))
