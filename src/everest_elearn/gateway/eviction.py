"""Keeping the cache within its retention time and size budget; the mirror is never evicted."""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import time
from datetime import UTC, datetime

from everest_elearn.gateway.access import AccessLog
from everest_elearn.gateway.objectstore import ObjectStore, StoredObject
from everest_elearn.gateway.rules import CacheConfig, Eviction
from everest_elearn.gateway.stats import Stats

log = logging.getLogger(__name__)

CACHE_PREFIX = "cache/"
MIRROR_PREFIX = "mirror/"

# A read is written to the shared access log at once when this process has not written that
# object for this many seconds; reads in between wait for the next ``save`` (once a second), so
# a hot object costs a worker at most one write per second, never one per request.
RECORD_SECONDS = 10.0


class CacheKeeper:
    """Evicts expired cache objects, then the least recently used (or oldest) over budget."""

    def __init__(self, store: ObjectStore, stats: Stats, log: AccessLog | None = None) -> None:
        self.store = store
        self.stats = stats
        # Last reads shared by all workers (None: this process only, forgotten at restart).
        self.log = log
        # Last read per cached key in this process; without one, the object's store time.
        self.access: dict[str, float] = {}
        self._written: dict[str, float] = {}  # when this process last wrote a key at once
        self._unsaved: dict[str, float] = {}  # reads not yet in the shared log

    async def touch(self, key: str) -> None:
        """Note a read of ``key`` (mirrored objects are never evicted: nothing to note)."""
        if not key.startswith(CACHE_PREFIX):
            return
        now = time.time()
        self.access[key] = now
        if self.log is None:
            return
        if now - self._written.get(key, 0.0) < RECORD_SECONDS:
            self._unsaved[key] = now
            return
        # At once: another worker evicting a moment later must see this read.
        self._written[key] = now
        self._unsaved.pop(key, None)
        await self._record({key: now})

    async def save(self) -> None:
        """Write this process's reads not yet in the shared log (periodically and at close)."""
        batch, self._unsaved = self._unsaved, {}
        await self._record(batch)

    async def _record(self, times: dict[str, float]) -> None:
        if not times or self.log is None:
            return
        try:
            await asyncio.to_thread(self.log.record, times)
        except sqlite3.Error as exc:
            log.warning("gateway: last-access times not written: %s", exc)
            for key, at in times.items():  # kept for the next save
                self._unsaved[key] = max(at, self._unsaved.get(key, 0.0))

    async def _last_reads(self) -> dict[str, float]:
        """Every worker's last read per key (this process's alone if the log cannot be read)."""
        shared: dict[str, float] = {}
        if self.log is not None:
            await self.save()
            try:
                shared = await asyncio.to_thread(self.log.times)
            except sqlite3.Error as exc:
                log.warning("gateway: last-access times not read: %s", exc)
        for key, at in self.access.items():
            shared[key] = max(at, shared.get(key, 0.0))
        return shared

    async def _forget(self, keys: set[str]) -> None:
        for key in keys:
            self.access.pop(key, None)
            self._written.pop(key, None)
        if self.log is not None and keys:
            try:
                await asyncio.to_thread(self.log.forget, keys)
            except sqlite3.Error as exc:
                log.warning("gateway: last-access times not pruned: %s", exc)

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
        started = time.time()
        reads = await self._last_reads() if config.eviction is Eviction.LRU else {}
        kept: list[tuple[float, StoredObject]] = []
        gone: set[str] = set()
        listed: set[str] = set()
        async for found in self.store.list(CACHE_PREFIX):
            listed.add(found.key)
            meta = found.meta
            if not meta:  # S3 listings carry no metadata
                full = await self.store.stat(found.key)
                if full is None:
                    continue
                meta = full.meta
            if found.key not in protect and expired(meta, now):
                if await self._evict(found, "retention ended"):
                    gone.add(found.key)
                continue
            kept.append((reads.get(found.key, found.modified.timestamp()), found))
        if config.budget is not None:
            total = sum(obj.size for _, obj in kept)
            for _, obj in sorted(kept, key=lambda item: item[0]):
                if total <= config.budget:
                    break
                if obj.key in protect:
                    continue
                if await self._evict(obj, "over the size budget"):
                    gone.add(obj.key)
                total -= obj.size
        # Records of objects gone meanwhile (evicted elsewhere) too; not of any read since.
        stale = {key for key, at in reads.items() if key not in listed and at < started}
        await self._forget(gone | stale)
        return len(gone)

    async def _evict(self, obj: StoredObject, why: str) -> bool:
        if not await self.store.delete(obj.key):
            return False
        self.stats.evictions += 1
        self.stats.bytes_evicted += obj.size
        log.info("evicted %s (%d bytes): %s", obj.key, obj.size, why)
        return True


def expired(meta: dict[str, str], now: datetime) -> bool:
    """Whether a cached object's retention has ended (mirrored objects carry no ``expires``)."""
    expires = meta.get("expires")
    return expires is not None and expires != "" and _parse(expires) <= now


def _parse(value: str) -> datetime:
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return datetime.max.replace(tzinfo=UTC)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
