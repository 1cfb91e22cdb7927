"""Reading the real SAFE packages: manifest, annotation, geolocation grid."""

from __future__ import annotations

import shutil
import zipfile
from pathlib import Path

import numpy as np
import pytest

from everest_elearn.eo.safe import Safe
from everest_elearn.errors import InvalidInput, NotFound


def test_manifest_says_what_the_product_is(safe_zip: Path) -> None:
    m = Safe(safe_zip).manifest()
    assert m["family"] == "SENTINEL-1" and m["number"] == "A"
    assert m["instrument_mode"] == "IW" and m["product_type"] == "GRD"
    assert m["pass"] == "ASCENDING" and m["relative_orbit"] == "117"
    assert m["orbit_start"] == "4739"
    assert m["start_time"].startswith("2015-02-22T17:07:25")
    assert len(m["coordinates"].split()) == 4


def test_annotation_fields_and_grid(safe_zip: Path) -> None:
    safe = Safe(safe_zip)
    assert safe.polarisations == ["VH", "VV"]
    a = safe.annotation("vv")
    assert (a.lines, a.samples) == (16685, 25357)
    assert a.fields["projection"] == "Ground Range"
    assert float(a.fields["range_pixel_spacing_m"]) == pytest.approx(10.0)
    assert float(a.fields["radar_frequency_hz"]) == pytest.approx(5.405e9, rel=1e-4)
    assert a.grid.line.size == 210
    assert 29 < a.grid.incidence.min() < 32 and 45 < a.grid.incidence.max() < 47
    assert np.all((a.grid.latitude > 48) & (a.grid.latitude < 51))


def test_folder_and_zip_read_the_same(tmp_path: Path, safe_zip: Path) -> None:
    with zipfile.ZipFile(safe_zip) as archive:
        archive.extractall(tmp_path)
    folder = next(tmp_path.glob("*.SAFE"))
    assert Safe(folder).manifest() == Safe(safe_zip).manifest()
    assert (
        Safe(folder).calibration("VH").lines.tolist()
        == Safe(safe_zip).calibration("VH").lines.tolist()
    )


def test_missing_and_broken_packages_are_named(tmp_path: Path, safe_zip: Path) -> None:
    with pytest.raises(NotFound):
        Safe(tmp_path / "nothing.zip")
    broken = tmp_path / "broken.zip"
    broken.write_bytes(b"not a zip")
    with pytest.raises(InvalidInput) as err:
        Safe(broken)
    assert err.value.where == str(broken)
    copy = tmp_path / safe_zip.name
    shutil.copy(safe_zip, copy)
    with pytest.raises(NotFound):
        Safe(copy).annotation("HH")
