"""The gateway service: the one entry point for the API, the CLI and the packages builder."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import os
import uuid
from pathlib import Path

from everest_elearn.catalogue.model import Record
from everest_elearn.errors import BackendUnavailable, Forbidden
from everest_elearn.gateway.access import AccessLog
from everest_elearn.gateway.delivery import (
    ByteRange,
    FetchedFile,
    FileStream,
    Origin,
    ProductLookup,
    Redirect,
    Strategy,
)
from everest_elearn.gateway.downloads import Downloads
from everest_elearn.gateway.eviction import CacheKeeper
from everest_elearn.gateway.flight import Fetcher
from everest_elearn.gateway.holdings import Holdings
from everest_elearn.gateway.mirroring import Mirroring
from everest_elearn.gateway.objectstore import ObjectStore
from everest_elearn.gateway.parts import Parts
from everest_elearn.gateway.pipe import fall_back, pipe
from everest_elearn.gateway.planning import Plan, file_name_of, find_product, make_plan
from everest_elearn.gateway.ranges import resolve_range
from everest_elearn.gateway.reloader import RulesHolder
from everest_elearn.gateway.reporting import Reporting
from everest_elearn.gateway.stats import Ledger, Stats
from everest_elearn.gateway.streams import nothing
from everest_elearn.gateway.upstream import Upstream
from everest_elearn.security.identity import Identity

log = logging.getLogger(__name__)

__all__ = ["Gateway", "Plan", "file_name_of"]


class Gateway:
    """Applies the rules and policies to a product's file and delivers its bytes.

    Programmatic interface (used by the packages builder):

    - ``await gateway.open(product, file_name, identity, byte_range=None) -> FileStream``:
      an async byte stream plus metadata (size, media type, ETag, Last-Modified, strategy,
      origin). Never a redirect: for a ``redirect`` rule the gateway fetches from the source
      itself. Use ``async with await gateway.open(...) as stream: async for chunk in stream``.
    - ``await gateway.fetch_to(product, file_name, dest, identity) -> FetchedFile``: writes the
      file to ``dest`` (temporary name, checksum verified, then renamed) through the rules,
      cache and mirror.
    - ``await gateway.serve(...) -> Redirect | FileStream``: what the HTTP endpoint uses.

    ``file_name`` is the last path segment of one of the product's enclosure links.
    Errors: ``NotFound`` (no such file), ``Forbidden`` (no rule or policy grants it, or its
    location is not a source the rules name), ``UpstreamError`` (provider failed, checksum
    mismatch), ``BackendUnavailable`` (object store down and the rule allows no fallback).
    """

    def __init__(
        self,
        rules: RulesHolder,
        store: ObjectStore,
        upstream: Upstream,
        fetcher: Fetcher,
        stats: Stats | None = None,
        lookup: ProductLookup | None = None,
        ledger: Path | None = None,
        access_log: Path | None = None,
    ) -> None:
        self.rules = rules
        self.store = store
        self.upstream = upstream
        self.fetcher = fetcher
        self.stats = stats or Stats()  # this process's counters
        # Sums over every worker of the data directory (None: this process only).
        self.ledger = Ledger(ledger, self.stats) if ledger is not None else None
        # Last reads of cached objects, shared by the workers (None: this process only).
        log_ = AccessLog(access_log) if access_log is not None else None
        self.keeper = CacheKeeper(store, self.stats, log_)
        self.lookup = lookup
        self._parts = Parts(rules, store, upstream, fetcher, self.stats, self.keeper)
        self._holdings = Holdings(self._parts)
        self._downloads = Downloads(self._parts, self._holdings)
        self._mirroring = Mirroring(self._parts, self._holdings, self._downloads)
        self._reporting = Reporting(self._parts, self.ledger)

    # --- life cycle -----------------------------------------------------------------------

    async def start(self) -> None:
        """Forget interrupted transfers (nothing half-written is ever served) and check the store."""
        removed = await asyncio.to_thread(self.fetcher.clear_spool)
        try:
            removed += await self.store.recover()
        except BackendUnavailable:
            log.warning("gateway: object store %s unreachable at start", self.store.name)
        if removed:
            log.info("gateway: removed %d leftovers of interrupted transfers", removed)
        self._reporting.start()

    async def close(self) -> None:
        await self._reporting.stop()
        await self.fetcher.close()
        await self._reporting.flush()
        await self.upstream.close()
        await self.store.close()

    # --- finding ----------------------------------------------------------------------------

    async def product(
        self,
        collection: str,
        identifier: str,
        identity: Identity,
        lookup: ProductLookup | None = None,
    ) -> Record:
        return await find_product(lookup or self.lookup, collection, identifier, identity)

    def plan(self, product: Record, file_name: str, identity: Identity) -> Plan:
        plan = make_plan(self.rules.rules, product, file_name, identity)
        decision = plan.decision
        if decision.overridden is not None and decision.policy is not None:
            self.stats.policy_overrides += 1
            log.warning(
                "gateway: policy '%s' wants %s but rule '%s' does not allow it; %s applies to %s",
                decision.policy.name,
                decision.overridden.value,
                decision.rule.name,
                decision.strategy.value,
                plan.path,
            )
        return plan

    # --- delivering -------------------------------------------------------------------------

    async def serve(
        self,
        product: Record,
        file_name: str,
        identity: Identity,
        byte_range: ByteRange | None = None,
    ) -> Redirect | FileStream:
        return await self._deliver(product, file_name, identity, byte_range, redirect=True)

    async def open(
        self,
        product: Record,
        file_name: str,
        identity: Identity,
        byte_range: ByteRange | None = None,
    ) -> FileStream:
        delivered = await self._deliver(product, file_name, identity, byte_range, redirect=False)
        assert isinstance(delivered, FileStream)
        return delivered

    async def fetch_to(
        self, product: Record, file_name: str, dest: Path, identity: Identity
    ) -> FetchedFile:
        partial = dest.with_name(f".{dest.name}.{uuid.uuid4().hex}.part")
        digest = hashlib.sha256()
        size = 0
        try:
            async with await self.open(product, file_name, identity) as stream:
                handle = await asyncio.to_thread(open, partial, "wb")
                try:
                    async for chunk in stream:
                        await asyncio.to_thread(handle.write, chunk)
                        digest.update(chunk)
                        size += len(chunk)
                    await asyncio.to_thread(handle.flush)
                    await asyncio.to_thread(os.fsync, handle.fileno())
                finally:
                    handle.close()
            await asyncio.to_thread(os.replace, partial, dest)
        finally:
            with contextlib.suppress(OSError):
                await asyncio.to_thread(partial.unlink)
        return FetchedFile(
            str(dest), size, digest.hexdigest(), stream.media_type, stream.strategy, stream.origin
        )

    async def mirror(self, product: Record, identity: Identity) -> list[str]:
        """Copy every data file of ``product`` into the mirror ahead of need; the mirror keys.

        For harvest sources that ask for it ("mirror new Sentinel-1 GRD over Malawi"). Files
        already mirrored are left as they are; a verified cached copy is copied, not fetched
        again; a download already running (in any worker of this host) is waited for, not
        repeated. ``Forbidden`` when a file's location is not a declared source, or its rule
        (the provider's terms) does not allow ``mirror``; ``UpstreamError`` when the provider
        fails or the checksum does not match (nothing is kept then).
        """
        plans = []
        for link in product.data_links:
            plan = self.plan(product, file_name_of(link), identity)
            if Strategy.MIRROR not in plan.decision.rule.allow:
                raise Forbidden(
                    f"gateway rule '{plan.decision.rule.name}' does not allow mirroring"
                )
            plans.append(plan)
        return [await self._mirroring.mirror(plan) for plan in plans]

    async def _deliver(
        self,
        product: Record,
        file_name: str,
        identity: Identity,
        byte_range: ByteRange | None,
        redirect: bool,
    ) -> Redirect | FileStream:
        plan = self.plan(product, file_name, identity)
        strategy = plan.decision.strategy
        self.stats.requests += 1
        if strategy is Strategy.REDIRECT:
            if redirect:
                self.stats.redirects += 1
                return Redirect(plan.link.href)
            return await pipe(self._parts, plan, byte_range, Origin.PIPE)
        if strategy is Strategy.PIPE:
            return await pipe(self._parts, plan, byte_range, Origin.PIPE)
        try:
            stored = await self._holdings.stored(plan, strategy)
            if stored is not None:
                return await self._holdings.hit(plan, stored, byte_range)
            # The store may fail after the first look too (the miss looks again once claimed).
            return await self._downloads.miss(plan, strategy, byte_range)
        except BackendUnavailable as exc:
            return await fall_back(self._parts, plan, byte_range, redirect, exc)

    async def describe(
        self,
        product: Record,
        file_name: str,
        identity: Identity,
        byte_range: ByteRange | None = None,
    ) -> Redirect | FileStream:
        """What ``serve`` would answer, without its bytes (HTTP ``HEAD``).

        From the store when the file is kept there, else from the catalogue (size, media type,
        ETag from a sha256 checksum) without asking the provider; only when the catalogue does
        not give the size does this do what ``serve`` does. The stream yields nothing.
        """
        plan = self.plan(product, file_name, identity)
        strategy = plan.decision.strategy
        if strategy is Strategy.REDIRECT:
            return Redirect(plan.link.href)
        stored = None
        if strategy in (Strategy.CACHE, Strategy.MIRROR):
            with contextlib.suppress(BackendUnavailable):
                stored = await self._holdings.stored(plan, strategy)
        if stored is not None:
            return await self._holdings.hit(plan, stored, byte_range, body=False)
        size = plan.link.length
        if size is None:
            return await self.serve(product, file_name, identity, byte_range)
        start, end = resolve_range(byte_range, size)
        return FileStream(
            name=plan.name,
            media_type=plan.media_type(None),
            size=size,
            start=start,
            end=end,
            etag=plan.etag,
            last_modified=None,
            strategy=strategy,
            origin=Origin.MISS if strategy in (Strategy.CACHE, Strategy.MIRROR) else Origin.PIPE,
            chunks=nothing(),
            checksum=plan.link.checksum,
            rule=plan.decision.rule.name,
        )

    # --- reporting --------------------------------------------------------------------------

    async def report(self) -> dict[str, object]:
        """Counters of all workers (this process's alone under ``process``), the store's usage."""
        return await self._reporting.report()

    def status(self) -> dict[str, object]:
        return {"rules": self.rules.status(), "store": self.store.name}
