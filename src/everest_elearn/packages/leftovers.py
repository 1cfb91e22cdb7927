"""Files in a package's volume that its manifest does not list never reach a ready package.

A failed or interrupted build rebuilt from another spec starts afresh (on every backend: its volume
and file rows go); before the ``READY`` marker, anything else the plan does not hold (a partial
write of a crashed run) is removed where the volume shows on this host.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Set
from pathlib import Path

from everest_elearn.packages.claims import owns_volume
from everest_elearn.packages.manifest import MANIFEST_PATH, READY_PATH
from everest_elearn.packages.records import Build
from everest_elearn.packages.state import PackageState
from everest_elearn.packages.volumes import Volumes


async def start_afresh(state: PackageState, volumes: Volumes, earlier: Build) -> None:
    """Forget what an unfinished run of another spec wrote: its volume and its file rows."""
    if await owns_volume(volumes, earlier):
        await volumes.remove(earlier.volume)
    await state.plan_files(earlier.name, earlier.version, [])


async def drop_strays(volumes: Volumes, volume: str, keep: Set[str]) -> list[str]:
    """Remove the volume's files outside ``keep`` (and the manifest and marker); their paths."""
    local = await volumes.local_path(volume)
    if local is None:
        return []  # only through the engine: start_afresh keeps such volumes clean
    return await asyncio.to_thread(_drop, local, {*keep, MANIFEST_PATH, READY_PATH})


def _drop(root: Path, keep: Set[str]) -> list[str]:
    dropped = []
    for folder, directories, files in os.walk(root, topdown=False):
        base = Path(folder)
        for name in files:
            path = (base / name).relative_to(root).as_posix()
            if path not in keep:
                (base / name).unlink()
                dropped.append(path)
        for name in directories:
            if (base / name).is_symlink():
                (base / name).unlink()
                dropped.append((base / name).relative_to(root).as_posix())
            elif not any((base / name).iterdir()):
                (base / name).rmdir()  # a product folder emptied above
    return sorted(dropped)
