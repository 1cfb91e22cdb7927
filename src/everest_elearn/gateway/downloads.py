"""Files the store does not hold yet: one download per file on the host, kept once verified."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime

from everest_elearn.errors import BackendUnavailable, InvalidInput, UpstreamError
from everest_elearn.gateway.delivery import ByteRange, FileStream, Origin, Strategy
from everest_elearn.gateway.flight import ChecksumMismatch, Flight
from everest_elearn.gateway.follow import RemoteFlight
from everest_elearn.gateway.holdings import Holdings
from everest_elearn.gateway.lease import Lease
from everest_elearn.gateway.parts import Parts
from everest_elearn.gateway.planning import Plan
from everest_elearn.gateway.ranges import resolve_range
from everest_elearn.gateway.streams import counted, counted_spans

log = logging.getLogger(__name__)


class Downloads:
    """Starts or joins the download of a plan's file (cache misses, mirroring ahead of need)."""

    def __init__(self, parts: Parts, holdings: Holdings) -> None:
        self.parts = parts
        self.holdings = holdings

    async def miss(
        self, plan: Plan, strategy: Strategy, byte_range: ByteRange | None
    ) -> FileStream:
        """Serve a file the store lacks, from the one download of it on this host."""
        keys = (plan.key(Strategy.MIRROR), plan.key(Strategy.CACHE))
        landers = [self.holdings.lander(key) for key in keys]
        fetcher, stats = self.parts.fetcher, self.parts.stats
        flight: Flight | RemoteFlight | None = None
        # A few rounds: another worker may claim, finish or fail the download between our looks.
        for _ in range(100):
            flight = fetcher.join(keys[0], landers[0]) or fetcher.join(keys[1], landers[1])
            if flight is not None:
                stats.joined_fetches += 1
                break
            lease = fetcher.claim(plan.key(strategy))
            if lease is None:
                await asyncio.sleep(0.01)  # claimed a moment ago: follow it next round
                continue
            # Another worker may have stored it between our first look and the claim.
            try:
                stored = await self.holdings.stored(plan, strategy)
            except BackendUnavailable:
                lease.release()  # the caller falls back; a later request may download
                raise
            if stored is not None:
                lease.release()
                return await self.holdings.hit(plan, stored, byte_range)
            flight = self.start(plan, strategy, lease)
            break
        if flight is None:
            raise UpstreamError("another worker keeps claiming this download without serving it")
        stats.misses += 1
        await flight.started()
        if flight.error is not None:
            raise UpstreamError(str(flight.error))
        start, end = resolve_range(byte_range, flight.size)
        return FileStream(
            name=plan.name,
            media_type=plan.media_type(flight.media_type),
            size=flight.size,
            start=start,
            end=end,
            etag=plan.etag,
            last_modified=flight.last_modified or datetime.now(UTC),
            strategy=plan.decision.strategy,
            rule=plan.decision.rule.name,
            origin=Origin.MISS,
            chunks=counted(stats, flight.read(start, end)),
            checksum=plan.link.checksum,
            spans=counted_spans(stats, flight.spans(start, end)),
        )

    def start(self, plan: Plan, strategy: Strategy, lease: Lease) -> Flight:
        """Download the file under ``lease``; it is kept (as ``strategy`` says) when verified."""
        self.parts.stats.upstream_fetches += 1
        return self.parts.fetcher.start(
            lease,
            plan.link.checksum,
            plan.link.length,
            lambda: self.parts.upstream.open(plan.source, plan.link.href),
            lambda f, ok: self._finish(plan, strategy, f, ok),
        )

    async def _finish(self, plan: Plan, strategy: Strategy, flight: Flight, ok: bool) -> None:
        """Called once per download: keep the verified file, or count why not."""
        self.parts.stats.bytes_fetched += flight.written
        if not ok:
            if isinstance(flight.error, ChecksumMismatch):
                self.parts.stats.checksum_failures += 1
            self.parts.stats.upstream_errors += 1
            log.warning("gateway: fetch of %s failed, nothing kept: %s", plan.path, flight.error)
            return
        upstream = flight.upstream
        now = datetime.now(UTC)
        meta = {
            "sha256": flight.sha256 or "",
            "content_type": plan.media_type(flight.media_type),
            "strategy": strategy.value,
            "source": plan.source.name,
            "fetched_at": now.isoformat(),
        }
        if upstream and upstream.etag:
            meta["etag"] = upstream.etag.encode("ascii", "replace").decode()
        if upstream and upstream.last_modified:
            meta["last_modified"] = upstream.last_modified.isoformat()
        if strategy is Strategy.CACHE:
            retention = plan.decision.rule.retention or self.parts.rules.rules.cache.retention
            meta["expires"] = (now + retention).isoformat()
        try:
            await self.parts.store.put_file(flight.key, flight.spool, meta)
            self.parts.stats.bytes_stored += flight.written
            await self.parts.keeper.touch(flight.key)
            if strategy is Strategy.CACHE:
                protect = frozenset(self.parts.fetcher.flights) | {flight.key}
                await self.parts.keeper.enforce(self.parts.rules.rules.cache, protect)
        except BackendUnavailable:
            self.parts.stats.store_errors += 1
            log.warning(
                "gateway: object store %s unreachable; %s was served but not kept",
                self.parts.store.name,
                plan.path,
            )
        except InvalidInput as exc:  # the store refused this object: it is up, do not say down
            self.parts.stats.store_errors += 1
            log.error("gateway: %s was served but not kept: %s", plan.path, exc)
