"""Speckle filters: properties on uniform areas and at edges."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr

from everest_elearn.eo.speckle import box, enl_estimate, lee, refined_lee
from everest_elearn.errors import InvalidInput

ENL = 4.4


def speckled(shape: tuple[int, int], level: float = 0.1, seed: int = 3) -> np.ndarray:
    return level * np.random.default_rng(seed).gamma(ENL, 1 / ENL, shape)


def step(shape: tuple[int, int] = (64, 64), low: float = 0.01, high: float = 0.2) -> np.ndarray:
    image = np.full(shape, low)
    image[:, shape[1] // 2 :] = high
    return image


@pytest.mark.parametrize("filt", [lee, refined_lee])
def test_a_constant_image_is_unchanged(filt: object) -> None:
    image = np.full((32, 32), 0.05)
    assert np.allclose(filt(image), image)  # type: ignore[operator]


@pytest.mark.parametrize("filt", [lee, refined_lee])
def test_uniform_speckle_keeps_its_mean_and_gains_looks(filt: object) -> None:
    image = speckled((200, 200))
    assert enl_estimate(image) == pytest.approx(ENL, rel=0.05)
    out = filt(image)  # type: ignore[operator]
    inner = out[10:-10, 10:-10]
    assert inner.mean() == pytest.approx(image.mean(), rel=0.02)
    assert enl_estimate(inner) > 4 * ENL


def test_refined_lee_keeps_a_clean_edge_exactly_where_the_box_filter_blurs_it() -> None:
    image = step()
    assert np.allclose(refined_lee(image), image)
    blurred = box(image, 7)
    assert not np.allclose(blurred[:, 29:35], image[:, 29:35])


def test_lee_smooths_an_edge_less_than_the_box_filter() -> None:
    image = step()
    edge = slice(29, 35)
    lee_error = np.abs(lee(image, 7)[:, edge] - image[:, edge]).mean()
    box_error = np.abs(box(image, 7)[:, edge] - image[:, edge]).mean()
    assert lee_error < box_error


def test_refined_lee_keeps_a_speckled_edge_sharper_than_lee() -> None:
    image = step() * np.random.default_rng(5).gamma(ENL, 1 / ENL, (64, 64))
    truth = step()
    edge = slice(30, 34)
    refined = np.abs(refined_lee(image)[:, edge] - truth[:, edge]).mean()
    plain = np.abs(box(image, 7)[:, edge] - truth[:, edge]).mean()
    assert refined < plain


def test_nan_pixels_stay_nan_and_do_not_spread() -> None:
    image = speckled((40, 40))
    image[20, 20] = np.nan
    for out in (lee(image), refined_lee(image)):
        assert np.isnan(out[20, 20])
        assert np.isfinite(np.delete(out.ravel(), 20 * 40 + 20)).all()


def test_dataarray_keeps_its_coordinates() -> None:
    data = xr.DataArray(
        speckled((16, 16)), dims=("y", "x"), coords={"y": np.arange(16), "x": np.arange(16) * 10}
    )
    out = lee(data)
    assert isinstance(out, xr.DataArray) and out.x.values[1] == 10


def test_even_windows_are_refused() -> None:
    with pytest.raises(InvalidInput) as err:
        lee(np.ones((8, 8)), size=4)
    assert err.value.where == "size"
