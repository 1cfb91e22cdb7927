"""A package spec (YAML or JSON): what goes into a package, checked before anything is fetched."""

from __future__ import annotations

import fnmatch
import json
import re
from typing import Annotated, Any

import yaml
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, model_validator

from everest_elearn.catalogue.model import IDENTIFIER_PATTERN
from everest_elearn.errors import InvalidInput

VOLUME_PREFIX = "everest-pkg-"
# Package names become volume names, folder names and ODC product prefixes: lowercase, no dots.
NAME_PATTERN = r"^[a-z0-9](?:[a-z0-9-]{0,46}[a-z0-9])?$"
VERSION_PATTERN = r"^[0-9a-z](?:[0-9a-z._-]{0,30}[0-9a-z])?$"
# File patterns are fnmatch globs on a file's name, never paths.
FILE_PATTERN = r"^[A-Za-z0-9*?\[\]!._+=,@%-]{1,128}$"
QUERY_KEY = r"^[A-Za-z][A-Za-z0-9:_]{0,63}$"

_UNITS = {"": 1, "b": 1, "k": 10**3, "m": 10**6, "g": 10**9, "t": 10**12}
_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([kmgt]?)(i?)b?\s*$", re.IGNORECASE)


def parse_size(value: object) -> int:
    """Bytes from ``1500000``, ``"2 GB"``, ``"1.5GiB"``, ``"700 MB"``."""
    if isinstance(value, bool):
        raise ValueError("a size is a number of bytes or a string such as '2 GB'")
    if isinstance(value, int):
        number = value
    else:
        match = _SIZE.match(str(value))
        if not match:
            raise ValueError(f"{value!r} is not a size such as 2000000000 or '2 GB'")
        digits, unit, binary = match.groups()
        scale = 1024 ** " kmgt".index(unit.lower()) if binary and unit else _UNITS[unit.lower()]
        number = int(float(digits) * scale)
    if number <= 0:
        raise ValueError("a size must be more than 0 bytes")
    return number


ByteSize = Annotated[int, BeforeValidator(parse_size)]


def format_size(value: int) -> str:
    size = float(value)
    for unit in ("B", "kB", "MB", "GB", "TB"):
        if size < 1000 or unit == "TB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.2f} {unit}"
        size /= 1000
    raise AssertionError("unreachable")


class Content(BaseModel):
    """Explicit products and/or one saved catalogue query, and which of their files to take."""

    model_config = ConfigDict(extra="forbid")

    products: list[Annotated[str, Field(pattern=IDENTIFIER_PATTERN)]] = Field(
        default_factory=list, max_length=10_000
    )
    # OpenSearch parameters by URL key (parentIdentifier, box, start, end, cloudCover, ...).
    query: dict[Annotated[str, Field(pattern=QUERY_KEY)], str | int | float] | None = None
    max_products: int = Field(default=100, ge=1, le=10_000)
    max_size: ByteSize | None = None
    files: list[Annotated[str, Field(pattern=FILE_PATTERN)]] = Field(
        default_factory=lambda: ["*"], min_length=1, max_length=64
    )

    @model_validator(mode="after")
    def _something(self) -> Content:
        if not self.products and not self.query:
            raise ValueError("give products, a query, or both")
        return self

    def wants(self, file_name: str) -> bool:
        return any(fnmatch.fnmatchcase(file_name, pattern) for pattern in self.files)

    def query_params(self) -> dict[str, list[str]]:
        return {key: [str(value)] for key, value in (self.query or {}).items()}


class PackageSpec(BaseModel):
    """Name, version, description, licence and attribution, contents and an overall maximum size."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(pattern=NAME_PATTERN)
    version: str = Field(pattern=VERSION_PATTERN)
    title: str | None = Field(default=None, max_length=200)
    description: str = Field(default="", max_length=10_000)
    licence: str = Field(min_length=1, max_length=2_000)
    attribution: str = Field(default="", max_length=2_000)
    max_size: ByteSize
    contents: list[Content] = Field(min_length=1, max_length=100)
    # Multi-band GeoTIFFs stored pixel-interleaved are rewritten band-interleaved (same pixels):
    # dc.load then decodes each tile once, not once per band (cube_layout.py). False keeps
    # every file byte for byte as the provider sent it.
    cube_ready: bool = True

    @model_validator(mode="after")
    def _no_dot_runs(self) -> PackageSpec:
        if ".." in self.version:
            raise ValueError("version: '..' is not allowed")
        return self

    @property
    def volume_name(self) -> str:
        return volume_name(self.name, self.version)


def volume_name(name: str, version: str) -> str:
    return f"{VOLUME_PREFIX}{name}-{version}"


def where_of(error: dict[str, Any]) -> str:
    parts = [str(p) for p in error.get("loc", ())]
    # Pydantic reports constrained dict keys as "<key>[key]"; keep the path readable.
    return ".".join(p for p in parts if p != "[key]") or "spec"


def parse_spec(data: Any) -> PackageSpec:
    """Validate a decoded spec; the first problem becomes InvalidInput naming its field."""
    if not isinstance(data, dict):
        raise InvalidInput("spec", "a package spec is a mapping with name, version, contents, ...")
    try:
        return PackageSpec.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        message = str(first.get("msg", "invalid")).removeprefix("Value error, ")
        raise InvalidInput(where_of(dict(first)), message) from None


def load_spec(text: str | bytes) -> PackageSpec:
    """A spec from YAML or JSON text (JSON is read as YAML)."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise InvalidInput("spec", f"not YAML or JSON: {exc}") from None
    return parse_spec(data)


def dump_spec(spec: PackageSpec) -> str:
    return json.dumps(spec.model_dump(mode="json", exclude_none=True), sort_keys=True)
