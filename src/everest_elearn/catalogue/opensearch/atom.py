"""Atom responses (OpenSearch 1.1, OGC 10-032, OGC 13-026, CEOS BP-010..016) and XML errors.

EO properties are written as simple ``eo:<name>`` elements (the 13-026 parameter names), as
deployed OpenSearch EO servers do. Facets use the OASIS searchRetrieve facetedResults elements;
the reason for an empty result is ``ev:emptyExplanation`` plus a human ``subtitle``.
"""

from __future__ import annotations

import re
from typing import Any

from lxml import etree

from everest_elearn.catalogue.model import Record
from everest_elearn.catalogue.opensearch.response import (
    ATOM,
    OSDD,
    PROJECT_NS,
    ResultPage,
    date_interval,
    entry_links,
    eo_values,
    iso,
    scalar_text,
    summary,
    title,
)
from everest_elearn.catalogue.registry import NS

GML = "http://www.opengis.net/gml"
FACETS_NS = "http://docs.oasis-open.org/ns/search-ws/facetedResults"
OWS = "http://www.opengis.net/ows/2.0"
NSMAP: dict[str | None, str] = {
    None: NS["atom"],
    "os": NS["os"],
    "dc": NS["dc"],
    "georss": NS["georss"],
    "gml": GML,
    "geo": NS["geo"],
    "time": NS["time"],
    "eo": NS["eo"],
    "sru": NS["sru"],
    "fr": FACETS_NS,
    "ev": PROJECT_NS,
}


def _q(ns: str, local: str) -> str:
    return f"{{{ns}}}{local}"


def _a(local: str) -> str:
    return _q(NS["atom"], local)


# Characters XML 1.0 cannot carry; metadata from providers sometimes contains them.
_INVALID_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def clean(text: str) -> str:
    return _INVALID_XML.sub("\ufffd", text)


def _sub(parent: etree._Element, tag: str, text: str | None = None, **attrs: str) -> etree._Element:
    element = etree.SubElement(parent, tag, {k: clean(v) for k, v in attrs.items()})
    if text is not None:
        element.text = clean(text)
    return element


def _attr_name(display: str) -> str:
    prefix, _, local = display.rpartition(":")
    return _q(NS[prefix], local) if prefix else local


def render_feed(result: ResultPage) -> bytes:
    """The Atom feed of one result page."""
    feed = etree.Element(_a("feed"), nsmap=NSMAP)
    _sub(feed, _a("id"), result.self_url)
    _sub(feed, _a("title"), result.title)
    if result.explanation is not None:
        _sub(feed, _a("subtitle"), result.explanation.sentence())
    _sub(feed, _a("updated"), iso(result.updated))
    author = _sub(feed, _a("author"))
    _sub(author, _a("name"), "everest-elearn catalogue")
    _sub(feed, _a("generator"), "everest-elearn")
    total = result.page.total
    _sub(feed, _q(NS["os"], "totalResults"), str(total))
    _sub(feed, _q(NS["os"], "startIndex"), str(result.page.start_index))
    _sub(feed, _q(NS["os"], "itemsPerPage"), str(result.page.count))
    if not result.page.total_exact:
        # totalResults is then a lower bound: the backend stopped counting there.
        _sub(feed, _q(PROJECT_NS, "totalResultsRelation"), "gte")
    query = _sub(feed, _q(NS["os"], "Query"), role="request")
    for name, value in result.applied.items():
        query.set(_attr_name(name), clean(value))
    _sub(feed, _a("link"), rel="search", type=OSDD, href=result.osdd_url)
    for rel, href in result.links.items():
        _sub(feed, _a("link"), rel=rel, type=ATOM, href=href)
    if result.facets:
        _facets(feed, result.facets)
    if (why := result.explanation) is not None:
        named = {"parameter": why.parameter, "value": why.value or ""} if why.parameter else {}
        _sub(
            feed,
            _q(PROJECT_NS, "emptyExplanation"),
            why.sentence(),
            **named,
            totalWithout=str(why.total_without),
        )
    for record in result.records:
        feed.append(entry(record, result.base_url))
    return _bytes(feed)


def _facets(feed: etree._Element, facets: dict[str, dict[str, int]]) -> None:
    root = _sub(feed, _q(FACETS_NS, "facetedResults"))
    for name, counts in facets.items():
        facet = _sub(root, _q(FACETS_NS, "facet"))
        _sub(facet, _q(FACETS_NS, "index"), name)
        terms = _sub(facet, _q(FACETS_NS, "terms"))
        for value, count in sorted(counts.items(), key=lambda item: (-item[1], item[0])):
            term = _sub(terms, _q(FACETS_NS, "term"))
            _sub(term, _q(FACETS_NS, "actualTerm"), value)
            _sub(term, _q(FACETS_NS, "count"), str(count))


def entry(record: Record, base_url: str) -> etree._Element:
    """One Atom entry: identifier, date, footprint, summary, links, EO properties."""
    element = etree.Element(_a("entry"), nsmap=NSMAP)
    links = entry_links(base_url, record)
    alternate = next(link.href for link in links if link.rel == "alternate" and link.type == ATOM)
    _sub(element, _a("id"), alternate)
    _sub(element, _a("title"), title(record))
    _sub(element, _a("updated"), iso(record.updated))
    _sub(element, _a("summary"), summary(record), type="text")
    _sub(element, _q(NS["dc"], "identifier"), record.identifier)
    when = date_interval(record)
    if when:
        _sub(element, _q(NS["dc"], "date"), when)
    if record.geometry:
        _footprint(element, record.geometry)
    for link in links:
        attrs = {"rel": link.rel, "href": link.href}
        if link.type:
            attrs["type"] = link.type
        if link.title:
            attrs["title"] = link.title
        if link.length is not None:
            attrs["length"] = str(link.length)
        _sub(element, _a("link"), **attrs)
    for keyword in record.keywords:
        _sub(element, _a("category"), term=keyword)
    if record.parent_identifier:
        _sub(element, _q(NS["eo"], "parentIdentifier"), record.parent_identifier)
    for parameter, value in eo_values(record):
        if parameter.name != "parentIdentifier":
            _sub(element, _q(NS["eo"], parameter.name), scalar_text(value))
    return element


def _pos(points: list[Any]) -> str:
    """GeoRSS and GML in EPSG:4326 list latitude first."""
    return " ".join(f"{float(p[1])!r} {float(p[0])!r}" for p in points)


def _footprint(parent: etree._Element, geometry: dict[str, Any]) -> None:
    kind = geometry.get("type")
    coords = geometry.get("coordinates")
    if kind == "Polygon" and coords and len(coords) == 1:
        _sub(parent, _q(NS["georss"], "polygon"), _pos(coords[0]))
    elif kind == "Point" and coords:
        _sub(parent, _q(NS["georss"], "point"), _pos([coords]))
    else:
        where = _sub(parent, _q(NS["georss"], "where"))
        gml = _gml(geometry)
        if gml is not None:
            where.append(gml)


def _gml(geometry: dict[str, Any]) -> etree._Element | None:
    kind = geometry.get("type")
    coords = geometry.get("coordinates") or []

    def g(local: str) -> str:
        return _q(GML, local)

    def polygon(rings: list[Any]) -> etree._Element:
        element = etree.Element(g("Polygon"))
        for i, ring in enumerate(rings):
            boundary = etree.SubElement(element, g("exterior" if i == 0 else "interior"))
            linear = etree.SubElement(boundary, g("LinearRing"))
            etree.SubElement(linear, g("posList")).text = _pos(ring)
        return element

    def line(points: list[Any]) -> etree._Element:
        element = etree.Element(g("LineString"))
        etree.SubElement(element, g("posList")).text = _pos(points)
        return element

    def point(position: list[Any]) -> etree._Element:
        element = etree.Element(g("Point"))
        etree.SubElement(element, g("pos")).text = _pos([position])
        return element

    def multi(tag: str, member: str, parts: list[etree._Element]) -> etree._Element:
        element = etree.Element(g(tag))
        for part in parts:
            etree.SubElement(element, g(member)).append(part)
        return element

    if kind == "Polygon":
        return polygon(coords)
    if kind == "MultiPolygon":
        return multi("MultiSurface", "surfaceMember", [polygon(p) for p in coords])
    if kind == "LineString":
        return line(coords)
    if kind == "MultiLineString":
        return multi("MultiCurve", "curveMember", [line(p) for p in coords])
    if kind == "Point":
        return point(coords)
    if kind == "MultiPoint":
        return multi("MultiPoint", "pointMember", [point(p) for p in coords])
    if kind == "GeometryCollection":
        parts = [_gml(part) for part in geometry.get("geometries", [])]
        return multi("MultiGeometry", "geometryMember", [p for p in parts if p is not None])
    return None


def render_error(code: str, message: str, locator: str | None) -> bytes:
    """An OWS 2.0 ExceptionReport, the XML error body OpenSearch EO servers answer with."""
    report = etree.Element(_q(OWS, "ExceptionReport"), {"version": "2.0.0"}, nsmap={"ows": OWS})
    attrs = {"exceptionCode": code}
    if locator:
        attrs["locator"] = clean(locator)
    exception = etree.SubElement(report, _q(OWS, "Exception"), attrs)
    etree.SubElement(exception, _q(OWS, "ExceptionText")).text = clean(message)
    return _bytes(report)


def _bytes(root: etree._Element) -> bytes:
    out: bytes = etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)
    return out
