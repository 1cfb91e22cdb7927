"""What the object store already holds for a plan, and serving it (cache and mirror hits)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

from everest_elearn.gateway.delivery import ByteRange, FileStream, Origin, Strategy
from everest_elearn.gateway.eviction import expired
from everest_elearn.gateway.objectstore import StoredObject
from everest_elearn.gateway.parts import Parts
from everest_elearn.gateway.planning import Plan
from everest_elearn.gateway.ranges import resolve_range
from everest_elearn.gateway.streams import closer, counted, counted_spans, nothing, whole


class Holdings:
    """Looks up a plan's file in the store (mirror or cache) and opens what it finds."""

    def __init__(self, parts: Parts) -> None:
        self.parts = parts

    async def stored(self, plan: Plan, strategy: Strategy) -> StoredObject | None:
        order = (Strategy.MIRROR, Strategy.CACHE)
        if strategy is Strategy.CACHE:
            order = (Strategy.CACHE, Strategy.MIRROR)
        for kind in order:
            found = await self.stored_as(plan, kind)
            if found is not None:
                return found
        return None

    async def stored_as(self, plan: Plan, kind: Strategy) -> StoredObject | None:
        found = await self.parts.store.stat(plan.key(kind))
        if found is None:
            return None
        wanted = plan.sha256
        if wanted is not None and found.meta.get("sha256") != wanted:
            return None  # the catalogue now names another file: stale, fetch anew
        if kind is Strategy.CACHE and expired(found.meta, datetime.now(UTC)):
            return None  # retention ended (eviction may not have run yet): fetch anew
        return found

    def lander(self, key: str) -> Callable[[], Awaitable[int | None]]:
        """The stored size of ``key`` (None while absent): how a followed download ended."""

        async def landed() -> int | None:
            found = await self.parts.store.stat(key)
            return found.size if found is not None else None

        return landed

    async def hit(
        self, plan: Plan, stored: StoredObject, byte_range: ByteRange | None, body: bool = True
    ) -> FileStream:
        start, end = resolve_range(byte_range, stored.size)
        if body:
            self.parts.stats.hits += 1
            await self.parts.keeper.touch(stored.key)
        fd = await self.parts.store.open_file(stored.key) if end is not None and body else None
        meta = stored.meta
        sha = meta.get("sha256")
        modified = meta.get("last_modified")
        return FileStream(
            name=plan.name,
            media_type=plan.media_type(meta.get("content_type")),
            size=stored.size,
            start=start,
            end=end,
            etag=f'"{sha}"' if sha else meta.get("etag"),
            last_modified=datetime.fromisoformat(modified) if modified else stored.modified,
            strategy=plan.decision.strategy,
            rule=plan.decision.rule.name,
            origin=Origin.HIT,
            chunks=(
                counted(self.parts.stats, self.parts.store.read(stored.key, start, end))
                if body
                else nothing()
            ),
            checksum=f"sha256:{sha}" if sha else None,
            spans=(
                counted_spans(self.parts.stats, whole(fd, start, end))
                if fd is not None and end is not None
                else None
            ),
            _closers=[closer(fd)] if fd is not None else [],
        )
