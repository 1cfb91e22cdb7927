"""The catalogue service: the one entry point the API, the CLI and the harvesters call."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace
from typing import Any

from everest_elearn.catalogue.checks import check_properties
from everest_elearn.catalogue.geometry_batch import normalise_many
from everest_elearn.catalogue.model import Kind, Record
from everest_elearn.catalogue.query import Interval, Query, SortKey
from everest_elearn.catalogue.registry import REGISTRY, ParamType, Registry
from everest_elearn.catalogue.store import CatalogueStore, SearchResult, UpsertOutcome
from everest_elearn.errors import InvalidInput, NotFound
from everest_elearn.security.identity import Identity, Role


@dataclass(frozen=True)
class Relaxation:
    """Removing one constraint of an empty search would find ``total`` records."""

    # "searchTerms", "uid", "geometry", "time", "parentIdentifier", or a filtered field name
    constraint: str
    parameter: str | None  # the OpenSearch name, e.g. "geo:box" or "eo:cloudCover"
    total: int


@dataclass(frozen=True)
class EmptyExplanation:
    """Why a search found nothing: each single constraint whose removal gives results."""

    relaxations: tuple[Relaxation, ...]
    # How many single constraints were tried; none of them helping means two or more empty it.
    tried: int = 0

    @property
    def best(self) -> Relaxation | None:
        return max(self.relaxations, key=lambda r: r.total, default=None)


@dataclass(frozen=True)
class FieldSummary:
    """The values of one field over the visible records: options (with counts) or a range."""

    field: str
    options: dict[str, int]
    minimum: Any = None
    maximum: Any = None


class Catalogue:
    """Access rules, validation and explanations over any CatalogueStore."""

    def __init__(self, store: CatalogueStore, registry: Registry = REGISTRY) -> None:
        self.store = store
        self.registry = registry

    # -- writes --------------------------------------------------------------------------------

    def validate(self, record: Record) -> Record:
        """The record with a normalised footprint; InvalidInput names the first problem."""
        checked = self._validate_batch([record])[0]
        if isinstance(checked, InvalidInput):
            raise checked
        return checked

    def _validate_batch(self, records: Sequence[Record]) -> list[Record | InvalidInput]:
        """``validate`` of many records; footprints are checked in one vectorised pass."""
        footprints = normalise_many([r.geometry for r in records])
        out: list[Record | InvalidInput] = []
        for record, footprint in zip(records, footprints, strict=True):
            try:
                check_properties(record, self.registry)
            except InvalidInput as exc:
                out.append(exc)
                continue
            if isinstance(footprint, InvalidInput) or footprint is record.geometry:
                out.append(footprint if isinstance(footprint, InvalidInput) else record)
            else:
                out.append(record.model_copy(update={"geometry": footprint}))
        return out

    async def upsert(
        self, records: Sequence[Record], identity: Identity, *, partial: bool = False
    ) -> list[UpsertOutcome]:
        """Insert or replace records. Products need a known collection and inherit its access.

        With ``partial`` a bad record is reported (``rejected``) and the rest are stored; without,
        the first bad record raises InvalidInput and nothing is stored. A stored collection whose
        ``restricted_to`` changes passes the new access on to its stored products first (page by
        page, before the collection itself is written).
        """
        identity.require_catalogue_writer()
        collections: dict[str, Record | None] = {}
        accepted: list[Record] = []
        outcomes: dict[int, UpsertOutcome] = {}
        for index, (record, valid) in enumerate(
            zip(records, self._validate_batch(records), strict=True)
        ):
            try:
                if isinstance(valid, InvalidInput):
                    raise valid
                checked = valid
                if checked.kind is Kind.PRODUCT:
                    checked = await self._inherit(checked, collections)
                else:
                    collections[checked.identifier] = checked
            except InvalidInput as exc:
                if not partial:
                    raise InvalidInput(f"{record.identifier}: {exc.where}", exc.message) from None
                outcomes[index] = UpsertOutcome(record.identifier, created=False, rejected=str(exc))
                continue
            accepted.append(checked)
        # Products first: a restriction never leaves them open behind a closed collection.
        for collection, groups in (await self._access_changes(accepted)).items():
            await self._propagate_access(collection, groups)
        stored = iter(await self.store.upsert(accepted) if accepted else [])
        return [outcomes[i] if i in outcomes else next(stored) for i in range(len(records))]

    async def _access_changes(self, records: list[Record]) -> dict[str, list[str]]:
        """Stored collections of the batch whose ``restricted_to`` changes: id -> new groups."""
        changed: dict[str, list[str]] = {}
        for record in records:
            if record.kind is not Kind.COLLECTION:
                continue
            before = await self.store.get(record.identifier)
            if before is not None and set(before.restricted_to) != set(record.restricted_to):
                changed[record.identifier] = list(record.restricted_to)
        return changed

    async def _propagate_access(self, collection: str, groups: list[str]) -> None:
        """Give the collection's stored products its new access (products inherit it)."""
        page = 1_000
        offset = 0
        while True:
            query = Query(
                parent=collection,
                visible_groups=None,
                offset=offset,
                limit=page,
                sort=(SortKey("identifier"),),
            )
            found = (await self.store.search(query)).records
            stale = [
                r.model_copy(update={"restricted_to": list(groups)})
                for r in found
                if set(r.restricted_to) != set(groups)
            ]
            if stale:
                await self.store.upsert(stale)
            if len(found) < page:
                return
            offset += page

    @asynccontextmanager
    async def bulk(self, identity: Identity) -> AsyncIterator[None]:
        """Run many large upserts faster where the backend can (``Capabilities.bulk_load``)."""
        identity.require_catalogue_writer()
        opener = getattr(self.store, "bulk", None)
        if not self.store.capabilities.bulk_load or opener is None:
            yield
            return
        async with opener():
            yield

    async def _inherit(self, product: Record, known: dict[str, Record | None]) -> Record:
        parent_id = product.parent_identifier
        assert parent_id is not None  # the model requires it for products
        if parent_id not in known:
            found = await self.store.get(parent_id)
            known[parent_id] = found if found and found.kind is Kind.COLLECTION else None
        parent = known[parent_id]
        if parent is None:
            raise InvalidInput("parent_identifier", f"unknown collection {parent_id!r}")
        if parent.restricted_to:
            return product.model_copy(update={"restricted_to": list(parent.restricted_to)})
        return product

    async def delete(self, identifier: str, identity: Identity) -> None:
        """Delete a record (a collection with its products)."""
        identity.require_catalogue_writer()
        if not await self.store.delete(identifier):
            raise NotFound("record", identifier)

    # -- reads ---------------------------------------------------------------------------------

    async def get(self, identifier: str, identity: Identity) -> Record:
        record = await self.store.get(identifier)
        # A restricted record is reported missing: its existence is not revealed.
        if record is None or not identity.may_see(record.restricted_to):
            raise NotFound("record", identifier)
        return record

    @staticmethod
    def visible_groups(identity: Identity) -> frozenset[str] | None:
        return None if Role.ADMIN in identity.roles else identity.groups

    async def search(self, query: Query, identity: Identity) -> SearchResult:
        return await self.store.search(replace(query, visible_groups=self.visible_groups(identity)))

    async def explain_empty(self, query: Query, identity: Identity) -> EmptyExplanation | None:
        """For an empty result: which single constraint, removed, gives results, and how many."""
        base = replace(query, limit=0, offset=0, facets=(), count_limit=None)
        if (await self.search(base, identity)).total > 0:
            return None
        options: list[tuple[str, str | None, Query]] = []
        if query.terms:
            options.append(("searchTerms", "os:searchTerms", replace(base, terms=())))
        if query.uids:
            options.append(("uid", "geo:uid", replace(base, uids=())))
        if query.geometry is not None:
            options.append(("geometry", "geo:geometry", replace(base, geometry=None)))
        if query.time_start is not None or query.time_end is not None:
            options.append(("time", "time:start", replace(base, time_start=None, time_end=None)))
        if query.parent is not None and query.kind is Kind.PRODUCT:
            # A mistyped (or unknown) collection is the commonest way to find nothing.
            options.append(("parentIdentifier", "eo:parentIdentifier", replace(base, parent=None)))
        for field in query.filters:
            param = self.registry.by_field(field)
            rest = {k: v for k, v in query.filters.items() if k != field}
            options.append((field, param.qname if param else None, replace(base, filters=rest)))
        relaxations = []
        for name, parameter, relaxed in options:
            total = (await self.search(relaxed, identity)).total
            if total > 0:
                relaxations.append(Relaxation(name, parameter, total))
        return EmptyExplanation(tuple(relaxations), tried=len(options))

    async def field_summary(
        self,
        field: str,
        identity: Identity,
        parent: str | None = None,
        kind: Kind | None = None,
    ) -> FieldSummary:
        """Options with counts (keyword fields) or minimum and maximum (numbers and dates)."""
        param = self.registry.by_field(field)
        if param is None:
            raise InvalidInput("field", f"{field!r} is not a field of the catalogue")
        level = kind or (Kind.PRODUCT if parent else Kind.COLLECTION)
        base = Query(kind=level, parent=parent, limit=0)
        if param.type not in (ParamType.INT, ParamType.FLOAT, ParamType.DATETIME):
            result = await self.search(replace(base, facets=(field,)), identity)
            return FieldSummary(field, result.facets.get(field, {}))
        # One record each way is all it takes: no total needed (count_limit), the index orders.
        ranges = getattr(self.store, "field_range", None)
        if self.store.capabilities.field_ranges and ranges is not None:
            visible = replace(base, visible_groups=self.visible_groups(identity))
            minimum, maximum = await ranges(visible, field)
            return FieldSummary(field, {}, minimum, maximum)
        present = replace(base, filters={field: Interval()}, limit=1, count_limit=1)
        low = await self.search(replace(present, sort=(SortKey(field, True),)), identity)
        high = await self.search(replace(present, sort=(SortKey(field, False),)), identity)
        minimum = low.records[0].properties.get(field) if low.records else None
        maximum = high.records[0].properties.get(field) if high.records else None
        return FieldSummary(field, {}, minimum, maximum)

    async def collections(self, identity: Identity) -> list[Record]:
        """Every collection the caller may see, by identifier."""
        found: list[Record] = []
        page = 500
        while True:
            query = Query(kind=Kind.COLLECTION, offset=len(found), limit=page)
            result = await self.search(query, identity)
            found.extend(result.records)
            if len(result.records) < page or len(found) >= result.total:
                break
        return sorted(found, key=lambda r: r.identifier)

    async def count(self) -> int:
        """Every record stored (collections and products), whoever may see them."""
        total = 0
        for kind in Kind:
            result = await self.store.search(Query(kind=kind, limit=0, visible_groups=None))
            total += result.total
        return total

    async def ping(self) -> bool:
        return await self.store.ping()
