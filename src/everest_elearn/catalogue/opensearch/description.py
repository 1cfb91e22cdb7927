"""OpenSearch description documents (OSDD): templates and ``param:Parameter`` from one list.

OpenSearch elements are in the default namespace, because older clients look for unprefixed
``Url``. Both templates and Parameter elements come from ``template_parameters`` so that they
cannot disagree (CEOS BP-002).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import quote, urlencode

from lxml import etree

from everest_elearn.catalogue.opensearch.geo import WKT_TYPES
from everest_elearn.catalogue.opensearch.interval import format_condition
from everest_elearn.catalogue.opensearch.params import (
    HTTP_ACCEPT,
    level_parameters,
    template_token,
    url_key,
)
from everest_elearn.catalogue.opensearch.response import ATOM, GEOJSON, OSDD
from everest_elearn.catalogue.query import OneOf, SpatialRelation, TemporalRelation
from everest_elearn.catalogue.registry import DATE_PATTERN, NS, Level, Parameter, ParamType

FORMATS = (ATOM, GEOJSON)
# The CEOS BP level this server meets; tests/opensearch/test_conformance.py checks the claim.
CEOS_LEVEL = "CEOS-OS-BP-V1.1/L2"
TAGS = f"{CEOS_LEVEL} OpenSearch EO earth-observation catalogue"
# Keyword options are listed only up to this many values; beyond, clients would reject real ones.
MAX_OPTIONS = 100

_DATE = DATE_PATTERN.removeprefix("^").removesuffix("$")
_INT = r"[+-]?\d+"
_FLOAT = r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?"


def interval_pattern(value: str) -> str:
    """A regular expression for the EO interval notation over values matching ``value``."""
    v = f"({value})"
    return rf"^({v}|[\[\]]{v}|{v}[\[\]]|[\[\]]{v},{v}[\[\]]|\{{{v}(,{v})*\}})$"


PATTERNS = {
    ParamType.INT: interval_pattern(_INT),
    ParamType.FLOAT: interval_pattern(_FLOAT),
    ParamType.DATETIME: interval_pattern(_DATE),
}
_NUMBER = r"[+-]?(\d+(\.\d*)?|\.\d+)"
SPECIAL_PATTERNS = {
    "count": r"^\d+$",
    "startIndex": r"^\d+$",
    "startPage": r"^\d+$",
    "geo:box": rf"^{_NUMBER},{_NUMBER},{_NUMBER},{_NUMBER}$",
    "geo:lat": rf"^{_NUMBER}$",
    "geo:lon": rf"^{_NUMBER}$",
    "geo:radius": rf"^{_NUMBER}$",
}


@dataclass(frozen=True)
class FieldSummary:
    """What the data holds for one field: value counts (keywords) or the extent (numbers, dates)."""

    options: Mapping[str, int] = field(default_factory=dict)
    minimum: Any = None
    maximum: Any = None


@dataclass(frozen=True)
class Description:
    """Everything an OSDD says that is not derived from the registry."""

    self_url: str
    search_url: str  # absolute URL of the search endpoint, without query
    level: Level
    short_name: str
    long_name: str
    description: str
    fixed: Mapping[str, str] = field(default_factory=dict)  # fixed parameters (BP-005E)
    summaries: Mapping[str, FieldSummary] = field(default_factory=dict)
    time_extent: tuple[datetime | None, datetime | None] = (None, None)
    default_count: int = 10
    max_count: int = 500
    example: Mapping[str, str] = field(default_factory=dict)  # display name -> value
    contact: str = "catalogue@everest-elearn.invalid"
    attribution: str = "Metadata: the data providers; service: the everest-elearn project"


def template_parameters(level: Level) -> list[Parameter]:
    """The variable parameters of a template of this level (the one list both sides use)."""
    return level_parameters(level)


def build_template(search_url: str, level: Level, fixed: Mapping[str, str]) -> str:
    """``search_url?<fixed>&key={token?}...``; every parameter is optional."""
    head = urlencode(list(fixed.items()), quote_via=quote, safe="")
    tokens = [f"{url_key(p)}={{{template_token(p)}?}}" for p in template_parameters(level)]
    query = "&".join([head, *tokens] if head else tokens)
    return f"{search_url}?{query}"


def _q(prefix: str, local: str) -> str:
    return f"{{{NS[prefix]}}}{local}"


def _os(local: str) -> str:
    return _q("os", local)


def _scalar(value: Any) -> str:
    return format_condition(OneOf((value,)))


def _parameter_element(parent: etree._Element, p: Parameter, d: Description) -> None:
    token = template_token(p)
    attrs: dict[str, str] = {
        "name": url_key(p),
        "value": f"{{{token}}}",
        "minimum": "0",
        "title": p.title,
    }
    summary = d.summaries.get(p.field) if p.field else None
    low: Any = p.minimum
    high: Any = p.maximum
    if p.qname == "os:count":
        high = d.max_count
    if p.qname in {"time:start", "time:end"}:
        low, high = d.time_extent
    if summary is not None and p.type is not ParamType.KEYWORD:
        low = summary.minimum if low is None else low
        high = summary.maximum if high is None else high
    if low is not None:
        attrs["minInclusive"] = _scalar(low)
    if high is not None:
        attrs["maxInclusive"] = _scalar(high)
    pattern = PATTERNS.get(p.type) or SPECIAL_PATTERNS.get(token) or p.pattern
    if pattern:
        attrs["pattern"] = pattern
    element = etree.SubElement(parent, _q("param", "Parameter"), attrs)
    options: list[tuple[str, str]] = []
    if summary is not None and p.type is ParamType.KEYWORD and len(summary.options) <= MAX_OPTIONS:
        options = [(v, f"{v} ({n})") for v, n in sorted(summary.options.items())]
    elif p.qname == "geo:relation":
        options = [(r.value, r.value) for r in SpatialRelation]
    elif p.qname == "time:relation":
        options = [(r.value, r.value) for r in TemporalRelation]
    elif p.qname == "sru:sortKeys":
        options = []
        for sortable in ("start", *(s.name for s in _sortable())):
            options.append((f"{sortable},,1", f"{sortable} ascending"))
            options.append((f"{sortable},,0", f"{sortable} descending"))
    for value, label in options:
        etree.SubElement(element, _q("param", "Option"), {"value": value, "label": label})
    if p.qname == "geo:geometry":
        # CEOS BP-002C: the accepted WKT geometry types, as profile links.
        for kind in WKT_TYPES:
            etree.SubElement(
                element,
                _q("atom", "link"),
                {
                    "rel": "profile",
                    "href": f"http://www.opengis.net/wkt/{kind}",
                    "title": f"This service accepts WKT {kind}",
                },
            )


def _sortable() -> Sequence[Parameter]:
    from everest_elearn.catalogue.registry import REGISTRY

    return REGISTRY.sortable


def render_description(d: Description) -> bytes:
    """The OSDD as UTF-8 XML."""
    nsmap: dict[str | None, str] = {None: NS["os"]}
    nsmap.update({k: NS[k] for k in ("geo", "time", "eo", "param", "atom", "sru", "dc")})
    root = etree.Element(_os("OpenSearchDescription"), nsmap=nsmap)

    def text(local: str, value: str) -> None:
        etree.SubElement(root, _os(local)).text = value

    text("ShortName", d.short_name[:16])
    text("Description", d.description[:1024])
    rel = "collection" if d.level is Level.COLLECTION else "results"
    for media_type in FORMATS:
        fixed = {**d.fixed, HTTP_ACCEPT: media_type}
        url = etree.SubElement(
            root,
            _os("Url"),
            {
                "type": media_type,
                "rel": rel,
                "template": build_template(d.search_url, d.level, fixed),
                "indexOffset": "1",
                "pageOffset": "1",
            },
        )
        for p in template_parameters(d.level):
            _parameter_element(url, p, d)
    etree.SubElement(root, _os("Url"), {"type": OSDD, "rel": "self", "template": d.self_url})
    text("Contact", d.contact)
    text("Tags", TAGS)
    text("LongName", d.long_name[:48])
    example = etree.SubElement(root, _os("Query"), {"role": "example"})
    for name, value in d.example.items():
        prefix, _, local = name.rpartition(":")
        example.set(_q(prefix, local) if prefix else local, value)
    text("Developer", "The everest-elearn project")
    text("Attribution", d.attribution)
    text("SyndicationRight", "open")
    text("AdultContent", "false")
    text("Language", "en-us")
    text("OutputEncoding", "UTF-8")
    text("InputEncoding", "UTF-8")
    out: bytes = etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)
    return out


def choose_example(summaries: Mapping[str, FieldSummary], level: Level) -> dict[str, str]:
    """A query that returns hits: the most frequent value of the first faceted keyword field."""
    for p in template_parameters(level):
        if p.type is not ParamType.KEYWORD or p.field is None:
            continue
        summary = summaries.get(p.field)
        if summary and summary.options:
            value, _ = max(summary.options.items(), key=lambda item: (item[1], item[0]))
            return {p.qname: value}
    return {}
