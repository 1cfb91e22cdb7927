"""The one parameter registry: drives description documents, request validation, backend mappings
and STAC queryables, so none of them can disagree.

Names follow OGC 13-026 (EO), OGC 10-032 (Geo, Time) and A9 OpenSearch 1.1; STAC names follow the
CEOS mapping ``schemas/opensearch-eo.yaml`` of
``ceos-org/stac-collection-and-granule-discovery-best-practices``.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from enum import StrEnum

NS = {
    "os": "http://a9.com/-/spec/opensearch/1.1/",
    "geo": "http://a9.com/-/opensearch/extensions/geo/1.0/",
    "time": "http://a9.com/-/opensearch/extensions/time/1.0/",
    "eo": "http://a9.com/-/opensearch/extensions/eo/1.0/",
    "param": "http://a9.com/-/spec/opensearch/extensions/parameters/1.0/",
    "dc": "http://purl.org/dc/elements/1.1/",
    "georss": "http://www.georss.org/georss",
    "atom": "http://www.w3.org/2005/Atom",
    "sru": "http://a9.com/-/opensearch/extensions/sru/2.0/",
    "semantic": "http://a9.com/-/opensearch/extensions/semantic/1.0/",
}


class ParamType(StrEnum):
    KEYWORD = "keyword"  # exact string match, faceted, options listed from the data
    TEXT = "text"  # full text
    INT = "int"
    FLOAT = "float"
    DATETIME = "datetime"
    BOOL = "bool"
    SPECIAL = "special"  # handled by dedicated logic (paging, geometry, time, free text)


class Level(StrEnum):
    COLLECTION = "collection"
    PRODUCT = "product"


BOTH = frozenset({Level.COLLECTION, Level.PRODUCT})
PRODUCT = frozenset({Level.PRODUCT})
COLLECTION = frozenset({Level.COLLECTION})


@dataclass(frozen=True)
class Parameter:
    """One search parameter, the record field it filters on, and how it is exposed."""

    name: str  # local name in the template, e.g. "cloudCover"
    prefix: str  # namespace prefix, e.g. "eo"
    type: ParamType
    title: str
    levels: frozenset[Level] = BOTH
    # Key in Record.properties; None for SPECIAL parameters.
    field: str | None = None
    stac: str | None = None
    sortable: bool = False
    faceted: bool = False
    pattern: str | None = None
    minimum: float | None = None
    maximum: float | None = None

    @property
    def qname(self) -> str:
        return f"{self.prefix}:{self.name}"

    @property
    def accepts_interval(self) -> bool:
        return self.type in {ParamType.INT, ParamType.FLOAT, ParamType.DATETIME}


def _eo(
    name: str,
    type_: ParamType,
    title: str,
    levels: frozenset[Level] = PRODUCT,
    stac: str | None = None,
    **kw: object,
) -> Parameter:
    faceted = bool(kw.pop("faceted", type_ is ParamType.KEYWORD))
    return Parameter(
        name=name,
        prefix="eo",
        type=type_,
        title=title,
        levels=levels,
        field=name,
        stac=stac,
        faceted=faceted,
        **kw,  # type: ignore[arg-type]
    )


K, T, I, F, D, B = (  # noqa: E741
    ParamType.KEYWORD,
    ParamType.TEXT,
    ParamType.INT,
    ParamType.FLOAT,
    ParamType.DATETIME,
    ParamType.BOOL,
)
S = ParamType.SPECIAL
DATE_PATTERN = r"^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})?)?$"

# Order matters: it is the order of template parameters and Parameter elements.
PARAMETERS: tuple[Parameter, ...] = (
    Parameter("searchTerms", "os", S, "Free text; whitespace means AND, double quotes a phrase"),
    Parameter("count", "os", S, "Number of results per page", minimum=0),
    Parameter("startIndex", "os", S, "Index of the first result (1-based)", minimum=1),
    Parameter("startPage", "os", S, "Page number (1-based)", minimum=1),
    Parameter("uid", "geo", S, "Identifier of a record (dc:identifier)"),
    Parameter("box", "geo", S, "Bounding box west,south,east,north in EPSG:4326"),
    Parameter("geometry", "geo", S, "Geometry in WKT, EPSG:4326"),
    Parameter("lat", "geo", S, "Latitude of a point, EPSG:4326", minimum=-90, maximum=90),
    Parameter("lon", "geo", S, "Longitude of a point, EPSG:4326", minimum=-180, maximum=180),
    Parameter("radius", "geo", S, "Search radius around lat/lon in metres", minimum=0),
    Parameter("relation", "geo", S, "Spatial relation: intersects, contains, disjoint"),
    Parameter("start", "time", S, "Start of the temporal extent (RFC 3339)", pattern=DATE_PATTERN),
    Parameter("end", "time", S, "End of the temporal extent (RFC 3339)", pattern=DATE_PATTERN),
    Parameter("relation", "time", S, "Temporal relation: intersects, during, disjoint, equals"),
    Parameter("sortKeys", "sru", S, "Sort order, e.g. 'start,,0' or 'cloudCover,,1'"),
    _eo("parentIdentifier", K, "Identifier of the collection", BOTH, "collection"),
    _eo("productType", K, "Product type", BOTH, "product:type", sortable=True),
    _eo("doi", K, "Digital Object Identifier", BOTH, "sci:doi"),
    _eo("platform", K, "Platform short name", BOTH, "platform"),
    _eo("platformSerialIdentifier", K, "Platform serial identifier", BOTH, "platform"),
    _eo("instrument", K, "Instrument short name", BOTH, "instruments"),
    _eo("sensorType", K, "Sensor type (OPTICAL, RADAR, ALTIMETRIC, ATMOSPHERIC, LIMB)", BOTH),
    _eo("compositeType", K, "Composite type", BOTH),
    _eo("processingLevel", K, "Processing level", BOTH, "processing:level"),
    _eo("orbitType", K, "Orbit type", BOTH),
    _eo("spectralRange", K, "Spectral range", BOTH),
    _eo("wavelength", F, "Wavelength in nm", BOTH),
    _eo("organisationName", K, "Responsible organisation", BOTH, "providers"),
    _eo("organisationRole", K, "Role of the responsible organisation", BOTH),
    _eo("topicCategory", K, "ISO 19115 topic category", COLLECTION),
    _eo("keyword", K, "Keyword", COLLECTION, "keywords"),
    _eo("accessConstraint", K, "Access constraint", BOTH),
    _eo("useLimitation", K, "Use limitation", BOTH),
    _eo("hasSecurityConstraints", K, "Has security constraints (TRUE/FALSE)", BOTH),
    _eo("dissemination", K, "Dissemination method", BOTH),
    _eo("resolution", F, "Spatial resolution in metres", BOTH, "gsd", sortable=True),
    _eo("creationDate", D, "Metadata creation date", BOTH, "created", sortable=True),
    _eo("modificationDate", D, "Metadata modification date", BOTH, "updated", sortable=True),
    _eo("publicationDate", D, "Publication date", BOTH, "published"),
    _eo("productionStatus", K, "Production status", PRODUCT),
    _eo("acquisitionType", K, "Acquisition type (NOMINAL, CALIBRATION, OTHER)", PRODUCT),
    _eo("orbitNumber", I, "Absolute orbit number", PRODUCT, "sat:absolute_orbit", minimum=0),
    _eo("orbitDirection", K, "Orbit direction (ASCENDING, DESCENDING)", PRODUCT, "sat:orbit_state"),
    _eo("track", I, "Track (relative orbit)", PRODUCT, "sat:relative_orbit", minimum=0),
    _eo("frame", I, "Frame", PRODUCT, minimum=0),
    _eo("swathIdentifier", K, "Swath identifier", PRODUCT, "sar:beam_ids"),
    _eo(
        "cloudCover",
        F,
        "Cloud cover in percent",
        PRODUCT,
        "eo:cloud_cover",
        sortable=True,
        minimum=0,
        maximum=100,
    ),
    _eo("snowCover", F, "Snow cover in percent", PRODUCT, "eo:snow_cover", minimum=0, maximum=100),
    _eo("lowestLocation", F, "Lowest location (m)", PRODUCT),
    _eo("highestLocation", F, "Highest location (m)", PRODUCT),
    _eo("productVersion", K, "Product version", PRODUCT, "version"),
    _eo("productQualityStatus", K, "Product quality status (NOMINAL, DEGRADED)", PRODUCT),
    _eo("productQualityDegradationTag", K, "Product quality degradation tag", PRODUCT),
    _eo("processorName", K, "Processor name", PRODUCT, "processing:software"),
    _eo("processingCenter", K, "Processing centre", PRODUCT, "processing:facility"),
    _eo("processingDate", D, "Processing date", PRODUCT, "processing:datetime"),
    _eo("processingMode", K, "Processing mode", PRODUCT),
    _eo("sensorMode", K, "Sensor (operational) mode", PRODUCT, "sar:instrument_mode"),
    _eo("archivingCenter", K, "Archiving centre", PRODUCT),
    _eo("availabilityTime", D, "Time the product became available", PRODUCT, "published"),
    _eo("acquisitionStation", K, "Acquisition station", PRODUCT),
    _eo("acquisitionSubType", K, "Acquisition sub-type", PRODUCT),
    _eo("startTimeFromAscendingNode", I, "Start time from ascending node (ms)", PRODUCT),
    _eo("completionTimeFromAscendingNode", I, "Completion time from ascending node (ms)", PRODUCT),
    _eo(
        "illuminationAzimuthAngle",
        F,
        "Sun azimuth angle (deg)",
        PRODUCT,
        "view:sun_azimuth",
        minimum=0,
        maximum=360,
    ),
    _eo("illuminationZenithAngle", F, "Sun zenith angle (deg)", PRODUCT, minimum=0, maximum=180),
    _eo(
        "illuminationElevationAngle",
        F,
        "Sun elevation angle (deg)",
        PRODUCT,
        "view:sun_elevation",
        minimum=-90,
        maximum=90,
    ),
    _eo("polarisationMode", K, "Polarisation mode (S, D, T, Q, UNDEFINED)", PRODUCT),
    _eo(
        "polarisationChannels",
        K,
        "Polarisation channels, e.g. 'VV, VH'",
        PRODUCT,
        "sar:polarizations",
    ),
    _eo(
        "antennaLookDirection",
        K,
        "Antenna look direction (LEFT, RIGHT)",
        PRODUCT,
        "sar:observation_direction",
    ),
    _eo(
        "minimumIncidenceAngle", F, "Minimum incidence angle (deg)", PRODUCT, minimum=0, maximum=90
    ),
    _eo(
        "maximumIncidenceAngle", F, "Maximum incidence angle (deg)", PRODUCT, minimum=0, maximum=90
    ),
    _eo("incidenceAngleVariation", F, "Incidence angle variation (deg)", PRODUCT),
    _eo("dopplerFrequency", F, "Doppler frequency (Hz)", PRODUCT),
)


class Registry:
    """Look-ups over the parameters, by level, qualified name, field and STAC name."""

    def __init__(self, parameters: tuple[Parameter, ...] = PARAMETERS) -> None:
        self.parameters = parameters
        self._by_qname = {p.qname: p for p in parameters}
        self._by_field = {p.field: p for p in parameters if p.field}
        if len(self._by_qname) != len(parameters):
            raise ValueError("duplicate parameter names in the registry")

    def __iter__(self) -> Iterator[Parameter]:
        return iter(self.parameters)

    def for_level(self, level: Level) -> list[Parameter]:
        return [p for p in self.parameters if level in p.levels]

    def by_qname(self, qname: str) -> Parameter | None:
        return self._by_qname.get(qname)

    def by_field(self, field: str) -> Parameter | None:
        return self._by_field.get(field)

    @property
    def fields(self) -> list[Parameter]:
        """Parameters stored as record properties (the EO ones)."""
        return [p for p in self.parameters if p.field is not None]

    @property
    def faceted(self) -> list[Parameter]:
        return [p for p in self.parameters if p.faceted]

    @property
    def sortable(self) -> list[Parameter]:
        return [p for p in self.parameters if p.sortable]


REGISTRY = Registry()
