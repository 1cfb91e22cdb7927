"""Spectral indices on reference reflectances, computed by hand."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr

from everest_elearn.eo import indices

# Typical surface reflectances: dense green vegetation and clear water (Sentinel-2 L2A x 1e-4).
VEG = {"blue": 0.035, "green": 0.07, "red": 0.04, "nir": 0.38, "swir1": 0.19, "swir2": 0.09}
WATER = {"blue": 0.06, "green": 0.075, "red": 0.045, "nir": 0.02, "swir1": 0.008, "swir2": 0.005}


def test_vegetation_indices_by_hand() -> None:
    v = VEG
    assert indices.ndvi(np.float64(v["nir"]), np.float64(v["red"])) == pytest.approx(0.34 / 0.42)
    assert indices.evi(
        np.float64(v["nir"]), np.float64(v["red"]), np.float64(v["blue"])
    ) == pytest.approx(2.5 * 0.34 / (0.38 + 0.24 - 0.2625 + 1))
    assert indices.savi(np.float64(v["nir"]), np.float64(v["red"])) == pytest.approx(
        1.5 * 0.34 / 0.92
    )
    assert indices.nbr(np.float64(v["nir"]), np.float64(v["swir2"])) == pytest.approx(0.29 / 0.47)
    assert indices.ndmi(np.float64(v["nir"]), np.float64(v["swir1"])) == pytest.approx(0.19 / 0.57)


def test_water_indices_by_hand_and_sign() -> None:
    w = WATER
    assert indices.ndwi(np.float64(w["green"]), np.float64(w["nir"])) == pytest.approx(
        0.055 / 0.095
    )
    assert indices.mndwi(np.float64(w["green"]), np.float64(w["swir1"])) == pytest.approx(
        0.067 / 0.083
    )
    assert indices.ndvi(np.float64(w["nir"]), np.float64(w["red"])) < 0
    assert indices.mndwi(np.float64(VEG["green"]), np.float64(VEG["swir1"])) < 0


def test_zero_denominators_are_nan_for_numpy_and_xarray() -> None:
    zero = np.zeros(3)
    assert np.isnan(indices.ndvi(zero, zero)).all()
    da = xr.DataArray([0.0, 0.3], dims="x", coords={"x": [10, 20]})
    out = indices.ndvi(da, xr.zeros_like(da))
    assert np.isnan(out.values[0]) and out.values[1] == 1.0
    assert out.x.values.tolist() == [10, 20]


def test_indices_on_a_dataset_of_scaled_integers() -> None:
    ds = xr.Dataset(
        {
            "B04": ("x", np.array([400], dtype=np.uint16)),
            "B08": ("x", np.array([3800], dtype=np.uint16)),
        }
    )
    red, nir = ds.B04 * 1e-4, ds.B08 * 1e-4
    assert float(indices.ndvi(nir, red)[0]) == pytest.approx(3400 / 4200)
