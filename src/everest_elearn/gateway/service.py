"""The gateway service: the one entry point for the API, the CLI and the packages builder."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import mimetypes
import os
import sqlite3
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import unquote, urlsplit

from everest_elearn.catalogue.model import Link, Record
from everest_elearn.errors import (
    BackendUnavailable,
    EverestError,
    Forbidden,
    NotFound,
    UpstreamError,
)
from everest_elearn.gateway.access import AccessLog
from everest_elearn.gateway.delivery import (
    ByteRange,
    FetchedFile,
    FileSpan,
    FileStream,
    Origin,
    ProductLookup,
    Redirect,
    Strategy,
)
from everest_elearn.gateway.eviction import CACHE_PREFIX, MIRROR_PREFIX, CacheKeeper
from everest_elearn.gateway.flight import ChecksumMismatch, Fetcher, Flight
from everest_elearn.gateway.follow import RemoteFlight
from everest_elearn.gateway.lease import Lease
from everest_elearn.gateway.matching import Decision, ProductFacts, decide, locate
from everest_elearn.gateway.objectstore import ObjectStore, StoredObject
from everest_elearn.gateway.ranges import resolve_range
from everest_elearn.gateway.reloader import RulesHolder
from everest_elearn.gateway.rules import Source
from everest_elearn.gateway.stats import Ledger, Stats
from everest_elearn.gateway.upstream import Upstream
from everest_elearn.security.identity import Identity

log = logging.getLogger(__name__)

# Seconds between writes of this process's counters and last reads into the shared files.
FLUSH_SECONDS = 1.0


@dataclass(frozen=True)
class Plan:
    """One file of one product, where it lives, and what the rules decided for this caller."""

    product: Record
    link: Link
    name: str
    source: Source
    decision: Decision

    @property
    def path(self) -> str:
        return f"{self.product.parent_identifier}/{self.product.identifier}/{self.name}"

    def key(self, strategy: Strategy) -> str:
        prefix = MIRROR_PREFIX if strategy is Strategy.MIRROR else CACHE_PREFIX
        return prefix + self.path


async def _nothing() -> AsyncIterator[bytes]:
    return
    yield b""  # an async generator that yields nothing


async def _whole(fd: int, start: int, end: int) -> AsyncIterator[FileSpan]:
    yield FileSpan(fd, start, end - start + 1)


def _closer(fd: int) -> Callable[[], Awaitable[None]]:
    async def close() -> None:
        with contextlib.suppress(OSError):
            os.close(fd)

    return close


def file_name_of(link: Link) -> str:
    return unquote(urlsplit(link.href).path.rstrip("/").rsplit("/", 1)[-1])


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
        self._flusher: asyncio.Task[None] | None = None
        # Last reads of cached objects, shared by the workers (None: this process only).
        log_ = AccessLog(access_log) if access_log is not None else None
        self.keeper = CacheKeeper(store, self.stats, log_)
        self.lookup = lookup

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
        if self.ledger is not None or self.keeper.log is not None:
            self._flusher = asyncio.create_task(self._flush_every(FLUSH_SECONDS))

    async def _flush_every(self, seconds: float) -> None:
        while True:
            await asyncio.sleep(seconds)
            await self._flush()

    async def _flush(self) -> None:
        await self.keeper.save()
        if self.ledger is None:
            return
        try:
            await asyncio.to_thread(self.ledger.flush)
        except sqlite3.Error as exc:
            log.warning("gateway: statistics not written: %s", exc)

    async def close(self) -> None:
        if self._flusher is not None:
            self._flusher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._flusher
        await self.fetcher.close()
        await self._flush()
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
        lookup = lookup or self.lookup
        if lookup is None:
            raise BackendUnavailable("catalogue")
        record = await lookup.get(identifier, identity)
        if record.parent_identifier != collection:
            raise NotFound("product", f"{collection}/{identifier}")
        return record

    def plan(self, product: Record, file_name: str, identity: Identity) -> Plan:
        link = next((k for k in product.data_links if file_name_of(k) == file_name), None)
        if link is None:
            raise NotFound("file", f"{product.identifier}/{file_name}")
        ruleset = self.rules.rules
        source = locate(link.href, ruleset.sources)
        if source is None:
            # Only locations the rules name are ever fetched (or redirected to).
            raise Forbidden("this file's location is not a source named in the gateway rules")
        facts = ProductFacts.of(product, link, source, datetime.now(UTC))
        return Plan(product, link, file_name, source, decide(ruleset, facts, identity))

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
        return [await self._mirror_one(plan) for plan in plans]

    async def _mirror_one(self, plan: Plan) -> str:
        key, cache_key = plan.key(Strategy.MIRROR), plan.key(Strategy.CACHE)
        for _ in range(100):
            if await self._stored_as(plan, Strategy.MIRROR) is not None:
                return key
            cached = await self._stored_as(plan, Strategy.CACHE)
            if cached is not None:
                copying = self.fetcher.claim(key)  # one worker copies; the others wait
                if copying is None:
                    await asyncio.sleep(0.05)
                    continue
                try:
                    await self._copy(cached, copying)
                finally:
                    copying.release()
                return key
            if self.fetcher.join(cache_key, self._lander(cache_key)) is not None:
                await self.fetcher.settled(cache_key, self._lander(cache_key))
                continue  # then copy the cached file
            flight = self.fetcher.join(key, self._lander(key))
            if flight is None:
                lease = self.fetcher.claim(key)
                if lease is None:
                    await asyncio.sleep(0.05)  # claimed a moment ago: wait for it next round
                    continue
                if await self._stored_as(plan, Strategy.MIRROR) is not None:
                    lease.release()
                    return key
                self.stats.upstream_fetches += 1
                flight = self.fetcher.start(
                    lease,
                    plan.link.checksum,
                    plan.link.length,
                    lambda: self.upstream.open(plan.source, plan.link.href),
                    lambda f, ok: self._finish(plan, Strategy.MIRROR, f, ok),
                )
            # Nobody needs to read the bytes: the download runs (and is stored) by itself.
            await self.fetcher.settled(key, self._lander(key))
            if await self._stored_as(plan, Strategy.MIRROR) is not None:
                return key
            why = str(flight.error) if flight.error is not None else "it could not be kept"
            raise UpstreamError(f"{plan.path} was not mirrored: {why}")
        raise UpstreamError(f"{plan.path} was not mirrored: other workers kept claiming it")

    async def _copy(self, cached: StoredObject, lease: Lease) -> None:
        """Keep a verified cached copy in the mirror too (no expiry), staged in the lease's
        spool file."""
        handle = await asyncio.to_thread(open, lease.part, "wb")
        try:
            async for chunk in self.store.read(cached.key):
                await asyncio.to_thread(handle.write, chunk)
        finally:
            handle.close()
        meta = {k: v for k, v in cached.meta.items() if k not in ("expires", "size")}
        meta["strategy"] = Strategy.MIRROR.value
        await self.store.put_file(lease.key, lease.part, meta)
        self.stats.bytes_stored += cached.size

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
            return await self._pipe(plan, byte_range, Origin.PIPE)
        if strategy is Strategy.PIPE:
            return await self._pipe(plan, byte_range, Origin.PIPE)
        try:
            stored = await self._stored(plan, strategy)
        except BackendUnavailable:
            fallback = plan.decision.rule.fallback
            self.stats.fallbacks += 1
            log.warning(
                "gateway: object store %s unreachable; rule '%s' falls back to %s for %s",
                self.store.name,
                plan.decision.rule.name,
                fallback.value if fallback else "nothing (503)",
                plan.path,
            )
            if fallback is None:
                raise
            if fallback is Strategy.REDIRECT and redirect:
                return Redirect(plan.link.href)
            return await self._pipe(plan, byte_range, Origin.FALLBACK)
        if stored is not None:
            return await self._hit(plan, stored, byte_range)
        return await self._miss(plan, strategy, byte_range)

    async def _stored(self, plan: Plan, strategy: Strategy) -> StoredObject | None:
        order = (Strategy.MIRROR, Strategy.CACHE)
        if strategy is Strategy.CACHE:
            order = (Strategy.CACHE, Strategy.MIRROR)
        for kind in order:
            found = await self._stored_as(plan, kind)
            if found is not None:
                return found
        return None

    async def _stored_as(self, plan: Plan, kind: Strategy) -> StoredObject | None:
        found = await self.store.stat(plan.key(kind))
        if found is None:
            return None
        wanted = plan.link.checksum or ""
        if wanted.startswith("sha256:") and found.meta.get("sha256") != wanted[7:].lower():
            return None  # the catalogue now names another file: stale, fetch anew
        return found

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
                stored = await self._stored(plan, strategy)
        if stored is not None:
            return await self._hit(plan, stored, byte_range, body=False)
        size = plan.link.length
        if size is None:
            return await self.serve(product, file_name, identity, byte_range)
        start, end = resolve_range(byte_range, size)
        wanted = plan.link.checksum or ""
        return FileStream(
            name=plan.name,
            media_type=self._media_type(plan, None),
            size=size,
            start=start,
            end=end,
            etag=f'"{wanted[7:].lower()}"' if wanted.startswith("sha256:") else None,
            last_modified=None,
            strategy=strategy,
            origin=Origin.MISS if strategy in (Strategy.CACHE, Strategy.MIRROR) else Origin.PIPE,
            chunks=_nothing(),
            checksum=plan.link.checksum,
        )

    async def _hit(
        self, plan: Plan, stored: StoredObject, byte_range: ByteRange | None, body: bool = True
    ) -> FileStream:
        start, end = resolve_range(byte_range, stored.size)
        if body:
            self.stats.hits += 1
            await self.keeper.touch(stored.key)
        fd = await self.store.open_file(stored.key) if end is not None and body else None
        closer = _closer(fd) if fd is not None else None
        meta = stored.meta
        sha = meta.get("sha256")
        modified = meta.get("last_modified")
        return FileStream(
            name=plan.name,
            media_type=self._media_type(plan, meta.get("content_type")),
            size=stored.size,
            start=start,
            end=end,
            etag=f'"{sha}"' if sha else meta.get("etag"),
            last_modified=datetime.fromisoformat(modified) if modified else stored.modified,
            strategy=plan.decision.strategy,
            origin=Origin.HIT,
            chunks=self._count(self.store.read(stored.key, start, end)) if body else _nothing(),
            checksum=f"sha256:{sha}" if sha else None,
            spans=(
                self._count_spans(_whole(fd, start, end))
                if fd is not None and end is not None
                else None
            ),
            _closers=[closer] if closer is not None else [],
        )

    async def _miss(
        self, plan: Plan, strategy: Strategy, byte_range: ByteRange | None
    ) -> FileStream:
        keys = (plan.key(Strategy.MIRROR), plan.key(Strategy.CACHE))
        flight: Flight | RemoteFlight | None = None
        # A few rounds: another worker may claim, finish or fail the download between our looks.
        for _ in range(100):
            flight = self.fetcher.join(keys[0], self._lander(keys[0])) or self.fetcher.join(
                keys[1], self._lander(keys[1])
            )
            if flight is not None:
                self.stats.joined_fetches += 1
                break
            lease = self.fetcher.claim(plan.key(strategy))
            if lease is None:
                await asyncio.sleep(0.01)  # claimed a moment ago: follow it next round
                continue
            # Another worker may have stored it between our first look and the claim.
            stored = await self._stored(plan, strategy)
            if stored is not None:
                lease.release()
                return await self._hit(plan, stored, byte_range)
            self.stats.upstream_fetches += 1
            flight = self.fetcher.start(
                lease,
                plan.link.checksum,
                plan.link.length,
                lambda: self.upstream.open(plan.source, plan.link.href),
                lambda f, ok: self._finish(plan, strategy, f, ok),
            )
            break
        if flight is None:
            raise UpstreamError("another worker keeps claiming this download without serving it")
        self.stats.misses += 1
        await flight.started()
        if flight.error is not None:
            raise UpstreamError(str(flight.error))
        start, end = resolve_range(byte_range, flight.size)
        wanted = plan.link.checksum or ""
        return FileStream(
            name=plan.name,
            media_type=self._media_type(plan, flight.media_type),
            size=flight.size,
            start=start,
            end=end,
            etag=f'"{wanted[7:].lower()}"' if wanted.startswith("sha256:") else None,
            last_modified=flight.last_modified or datetime.now(UTC),
            strategy=plan.decision.strategy,
            origin=Origin.MISS,
            chunks=self._count(flight.read(start, end)),
            checksum=plan.link.checksum,
            spans=self._count_spans(flight.spans(start, end)),
        )

    def _lander(self, key: str) -> Callable[[], Awaitable[int | None]]:
        async def landed() -> int | None:
            found = await self.store.stat(key)
            return found.size if found is not None else None

        return landed

    async def _finish(self, plan: Plan, strategy: Strategy, flight: Flight, ok: bool) -> None:
        """Called once per download: keep the verified file, or count why not."""
        self.stats.bytes_fetched += flight.written
        if not ok:
            if isinstance(flight.error, ChecksumMismatch):
                self.stats.checksum_failures += 1
            self.stats.upstream_errors += 1
            log.warning("gateway: fetch of %s failed, nothing kept: %s", plan.path, flight.error)
            return
        upstream = flight.upstream
        now = datetime.now(UTC)
        meta = {
            "sha256": flight.sha256 or "",
            "content_type": self._media_type(plan, flight.media_type),
            "strategy": strategy.value,
            "source": plan.source.name,
            "fetched_at": now.isoformat(),
        }
        if upstream and upstream.etag:
            meta["etag"] = upstream.etag.encode("ascii", "replace").decode()
        if upstream and upstream.last_modified:
            meta["last_modified"] = upstream.last_modified.isoformat()
        if strategy is Strategy.CACHE:
            retention = plan.decision.rule.retention or self.rules.rules.cache.retention
            meta["expires"] = (now + retention).isoformat()
        try:
            await self.store.put_file(flight.key, flight.spool, meta)
            self.stats.bytes_stored += flight.written
            await self.keeper.touch(flight.key)
            if strategy is Strategy.CACHE:
                protect = frozenset(self.fetcher.flights) | {flight.key}
                await self.keeper.enforce(self.rules.rules.cache, protect)
        except BackendUnavailable:
            self.stats.store_errors += 1
            log.warning(
                "gateway: object store %s unreachable; %s was served but not kept",
                self.store.name,
                plan.path,
            )

    async def _pipe(self, plan: Plan, byte_range: ByteRange | None, origin: Origin) -> FileStream:
        self.stats.pipes += 1
        upstream_range = byte_range
        if byte_range is not None and byte_range.start < 0:
            # A suffix range needs the size; without it the whole file is sent (RFC 9110 allows).
            length = plan.link.length
            upstream_range = None
            if length:
                upstream_range = ByteRange(max(0, length + byte_range.start), length - 1)
        try:
            upstream = await self.upstream.open(plan.source, plan.link.href, upstream_range)
        except EverestError:
            self.stats.upstream_errors += 1
            raise
        whole = upstream.start == 0 and (
            upstream.end is None or upstream.size is None or upstream.end == upstream.size - 1
        )
        checksum = plan.link.checksum if whole else None
        chunks = self._verified(upstream.chunks, checksum, plan.link.length if whole else None)
        wanted = plan.link.checksum or ""
        return FileStream(
            name=plan.name,
            media_type=self._media_type(plan, upstream.media_type),
            size=upstream.size,
            start=upstream.start,
            end=upstream.end,
            etag=f'"{wanted[7:].lower()}"' if wanted.startswith("sha256:") else upstream.etag,
            last_modified=upstream.last_modified,
            strategy=plan.decision.strategy,
            origin=origin,
            chunks=self._count(chunks, fetched=True),
            checksum=plan.link.checksum,
            _closers=[upstream.close],
        )

    async def _verified(
        self, chunks: AsyncIterator[bytes], checksum: str | None, length: int | None
    ) -> AsyncIterator[bytes]:
        """Pass bytes on one chunk behind, so a wrong checksum stops the stream before its end."""
        algorithm, _, expected = (checksum or "").partition(":")
        digest = hashlib.new(algorithm) if expected else None
        held: bytes | None = None
        total = 0
        async for chunk in chunks:
            if digest is not None:
                digest.update(chunk)
            total += len(chunk)
            if held is not None:
                yield held
            held = chunk
        if length is not None and total != length:
            self.stats.upstream_errors += 1
            raise UpstreamError(f"the transfer was cut off after {total} of {length} bytes")
        if digest is not None and digest.hexdigest().lower() != expected.lower():
            self.stats.checksum_failures += 1
            log.warning("gateway: checksum mismatch while piping a file")
            raise ChecksumMismatch(
                "checksum mismatch: the provider's file is not the one catalogued"
            )
        if held is not None:
            yield held

    async def _count(
        self, chunks: AsyncIterator[bytes], fetched: bool = False
    ) -> AsyncIterator[bytes]:
        try:
            async for chunk in chunks:
                self.stats.bytes_served += len(chunk)
                if fetched:
                    self.stats.bytes_fetched += len(chunk)
                yield chunk
        finally:
            aclose = getattr(chunks, "aclose", None)
            if aclose is not None:
                await aclose()

    async def _count_spans(self, spans: AsyncIterator[FileSpan]) -> AsyncIterator[FileSpan]:
        try:
            async for span in spans:
                self.stats.bytes_served += span.count
                yield span
        finally:
            aclose = getattr(spans, "aclose", None)
            if aclose is not None:
                await aclose()

    def _media_type(self, plan: Plan, found: str | None) -> str:
        return (
            plan.link.type
            or found
            or mimetypes.guess_type(plan.name)[0]
            or "application/octet-stream"
        )

    # --- reporting --------------------------------------------------------------------------

    async def report(self) -> dict[str, object]:
        """Counters of all workers (this process's alone under ``process``), the store's usage."""
        counters: dict[str, int | str] = self.stats.snapshot()
        if self.ledger is not None:
            await asyncio.to_thread(self.ledger.flush)
            counters = await asyncio.to_thread(self.ledger.totals)
        report: dict[str, object] = {
            **counters,
            "process": self.stats.snapshot(),
            "store": self.store.name,
        }
        try:
            report["usage"] = await self.keeper.usage()
            report["store_reachable"] = True
        except BackendUnavailable:
            report["usage"] = None
            report["store_reachable"] = False
        report["in_flight"] = await asyncio.to_thread(self.fetcher.leases.in_flight)
        return report

    def status(self) -> dict[str, object]:
        return {"rules": self.rules.status(), "store": self.store.name}
