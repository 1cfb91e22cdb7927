"""Drives pycsw from its own virtualenv: load the records, serve on loopback, time OpenSearch queries."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
from tests.fixtures.provider import free_port

from bench.catalogue import queries

VENV = Path.home() / ".cache" / "everest-elearn" / "pycsw-venv"
APP = Path(__file__).with_name("pycsw_app.py")
REQUIREMENTS = ["pycsw==2.6.2", "SQLAlchemy<2", "pyproj"]


def ensure_venv() -> Path:
    python = VENV / "bin" / "python"
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "-q", *REQUIREMENTS], check=True)
    return python


def url_for(base: str, spec: dict[str, Any]) -> str:
    """The same search in pycsw's OpenSearch vocabulary.

    pycsw 2.6's OpenSearch has no platform or cloud-cover interval it can evaluate here
    (eo:platform maps to a queryable its SQLite repository lacks; eo:cloudCover is equality only),
    so the platform goes in as a free-text term and the cloud-cover interval is left out.
    Atom is its answer in opensearch mode (an ``outputformat`` is refused for CSW 2.0.2).
    """
    w, s, e, n = spec["box"]
    params = {
        "mode": "opensearch",
        "service": "CSW",
        "version": "2.0.2",
        "request": "GetRecords",
        "elementsetname": "full",
        "typenames": "csw:Record",
        "resulttype": "results",
        "bbox": f"{w},{s},{e},{n}",
        "time": f"{spec['start']:%Y-%m-%dT%H:%M:%SZ}/{spec['end']:%Y-%m-%dT%H:%M:%SZ}",
        "startposition": "1",
        "maxrecords": "20",
    }
    if spec["platform"]:
        params["q"] = spec["platform"]
    return str(httpx.URL(base, params=params))


def run(workdir: Path, jsonl: Path, specs: list[dict[str, Any]]) -> dict[str, float]:
    python = ensure_venv()
    db = workdir / "pycsw.sqlite"
    db.unlink(missing_ok=True)
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    loaded = subprocess.run(
        [str(python), str(APP), "load", str(db), str(jsonl)],
        check=True,
        capture_output=True,
        text=True,
        env=env,
    )
    load = json.loads(loaded.stdout.strip().splitlines()[-1])
    single_n, single_s = load["per_record"]
    bulk_n, bulk_s = load["bulk"]
    port = free_port()
    server = subprocess.Popen(
        [str(python), str(APP), "serve", str(db), str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env=env,
    )
    try:
        assert server.stdout is not None
        server.stdout.readline()  # "ready"
        base = f"http://127.0.0.1:{port}/"
        with httpx.Client(timeout=600) as client:
            client.get(url_for(base, specs[0])).raise_for_status()  # warm up
            timed = queries.timed_atom(client, lambda spec: url_for(base, spec), specs)
    finally:
        server.terminate()
        server.wait(timeout=30)
    return {
        **timed,
        "single_rate": single_n / single_s if single_s else 0.0,
        "ingest_rate": (single_n + bulk_n) / (single_s + bulk_s),
    }
