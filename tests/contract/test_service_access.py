"""Contract, through the Catalogue service: changing a collection's access reaches its products."""

from __future__ import annotations

import pytest

from everest_elearn.catalogue.query import Query
from everest_elearn.catalogue.service import Catalogue
from everest_elearn.catalogue.store import CatalogueStore
from everest_elearn.errors import NotFound
from everest_elearn.security.identity import ANONYMOUS, Identity, Role
from tests.contract.records import S1, S2, everything, ids, s2_product

AGENT = Identity("agent", frozenset({Role.AGENT}))
ESA = Identity("ana", frozenset({Role.PARTICIPANT}), frozenset({"esa"}))
S2_ALL = [f"S2_{i:02d}" for i in range(11)]


async def visible(catalogue: Catalogue, who: Identity) -> list[str]:
    result = await catalogue.search(Query(limit=50, facets=("platform",)), who)
    assert result.total == len(result.records)
    return sorted(ids(result.records))


async def test_restricting_a_collection_hides_its_stored_products(store: CatalogueStore) -> None:
    catalogue = Catalogue(store)
    await catalogue.upsert(everything(), AGENT)
    assert len(await visible(catalogue, ANONYMOUS)) == 14
    restricted = next(r for r in everything() if r.identifier == S2)
    await catalogue.upsert([restricted.model_copy(update={"restricted_to": ["esa"]})], AGENT)
    assert await visible(catalogue, ANONYMOUS) == [f"S1_{i:02d}" for i in range(3)]
    facets = (await catalogue.search(Query(limit=0, facets=("platform",)), ANONYMOUS)).facets
    assert facets["platform"] == {"S1A": 3}
    assert len(await visible(catalogue, ESA)) == 14
    stored = await catalogue.get("S2_04", ESA)
    assert stored.restricted_to == ["esa"]
    with pytest.raises(NotFound):
        await catalogue.get("S2_04", ANONYMOUS)
    # A product written later inherits the restriction too; S1 products were never touched.
    await catalogue.upsert([s2_product(4)], AGENT)
    assert "S2_04" not in await visible(catalogue, ANONYMOUS)
    assert (await catalogue.get("S1_01", ANONYMOUS)).restricted_to == []


async def test_opening_a_collection_shows_its_stored_products(store: CatalogueStore) -> None:
    catalogue = Catalogue(store)
    closed = [
        r.model_copy(update={"restricted_to": ["esa"]}) if r.identifier == S1 else r
        for r in everything()
    ]
    await catalogue.upsert(closed, AGENT)
    assert await visible(catalogue, ANONYMOUS) == S2_ALL
    opened = next(r for r in everything() if r.identifier == S1)
    await catalogue.upsert([opened], AGENT)
    assert len(await visible(catalogue, ANONYMOUS)) == 14
    assert (await catalogue.get("S1_02", ANONYMOUS)).restricted_to == []
