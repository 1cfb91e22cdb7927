"""Create, verify and restore backups of the platform: the parts, in one place.

A backup is a folder (``everest-backup-<UTC time>``) with one sub-folder per part and a
``manifest.json`` written last (checksums of every file). Parts:

- ``catalogue``: every record (JSON lines; restores into either backend);
- ``state``: SQLite stores (packages, harvest, courses, the hub's), gateway rules, harvest
  sources, the hub's cookie secret, the module repositories;
- ``odc``: the Open Data Cube index (pg_dump custom format), when a database is configured;
- ``volumes``: the files of results and shared volumes (``backup.volume_kinds``);
- ``mirror``: the gateway's mirrored objects (and its cache with ``backup.include_cache``).

Restores replace state, volumes and the ODC index, and upsert catalogue records and objects;
stop the agency and the hub first (docs/admin/backups.md).
"""

from __future__ import annotations

import asyncio
import os
import shutil
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from everest_elearn.backup import catalogue, mirror, odc, state, volumes
from everest_elearn.backup.layout import Manifest, PartEntry, record_files, verify
from everest_elearn.catalogue.factory import create_store
from everest_elearn.errors import Conflict, InvalidInput
from everest_elearn.gateway.factory import build_store
from everest_elearn.packages.backends import open_volumes
from everest_elearn.settings import Settings

PARTS = ("catalogue", "state", "odc", "volumes", "mirror")
# part, items done so far
Progress = Callable[[str, int], None]


def _quiet(part: str, done: int) -> None:
    return None


def selected(only: list[str] | None) -> list[str]:
    chosen = list(only or PARTS)
    unknown = [p for p in chosen if p not in PARTS]
    if unknown:
        raise InvalidInput("parts", f"unknown {', '.join(unknown)}; known: {', '.join(PARTS)}")
    return [p for p in PARTS if p in chosen]


async def create_backup(
    settings: Settings, into: Path, only: list[str] | None = None, progress: Progress = _quiet
) -> tuple[Path, Manifest]:
    """Write a new backup folder under ``into``; returns it and its manifest."""
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    folder = into / f"everest-backup-{stamp}"
    if folder.exists():
        raise Conflict(f"{folder} exists already")
    partial = into / f".{folder.name}.part"
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir(parents=True)
    manifest = Manifest()
    for name in selected(only):
        entry = PartEntry(name, _DESCRIPTIONS[name])
        (partial / name).mkdir()

        def tick(done: int, name: str = name) -> None:
            progress(name, done)

        await _BACKUP[name](settings, partial, entry, tick)
        manifest.parts.append(entry)
    manifest.write(partial)
    # Renamed only when complete: a crash leaves a ``.part`` folder, never a half backup.
    os.replace(partial, folder)
    return folder, manifest


async def _catalogue_out(
    settings: Settings, root: Path, entry: PartEntry, tick: Callable[[int], None]
) -> None:
    store = create_store(settings)
    await store.open()
    try:
        path = root / "catalogue" / "records.jsonl.gz"
        entry.items = await catalogue.dump(store, path, tick)
    finally:
        await store.close()
    record_files(entry, root, [path])


async def _state_out(
    settings: Settings, root: Path, entry: PartEntry, tick: Callable[[int], None]
) -> None:
    written, absent = [], []
    for item in state.state_items(settings):
        target = root / "state" / item.name
        if await asyncio.to_thread(state.copy_out, item, target):
            written.append(target)
            tick(len(written))
        else:
            absent.append(item.name)
    entry.items = len(written)
    entry.note = f"not present: {', '.join(absent)}" if absent else ""
    record_files(entry, root, written)


async def _odc_out(
    settings: Settings, root: Path, entry: PartEntry, tick: Callable[[int], None]
) -> None:
    if settings.datacube.db_url is None:
        entry.note = "no ODC database configured"
        return
    path = root / "odc" / "odc.pgdump"
    await odc.dump(settings, path)
    entry.items = 1
    tick(1)
    record_files(entry, root, [path])


async def _volumes_out(
    settings: Settings, root: Path, entry: PartEntry, tick: Callable[[int], None]
) -> None:
    backend = open_volumes(settings)
    count, written = await volumes.dump(
        backend, settings.backup.volume_kinds, root / "volumes", tick
    )
    entry.items = count
    entry.note = backend.describe()
    record_files(entry, root, written)


async def _mirror_out(
    settings: Settings, root: Path, entry: PartEntry, tick: Callable[[int], None]
) -> None:
    store = build_store(settings)
    prefixes = [mirror.MIRROR_PREFIX] + (
        [mirror.CACHE_PREFIX] if settings.backup.include_cache else []
    )
    try:
        written = await mirror.dump(store, prefixes, root / "mirror", tick)
    finally:
        await store.close()
    entry.items = len(written) - 1
    record_files(entry, root, written)


async def restore_backup(
    settings: Settings, folder: Path, only: list[str] | None = None, progress: Progress = _quiet
) -> Manifest:
    """Check every file against the manifest, then restore the chosen parts that it holds."""
    manifest = Manifest.read(folder)
    chosen = [p for p in selected(only) if manifest.part(p) is not None]
    problems = verify(folder, manifest, set(chosen))
    if problems:
        raise InvalidInput(str(folder), "damaged backup: " + "; ".join(problems[:5]))
    for name in chosen:
        entry = manifest.part(name)
        assert entry is not None

        def tick(done: int, name: str = name) -> None:
            progress(name, done)

        await _RESTORE[name](settings, folder, entry, tick)
    return manifest


async def _catalogue_in(
    settings: Settings, root: Path, entry: PartEntry, tick: Callable[[int], None]
) -> None:
    store = create_store(settings)
    await store.open()
    try:
        await catalogue.load(store, root / "catalogue" / "records.jsonl.gz", tick)
    finally:
        await store.close()


async def _state_in(
    settings: Settings, root: Path, entry: PartEntry, tick: Callable[[int], None]
) -> None:
    done = 0
    for item in state.state_items(settings):
        source = root / "state" / item.name
        if f"state/{item.name}" in entry.files:
            await asyncio.to_thread(state.copy_in, item, source)
            done += 1
            tick(done)


async def _odc_in(
    settings: Settings, root: Path, entry: PartEntry, tick: Callable[[int], None]
) -> None:
    if entry.files:
        await odc.restore(settings, root / "odc" / "odc.pgdump")
        tick(1)


async def _volumes_in(
    settings: Settings, root: Path, entry: PartEntry, tick: Callable[[int], None]
) -> None:
    await volumes.load(open_volumes(settings), root / "volumes", tick)


async def _mirror_in(
    settings: Settings, root: Path, entry: PartEntry, tick: Callable[[int], None]
) -> None:
    store = build_store(settings)
    try:
        await mirror.load(store, root / "mirror", tick)
    finally:
        await store.close()


_DESCRIPTIONS = {
    "catalogue": "catalogue records (JSON lines)",
    "state": "SQLite stores, rules, sources, hub secret, module repositories",
    "odc": "Open Data Cube index (pg_dump)",
    "volumes": "results and shared volumes (files)",
    "mirror": "gateway mirror objects",
}
_BACKUP = {
    "catalogue": _catalogue_out,
    "state": _state_out,
    "odc": _odc_out,
    "volumes": _volumes_out,
    "mirror": _mirror_out,
}
_RESTORE = {
    "catalogue": _catalogue_in,
    "state": _state_in,
    "odc": _odc_in,
    "volumes": _volumes_in,
    "mirror": _mirror_in,
}
