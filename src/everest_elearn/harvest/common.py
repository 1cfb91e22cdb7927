"""What every harvester shares: turning a parsed document into a page, marks, declared collections."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from everest_elearn.catalogue.ingest.outcome import Parsed, Problem
from everest_elearn.catalogue.model import Kind, Record
from everest_elearn.errors import UpstreamError
from everest_elearn.harvest.harvester import Page, latest, with_layout
from everest_elearn.harvest.sources import SourceConfig


def mark_of(record: Record, incremental: str) -> datetime | None:
    """The value incremental runs compare: metadata ``updated`` or acquisition start."""
    if incremental == "updated":
        raw = record.properties.get("modificationDate")
        if isinstance(raw, str):
            try:
                moment = datetime.fromisoformat(raw.replace("Z", "+00:00"))
            except ValueError:
                return None
            return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
        return None
    return record.start


def page_of(parsed: Parsed, config: SourceConfig, where: str, size: int) -> Page:
    """A page from a parsed response: products only (into the target collection), with layout."""
    page = Page(rejected=list(parsed.rejected), bytes=size, where=where)
    lost: dict[int, list[str]] = {}
    for warning in parsed.warnings:
        lost.setdefault(warning.position or 0, []).append(warning.reason)
    for position, record in parsed.records:
        if record.kind is not Kind.PRODUCT:
            continue  # a search response may list its collection too; collections come separately
        wanted = config.product_type
        if wanted and str(record.properties.get("productType", "")).lower() != wanted.lower():
            page.skipped += 1  # the source's product type filter, applied on our side too
            continue
        if position in lost:
            # The parser dropped part of this item (a link, a value): the catalogue gets whole
            # records from a harvest or none, so the provider's error shows and can be fixed.
            reason = "; ".join(lost[position])
            page.rejected.append(Problem(reason, position, record.identifier, where))
            continue
        if record.parent_identifier != config.target:
            record = record.model_copy(update={"parent_identifier": config.target})
        page.records.append(with_layout(record, config.name))
        page.mark = latest(page.mark, mark_of(record, config.incremental))
    return page


def declared_collection(config: SourceConfig) -> Record:
    """The collection a source's products go into, when the source itself describes none."""
    return Record(
        identifier=config.target,
        kind=Kind.COLLECTION,
        title=config.title or config.target,
        abstract=f"Products harvested from the {config.kind} source '{config.name}'.",
        properties={"productType": config.product_type} if config.product_type else {},
    )


def renamed_collection(record: Record, config: SourceConfig) -> Record:
    """A provider's collection stored under the source's target identifier."""
    if record.identifier == config.target:
        return record
    return record.model_copy(update={"identifier": config.target})


def reject(reason: str, where: str, identifier: str | None = None) -> Problem:
    return Problem(reason, None, identifier, where)


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def window(config: SourceConfig, since: datetime | None) -> tuple[datetime | None, datetime | None]:
    """The acquisition window of a run: the source's time filter, narrowed by ``since``."""
    start = config.start
    if since is not None and config.incremental == "datetime":
        start = max(start, since) if start else since
    return start, config.end


def find_next(document: Any) -> dict[str, Any] | None:
    """The ``next`` link of a STAC, OGC 17-047 or resto GeoJSON response, as found.

    Raises UpstreamError for a ``next`` link without a usable ``href``: taken as the last page,
    it would end the run as complete and move the checkpoint past the pages still to come.
    """
    if not isinstance(document, dict):
        return None
    candidates: list[Any] = []
    links = document.get("links")
    if isinstance(links, list):
        candidates.extend(links)
    props = document.get("properties")
    if isinstance(props, dict):
        inner = props.get("links")
        if isinstance(inner, list):  # resto
            candidates.extend(inner)
        elif isinstance(inner, dict) and isinstance(inner.get("next"), list):  # OGC 17-047
            candidates.extend(
                {**link, "rel": "next"} for link in inner["next"] if isinstance(link, dict)
            )
    for link in candidates:
        if isinstance(link, dict) and link.get("rel") == "next":
            href = link.get("href")
            if not isinstance(href, str) or not href.strip():
                raise UpstreamError(f"its next link has no usable href ({str(href)[:40]!r})")
            return link
    return None
