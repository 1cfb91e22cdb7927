"""The data agent: runs each source on its schedule, incrementally, within limits, from checkpoints."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from everest_elearn.catalogue.model import Record
from everest_elearn.catalogue.service import Catalogue
from everest_elearn.errors import Conflict, EverestError, InvalidInput, NotFound
from everest_elearn.harvest.checkpoint import Checkpoints, SourceState, owner_id
from everest_elearn.harvest.fetch import Limits, safe_url
from everest_elearn.harvest.harvester import Cursor, LimitReached, latest
from everest_elearn.harvest.kinds import build_harvester
from everest_elearn.harvest.recording import Mirror, check_limits, finish, store
from everest_elearn.harvest.report import RunReport
from everest_elearn.harvest.sources import SourceConfig, parse
from everest_elearn.security.identity import Identity, Role
from everest_elearn.settings import HarvestSettings, Settings

log = logging.getLogger(__name__)
AGENT = Identity("data-agent", frozenset({Role.AGENT}))


Progress = Callable[[RunReport], None]


def default_limits(settings: HarvestSettings) -> Limits:
    return Limits(
        seconds=settings.max_seconds,
        pages=settings.max_pages,
        response_bytes=settings.max_response_bytes,
        records=settings.max_records,
        request_seconds=settings.request_timeout,
        retries=settings.retries,
        backoff=settings.backoff,
        backoff_max=settings.backoff_max,
    )


class Agent:
    """Harvests sources into the catalogue; state lives in ``Checkpoints`` so any process may run it."""

    def __init__(
        self,
        catalogue: Catalogue,
        checkpoints: Checkpoints,
        settings: HarvestSettings,
        sources_file: Path,
        environ: Mapping[str, str],
        mirror: Mirror | None = None,
        identity: Identity = AGENT,
    ) -> None:
        self.catalogue = catalogue
        self.checkpoints = checkpoints
        self.settings = settings
        self.sources_file = sources_file
        self.environ = dict(environ)
        self.mirror = mirror
        self.identity = identity
        self.sources_error: str | None = None
        self._last_good: list[SourceConfig] = []
        self._tasks: dict[str, asyncio.Task[RunReport]] = {}
        self._owner = owner_id()

    # --- sources ------------------------------------------------------------------------------

    def sources(self) -> list[SourceConfig]:
        """The sources file as it is now; an invalid edit keeps the last good list in force."""
        if not self.sources_file.exists():
            self.sources_error = None
            self._last_good = []
            return []
        try:
            text = self.sources_file.read_text(encoding="utf-8")
            found = parse(text, str(self.sources_file), default_limits(self.settings))
        except (InvalidInput, OSError, UnicodeDecodeError) as exc:
            if self.sources_error != str(exc):
                log.error("harvest: sources file rejected, previous sources kept: %s", exc)
            self.sources_error = str(exc)
            return self._last_good
        self.sources_error = None
        self._last_good = found
        return found

    def source(self, name: str) -> SourceConfig:
        for config in self.sources():
            if config.name == name:
                return config
        raise NotFound("harvest source", name)

    async def status(self) -> dict[str, Any]:
        configs = {c.name: c for c in self.sources()}
        states = {s.name: s for s in await self.checkpoints.all()}
        rows = []
        for name in sorted(configs):
            state = states.get(name) or SourceState(name)
            config = configs[name]
            row = state.to_dict()
            row.update(
                kind=config.kind, url=safe_url(config.url), collection=config.target,
                schedule=config.schedule.total_seconds() if config.schedule else None,
                enabled=config.enabled, mirror=config.mirror,
                running=name in self._tasks and not self._tasks[name].done(),
            )  # fmt: skip
            rows.append(row)
        return {
            "sources_file": str(self.sources_file),
            "sources_error": self.sources_error,
            "sources": rows,
        }

    # --- one run ------------------------------------------------------------------------------

    async def run(
        self, name: str, progress: Progress | None = None, full: bool = False
    ) -> RunReport:
        """Run one source now, to completion or until a limit stops it.

        ``full`` ignores the checkpoint and reads the whole source again (stored products are
        updated, none duplicated): for files that arrived with an older time than the mark.
        """
        config = self.source(name)
        margin = timedelta(seconds=config.limits.seconds + 60)
        if not await self.checkpoints.claim(name, self._owner, datetime.now(UTC) + margin):
            raise Conflict(f"source {name!r} is being harvested by another run")
        try:
            return await self._run(config, progress, full)
        finally:
            await self.checkpoints.release(name, self._owner)

    async def _run(self, config: SourceConfig, progress: Progress | None, full: bool) -> RunReport:
        report = RunReport(config.name)
        state = await self.checkpoints.get(config.name)
        cursor = Cursor() if full else Cursor(state.since, state.resume)
        run_mark = state.run_mark if state.resume and not full else None
        started = datetime.now(UTC)
        await self.checkpoints.update(config.name, state="running", last_started=started)
        harvester = None
        try:
            async with asyncio.timeout(config.limits.seconds):
                harvester = build_harvester(config, self.environ, self.settings.secrets_dir)
                await self._collections(await harvester.collections())
                pages = contextlib.aclosing(harvester.pages(cursor))
                async with pages as stream:
                    async for page in stream:
                        run_mark = latest(run_mark, page.mark)
                        await store(
                            self.catalogue, self.identity, self.mirror, config, page.records, report
                        )
                        report.pages += 1
                        report.bytes += page.bytes
                        report.skipped += page.skipped
                        report.received += len(page.records) + len(page.rejected) + page.skipped
                        for problem in page.rejected:
                            report.reject(problem)
                        # Saved only now that the page's records are stored: a crash repeats, never skips.
                        await self.checkpoints.update(
                            config.name, resume=page.resume, run_mark=run_mark
                        )
                        if progress:
                            progress(report)
                        if page.resume is not None:
                            check_limits(config.limits, report)
            await finish(
                self.checkpoints, config, report, "ok", None, since=latest(state.since, run_mark)
            )
        except TimeoutError:
            message = f"stopped after {config.limits.seconds:g} s (limit seconds)"
            await finish(self.checkpoints, config, report, "limited", message)
        except LimitReached as exc:
            await finish(self.checkpoints, config, report, "limited", f"{exc} (limit {exc.limit})")
        except EverestError as exc:
            await finish(
                self.checkpoints, config, report, "failed", str(exc), failures=state.failures + 1
            )
        except asyncio.CancelledError:
            # The agent is stopping: say so; the checkpoint already holds where to go on.
            with contextlib.suppress(Exception):
                await asyncio.shield(
                    finish(
                        self.checkpoints,
                        config,
                        report,
                        "interrupted",
                        "the agent stopped during the run",
                    )
                )
            raise
        except Exception as exc:  # a bug below us fails this run, never the agent
            log.exception("harvest %s: unexpected error", config.name)
            message = f"internal error: {type(exc).__name__}: {str(exc)[:200]}"
            await finish(
                self.checkpoints, config, report, "failed", message, failures=state.failures + 1
            )
        finally:
            if harvester is not None:
                with contextlib.suppress(Exception):
                    await harvester.close()
        return report

    async def _collections(self, records: list[Record]) -> None:
        missing = [r for r in records if await self.catalogue.store.get(r.identifier) is None]
        if missing:
            await self.catalogue.upsert(missing, self.identity)

    # --- the schedule -------------------------------------------------------------------------

    async def due(self, now: datetime | None = None) -> list[SourceConfig]:
        now = now or datetime.now(UTC)
        out = []
        for config in self.sources():
            if not config.enabled or config.schedule is None:
                continue
            state = await self.checkpoints.get(config.name)
            if state.next_due is None or state.next_due <= now:
                out.append(config)
        return out

    async def tick(self) -> None:
        """Start every due source that is not already running in this process."""
        for config in await self.due():
            task = self._tasks.get(config.name)
            if task is None or task.done():
                self._tasks[config.name] = asyncio.create_task(
                    self._scheduled(config.name), name=f"harvest:{config.name}"
                )

    async def _scheduled(self, name: str) -> RunReport:
        try:
            return await self.run(name)
        except Conflict:
            return RunReport(name, state="skipped", error="another run holds the source")

    def start_run(self, name: str) -> bool:
        """Start a run in the background (API trigger); False when one is already running here."""
        self.source(name)
        task = self._tasks.get(name)
        if task is not None and not task.done():
            return False
        self._tasks[name] = asyncio.create_task(self._scheduled(name), name=f"harvest:{name}")
        return True

    async def serve(self) -> None:
        """Run the schedule until cancelled."""
        while True:
            try:
                await self.tick()
            except Exception:  # the scheduler must outlive any one bad tick
                log.exception("harvest: scheduler tick failed")
            await asyncio.sleep(self.settings.tick)

    async def close(self) -> None:
        for task in self._tasks.values():
            task.cancel()
        for task in self._tasks.values():
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task


def sources_path(settings: Settings) -> Path:
    return settings.harvest.sources_file or settings.data_dir / "harvest-sources.yaml"


def from_settings(
    settings: Settings,
    catalogue: Catalogue,
    environ: Mapping[str, str],
    mirror: Mirror | None = None,
) -> Agent:
    """The agent on the configured sources file and checkpoint database."""
    state = settings.harvest.state_path or settings.data_dir / "harvest.sqlite"
    return Agent(
        catalogue, Checkpoints(state), settings.harvest, sources_path(settings), environ, mirror
    )
