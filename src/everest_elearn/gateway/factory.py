"""Builds the gateway from settings: the one place that picks the object store backend."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from everest_elearn.gateway.credentials import Credentials
from everest_elearn.gateway.delivery import ProductLookup
from everest_elearn.gateway.flight import Fetcher
from everest_elearn.gateway.objectstore import ObjectStore
from everest_elearn.gateway.reloader import RulesHolder
from everest_elearn.gateway.service import Gateway
from everest_elearn.gateway.sources.file import FileReader
from everest_elearn.gateway.sources.http import HttpReader
from everest_elearn.gateway.sources.s3 import S3Reader
from everest_elearn.gateway.upstream import Upstream
from everest_elearn.settings import Settings


def rules_path(settings: Settings) -> Path:
    return settings.gateway.rules_file or settings.data_dir / "gateway-rules.yaml"


def build_store(settings: Settings) -> ObjectStore:
    config = settings.gateway
    if config.store == "s3":
        from everest_elearn.gateway.backends.s3 import S3Store

        secret = config.s3_secret_access_key
        return S3Store(
            bucket=config.s3_bucket,
            prefix=config.s3_prefix,
            endpoint_url=config.s3_endpoint_url,
            region=config.s3_region,
            access_key_id=config.s3_access_key_id,
            secret_access_key=secret.get_secret_value() if secret else None,
            multipart_threshold=config.s3_multipart_threshold,
            multipart_chunksize=config.s3_multipart_chunksize,
        )
    from everest_elearn.gateway.backends.local import LocalStore

    return LocalStore(config.store_dir or settings.data_dir / "gateway" / "store")


def build_gateway(
    settings: Settings,
    environ: Mapping[str, str],
    lookup: ProductLookup | None = None,
    store: ObjectStore | None = None,
) -> Gateway:
    """A gateway with its rules loaded (not yet watched) and its store chosen by settings.

    ``environ`` is where credentials named in the rules are found; the edge passes
    ``os.environ`` (nothing below the edges reads the environment itself).
    """
    config = settings.gateway
    holder = RulesHolder(rules_path(settings))
    holder.load_initial()
    credentials = Credentials(environ, config.secrets_dir)
    upstream = Upstream(
        {
            # Redirects are checked against the rules in force, reloads included.
            "http": HttpReader(
                credentials, timeout=config.upstream_timeout, sources=lambda: holder.rules.sources
            ),
            "s3": S3Reader(credentials),
            "file": FileReader(),
        }
    )
    spool = config.spool_dir or settings.data_dir / "gateway" / "spool"
    return Gateway(
        holder,
        store or build_store(settings),
        upstream,
        Fetcher(spool),
        lookup=lookup,
        ledger=settings.data_dir / "gateway" / "stats.sqlite",
        access_log=settings.data_dir / "gateway" / "access.sqlite",
    )
