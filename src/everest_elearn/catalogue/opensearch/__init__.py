"""The OpenSearch EO interface: request parsing, description documents, Atom and GeoJSON."""
