"""STAC API logic without HTTP: records to STAC items and collections, queryables.

Search parameters become a Query in :mod:`.stac_search`; its names are importable from here too.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from everest_elearn.catalogue.model import Record
from everest_elearn.catalogue.registry import REGISTRY, Level, ParamType
from everest_elearn.catalogue.stac_search import MAX_LIMIT, decode_token, encode_token, search_query

__all__ = [
    "API",
    "CONFORMANCE",
    "MAX_LIMIT",
    "OGC",
    "STAC_VERSION",
    "collection",
    "decode_token",
    "encode_token",
    "item",
    "queryables",
    "search_query",
]

STAC_VERSION = "1.0.0"
API = "https://api.stacspec.org/v1.0.0"
OGC = "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf"
CONFORMANCE = [
    f"{API}/core",
    f"{API}/collections",
    f"{API}/ogcapi-features",
    f"{API}/item-search",
    f"{API}/item-search#query",
    f"{API}/item-search#sort",
    f"{OGC}/core",
    f"{OGC}/geojson",
]
# Registry fields whose STAC value is not the stored one as is.
_SPECIAL_OUT = {
    "platform",
    "platformSerialIdentifier",
    "instrument",
    "polarisationChannels",
    "orbitDirection",
    "antennaLookDirection",
    "swathIdentifier",
    "organisationName",
    "keyword",
    "parentIdentifier",
    "processorName",
}


def _iso(moment: datetime | None) -> str | None:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z") if moment else None


def _properties(record: Record) -> dict[str, Any]:
    stac = record.extra.get("stac", {}) if isinstance(record.extra.get("stac"), dict) else {}
    props: dict[str, Any] = dict(stac.get("properties") or {})
    p = record.properties
    for param in REGISTRY.fields:
        if param.field in p and param.stac and param.field not in _SPECIAL_OUT:
            props.setdefault(param.stac, p[param.field])
    if "orbitDirection" in p:
        props.setdefault("sat:orbit_state", str(p["orbitDirection"]).lower())
    if "antennaLookDirection" in p:
        props.setdefault("sar:observation_direction", str(p["antennaLookDirection"]).lower())
    if "polarisationChannels" in p:
        props.setdefault(
            "sar:polarizations", [c.strip() for c in str(p["polarisationChannels"]).split(",")]
        )
    if "instrument" in p:
        props.setdefault("instruments", [str(p["instrument"]).lower()])
    if "platform" in p:
        serial = str(p.get("platformSerialIdentifier") or "").lower()
        props.setdefault("platform", f"{p['platform']}{serial}".lower())
    if record.title:
        props.setdefault("title", record.title)
    if record.abstract:
        props.setdefault("description", record.abstract)
    if record.keywords:
        props.setdefault("keywords", record.keywords)
    if record.start and record.end and record.end != record.start:
        props["start_datetime"], props["end_datetime"] = _iso(record.start), _iso(record.end)
    props["datetime"] = _iso(record.start)
    return props


def _assets(record: Record) -> dict[str, Any]:
    stac = record.extra.get("stac")
    if isinstance(stac, dict) and isinstance(stac.get("assets"), dict) and stac["assets"]:
        return dict(stac["assets"])
    assets: dict[str, Any] = {}
    roles = {"enclosure": "data", "icon": "thumbnail", "alternate": "metadata"}
    for n, link in enumerate(record.links):
        if link.rel in roles:
            asset: dict[str, Any] = {"href": link.href, "roles": [roles[link.rel]]}
            for key, value in (
                ("type", link.type),
                ("title", link.title),
                ("file:size", link.length),
            ):
                if value is not None:
                    asset[key] = value
            assets[f"{roles[link.rel]}-{n}"] = asset
    return assets


def _record_links(record: Record) -> list[dict[str, Any]]:
    rels = {
        "via": "via",
        "alternate": "alternate",
        "license": "license",
        "describedby": "describedby",
    }
    out = []
    for link in record.links:
        if link.rel in rels:
            entry = {
                "rel": rels[link.rel],
                "href": link.href,
                "type": link.type,
                "title": link.title,
            }
            out.append({k: v for k, v in entry.items() if v})
    return out


def item(record: Record, base: str) -> dict[str, Any]:
    root = f"{base}/stac"
    collection = f"{root}/collections/{record.parent_identifier}"
    stac = record.extra.get("stac", {}) if isinstance(record.extra.get("stac"), dict) else {}
    return {
        "type": "Feature",
        "stac_version": STAC_VERSION,
        "stac_extensions": list(stac.get("stac_extensions") or []),
        "id": record.identifier,
        "collection": record.parent_identifier,
        "geometry": record.geometry,
        "bbox": list(record.bbox) if record.bbox else None,
        "properties": _properties(record),
        "assets": _assets(record),
        "links": [
            {
                "rel": "self",
                "type": "application/geo+json",
                "href": f"{collection}/items/{record.identifier}",
            },
            {"rel": "parent", "type": "application/json", "href": collection},
            {"rel": "collection", "type": "application/json", "href": collection},
            {"rel": "root", "type": "application/json", "href": root},
            *_record_links(record),
        ],
    }


def collection(record: Record, base: str) -> dict[str, Any]:
    root = f"{base}/stac"
    stac = record.extra.get("stac", {}) if isinstance(record.extra.get("stac"), dict) else {}
    bbox = list(record.bbox) if record.bbox else [-180.0, -90.0, 180.0, 90.0]
    out: dict[str, Any] = {
        "type": "Collection",
        "stac_version": STAC_VERSION,
        "stac_extensions": list(stac.get("stac_extensions") or []),
        "id": record.identifier,
        "title": record.title or record.identifier,
        "description": record.abstract or record.title or record.identifier,
        "keywords": record.keywords,
        "license": stac.get("license") or "proprietary",
        "extent": {
            "spatial": {"bbox": [bbox]},
            "temporal": {"interval": [[_iso(record.start), _iso(record.end)]]},
        },
        "links": [
            {
                "rel": "self",
                "type": "application/json",
                "href": f"{root}/collections/{record.identifier}",
            },
            {
                "rel": "items",
                "type": "application/geo+json",
                "href": f"{root}/collections/{record.identifier}/items",
            },
            {"rel": "parent", "type": "application/json", "href": root},
            {"rel": "root", "type": "application/json", "href": root},
            *_record_links(record),
        ],
    }
    for key in ("summaries", "item_assets", "providers", "assets"):
        if stac.get(key):
            out[key] = stac[key]
    return out


_JSON_TYPES = {ParamType.INT: "integer", ParamType.FLOAT: "number", ParamType.BOOL: "boolean"}


def queryables(base: str) -> dict[str, Any]:
    """JSON Schema of the product-level registry parameters, under their STAC names."""
    properties: dict[str, Any] = {
        "id": {"title": "Identifier", "type": "string"},
        "collection": {"title": "Collection", "type": "string"},
        "datetime": {"title": "Acquisition time", "type": "string", "format": "date-time"},
        "geometry": {"title": "Footprint", "$ref": "https://geojson.org/schema/Geometry.json"},
    }
    for param in REGISTRY.for_level(Level.PRODUCT):
        if param.field is None or param.field == "parentIdentifier":
            continue
        name = param.stac if param.stac and param.stac not in properties else param.field
        schema: dict[str, Any] = {
            "title": param.title,
            "type": _JSON_TYPES.get(param.type, "string"),
        }
        if param.type is ParamType.DATETIME:
            schema["format"] = "date-time"
        if param.minimum is not None:
            schema["minimum"] = param.minimum
        if param.maximum is not None:
            schema["maximum"] = param.maximum
        schema["x-everest-field"] = param.field
        properties.setdefault(name, schema)
    return {
        "$schema": "https://json-schema.org/draft/2019-09/schema",
        "$id": f"{base}/stac/queryables",
        "type": "object",
        "title": "Queryables of the everest-elearn catalogue",
        "properties": properties,
        "additionalProperties": True,
    }
