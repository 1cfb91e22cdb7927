"""The mirror part: the gateway's mirrored objects (never evicted, perhaps no longer at the
provider); the cache is only copied when asked, since it can be fetched again."""

from __future__ import annotations

import json
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

from everest_elearn.gateway.objectstore import ObjectStore, check_key

MIRROR_PREFIX = "mirror/"
CACHE_PREFIX = "cache/"
META = "objects.json"


async def dump(
    store: ObjectStore, prefixes: list[str], folder: Path, progress: Callable[[int], None]
) -> list[Path]:
    """Copy every object under ``prefixes`` to ``folder/<key>``; metadata in ``objects.json``."""
    meta: dict[str, dict[str, str]] = {}
    written: list[Path] = []
    for prefix in prefixes:
        async for found in store.list(prefix):
            full = await store.stat(found.key) or found
            target = folder / "objects" / check_key(found.key)
            target.parent.mkdir(parents=True, exist_ok=True)
            with target.open("wb") as out:
                async for chunk in store.read(found.key):
                    out.write(chunk)
            meta[found.key] = dict(full.meta)
            written.append(target)
            progress(len(written))
    index = folder / META
    index.write_text(json.dumps(meta, indent=1, sort_keys=True), encoding="utf-8")
    return [index, *written]


async def load(store: ObjectStore, folder: Path, progress: Callable[[int], None]) -> int:
    """Put every backed-up object back under its key, with its metadata."""
    meta: dict[str, dict[str, str]] = json.loads((folder / META).read_text(encoding="utf-8"))
    # The backup may sit on read-only media: copies are staged elsewhere.
    with tempfile.TemporaryDirectory(prefix="everest-restore-") as staging:
        for count, (key, values) in enumerate(sorted(meta.items()), 1):
            copy = Path(staging) / "object"
            # put_file consumes its file: hand it a copy, the backup stays whole.
            shutil.copyfile(folder / "objects" / check_key(key), copy)
            await store.put_file(key, copy, values)
            progress(count)
    return len(meta)
