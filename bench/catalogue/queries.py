"""The bench's mixed queries, centred on generated products so that they find what they ask for.

Each query takes one generated product (among the first ``pool`` ones, so both sides hold it)
and asks for a box around its footprint, a time window around its date, often its platform and,
for optical products, a cloud-cover interval that contains it: 20 records per page.
"""

from __future__ import annotations

import random
import statistics
import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import httpx

from bench.catalogue import generate
from everest_elearn.catalogue import geometry as geo
from everest_elearn.catalogue.query import Interval, OneOf, Query


def specs(count: int, pool: int, seed: int = 11) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    out = []
    for _ in range(count):
        product = generate.product(rng.randrange(pool))
        assert product.geometry is not None and product.start is not None
        west, south, east, north = geo.bbox_of(product.geometry)
        lon, lat = (west + east) / 2, (south + north) / 2
        width = rng.uniform(10, 20)
        height = width * rng.uniform(0.5, 0.8)
        w = max(-180.0, lon - width * rng.uniform(0.3, 0.7))
        s = max(-90.0, lat - height * rng.uniform(0.3, 0.7))
        days = rng.choice((90, 180, 365))
        start = product.start - timedelta(days=days * rng.uniform(0.2, 0.8))
        platform = product.properties["platform"] if rng.random() < 0.7 else None
        cloud = None
        if "cloudCover" in product.properties and rng.random() < 0.7:
            cloud = next(c for c in (30, 50, 80, 100) if c >= product.properties["cloudCover"])
        out.append(
            {
                "box": (
                    round(w, 3),
                    round(s, 3),
                    round(min(180.0, w + width), 3),
                    round(min(90.0, s + height), 3),
                ),
                "start": start,
                "end": start + timedelta(days=days),
                "platform": platform,
                "cloud": cloud,
            }
        )
    return out


def to_query(spec: dict[str, Any]) -> Query:
    filters: dict[str, Any] = {}
    if spec["platform"]:
        filters["platform"] = OneOf((spec["platform"],))
    if spec["cloud"] is not None:
        filters["cloudCover"] = Interval(0, spec["cloud"])
    return Query(
        geometry=geo.from_box(*spec["box"]),
        time_start=spec["start"],
        time_end=spec["end"],
        filters=filters,
        limit=20,
    )


def atom_total(text: str) -> int:
    """``os:totalResults`` of an Atom page (pycsw writes the element with that prefix too)."""
    for tag in ("<os:totalResults>", "<opensearch:totalResults>"):
        if tag in text:
            return int(text.split(tag, 1)[1].split("<", 1)[0])
    return 0


def summary(times: list[float], hits: list[int]) -> dict[str, float]:
    ordered = sorted(times)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return {
        "p50_ms": statistics.median(ordered),
        "p95_ms": p95,
        "mean_ms": statistics.mean(ordered),
        "mean_hits": statistics.mean(hits),
        "full_pages": sum(1 for h in hits if h >= 20) / len(hits),
    }


def timed_atom(
    client: httpx.Client, url_for: Callable[[dict[str, Any]], str], specs: list[dict[str, Any]]
) -> dict[str, float]:
    """Each spec's Atom search in turn over HTTP, timed from building its URL to its answer: the
    client loop both the embedded server and pycsw are measured with, so their figures compare."""
    times, hits = [], []
    for spec in specs:
        started = time.perf_counter()
        response = client.get(url_for(spec))
        times.append((time.perf_counter() - started) * 1000)
        response.raise_for_status()
        hits.append(atom_total(response.text))
    return summary(times, hits)
