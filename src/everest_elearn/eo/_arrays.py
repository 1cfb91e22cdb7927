"""Shared helpers: keep an xarray result's coordinates when a numpy algorithm worked on it."""

from __future__ import annotations

from typing import Any, TypeVar

import numpy as np
import numpy.typing as npt

A = TypeVar("A")

Float = npt.NDArray[np.float64]


def values(array: Any) -> Float:
    """The float64 pixels of a numpy array or an xarray DataArray."""
    return np.asarray(getattr(array, "values", array), dtype=np.float64)


def like(result: Float, template: A) -> A:
    """``result`` with the dims, coords and attrs of ``template`` when it is a DataArray."""
    copy = getattr(template, "copy", None)
    if copy is not None and hasattr(template, "dims"):
        out: A = copy(data=result)
        return out
    return result  # type: ignore[return-value]
