"""What the course data generators share: the scenes' grid and the truth bands' description."""

from __future__ import annotations

from typing import Any

SHAPE = (192, 192)
NAN = float("nan")


def u8_band(name: str, nodata: int = 255) -> dict[str, Any]:
    """A uint8 band of a collection (truth, masks, class ids)."""
    return {"name": name, "dtype": "uint8", "nodata": nodata, "units": "1"}
