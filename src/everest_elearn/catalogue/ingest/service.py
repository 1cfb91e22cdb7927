"""Bulk ingest: parse documents, order collections first, upsert in batches, report per item.

What the report counts (each received item lands in exactly one of these):

- ``created`` / ``updated``: stored (upsert by identifier; ``ingested`` is their sum);
- ``skipped``: items that are not records (a STAC Catalog, an unsupported file in a folder) and
  exact duplicates of an item met earlier in the same ingest (same identifier, same content);
- ``rejected``: everything else, each with its source, 1-based position, identifier and reason:
  items that fail validation, a second item with an identifier already used in the same ingest but
  with different content (ambiguous: neither wins), products whose collection is neither stored
  nor part of the ingest, whole documents that cannot be read.

``warnings`` list what was dropped from stored records (e.g. a ``file:`` link). One bad item never
stops the others, and a rejected item leaves the stored record with its identifier untouched.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from typing import Any

from everest_elearn.catalogue.ingest.detect import parse_document
from everest_elearn.catalogue.ingest.outcome import Parsed, Problem
from everest_elearn.catalogue.model import Kind, Record
from everest_elearn.catalogue.service import Catalogue
from everest_elearn.security.identity import Identity

BATCH_SIZE = 500
# From this many records on, the store's bulk mode (indices rebuilt once at the end) pays off.
BULK_THRESHOLD = 50_000
Progress = Callable[[int, int], None]


@dataclass
class IngestReport:
    """The outcome of one ingest; ``received`` = ingested + skipped + rejected."""

    received: int = 0
    created: int = 0
    updated: int = 0
    skipped: list[Problem] = field(default_factory=list)
    rejected: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)
    # Detected format -> number of documents.
    formats: dict[str, int] = field(default_factory=dict)

    @property
    def ingested(self) -> int:
        return self.created + self.updated

    def to_dict(self) -> dict[str, Any]:
        def rows(problems: list[Problem]) -> list[dict[str, Any]]:
            return [
                {"source": p.source, "position": p.position, "identifier": p.identifier,
                 "reason": p.reason}
                for p in problems
            ]  # fmt: skip

        return {
            "received": self.received,
            "ingested": self.ingested,
            "created": self.created,
            "updated": self.updated,
            "skipped": len(self.skipped),
            "rejected": len(self.rejected),
            "skipped_items": rows(self.skipped),
            "rejected_items": rows(self.rejected),
            "warnings": rows(self.warnings),
            "formats": self.formats,
        }


@dataclass
class _Item:
    record: Record
    problem: Problem  # where it came from (reason unused until it is rejected)


def _fingerprint(record: Record) -> str:
    return record.model_dump_json(exclude={"updated"})


def _collect(documents: Iterable[Parsed], report: IngestReport) -> list[_Item]:
    """Every parsed record once, collections first; duplicates skipped or rejected."""
    seen: dict[str, tuple[str, _Item]] = {}
    items: list[_Item] = []
    for parsed in documents:
        report.formats[parsed.format] = report.formats.get(parsed.format, 0) + 1
        report.received += parsed.received
        report.rejected.extend(parsed.rejected)
        report.skipped.extend(parsed.skipped)
        for position, record in parsed.records:
            where = Problem("", position, record.identifier, parsed.source)
            earlier = seen.get(record.identifier)
            if earlier is not None:
                first = earlier[1].problem.describe().rstrip(": ")
                if earlier[0] == _fingerprint(record):
                    report.skipped.append(_with(where, f"duplicate of {first}"))
                else:
                    report.rejected.append(
                        _with(where, f"identifier also used by {first} with different content")
                    )
                continue
            item = _Item(record, where)
            seen[record.identifier] = (_fingerprint(record), item)
            items.append(item)
        report.warnings.extend(parsed.warnings)
    items.sort(key=lambda item: item.record.kind is not Kind.COLLECTION)
    return items


def _with(where: Problem, reason: str) -> Problem:
    return Problem(reason, where.position, where.identifier, where.source)


def _explain(reason: str) -> str:
    if "unknown collection" in reason:
        return (
            f"{reason}: ingest the collection first or in the same batch, or assign the "
            "products to a stored collection (collection option)"
        )
    return reason


async def ingest_parsed(
    catalogue: Catalogue,
    documents: Iterable[Parsed],
    identity: Identity,
    *,
    batch_size: int = BATCH_SIZE,
    progress: Progress | None = None,
) -> IngestReport:
    """Store the records of already parsed documents and report on every item."""
    identity.require_catalogue_writer()
    report = IngestReport()
    items = _collect(documents, report)
    async with AsyncExitStack() as stack:
        if len(items) >= BULK_THRESHOLD:
            await stack.enter_async_context(catalogue.bulk(identity))
        await _store(catalogue, items, identity, report, batch_size, progress)
    report.warnings = [w for w in report.warnings if not _was_rejected(w, report.rejected)]
    return report


async def _store(
    catalogue: Catalogue,
    items: list[_Item],
    identity: Identity,
    report: IngestReport,
    batch_size: int,
    progress: Progress | None,
) -> None:
    done = 0
    for start in range(0, len(items), batch_size):
        batch = items[start : start + batch_size]
        outcomes = await catalogue.upsert([i.record for i in batch], identity, partial=True)
        for item, outcome in zip(batch, outcomes, strict=True):
            if outcome.rejected:
                report.rejected.append(_with(item.problem, _explain(outcome.rejected)))
            elif outcome.created:
                report.created += 1
            else:
                report.updated += 1
        done += len(batch)
        if progress:
            progress(done, len(items))


def _was_rejected(warning: Problem, rejected: list[Problem]) -> bool:
    return any(r.identifier == warning.identifier and r.source == warning.source for r in rejected)


async def ingest(
    catalogue: Catalogue,
    source: bytes | Iterable[tuple[str, bytes]],
    identity: Identity,
    *,
    collection: str | None = None,
    batch_size: int = BATCH_SIZE,
    progress: Progress | None = None,
) -> IngestReport:
    """Ingest one document (bytes) or several (name, bytes); ``collection`` assigns products."""
    identity.require_catalogue_writer()
    named = [("", source)] if isinstance(source, bytes) else source
    parsed = (parse_document(data, parent=collection, source=name or None) for name, data in named)
    return await ingest_parsed(
        catalogue, parsed, identity, batch_size=batch_size, progress=progress
    )
