"""STAC Collections and Items to records; band definitions and assets are kept in ``extra``."""

from __future__ import annotations

from typing import Any
from urllib.parse import urljoin

from everest_elearn.catalogue.ingest import values
from everest_elearn.catalogue.ingest.draft import Draft, Entry
from everest_elearn.catalogue.ingest.outcome import Reject
from everest_elearn.catalogue.model import Kind
from everest_elearn.catalogue.registry import REGISTRY

# STAC names handled by hand below rather than by the registry's one-to-one ``stac`` column.
_SPECIAL = {"collection", "platform", "instruments", "providers", "keywords", "processing:software"}
# Product-type fields of common STAC extensions that the registry's "product:type" also means.
_PRODUCT_TYPES = ("product:type", "sar:product_type", "s2:product_type", "s1:product_type")
# Kept for round-tripping (STAC rendering) and for ODC product definitions built from collections.
_COLLECTION_EXTRA = (
    "summaries",
    "item_assets",
    "assets",
    "license",
    "providers",
    "stac_extensions",
)
MAX_EXTRA_PROPERTIES = 200
_ICON_ROLES = {"thumbnail", "overview", "visual-thumbnail"}
_METADATA_ROLES = {"metadata"}
_LINK_RELS = {
    "self": "via",
    "canonical": "via",
    "alternate": "alternate",
    "license": "license",
    "describedby": "describedby",
    "thumbnail": "icon",
    "preview": "icon",
    "related": "related",
}
_POLARISATION_MODES = {1: "S", 2: "D", 4: "Q"}


def is_stac(obj: dict[str, Any]) -> bool:
    return "stac_version" in obj or (obj.get("type") == "Feature" and "assets" in obj)


def _self_href(obj: dict[str, Any]) -> str | None:
    for entry in obj.get("links") or []:
        if isinstance(entry, dict) and entry.get("rel") == "self":
            href = entry.get("href")
            return href if isinstance(href, str) else None
    return None


def _links(draft: Draft, obj: dict[str, Any], base: str | None) -> None:
    links = obj.get("links")
    if links is not None and not isinstance(links, list):
        raise Reject("links: expected a list")
    for entry in links or []:
        if not isinstance(entry, dict):
            continue
        rel = _LINK_RELS.get(str(entry.get("rel")))
        if rel:
            href = _absolute(entry.get("href"), base)
            draft.add_link(href, rel, type=entry.get("type"), title=entry.get("title"))


def _absolute(href: Any, base: str | None) -> Any:
    if isinstance(href, str) and base and "://" not in href:
        return urljoin(base, href)
    return href


def _assets(draft: Draft, assets: Any, base: str | None) -> None:
    if assets is None:
        return
    if not isinstance(assets, dict):
        raise Reject("assets: expected an object")
    for key, asset in assets.items():
        if not isinstance(asset, dict):
            raise Reject(f"assets.{str(key)[:40]}: expected an object")
        roles = set(asset.get("roles") or [])
        rel = "enclosure"
        if roles & _ICON_ROLES or key in _ICON_ROLES:
            rel = "icon"
        elif roles & _METADATA_ROLES or (not roles and _is_metadata_type(asset.get("type"))):
            rel = "alternate"
        draft.add_link(
            _absolute(asset.get("href"), base),
            rel,
            type=asset.get("type"),
            title=asset.get("title") or key,
            length=asset.get("file:size"),
            checksum=asset.get("file:checksum"),
        )


def _is_metadata_type(media_type: Any) -> bool:
    return isinstance(media_type, str) and media_type.split(";")[0].strip() in {
        "application/json",
        "application/xml",
        "text/xml",
        "text/html",
    }


def _properties(draft: Draft, props: dict[str, Any]) -> None:
    for name in _PRODUCT_TYPES:
        draft.set("productType", props.get(name))
    for param in REGISTRY.fields:
        if param.stac and param.stac not in _SPECIAL and param.field:
            draft.set(param.field, props.get(param.stac))
    draft.set_platform(props.get("platform") or props.get("constellation"))
    instruments = props.get("instruments")
    if isinstance(instruments, list) and instruments:
        draft.set("instrument", [str(i).upper() for i in instruments])
    software = props.get("processing:software")
    if isinstance(software, dict):
        draft.set("processorName", ", ".join(f"{k} {v}" for k, v in software.items()))
    polarisations = props.get("sar:polarizations")
    if isinstance(polarisations, list):
        draft.set("polarisationMode", _POLARISATION_MODES.get(len(polarisations)))
    if any(str(k).startswith("sar:") for k in props):
        draft.set("sensorType", "RADAR")
    elif "eo:cloud_cover" in props or "eo:bands" in props:
        draft.set("sensorType", "OPTICAL")
    providers = props.get("providers")
    if isinstance(providers, list) and providers and isinstance(providers[0], dict):
        draft.set("organisationName", providers[0].get("name"))


def _scalar_extras(props: dict[str, Any]) -> dict[str, Any]:
    """Unmapped STAC properties, small values only, for rendering the item back as STAC."""
    out: dict[str, Any] = {}
    for key, value in props.items():
        if len(out) >= MAX_EXTRA_PROPERTIES or not isinstance(key, str) or len(key) > 100:
            continue
        if (
            isinstance(value, (bool, int, float))
            or (isinstance(value, str) and len(value) < 1024)
            or (isinstance(value, (list, dict)) and len(str(value)) < 4096)
        ):
            out[key] = value
    return out


def item(obj: dict[str, Any], parent: str | None = None) -> Entry:
    """A STAC Item; ``parent`` overrides its ``collection``."""
    draft = Draft(values.identifier(obj.get("id"), "id"))
    props = obj.get("properties")
    if not isinstance(props, dict):
        raise Reject("properties: missing or not an object")
    draft.parent = parent or (
        values.identifier(obj["collection"], "collection") if obj.get("collection") else None
    )
    if obj.get("geometry") is None:
        raise Reject("geometry: a product needs a footprint (the item's geometry is null)")
    draft.geometry = values.geometry(obj.get("geometry"))
    if props.get("datetime") is not None:
        draft.start = values.timestamp(props["datetime"], "datetime")
    if props.get("start_datetime") is not None:
        draft.start = values.timestamp(props["start_datetime"], "start_datetime")
    if props.get("end_datetime") is not None:
        draft.end = values.timestamp(props["end_datetime"], "end_datetime")
    if draft.start is None:
        raise Reject("datetime: neither datetime nor start_datetime is set")
    draft.end = draft.end or draft.start
    draft.title = props.get("title")
    draft.abstract = props.get("description")
    draft.keywords = values.keywords(props.get("keywords"))
    _properties(draft, props)
    base = _self_href(obj)
    _links(draft, obj, base)
    _assets(draft, obj.get("assets"), base)
    draft.extra = {
        "stac": {
            "properties": _scalar_extras(props),
            "assets": obj.get("assets") or {},
            "stac_extensions": obj.get("stac_extensions") or [],
        }
    }
    return _finish(draft)


def collection(obj: dict[str, Any]) -> Entry:
    """A STAC Collection: extent to footprint and times, summaries to EO properties."""
    draft = Draft(values.identifier(obj.get("id"), "id"), kind=Kind.COLLECTION)
    draft.title = obj.get("title")
    draft.abstract = obj.get("description")
    draft.keywords = values.keywords(obj.get("keywords"))
    extent = obj.get("extent") or {}
    if not isinstance(extent, dict):
        raise Reject("extent: expected an object")
    boxes = (extent.get("spatial") or {}).get("bbox")
    if isinstance(boxes, list) and boxes and isinstance(boxes[0], list):
        draft.geometry = values.bbox_geometry(boxes[0], "extent.spatial.bbox")
    intervals = (extent.get("temporal") or {}).get("interval")
    if isinstance(intervals, list) and intervals and isinstance(intervals[0], list):
        first = intervals[0] + [None, None]
        if first[0] is not None:
            draft.start = values.timestamp(first[0], "extent.temporal.interval")
        if first[1] is not None:
            draft.end = values.timestamp(first[1], "extent.temporal.interval")
    summaries = obj.get("summaries") or {}
    if not isinstance(summaries, dict):
        raise Reject("summaries: expected an object")
    # A collection-level property holds when the summary lists exactly one value.
    flat = {k: v[0] for k, v in summaries.items() if isinstance(v, list) and len(v) == 1}
    if isinstance(summaries.get("gsd"), list) and summaries["gsd"]:
        flat["gsd"] = min(v for v in summaries["gsd"] if isinstance(v, (int, float)))
    if isinstance(summaries.get("instruments"), list):
        flat["instruments"] = summaries["instruments"]
    flat["providers"] = obj.get("providers")
    for name in ("eo:bands", "sar:polarizations"):
        if name in summaries:
            flat[name] = summaries[name]
    _properties(draft, flat)
    draft.properties.pop("polarisationMode", None)
    draft.properties.pop("polarisationChannels", None)
    base = _self_href(obj)
    _links(draft, obj, base)
    _assets(draft, obj.get("assets"), base)
    draft.links = [link for link in draft.links if link.rel != "enclosure"]
    draft.extra = {"stac": {k: obj[k] for k in _COLLECTION_EXTRA if obj.get(k) is not None}}
    return _finish(draft)


def _finish(draft: Draft) -> Entry:
    return draft.finish(), draft.warnings
