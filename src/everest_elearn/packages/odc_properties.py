"""eo3 ``properties`` of a dataset from its catalogue records, and the metadata type searching them.

The catalogue keeps OGC 13-026 names (``orbitDirection``, ``track``, ``cloudCover``, ...); eo3
documents use the eo3/STAC names (``sat:orbit_state``, ``sat:relative_orbit``, ``eo:cloud_cover``).
Only what the records state is written, typed as the STAC extensions say: integers for orbits,
a lower-case orbit state, a list of polarisations. A product record's own value wins over its
collection's (a collection-level value holds for all its products).

:data:`METADATA_TYPE` is datacube's ``eo3`` metadata type plus search fields for the orbit and the
SAR mode, so ``dc.find_datasets(product=..., orbit_state="descending", relative_orbit=110)``
works; eo3's own fields (``platform``, ``instrument``, ``cloud_cover``, ``region_code``, ``time``,
``lat``, ``lon``) keep their names.
"""

from __future__ import annotations

import contextlib
import copy
import math
import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from everest_elearn.catalogue.model import Record

METADATA_TYPE = "eo3_everest"
_EXTRA_FIELDS: dict[str, dict[str, Any]] = {
    "orbit_state": {"description": "Orbit direction: ascending or descending",
                    "offset": ["properties", "sat:orbit_state"]},
    "relative_orbit": {"description": "Relative orbit (track) number", "type": "integer",
                       "offset": ["properties", "sat:relative_orbit"]},
    "absolute_orbit": {"description": "Absolute orbit number", "type": "integer",
                       "offset": ["properties", "sat:absolute_orbit"]},
    "instrument_mode": {"description": "SAR instrument mode (IW, EW, SM, ...)",
                        "offset": ["properties", "sar:instrument_mode"]},
}  # fmt: skip
# Plain numbers: catalogue field -> (eo3 name, type).
_NUMBERS: dict[str, tuple[str, type]] = {
    "orbitNumber": ("sat:absolute_orbit", int),
    "track": ("sat:relative_orbit", int),
    "cloudCover": ("eo:cloud_cover", float),
    "snowCover": ("eo:snow_cover", float),
    "illuminationAzimuthAngle": ("view:sun_azimuth", float),
    "illuminationElevationAngle": ("view:sun_elevation", float),
}
_ORBIT_STATES = {"ascending", "descending", "geostationary"}  # STAC sat:orbit_state values
_LOOK_DIRECTIONS = {"left", "right"}
_SERIAL = re.compile(r"^[A-Za-z0-9]{1,2}$")  # "A", "2B": a unit letter STAC appends to the platform


def metadata_type_definition(eo3: Mapping[str, Any]) -> dict[str, Any]:
    """:data:`METADATA_TYPE` built on the index's own ``eo3`` definition (so it follows datacube)."""
    doc = copy.deepcopy(dict(eo3))
    doc["name"] = METADATA_TYPE
    doc["description"] = "eo3 with orbit and SAR search fields (everest-elearn packages)"
    fields = doc.setdefault("dataset", {}).setdefault("search_fields", {})
    # Not indexed: package indexes are small, and each index costs a build on every product.
    fields.update({name: {**spec, "indexed": False} for name, spec in _EXTRA_FIELDS.items()})
    return doc


def _number(value: Any, kind: type) -> int | float | None:
    if isinstance(value, bool):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    if not math.isfinite(number):
        return None
    if kind is int:
        return int(number) if number.is_integer() else None
    return number


def _word(value: Any, allowed: set[str]) -> str | None:
    text = str(value or "").strip().lower()
    return text if text in allowed else None


def _platform(props: Mapping[str, Any]) -> str | None:
    platform = str(props.get("platform") or "").strip()
    if not platform:
        return None
    serial = str(props.get("platformSerialIdentifier") or "").strip()
    # STAC and eo3 name the unit: "sentinel-1a"; a longer serial ("S1A") is not appended.
    if _SERIAL.match(serial) and not platform.lower().endswith(serial.lower()):
        platform += serial
    return platform.lower()


def _region_code(props: Mapping[str, Any], stac: Mapping[str, Any]) -> str | None:
    """A tile id (MGRS) when the record has one, else track/frame as ODC writes path/row."""
    tile = stac.get("s2:mgrs_tile") or str(stac.get("grid:code") or "").removeprefix("MGRS-")
    for prefix in () if tile else ("mgrs", "sentinel"):
        zone, band, square = (
            stac.get(f"{prefix}:{k}") for k in ("utm_zone", "latitude_band", "grid_square")
        )
        number = _number(zone, int)
        if number is not None and band and square:
            tile = f"{number:02d}{band}{square}"
            break
    if tile:
        return str(tile)
    track = _number(props.get("track"), int)
    frame = _number(props.get("frame"), int)
    if track is None:
        return None
    return f"{track:03d}{frame:03d}" if frame is not None else f"{track:03d}"


def eo3_properties(collection: Record, record: Record, crs: str) -> dict[str, Any]:
    """The eo3/STAC properties the records state, for a dataset whose files use ``crs``."""
    props = {**collection.properties, **record.properties}
    stac = record.extra.get("stac")
    stac_props = stac.get("properties") if isinstance(stac, Mapping) else None
    stac_props = stac_props if isinstance(stac_props, Mapping) else {}
    out: dict[str, Any] = {}
    platform = _platform(props)
    if platform:
        out["eo:platform"] = platform
    if props.get("instrument"):
        out["eo:instrument"] = str(props["instrument"]).strip().lower()
    for field, (name, kind) in _NUMBERS.items():
        value = _number(props.get(field), kind)
        if value is not None:
            out[name] = value
    state = _word(props.get("orbitDirection"), _ORBIT_STATES)
    if state:
        out["sat:orbit_state"] = state
    look = _word(props.get("antennaLookDirection"), _LOOK_DIRECTIONS)
    if look:
        out["sar:observation_direction"] = look
    channels = props.get("polarisationChannels")
    if channels:
        listed = channels if isinstance(channels, list) else str(channels).split(",")
        out["sar:polarizations"] = [str(c).strip().upper() for c in listed if str(c).strip()]
    radar = str(props.get("sensorType") or "").upper() == "RADAR" or "sar:polarizations" in out
    if radar and props.get("sensorMode"):  # an optical "sensorMode" is no SAR instrument mode
        out["sar:instrument_mode"] = str(props["sensorMode"]).strip().upper()
    processed = props.get("processingDate")
    if processed:
        with contextlib.suppress(ValueError):  # a date the catalogue could not read is left out
            out["odc:processing_datetime"] = datetime.fromisoformat(str(processed)).isoformat()
    region = _region_code(props, stac_props)
    if region:
        out["odc:region_code"] = region
    if crs.startswith("epsg:"):
        out["proj:epsg"] = int(crs.removeprefix("epsg:"))
    return out
