"""The builder: catalogue -> gateway -> volume -> manifest -> ODC index -> ready, in that order.

Ready is one atomic registry transition at the very end, after the ``READY`` marker is in the
volume; until then a volume is only ever "building", "failed" or "interrupted", and a resumed
build skips the files an earlier run already made durable.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from everest_elearn.catalogue.model import Record
from everest_elearn.errors import Conflict, EverestError
from everest_elearn.gateway.delivery import FileStream
from everest_elearn.packages.claims import claim_volume
from everest_elearn.packages.cube_layout import REWRITTEN, rewrite_rasters
from everest_elearn.packages.fetching import FileFetcher, Usage
from everest_elearn.packages.indexing import IndexOutcome
from everest_elearn.packages.leftovers import drop_strays, start_afresh
from everest_elearn.packages.manifest import (
    MANIFEST_PATH,
    READY_PATH,
    Manifest,
    ManifestFile,
    tool_versions,
)
from everest_elearn.packages.plan import Plan, PlannedFile
from everest_elearn.packages.progress import BuildProgress
from everest_elearn.packages.state import Build, BuildState, FileRow, FileState, PackageState
from everest_elearn.packages.versions import release, supersede
from everest_elearn.packages.volumes import (
    LABEL_KIND,
    LABEL_NAME,
    LABEL_VERSION,
    VolumeInfo,
    Volumes,
    VolumeWriter,
)
from everest_elearn.security.identity import Identity

log = logging.getLogger(__name__)


class FileGateway(Protocol):
    """What the builder needs of the gateway; ``gateway.service.Gateway`` satisfies it."""

    async def open(self, product: Record, file_name: str, identity: Identity) -> FileStream: ...


class PackageIndex(Protocol):
    """Indexes a package's files in the Open Data Cube (``indexing.OdcPackageIndex``)."""

    async def add(
        self,
        manifest: Manifest,
        records: Sequence[Record],
        volume: VolumeInfo,
        identity: Identity,
    ) -> IndexOutcome:
        """Index the package's datasets; their ids, and notes on products left out."""

    async def remove(self, dataset_ids: Sequence[str]) -> None: ...

    async def reinstate(self, documents: Sequence[tuple[dict[str, Any], str]]) -> None:
        """Put back dataset documents an aborted build replaced (``IndexOutcome.replaced``)."""


@dataclass
class BuildReport:
    name: str
    version: str
    state: str
    volume: str
    backend: str
    files: int = 0
    bytes: int = 0
    skipped_files: int = 0  # already durable from an earlier, interrupted run
    origins: dict[str, int] = field(default_factory=dict)  # gateway origin -> files
    datasets: int = 0
    seconds: float = 0.0
    notes: list[str] = field(default_factory=list)
    error: str | None = None


class Builder:
    """Builds one plan into its volume; the service decides when and for whom."""

    def __init__(
        self,
        gateway: FileGateway,
        volumes: Volumes,
        state: PackageState,
        index: PackageIndex | None,
        flush_bytes: int = 512 * 1024**2,
        verify_cached: bool = False,
    ) -> None:
        self.gateway = gateway
        self.volumes = volumes
        self.state = state
        self.index = index
        self.flush_bytes = flush_bytes
        self.fetcher = FileFetcher(gateway, verify_cached)

    async def build(self, plan: Plan, identity: Identity, progress: BuildProgress) -> BuildReport:
        spec = plan.spec
        started = time.monotonic()
        spec_data = spec.model_dump(mode="json", exclude_none=True)
        report = BuildReport(
            spec.name, spec.version, "building", spec.volume_name, self.volumes.backend
        )
        existing = await self.state.get(spec.name, spec.version)
        if existing is not None and existing.state is BuildState.READY:
            if existing.spec != spec_data:
                raise Conflict(
                    f"package {spec.name} {spec.version} is already built from a different spec; "
                    "give the new contents a new version"
                )
            report.state, report.files = "ready", len(plan.files)
            report.bytes, report.datasets = existing.total_bytes, len(existing.datasets)
            report.notes.append("already ready: nothing to do")
            progress.set_phase("ready")
            return report
        await claim_volume(self.state, self.volumes, spec.name, spec.version, spec.volume_name)
        await self.state.begin(
            Build(
                name=spec.name,
                version=spec.version,
                kind="package",
                state=BuildState.BUILDING,
                volume=spec.volume_name,
                backend=self.volumes.backend,
                owner=identity.subject,
                spec=spec_data,
                total_files=len(plan.files),
                total_bytes=plan.known_bytes,
            )
        )
        datasets: list[str] = []
        replaced: list[tuple[dict[str, Any], str]] = []
        try:
            if existing is not None and existing.spec != spec_data:
                await start_afresh(self.state, self.volumes, existing)
                report.notes.append("the unfinished earlier run had another spec: started afresh")
            await self.state.plan_files(
                spec.name,
                spec.version,
                [
                    FileRow(f.path, f.record.identifier, f.file_name, f.size, 0, FileState.PENDING)
                    for f in plan.files
                ],
            )
            progress.plan([(f.path, f.size) for f in plan.files])
            volume = await self.volumes.create(
                spec.volume_name,
                {LABEL_KIND: "package", LABEL_NAME: spec.name, LABEL_VERSION: spec.version},
            )
            progress.set_phase("fetching")
            entries = await self._fill(plan, volume, identity, progress, report)
            if spec.cube_ready:
                progress.set_phase("cube layout")
                done = await rewrite_rasters(self.volumes, self.state, spec, entries, progress)
                if done:
                    report.notes.append(f"{done} multi-band GeoTIFF(s) {REWRITTEN}")
            manifest = Manifest(
                name=spec.name,
                version=spec.version,
                title=spec.title,
                description=spec.description,
                licence=spec.licence,
                attribution=spec.attribution,
                built_by=identity.subject,
                tools=tool_versions(self.volumes.describe()),
                volume_backend=self.volumes.backend,
                spec=spec_data,
                files=entries,
            )
            progress.set_phase("indexing")
            if self.index is not None:
                outcome = await self.index.add(manifest, plan.records, volume, identity)
                datasets, replaced = outcome.datasets, outcome.replaced
                report.notes.extend(outcome.notes)
                for entry in manifest.files:
                    entry.not_indexed = outcome.unindexed.get(entry.path)
            else:
                report.notes.append("no Open Data Cube configured: the package is not indexed")
            manifest.datasets = datasets
            progress.set_phase("finishing")
            await self._finish(volume, manifest)
            if not await self.state.transition(
                spec.name,
                spec.version,
                (BuildState.BUILDING,),
                BuildState.READY,
                datasets=datasets,
                notes=report.notes,
                total_bytes=manifest.total_bytes,
                error=None,
            ):
                raise Conflict(f"package {spec.name} {spec.version} changed state during the build")
        except BaseException as exc:
            if datasets and self.index is not None:
                # Versions share dataset ids: another ready build's entries stay indexed.
                await asyncio.shield(
                    release(self.state, self.index, spec.name, spec.version, datasets, replaced)
                )
            interrupted = isinstance(exc, (asyncio.CancelledError, KeyboardInterrupt))
            reason = str(exc) if isinstance(exc, EverestError) else f"{type(exc).__name__}: {exc}"
            await asyncio.shield(
                self.state.transition(
                    spec.name,
                    spec.version,
                    (BuildState.BUILDING,),
                    BuildState.INTERRUPTED if interrupted else BuildState.FAILED,
                    error=reason or type(exc).__name__,
                )
            )
            progress.set_phase("failed", reason)
            raise
        await supersede(self.state, self.index, spec.name, spec.version, datasets, report)
        report.state, report.datasets = "ready", len(datasets)
        report.files, report.bytes = len(entries), manifest.total_bytes
        report.seconds = round(time.monotonic() - started, 3)
        progress.notes.extend(report.notes)
        progress.set_phase("ready")
        return report

    async def _fill(
        self,
        plan: Plan,
        volume: VolumeInfo,
        identity: Identity,
        progress: BuildProgress,
        report: BuildReport,
    ) -> list[ManifestFile]:
        spec = plan.spec
        rows = {r.path: r for r in await self.state.files(spec.name, spec.version)}
        entries: list[ManifestFile] = []
        pending: list[str] = []
        since_flush = 0
        used = Usage(spec)
        async with self.volumes.writer(volume.name) as writer:
            for planned in plan.files:
                row = rows.get(planned.path)
                if (
                    row is not None
                    and row.state is FileState.DURABLE
                    and row.entry
                    and _still_valid(row, planned)
                ):
                    entries.append(ManifestFile.model_validate(row.entry))
                    report.skipped_files += 1
                    used.take(planned.content, row.size or 0)
                    progress.file(planned.path, "skipped", done=row.size or 0)
                    continue
                budget = used.budget(planned.content)
                entry = await self.fetcher.copy(planned, writer, identity, progress, budget)
                used.take(planned.content, entry.size)
                report.origins[entry.origin or "?"] = report.origins.get(entry.origin or "?", 0) + 1
                entries.append(entry)
                await self.state.file_progress(
                    spec.name,
                    spec.version,
                    planned.path,
                    FileState.WRITTEN,
                    entry.size,
                    sha256=entry.sha256,
                    entry=entry.model_dump(mode="json"),
                )
                pending.append(planned.path)
                since_flush += entry.size
                if since_flush >= self.flush_bytes:
                    await self._flush(writer, spec.name, spec.version, pending, progress)
                    pending, since_flush = [], 0
            await self._flush(writer, spec.name, spec.version, pending, progress)
        return entries

    async def _flush(
        self,
        writer: VolumeWriter,
        name: str,
        version: str,
        paths: list[str],
        progress: BuildProgress,
    ) -> None:
        await writer.flush()
        await self.state.mark_durable(name, version, paths)
        for path in paths:
            progress.file(path, "durable")

    async def _finish(self, volume: VolumeInfo, manifest: Manifest) -> None:
        await drop_strays(self.volumes, volume.name, {f.path for f in manifest.files})
        body = manifest.to_bytes()
        ready = f"{manifest.name} {manifest.version} {manifest.built_at.isoformat()}\n".encode()
        async with self.volumes.writer(volume.name) as writer:
            await writer.write(MANIFEST_PATH, _once(body), len(body))
            await writer.flush()  # the marker only after the manifest is in place
            await writer.write(READY_PATH, _once(ready), len(ready))


async def _once(data: bytes) -> AsyncIterator[bytes]:
    yield data


def _still_valid(row: FileRow, planned: PlannedFile) -> bool:
    if row.entry and row.entry.get("rewritten"):
        return False  # fetched and rewritten again: the rewrite may not have landed
    expected = planned.link.checksum or ""
    if expected.startswith("sha256:"):
        return row.sha256 == expected.removeprefix("sha256:").lower()
    return row.size == planned.size
