"""dB conversions and sigma0 calibration through the real Sentinel-1 calibration LUT."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from everest_elearn.eo.radiometry import calibrate, from_db, gamma0_from_sigma0, to_db
from everest_elearn.eo.safe import Safe


def test_db_round_trip_and_non_positive_values() -> None:
    linear = np.array([1.0, 0.1, 0.01, 0.0, -1.0])
    db = to_db(linear)
    assert db[:3] == pytest.approx([0.0, -10.0, -20.0])
    assert np.isnan(db[3:]).all()
    assert from_db(db[:3]) == pytest.approx(linear[:3])


def test_gamma0_is_sigma0_over_cosine_of_incidence() -> None:
    assert gamma0_from_sigma0(np.array([0.5]), np.array([60.0]))[0] == pytest.approx(1.0)


def test_lut_nodes_are_the_annotated_values(safe_zip: Path) -> None:
    lut = Safe(safe_zip).calibration("VV")
    assert lut.tables["sigmaNought"].shape == (27, 635)
    assert lut.lines[:3].tolist() == [0, 667, 1335]
    assert lut.pixels[:3].tolist() == [0, 40, 80]
    a = lut.interpolate([0, 667], [0, 40])
    assert a[0, 0] == pytest.approx(664.0036)
    assert a[0, 1] == pytest.approx(663.7284)
    assert a[1, 0] == pytest.approx(lut.tables["sigmaNought"][1, 0])


def test_lut_is_linear_between_nodes(safe_zip: Path) -> None:
    lut = Safe(safe_zip).calibration("VV")
    a = lut.interpolate([0], [20])[0, 0]
    assert a == pytest.approx((664.0036 + 663.7284) / 2)
    t = lut.tables["sigmaNought"]
    mid = lut.interpolate([(0 + 667) / 2], [0])[0, 0]
    assert mid == pytest.approx((t[0, 0] + t[1, 0]) / 2)


def test_sigma0_from_dn_through_the_lut(safe_zip: Path) -> None:
    lut = Safe(safe_zip).calibration("VV")
    a = lut.interpolate(np.arange(100, 110), np.arange(2000, 2010))
    # DN equal to A is sigma0 = 1 (0 dB); DN = A / sqrt(10) is -10 dB.
    assert np.allclose(calibrate(a, a), 1.0)
    assert np.allclose(to_db(calibrate(a / np.sqrt(10), a)), -10.0)
    # beta0 has a constant LUT in these products (474): beta0 = DN^2 / 474^2.
    beta = lut.interpolate([100], [2000], "betaNought")[0, 0]
    assert beta == pytest.approx(474.0)
    assert calibrate(np.array([474.0]), np.array([beta]))[0] == pytest.approx(1.0)


def test_noise_vectors_are_read_on_their_grid_and_subtracted(safe_zip: Path) -> None:
    safe = Safe(safe_zip)
    noise = safe.noise("VV")
    assert noise.tables["noiseLut"].shape == (27, 635)
    assert noise.lines[:3].tolist() == [0, 667, 1334]  # its own lines, not the calibration's
    # These 2015 products (IPF 002.36) carry noise vectors that are zero everywhere.
    assert safe.manifest()["software"].endswith("002.36")
    assert not noise.tables["noiseLut"].any()
    # sigma0 = (DN^2 - N) / A^2; power below the noise is no signal (0), never negative.
    a = np.array([500.0, 500.0, 500.0])
    n = np.array([2500.0, 2500.0, 2500.0])  # noise-equivalent sigma0 = 0.01 (-20 dB)
    dn = np.sqrt(a**2 * np.array([0.1, 0.01, 0.0]) + n)
    assert calibrate(dn, a, n) == pytest.approx([0.1, 0.01, 0.0])
    assert calibrate(np.array([10.0]), np.array([500.0]), np.array([2500.0]))[0] == 0.0
    zero = noise.interpolate(np.arange(100, 103), np.arange(2000, 2003), "noiseLut")
    lut = safe.calibration("VV").interpolate(np.arange(100, 103), np.arange(2000, 2003))
    assert np.array_equal(calibrate(lut, lut, zero), calibrate(lut, lut))
