"""MCI and FLH against hand-computed values, on numbers and on the real MERIS subset."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from everest_elearn.eo.dimap import flagged, open_dimap, read_bands, read_flag_coding
from everest_elearn.eo.ocean import MERIS_MCI, flh, from_bands, line_height, mci
from everest_elearn.errors import NotFound


def test_hand_computed_line_heights() -> None:
    # FLH: 681.25 above the 665..708.75 line; fraction = 16.25 / 43.75.
    assert flh(14.0, 13.0, 10.0) == pytest.approx(13.0 - (14.0 + (10.0 - 14.0) * 16.25 / 43.75))
    # MCI: 708.75 above the 681.25..753.75 line; fraction = 27.5 / 72.5.
    assert mci(10.0, 12.0, 6.0) == pytest.approx(12.0 - (10.0 + (6.0 - 10.0) * 27.5 / 72.5))


def test_a_straight_spectrum_has_no_line_height() -> None:
    wl = np.array([665.0, 681.25, 708.75])
    radiance = 40.0 - 0.05 * wl
    assert line_height(*radiance, *wl) == pytest.approx(0.0, abs=1e-12)


def test_meris_subset_bands_and_one_pixel_by_hand(fixtures: Path) -> None:
    dim = fixtures / "meris" / "MER_FRS_L1B_SUBSET.dim"
    bands = read_bands(dim)
    assert len(bands) >= 15
    assert bands["radiance_9"].wavelength == pytest.approx(708.32904)
    ds = open_dimap(dim, ["radiance_8", "radiance_9", "radiance_10"])
    assert ds.radiance_9.shape == (184, 221)
    raw = float(
        np.fromfile(dim.with_suffix(".data") / "radiance_9.img", ">u2").reshape(184, 221)[100, 100]
    )
    assert float(ds.radiance_9[100, 100]) == pytest.approx(raw * 0.006308972369879484, rel=1e-6)
    l8, l9, l10 = (float(ds[b][100, 100]) for b in ("radiance_8", "radiance_9", "radiance_10"))
    w8, w9, w10 = (bands[b].wavelength for b in ("radiance_8", "radiance_9", "radiance_10"))
    expected = l9 - (l8 + (l10 - l8) * (w9 - w8) / (w10 - w8))
    got = line_height(ds.radiance_8, ds.radiance_9, ds.radiance_10, w8, w9, w10)
    assert float(got[100, 100]) == pytest.approx(expected, abs=1e-4)  # float32 pixels
    nominal = from_bands(ds, MERIS_MCI)
    assert np.isfinite(nominal.values).all()


def test_meris_flags_from_the_header_separate_land_and_ocean(fixtures: Path) -> None:
    dim = fixtures / "meris" / "MER_FRS_L1B_SUBSET.dim"
    coding = read_flag_coding(dim)
    assert coding["LAND_OCEAN"] == 16 and coding["INVALID"] == 128 and coding["COASTLINE"] == 64
    raw = np.fromfile(dim.with_suffix(".data") / "l1_flags.img", ">u1").reshape(184, 221)
    ds = open_dimap(dim, ["l1_flags", "radiance_13"])
    land = flagged(ds.l1_flags, coding, "LAND_OCEAN")
    assert land.dims == ("y", "x")
    assert int(land.sum()) == int(((raw & 16) > 0).sum()) == 26871  # two thirds of the subset
    sea = ~flagged(ds.l1_flags, coding, "LAND_OCEAN", "COASTLINE", "BRIGHT", "INVALID")
    assert int(sea.sum()) == 13793
    # Water is dark at 865 nm: TOA radiance of the sea about 37, of the land about 59.
    assert float(ds.radiance_13.where(sea).median()) == pytest.approx(36.8, abs=0.1)
    assert float(ds.radiance_13.where(land).median()) == pytest.approx(58.6, abs=0.1)
    with pytest.raises(NotFound):
        flagged(ds.l1_flags, coding, "CLOUD")
