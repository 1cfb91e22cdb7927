"""Helpers for notebooks: find the mounted data packages and open the data cube.

This module runs inside the notebook image (see ``docker/notebook``), which installs the project
without its server dependencies: it imports only the standard library, PyYAML and, lazily,
datacube. It is a notebook edge, so it may read the container's environment (set by the hub).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

# Where the hub mounts packages read-only, one folder per package (docker/notebook/Dockerfile).
DEFAULT_DATA_ROOT = Path("/home/jovyan/data")
MANIFEST_NAMES = ("manifest.json", "manifest.yaml", "manifest.yml")


@dataclass(frozen=True)
class MountedPackage:
    """A data package as seen from inside a container."""

    name: str
    path: Path
    manifest: dict[str, Any] | None

    @property
    def files(self) -> list[Path]:
        """Every regular file of the package, manifest excluded, in a stable order."""
        return sorted(
            p for p in self.path.rglob("*") if p.is_file() and p.name not in MANIFEST_NAMES
        )


def data_root() -> Path:
    """The folder holding the mounted packages (``EVEREST_DATA_ROOT`` in the image)."""
    return Path(os.environ.get("EVEREST_DATA_ROOT") or DEFAULT_DATA_ROOT)


def _read_manifest(folder: Path) -> dict[str, Any] | None:
    for name in MANIFEST_NAMES:
        candidate = folder / name
        if candidate.is_file():
            text = candidate.read_text(encoding="utf-8")
            if name.endswith(".json"):
                loaded: Any = json.loads(text)
            else:
                import yaml

                loaded = yaml.safe_load(text)
            return loaded if isinstance(loaded, dict) else None
    return None


def mounted_packages(root: Path | None = None) -> list[MountedPackage]:
    """The packages mounted under ``root`` (default: :func:`data_root`), by name."""
    base = root or data_root()
    if not base.is_dir():
        return []
    return [
        MountedPackage(name=entry.name, path=entry, manifest=_read_manifest(entry))
        for entry in sorted(base.iterdir())
        if entry.is_dir() and not entry.name.startswith(".")
    ]


def open_datacube(app: str = "everest-notebook") -> Any:
    """A ``datacube.Datacube`` on the index the hub configured (``ODC_DEFAULT_DB_URL``)."""
    import datacube

    return datacube.Datacube(app=app)


def list_products(app: str = "everest-notebook") -> list[str]:
    """Names of the products indexed in the data cube, sorted."""
    dc = open_datacube(app)
    try:
        return sorted(product.name for product in dc.index.products.get_all())
    finally:
        dc.close()
