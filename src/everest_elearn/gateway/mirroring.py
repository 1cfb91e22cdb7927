"""Mirroring ahead of need (for the data agent): a file into the mirror before anyone asks."""

from __future__ import annotations

import asyncio

from everest_elearn.errors import UpstreamError
from everest_elearn.gateway.delivery import Strategy
from everest_elearn.gateway.downloads import Downloads
from everest_elearn.gateway.holdings import Holdings
from everest_elearn.gateway.lease import Lease
from everest_elearn.gateway.objectstore import StoredObject
from everest_elearn.gateway.parts import Parts
from everest_elearn.gateway.planning import Plan


class Mirroring:
    """Puts a plan's file into the mirror once, whichever worker of the host asks."""

    def __init__(self, parts: Parts, holdings: Holdings, downloads: Downloads) -> None:
        self.parts = parts
        self.holdings = holdings
        self.downloads = downloads

    async def mirror(self, plan: Plan) -> str:
        """The file's mirror key once it is there (copied from the cache, or downloaded)."""
        key, cache_key = plan.key(Strategy.MIRROR), plan.key(Strategy.CACHE)
        landed, cache_landed = self.holdings.lander(key), self.holdings.lander(cache_key)
        fetcher = self.parts.fetcher
        for _ in range(100):
            if await self.holdings.stored_as(plan, Strategy.MIRROR) is not None:
                return key
            cached = await self.holdings.stored_as(plan, Strategy.CACHE)
            if cached is not None:
                copying = fetcher.claim(key)  # one worker copies; the others wait
                if copying is None:
                    await asyncio.sleep(0.05)
                    continue
                try:
                    await self._copy(cached, copying)
                finally:
                    copying.release()
                return key
            if fetcher.join(cache_key, cache_landed) is not None:
                await fetcher.settled(cache_key, cache_landed)
                continue  # then copy the cached file
            flight = fetcher.join(key, landed)
            if flight is None:
                lease = fetcher.claim(key)
                if lease is None:
                    await asyncio.sleep(0.05)  # claimed a moment ago: wait for it next round
                    continue
                if await self.holdings.stored_as(plan, Strategy.MIRROR) is not None:
                    lease.release()
                    return key
                flight = self.downloads.start(plan, Strategy.MIRROR, lease)
            # Nobody needs to read the bytes: the download runs (and is stored) by itself.
            await fetcher.settled(key, landed)
            if await self.holdings.stored_as(plan, Strategy.MIRROR) is not None:
                return key
            why = str(flight.error) if flight.error is not None else "it could not be kept"
            raise UpstreamError(f"{plan.path} was not mirrored: {why}")
        raise UpstreamError(f"{plan.path} was not mirrored: other workers kept claiming it")

    async def _copy(self, cached: StoredObject, lease: Lease) -> None:
        """Keep a verified cached copy in the mirror too (no expiry), staged in the lease's
        spool file."""
        handle = await asyncio.to_thread(open, lease.part, "wb")
        try:
            async for chunk in self.parts.store.read(cached.key):
                await asyncio.to_thread(handle.write, chunk)
        finally:
            handle.close()
        meta = {k: v for k, v in cached.meta.items() if k not in ("expires", "size")}
        meta["strategy"] = Strategy.MIRROR.value
        await self.parts.store.put_file(lease.key, lease.part, meta)
        self.parts.stats.bytes_stored += cached.size
