"""Finding a product's file and what the rules decide for it and the caller: the ``Plan``."""

from __future__ import annotations

import mimetypes
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import unquote, urlsplit

from everest_elearn.catalogue.model import Link, Record
from everest_elearn.errors import BackendUnavailable, Forbidden, NotFound
from everest_elearn.gateway.delivery import ProductLookup, Strategy
from everest_elearn.gateway.eviction import CACHE_PREFIX, MIRROR_PREFIX
from everest_elearn.gateway.matching import Decision, ProductFacts, decide, locate
from everest_elearn.gateway.rules import RuleSet, Source
from everest_elearn.security.identity import Identity


@dataclass(frozen=True)
class Plan:
    """One file of one product, where it lives, and what the rules decided for this caller."""

    product: Record
    link: Link
    name: str
    source: Source
    decision: Decision

    @property
    def path(self) -> str:
        return f"{self.product.parent_identifier}/{self.product.identifier}/{self.name}"

    def key(self, strategy: Strategy) -> str:
        prefix = MIRROR_PREFIX if strategy is Strategy.MIRROR else CACHE_PREFIX
        return prefix + self.path

    @property
    def sha256(self) -> str | None:
        """The catalogue's sha256 of the file (lower-case hex), when it gives one."""
        wanted = self.link.checksum or ""
        return wanted[7:].lower() if wanted.startswith("sha256:") else None

    @property
    def etag(self) -> str | None:
        """An ETag known before any byte is read: the catalogue's sha256."""
        return f'"{self.sha256}"' if self.sha256 is not None else None

    def media_type(self, found: str | None) -> str:
        """The catalogue's media type, else the one found (store, provider), else a guess."""
        return (
            self.link.type
            or found
            or mimetypes.guess_type(self.name)[0]
            or "application/octet-stream"
        )


def file_name_of(link: Link) -> str:
    return unquote(urlsplit(link.href).path.rstrip("/").rsplit("/", 1)[-1])


async def find_product(
    lookup: ProductLookup | None, collection: str, identifier: str, identity: Identity
) -> Record:
    if lookup is None:
        raise BackendUnavailable("catalogue")
    record = await lookup.get(identifier, identity)
    if record.parent_identifier != collection:
        raise NotFound("product", f"{collection}/{identifier}")
    return record


def make_plan(ruleset: RuleSet, product: Record, file_name: str, identity: Identity) -> Plan:
    link = next((k for k in product.data_links if file_name_of(k) == file_name), None)
    if link is None:
        raise NotFound("file", f"{product.identifier}/{file_name}")
    source = locate(link.href, ruleset.sources)
    if source is None:
        # Only locations the rules name are ever fetched (or redirected to).
        raise Forbidden("this file's location is not a source named in the gateway rules")
    facts = ProductFacts.of(product, link, source, datetime.now(UTC))
    return Plan(product, link, file_name, source, decide(ruleset, facts, identity))
