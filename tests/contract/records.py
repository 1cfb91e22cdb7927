"""Deterministic test records for the contract suite (and for anyone else's tests).

Two collections: ``S2_L2A`` (optical, 11 products ``S2_00`` .. ``S2_10``) and ``S1_GRD`` (radar,
3 products without cloud cover). Product ``S2_i`` has cloud cover ``10 * i``, orbit ``100 + i``,
a 1 x 1 degree footprint with its west edge at longitude ``i`` (latitudes 0..1), and starts on
2023-01-(i+1) at 10:00 for one hour. Expectations are computed from these records, so a test can
say ``expected = ids(p for p in products() if cond.contains(...))``.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

from everest_elearn.catalogue.model import Kind, Link, Record

S2 = "S2_L2A"
S1 = "S1_GRD"
T0 = datetime(2023, 1, 1, 10, 0, tzinfo=UTC)


def box(west: float, south: float, east: float, north: float) -> dict[str, Any]:
    ring = [[west, south], [east, south], [east, north], [west, north], [west, south]]
    return {"type": "Polygon", "coordinates": [ring]}


def collection(
    identifier: str = S2,
    *,
    title: str = "Sentinel-2 Level-2A",
    abstract: str = "Bottom-of-atmosphere reflectance from the MultiSpectral Instrument.",
    keywords: Iterable[str] = ("optical", "land cover"),
    restricted_to: Iterable[str] = (),
    **properties: Any,
) -> Record:
    return Record(
        identifier=identifier,
        kind=Kind.COLLECTION,
        title=title,
        abstract=abstract,
        keywords=list(keywords),
        geometry=box(-180, -90, 180, 90),
        start=datetime(2015, 6, 23, tzinfo=UTC),
        properties=properties,
        restricted_to=list(restricted_to),
    )


def product(
    identifier: str,
    parent: str = S2,
    *,
    geometry: dict[str, Any] | None = None,
    start: datetime | None = T0,
    end: datetime | None = None,
    title: str | None = None,
    restricted_to: Iterable[str] = (),
    **properties: Any,
) -> Record:
    return Record(
        identifier=identifier,
        kind=Kind.PRODUCT,
        parent_identifier=parent,
        title=title or f"Product {identifier}",
        geometry=geometry,
        start=start,
        end=end,
        properties=properties,
        links=[
            Link(
                href=f"https://data.example.org/{identifier}.zip",
                length=1024,
                type="application/zip",
            )
        ],
        restricted_to=list(restricted_to),
    )


def s2_product(i: int) -> Record:
    start = T0 + timedelta(days=i)
    return product(
        f"S2_{i:02d}",
        S2,
        geometry=box(i, 0, i + 1, 1),
        start=start,
        end=start + timedelta(hours=1),
        title=f"Sentinel-2 tile number {i} over the {'north' if i % 2 else 'south'} coast",
        cloudCover=10.0 * i,
        orbitNumber=100 + i,
        platform="S2A" if i % 2 == 0 else "S2B",
        productType="S2MSI2A",
        creationDate=(start + timedelta(days=1)).isoformat(),
    )


def s1_product(i: int) -> Record:
    start = T0 + timedelta(days=20 + i)
    return product(
        f"S1_{i:02d}",
        S1,
        geometry=box(20 + i, 10, 22 + i, 12),
        start=start,
        end=start + timedelta(minutes=1),
        title=f"Sentinel-1 GRD scene {i}",
        platform="S1A",
        productType="GRD",
        polarisationChannels="VV, VH",
        orbitNumber=200 + i,
    )


def products() -> list[Record]:
    return [s2_product(i) for i in range(11)] + [s1_product(i) for i in range(3)]


def collections() -> list[Record]:
    return [
        collection(S2, platform="Sentinel-2", keywords=("optical", "land cover")),
        collection(
            S1,
            title="Sentinel-1 GRD",
            abstract="Synthetic aperture radar ground range detected products.",
            keywords=("radar", "sea ice"),
            platform="Sentinel-1",
        ),
    ]


def everything() -> list[Record]:
    return [*collections(), *products()]


def ids(records: Iterable[Record]) -> list[str]:
    return [r.identifier for r in records]
