"""GeoJSON features of OpenSearch responses: OGC 17-047 / 17-003 EO metadata and resto-style flat.

17-003 nests the EO properties (``acquisitionInformation``, ``productInformation``); resto and
many OpenSearch servers put the OGC 13-026 names flat in ``properties``. Both are read, nested
first (more specific), then flat, then known synonyms.
"""

from __future__ import annotations

from typing import Any

from everest_elearn.catalogue.ingest import values
from everest_elearn.catalogue.ingest.draft import Draft, Entry
from everest_elearn.catalogue.ingest.outcome import Reject
from everest_elearn.catalogue.model import Kind
from everest_elearn.catalogue.registry import REGISTRY

# Names used by 17-003 acquisitionParameters and by resto for registry fields.
SYNONYMS = {
    "operationalMode": "sensorMode",
    "relativeOrbitNumber": "track",
    "wrsLongitudeGrid": "track",
    "wrsLatitudeGrid": "frame",
    "instrumentShortName": "instrument",
    "platformShortName": "platform",
    "organisation": "organisationName",
    "published": "publicationDate",
    "updated": "modificationDate",
    "created": "creationDate",
}
# 17-047 ``properties.links`` keys to link relations.
LINK_KEYS = {
    "data": "enclosure",
    "previews": "icon",
    "alternates": "alternate",
    "via": "via",
    "related": "related",
    "describedby": "describedby",
    "license": "license",
}
_RESTO_KEYWORD_NOISE = {"year", "month", "day", "season"}
_SKIP_FLAT = {"parentIdentifier", "platform", "keyword"}
_FIELDS = {p.field for p in REGISTRY.fields if p.field}


def _set_known(draft: Draft, source: Any) -> None:
    if not isinstance(source, dict):
        return
    for key, value in source.items():
        name = SYNONYMS.get(key, key)
        if (name in _FIELDS and name not in _SKIP_FLAT and not isinstance(value, (dict, list))) or (
            name in {"polarisationChannels", "swathIdentifier"} and isinstance(value, list)
        ):
            draft.set(name, value)


def _acquisition(draft: Draft, props: dict[str, Any]) -> None:
    info = props.get("acquisitionInformation")
    if isinstance(info, dict):
        info = [info]
    if not isinstance(info, list):
        return
    for part in info:
        if not isinstance(part, dict):
            continue
        plat = part.get("platform")
        if isinstance(plat, dict):
            name = plat.get("platformShortName")
            serial = plat.get("platformSerialIdentifier")
            if isinstance(name, str) and serial:
                draft.set("platform", name)
                draft.set("platformSerialIdentifier", serial)
            else:
                draft.set_platform(name)
            draft.set("orbitType", plat.get("orbitType"))
        _set_known(draft, part.get("instrument"))
        params = part.get("acquisitionParameters")
        _set_known(draft, params)
        if isinstance(params, dict):
            if params.get("beginningDateTime") and draft.start is None:
                draft.start = values.timestamp(params["beginningDateTime"], "beginningDateTime")
            if params.get("endingDateTime") and draft.end is None:
                draft.end = values.timestamp(params["endingDateTime"], "endingDateTime")


def _links(draft: Draft, props: dict[str, Any], size: Any, digest: Any) -> None:
    links = props.get("links")
    if isinstance(links, dict):  # 17-047
        for key, rel in LINK_KEYS.items():
            group = links.get(key)
            for entry in group if isinstance(group, list) else []:
                if isinstance(entry, dict):
                    draft.add_link(
                        entry.get("href"),
                        rel,
                        type=entry.get("type"),
                        title=entry.get("title"),
                        length=entry.get("length"),
                    )
    elif isinstance(links, list):  # resto, or rel-style lists
        for entry in links:
            if isinstance(entry, dict) and entry.get("rel") in set(LINK_KEYS.values()):
                draft.add_link(
                    entry.get("href"),
                    str(entry["rel"]),
                    type=entry.get("type"),
                    title=entry.get("title"),
                    length=entry.get("length"),
                )
    services = props.get("services")
    download = services.get("download") if isinstance(services, dict) else None
    if isinstance(download, dict) and download.get("url"):
        draft.add_link(
            download["url"],
            "enclosure",
            type=download.get("mimeType"),
            length=download.get("size") or size,
            checksum=download.get("checksum") or digest,
        )
    for key in ("quicklook", "thumbnail"):
        if props.get(key):
            draft.add_link(props[key], "icon", title=key)


def _keywords(props: dict[str, Any]) -> list[str]:
    raw = props.get("keywords")
    if isinstance(raw, dict):  # resto: hash -> {name, type}
        raw = [k for k in raw.values() if isinstance(k, dict)]
    words: list[Any] = []
    for entry in raw if isinstance(raw, list) else []:
        if isinstance(entry, dict):
            if entry.get("type") not in _RESTO_KEYWORD_NOISE:
                words.append(entry.get("name") or entry.get("term") or entry.get("label"))
        else:
            words.append(entry)
    for category in props.get("categories") or []:
        if isinstance(category, dict):
            words.append(category.get("label") or category.get("term"))
    return values.keywords([w for w in words if isinstance(w, str)])


def _identifier(obj: dict[str, Any], props: dict[str, Any]) -> str:
    for key in ("productIdentifier", "identifier"):
        if props.get(key) is not None:
            return values.identifier(props[key], f"properties.{key}")
    # 17-047 feature ids are often URIs: take it only when it is a plain identifier.
    return values.identifier(obj.get("id"), "id")


def feature(obj: dict[str, Any], parent: str | None = None) -> Entry:
    """One GeoJSON feature of an OpenSearch response; ``parent`` overrides its collection."""
    props = obj.get("properties")
    if not isinstance(props, dict):
        raise Reject("properties: missing or not an object")
    draft = Draft(_identifier(obj, props))
    if str(props.get("kind", "")).lower() in {"collection", "series"}:
        draft.kind = Kind.COLLECTION
    own_parent = props.get("parentIdentifier") or props.get("collection")
    draft.parent = parent or (
        values.identifier(own_parent, "parentIdentifier") if own_parent else None
    )
    if obj.get("geometry") is not None:
        draft.geometry = values.geometry(obj["geometry"])
    elif obj.get("bbox") is not None:
        draft.geometry = values.bbox_geometry(obj["bbox"])
    if props.get("date"):
        draft.start, draft.end = values.interval(props["date"], "date")
    for key in ("startDate", "start", "datetime"):
        if props.get(key) and draft.start is None:
            draft.start = values.timestamp(props[key], key)
    for key in ("completionDate", "end"):
        if props.get(key) and draft.end is None:
            draft.end = values.timestamp(props[key], key)
    draft.title = props.get("title")
    draft.abstract = props.get("abstract") or props.get("description")
    draft.keywords = _keywords(props)
    _acquisition(draft, props)
    info = props.get("productInformation")
    _set_known(draft, info)
    _set_known(draft, props)
    draft.set_platform(props.get("platform"))
    if draft.start is not None and draft.end is None:
        draft.end = draft.start
    size = props.get("resourceSize") or (info.get("size") if isinstance(info, dict) else None)
    _links(draft, props, size, props.get("resourceChecksum"))
    return draft.finish(), draft.warnings
