"""How the generated course scenes relate to real products; light, so notebooks can import it.

The generated Sentinel-1 digital numbers were made through the REAL calibration LUT of
``SAFE_FOR_LUT``: row ``i`` and column ``j`` of a generated image stand for line
``LUT_ROW0 + LUT_ROW_STEP * i`` and pixel ``LUT_COL0 + LUT_COL_STEP * j`` of that product.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

SAFE_FOR_LUT = "S1A_IW_GRDH_1SDV_20150222T170725_20150222T170750_004739_005DD8_CEAB"
LUT_ROW0, LUT_ROW_STEP, LUT_COL0, LUT_COL_STEP = 4000, 10, 2000, 40
# Land cover codes of the generated Nsanje scenes.
LAND, RIVER, FLOODPLAIN, SHADOW, SMOOTH, URBAN = 0, 1, 2, 3, 4, 5
LANDCOVER = {"land": LAND, "river": RIVER, "floodplain": FLOODPLAIN, "radar shadow": SHADOW,
             "smooth surface": SMOOTH, "urban": URBAN}  # fmt: skip


def lut_rows_cols(
    shape: tuple[int, int],
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """Lines and pixels of the real product that a generated image's rows and columns stand for."""
    rows = LUT_ROW0 + LUT_ROW_STEP * np.arange(shape[0], dtype=np.float64)
    cols = LUT_COL0 + LUT_COL_STEP * np.arange(shape[1], dtype=np.float64)
    return rows, cols
