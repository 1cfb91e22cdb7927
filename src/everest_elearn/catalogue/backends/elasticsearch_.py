"""The scale-out catalogue backend: Elasticsearch or OpenSearch (same store, flavour per client).

Layout (``P`` = ``catalogue.index_prefix``)::

    P-collections-v1                  collections       aliases P-collections, P-all
    P-products-<slug>-base            one collection    aliases P-products-<slug>, P-products, P-all
    P-products-<slug>-y2021 ...       its years, once the base index holds
                                      ``elasticsearch_partition_threshold`` products

``es_reindex`` rebuilds an index ``NAME`` as ``NAME.rN`` and makes ``NAME`` an alias of it, so the
store keeps writing to the names above (``logical`` maps a concrete index back to its name).

A product search names the narrowest alias (one collection, or every product), so shards of other
collections are never touched. Every constraint sits in ``bool/filter``; sorting always ends with
the identifier, so pages are stable; pages deeper than ``elasticsearch_max_window`` are reached by
``search_after`` steps instead of ``from``; totals are counted up to ``track_total_hits`` (or
``Query.count_limit``) and reported as a lower bound beyond (``SearchResult.total_exact``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from everest_elearn.catalogue.backends import es_query
from everest_elearn.catalogue.backends.es_client import (
    SERVICE,
    Engine,
    EngineError,
    detect_flavour,
    make_engine,
)
from everest_elearn.catalogue.backends.es_mapping import (
    from_document,
    index_settings,
    logical,
    mapping,
    slug,
    to_document,
)
from everest_elearn.catalogue.backends.es_refine import refined_search
from everest_elearn.catalogue.model import Kind, Record
from everest_elearn.catalogue.query import Query
from everest_elearn.catalogue.store import Capabilities, SearchResult, UpsertOutcome
from everest_elearn.errors import BackendUnavailable, InvalidInput, UpstreamError
from everest_elearn.settings import CatalogueSettings, Settings

CHUNK = 500  # records per bulk request


class ElasticsearchStore:
    """CatalogueStore on an Elasticsearch or OpenSearch cluster."""

    capabilities = Capabilities(exact_totals=False, scales_out=True, persistent=True)

    def __init__(self, settings: Settings | CatalogueSettings) -> None:
        self.settings = settings.catalogue if isinstance(settings, Settings) else settings
        prefix = self.settings.index_prefix.lower()
        self.collections_index = f"{prefix}-collections-v1"
        self.collections_alias = f"{prefix}-collections"
        self.products_alias = f"{prefix}-products"
        self.all_alias = f"{prefix}-all"
        self._engine: Engine | None = None
        self._known: set[str] = set()
        self._partitioned: set[str] = set()

    # -- connection -------------------------------------------------------------------------

    @property
    def engine(self) -> Engine:
        if self._engine is None:
            raise BackendUnavailable(SERVICE)
        return self._engine

    async def open(self) -> None:
        if self._engine is not None:
            return
        s = self.settings
        password = s.elasticsearch_password.get_secret_value() if s.elasticsearch_password else ""
        auth = (s.elasticsearch_username, password) if s.elasticsearch_username else None
        ca = str(s.elasticsearch_ca_certs) if s.elasticsearch_ca_certs else None
        flavour = s.elasticsearch_flavour
        if flavour == "auto":
            flavour = await detect_flavour(s.elasticsearch_url, auth, s.elasticsearch_timeout, ca)
        engine = make_engine(flavour, s.elasticsearch_url, auth, s.elasticsearch_timeout, ca)
        try:
            await engine.info()
            await self._ensure(engine, self.collections_index, [self.collections_alias])
        except BaseException:
            await engine.close()
            raise
        self._engine = engine

    async def close(self) -> None:
        if self._engine is not None:
            engine, self._engine = self._engine, None
            await engine.close()

    async def ping(self) -> bool:
        try:
            await self.engine.info()
        except (BackendUnavailable, EngineError, UpstreamError):
            return False
        return True

    # -- layout -----------------------------------------------------------------------------

    def collection_alias(self, collection: str) -> str:
        return f"{self.products_alias}-{slug(collection)}"

    async def _ensure(self, engine: Engine, index: str, aliases: list[str]) -> None:
        if index in self._known:
            return
        body = {
            "settings": index_settings(self.settings.elasticsearch_max_window),
            "mappings": mapping(),
            "aliases": {alias: {} for alias in [*aliases, self.all_alias]},
        }
        await engine.create_index(index, body)
        self._known.add(index)

    async def _is_partitioned(self, collection: str) -> bool:
        """Sticky: once a collection has a year index, its new products go to year indices."""
        if collection in self._partitioned:
            return True
        names = await self.engine.indices_of(self.collection_alias(collection))
        base = f"{self.collection_alias(collection)}-base"
        threshold = self.settings.elasticsearch_partition_threshold
        if any(logical(name) != base for name in names) or (
            base in names and await self.engine.count(base) >= threshold
        ):
            self._partitioned.add(collection)
            return True
        return False

    async def _target(self, record: Record, partitioned: dict[str, bool]) -> str:
        if record.kind is Kind.COLLECTION:
            return self.collections_index
        parent = record.parent_identifier or ""
        alias = self.collection_alias(parent)
        when = record.start or record.end
        if parent not in partitioned:
            partitioned[parent] = await self._is_partitioned(parent)
        if when is None or not partitioned[parent]:
            index = f"{alias}-base"
        else:
            index = f"{alias}-y{when.year:04d}"
        await self._ensure(self.engine, index, [alias, self.products_alias])
        return index

    async def _locate(self, identifiers: Sequence[str]) -> dict[str, str]:
        """identifier -> the index holding it now."""
        found: dict[str, str] = {}
        step = max(1, min(1000, self.settings.elasticsearch_max_window))
        unique = list(dict.fromkeys(identifiers))
        for i in range(0, len(unique), step):
            chunk = unique[i : i + step]
            body = {
                "query": {"bool": {"filter": [{"terms": {"identifier": chunk}}]}},
                "size": len(chunk),
                "_source": False,
                "track_total_hits": False,
            }
            for hit in (await self.engine.search(self.all_alias, body))["hits"]["hits"]:
                found[hit["_id"]] = logical(hit["_index"])
        return found

    # -- writes -----------------------------------------------------------------------------

    async def upsert(self, records: Sequence[Record]) -> list[UpsertOutcome]:
        outcomes: list[UpsertOutcome] = []
        failures: list[tuple[str, EngineError]] = []
        for i in range(0, len(records), CHUNK):
            done, failed = await self._upsert_chunk(records[i : i + CHUNK])
            outcomes += done
            failures += failed
        if failures:
            identifier, error = failures[0]
            more = f" (and {len(failures) - 1} more)" if len(failures) > 1 else ""
            if error.status == 400:
                raise InvalidInput(f"record {identifier}", f"{error.reason}{more}")
            raise UpstreamError(f"{SERVICE} refused record {identifier}: {error}{more}")
        return outcomes

    async def _upsert_chunk(
        self, records: Sequence[Record]
    ) -> tuple[list[UpsertOutcome], list[tuple[str, EngineError]]]:
        existing = await self._locate([r.identifier for r in records])
        partitioned: dict[str, bool] = {}
        operations: list[dict[str, Any]] = []
        targets: list[str] = []
        for record in records:
            target = await self._target(record, partitioned)
            targets.append(target)
            operations += [{"index": {"_index": target, "_id": record.identifier}}]
            operations.append(to_document(record))
        result = await self.engine.bulk(operations, self.settings.elasticsearch_refresh)
        outcomes: list[UpsertOutcome] = []
        failures: list[tuple[str, EngineError]] = []
        stale: list[dict[str, Any]] = []
        seen: set[str] = set()
        for record, target, item in zip(records, targets, result["items"], strict=True):
            answer = item["index"]
            if "error" in answer:
                error = answer["error"]
                failures.append(
                    (
                        record.identifier,
                        EngineError(
                            answer["status"], error.get("type", ""), error.get("reason", "")
                        ),
                    )
                )
                continue
            previous = existing.get(record.identifier)
            outcomes.append(
                UpsertOutcome(record.identifier, previous is None and record.identifier not in seen)
            )
            seen.add(record.identifier)
            # Moved (new year, other collection, other kind): drop the old copy only now that
            # the new one is stored, so a failure never loses the record.
            if previous is not None and previous != target:
                stale.append({"delete": {"_index": previous, "_id": record.identifier}})
                existing.pop(record.identifier)
        if stale:
            await self.engine.bulk(stale, self.settings.elasticsearch_refresh)
        return outcomes, failures

    async def delete(self, identifier: str) -> bool:
        location = (await self._locate([identifier])).get(identifier)
        if location is None:
            return False
        if location == self.collections_index:
            # A collection's products live only in its own indices: dropping them is the delete.
            names = await self.engine.indices_of(self.collection_alias(identifier))
            await self.engine.delete_indices(names)
            self._known.difference_update(logical(name) for name in names)
            self._partitioned.discard(identifier)
        operation = [{"delete": {"_index": location, "_id": identifier}}]
        await self.engine.bulk(operation, self.settings.elasticsearch_refresh)
        return True

    # -- reads ------------------------------------------------------------------------------

    async def get(self, identifier: str) -> Record | None:
        body = {
            "query": {"bool": {"filter": [{"term": {"identifier": identifier}}]}},
            "size": 1,
            "_source": ["record"],
        }
        hits = (await self.engine.search(self.all_alias, body))["hits"]["hits"]
        return from_document(hits[0]["_source"]) if hits else None

    def read_alias(self, query: Query) -> str:
        if query.kind is Kind.COLLECTION:
            return self.collections_alias
        if query.parent is not None:
            return self.collection_alias(query.parent)
        return self.products_alias

    async def search(self, query: Query) -> SearchResult:
        result = await self._search(query)
        if result.records and not result.total_exact:
            # A lower bound is at least what this page proves exists.
            result.total = max(result.total, query.offset + len(result.records))
        return result

    async def _search(self, query: Query) -> SearchResult:
        if query.offset < 0 or query.limit < 0:
            raise InvalidInput("count", "offset and limit must not be negative")
        if query.geometry is not None and self.settings.elasticsearch_geometry_check == "refine":
            return await refined_search(self, query)
        index = self.read_alias(query)
        base = es_query.body(query)
        window = max(1, self.settings.elasticsearch_max_window)
        head: dict[str, Any] = {**base, "track_total_hits": self._count_bound(query)}
        aggs = es_query.aggregations(query.facets, self.settings.elasticsearch_facet_size)
        if aggs:
            head["aggs"] = aggs
        if query.limit == 0 or query.offset + query.limit <= window:
            offset = 0 if query.limit == 0 else query.offset
            head.update({"from": offset, "size": query.limit, "_source": ["record"]})
            answer = await self.engine.search(index, head)
            return self._result(answer, answer["hits"]["hits"])
        # Deep page: walk by search_after in steps of the window; sources only for the page.
        wanted = query.offset + query.limit
        position, page, after = 0, [], None
        first: dict[str, Any] | None = None
        while position < wanted:
            size = min(window, wanted - position)
            step = head if first is None else {**base, "track_total_hits": False}
            body = {
                **step,
                "size": size,
                "_source": ["record"] if position + size > query.offset else False,
            }
            if after is not None:
                body["search_after"] = after
            answer = await self.engine.search(index, body)
            first = first or answer
            hits = answer["hits"]["hits"]
            page += hits[max(0, query.offset - position) :]
            position += len(hits)
            if len(hits) < size:
                break
            after = hits[-1]["sort"]
        assert first is not None
        return self._result(first, page)

    def _count_bound(self, query: Query) -> int:
        if query.count_limit is not None:
            return max(0, query.count_limit)
        return self.settings.track_total_hits

    def _result(self, head: dict[str, Any], hits: list[dict[str, Any]]) -> SearchResult:
        total = head["hits"].get("total") or {"value": 0, "relation": "eq"}
        facets: dict[str, dict[str, int]] = {}
        for name, agg in (head.get("aggregations") or {}).items():
            facets[name] = {
                str(b.get("key_as_string", b["key"])): int(b["doc_count"]) for b in agg["buckets"]
            }
        return SearchResult(
            records=[from_document(hit["_source"]) for hit in hits],
            total=int(total["value"]),
            total_exact=total.get("relation", "eq") == "eq",
            facets=facets,
        )
