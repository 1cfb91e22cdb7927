"""Builds the configured catalogue store by name: the one place that knows every backend."""

from __future__ import annotations

import importlib

from everest_elearn.catalogue.store import CatalogueStore
from everest_elearn.errors import Unsupported
from everest_elearn.settings import Settings

# name -> (module, class); imported lazily so a backend's SDK is only needed when it is chosen.
BACKENDS: dict[str, tuple[str, str]] = {
    "sqlite": ("everest_elearn.catalogue.backends.sqlite", "SqliteStore"),
    "elasticsearch": ("everest_elearn.catalogue.backends.elasticsearch_", "ElasticsearchStore"),
}


def create_store(settings: Settings, backend: str | None = None) -> CatalogueStore:
    """The store named by ``backend`` (default: ``settings.catalogue.backend``), not yet opened."""
    name = backend or settings.catalogue.backend
    if name not in BACKENDS:
        raise Unsupported(f"unknown catalogue backend {name!r}; known: {', '.join(BACKENDS)}")
    module_name, class_name = BACKENDS[name]
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        raise Unsupported(f"catalogue backend {name!r} is not available: {exc}") from exc
    cls = getattr(module, class_name)
    if name == "sqlite":
        store: CatalogueStore = cls(settings.catalogue_sqlite_path)
    else:
        store = cls(settings)
    return store
