"""A record under construction: parsers fill it from any format, ``finish()`` validates it once."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from pydantic import ValidationError

from everest_elearn.catalogue.ingest import values
from everest_elearn.catalogue.ingest.outcome import Reject
from everest_elearn.catalogue.model import Kind, Link, Record

_SENTINEL = re.compile(r"^(?:sentinel[-_ ]?|s)(\d)([a-d])?$", re.IGNORECASE)
_SENSOR_TYPES = {"OPTIC": "OPTICAL", "SAR": "RADAR", "ALTIMETER": "ALTIMETRIC"}


def platform(value: str) -> tuple[str, str | None]:
    """Platform and serial identifier: 'sentinel-2b', 'S2B', 'Sentinel2' -> ('Sentinel-2', 'B')."""
    match = _SENTINEL.match(value.strip())
    if match:
        serial = match.group(2)
        return f"Sentinel-{match.group(1)}", serial.upper() if serial else None
    return value.strip(), None


# What a parser returns for one item: the record and non-fatal warnings (dropped links, ...).
Entry = tuple[Record, list[str]]


@dataclass
class Draft:
    identifier: str
    kind: Kind = Kind.PRODUCT
    parent: str | None = None
    title: str | None = None
    abstract: str | None = None
    keywords: list[str] = field(default_factory=list)
    geometry: dict[str, Any] | None = None
    start: datetime | None = None
    end: datetime | None = None
    # Raw EO values keyed by registry field; coerced and range-checked in finish().
    properties: dict[str, Any] = field(default_factory=dict)
    links: list[Link] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)

    def set(self, name: str, value: Any) -> None:
        """Set an EO property unless a more specific source already did."""
        if value is not None and value != "" and value != [] and name not in self.properties:
            self.properties[name] = value

    def set_platform(self, value: Any) -> None:
        if isinstance(value, str) and value.strip():
            name, serial = platform(value)
            self.set("platform", name)
            self.set("platformSerialIdentifier", serial)
        elif value is not None and value != "":
            # Said, not silently lost: harvests reject records that lost a part.
            self.warnings.append(f"platform: {str(value)[:40]!r} is not text; dropped")

    def add_link(self, href: Any, rel: str, **kw: Any) -> None:
        if len(self.links) >= values.MAX_LINKS:
            self.warnings.append(f"more than {values.MAX_LINKS} links; the rest dropped")
            return
        try:
            new = values.link(
                href, rel, kw.get("type"), kw.get("title"), kw.get("length"), kw.get("checksum")
            )
        except Reject as exc:
            self.warnings.append(str(exc))
            return
        if not any(old.href == new.href and old.rel == new.rel for old in self.links):
            self.links.append(new)

    def finish(self) -> Record:
        if self.kind is Kind.PRODUCT:
            if self.geometry is None:
                raise Reject("geometry: a product needs a footprint")
            if self.start is None:
                raise Reject("time: a product needs an acquisition time")
            if not self.parent:
                raise Reject(
                    "parentIdentifier: the product names no collection (give one with the "
                    "ingest's collection option)"
                )
        if self.parent == self.identifier:
            raise Reject("parentIdentifier: a record cannot be its own collection")
        sensor = self.properties.get("sensorType")
        if isinstance(sensor, str):
            self.properties["sensorType"] = _SENSOR_TYPES.get(sensor.upper(), sensor.upper())
        for name in ("orbitDirection", "antennaLookDirection"):
            if isinstance(self.properties.get(name), str):
                self.properties[name] = self.properties[name].upper()
        props = values.eo_properties(self.properties)
        try:
            return Record(
                identifier=self.identifier,
                kind=self.kind,
                parent_identifier=self.parent if self.kind is Kind.PRODUCT else None,
                title=values.text(self.title, "title", 1024),
                abstract=values.text(self.abstract, "abstract", values.MAX_ABSTRACT),
                keywords=self.keywords,
                geometry=self.geometry,
                start=self.start,
                end=self.end,
                properties=props,
                links=self.links,
                extra=self.extra,
            )
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first.get("loc", ())) or "record"
            raise Reject(f"{where}: {first.get('msg', 'invalid')}") from None
