"""The volumes part: the files of results (and shared) volumes, through the volumes interface,
so Docker volumes and plain directories back up and restore the same way."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from pathlib import Path

from everest_elearn.errors import Conflict, InvalidInput
from everest_elearn.packages.volumes import LABEL_KIND, Volumes, check_path, check_volume_name

READ_CHUNK = 1 << 20


async def dump(
    volumes: Volumes, kinds: list[str], folder: Path, progress: Callable[[int], None]
) -> tuple[int, list[Path]]:
    """Copy every file of every volume of ``kinds`` under ``folder/<volume>/``; returns the number
    of volumes and the files written (each volume's labels in ``folder/<volume>.json``)."""
    written: list[Path] = []
    count = 0
    for kind in kinds:
        for info in await volumes.list({LABEL_KIND: kind}):
            entries = await volumes.files(info.name)
            target = folder / info.name
            target.mkdir(parents=True, exist_ok=True)
            await volumes.export(info.name, [e.path for e in entries], target)
            labels = folder / f"{info.name}.json"
            labels.write_text(json.dumps(dict(info.labels), sort_keys=True), encoding="utf-8")
            written += [labels, *(target / e.path for e in entries)]
            count += 1
            progress(count)
    return count, written


async def _chunks(path: Path) -> AsyncIterator[bytes]:
    with path.open("rb") as handle:
        while chunk := handle.read(READ_CHUNK):
            yield chunk


async def load(volumes: Volumes, folder: Path, progress: Callable[[int], None]) -> int:
    """Recreate every backed-up volume with exactly its backed-up files; returns the count.

    A volume that exists is replaced; one still mounted by a running server is refused
    (``Conflict``): stop that user's server first.
    """
    count = 0
    found = await asyncio.to_thread(lambda: sorted(folder.glob("*.json")))
    for labels_file in found:
        name = check_volume_name(labels_file.stem)
        labels = json.loads(labels_file.read_text(encoding="utf-8"))
        if not isinstance(labels, dict):
            raise InvalidInput(str(labels_file), "expected the volume's labels as an object")
        try:
            await volumes.remove(name)
        except Conflict as exc:
            raise Conflict(f"volume {name} is in use; stop its server before restoring") from exc
        await volumes.create(name, {str(k): str(v) for k, v in labels.items()})
        root = folder / name
        files = sorted(p for p in root.rglob("*") if p.is_file()) if root.is_dir() else []
        async with volumes.writer(name) as writer:
            for path in files:
                relative = check_path(path.relative_to(root).as_posix())
                await writer.write(relative, _chunks(path), path.stat().st_size)
        count += 1
        progress(count)
    return count
