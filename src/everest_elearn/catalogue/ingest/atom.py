"""Entries of OpenSearch Atom responses: dc:identifier, dc:date, GeoRSS footprints, EO elements, links."""

from __future__ import annotations

from typing import Any

from lxml import etree

from everest_elearn.catalogue.ingest import values
from everest_elearn.catalogue.ingest.draft import Draft, Entry
from everest_elearn.catalogue.ingest.outcome import Reject
from everest_elearn.catalogue.model import Kind
from everest_elearn.catalogue.registry import NS, REGISTRY

ATOM = NS["atom"]
DC = NS["dc"]
GEORSS = NS["georss"]
GML = "http://www.opengis.net/gml"
MEDIA = "http://search.yahoo.com/mrss/"
OSDD_TYPE = "application/opensearchdescription+xml"
_FIELDS = {p.field for p in REGISTRY.fields if p.field}
_RELS = {"enclosure", "alternate", "via", "icon", "describedby", "related", "license"}


def _is_eo(namespace: str | None) -> bool:
    # Servers use both the 13-026 URI and the older ".../spec/opensearch/extensions/eo/1.0/".
    return bool(namespace) and "opensearch" in str(namespace) and "/eo/" in str(namespace)


def _text(entry: etree._Element, ns: str, name: str) -> str | None:
    found = entry.find(f"{{{ns}}}{name}")
    return found.text.strip() if found is not None and found.text and found.text.strip() else None


def _pairs(raw: str, where: str) -> list[list[float]]:
    """GeoRSS/GML coordinates are 'lat lon lat lon ...'; GeoJSON wants [lon, lat]."""
    numbers = [values.number(v, where) for v in raw.split()]
    if len(numbers) % 2:
        raise Reject(f"{where}: an odd number of coordinates")
    return [[numbers[i + 1], numbers[i]] for i in range(0, len(numbers), 2)]


def _footprint(entry: etree._Element) -> dict[str, Any] | None:
    polygons = [
        [_pairs(el.text or "", "georss:polygon")] for el in entry.iter(f"{{{GEORSS}}}polygon")
    ]
    # georss:where holds GML: posList rings (exterior first) per gml:Polygon.
    for polygon in entry.iter(f"{{{GML}}}Polygon"):
        rings = [_pairs(p.text or "", "gml:posList") for p in polygon.iter(f"{{{GML}}}posList")]
        if rings:
            polygons.append(rings)
    if polygons:
        if len(polygons) == 1:
            return values.geometry({"type": "Polygon", "coordinates": polygons[0]}, "georss")
        return values.geometry({"type": "MultiPolygon", "coordinates": polygons}, "georss")
    box = _text(entry, GEORSS, "box")
    if box:
        south, west, north, east = (values.number(v, "georss:box") for v in box.split()[:4])
        return values.bbox_geometry([west, south, east, north], "georss:box")
    point = _text(entry, GEORSS, "point")
    if point:
        position = _pairs(point, "georss:point")[0]
        return values.geometry({"type": "Point", "coordinates": position}, "georss:point")
    return None


def _links(draft: Draft, entry: etree._Element) -> None:
    for link in entry.findall(f"{{{ATOM}}}link"):
        rel = link.get("rel", "alternate")
        if rel == "search" and link.get("type") == OSDD_TYPE:
            draft.kind = Kind.COLLECTION  # CEOS two-step search: a collection entry
            draft.extra["osdd"] = link.get("href")
        if rel in _RELS:
            draft.add_link(
                link.get("href"),
                rel,
                type=link.get("type"),
                title=link.get("title"),
                length=link.get("length"),
            )
    for content in entry.iter(f"{{{MEDIA}}}content"):
        draft.add_link(content.get("url"), "icon", type=content.get("type"))


def entry(element: etree._Element, parent: str | None = None) -> Entry:
    """One ``atom:entry``; ``parent`` overrides its ``eo:parentIdentifier``."""
    ident = _text(element, DC, "identifier") or _text(element, ATOM, "id")
    draft = Draft(values.identifier(ident, "dc:identifier"))
    _links(draft, element)
    for child in element:
        if not isinstance(child.tag, str):
            continue
        qname = etree.QName(child)
        if _is_eo(qname.namespace) and qname.localname in _FIELDS and child.text:
            draft.set(qname.localname, child.text.strip())
    eo_parent = draft.properties.pop("parentIdentifier", None)
    draft.parent = parent or (
        values.identifier(eo_parent, "eo:parentIdentifier") if eo_parent else None
    )
    platform = draft.properties.pop("platform", None)
    draft.set_platform(platform)
    draft.title = _text(element, ATOM, "title")
    draft.abstract = _text(element, ATOM, "summary") or _text(element, ATOM, "content")
    date = _text(element, DC, "date")
    if date:
        draft.start, draft.end = values.interval(date, "dc:date")
        draft.end = draft.end or draft.start
    draft.geometry = _footprint(element)
    for name, field in (("published", "publicationDate"), ("updated", "modificationDate")):
        draft.set(field, _text(element, ATOM, name))
    draft.keywords = values.keywords(
        [c.get("term") for c in element.findall(f"{{{ATOM}}}category") if c.get("term")]
    )
    return draft.finish(), draft.warnings
