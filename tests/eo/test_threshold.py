"""Otsu's threshold on samples with a known split and on the real fixtures."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import rasterio
import xarray as xr

from everest_elearn.eo.change import score
from everest_elearn.eo.threshold import below, otsu
from everest_elearn.errors import InvalidInput


def test_symmetric_bimodal_sample_splits_half_way_between_the_modes() -> None:
    rng = np.random.default_rng(1)
    sample = np.concatenate([rng.normal(-22, 1.5, 50_000), rng.normal(-10, 1.5, 50_000)])
    assert otsu(sample) == pytest.approx(-16.0, abs=0.3)


def test_two_values_split_between_them_and_nan_is_ignored() -> None:
    image = np.array([[1.0, 1.0, np.nan], [5.0, 5.0, np.inf]])
    t = otsu(image)
    assert 1.0 <= t < 5.0
    assert below(image, t).tolist() == [[True, True, False], [False, False, False]]


def test_dataarray_is_accepted() -> None:
    data = xr.DataArray(np.r_[np.zeros(100), np.ones(100) * 10].reshape(20, 10), dims=("y", "x"))
    assert 0 <= otsu(data) < 10


@pytest.mark.parametrize("image", [np.full((4, 4), np.nan), np.full((3, 3), 2.0)])
def test_nothing_to_split_is_a_clear_error(image: np.ndarray) -> None:
    with pytest.raises(InvalidInput) as err:
        otsu(image)
    assert err.value.where == "image"


def test_sen1floods11_chip_matches_the_published_figures(fixtures: Path) -> None:
    folder = fixtures / "rasters" / "sen1floods11"
    with rasterio.open(folder / "Spain_7370579_S1Hand.tif") as src:
        vv, vh = src.read(1), src.read(2)
    with rasterio.open(folder / "Spain_7370579_LabelHand.tif") as src:
        label = src.read(1)
    t_vh, t_vv = otsu(vh), otsu(vv)
    assert t_vh == pytest.approx(-21.82, abs=0.01)
    assert t_vv == pytest.approx(-13.77, abs=0.01)
    valid = label >= 0
    assert score(vh <= t_vh, label == 1, valid).iou == pytest.approx(0.57, abs=0.01)
    assert score(vv <= t_vv, label == 1, valid).iou == pytest.approx(0.57, abs=0.01)


def test_pyrosar_scene_threshold(fixtures: Path) -> None:
    path = (
        fixtures / "rasters" / "pyrosar" / "S1A__IW___A_20150309T173017_VV_grd_mli_geo_norm_db.tif"
    )
    with rasterio.open(path) as src:
        db = src.read(1).astype(np.float64)
        db[db == src.nodata] = np.nan
    assert otsu(db) == pytest.approx(-14.09, abs=0.01)
