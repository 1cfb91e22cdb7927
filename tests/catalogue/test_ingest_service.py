"""Bulk ingest through the real Catalogue service on the embedded SQLite store."""

from __future__ import annotations

import copy
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from everest_elearn.catalogue.factory import create_store
from everest_elearn.catalogue.ingest.service import ingest
from everest_elearn.catalogue.service import Catalogue
from everest_elearn.errors import Forbidden, Unauthorized
from everest_elearn.security.identity import ANONYMOUS, Identity, Role
from everest_elearn.settings import Settings

FIXTURES = Path(__file__).resolve().parents[3] / "shared" / "fixtures" / "catalogue"
ADMIN = Identity("admin", frozenset({Role.ADMIN}))
AGENT = Identity("agent", frozenset({Role.AGENT}))


@pytest.fixture
async def catalogue(tmp_path: Path) -> AsyncIterator[Catalogue]:
    store = create_store(Settings(data_dir=tmp_path))
    await store.open()
    try:
        yield Catalogue(store)
    finally:
        await store.close()


def _json(name: str) -> Any:
    return json.loads((FIXTURES / name).read_bytes())


def _dump(document: Any) -> bytes:
    return json.dumps(document).encode()


def _consistent(report: Any) -> None:
    assert report.received == report.ingested + len(report.skipped) + len(report.rejected)


async def test_products_before_their_collection_in_one_list(catalogue: Catalogue) -> None:
    collection = _json("stac/odc-stac-sentinel-2-l2a.collection.json")
    item = _json("stac/odc-stac-S2B_MSIL2A_20190629T212529_R043_T06VVN_20201006T080531.json")
    report = await ingest(catalogue, _dump([item, collection]), AGENT)
    assert (report.created, report.updated, report.rejected) == (2, 0, [])
    _consistent(report)
    stored = await catalogue.get(item["id"], ANONYMOUS)
    assert stored.parent_identifier == "sentinel-2-l2a"
    assert stored.properties["track"] == 43
    again = await ingest(catalogue, _dump([item, collection]), AGENT)
    assert (again.created, again.updated) == (0, 2)
    assert await catalogue.count() == 2


async def test_unknown_collection_is_rejected_with_a_hint_and_option_assigns_one(
    catalogue: Catalogue,
) -> None:
    data = (FIXTURES / "opensearch/eodag-earth_search_search.json").read_bytes()
    report = await ingest(catalogue, data, ADMIN)
    (problem,) = report.rejected
    assert problem.identifier == "S2B_27VWK_20240206_0_L1C" and problem.position == 1
    assert "sentinel-2-l1c" in problem.reason and "collection option" in problem.reason
    assert await catalogue.count() == 0

    collection = _json("stac/odc-stac-sentinel-2-l2a.collection.json")
    await ingest(catalogue, _dump(collection), ADMIN)
    report = await ingest(catalogue, data, ADMIN, collection="sentinel-2-l2a")
    assert report.created == 1 and report.rejected == []


async def test_a_bad_record_never_stops_the_batch_nor_loses_the_stored_one(
    catalogue: Catalogue,
) -> None:
    collection = _json("stac/odc-stac-sentinel-2-l2a.collection.json")
    good = _json("stac/odc-stac-S2B_MSIL2A_20190629T212529_R043_T06VVN_20201006T080531.json")
    await ingest(catalogue, _dump([collection, good]), ADMIN)

    broken = copy.deepcopy(good)
    broken["properties"]["eo:cloud_cover"] = 250  # same identifier, now invalid
    other = copy.deepcopy(good)
    other["id"] = "S2B_SECOND"
    other["properties"]["eo:cloud_cover"] = 12.5
    report = await ingest(
        catalogue, _dump({"type": "FeatureCollection", "features": [broken, other]}), ADMIN
    )
    assert report.created == 1
    (problem,) = report.rejected
    assert problem.position == 1 and problem.identifier == good["id"]
    assert "cloudCover" in problem.reason
    stored = await catalogue.get(good["id"], ANONYMOUS)
    assert stored.properties["cloudCover"] == pytest.approx(0.314306)  # untouched
    assert (await catalogue.get("S2B_SECOND", ANONYMOUS)).properties["cloudCover"] == 12.5


async def test_duplicates_in_one_ingest(catalogue: Catalogue) -> None:
    collection = _json("stac/odc-stac-sentinel-2-l2a.collection.json")
    item = _json("stac/odc-stac-S2B_MSIL2A_20190629T212529_R043_T06VVN_20201006T080531.json")
    changed = copy.deepcopy(item)
    changed["properties"]["eo:cloud_cover"] = 50.0
    documents = [
        ("a.json", _dump([collection, item])),
        ("b.json", _dump([item, changed, {"type": "Catalog", "id": "root"}])),
    ]
    report = await ingest(catalogue, documents, ADMIN)
    assert report.created == 2
    assert sorted((s.source, s.position) for s in report.skipped) == [("b.json", 1), ("b.json", 3)]
    assert any("duplicate of a.json #2" in s.reason for s in report.skipped)
    (conflict,) = report.rejected
    assert conflict.source == "b.json" and conflict.position == 2
    assert "different content" in conflict.reason
    _consistent(report)
    assert report.to_dict()["skipped"] == 2


async def test_unreadable_documents_are_reported_not_raised(catalogue: Catalogue) -> None:
    report = await ingest(
        catalogue,
        [
            ("odata.json", (FIXTURES / "opensearch/eodag-cop_dataspace_search.json").read_bytes()),
            ("junk.txt", b"hello"),
        ],
        ADMIN,
    )
    assert report.received == 2 and report.ingested == 0
    assert {p.source for p in report.rejected} == {"odata.json", "junk.txt"}
    assert report.formats == {"odata": 1, "unknown": 1}


async def test_only_writers_may_ingest(catalogue: Catalogue) -> None:
    with pytest.raises(Unauthorized):
        await ingest(catalogue, b"[]", ANONYMOUS)
    with pytest.raises(Forbidden):
        await ingest(catalogue, b"[]", Identity("student", frozenset({Role.PARTICIPANT})))


async def test_batches_and_progress(catalogue: Catalogue) -> None:
    collection = _json("stac/odc-stac-sentinel-2-l2a.collection.json")
    base = _json("stac/odc-stac-S2B_MSIL2A_20190629T212529_R043_T06VVN_20201006T080531.json")
    items = []
    for n in range(23):
        item = copy.deepcopy(base)
        item["id"] = f"ITEM_{n:03d}"
        items.append(item)
    seen: list[tuple[int, int]] = []
    report = await ingest(
        catalogue,
        _dump([*items, collection]),
        ADMIN,
        batch_size=10,
        progress=lambda done, total: seen.append((done, total)),
    )
    assert report.created == 24
    assert seen == [(10, 24), (20, 24), (24, 24)]
