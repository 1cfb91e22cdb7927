"""Harvest test helpers: a catalogue on a temporary file, agents from sources text, real documents."""

from __future__ import annotations

import copy
import json
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from everest_elearn.catalogue.backends.sqlite import SqliteStore
from everest_elearn.catalogue.service import Catalogue
from everest_elearn.harvest.agent import Agent
from everest_elearn.harvest.checkpoint import Checkpoints
from everest_elearn.settings import Settings
from tests.harvest.replay import replay  # noqa: F401 - fixture

REPO = Path(__file__).resolve().parents[2]
FIXTURES = REPO.parent / "shared" / "fixtures"
CATALOGUE = FIXTURES / "catalogue"
SAFE = FIXTURES / "safe"
RASTERS = FIXTURES / "rasters"


def real_json(relative: str) -> Any:
    return json.loads((CATALOGUE / relative).read_text())


def earth_search_item(index: int, when: datetime) -> dict[str, Any]:
    """The real earth-search STAC item (eodag's recorded answer), renamed and re-timed."""
    item = copy.deepcopy(real_json("opensearch/eodag-earth_search_search.json")["features"][0])
    item["id"] = f"S2B_27VWK_{when:%Y%m%d}_{index:04d}_L1C"
    item["properties"]["datetime"] = when.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    item["properties"]["updated"] = (when + timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return item


def item_collection(
    items: list[dict[str, Any]], next_link: dict[str, Any] | None
) -> dict[str, Any]:
    """A page shaped exactly like earth-search's search answer, with our items and next link."""
    page = copy.deepcopy(real_json("opensearch/eodag-earth_search_search.json"))
    page["features"] = items
    page["numberReturned"] = len(items)
    page["context"]["returned"] = len(items)
    page["links"] = [link for link in page["links"] if link["rel"] != "next"]
    if next_link is not None:
        page["links"].insert(0, {"rel": "next", "type": "application/geo+json", **next_link})
    return page


def moments(count: int, start: datetime = datetime(2024, 2, 1, tzinfo=UTC)) -> list[datetime]:
    return [start + timedelta(hours=6 * i) for i in range(count)]


@pytest.fixture
async def catalogue(tmp_path: Path) -> AsyncIterator[Catalogue]:
    store = SqliteStore(tmp_path / "catalogue.sqlite")
    await store.open()
    try:
        yield Catalogue(store)
    finally:
        await store.close()


AgentFactory = Callable[..., Agent]


@pytest.fixture
def make_agent(tmp_path: Path, catalogue: Catalogue) -> AgentFactory:
    def build(sources: str, environ: dict[str, str] | None = None, mirror: Any = None) -> Agent:
        settings = Settings(data_dir=tmp_path / "data")
        path = tmp_path / "sources.yaml"
        path.write_text(sources)
        return Agent(
            catalogue,
            Checkpoints(tmp_path / "harvest.sqlite"),
            settings.harvest,
            path,
            environ or {},
            mirror=mirror,
        )

    return build


async def product_ids(catalogue: Catalogue, collection: str) -> list[str]:
    from everest_elearn.catalogue.model import Kind
    from everest_elearn.catalogue.query import Query

    result = await catalogue.store.search(Query(kind=Kind.PRODUCT, parent=collection, limit=1000))
    return sorted(r.identifier for r in result.records)


# Fixtures of real file servers (imported last: servers.py reads the paths above).
from tests.harvest.servers import nginx_tree, python_tree  # noqa: E402, F401
