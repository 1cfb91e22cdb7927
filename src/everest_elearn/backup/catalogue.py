"""The catalogue part: every record as JSON lines, through the store interface (any backend).

Going through :class:`CatalogueStore` rather than the backend's files means a backup taken on
the embedded catalogue restores into Elasticsearch and back, which is also the migration path
between them.
"""

from __future__ import annotations

import gzip
from collections.abc import Callable
from pathlib import Path

from everest_elearn.catalogue.model import Kind, Record
from everest_elearn.catalogue.query import Query, SortKey
from everest_elearn.catalogue.store import CatalogueStore
from everest_elearn.errors import InvalidInput

PAGE = 500


async def dump(store: CatalogueStore, path: Path, progress: Callable[[int], None]) -> int:
    """Write every collection, then every product, one JSON record per line; returns the count."""
    count = 0
    with gzip.open(path, "wt", encoding="utf-8") as out:
        for kind in (Kind.COLLECTION, Kind.PRODUCT):
            offset = 0
            while True:
                # visible_groups=None: the backup sees restricted records too.
                query = Query(
                    kind=kind,
                    offset=offset,
                    limit=PAGE,
                    sort=(SortKey("start"),),
                    visible_groups=None,
                )
                page = (await store.search(query)).records
                for record in page:
                    out.write(record.model_dump_json() + "\n")
                count += len(page)
                offset += len(page)
                progress(count)
                if len(page) < PAGE:
                    break
    return count


async def load(store: CatalogueStore, path: Path, progress: Callable[[int], None]) -> int:
    """Upsert every record of a dump (collections come first in it); returns the count."""
    count = 0
    batch: list[Record] = []
    with gzip.open(path, "rt", encoding="utf-8") as lines:
        for number, line in enumerate(lines, 1):
            try:
                batch.append(Record.model_validate_json(line))
            except ValueError as exc:
                raise InvalidInput(
                    f"{path.name}:{number}", f"not a catalogue record: {exc}"
                ) from None
            if len(batch) >= PAGE:
                await store.upsert(batch)
                count += len(batch)
                batch = []
                progress(count)
    if batch:
        await store.upsert(batch)
        count += len(batch)
        progress(count)
    return count
