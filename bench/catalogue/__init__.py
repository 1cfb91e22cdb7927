"""Catalogue benchmark: the embedded backend at scale against pycsw on the same records."""
