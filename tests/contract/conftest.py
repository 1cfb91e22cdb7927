"""The ``store`` fixture: every contract test runs once per catalogue backend.

Adding a backend is a one-line change: append its name to ``BACKENDS``. The fixture then asks
for a fixture named ``<name>_store_settings`` (returning Settings that point the backend at an
empty, test-private place, e.g. a fresh index prefix on a server started by a fixture plugin in
``tests/fixtures/``) and builds the store through ``catalogue.factory.create_store``, exactly as
the application does.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from everest_elearn.catalogue.factory import create_store
from everest_elearn.catalogue.store import CatalogueStore
from everest_elearn.settings import Settings

BACKENDS = ["sqlite", "elasticsearch"]


@pytest.fixture
def sqlite_store_settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path / "data")


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    name: str = request.param
    return name


@pytest.fixture
def store_settings(request: pytest.FixtureRequest, backend: str) -> Settings:
    settings: Settings = request.getfixturevalue(f"{backend}_store_settings")
    return settings


@pytest.fixture
async def store(store_settings: Settings, backend: str) -> AsyncIterator[CatalogueStore]:
    opened = create_store(store_settings, backend)
    await opened.open()
    try:
        yield opened
    finally:
        await opened.close()


@pytest.fixture
async def loaded(store: CatalogueStore) -> CatalogueStore:
    """The store holding ``records.everything()``."""
    from tests.contract.records import everything

    await store.upsert(everything())
    return store
