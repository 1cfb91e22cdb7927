"""Serves the embedded catalogue's OpenSearch endpoint from a bench file and times the queries.

The server is the project's own OpenSearch router and catalogue lifespan under uvicorn, in its
own process on loopback, measured with the same client loop as pycsw (see ``pycsw_side``).
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
from fastapi import FastAPI
from tests.fixtures.provider import free_port

from bench.catalogue import queries


def create_app() -> FastAPI:
    """The catalogue and OpenSearch resources only (``uvicorn --factory``), on the bench file."""
    from everest_elearn.api import catalogue, errors, opensearch
    from everest_elearn.settings import Settings

    settings = Settings()  # EVEREST_CATALOGUE__SQLITE_PATH names the bench file

    app = FastAPI(lifespan=lambda app: catalogue.lifespan(app, settings))
    app.state.settings = settings
    from everest_elearn.security.identity import ChainResolver

    app.state.identity_resolver = ChainResolver()
    errors.install(app)
    app.include_router(opensearch.router)
    return app


def url_for(base: str, spec: dict[str, Any]) -> str:
    """The bench query in the OpenSearch EO vocabulary of the product description document."""
    w, s, e, n = spec["box"]
    params = {
        "box": f"{w},{s},{e},{n}",
        "start": f"{spec['start']:%Y-%m-%dT%H:%M:%SZ}",
        "end": f"{spec['end']:%Y-%m-%dT%H:%M:%SZ}",
        "count": "20",
        "httpAccept": "application/atom+xml",
    }
    if spec["platform"]:
        params["platform"] = spec["platform"]
    if spec["cloud"] is not None:
        params["cloudCover"] = f"[0,{spec['cloud']}]"
    return str(httpx.URL(f"{base}opensearch/products", params=params))


def measure(db: Path, specs: list[dict[str, Any]]) -> dict[str, float]:
    """p50/p95/mean latency and mean hits of the specs through HTTP (Atom with facets)."""
    port = free_port()
    env = {
        **os.environ,
        "EVEREST_CATALOGUE__SQLITE_PATH": str(db),
        "EVEREST_CATALOGUE__LOAD_SAMPLES": "false",
        "EVEREST_DATA_DIR": str(db.parent),
    }
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "--factory",
            "bench.catalogue.http_side:create_app",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--log-level",
            "warning",
            "--no-access-log",
        ],
        env=env,
    )
    base = f"http://127.0.0.1:{port}/"
    try:
        with httpx.Client(timeout=600) as client:
            for _ in range(600):
                try:
                    client.get(f"{base}opensearch/description.xml").raise_for_status()
                    break
                except httpx.TransportError:
                    time.sleep(0.5)
            for spec in specs[:10]:  # warm the page cache, as for the in-process figures
                client.get(url_for(base, spec)).raise_for_status()
            return queries.timed_atom(client, lambda spec: url_for(base, spec), specs)
    finally:
        server.terminate()
        server.wait(timeout=30)
