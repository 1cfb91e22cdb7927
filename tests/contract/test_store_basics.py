"""Contract: writes, reads, deletes and persistence of every catalogue backend."""

from __future__ import annotations

from everest_elearn.catalogue.factory import create_store
from everest_elearn.catalogue.model import Kind
from everest_elearn.catalogue.query import OneOf, Query
from everest_elearn.catalogue.store import CatalogueStore
from everest_elearn.settings import Settings
from tests.contract.records import S1, S2, collection, everything, ids, product, s2_product


async def test_ping_answers(store: CatalogueStore) -> None:
    assert await store.ping() is True


async def test_upsert_creates_then_replaces(store: CatalogueStore) -> None:
    first = await store.upsert([collection(), s2_product(1)])
    assert [(o.identifier, o.created) for o in first] == [(S2, True), ("S2_01", True)]
    again = await store.upsert([s2_product(1)])
    assert [(o.identifier, o.created) for o in again] == [("S2_01", False)]
    result = await store.search(Query(visible_groups=None))
    assert result.total == 1


async def test_get_round_trips_the_record(loaded: CatalogueStore) -> None:
    original = s2_product(3)
    stored = await loaded.get("S2_03")
    assert stored is not None
    assert stored.model_dump(exclude={"geometry", "updated"}) == original.model_dump(
        exclude={"geometry", "updated"}
    )
    assert stored.geometry is not None and stored.geometry["type"] == "Polygon"
    assert await loaded.get("nothing-here") is None


async def test_replacing_changes_what_is_found(loaded: CatalogueStore) -> None:
    changed = s2_product(2).model_copy(update={"properties": {"platform": "S2C"}})
    await loaded.upsert([changed])
    old = await loaded.search(Query(filters={"platform": OneOf(("S2A",))}, limit=50))
    assert "S2_02" not in ids(old.records)
    new = await loaded.search(Query(filters={"platform": OneOf(("S2C",))}))
    assert ids(new.records) == ["S2_02"]
    stored = await loaded.get("S2_02")
    assert stored is not None and "cloudCover" not in stored.properties


async def test_replacing_updates_free_text_and_footprint(loaded: CatalogueStore) -> None:
    changed = s2_product(2).model_copy(update={"title": "entirely different words"})
    await loaded.upsert([changed])
    assert (await loaded.search(Query(terms=("entirely", "different")))).total == 1
    assert (await loaded.search(Query(terms=("number 2",)))).total == 0
    assert (await loaded.search(Query(terms=("number 3",)))).total == 1


async def test_delete_product(loaded: CatalogueStore) -> None:
    assert await loaded.delete("S2_04") is True
    assert await loaded.get("S2_04") is None
    assert await loaded.delete("S2_04") is False
    result = await loaded.search(Query(parent=S2, limit=50))
    assert result.total == 10 and "S2_04" not in ids(result.records)


async def test_delete_collection_deletes_its_products(loaded: CatalogueStore) -> None:
    assert await loaded.delete(S2) is True
    assert await loaded.get(S2) is None
    assert await loaded.get("S2_05") is None
    remaining = await loaded.search(Query(limit=50))
    assert sorted(ids(remaining.records)) == ["S1_00", "S1_01", "S1_02"]
    cols = await loaded.search(Query(kind=Kind.COLLECTION))
    assert ids(cols.records) == [S1]
    # Free text and spatial indexes forget them too.
    assert (await loaded.search(Query(terms=("Sentinel-2",)))).total == 0


async def test_record_without_footprint_or_time(store: CatalogueStore) -> None:
    await store.upsert([collection(), product("bare", geometry=None, start=None)])
    result = await store.search(Query())
    assert ids(result.records) == ["bare"]
    stored = await store.get("bare")
    assert stored is not None and stored.geometry is None and stored.start is None


async def test_persists_across_reopen(
    store: CatalogueStore, store_settings: Settings, backend: str
) -> None:
    await store.upsert(everything())
    await store.close()
    reopened = create_store(store_settings, backend)
    await reopened.open()
    try:
        found = await reopened.get("S2_07")
        expected = 14 if reopened.capabilities.persistent else 0
        assert (await reopened.search(Query(limit=0))).total == expected
        assert (found is not None) == reopened.capabilities.persistent
    finally:
        await reopened.close()
    await store.open()  # the fixture closes it again


async def test_open_is_idempotent(loaded: CatalogueStore) -> None:
    await loaded.open()
    assert (await loaded.search(Query(parent=S1))).total == 3


async def test_same_identifier_twice_in_one_batch(store: CatalogueStore) -> None:
    first = s2_product(1)
    second = first.model_copy(update={"title": "second version"})
    outcomes = await store.upsert([collection(), first, second])
    assert [o.created for o in outcomes] == [True, True, False]
    stored = await store.get("S2_01")
    assert stored is not None and stored.title == "second version"
    assert (await store.search(Query())).total == 1
