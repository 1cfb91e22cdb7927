"""The Catalogue service over the embedded store: access rules, validation, explanations."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace

import pytest

from everest_elearn.catalogue.backends.sqlite import SqliteStore
from everest_elearn.catalogue.model import Kind, Record
from everest_elearn.catalogue.query import Interval, OneOf, Query
from everest_elearn.catalogue.service import Catalogue
from everest_elearn.errors import Forbidden, InvalidInput, NotFound, Unauthorized
from everest_elearn.security.identity import ANONYMOUS, Identity, Role
from everest_elearn.settings import Settings
from tests.contract.records import S1, S2, box, collection, everything, ids, product, s2_product

ADMIN = Identity("admin", frozenset({Role.ADMIN}))
AGENT = Identity("agent", frozenset({Role.AGENT}))
ESA = Identity("ana", frozenset({Role.PARTICIPANT}), frozenset({"esa"}))
STUDENT = Identity("bo", frozenset({Role.PARTICIPANT}))


def renamed(i: int, identifier: str) -> Record:
    return s2_product(i).model_copy(update={"identifier": identifier})


@pytest.fixture
async def catalogue(settings: Settings) -> AsyncIterator[Catalogue]:
    store = SqliteStore(settings.catalogue_sqlite_path)
    await store.open()
    service = Catalogue(store)
    await service.upsert(everything(), AGENT)
    yield service
    await store.close()


async def test_writes_need_a_writer(catalogue: Catalogue) -> None:
    with pytest.raises(Unauthorized):
        await catalogue.upsert([s2_product(1)], ANONYMOUS)
    with pytest.raises(Forbidden):
        await catalogue.delete("S2_01", STUDENT)
    await catalogue.delete("S2_01", ADMIN)
    with pytest.raises(NotFound):
        await catalogue.get("S2_01", ADMIN)
    with pytest.raises(NotFound):
        await catalogue.delete("S2_01", ADMIN)


async def test_product_of_unknown_collection_is_rejected(catalogue: Catalogue) -> None:
    orphan = product("orphan", "NO_SUCH_COLLECTION")
    with pytest.raises(InvalidInput) as caught:
        await catalogue.upsert([renamed(5, "S2_20"), orphan], AGENT)
    assert "orphan" in str(caught.value) and "NO_SUCH_COLLECTION" in str(caught.value)
    with pytest.raises(NotFound):  # nothing of the batch was stored
        await catalogue.get("S2_20", ADMIN)


async def test_partial_upsert_reports_each_record(catalogue: Catalogue) -> None:
    bad_cloud = product("cloudy", S2, cloudCover=140.0)
    outcomes = await catalogue.upsert(
        [renamed(5, "S2_21"), product("orphan", "nope"), bad_cloud, s2_product(1)],
        AGENT,
        partial=True,
    )
    assert [(o.identifier, o.created, o.rejected is None) for o in outcomes] == [
        ("S2_21", True, True),
        ("orphan", False, False),
        ("cloudy", False, False),
        ("S2_01", False, True),
    ]
    assert "cloudCover" in (outcomes[2].rejected or "")
    assert (await catalogue.get("S2_21", ADMIN)).identifier == "S2_21"


async def test_collection_in_the_same_batch_is_known(catalogue: Catalogue) -> None:
    outcomes = await catalogue.upsert([collection("NEW"), product("n1", "NEW")], AGENT)
    assert [o.created for o in outcomes] == [True, True]


async def test_footprints_are_normalised_on_the_way_in(catalogue: Catalogue) -> None:
    crossing = {
        "type": "Polygon",
        "coordinates": [[[178, -5], [-178, -5], [-178, 5], [178, 5], [178, -5]]],
    }
    await catalogue.upsert([product("dateline", S2, geometry=crossing)], AGENT)
    stored = await catalogue.get("dateline", ADMIN)
    assert stored.geometry is not None and stored.geometry["type"] == "MultiPolygon"
    with pytest.raises(InvalidInput, match="latitude"):
        await catalogue.upsert([product("bad", S2, geometry=box(0, 80, 1, 95))], AGENT)


async def test_products_inherit_collection_restrictions(catalogue: Catalogue) -> None:
    await catalogue.upsert([collection("PRIVATE", restricted_to=["esa"])], AGENT)
    await catalogue.upsert([product("hidden", "PRIVATE", platform="Z")], AGENT)
    assert (await catalogue.get("hidden", ADMIN)).restricted_to == ["esa"]
    assert (await catalogue.get("hidden", ESA)).identifier == "hidden"
    for who in (STUDENT, ANONYMOUS):
        with pytest.raises(NotFound):  # restricted records are reported missing, not forbidden
            await catalogue.get("hidden", who)
        result = await catalogue.search(Query(limit=100, facets=("platform",)), who)
        assert "hidden" not in ids(result.records) and result.total == 14
        assert "Z" not in result.facets["platform"]
        assert "PRIVATE" not in ids(await catalogue.collections(who))
    assert "PRIVATE" in ids(await catalogue.collections(ESA))
    assert (await catalogue.search(Query(limit=0), ADMIN)).total == 15


async def test_search_ignores_caller_supplied_visibility(catalogue: Catalogue) -> None:
    await catalogue.upsert([collection("PRIVATE", restricted_to=["esa"])], AGENT)
    await catalogue.upsert([product("hidden", "PRIVATE")], AGENT)
    sneaky = Query(limit=100, visible_groups=None)
    assert "hidden" not in ids((await catalogue.search(sneaky, STUDENT)).records)


async def test_explain_empty(catalogue: Catalogue) -> None:
    query = Query(
        parent=S2,
        filters={"cloudCover": Interval(high=5), "platform": OneOf(("S2B",))},
    )
    explanation = await catalogue.explain_empty(query, STUDENT)
    assert explanation is not None
    found = {r.constraint: r.total for r in explanation.relaxations}
    assert found == {"cloudCover": 5, "platform": 1}
    assert explanation.best is not None and explanation.best.parameter == "eo:cloudCover"
    assert await catalogue.explain_empty(replace(query, filters={}), STUDENT) is None
    hopeless = Query(terms=("nowhere",), filters={"platform": OneOf(("none",))})
    nothing = await catalogue.explain_empty(hopeless, STUDENT)
    assert nothing is not None and nothing.relaxations == () and nothing.best is None


async def test_explain_empty_names_text_and_time(catalogue: Catalogue) -> None:
    from tests.contract.records import T0

    query = Query(terms=("nothing-matches",), time_start=T0, time_end=T0)
    explanation = await catalogue.explain_empty(query, STUDENT)
    assert explanation is not None
    # Without the words, the time finds S2_00; without the time, the words still find nothing.
    assert {r.constraint: r.total for r in explanation.relaxations} == {"searchTerms": 1}


async def test_field_summary(catalogue: Catalogue) -> None:
    platforms = await catalogue.field_summary("platform", STUDENT, parent=S2)
    assert platforms.options == {"S2A": 6, "S2B": 5}
    cloud = await catalogue.field_summary("cloudCover", STUDENT, parent=S2)
    assert (cloud.minimum, cloud.maximum) == (0.0, 100.0)
    orbits = await catalogue.field_summary("orbitNumber", STUDENT, kind=Kind.PRODUCT)
    assert (orbits.minimum, orbits.maximum) == (100, 202)
    collections = await catalogue.field_summary("platform", STUDENT)
    assert collections.options == {"Sentinel-1": 1, "Sentinel-2": 1}
    with pytest.raises(InvalidInput):
        await catalogue.field_summary("nope", STUDENT)


async def test_collections_and_count(catalogue: Catalogue) -> None:
    assert ids(await catalogue.collections(STUDENT)) == [S1, S2]
    assert await catalogue.count() == 16
    assert await catalogue.ping() is True
