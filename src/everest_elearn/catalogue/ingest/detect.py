"""Format detection by content, and the per-item loop that keeps one bad item from stopping the rest."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from typing import Any

from lxml import etree

from everest_elearn.catalogue.ingest import atom, eo_geojson, stac
from everest_elearn.catalogue.ingest.draft import Entry
from everest_elearn.catalogue.ingest.outcome import Parsed, Problem, Reject, Skip

_OSDD = "http://a9.com/-/spec/opensearch/1.1/"
# Entities and network access stay off: documents come from remote sources.
_XML = etree.XMLParser(
    resolve_entities=False, no_network=True, huge_tree=False, remove_comments=True
)


def parse_document(data: bytes, parent: str | None = None, source: str | None = None) -> Parsed:
    """Parse any supported document; ``parent`` assigns every product to that collection."""
    head = data.lstrip(b"\xef\xbb\xbf \t\r\n")[:1]
    if head == b"<":
        return _xml(data, parent, source)
    if head in (b"{", b"["):
        try:
            document = json.loads(data)
        except (ValueError, RecursionError) as exc:
            return _unreadable("json", f"not valid JSON: {str(exc)[:120]}", source)
        return parse_json(document, parent, source)
    return _unreadable("unknown", "neither JSON nor XML", source)


def parse_json(document: Any, parent: str | None = None, source: str | None = None) -> Parsed:
    if isinstance(document, list):
        return _loop("json-list", document, lambda obj: _object(obj, parent), source)
    if not isinstance(document, dict):
        return _unreadable("json", "a JSON document must be an object or a list", source)
    if "@odata.context" in document or (
        isinstance(document.get("value"), list) and "type" not in document
    ):
        return _unreadable(
            "odata",
            "OData responses (e.g. Copernicus Data Space) are not supported: ingest the "
            "provider's STAC or OpenSearch response instead",
            source,
        )
    kind = document.get("type")
    if kind == "FeatureCollection" or isinstance(document.get("features"), list):
        label = "stac-itemcollection" if "stac_version" in document else "geojson-featurecollection"
        items = document.get("features")
        if not isinstance(items, list):
            return _unreadable(label, "features: expected a list", source)
        return _loop(label, items, lambda obj: _object(obj, parent), source)
    if isinstance(document.get("collections"), list):  # a STAC /collections response
        return _loop("stac-collections", document["collections"], stac.collection, source)
    return _loop(_label(document), [document], lambda obj: _object(obj, parent), source)


def _label(obj: dict[str, Any]) -> str:
    if stac.is_stac(obj):
        return "stac-collection" if obj.get("type") == "Collection" else "stac-item"
    return "geojson-feature"


def _object(obj: Any, parent: str | None) -> Entry:
    if not isinstance(obj, dict):
        raise Reject("not a JSON object")
    kind = obj.get("type")
    if kind == "Catalog":
        raise Skip("a STAC Catalog holds no records of its own")
    if kind == "Collection" or (kind is None and "extent" in obj and "id" in obj):
        return stac.collection(obj)
    if kind == "Feature":
        return stac.item(obj, parent) if stac.is_stac(obj) else eo_geojson.feature(obj, parent)
    if kind == "FeatureCollection":
        raise Reject("a FeatureCollection nested in a list: send it on its own")
    raise Reject(f"neither a STAC object nor a GeoJSON Feature (type {str(kind)[:40]!r})")


def _xml(data: bytes, parent: str | None, source: str | None) -> Parsed:
    try:
        root = etree.fromstring(data, parser=_XML)
    except etree.XMLSyntaxError as exc:
        return _unreadable("xml", f"not well-formed XML: {str(exc)[:120]}", source)
    tag = etree.QName(root)
    if tag.namespace == atom.ATOM and tag.localname == "feed":
        entries = root.findall(f"{{{atom.ATOM}}}entry")
        return _loop("atom", entries, lambda e: atom.entry(e, parent), source)
    if tag.namespace == atom.ATOM and tag.localname == "entry":
        return _loop("atom", [root], lambda e: atom.entry(e, parent), source)
    if tag.namespace == _OSDD and tag.localname == "OpenSearchDescription":
        reason = "an OpenSearch description document holds no records: ingest a search response"
        return _unreadable("opensearch-description", reason, source)
    return _unreadable("xml", f"unsupported XML document <{tag.localname}>", source)


def _unreadable(label: str, reason: str, source: str | None) -> Parsed:
    return Parsed(format=label, source=source, rejected=[Problem(reason, source=source)])


def _guess_identifier(obj: Any) -> str | None:
    # Only to label a rejection; never trusted as a record identifier.
    ident: Any = None
    if isinstance(obj, dict):
        props = obj.get("properties")
        props = props if isinstance(props, dict) else {}
        ident = obj.get("id") or props.get("productIdentifier") or props.get("identifier")
    elif isinstance(obj, etree._Element):
        found = obj.find(f"{{{atom.DC}}}identifier")
        ident = found.text if found is not None else None
    return ident[:120] if isinstance(ident, str) else None


def _loop(
    label: str, items: Iterable[Any], parse: Callable[[Any], Entry], source: str | None
) -> Parsed:
    parsed = Parsed(format=label, source=source)
    for position, obj in enumerate(items, start=1):
        try:
            record, warnings = parse(obj)
        except Skip as exc:
            parsed.skipped.append(Problem(str(exc), position, _guess_identifier(obj), source))
        except Reject as exc:
            parsed.rejected.append(Problem(str(exc), position, _guess_identifier(obj), source))
        except (ValueError, TypeError, LookupError, AttributeError, RecursionError) as exc:
            # A shape no rule foresaw: still one item's problem, never the batch's.
            reason = f"malformed item ({type(exc).__name__}: {str(exc)[:120]})"
            parsed.rejected.append(Problem(reason, position, _guess_identifier(obj), source))
        else:
            parsed.records.append((position, record))
            parsed.warnings.extend(
                Problem(w, position, record.identifier, source) for w in warnings
            )
    return parsed
