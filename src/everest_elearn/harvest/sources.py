"""The sources file administrators edit: parsing and validation with errors that name the line.

```yaml
sources:
  - name: s1-malawi                # unique; used by `everest-elearn harvest run NAME`
    kind: stac                      # stac | opensearch | http | s3 | local
    url: https://earth-search.aws.element84.com/v1
    collection: sentinel-1-grd      # the remote collection (STAC id, OpenSearch parentIdentifier)
    into: sentinel-1-grd            # the catalogue collection (default: collection, else name)
    area: [32.6, -17.2, 36.0, -9.3] # west, south, east, north (EPSG:4326)
    time: {start: 2024-01-01, end: 2024-12-31}
    product_type: GRD
    incremental: datetime           # datetime (acquisition) | updated (metadata change)
    schedule: 6h                    # how often the agent runs it; absent = only on demand
    auth: bearer                    # none | basic | bearer | header
    credential: EARTH_SEARCH_TOKEN  # env variable or file in harvest.secrets_dir; never the value
    mirror: true                    # ask the gateway to mirror what is harvested
    limits: {seconds: 600, pages: 200, response_bytes: 20 MB, records: 50000}
```
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from everest_elearn.errors import InvalidInput
from everest_elearn.gateway import yamlines
from everest_elearn.gateway.rules import CREDENTIAL_NAME, SECRET_KEYS
from everest_elearn.gateway.yamlines import LineDict, LineList
from everest_elearn.harvest.fetch import Limits
from everest_elearn.harvest.source_values import ValueReader

KINDS = ("stac", "opensearch", "http", "s3", "local")
AUTH_KINDS = ("none", "basic", "bearer", "header")
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
_KEYS = {
    "name", "kind", "url", "collection", "into", "area", "time", "product_type", "incremental",
    "schedule", "auth", "credential", "mirror", "limits", "method", "page_size", "format",
    "pattern", "depth", "title", "enabled", "base_url", "endpoint", "region",
}  # fmt: skip


@dataclass(frozen=True)
class SourceConfig:
    """One validated source entry."""

    name: str
    kind: str
    url: str
    collection: str | None = None
    into: str | None = None
    title: str | None = None
    area: tuple[float, float, float, float] | None = None
    start: datetime | None = None
    end: datetime | None = None
    product_type: str | None = None
    incremental: str = "datetime"
    schedule: timedelta | None = None
    auth: str = "none"
    credential: str | None = None
    mirror: bool = False
    method: str = "GET"
    page_size: int = 100
    format: str = "auto"  # opensearch: atom | geojson | auto
    pattern: str | None = None  # http/s3/local: glob of file names to consider
    depth: int = 4  # http/local: folder levels below url
    enabled: bool = True
    # local: where clients fetch the tree's files (http(s)/s3 prefix); links are built under it.
    base_url: str | None = None
    # s3: the endpoint (MinIO, moto) and region; None = AWS defaults.
    endpoint: str | None = None
    region: str | None = None
    limits: Limits = field(default_factory=Limits)
    line: int = 0

    @property
    def target(self) -> str:
        """The catalogue collection the products go into."""
        return self.into or self.collection or self.name


class SourcesInvalid(InvalidInput):
    """The sources file has problems; each names its line."""

    def __init__(self, where: str, problems: list[tuple[int, str]]) -> None:
        self.problems = sorted(problems)
        super().__init__(where, "; ".join(f"line {n}: {m}" for n, m in self.problems))


def parse(text: str, where: str = "sources", defaults: Limits | None = None) -> list[SourceConfig]:
    """Every source of the file; raises SourcesInvalid listing each problem with its line."""
    try:
        data = yamlines.load(text)
    except yamlines.YamlSyntaxError as exc:
        raise SourcesInvalid(where, [(exc.line, f"not valid YAML: {exc.message}")]) from None
    parser = _Parser(defaults or Limits())
    found = parser.document(data)
    if parser.problems:
        raise SourcesInvalid(where, parser.problems)
    return found


class _Parser(ValueReader):
    """The file's structure: the sources list, one entry's keys, names used twice."""

    def document(self, data: Any) -> list[SourceConfig]:
        if data is None:
            return []
        if not isinstance(data, LineDict) or not isinstance(data.get("sources"), LineList | None):
            self.fail(getattr(data, "line", 1), "the file must be a mapping with a 'sources' list")
            return []
        for key in data:
            if key != "sources":
                self.fail(data.line_of(key), f"unknown top-level key '{key}' (expected sources)")
        items: LineList = data.get("sources") or LineList()
        out: list[SourceConfig] = []
        names: dict[str, int] = {}
        for index, item in enumerate(items):
            line = items.item_lines[index] if hasattr(items, "item_lines") else data.line
            if not isinstance(item, LineDict):
                self.fail(line, "a source must be a mapping")
                continue
            name = item.get("name")
            if isinstance(name, str) and name in names:
                self.fail(item.line, f"source '{name}' already defined on line {names[name]}")
                continue
            if isinstance(name, str):
                names[name] = item.line
            source = self.source(item)
            if source is None:
                continue
            out.append(source)
        return out

    def source(self, node: LineDict) -> SourceConfig | None:
        before = len(self.problems)
        for key in node:
            if key.lower() in SECRET_KEYS:
                self.fail(
                    node.line_of(key),
                    f"'{key}' would put a secret in the sources file; "
                    "name it with 'credential: NAME' (an environment variable or secret file)",
                )
            elif key not in _KEYS:
                self.fail(
                    node.line_of(key),
                    f"unknown key '{key}' (expected one of {', '.join(sorted(_KEYS))})",
                )
        name = self.text(node, "name", required=True) or "?"
        if name != "?" and not _NAME.match(name):
            self.fail(
                node.line_of("name"), f"name {name!r}: letters, digits, . _ - only (at most 64)"
            )
        kind = self.choice(node, "kind", KINDS, required=True)
        url = self.text(node, "url", required=True) or ""
        if url and kind:
            self.check_url(node, kind, url)
        collection = self.identifier(node, "collection")
        into = self.identifier(node, "into")
        auth = self.choice(node, "auth", AUTH_KINDS) or "none"
        credential = self.text(node, "credential")
        if credential is not None and not CREDENTIAL_NAME.match(credential):
            self.fail(node.line_of("credential"), f"credential {credential!r} is not a valid name")
        if auth != "none" and credential is None:
            self.fail(node.line_of("auth"), f"auth {auth} needs 'credential: NAME'")
        start, end = self.time(node)
        source = SourceConfig(
            name=name,
            kind=kind or "stac",
            url=url,
            collection=collection,
            into=into,
            title=self.text(node, "title"),
            area=self.area(node),
            start=start,
            end=end,
            product_type=self.text(node, "product_type"),
            incremental=self.choice(node, "incremental", ("datetime", "updated")) or "datetime",
            schedule=self.duration(node, "schedule"),
            auth=auth,
            credential=credential,
            mirror=self.flag(node, "mirror", False),
            method=(self.choice(node, "method", ("GET", "POST", "get", "post")) or "GET").upper(),
            page_size=self.integer(node, "page_size", 100, 1, 10_000),
            format=self.choice(node, "format", ("auto", "atom", "geojson")) or "auto",
            pattern=self.text(node, "pattern"),
            depth=self.integer(node, "depth", 4, 0, 32),
            enabled=self.flag(node, "enabled", True),
            base_url=self.base_url(node),
            endpoint=self.text(node, "endpoint"),
            region=self.text(node, "region"),
            limits=self.limits(node),
            line=node.line,
        )
        return source if len(self.problems) == before else None
