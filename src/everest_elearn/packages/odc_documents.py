"""Open Data Cube documents: eo3 product definitions from catalogue collections, dataset documents
from a product's files.

Bands come from the collection record's ``extra``, in the first of these forms found:

- ``bands`` (or ``measurements``): a list of names or of dicts ``{name, dtype, nodata, units,
  aliases, asset, band}`` -- the project's own form; ``asset`` is the key of the file holding the
  band (default: the band's name) and ``band`` its 1-based index in that file (default 1);
- STAC ``item_assets``: one band per single-band asset (named after the asset), or one per entry of
  the asset's ``eo:bands``/``raster:bands`` for multi-band files;
- STAC ``eo:bands``/``raster:bands`` lists, top level or under ``summaries``.

Dataset documents point at the files where containers mount the package
(``<mount_root>/<package>/<path in package>``); grids, transforms and the CRS are read from the
files with rasterio. These functions block (file reads): callers on an event loop use
:class:`everest_elearn.packages.datacube.DatacubeIndex`, which wraps them once.
"""

from __future__ import annotations

import posixpath
import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from everest_elearn.catalogue.model import Record
from everest_elearn.errors import InvalidInput
from everest_elearn.packages.odc_properties import METADATA_TYPE, eo3_properties

# Stable dataset ids: the same package, product and record always give the same UUID.
DATASET_NAMESPACE = uuid.UUID("6f1c2a4e-5d0b-4e53-9a57-3c1f6a9b2e10")
DTYPES = {
    "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64",
    "float32", "float64", "complex64", "complex128",
}  # fmt: skip
_WORD = re.compile(r"[^0-9A-Za-z_]+")


@dataclass(frozen=True)
class Band:
    """One measurement of a product and where its pixels live in a dataset's files."""

    name: str
    dtype: str = "float32"
    nodata: float | int | str = "NaN"
    units: str = "1"
    aliases: tuple[str, ...] = ()
    asset: str = ""  # key of the file holding the band; "" = the band's name
    band: int = 1  # 1-based band index inside that file
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def asset_key(self) -> str:
        return self.asset or self.name

    def measurement(self) -> dict[str, Any]:
        doc: dict[str, Any] = {
            "name": self.name,
            "dtype": self.dtype,
            "nodata": self.nodata,
            "units": self.units,
        }
        if self.aliases:
            doc["aliases"] = list(self.aliases)
        doc.update(self.extra)
        return doc


def odc_name(text: str) -> str:
    """A name ODC accepts (``^\\w+$``) derived from an identifier: other characters become ``_``."""
    name = _WORD.sub("_", text).strip("_")
    if not name:
        raise InvalidInput("name", f"{text!r} has no letters or digits to name an ODC object")
    return name


def _nodata(value: Any, dtype: str) -> float | int | str:
    if value is None:
        # Floats conventionally mark nodata with NaN; integer rasters without one use 0.
        return "NaN" if dtype.startswith("float") else 0
    if isinstance(value, str):
        if value.lower() in {"nan", "inf", "-inf"}:
            return {"nan": "NaN", "inf": "Inf", "-inf": "-Inf"}[value.lower()]
        raise InvalidInput("nodata", f"{value!r} is not a number")
    if isinstance(value, float) and value != value:  # NaN is not JSON; ODC spells it "NaN"
        return "NaN"
    return value  # type: ignore[no-any-return]


def _band(raw: Any, where: str, **defaults: Any) -> Band:
    if isinstance(raw, str):
        raw = {"name": raw}
    if not isinstance(raw, Mapping) or not raw.get("name"):
        raise InvalidInput(where, "a band needs a name")
    merged = {**defaults, **{k: v for k, v in raw.items() if v is not None}}
    dtype = str(merged.get("dtype") or merged.get("data_type") or "float32")
    if dtype not in DTYPES:
        raise InvalidInput(where, f"data type {dtype!r} is not one of {sorted(DTYPES)}")
    name = odc_name(str(merged["name"]))
    aliases = [str(a) for a in merged.get("aliases", [])]
    for alias in (merged.get("common_name"), str(merged["name"])):
        if alias and odc_name(alias) != name and odc_name(alias) not in aliases:
            aliases.append(odc_name(alias))
    extra = {k: merged[k] for k in ("scale_factor", "add_offset") if k in merged}
    return Band(
        name=name,
        dtype=dtype,
        nodata=_nodata(merged.get("nodata"), dtype),
        units=str(merged.get("units") or merged.get("unit") or "1"),
        aliases=tuple(aliases),
        asset=str(merged.get("asset") or ""),
        band=int(merged.get("band") or 1),
        extra=extra,
    )


def _from_asset(key: str, asset: Mapping[str, Any]) -> list[Band]:
    eo = list(asset.get("eo:bands") or [])
    raster = list(asset.get("raster:bands") or [])
    count = max(len(eo), len(raster), 1)
    bands = []
    for i in range(count):
        eo_i = eo[i] if i < len(eo) else {}
        raster_i = raster[i] if i < len(raster) else {}
        name = key if count == 1 else str(eo_i.get("name") or f"{key}_{i + 1}")
        raw = {**raster_i, **eo_i, "name": name, "asset": key, "band": i + 1}
        bands.append(_band(raw, f"item_assets.{key}"))
    return bands


def bands_of(collection: Record) -> list[Band]:
    """The bands of a collection, from its record's ``extra`` (see the module docstring)."""
    extra = collection.extra
    where = f"collection {collection.identifier}"
    listed = extra.get("bands") or extra.get("measurements")
    bands: list[Band] = []
    if listed:
        bands = [_band(b, f"{where}: bands[{i}]") for i, b in enumerate(listed)]
    elif isinstance(extra.get("item_assets"), Mapping):
        data = [
            (str(k), a)
            for k, a in extra["item_assets"].items()
            if "data" in (a.get("roles") or ["data"])
        ]
        # Single-band files first; a multi-band file (e.g. an RGB "visual") only adds bands that
        # no single-band file already provides.
        data.sort(
            key=lambda item: len(item[1].get("eo:bands") or item[1].get("raster:bands") or [0]) > 1
        )
        for key, asset in data:
            taken = {b.name for b in bands}
            bands.extend(b for b in _from_asset(key, asset) if b.name not in taken)
    else:
        source = extra.get("summaries") if "summaries" in extra else extra
        eo = list((source or {}).get("eo:bands") or [])
        raster = list((source or {}).get("raster:bands") or [])
        for i in range(max(len(eo), len(raster))):
            raw = {**(raster[i] if i < len(raster) else {}), **(eo[i] if i < len(eo) else {})}
            bands.append(_band(raw, f"{where}: eo:bands[{i}]"))
    if not bands:
        raise InvalidInput(where, "no band definitions (extra.bands, item_assets or eo:bands)")
    names = [b.name for b in bands]
    if len(set(names)) != len(names):
        raise InvalidInput(where, f"band names repeat: {names}")
    return bands


def product_definition(collection: Record, name: str | None = None) -> dict[str, Any]:
    """An eo3 product definition for ``collection``; its name defaults to the collection's id."""
    product = name or odc_name(collection.identifier)
    doc: dict[str, Any] = {
        "name": product,
        "description": (collection.title or collection.abstract or collection.identifier)[:250],
        "metadata_type": METADATA_TYPE,
        "metadata": {"product": {"name": product}},
        "measurements": [b.measurement() for b in bands_of(collection)],
    }
    licence = collection.properties.get("license") or collection.extra.get("license")
    if licence:
        doc["license"] = str(licence)
    return doc


def dataset_id(package: str, product: str, record: Record) -> uuid.UUID:
    """The dataset UUID of ``record`` in ``package`` (stable across rebuilds)."""
    return uuid.uuid5(DATASET_NAMESPACE, f"{package}/{product}/{record.identifier}")


def _grid_of(path: Path) -> tuple[str, tuple[int, int], tuple[float, ...], int]:
    import rasterio

    try:
        with rasterio.open(path) as src:
            if src.crs is None:
                raise InvalidInput(str(path.name), "the file has no CRS")
            crs = (
                src.crs.to_string().lower()
                if not src.crs.to_epsg()
                else f"epsg:{src.crs.to_epsg()}"
            )
            t = src.transform
            return (
                crs,
                (src.height, src.width),
                (t.a, t.b, t.c, t.d, t.e, t.f, 0.0, 0.0, 1.0),
                src.count,
            )
    except rasterio.errors.RasterioIOError as exc:
        raise InvalidInput(str(path.name), f"not a readable raster: {exc}") from exc


def dataset_document(
    collection: Record,
    record: Record,
    assets: Mapping[str, Path],
    *,
    package: str,
    package_dir: Path,
    mount_root: str,
    product: str | None = None,
) -> tuple[dict[str, Any], str]:
    """The eo3 document of ``record`` and its location URI as containers will see it.

    ``assets`` maps each band's asset key to the file on this host, inside ``package_dir``;
    the document's paths are relative to the location ``<mount_root>/<package>/...``.
    """
    product_name = product or odc_name(collection.identifier)
    where = f"product {record.identifier}"
    if record.start is None:
        raise InvalidInput(where, "a dataset needs an acquisition time (start)")
    bands = bands_of(collection)
    grids: dict[tuple[tuple[int, int], tuple[float, ...]], str] = {}
    crs_seen: set[str] = set()
    measurements: dict[str, Any] = {}
    first_file: str | None = None
    for band in bands:
        path = assets.get(band.asset_key)
        if path is None:
            raise InvalidInput(where, f"no file for band {band.name!r} (asset {band.asset_key!r})")
        try:
            relative = path.resolve().relative_to(package_dir.resolve()).as_posix()
        except ValueError as exc:
            raise InvalidInput(where, f"{path.name} is not inside the package folder") from exc
        crs, shape, transform, count = _grid_of(path)
        if band.band > count:
            raise InvalidInput(where, f"{path.name} has {count} band(s), not {band.band}")
        crs_seen.add(crs)
        grid = grids.setdefault((shape, transform), "default" if not grids else f"g{len(grids)}")
        first_file = first_file or relative
        entry: dict[str, Any] = {"path": relative}
        if band.band != 1 or count > 1:
            entry["band"] = band.band
        if grid != "default":
            entry["grid"] = grid
        measurements[band.name] = entry
    if len(crs_seen) != 1:
        raise InvalidInput(where, f"files use different CRSs: {sorted(crs_seen)}")
    assert first_file is not None
    # The (virtual) document sits beside the first file; measurement paths are relative to it.
    location_rel = posixpath.join(
        posixpath.dirname(first_file), f"{record.identifier}.odc-metadata.yaml"
    )
    for entry in measurements.values():
        entry["path"] = posixpath.relpath(entry["path"], posixpath.dirname(location_rel) or ".")
    crs = crs_seen.pop()
    properties: dict[str, Any] = {
        "datetime": record.start.isoformat(),
        "odc:file_format": "GeoTIFF",
        "everest:package": package,
        "everest:identifier": record.identifier,
    }
    if record.end and record.end != record.start:
        properties["dtr:start_datetime"] = record.start.isoformat()
        properties["dtr:end_datetime"] = record.end.isoformat()
    properties.update(eo3_properties(collection, record, crs))
    doc = {
        "$schema": "https://schemas.opendatacube.org/dataset",
        "id": str(dataset_id(package, product_name, record)),
        "label": record.identifier,
        "product": {"name": product_name},
        "crs": crs,
        "grids": {
            name: {"shape": list(shape), "transform": list(transform)}
            for (shape, transform), name in grids.items()
        },
        "measurements": measurements,
        "properties": properties,
        "lineage": {},
    }
    location = "file://" + posixpath.join(mount_root.rstrip("/") or "/", package, location_rel)
    return doc, location
