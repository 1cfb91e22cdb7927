"""The harvester interface: a source read page by page into catalogue records with their locations.

A harvester never writes to the catalogue. It yields :class:`Page` objects; the agent stores each
page's records and only then persists the page's ``resume`` state, so a crash between two pages
repeats at most one page (upserts by identifier make that harmless) and never skips one.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from everest_elearn.catalogue.ingest.outcome import Problem
from everest_elearn.catalogue.model import Kind, Record
from everest_elearn.packages.manifest import product_dir


def layout(record: Record) -> str:
    """Where a product lives in the gateway's mirror and in package volumes.

    ``<mission>/<product type>/<YYYY-MM-DD>/<product identifier>``: mission is the platform
    (``Sentinel-1``), product type the EO ``productType`` (``GRD``, ``S2MSI2A``), the date that of
    the acquisition start in UTC; each part made safe as a path component, falling back to the
    collection for a missing mission or product type. The packages' ``product_dir`` is the one
    definition, so harvest, gateway and packages cannot disagree.
    """
    return product_dir(record)


def with_layout(record: Record, source: str) -> Record:
    """The record with its harvest provenance and layout path in ``extra['harvest']``."""
    if record.kind is not Kind.PRODUCT:
        return record
    extra = dict(record.extra)
    extra["harvest"] = {"source": source, "layout": layout(record)}
    return record.model_copy(update={"extra": extra})


@dataclass
class Page:
    """One response of a source, parsed: good records, rejected items, and where to go on."""

    records: list[Record] = field(default_factory=list)
    rejected: list[Problem] = field(default_factory=list)
    # Items left out by the source's own filters (product type, area, time, name pattern).
    skipped: int = 0
    # Harvester-specific JSON state that continues the run after this page; None = run complete.
    resume: dict[str, Any] | None = None
    # Largest incremental value (``updated`` or acquisition time) among this page's records.
    mark: datetime | None = None
    bytes: int = 0
    # Where the page came from (URL, prefix, folder), for reports; never carries credentials.
    where: str = ""


@dataclass(frozen=True)
class Cursor:
    """Where a run starts: after ``since`` (incremental), or from ``resume`` (an interrupted run)."""

    since: datetime | None = None
    resume: dict[str, Any] | None = None


class Harvester(Protocol):
    """Reads one configured source. Implementations live in one module per source kind."""

    def pages(self, cursor: Cursor) -> AsyncGenerator[Page, None]:
        """Pages in order; raise ``UpstreamError``/``Timeout`` for a failure of the whole source
        and :class:`LimitReached` when a limit stops it. Per-item problems go in ``rejected``."""
        ...

    async def collections(self) -> list[Record]:
        """Collection records the products need (fetched from the source or declared)."""
        ...

    async def close(self) -> None: ...


class LimitReached(Exception):
    """A per-source limit stopped the run; ``limit`` names it (pages, seconds, bytes, records)."""

    def __init__(self, limit: str, message: str) -> None:
        self.limit = limit
        super().__init__(message)


def latest(*moments: datetime | None) -> datetime | None:
    present = [m for m in moments if m is not None]
    return max(present) if present else None
