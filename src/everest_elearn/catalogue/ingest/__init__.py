"""Ingest: parse STAC, OGC 17-003/17-047 GeoJSON and OpenSearch Atom documents into records."""

from everest_elearn.catalogue.ingest.detect import parse_document, parse_json
from everest_elearn.catalogue.ingest.outcome import Parsed, Problem

__all__ = ["Parsed", "Problem", "parse_document", "parse_json"]
