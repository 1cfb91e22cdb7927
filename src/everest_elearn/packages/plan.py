"""From a spec to the exact list of files: products resolved through the catalogue, sizes checked."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Protocol
from urllib.parse import unquote, urlsplit

from everest_elearn.catalogue.model import Link, Record
from everest_elearn.catalogue.query import Query
from everest_elearn.catalogue.store import SearchResult
from everest_elearn.errors import InvalidInput, NotFound, TooLarge
from everest_elearn.packages.manifest import layout_path
from everest_elearn.packages.spec import Content, PackageSpec, format_size
from everest_elearn.security.identity import Identity

# Largest page asked of the catalogue while expanding a saved query.
PAGE = 200


class ProductCatalogue(Protocol):
    """What packages need of the catalogue; ``catalogue.service.Catalogue`` satisfies it."""

    async def get(self, identifier: str, identity: Identity) -> Record: ...

    async def search(self, query: Query, identity: Identity) -> SearchResult: ...


@dataclass(frozen=True)
class PlannedFile:
    record: Record
    link: Link
    file_name: str  # as the gateway names it: the last segment of the enclosure link
    path: str  # inside the volume
    content: int  # which entry of spec.contents selected it

    @property
    def size(self) -> int | None:
        return self.link.length


@dataclass
class Plan:
    spec: PackageSpec
    files: list[PlannedFile]

    @property
    def records(self) -> list[Record]:
        seen: dict[str, Record] = {}
        for planned in self.files:
            seen.setdefault(planned.record.identifier, planned.record)
        return list(seen.values())

    @property
    def known_bytes(self) -> int:
        return sum(f.size or 0 for f in self.files)

    @property
    def unknown_sizes(self) -> int:
        return sum(1 for f in self.files if f.size is None)


def file_name_of(link: Link) -> str:
    return unquote(urlsplit(link.href).path.rstrip("/").rpartition("/")[2])


async def _query_records(
    content: Content, where: str, catalogue: ProductCatalogue, identity: Identity
) -> list[Record]:
    from everest_elearn.catalogue.opensearch.params import parse_request
    from everest_elearn.catalogue.registry import Level

    params = content.query_params()
    params.pop("count", None)
    params.pop("startIndex", None)
    params.pop("startPage", None)
    try:
        request = parse_request(params, level=Level.PRODUCT, default_count=PAGE, max_count=PAGE)
    except InvalidInput as exc:
        raise InvalidInput(f"{where}.query.{exc.where}", exc.message) from None
    records: list[Record] = []
    offset = 0
    while True:
        page = dataclasses.replace(request.query, offset=offset, limit=PAGE, count_limit=None)
        result = await catalogue.search(page, identity)
        if result.total > content.max_products:
            raise TooLarge(
                f"{where}.query: {result.total} products match, more than max_products "
                f"({content.max_products}); narrow the query or raise max_products"
            )
        records.extend(result.records)
        offset += len(result.records)
        if not result.records or offset >= result.total:
            return records


async def resolve(
    spec: PackageSpec, catalogue: ProductCatalogue, identity: Identity, max_package_bytes: int
) -> Plan:
    """Every file the spec selects; refuses unknown products and impossible sizes. Fetches nothing."""
    if spec.max_size > max_package_bytes:
        raise InvalidInput(
            "max_size",
            f"{format_size(spec.max_size)} is more than this platform allows "
            f"({format_size(max_package_bytes)})",
        )
    files: list[PlannedFile] = []
    taken: dict[str, str] = {}
    for index, content in enumerate(spec.contents):
        where = f"contents.{index}"
        records: list[Record] = []
        for position, identifier in enumerate(content.products):
            try:
                records.append(await catalogue.get(identifier, identity))
            except NotFound:
                raise InvalidInput(
                    f"{where}.products.{position}", f"unknown product {identifier!r}"
                ) from None
        if content.query:
            records.extend(await _query_records(content, where, catalogue, identity))
        selected = 0
        content_bytes = 0
        for record in records:
            for link in record.data_links:
                name = file_name_of(link)
                if not name or not content.wants(name):
                    continue
                path = layout_path(record, name)
                key = f"{record.identifier}/{name}"
                if path in taken:
                    if taken[path] == key:
                        continue  # the same file selected twice: once is enough
                    raise InvalidInput(where, f"{key} and {taken[path]} would both be {path}")
                taken[path] = key
                files.append(PlannedFile(record, link, name, path, index))
                selected += 1
                content_bytes += link.length or 0
        if records and not selected:
            raise InvalidInput(f"{where}.files", "no file of the selected products matches")
        if not records:
            raise InvalidInput(where, "selects no product")
        if content.max_size is not None and content_bytes > content.max_size:
            raise TooLarge(
                f"{where}.max_size: the selected files hold {format_size(content_bytes)}, "
                f"more than {format_size(content.max_size)}"
            )
    plan = Plan(spec, files)
    if plan.known_bytes > spec.max_size:
        raise TooLarge(
            f"max_size: the selected files hold {format_size(plan.known_bytes)}, "
            f"more than {format_size(spec.max_size)}"
        )
    return plan
