"""The manifest written into every package: files, sizes, checksums, provenance, tools, build time."""

from __future__ import annotations

import platform
import re
from datetime import UTC, datetime
from importlib import metadata
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from everest_elearn import __version__
from everest_elearn.catalogue.model import Record

MANIFEST_PATH = "manifest.json"
# Written last, after the manifest: a volume without it was never completed.
READY_PATH = "READY"
FORMAT = "everest-package/1"

_UNSAFE = re.compile(r"[^A-Za-z0-9._+=,@%-]")


class ManifestFile(BaseModel):
    """One file of the package and where it came from."""

    model_config = ConfigDict(extra="forbid")

    path: str  # inside the volume, mission/product type/date/product/file
    size: int
    sha256: str
    product: str
    collection: str | None = None
    file_name: str
    source: str  # the provider's URL of the file (the catalogue's enclosure link)
    strategy: str | None = None  # the gateway rule's strategy (redirect, pipe, cache, mirror)
    rule: str | None = None  # the name of the gateway rule that decided the strategy
    origin: str | None = None  # hit, miss, pipe, fallback
    media_type: str | None = None
    # Why the Open Data Cube holds no dataset for this file's product; None when indexed or
    # when no index is configured (the build report says which).
    not_indexed: str | None = None
    # Set when the package holds a rewritten copy (spec ``cube_ready``): how, and the SHA-256
    # of the file as received (the catalogue's checksum was verified against that one).
    rewritten: str | None = None
    source_sha256: str | None = None


class Manifest(BaseModel):
    """What a package holds and how it was made; ``manifest.json`` at the volume's root."""

    model_config = ConfigDict(extra="forbid")

    format: Literal["everest-package/1"] = "everest-package/1"
    kind: Literal["package", "results"] = "package"
    name: str
    version: str
    title: str | None = None
    description: str = ""
    licence: str = ""
    attribution: str = ""
    owner: str | None = None
    built_at: datetime = Field(default_factory=lambda: datetime.now(UTC))
    built_by: str | None = None
    tools: dict[str, str] = Field(default_factory=dict)
    volume_backend: str = ""
    spec: dict[str, Any] = Field(default_factory=dict)
    files: list[ManifestFile] = Field(default_factory=list)
    datasets: list[str] = Field(default_factory=list)  # ODC dataset ids indexed for it

    @property
    def total_bytes(self) -> int:
        return sum(f.size for f in self.files)

    def to_bytes(self) -> bytes:
        return self.model_dump_json(indent=2).encode() + b"\n"


def tool_versions(volume_backend: str) -> dict[str, str]:
    """Versions that produced the package, for reproducibility."""
    tools = {
        "everest-elearn": __version__,
        "python": platform.python_version(),
        "volumes": volume_backend,
    }
    for distribution in ("datacube", "rasterio", "docker"):
        try:
            tools[distribution] = metadata.version(distribution)
        except metadata.PackageNotFoundError:
            continue
    return tools


def safe_component(value: str | None, fallback: str) -> str:
    cleaned = _UNSAFE.sub("_", (value or "").strip()).strip("._") or fallback
    return cleaned[:120]


def product_dir(record: Record) -> str:
    """mission / product type / date / product, every part safe as a path component."""
    props = record.properties
    mission = safe_component(
        props.get("platform") or props.get("platformShortName") or record.parent_identifier,
        "unknown-mission",
    )
    product_type = safe_component(
        props.get("productType") or record.parent_identifier, "unknown-type"
    )
    day = record.start.date().isoformat() if record.start else "undated"
    return f"{mission}/{product_type}/{day}/{safe_component(record.identifier, 'product')}"


def layout_path(record: Record, file_name: str) -> str:
    return f"{product_dir(record)}/{safe_component(file_name, 'file')}"
