"""Contract, through ingest: a record that cannot be stored is rejected with a reason and every
other record of the batch is stored; values the service accepts are stored alike by both backends."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from everest_elearn.catalogue.ingest.service import ingest
from everest_elearn.catalogue.query import Interval, Query
from everest_elearn.catalogue.service import Catalogue
from everest_elearn.catalogue.store import CatalogueStore
from everest_elearn.security.identity import ANONYMOUS, Identity, Role
from tests.contract.records import collection, product

AGENT = Identity("agent", frozenset({Role.AGENT}))


def item(identifier: str, **properties: Any) -> dict[str, Any]:
    return {
        "type": "Feature",
        "stac_version": "1.0.0",
        "id": identifier,
        "collection": "C",
        "geometry": {"type": "Point", "coordinates": [10.0, 45.0]},
        "properties": {"datetime": "2023-01-01T10:00:00Z", **properties},
        "links": [],
        "assets": {},
    }


COLLECTION = {
    "type": "Collection",
    "stac_version": "1.0.0",
    "id": "C",
    "description": "A collection",
    "license": "proprietary",
    "extent": {
        "spatial": {"bbox": [[-180, -90, 180, 90]]},
        "temporal": {"interval": [["2020-01-01T00:00:00Z", None]]},
    },
    "links": [],
}

# Values a parser accepts that no 64-bit integer or date column can hold.
UNSTORABLE = {
    "orbit beyond 64 bits": {"sat:absolute_orbit": 2**70},
    "year 10000": {"created": "10000-01-01T00:00:00Z"},
}


@pytest.mark.parametrize("case", list(UNSTORABLE))
async def test_an_unstorable_record_is_rejected_and_the_batch_goes_on(
    store: CatalogueStore, case: str
) -> None:
    catalogue = Catalogue(store)
    stored = item("KEEP", **{"sat:absolute_orbit": 7})
    await ingest(catalogue, json.dumps([COLLECTION, stored]).encode(), AGENT)

    batch = [
        item("BEFORE", **{"sat:absolute_orbit": 1}),
        item("KEEP", **UNSTORABLE[case]),  # an update that must not cost the stored record
        item("AFTER", **{"sat:absolute_orbit": 2}),
    ]
    report = await ingest(catalogue, json.dumps(batch).encode(), AGENT)
    assert report.received == 3 and report.ingested == 2
    (problem,) = report.rejected
    assert problem.identifier == "KEEP" and problem.reason, problem
    for identifier in ("BEFORE", "AFTER"):
        assert (await catalogue.get(identifier, ANONYMOUS)).identifier == identifier
    assert (await catalogue.get("KEEP", ANONYMOUS)).properties["orbitNumber"] == 7


async def test_dates_in_any_iso_form_python_reads_are_stored_alike(store: CatalogueStore) -> None:
    """A week date, the basic format and an offset mean the same instants on both backends
    (the engine refused the first and read the second as epoch milliseconds)."""
    catalogue = Catalogue(store)
    await catalogue.upsert([collection("C")], AGENT)
    dated = {
        "WEEK": "2021-W01-1",  # Monday 2021-01-04
        "BASIC": "20210105",
        "OFFSET": "2021-01-06T01:00:00+02:00",  # 2021-01-05T23:00Z
        "LATER": "2021-01-07T00:00:00Z",
    }
    records = [product(i, "C", creationDate=d) for i, d in dated.items()]
    outcomes = await catalogue.upsert([product("PLAIN", "C"), *records], AGENT, partial=True)
    assert [o.rejected for o in outcomes] == [None] * 5
    window = Interval(datetime(2021, 1, 4, tzinfo=UTC), datetime(2021, 1, 6, tzinfo=UTC))
    found = await catalogue.search(
        Query(parent="C", filters={"creationDate": window}, limit=10), ANONYMOUS
    )
    assert sorted(r.identifier for r in found.records) == ["BASIC", "OFFSET", "WEEK"]


async def test_a_keyword_too_long_to_index_is_refused_per_record(store: CatalogueStore) -> None:
    """Over Lucene's 32766-byte term Elasticsearch refuses a record (osmem does not check), and
    the engine's refusal failed the whole batch: the service refuses it first, on both backends."""
    catalogue = Catalogue(store)
    await catalogue.upsert([collection("C")], AGENT)
    long = "\u00e9" * 17_000  # 34000 bytes in UTF-8
    batch = [
        product("A", "C"),
        product("B", "C", platform=long),
        product("K", "C").model_copy(update={"keywords": ["flood", long]}),
        product("D", "C", platform="\u00e9" * 16_000),  # 32000 bytes: fine
    ]
    outcomes = await catalogue.upsert(batch, AGENT, partial=True)
    rejected = {o.identifier: o.rejected for o in outcomes if o.rejected}
    assert set(rejected) == {"B", "K"}
    assert "platform" in str(rejected["B"]) and "32766 bytes" in str(rejected["B"])
    assert "keywords" in str(rejected["K"])
    found = await catalogue.search(Query(parent="C", limit=10), ANONYMOUS)
    assert sorted(r.identifier for r in found.records) == ["A", "D"]
