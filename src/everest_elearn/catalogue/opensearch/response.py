"""What Atom and GeoJSON responses share: the page, entry links, summaries, EO values."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote, urlencode

from everest_elearn.catalogue.model import Kind, Link, Record
from everest_elearn.catalogue.opensearch.links import Page
from everest_elearn.catalogue.registry import REGISTRY, Parameter

ATOM = "application/atom+xml"
GEOJSON = "application/geo+json"
OSDD = "application/opensearchdescription+xml"
# The project's namespace for what no standard covers (facets, why a search is empty).
PROJECT_NS = "https://everest-elearn.org/ns/opensearch/1.0/"


@dataclass(frozen=True)
class Explanation:
    """Why a search found nothing: the one constraint that empties it, or that no single one does
    (``parameter`` None: removing any one constraint alone still finds nothing)."""

    parameter: str | None  # display name, e.g. "eo:cloudCover"
    value: str | None
    total_without: int

    def sentence(self) -> str:
        if self.parameter is None:
            return (
                "No results, and no single constraint empties this search: removing any one of "
                "them alone still finds nothing, so at least two of them together do."
            )
        return (
            f"No results. The constraint {self.parameter}={self.value} empties this search; "
            f"without it there would be {self.total_without} result"
            f"{'' if self.total_without == 1 else 's'}."
        )


@dataclass
class ResultPage:
    """One page of a search, with everything needed to write it in any format."""

    kind: Kind
    records: list[Record]
    page: Page
    base_url: str  # e.g. http://host/  (with trailing slash)
    self_url: str
    osdd_url: str
    links: dict[str, str]  # navigation rel -> href
    applied: dict[str, str]  # display name -> value
    facets: dict[str, dict[str, int]] = field(default_factory=dict)  # display name -> counts
    explanation: Explanation | None = None
    title: str = "everest-elearn catalogue search results"
    updated: datetime = field(default_factory=lambda: datetime.now(UTC))


def search_path(kind: Kind) -> str:
    return "opensearch/collections" if kind is Kind.COLLECTION else "opensearch/products"


def collection_osdd(base_url: str, identifier: str) -> str:
    return f"{base_url}opensearch/collections/{quote(identifier, safe='')}/description.xml"


def record_url(base_url: str, record: Record, media_type: str) -> str:
    """A search by ``geo:uid`` that returns just this record, in the given format."""
    params = {"uid": record.identifier, "httpAccept": media_type}
    if record.kind is Kind.PRODUCT and record.parent_identifier:
        params = {"parentIdentifier": record.parent_identifier, **params}
    return f"{base_url}{search_path(record.kind)}?{urlencode(params, quote_via=quote, safe=':')}"


def entry_links(base_url: str, record: Record) -> list[Link]:
    """The record's own links, then alternates in both formats and, for collections, search."""
    links = list(record.links)
    for media_type, title in ((ATOM, "Atom entry"), (GEOJSON, "GeoJSON (OGC 17-003) entry")):
        links.append(
            Link(
                href=record_url(base_url, record, media_type),
                rel="alternate",
                type=media_type,
                title=title,
            )
        )
    if not any(link.rel == "describedby" for link in links):
        links.append(
            Link(
                href=f"{base_url}catalogue/records/{quote(record.identifier, safe='')}",
                rel="describedby",
                type="application/json",
                title="The full metadata record",
            )
        )
    if record.kind is Kind.COLLECTION:
        links.append(
            Link(
                href=collection_osdd(base_url, record.identifier),
                rel="search",
                type=OSDD,
                title="Search the products of this collection",
            )
        )
    return links


def iso(value: datetime) -> str:
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def date_interval(record: Record) -> str | None:
    """``start/end`` (ISO 8601 interval), or one instant, for dc:date."""
    if record.start and record.end and record.end != record.start:
        return f"{iso(record.start)}/{iso(record.end)}"
    moment = record.start or record.end
    return iso(moment) if moment else None


def scalar_text(value: Any) -> str:
    if isinstance(value, datetime):
        return iso(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, tuple)):
        return ", ".join(scalar_text(v) for v in value)
    return str(value)


def eo_values(record: Record) -> list[tuple[Parameter, Any]]:
    """The record's EO properties known to the registry, in registry order."""
    out: list[tuple[Parameter, Any]] = []
    for parameter in REGISTRY.fields:
        assert parameter.field is not None
        value = record.properties.get(parameter.field)
        if value is not None and value != "" and value != []:
            out.append((parameter, value))
    return out


def summary(record: Record) -> str:
    """A one-paragraph human summary (BP-014)."""
    if record.abstract:
        return record.abstract
    props: Mapping[str, Any] = record.properties
    parts = [
        str(props[k])
        for k in ("platform", "platformSerialIdentifier", "instrument", "productType")
        if props.get(k)
    ]
    text = " ".join(dict.fromkeys(parts)) or record.kind.value.capitalize()
    when = date_interval(record)
    if when:
        text += f", {when.replace('/', ' to ')}"
    if props.get("cloudCover") is not None:
        text += f", cloud cover {props['cloudCover']} %"
    if props.get("orbitDirection"):
        text += f", {str(props['orbitDirection']).lower()} orbit"
    return text + "."


def title(record: Record) -> str:
    return record.title or record.identifier
