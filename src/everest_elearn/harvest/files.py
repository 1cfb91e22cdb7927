"""Harvesting file listings (local tree, HTTP index, S3 bucket): entries grouped into products.

A listing kind supplies sorted :class:`Entry` objects and a way to open one; this base recognises
products among them (``recognise.py``), reads their metadata from the files, applies the source's
filters and pages through them in key order, resuming after the last key stored.
"""

from __future__ import annotations

import asyncio
import fnmatch
import io
import time
from collections.abc import AsyncGenerator, Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import IO, Any

from everest_elearn.catalogue.ingest.outcome import Problem, Reject
from everest_elearn.catalogue.model import Record
from everest_elearn.harvest import recognise
from everest_elearn.harvest.common import declared_collection, mark_of
from everest_elearn.harvest.harvester import Cursor, LimitReached, Page, latest, with_layout
from everest_elearn.harvest.sources import SourceConfig

_MEDIA = {"safe-zip": "application/zip", "geotiff": "image/tiff; application=geotiff"}


@dataclass(frozen=True)
class Entry:
    key: str  # path below the source's root, "/"-separated; the sort and resume key
    href: str  # where clients fetch it (the catalogue link)
    size: int | None = None
    modified: datetime | None = None


# fetch(first byte, last byte, deadline on the monotonic clock) -> those bytes; raises OSError.
Fetch = Callable[[int, int, float], bytes]


def read_capped(chunks: Iterable[bytes], want: int, deadline: float, where: str) -> bytes:
    """The first ``want`` bytes of a streamed answer, given up at ``deadline`` (monotonic).

    A reader runs in a worker thread that nothing can cancel: a server that drips its bytes or
    ignores the Range header must not keep that thread (asyncio has only a few) or fill memory.
    """
    out = bytearray()
    for chunk in chunks:
        out += chunk
        if len(out) >= want:
            break
        if time.monotonic() > deadline:
            raise OSError(f"{where}: not read within the request_seconds limit; given up")
    return bytes(out[:want])


class RangeFile(io.RawIOBase):
    """A seekable read-only file over ranged reads (HTTP Range, S3 GetObject Range), block-cached."""

    BLOCK = 256 * 1024

    def __init__(self, fetch: Fetch, size: int, budget: int, seconds: float) -> None:
        self.fetch = fetch
        self.size = size
        self.budget = budget  # bytes this file may transfer at most
        self.deadline = time.monotonic() + seconds  # reading its metadata, all blocks together
        self.pos = 0
        self.blocks: dict[int, bytes] = {}

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self.pos

    def seek(self, offset: int, whence: int = 0) -> int:
        base = {0: 0, 1: self.pos, 2: self.size}[whence]
        self.pos = max(0, base + offset)
        return self.pos

    def readinto(self, buffer: Any) -> int:
        want = min(len(buffer), self.size - self.pos)
        done = 0
        while done < want:
            index = (self.pos + done) // self.BLOCK
            block = self._block(index)
            start = (self.pos + done) - index * self.BLOCK
            piece = block[start : start + want - done]
            if not piece:
                break
            buffer[done : done + len(piece)] = piece
            done += len(piece)
        self.pos += done
        return done

    def _block(self, index: int) -> bytes:
        if index not in self.blocks:
            start = index * self.BLOCK
            end = min(self.size, start + self.BLOCK) - 1
            self.budget -= end - start + 1
            if self.budget < 0:
                raise Reject("reading its metadata needs more bytes than the response_bytes limit")
            if len(self.blocks) > 64:
                self.blocks.clear()
            self.blocks[index] = self.fetch(start, end, self.deadline)
        return self.blocks[index]


class FileHarvester:
    """Base of the listing kinds; subclasses implement ``entries`` and ``open``."""

    def __init__(self, config: SourceConfig) -> None:
        self.config = config

    async def entries(self, after: str | None) -> list[Entry]:
        """Every entry with a key after ``after``, sorted by key."""
        raise NotImplementedError

    def open(self, entry: Entry) -> IO[bytes]:
        """A seekable binary file (called in a worker thread)."""
        raise NotImplementedError

    async def close(self) -> None:
        return None

    async def collections(self) -> list[Record]:
        return [declared_collection(self.config)]

    def _units(self, entries: list[Entry], since: datetime | None) -> list[tuple[str, Entry]]:
        units = []
        for entry in entries:
            kind = recognise.kind_of(entry.key)
            if kind is None:
                continue
            if self.config.pattern and not fnmatch.fnmatch(
                entry.key.rsplit("/", 1)[-1], self.config.pattern
            ):
                continue
            if since is not None and entry.modified is not None and entry.modified < since:
                continue
            units.append((kind, entry))
        return units

    async def pages(self, cursor: Cursor) -> AsyncGenerator[Page, None]:
        after = (cursor.resume or {}).get("after")
        entries = await self.entries(after)
        if len(entries) > self.config.limits.records * 20:
            raise LimitReached(
                "records",
                f"the listing holds {len(entries)} files; narrow it with 'pattern' or the url",
            )
        units = self._units(entries, cursor.since)
        size = self.config.page_size
        for start in range(0, len(units), size):
            batch = units[start : start + size]
            page = Page(where=self.config.url)
            for kind, entry in batch:
                await self._one(kind, entry, entries, page)
                page.mark = latest(page.mark, entry.modified)
            last = start + size >= len(units)
            page.resume = None if last else {"after": batch[-1][1].key}
            yield page

    async def _one(self, kind: str, entry: Entry, entries: list[Entry], page: Page) -> None:
        config = self.config
        try:
            async with asyncio.timeout(config.limits.request_seconds):
                record = await asyncio.to_thread(self._record, kind, entry, entries)
        except Reject as exc:
            page.rejected.append(Problem(str(exc), None, entry.key, config.name))
            return
        except TimeoutError:
            page.rejected.append(
                Problem(
                    f"reading took longer than {config.limits.request_seconds:g} s",
                    None,
                    entry.key,
                    config.name,
                )
            )
            return
        except OSError as exc:
            page.rejected.append(Problem(f"cannot be read: {exc}", None, entry.key, config.name))
            return
        if not self._wanted(record):
            page.skipped += 1
            return
        page.records.append(with_layout(record, config.name))

    def _record(self, kind: str, entry: Entry, entries: list[Entry]) -> Record:
        parent = self.config.target
        if kind == "safe-zip":
            draft = recognise.safe_zip(lambda: self.open(entry), entry.key, parent)
            return recognise.finish(draft, [(entry.href, "enclosure", _MEDIA[kind], entry.size)])
        if kind == "geotiff":
            draft = recognise.geotiff(lambda: self.open(entry), entry.key, parent)
            return recognise.finish(draft, [(entry.href, "enclosure", _MEDIA[kind], entry.size)])
        folder = entry.key.rsplit("/", 1)[0]
        with self.open(entry) as handle:
            data = handle.read(recognise.MAX_MANIFEST + 1)
        if len(data) > recognise.MAX_MANIFEST:
            raise Reject("manifest.safe: too large")
        name = folder.rsplit("/", 1)[-1].removesuffix(".SAFE").removesuffix(".safe")
        draft = recognise.safe_manifest(data, name, parent)
        links: list[tuple[str, str, str | None, int | None]] = [
            (entry.href, "alternate", "application/xml", entry.size)
        ]
        for other in entries:
            if other.key.startswith(f"{folder}/measurement/"):
                links.append((other.href, "enclosure", _MEDIA["geotiff"], other.size))
        return recognise.finish(draft, links)

    def _wanted(self, record: Record) -> bool:
        config = self.config
        if (
            config.product_type
            and str(record.properties.get("productType", "")).lower() != config.product_type.lower()
        ):
            return False
        moment = mark_of(record, "datetime")
        if moment is not None and (
            (config.start and moment < config.start) or (config.end and moment > config.end)
        ):
            return False
        box = record.bbox
        if config.area and box:
            west, south, east, north = config.area
            if box[0] > east or box[2] < west or box[1] > north or box[3] < south:
                return False
        return True
