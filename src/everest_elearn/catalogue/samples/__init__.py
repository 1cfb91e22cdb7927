"""The bundled sample catalogue: STAC collections and item collections (gzip), and their loader.

The files are written by ``build.py`` (see its docstring for sources and method) and committed.
"""

from __future__ import annotations

import gzip
from collections.abc import Iterator
from importlib.resources import files

# Generated products' data links start with this; it never resolves (RFC 6761 ``.invalid``).
PLACEHOLDER_BASE = "https://data.everest-elearn.invalid"
# Collections first, so products find their parent when ingested in this order.
DATA_FILES = ("collections.json.gz", "sentinel-1-grd.json.gz", "sentinel-2-l2a.json.gz")


def documents(base_url: str | None = None) -> Iterator[tuple[str, bytes]]:
    """(file name, JSON bytes) of each sample document, data links rebased on ``base_url``."""
    package = files(__name__)
    for name in DATA_FILES:
        data = gzip.decompress(package.joinpath(name).read_bytes())
        if base_url:
            data = data.replace(PLACEHOLDER_BASE.encode(), base_url.rstrip("/").encode())
        yield name, data
