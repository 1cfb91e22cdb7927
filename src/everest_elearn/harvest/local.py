"""A local directory tree: SAFE zips and folders and GeoTIFFs, metadata read from the files.

The catalogue keeps no paths that exist on one host only: data links are built under the source's
``base_url`` (where the tree is served, e.g. by the gateway's provider or an S3 copy); without it
products are catalogued with their metadata and no data links. ``url`` is the folder.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path
from typing import IO
from urllib.parse import quote

from everest_elearn.errors import NotFound
from everest_elearn.harvest.files import Entry, FileHarvester
from everest_elearn.harvest.sources import SourceConfig


class LocalHarvester(FileHarvester):
    def __init__(self, config: SourceConfig, secret: str | None = None) -> None:
        super().__init__(config)
        self.root = Path(config.url.removeprefix("file://"))

    async def entries(self, after: str | None) -> list[Entry]:
        return await asyncio.to_thread(self._walk, after)

    def _walk(self, after: str | None) -> list[Entry]:
        if not self.root.is_dir():
            raise NotFound("folder", str(self.root))
        found = []
        base_depth = len(self.root.parts)
        for path in sorted(self.root.rglob("*")):
            if len(path.parts) - base_depth > self.config.depth + 3 or not path.is_file():
                continue
            key = path.relative_to(self.root).as_posix()
            if (
                after is not None
                and key <= after
                and not key.startswith(after.rsplit("/manifest.safe", 1)[0] + "/measurement/")
            ):
                continue
            stat = path.stat()
            href = f"{self.config.base_url}{quote(key)}" if self.config.base_url else ""
            # When the file (or the link to it) arrived here, its ctime, not only its mtime:
            # rsync -a, cp -p and wget -N keep the provider's old mtime, and incremental runs
            # skip files older than the last run's newest.
            changed = path.lstat().st_ctime
            arrived = datetime.fromtimestamp(max(stat.st_mtime, changed), UTC)
            found.append(Entry(key, href, stat.st_size, arrived))
        return found

    def open(self, entry: Entry) -> IO[bytes]:
        return (self.root / entry.key).open("rb")
