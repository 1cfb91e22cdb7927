"""Catalogue store backends, each named after its technology; chosen by ``catalogue.factory``."""
