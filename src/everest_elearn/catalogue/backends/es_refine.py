"""Exact spatial relations for engines whose geo_shape is approximate (``geometry_check="refine"``).

osmem-server answers geo_shape on bounding boxes, and on the first polygon of a multipolygon
only, so antimeridian footprints lose a half. In refine mode the engine filters every other
constraint plus an envelope-intersects candidate filter (a superset for intersects, contains and
within; none for disjoint), walks the candidates in the query's order by ``search_after``, and
shapely decides the relation. Totals are then exact and facets are counted here. This costs a scan
of the candidates; Elasticsearch and OpenSearch evaluate geo_shape exactly and use ``engine``.
"""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING, Any

import shapely
from shapely.geometry.base import BaseGeometry

from everest_elearn.catalogue.backends import es_query
from everest_elearn.catalogue.backends.es_mapping import from_document
from everest_elearn.catalogue.geometry import to_shape
from everest_elearn.catalogue.query import Query
from everest_elearn.catalogue.store import SearchResult

if TYPE_CHECKING:
    from everest_elearn.catalogue.backends.elasticsearch_ import ElasticsearchStore


def holds(relation: str, footprint: BaseGeometry, target: BaseGeometry) -> bool:
    """The relation between a record's footprint and the query geometry, as geo_shape names it."""
    if relation == "disjoint":
        return bool(footprint.disjoint(target))
    if relation == "contains":
        return bool(footprint.covers(target))
    if relation == "within":
        return bool(footprint.covered_by(target))
    return bool(footprint.intersects(target))


def _value_of(source: dict[str, Any], path: str) -> Any:
    node: Any = source
    for part in path.split("."):
        node = node.get(part) if isinstance(node, dict) else None
    return node


async def refined_search(store: ElasticsearchStore, query: Query) -> SearchResult:
    assert query.geometry is not None
    index = store.read_alias(query)
    base = es_query.body(query, "refine")
    window = max(1, store.settings.elasticsearch_max_window)
    target = to_shape(query.geometry, "geometry")
    shapely.prepare(target)
    relation = query.spatial_relation.value
    paths = {name: es_query.field_path(name) for name in query.facets}
    fields = ["identifier", "geometry", *{path.split(".")[0] for path in paths.values()}]
    matched: list[dict[str, Any]] = []
    after: list[Any] | None = None
    while True:
        body: dict[str, Any] = {**base, "size": window, "_source": fields}
        body["track_total_hits"] = False
        if after is not None:
            body["search_after"] = after
        hits = (await store.engine.search(index, body))["hits"]["hits"]
        for hit in hits:
            footprint = hit["_source"].get("geometry")
            if footprint and holds(relation, to_shape(footprint), target):
                matched.append(hit["_source"])
        if len(hits) < window:
            break
        after = hits[-1]["sort"]
    facets: dict[str, dict[str, int]] = {}
    for name, path in paths.items():
        counts: Counter[str] = Counter()
        for source in matched:
            value = _value_of(source, path)
            for item in value if isinstance(value, list) else [value]:
                if item is not None:
                    counts[str(item)] += 1
        facets[name] = dict(counts)
    page = [source["identifier"] for source in matched[query.offset : query.offset + query.limit]]
    records = []
    if page:
        body = {
            "query": {"bool": {"filter": [{"terms": {"identifier": page}}]}},
            "size": len(page),
            "_source": ["record"],
        }
        hits = (await store.engine.search(index, body))["hits"]["hits"]
        by_id = {hit["_id"]: from_document(hit["_source"]) for hit in hits}
        records = [by_id[identifier] for identifier in page if identifier in by_id]
    return SearchResult(records=records, total=len(matched), total_exact=True, facets=facets)
