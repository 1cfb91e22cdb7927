"""The catalogue store interface; backends live in ``backends/`` and pass ``tests/contract``."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

from everest_elearn.catalogue.model import Record
from everest_elearn.catalogue.query import Query


@dataclass
class SearchResult:
    records: list[Record]
    total: int
    # False when total is a lower bound (the backend stopped counting at Query.count_limit).
    total_exact: bool = True
    # field -> value -> count over the whole result (not only this page).
    facets: dict[str, dict[str, int]] = field(default_factory=dict)


@dataclass
class UpsertOutcome:
    identifier: str
    created: bool
    # Set by Catalogue.upsert(partial=True) when the record was refused (nothing stored for it).
    rejected: str | None = None


@dataclass(frozen=True)
class Capabilities:
    """What a backend can do beyond the contract; the API reads these instead of type checks."""

    exact_totals: bool = True
    scales_out: bool = False
    persistent: bool = True
    # The store has ``bulk()``, an async context manager that speeds up many large upserts.
    bulk_load: bool = False
    # The store has ``field_range(query, field)``: a field's smallest and largest value over a
    # query's records without fetching records (description documents' ranges at scale).
    field_ranges: bool = False


@runtime_checkable
class CatalogueStore(Protocol):
    """Stores records and answers queries. All methods may raise BackendUnavailable."""

    capabilities: Capabilities

    async def open(self) -> None:
        """Connect and create what is missing (tables, indices). Idempotent."""

    async def close(self) -> None: ...

    async def upsert(self, records: Sequence[Record]) -> list[UpsertOutcome]:
        """Insert or replace by identifier, atomically per record."""

    async def get(self, identifier: str) -> Record | None: ...

    async def delete(self, identifier: str) -> bool:
        """Delete a record (and, for a collection, its products). True if it existed."""

    async def search(self, query: Query) -> SearchResult: ...

    async def ping(self) -> bool:
        """True when the backend answers."""
