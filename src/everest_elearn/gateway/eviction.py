"""Keeping the cache within its retention time and size budget; the mirror is never evicted."""

from __future__ import annotations

import logging
import time
from datetime import UTC, datetime

from everest_elearn.gateway.objectstore import ObjectStore, StoredObject
from everest_elearn.gateway.rules import CacheConfig, Eviction
from everest_elearn.gateway.stats import Stats

log = logging.getLogger(__name__)

CACHE_PREFIX = "cache/"
MIRROR_PREFIX = "mirror/"


class CacheKeeper:
    """Evicts expired cache objects, then the least recently used (or oldest) over budget."""

    def __init__(self, store: ObjectStore, stats: Stats) -> None:
        self.store = store
        self.stats = stats
        # Last access per key, in this process; falls back to the object's store time.
        self.access: dict[str, float] = {}

    def touch(self, key: str) -> None:
        self.access[key] = time.time()

    async def usage(self) -> dict[str, dict[str, int]]:
        out: dict[str, dict[str, int]] = {}
        for name, prefix in (("cache", CACHE_PREFIX), ("mirror", MIRROR_PREFIX)):
            objects = bytes_ = 0
            async for found in self.store.list(prefix):
                objects += 1
                bytes_ += found.size
            out[name] = {"objects": objects, "bytes": bytes_}
        return out

    async def enforce(self, config: CacheConfig, protect: frozenset[str] = frozenset()) -> int:
        """Apply retention and budget now; returns the number of objects evicted."""
        now = datetime.now(UTC)
        kept: list[tuple[float, StoredObject]] = []
        evicted = 0
        async for found in self.store.list(CACHE_PREFIX):
            meta = found.meta
            if not meta:  # S3 listings carry no metadata
                full = await self.store.stat(found.key)
                if full is None:
                    continue
                meta = full.meta
            expires = meta.get("expires")
            if found.key not in protect and expires and _parse(expires) <= now:
                evicted += await self._evict(found, "retention ended")
                continue
            stamp = found.modified.timestamp()
            if config.eviction is Eviction.LRU:
                stamp = self.access.get(found.key, stamp)
            kept.append((stamp, found))
        if config.budget is not None:
            total = sum(obj.size for _, obj in kept)
            for _, obj in sorted(kept, key=lambda item: item[0]):
                if total <= config.budget:
                    break
                if obj.key in protect:
                    continue
                evicted += await self._evict(obj, "over the size budget")
                total -= obj.size
        return evicted

    async def _evict(self, obj: StoredObject, why: str) -> int:
        if not await self.store.delete(obj.key):
            return 0
        self.access.pop(obj.key, None)
        self.stats.evictions += 1
        self.stats.bytes_evicted += obj.size
        log.info("evicted %s (%d bytes): %s", obj.key, obj.size, why)
        return 1


def _parse(value: str) -> datetime:
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return datetime.max.replace(tzinfo=UTC)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
