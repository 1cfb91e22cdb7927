"""Streaming a file through from its provider, kept nowhere (``pipe``, and fallbacks to it)."""

from __future__ import annotations

import logging

from everest_elearn.errors import BackendUnavailable, EverestError
from everest_elearn.gateway.delivery import ByteRange, FileStream, Origin, Redirect, Strategy
from everest_elearn.gateway.parts import Parts
from everest_elearn.gateway.planning import Plan
from everest_elearn.gateway.streams import counted, verified

log = logging.getLogger(__name__)


async def pipe(
    parts: Parts, plan: Plan, byte_range: ByteRange | None, origin: Origin
) -> FileStream:
    """The provider's bytes as they come; the whole file is checked against the catalogue."""
    stats = parts.stats
    stats.pipes += 1
    upstream_range = byte_range
    if byte_range is not None and byte_range.start < 0:
        # A suffix range needs the size; without it the whole file is sent (RFC 9110 allows).
        length = plan.link.length
        upstream_range = None
        if length:
            upstream_range = ByteRange(max(0, length + byte_range.start), length - 1)
    try:
        opened = await parts.upstream.open(plan.source, plan.link.href, upstream_range)
    except EverestError:
        stats.upstream_errors += 1
        raise
    whole = opened.start == 0 and (
        opened.end is None or opened.size is None or opened.end == opened.size - 1
    )
    checksum = plan.link.checksum if whole else None
    chunks = verified(stats, opened.chunks, checksum, plan.link.length if whole else None)
    return FileStream(
        name=plan.name,
        media_type=plan.media_type(opened.media_type),
        size=opened.size,
        start=opened.start,
        end=opened.end,
        etag=plan.etag or opened.etag,
        last_modified=opened.last_modified,
        strategy=plan.decision.strategy,
        rule=plan.decision.rule.name,
        origin=origin,
        chunks=counted(stats, chunks, fetched=True),
        checksum=plan.link.checksum,
        _closers=[opened.close],
    )


async def fall_back(
    parts: Parts, plan: Plan, byte_range: ByteRange | None, redirect: bool, exc: BackendUnavailable
) -> Redirect | FileStream:
    """The object store is unreachable: pipe or redirect as the rule allows, else ``exc``."""
    fallback = plan.decision.rule.fallback
    parts.stats.fallbacks += 1
    log.warning(
        "gateway: object store %s unreachable; rule '%s' falls back to %s for %s",
        parts.store.name,
        plan.decision.rule.name,
        fallback.value if fallback else "nothing (503)",
        plan.path,
    )
    if fallback is None:
        raise exc
    if fallback is Strategy.REDIRECT and redirect:
        return Redirect(plan.link.href)
    return await pipe(parts, plan, byte_range, Origin.FALLBACK)
