"""Builds the harvester a source's ``kind`` names, with its credential resolved by name."""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from everest_elearn.errors import Unsupported
from everest_elearn.gateway.credentials import Credentials
from everest_elearn.harvest.fetch import Auth, Http
from everest_elearn.harvest.harvester import Harvester
from everest_elearn.harvest.sources import SourceConfig

# kind -> (module, class); imported when used, so boto3 or rasterio load only when needed.
KINDS: dict[str, tuple[str, str]] = {
    "stac": ("everest_elearn.harvest.stac", "StacHarvester"),
    "opensearch": ("everest_elearn.harvest.opensearch", "OpenSearchHarvester"),
    "http": ("everest_elearn.harvest.http_index", "HttpIndexHarvester"),
    "s3": ("everest_elearn.harvest.s3", "S3Harvester"),
    "local": ("everest_elearn.harvest.local", "LocalHarvester"),
}


def credential(
    config: SourceConfig, environ: Mapping[str, str], secrets_dir: Path | None
) -> str | None:
    """The secret a source names (environment variable or file), or None; errors name, never show."""
    if config.credential is None:
        return None
    return Credentials(environ, secrets_dir).get(config.credential)


def build_harvester(
    config: SourceConfig, environ: Mapping[str, str], secrets_dir: Path | None = None
) -> Harvester:
    if config.kind not in KINDS:
        raise Unsupported(f"unknown harvest source kind {config.kind!r}")
    module_name, class_name = KINDS[config.kind]
    cls: Any = getattr(importlib.import_module(module_name), class_name)
    secret = credential(config, environ, secrets_dir)
    if config.kind in ("s3", "local"):
        harvester: Harvester = cls(config, secret)
        return harvester
    auth = Auth(config.auth, secret or "") if secret else Auth()
    harvester = cls(config, Http(config.limits, auth))
    return harvester
