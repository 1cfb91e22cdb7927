"""OpenSearch over the Catalogue service: description documents and result pages, no HTTP."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from everest_elearn.catalogue.model import Kind
from everest_elearn.catalogue.opensearch.description import (
    Description,
    FieldSummary,
    choose_example,
    render_description,
    template_parameters,
)
from everest_elearn.catalogue.opensearch.links import Page, navigation
from everest_elearn.catalogue.opensearch.params import (
    HTTP_ACCEPT,
    SearchRequest,
    display_name,
    parse_request,
)
from everest_elearn.catalogue.opensearch.response import (
    Explanation,
    ResultPage,
    collection_osdd,
    search_path,
)
from everest_elearn.catalogue.query import Query
from everest_elearn.catalogue.registry import REGISTRY, Level, ParamType
from everest_elearn.catalogue.service import Catalogue, EmptyExplanation
from everest_elearn.security.identity import Identity
from everest_elearn.settings import CatalogueSettings

ROOT_OSDD = "opensearch/description.xml"
# Which applied parameters a service constraint stands for (see Catalogue.explain_empty).
CONSTRAINT_PARAMETERS = {
    "searchTerms": ("searchTerms",),
    "uid": ("geo:uid",),
    "geometry": ("geo:box", "geo:geometry", "geo:lat", "geo:lon", "geo:radius", "geo:relation"),
    "time": ("time:start", "time:end", "time:relation"),
}


class OpenSearchEngine:
    """Builds description documents and result pages for one catalogue."""

    def __init__(self, catalogue: Catalogue, settings: CatalogueSettings) -> None:
        self.catalogue = catalogue
        self.settings = settings

    # -- description documents --------------------------------------------------------------

    async def _summaries(
        self, level: Level, parent: str | None, identity: Identity
    ) -> dict[str, FieldSummary]:
        """Options (one faceted search) and numeric/date extents of the level's parameters."""
        kind = Kind.COLLECTION if level is Level.COLLECTION else Kind.PRODUCT
        fields = [p for p in template_parameters(level) if p.field]
        keywords = tuple(p.field for p in fields if p.field and p.type is ParamType.KEYWORD)
        result = await self.catalogue.search(
            Query(kind=kind, parent=parent, limit=0, facets=keywords), identity
        )
        out = {f: FieldSummary(result.facets.get(f, {})) for f in keywords}
        for p in fields:
            if p.field and p.accepts_interval:
                s = await self.catalogue.field_summary(p.field, identity, parent=parent, kind=kind)
                if s.minimum is not None or s.maximum is not None:
                    out[p.field] = FieldSummary(minimum=s.minimum, maximum=s.maximum)
        return out

    async def root_description(self, base_url: str, identity: Identity) -> bytes:
        summaries = await self._summaries(Level.COLLECTION, None, identity)
        return render_description(
            Description(
                self_url=f"{base_url}{ROOT_OSDD}",
                search_url=f"{base_url}{search_path(Kind.COLLECTION)}",
                level=Level.COLLECTION,
                short_name="everest EO",
                long_name="everest-elearn EO catalogue: collections",
                description=(
                    "Earth observation collections of the everest-elearn catalogue. Each "
                    "collection entry links (rel=search) to the description document that "
                    "searches its products."
                ),
                summaries=summaries,
                default_count=self.settings.default_count,
                max_count=self.settings.max_count,
                example=choose_example(summaries, Level.COLLECTION),
                contact=self.settings.opensearch_contact,
                attribution=self.settings.opensearch_attribution,
            )
        )

    async def collection_description(
        self, identifier: str, base_url: str, identity: Identity
    ) -> bytes:
        collection = await self.catalogue.get(identifier, identity)
        summaries = await self._summaries(Level.PRODUCT, identifier, identity)
        example = choose_example(summaries, Level.PRODUCT)
        return render_description(
            Description(
                self_url=collection_osdd(base_url, identifier),
                search_url=f"{base_url}{search_path(Kind.PRODUCT)}",
                level=Level.PRODUCT,
                short_name=identifier,
                long_name=(collection.title or identifier),
                description=collection.abstract or f"Products of the collection {identifier}.",
                fixed={"parentIdentifier": identifier},
                summaries=summaries,
                time_extent=(collection.start, collection.end),
                default_count=self.settings.default_count,
                max_count=self.settings.max_count,
                example=example,
                contact=self.settings.opensearch_contact,
                attribution=self.settings.opensearch_attribution,
            )
        )

    # -- searches ---------------------------------------------------------------------------

    def parse(self, level: Level, params: Mapping[str, Sequence[str]]) -> SearchRequest:
        return parse_request(
            params,
            level=level,
            default_count=self.settings.default_count,
            max_count=self.settings.max_count,
            count_limit=self.settings.track_total_hits,
        )

    async def search(
        self,
        level: Level,
        request: SearchRequest,
        identity: Identity,
        base_url: str,
        media_type: str,
    ) -> ResultPage:
        kind = Kind.COLLECTION if level is Level.COLLECTION else Kind.PRODUCT
        result = await self.catalogue.search(request.query, identity)
        page = Page(
            start_index=request.start_index,
            count=request.count,
            returned=len(result.records),
            total=result.total,
            total_exact=result.total_exact,
        )
        endpoint = f"{base_url}{search_path(kind)}"
        params = {**request.applied_keys, HTTP_ACCEPT: media_type}
        links = navigation(endpoint, params, page)
        explanation = None
        if result.total == 0:
            explanation = self._explanation(
                await self.catalogue.explain_empty(request.query, identity), request
            )
        parent = request.query.parent
        osdd = collection_osdd(base_url, parent) if parent else f"{base_url}{ROOT_OSDD}"
        return ResultPage(
            kind=kind,
            records=list(result.records),
            page=page,
            base_url=base_url,
            self_url=links["self"],
            osdd_url=osdd,
            links=links,
            applied=request.applied,
            facets=_facets(result.facets),
            explanation=explanation,
        )

    @staticmethod
    def _explanation(found: EmptyExplanation | None, request: SearchRequest) -> Explanation | None:
        if found is None:
            return None
        best = found.best
        if best is None:
            return Explanation(None, None, 0) if found.tried >= 2 else None
        names: Sequence[str] = CONSTRAINT_PARAMETERS.get(best.constraint, ())
        if not names:
            parameter = REGISTRY.by_field(best.constraint)
            names = (display_name(parameter),) if parameter else (best.parameter or "",)
        applied = [(n, request.applied[n]) for n in names if n in request.applied]
        if not applied:
            return Explanation(best.parameter or best.constraint, "", best.total)
        return Explanation(
            ",".join(n for n, _ in applied), " ".join(v for _, v in applied), best.total
        )


def _facets(facets: Mapping[str, Mapping[str, Any]]) -> dict[str, dict[str, int]]:
    """Facets keyed by the parameter's display name (``eo:platform``) instead of the field."""
    out: dict[str, dict[str, int]] = {}
    for field, counts in facets.items():
        parameter = REGISTRY.by_field(field)
        if parameter and counts:
            out[display_name(parameter)] = {str(k): int(v) for k, v in counts.items()}
    return out
