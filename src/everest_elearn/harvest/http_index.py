"""HTTP directory listings (nginx/Apache/Python autoindex HTML) and file indexes (one file a line).

The crawl starts at ``url``: an HTML listing is walked ``depth`` folders down; a plain-text index
lists ``href[,size[,modified]]`` per line (relative to the index). Products are recognised from
the names and their metadata read from the files by HTTP range requests.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import IO
from urllib.parse import unquote, urljoin

import httpx
from lxml import html

from everest_elearn.harvest.fetch import Http, safe_url
from everest_elearn.harvest.files import Entry, FileHarvester, RangeFile, read_capped
from everest_elearn.harvest.harvester import LimitReached
from everest_elearn.harvest.sources import SourceConfig

_DATE = re.compile(
    r"(\d{2}-[A-Za-z]{3}-\d{4} \d{2}:\d{2}(?::\d{2})?|\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}(?::\d{2})?)"
)
_SIZE = re.compile(r"(?<![\w.:-])(\d+(?:\.\d+)?)([KMGT]?)(?![\w.:-])")
_UNITS = {"": 1, "K": 1024, "M": 1024**2, "G": 1024**3, "T": 1024**4}


def _moment(raw: str) -> datetime | None:
    for pattern in (
        "%d-%b-%Y %H:%M:%S",
        "%d-%b-%Y %H:%M",
        "%Y-%m-%d %H:%M:%S",
        "%Y-%m-%d %H:%M",
        "%Y-%m-%dT%H:%M:%S",
    ):
        try:
            return datetime.strptime(raw.strip(), pattern).replace(tzinfo=UTC)
        except ValueError:
            continue
    return None


def listing(data: bytes, base: str) -> list[tuple[str, int | None, datetime | None]]:
    """``(absolute href, size, modified)`` of every link below ``base`` in an autoindex page."""
    try:
        root = html.fromstring(data)
    except (ValueError, html.etree.ParserError):
        return []
    out: list[tuple[str, int | None, datetime | None]] = []
    seen: set[str] = set()
    for anchor in root.iter("a"):
        href = anchor.get("href")
        if not href or href.startswith(("?", "#", "mailto:", "javascript:")):
            continue
        target = urljoin(base, href)
        if not target.startswith(base) or target == base or target in seen:
            continue  # parent folders, sort links, other hosts
        seen.add(target)
        # nginx puts date and size in the text after the link; Apache in the row's next cells.
        row = anchor.getparent()
        context = anchor.tail or ""
        if row is not None and row.tag == "td":
            row = row.getparent()
            context = " ".join(row.itertext()) if row is not None else context
        when = _DATE.search(context)
        after = context[when.end() :] if when else ""
        size_match = _SIZE.search(after)
        size = int(float(size_match.group(1)) * _UNITS[size_match.group(2)]) if size_match else None
        out.append((target, size, _moment(when.group(1)) if when else None))
    return out


class HttpIndexHarvester(FileHarvester):
    def __init__(self, config: SourceConfig, http: Http) -> None:
        super().__init__(config)
        self.http = http
        self.base = (
            config.url
            if config.url.endswith("/") or "." in config.url.rsplit("/", 1)[-1]
            else config.url + "/"
        )
        self.listings = 0  # folder listings read in this run
        self._sync = httpx.Client(
            timeout=config.limits.request_seconds,
            headers=dict(http.auth.headers()),
            follow_redirects=True,
        )

    async def close(self) -> None:
        self._sync.close()
        await self.http.close()

    async def entries(self, after: str | None) -> list[Entry]:
        found: list[Entry] = []
        self.listings = 1
        first = await self.http.get(self.base)
        kind = first.content_type.split(";")[0].strip()
        if kind in ("text/plain", "text/csv") or self.base.endswith((".txt", ".csv")):
            found = self._index(first.content.decode("utf-8", "replace"), first.url)
        else:
            await self._crawl(self.base, first.content, 0, found)
        found.sort(key=lambda e: e.key)
        if after:
            found = [e for e in found if e.key > after or "/measurement/" in e.key]
        return found

    def _index(self, text: str, base: str) -> list[Entry]:
        folder = base.rsplit("/", 1)[0] + "/"
        out = []
        for line in text.splitlines():
            parts = [p.strip() for p in re.split(r"[,\t ]+", line.strip()) if p.strip()]
            if not parts or parts[0].startswith("#"):
                continue
            href = urljoin(folder, parts[0])
            if not href.startswith(folder):
                continue
            size = int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else None
            when = _moment(parts[2].replace("Z", "")) if len(parts) > 2 else None
            out.append(Entry(unquote(href[len(folder) :]), href, size, when))
        return out

    async def _crawl(self, url: str, data: bytes, depth: int, found: list[Entry]) -> None:
        limits = self.config.limits
        for href, size, when in listing(data, url):
            if href.endswith("/"):
                if depth < self.config.depth:
                    # Each folder listing is a page: a server whose folders never end (a link
                    # loop) is stopped by the pages limit, not only by the run's time limit.
                    if self.listings >= limits.pages:
                        raise LimitReached(
                            "pages", f"{safe_url(self.base)}: {self.listings} folder listings read"
                        )
                    self.listings += 1
                    answer = await self.http.get(href)
                    await self._crawl(href, answer.content, depth + 1, found)
                continue
            found.append(Entry(unquote(href[len(self.base) :]), href, size, when))
            if len(found) > limits.records * 20:
                raise LimitReached(
                    "records", f"{safe_url(self.base)}: more than {len(found)} files listed"
                )

    def open(self, entry: Entry) -> IO[bytes]:
        size = entry.size
        if size is None or size == 0:
            head = self._sync.head(entry.href)
            size = int(head.headers.get("content-length") or 0)

        def fetch(start: int, end: int, deadline: float) -> bytes:
            where = safe_url(entry.href)
            try:
                with self._sync.stream(
                    "GET", entry.href, headers={"Range": f"bytes={start}-{end}"}
                ) as answer:
                    if answer.status_code == 206:
                        return read_capped(answer.iter_bytes(), end - start + 1, deadline, where)
                    if answer.status_code == 200:  # no ranges: read up to the block, no further
                        return read_capped(answer.iter_bytes(), end + 1, deadline, where)[start:]
            except httpx.HTTPError as exc:
                raise OSError(f"{where}: {exc}") from None
            raise OSError(f"{where} answered {answer.status_code}")

        limits = self.config.limits
        return RangeFile(fetch, size, limits.response_bytes, limits.request_seconds)  # type: ignore[return-value]
