"""Search-engine documents and mappings generated from the parameter registry.

The mapping of every EO property comes from ``REGISTRY`` (keyword, text, long, double, date,
boolean), so the registry, request validation and the index can never disagree. The full record
is kept unindexed under ``record`` and read back from there: the indexed fields are a projection.
"""

from __future__ import annotations

import hashlib
import re
from datetime import UTC, datetime
from typing import Any

from everest_elearn.catalogue.geometry import bbox_of
from everest_elearn.catalogue.model import Record
from everest_elearn.catalogue.registry import REGISTRY, ParamType, Registry

ENGINE_TYPES: dict[ParamType, dict[str, Any]] = {
    ParamType.KEYWORD: {"type": "keyword"},
    ParamType.TEXT: {"type": "text"},
    ParamType.INT: {"type": "long"},
    ParamType.FLOAT: {"type": "double"},
    ParamType.DATETIME: {"type": "date"},
    ParamType.BOOL: {"type": "boolean"},
}
KEYWORD = {"type": "keyword"}
DATE = {"type": "date"}
# Fields of the record besides the EO properties: Record.properties go under "p".
PROPERTIES = "p"


def mapping(registry: Registry = REGISTRY) -> dict[str, Any]:
    """The one mapping shared by the collections index and every products index."""
    eo = {p.field: ENGINE_TYPES[p.type] for p in registry.fields if p.field}
    return {
        # Unknown fields are a bug in this module, not data to guess types for.
        "dynamic": "strict",
        "properties": {
            "identifier": KEYWORD,
            "kind": KEYWORD,
            "parent_identifier": KEYWORD,
            "title": {"type": "text"},
            "abstract": {"type": "text"},
            "keywords": KEYWORD,
            # What searchTerms matches: identifier, title, abstract and keywords.
            "text": {"type": "text"},
            "geometry": {"type": "geo_shape"},
            # Bounding box of the footprint: the candidate filter when the engine's own
            # geo_shape relations are not trusted (geometry_check="refine").
            "envelope": {"type": "geo_shape"},
            "start": DATE,
            "end": DATE,
            "updated": DATE,
            "restricted_to": KEYWORD,
            PROPERTIES: {"type": "object", "dynamic": "false", "properties": eo},
            "record": {"type": "object", "enabled": False},
        },
    }


def index_settings(max_window: int) -> dict[str, Any]:
    return {"index": {"max_result_window": max_window}}


_UNSAFE = re.compile(r"[^a-z0-9_.-]+")


def slug(identifier: str) -> str:
    """An index-name-safe, collision-free form of a collection identifier.

    Index names are lower case without ``:``; the hash keeps ``S2`` and ``s2`` apart.
    """
    digest = hashlib.sha1(identifier.encode(), usedforsecurity=False).hexdigest()[:8]
    readable = _UNSAFE.sub("_", identifier.lower()).strip("._-")[:60]
    return f"{readable}-{digest}" if readable else digest


_VERSIONED = re.compile(r"^(.+)\.r(\d+)$")


def logical(index: str) -> str:
    """The name the store writes to: a re-indexed ``NAME.rN`` is reached through alias ``NAME``."""
    match = _VERSIONED.match(index)
    return match.group(1) if match else index


def revision(index: str) -> int:
    """1 for an index as first created, N for ``NAME.rN``."""
    match = _VERSIONED.match(index)
    return int(match.group(2)) if match else 1


def coerce(kind: ParamType, value: Any) -> Any:
    """The value as the engine type, or None when it does not fit (it stays in ``record``)."""
    values = value if isinstance(value, list) else [value]
    out: list[Any] = []
    for item in values:
        try:
            if kind is ParamType.INT:
                if isinstance(item, bool) or float(item) != int(float(item)):
                    continue
                out.append(int(float(item)))
            elif kind is ParamType.FLOAT:
                if isinstance(item, bool):
                    continue
                number = float(item)
                if number == number and abs(number) != float("inf"):
                    out.append(number)
            elif kind is ParamType.DATETIME:
                out.append(_utc_iso(item))
            elif kind is ParamType.BOOL:
                if isinstance(item, bool):
                    out.append(item)
            elif isinstance(item, bool):
                # As the embedded backend stores booleans in keyword fields.
                out.append("TRUE" if item else "FALSE")
            else:
                out.append(str(item))
        except (TypeError, ValueError):
            continue
    if not out:
        return None
    return out if isinstance(value, list) else out[0]


def _utc_iso(value: Any) -> str:
    """A date as the engine reads it without guessing: ISO 8601 in UTC. The service accepts what
    ``datetime.fromisoformat`` reads (week dates, the basic format), which the engine refuses or
    takes for epoch milliseconds; the embedded backend reads those the same way."""
    if isinstance(value, datetime):
        moment = value
    else:
        text = str(value).strip()
        moment = datetime.fromisoformat(text[:-1] + "+00:00" if text.endswith(("Z", "z")) else text)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat()


def eo_values(record: Record, registry: Registry = REGISTRY) -> dict[str, Any]:
    """The indexed EO properties, typed per the registry; unknown or ill-typed values skipped."""
    values: dict[str, Any] = {}
    for key, value in record.properties.items():
        param = registry.by_field(key)
        if param is None or value is None:
            continue
        coerced = coerce(param.type, value)
        if coerced is not None:
            values[key] = coerced
    # Parameters that mirror top-level record fields, so filters and facets see them.
    if record.parent_identifier and "parentIdentifier" not in values:
        values["parentIdentifier"] = record.parent_identifier
    if record.keywords and registry.by_field("keyword"):
        extra = values.get("keyword", [])
        values["keyword"] = [*([extra] if isinstance(extra, str) else extra), *record.keywords]
    return values


def envelope(geometry: dict[str, Any]) -> dict[str, Any]:
    """The bounding box of a footprint as a GeoJSON polygon (a point stays a point)."""
    if geometry.get("type") == "Point":
        return geometry
    west, south, east, north = bbox_of(geometry)
    if west == east or south == north:
        # A degenerate box (a meridian or parallel line): widen it by a hair so it is a polygon.
        east, north = east + 1e-9, north + 1e-9
    ring = [[west, south], [east, south], [east, north], [west, north], [west, south]]
    return {"type": "Polygon", "coordinates": [ring]}


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def to_document(record: Record, registry: Registry = REGISTRY) -> dict[str, Any]:
    """A record as an engine document."""
    text = " ".join(
        part
        for part in (record.identifier, record.title, record.abstract, *record.keywords)
        if part
    )
    doc: dict[str, Any] = {
        "identifier": record.identifier,
        "kind": record.kind.value,
        "parent_identifier": record.parent_identifier,
        "title": record.title,
        "abstract": record.abstract,
        "keywords": record.keywords,
        "text": text,
        # The indexed extent: an instant when only one end is known (the record keeps the truth).
        "start": _iso(record.start or record.end),
        "end": _iso(record.end or record.start),
        "updated": record.updated.isoformat(),
        "restricted_to": record.restricted_to,
        PROPERTIES: eo_values(record, registry),
        "record": record.model_dump(mode="json"),
    }
    if record.geometry:
        doc["geometry"] = record.geometry
        doc["envelope"] = envelope(record.geometry)
    return {key: value for key, value in doc.items() if value is not None}


def from_document(source: dict[str, Any]) -> Record:
    return Record.model_validate(source["record"])
