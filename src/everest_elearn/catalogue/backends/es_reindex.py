"""Re-index the search-engine catalogue without downtime: new indices, one atomic alias switch.

Every index the store owns (those under ``P-all``) is rebuilt as ``NAME.rN`` with the current
registry mapping, from the full records each document keeps (so new EO fields are projected, not
just copied). Meanwhile searches keep answering from the old indices, whose writes are blocked
(a write is refused, never lost; harvests retry). One ``_aliases`` call then, atomically per the
engine, puts the new indices under the old ones' aliases, drops the old indices and makes each
``NAME`` an alias of ``NAME.rN``, which is where the store keeps writing. Any failure before that
call deletes the new indices and lifts the block: the catalogue is as it was.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from everest_elearn.catalogue.backends.elasticsearch_ import ElasticsearchStore
from everest_elearn.catalogue.backends.es_client import EngineError
from everest_elearn.catalogue.backends.es_mapping import (
    from_document,
    index_settings,
    logical,
    mapping,
    revision,
    to_document,
)
from everest_elearn.errors import BackendUnavailable, InvalidInput, Unsupported, UpstreamError
from everest_elearn.settings import Settings

log = logging.getLogger(__name__)
Progress = Callable[[str, int, int], Awaitable[None]]
_BLOCK = {"index": {"blocks": {"write": True}}}
_UNBLOCK = {"index": {"blocks": {"write": False}}}


@dataclass(frozen=True)
class Rebuilt:
    """One index rebuilt: its store name, the old and the new concrete index, documents copied."""

    name: str
    old: str
    new: str
    documents: int


@dataclass
class ReindexReport:
    indices: list[Rebuilt] = field(default_factory=list)

    @property
    def documents(self) -> int:
        return sum(r.documents for r in self.indices)


async def reindex_catalogue(
    settings: Settings, *, chunk: int = 500, progress: Progress | None = None
) -> ReindexReport:
    """Open the configured search-engine catalogue and re-index it (the CLI's entry)."""
    if settings.catalogue.backend != "elasticsearch":
        raise Unsupported(
            f"catalogue.backend is {settings.catalogue.backend!r}: only the 'elasticsearch' "
            "backend has indices to rebuild (the embedded catalogue needs no re-indexing)"
        )
    store = ElasticsearchStore(settings)
    await store.open()
    try:
        return await reindex(store, chunk=chunk, progress=progress)
    finally:
        await store.close()


async def reindex(
    store: ElasticsearchStore, *, chunk: int = 500, progress: Progress | None = None
) -> ReindexReport:
    """Rebuild every index of ``store`` (opened) with the current mapping; see the module doc."""
    engine = store.engine
    owned = {
        index: aliases
        for index, aliases in (
            await engine.aliases(f"{store.settings.index_prefix.lower()}-*")
        ).items()
        if store.all_alias in aliases
    }
    plan = [
        Rebuilt(logical(old), old, f"{logical(old)}.r{revision(old) + 1}", 0)
        for old in sorted(owned)
    ]
    if not plan:
        return ReindexReport()
    body = {
        "settings": index_settings(store.settings.elasticsearch_max_window),
        "mappings": mapping(),
    }
    created: list[str] = []
    blocked: list[str] = []
    try:
        for step in plan:
            if not await engine.create_index(step.new, body):
                # Left by an attempt that died before its switch: never in service, rebuild it.
                await engine.delete_indices([step.new])
                await engine.create_index(step.new, body)
            created.append(step.new)
        for step in plan:
            await engine.put_settings(step.old, _BLOCK)
            blocked.append(step.old)
        report = ReindexReport()
        for step in plan:
            copied = await _copy(store, step, chunk, progress)
            report.indices.append(Rebuilt(step.name, step.old, step.new, copied))
        await engine.update_aliases(_switch(plan, owned))
    except BaseException:
        await _roll_back(store, created, blocked)
        raise
    log.info("re-indexed %d indices, %d documents", len(report.indices), report.documents)
    return report


async def _copy(
    store: ElasticsearchStore, step: Rebuilt, chunk: int, progress: Progress | None
) -> int:
    """Page through the old index by identifier and write re-projected documents to the new one."""
    engine, copied, after = store.engine, 0, None
    expected = await engine.count(step.old)
    while True:
        query: dict[str, Any] = {
            "query": {"match_all": {}},
            "size": max(1, chunk),
            "sort": [{"identifier": "asc"}],
            "_source": ["record"],
            "track_total_hits": False,
        }
        if after is not None:
            query["search_after"] = after
        hits = (await engine.search(step.old, query))["hits"]["hits"]
        if not hits:
            break
        operations: list[dict[str, Any]] = []
        for hit in hits:
            try:
                record = from_document(hit["_source"])
            except ValueError as exc:
                raise InvalidInput(f"record {hit['_id']} in {step.old}", str(exc)) from exc
            operations += [{"index": {"_index": step.new, "_id": hit["_id"]}}, to_document(record)]
        answer = await engine.bulk(operations, "false")
        if answer.get("errors"):
            failed = next(i["index"] for i in answer["items"] if "error" in i["index"])
            error = failed["error"]
            raise EngineError(failed["status"], error.get("type", ""), error.get("reason", ""))
        copied += len(hits)
        after = hits[-1]["sort"]
        if progress is not None:
            await progress(step.name, copied, expected)
    await engine.refresh(step.new)
    stored = await engine.count(step.new)
    if stored != expected or copied != expected:
        raise UpstreamError(
            f"re-indexing {step.old}: {expected} documents, {copied} copied, {stored} stored"
        )
    return copied


def _switch(plan: list[Rebuilt], owned: dict[str, list[str]]) -> list[dict[str, Any]]:
    """The one ``_aliases`` call. ``remove_index`` also drops the old index's own aliases."""
    actions: list[dict[str, Any]] = []
    for step in plan:
        for alias in owned[step.old]:
            if alias != step.name:
                actions.append({"add": {"index": step.new, "alias": alias}})
        actions.append({"remove_index": {"index": step.old}})
        actions.append({"add": {"index": step.new, "alias": step.name}})
    return actions


async def _roll_back(store: ElasticsearchStore, created: list[str], blocked: list[str]) -> None:
    engine = store.engine
    for index in blocked:
        try:
            await engine.put_settings(index, _UNBLOCK)
        except (UpstreamError, BackendUnavailable):
            log.error("re-index roll-back: could not lift the write block of %s", index)
    try:
        await engine.delete_indices(created)
    except (UpstreamError, BackendUnavailable):
        log.error("re-index roll-back: could not delete %s", ", ".join(created))
