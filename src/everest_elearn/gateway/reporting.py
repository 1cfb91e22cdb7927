"""The gateway's bookkeeping: this process's counters and last reads written into the files the
workers share, once a second and at close; the statistics report."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sqlite3
import time

from everest_elearn.errors import BackendUnavailable
from everest_elearn.gateway.parts import Parts
from everest_elearn.gateway.rules import RuleSet
from everest_elearn.gateway.stats import Ledger

log = logging.getLogger(__name__)

# Seconds between writes of this process's counters and last reads into the shared files.
FLUSH_SECONDS = 1.0
# Seconds between applying the cache's retention and budget when no download does (and at once
# when the rules change). Every worker does it: eviction is idempotent, and expired objects are
# misses anyway, so this only gives the space back.
ENFORCE_SECONDS = 300.0


class Reporting:
    """Writes the process's counters (``ledger``) and last reads (``keeper``) periodically."""

    def __init__(self, parts: Parts, ledger: Ledger | None) -> None:
        self.parts = parts
        self.ledger = ledger
        self._flusher: asyncio.Task[None] | None = None
        self._enforced: tuple[RuleSet, float] = (parts.rules.rules, time.monotonic())

    def start(self) -> None:
        self._enforced = (self.parts.rules.rules, time.monotonic())
        self._flusher = asyncio.create_task(self._flush_every(FLUSH_SECONDS))

    async def stop(self) -> None:
        """Stop the periodic writes (``flush`` writes what is left)."""
        if self._flusher is not None:
            self._flusher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._flusher

    async def _flush_every(self, seconds: float) -> None:
        while True:
            await asyncio.sleep(seconds)
            await self.flush()
            try:
                await self.upkeep()
            except Exception:  # keep the loop (and the counters' writes) alive
                log.exception("gateway: applying the cache's retention and budget failed")

    async def upkeep(self) -> None:
        """Apply retention and budget when the rules changed or ``ENFORCE_SECONDS`` passed."""
        rules, at = self._enforced
        now = time.monotonic()
        if self.parts.rules.rules is rules and now - at < ENFORCE_SECONDS:
            return
        self._enforced = (self.parts.rules.rules, now)
        protect = frozenset(self.parts.fetcher.flights)
        try:
            await self.parts.keeper.enforce(self.parts.rules.rules.cache, protect)
        except BackendUnavailable:
            log.warning(
                "gateway: object store %s unreachable; cache not trimmed", self.parts.store.name
            )

    async def flush(self) -> None:
        await self.parts.keeper.save()
        if self.ledger is None:
            return
        try:
            await asyncio.to_thread(self.ledger.flush)
        except sqlite3.Error as exc:
            log.warning("gateway: statistics not written: %s", exc)

    async def report(self) -> dict[str, object]:
        """Counters of all workers (this process's alone under ``process``), the store's usage."""
        counters: dict[str, int | str] = self.parts.stats.snapshot()
        if self.ledger is not None:
            await asyncio.to_thread(self.ledger.flush)
            counters = await asyncio.to_thread(self.ledger.totals)
        report: dict[str, object] = {
            **counters,
            "process": self.parts.stats.snapshot(),
            "store": self.parts.store.name,
        }
        try:
            report["usage"] = await self.parts.keeper.usage()
            report["store_reachable"] = True
        except BackendUnavailable:
            report["usage"] = None
            report["store_reachable"] = False
        report["in_flight"] = await asyncio.to_thread(self.parts.fetcher.leases.in_flight)
        return report
