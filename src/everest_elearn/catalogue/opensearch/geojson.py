"""GeoJSON responses (OGC 17-047) with OGC 17-003 EO properties in each feature.

Extensions, documented in docs: ``properties.facets`` (display name -> value -> count),
``properties.emptyExplanation`` and ``properties.totalResultsRelation`` ("eq" or "gte").
"""

from __future__ import annotations

import contextlib
from datetime import datetime
from typing import Any

from everest_elearn.catalogue.model import Link, Record
from everest_elearn.catalogue.opensearch.response import (
    GEOJSON,
    OSDD,
    ResultPage,
    date_interval,
    entry_links,
    eo_values,
    iso,
    record_url,
    summary,
    title,
)
from everest_elearn.errors import EverestError

# OGC 17-003: where each 13-026 parameter lives in the feature's properties.
ACQUISITION_PLATFORM = {
    "platform": "platformShortName",
    "platformSerialIdentifier": "platformSerialIdentifier",
    "orbitType": "orbitType",
}
ACQUISITION_INSTRUMENT = {
    "instrument": "instrumentShortName",
    "sensorType": "sensorType",
    "sensorMode": "sensorMode",
    "swathIdentifier": "swathIdentifier",
    "polarisationMode": "polarisationMode",
    "polarisationChannels": "polarisationChannels",
}
ACQUISITION_PARAMETERS = {
    "orbitNumber": "orbitNumber",
    "orbitDirection": "orbitDirection",
    "track": "wrsLongitudeGrid",
    "frame": "wrsLatitudeGrid",
    "startTimeFromAscendingNode": "startTimeFromAscendingNode",
    "completionTimeFromAscendingNode": "completionTimeFromAscendingNode",
    "acquisitionStation": "acquisitionStation",
    "acquisitionType": "acquisitionType",
    "acquisitionSubType": "acquisitionSubType",
    "antennaLookDirection": "antennaLookDirection",
    "dopplerFrequency": "dopplerFrequency",
}
ACQUISITION_ANGLES = {
    "illuminationAzimuthAngle": "illuminationAzimuthAngle",
    "illuminationZenithAngle": "illuminationZenithAngle",
    "illuminationElevationAngle": "illuminationElevationAngle",
    "minimumIncidenceAngle": "minimumIncidenceAngle",
    "maximumIncidenceAngle": "maximumIncidenceAngle",
    "incidenceAngleVariation": "incidenceAngleVariation",
}
LINK_GROUPS = {
    "enclosure": "data",
    "icon": "previews",
    "alternate": "alternates",
    "via": "via",
    "describedby": "describedby",
    "search": "search",
}


def _json(value: Any) -> Any:
    if isinstance(value, datetime):
        return iso(value)
    if isinstance(value, (list, tuple)):
        return [_json(v) for v in value]
    return value


def _link(link: Link) -> dict[str, Any]:
    out: dict[str, Any] = {"href": link.href}
    if link.type:
        out["type"] = link.type
    if link.title:
        out["title"] = link.title
    if link.length is not None:
        out["length"] = link.length
    if link.checksum:
        out["checksum"] = link.checksum
    return out


def feature(record: Record, base_url: str) -> dict[str, Any]:
    """One feature: 17-003 properties (acquisitionInformation, productInformation, links)."""
    props: dict[str, Any] = {
        "kind": record.kind.value,
        "identifier": record.identifier,
        "title": title(record),
        "updated": iso(record.updated),
        "summary": summary(record),
    }
    if record.abstract:
        props["abstract"] = record.abstract
    if record.parent_identifier:
        props["parentIdentifier"] = record.parent_identifier
    when = date_interval(record)
    if when:
        props["date"] = when
    if record.keywords:
        props["keyword"] = list(record.keywords)
    platform: dict[str, Any] = {}
    instrument: dict[str, Any] = {}
    acquisition: dict[str, Any] = {}
    angles: dict[str, Any] = {}
    product: dict[str, Any] = {}
    for parameter, value in eo_values(record):
        name = parameter.name
        value = _json(value)
        if name == "parentIdentifier":
            continue
        for table, target in (
            (ACQUISITION_PLATFORM, platform),
            (ACQUISITION_INSTRUMENT, instrument),
            (ACQUISITION_PARAMETERS, acquisition),
            (ACQUISITION_ANGLES, angles),
        ):
            if name in table:
                target[table[name]] = value
                break
        else:
            product[name] = value
    if record.start:
        acquisition["beginningDateTime"] = iso(record.start)
    if record.end:
        acquisition["endingDateTime"] = iso(record.end)
    info: dict[str, Any] = {}
    for key, part in (
        ("platform", platform),
        ("instrument", instrument),
        ("acquisitionParameters", acquisition),
        ("acquisitionAngles", angles),
    ):
        if part:
            info[key] = part
    if info:
        props["acquisitionInformation"] = [info]
    if product:
        props["productInformation"] = product
    links: dict[str, list[dict[str, Any]]] = {}
    for link in entry_links(base_url, record):
        links.setdefault(LINK_GROUPS.get(link.rel, link.rel), []).append(_link(link))
    props["links"] = links
    out: dict[str, Any] = {
        "type": "Feature",
        "id": record_url(base_url, record, GEOJSON),
        "geometry": record.geometry,
        "properties": props,
    }
    if record.geometry:
        # A footprint without coordinates has no bbox.
        with contextlib.suppress(EverestError):
            out["bbox"] = list(record.bbox or ())
    return out


def render_collection(result: ResultPage) -> dict[str, Any]:
    """The OGC 17-047 FeatureCollection of one result page."""
    links: dict[str, list[dict[str, Any]]] = {
        "profiles": [{"href": "http://www.opengis.net/spec/owc-geojson/1.0/req/core"}],
        "search": [{"href": result.osdd_url, "type": OSDD}],
    }
    for rel, href in result.links.items():
        links[rel] = [{"href": href, "type": GEOJSON}]
    properties: dict[str, Any] = {
        "title": result.title,
        "updated": iso(result.updated),
        "lang": "en",
        "authors": [{"name": "everest-elearn catalogue", "type": "Agent"}],
        "links": links,
        "totalResultsRelation": "eq" if result.page.total_exact else "gte",
    }
    if result.facets:
        properties["facets"] = result.facets
    if result.explanation is not None:
        properties["subtitle"] = result.explanation.sentence()
        properties["emptyExplanation"] = {
            "parameter": result.explanation.parameter,
            "value": result.explanation.value,
            "totalWithout": result.explanation.total_without,
            "message": result.explanation.sentence(),
        }
    return {
        "type": "FeatureCollection",
        "id": result.self_url,
        "totalResults": result.page.total,
        "itemsPerPage": result.page.count,
        "startIndex": result.page.start_index,
        "queries": {"request": [dict(result.applied)]},
        "properties": properties,
        "features": [feature(r, result.base_url) for r in result.records],
    }
