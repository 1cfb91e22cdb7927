"""Recording one harvest run: storing its pages, checking its limits, saving its outcome."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from everest_elearn.catalogue.ingest.outcome import Problem
from everest_elearn.catalogue.model import Record
from everest_elearn.catalogue.service import Catalogue
from everest_elearn.errors import EverestError
from everest_elearn.harvest.checkpoint import Checkpoints
from everest_elearn.harvest.fetch import Limits, backoff_delay
from everest_elearn.harvest.harvester import LimitReached
from everest_elearn.harvest.report import RunReport
from everest_elearn.harvest.sources import SourceConfig
from everest_elearn.security.identity import Identity

# The agent's logger: operators filter on it, and these lines are the agent's.
log = logging.getLogger("everest_elearn.harvest.agent")


class Mirror(Protocol):
    """The gateway's "mirror this product ahead of need" (``Gateway.mirror``)."""

    async def mirror(self, product: Record, identity: Identity) -> list[str]: ...


def check_limits(limits: Limits, report: RunReport) -> None:
    """Stop a run (LimitReached) once its pages or records reach the source's limits."""
    if report.pages >= limits.pages:
        raise LimitReached("pages", f"stopped after {report.pages} pages")
    if report.received >= limits.records:
        raise LimitReached("records", f"stopped after {report.received} records")


async def store(
    catalogue: Catalogue,
    identity: Identity,
    mirror: Mirror | None,
    config: SourceConfig,
    records: list[Record],
    report: RunReport,
) -> None:
    """Upsert one page's records, counting each outcome; mirror new ones when the source asks."""
    if not records:
        return
    outcomes = await catalogue.upsert(records, identity, partial=True)
    for record, outcome in zip(records, outcomes, strict=True):
        if outcome.rejected:
            report.reject(Problem(outcome.rejected, None, record.identifier, config.name))
            continue
        if outcome.created:
            report.created += 1
        else:
            report.updated += 1
        if config.mirror and mirror is not None and outcome.created:
            try:
                report.mirrored += len(await mirror.mirror(record, identity))
            except EverestError as exc:
                report.mirror_errors.append(f"{record.identifier}: {exc}")


async def finish(
    checkpoints: Checkpoints,
    config: SourceConfig,
    report: RunReport,
    outcome: str,
    error: str | None,
    since: datetime | None = None,
    failures: int = 0,
) -> None:
    """Record a run's outcome, its totals and when the source is next due."""
    report.state, report.error = outcome, error
    now = datetime.now(UTC)
    values: dict[str, Any] = {
        "state": outcome, "last_finished": now, "last_error": error,
        "failures": failures, "last_run": report.to_dict(),
    }  # fmt: skip
    if outcome == "ok":
        values.update(since=since, resume=None, run_mark=None, last_success=now)
    state = await checkpoints.get(config.name)
    totals = dict(state.totals or {})
    for key in ("pages", "received", "created", "updated", "skipped", "rejected", "mirrored"):
        totals[key] = totals.get(key, 0) + int(getattr(report, key))
    values["totals"] = totals
    if failures:
        delay = backoff_delay(failures, config.limits)
        if config.schedule:
            delay = min(delay, config.schedule.total_seconds())
        values["next_due"] = now + timedelta(seconds=delay)
    elif config.schedule:
        values["next_due"] = now + config.schedule
    await checkpoints.update(config.name, **values)
    level = logging.INFO if outcome == "ok" else logging.WARNING
    log.log(level, "harvest %s: %s, %d stored, %d rejected%s", config.name, outcome,
            report.created + report.updated, report.rejected, f": {error}" if error else "")  # fmt: skip
