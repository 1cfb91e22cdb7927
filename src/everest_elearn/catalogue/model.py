"""The catalogue's metadata model: collections (series) and products (granules)."""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

# Identifiers appear in URLs and volume paths: keep them to a safe alphabet.
IDENTIFIER_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._:\-]{0,254}$"


class Kind(StrEnum):
    COLLECTION = "collection"
    PRODUCT = "product"


class LinkRel(StrEnum):
    """Relations used on entries (CEOS BP-012..016)."""

    ENCLOSURE = "enclosure"  # a data file
    ALTERNATE = "alternate"  # metadata in another encoding
    VIA = "via"  # the original metadata document
    ICON = "icon"  # browse image / quicklook
    DESCRIBEDBY = "describedby"
    RELATED = "related"
    LICENSE = "license"


class Link(BaseModel):
    """A link from a record: metadata, browse image or data file."""

    model_config = ConfigDict(extra="forbid")

    href: str = Field(min_length=1)
    rel: str = LinkRel.ENCLOSURE.value
    type: str | None = None
    title: str | None = None
    length: int | None = Field(default=None, ge=0)
    # "<algorithm>:<hex>", e.g. "sha256:ab12..." or "md5:...".
    checksum: str | None = Field(default=None, pattern=r"^(md5|sha1|sha256|sha512):[0-9a-fA-F]+$")


class Record(BaseModel):
    """A collection or a product; EO properties are keyed by the registry's field names."""

    model_config = ConfigDict(extra="forbid")

    identifier: str = Field(pattern=IDENTIFIER_PATTERN)
    kind: Kind = Kind.PRODUCT
    parent_identifier: str | None = Field(default=None, pattern=IDENTIFIER_PATTERN)
    title: str | None = None
    abstract: str | None = None
    keywords: list[str] = Field(default_factory=list)
    # Any GeoJSON geometry in EPSG:4326 (lon, lat); None for collections without a footprint.
    geometry: dict[str, Any] | None = None
    start: datetime | None = None
    end: datetime | None = None
    # OGC 13-026 EO properties, keyed by Parameter.field (see registry.py); validated there.
    properties: dict[str, Any] = Field(default_factory=dict)
    links: list[Link] = Field(default_factory=list)
    # Empty: open to everyone. Otherwise only members of these groups (and admins) see it.
    restricted_to: list[str] = Field(default_factory=list)
    # Free-form extra metadata kept for round-tripping (e.g. STAC assets, band definitions).
    extra: dict[str, Any] = Field(default_factory=dict)
    updated: datetime = Field(default_factory=lambda: datetime.now(UTC))

    @field_validator("start", "end", "updated")
    @classmethod
    def _aware(cls, value: datetime | None) -> datetime | None:
        # Naive times in EO metadata are UTC by convention.
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value

    @model_validator(mode="after")
    def _consistent(self) -> Record:
        if self.kind is Kind.PRODUCT and not self.parent_identifier:
            raise ValueError("a product needs a parent_identifier (its collection)")
        if self.start and self.end and self.end < self.start:
            raise ValueError("end is before start")
        return self

    @property
    def data_links(self) -> list[Link]:
        return [link for link in self.links if link.rel == LinkRel.ENCLOSURE]

    @property
    def bbox(self) -> tuple[float, float, float, float] | None:
        from everest_elearn.catalogue.geometry import bbox_of

        return bbox_of(self.geometry) if self.geometry else None
