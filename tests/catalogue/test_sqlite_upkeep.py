"""The embedded backend's upkeep: registry changes, bulk loads, facets in one pass and cached."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from everest_elearn.catalogue.backends.sqlite import SqliteStore
from everest_elearn.catalogue.query import Interval, OneOf, Query
from everest_elearn.catalogue.registry import PARAMETERS, REGISTRY, Registry
from everest_elearn.catalogue.service import Catalogue
from everest_elearn.security.identity import Identity, Role
from tests.contract.records import S2, collections, everything, ids, products, s2_product

AGENT = Identity("agent", frozenset({Role.AGENT}))


def indices(path: Path) -> set[str]:
    with sqlite3.connect(path) as conn:
        rows = conn.execute("SELECT name FROM sqlite_master WHERE type = 'index'").fetchall()
    return {row[0] for row in rows}


async def test_a_field_added_to_the_registry_is_filled_for_stored_records(tmp_path: Path) -> None:
    path = tmp_path / "catalogue.sqlite"
    older = Registry(tuple(p for p in PARAMETERS if p.field != "orbitNumber"))
    store = SqliteStore(path, older)
    await store.open()
    await store.upsert(everything())
    await store.close()
    # The release adds orbitNumber: reopening fills its column from the stored documents.
    store = SqliteStore(path, REGISTRY)
    await store.open()
    try:
        found = await store.search(Query(filters={"orbitNumber": Interval(103, 105)}))
        assert sorted(ids(found.records)) == ["S2_03", "S2_04", "S2_05"]
        facets = await store.search(Query(limit=0, facets=("orbitNumber",)))
        assert facets.facets["orbitNumber"]["201"] == 1
        assert "ix_p_orbitNumber" in indices(path)
    finally:
        await store.close()
    # Unchanged registry: nothing to refresh, and the records are still all there.
    again = SqliteStore(path)
    await again.open()
    try:
        assert (await again.search(Query(limit=0))).total == 14
    finally:
        await again.close()


async def test_bulk_load_defers_indices_and_restores_them(tmp_path: Path) -> None:
    path = tmp_path / "catalogue.sqlite"
    store = SqliteStore(path)
    await store.open()
    catalogue = Catalogue(store)
    before = indices(path)
    try:
        async with catalogue.bulk(AGENT):
            await catalogue.upsert([*collections(), *products()[:6]], AGENT)
            assert "ix_p_cloudCover" not in indices(path)
            # Searches stay right while the indices are away.
            during = await catalogue.search(Query(filters={"cloudCover": Interval(high=20)}), AGENT)
            assert sorted(ids(during.records)) == ["S2_00", "S2_01", "S2_02"]
            async with catalogue.bulk(AGENT):  # an overlapping load shares this one
                await catalogue.upsert(products()[6:], AGENT)
            assert "ix_p_cloudCover" not in indices(path)
        assert indices(path) == before
        after = await catalogue.search(Query(filters={"platform": OneOf(("S1A",))}), AGENT)
        assert after.total == 3
    finally:
        await store.close()


async def test_facets_follow_writes(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "catalogue.sqlite")
    await store.open()
    try:
        await store.upsert(everything())
        asked = ("platform", "productType", "orbitDirection", "keyword", "noSuchField")
        first = await store.search(Query(limit=0, facets=asked))
        assert first.facets["platform"] == {"S2A": 6, "S2B": 5, "S1A": 3}
        assert first.facets["orbitDirection"] == {}  # no record has one: no query at all
        assert first.facets["noSuchField"] == {}
        await store.upsert([s2_product(1).model_copy(update={"properties": {"platform": "S2C"}})])
        second = await store.search(Query(limit=0, facets=asked))
        assert second.facets["platform"] == {"S2A": 6, "S2B": 4, "S1A": 3, "S2C": 1}
        await store.delete("S1_GRD")
        third = await store.search(Query(limit=0, facets=asked))
        assert third.facets["platform"] == {"S2A": 6, "S2B": 4, "S2C": 1}
        # A filtered result is counted over that result, all fields in one pass.
        narrow = await store.search(
            Query(limit=0, filters={"cloudCover": Interval(high=30)}, facets=asked)
        )
        assert narrow.facets["platform"] == {"S2A": 2, "S2B": 1}  # S2_01 lost its cloud cover
    finally:
        await store.close()


async def test_field_ranges_and_level_counts_follow_writes(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "catalogue.sqlite")
    await store.open()
    catalogue = Catalogue(store)
    try:
        await catalogue.upsert(everything(), AGENT)
        cloud = await catalogue.field_summary("cloudCover", AGENT, parent=S2)
        assert (cloud.minimum, cloud.maximum) == (0.0, 100.0)
        created = await catalogue.field_summary("creationDate", AGENT, parent=S2)
        assert (created.minimum, created.maximum) == (
            "2023-01-02T10:00:00Z",
            "2023-01-12T10:00:00Z",
        )
        absent = await catalogue.field_summary("snowCover", AGENT, parent=S2)
        assert (absent.minimum, absent.maximum) == (None, None)
        assert (await catalogue.search(Query(parent=S2, limit=0), AGENT)).total == 11
        later = s2_product(9).model_copy(update={"identifier": "S2_12"})
        later.properties["orbitNumber"] = 999
        await catalogue.upsert([later], AGENT)
        orbits = await catalogue.field_summary("orbitNumber", AGENT, parent=S2)
        assert (orbits.minimum, orbits.maximum) == (100, 999)
        assert (await catalogue.search(Query(parent=S2, limit=0), AGENT)).total == 12
    finally:
        await store.close()
