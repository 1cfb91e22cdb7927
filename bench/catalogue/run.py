"""Bulk ingest rate and query latency of the embedded catalogue at scale, and against pycsw.

    python -m bench.catalogue [--products 1000000] [--pycsw-products 100000] [--queries 200]

Prints figures; asserts nothing. pycsw 2.6 runs from its own virtualenv (it pins OWSLib < 0.29,
which the project's test extra cannot share), created on first use under ~/.cache/everest-elearn.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import shutil
import statistics
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import shapely

from bench.catalogue import generate, pycsw_side
from everest_elearn.catalogue import geometry as geo
from everest_elearn.catalogue.backends.sqlite import SqliteStore
from everest_elearn.catalogue.model import Record
from everest_elearn.catalogue.query import Interval, OneOf, Query
from everest_elearn.catalogue.service import Catalogue
from everest_elearn.security.identity import ANONYMOUS, Identity, Role

AGENT = Identity("bench-agent", frozenset({Role.AGENT}))


def query_specs(count: int, seed: int = 11) -> list[dict[str, Any]]:
    """Mixed searches: a box, a time range, a platform, a cloud-cover interval, 20 per page."""
    rng = random.Random(seed)
    specs = []
    for _ in range(count):
        size = rng.uniform(2, 10)
        lon = rng.uniform(-175, 175 - size)
        lat = max(-60.0, min(70.0, rng.gauss(20, 25)))
        start = generate.EPOCH + timedelta(days=rng.uniform(0, generate.SPAN_DAYS - 60))
        platform = rng.choice(("S2A", "S2B", "S1A", "S1B", None))
        cloud = rng.choice((10, 20, 30, 50)) if platform in ("S2A", "S2B", None) else None
        specs.append(
            {
                "box": (
                    round(lon, 3),
                    round(lat, 3),
                    round(lon + size, 3),
                    round(lat + size * 0.7, 3),
                ),
                "start": start,
                "end": start + timedelta(days=rng.choice((7, 14, 30, 60))),
                "platform": platform,
                "cloud": cloud,
            }
        )
    return specs


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


def pycsw_row(record: Record) -> str:
    shape = geo.to_shape(record.geometry or {})
    return json.dumps(
        {
            "identifier": record.identifier,
            "title": record.title,
            "platform": record.properties["platform"],
            "keywords": ",".join([record.properties["platform"], record.properties["productType"]]),
            "start": record.start.strftime("%Y-%m-%dT%H:%M:%SZ") if record.start else None,
            "end": record.end.strftime("%Y-%m-%dT%H:%M:%SZ") if record.end else None,
            "wkt": shapely.to_wkt(shape, rounding_precision=5),
            "bbox": list(shape.bounds),
            "cloudCover": record.properties.get("cloudCover"),
        }
    )


def percentiles(samples: list[float]) -> tuple[float, float, float]:
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return statistics.median(ordered), p95, statistics.mean(ordered)


async def measure_queries(catalogue: Catalogue, specs: list[dict[str, Any]]) -> dict[str, float]:
    for spec in specs[:10]:  # warm the page cache
        await catalogue.search(to_query(spec), ANONYMOUS)
    times, hits = [], []
    for spec in specs:
        started = time.perf_counter()
        result = await catalogue.search(to_query(spec), ANONYMOUS)
        times.append((time.perf_counter() - started) * 1000)
        hits.append(result.total)
    p50, p95, mean = percentiles(times)
    return {"p50_ms": p50, "p95_ms": p95, "mean_ms": mean, "mean_hits": statistics.mean(hits)}


async def embedded(
    args: argparse.Namespace, workdir: Path, specs: list[dict[str, Any]]
) -> dict[str, Any]:
    path = workdir / "catalogue.sqlite"
    for leftover in workdir.glob("catalogue.sqlite*"):  # noqa: ASYNC240 - before any work starts
        leftover.unlink()
    store = SqliteStore(path)
    await store.open()
    catalogue = Catalogue(store)
    await catalogue.upsert(generate.collections(), AGENT)
    jsonl = (workdir / "pycsw.jsonl").open("w", encoding="utf-8")
    figures: dict[str, Any] = {}
    ingest_seconds = 0.0
    batch: list[Record] = []
    checkpoints = sorted({min(args.pycsw_products, args.products), args.products})
    for done, record in enumerate(generate.products(args.products), start=1):
        if done <= args.pycsw_products:
            jsonl.write(pycsw_row(record) + "\n")
        batch.append(record)
        if len(batch) == args.batch or done in checkpoints:
            started = time.perf_counter()
            await catalogue.upsert(batch, AGENT)
            ingest_seconds += time.perf_counter() - started
            batch = []
            if done % 100_000 == 0:
                print(f"  ingested {done:,} ({done / ingest_seconds:,.0f} records/s)", flush=True)
        if done in checkpoints:
            jsonl.flush()
            stats = await measure_queries(catalogue, specs)
            stats["ingest_rate"] = done / ingest_seconds
            figures[str(done)] = stats
            print(f"  embedded at {done:,}: {_fmt(stats)}", flush=True)
    jsonl.close()
    figures["file_mb"] = path.stat().st_size / 1e6
    await store.close()
    return figures


def _fmt(stats: dict[str, float]) -> str:
    return (
        f"p50 {stats['p50_ms']:.1f} ms, p95 {stats['p95_ms']:.1f} ms, mean {stats['mean_ms']:.1f} ms,"
        f" mean hits {stats['mean_hits']:.0f}, ingest {stats.get('ingest_rate', 0):,.0f} records/s"
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--products", type=int, default=1_000_000)
    parser.add_argument("--pycsw-products", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--pycsw-queries", type=int, default=40)
    parser.add_argument("--batch", type=int, default=5_000)
    parser.add_argument("--no-pycsw", action="store_true", help="only the embedded backend")
    parser.add_argument(
        "--workdir",
        type=Path,
        default=Path.home() / ".cache" / "everest-elearn" / "bench-catalogue",
    )
    args = parser.parse_args()
    args.pycsw_products = min(args.pycsw_products, args.products)
    args.workdir.mkdir(parents=True, exist_ok=True)
    specs = query_specs(args.queries)
    print(
        f"embedded (SQLite) through the Catalogue service, {args.products:,} products:", flush=True
    )
    ours = asyncio.run(embedded(args, args.workdir, specs))
    if args.no_pycsw:
        return
    print(
        f"pycsw 2.6 (SQLite repository, OpenSearch endpoint), {args.pycsw_products:,} products:",
        flush=True,
    )
    theirs = pycsw_side.run(args.workdir, args.workdir / "pycsw.jsonl", specs[: args.pycsw_queries])
    print(
        f"  pycsw: {_fmt(theirs)}; its own one-record-per-transaction insert:"
        f" {theirs['single_rate']:,.0f} records/s",
        flush=True,
    )
    small = ours[str(args.pycsw_products)]
    big = ours[str(args.products)]
    print("ratios (pycsw / embedded; higher is better for the embedded backend):")
    print(
        f"  p50 at the same size ({args.pycsw_products:,}): {theirs['p50_ms'] / small['p50_ms']:.0f}x"
    )
    print(
        f"  p95 at the same size ({args.pycsw_products:,}): {theirs['p95_ms'] / small['p95_ms']:.0f}x"
    )
    print(
        f"  p95 pycsw at {args.pycsw_products:,} vs embedded at {args.products:,}: {theirs['p95_ms'] / big['p95_ms']:.0f}x"
    )
    print(
        f"  ingest rate vs pycsw's own insert: {small['ingest_rate'] / theirs['single_rate']:.1f}x"
    )
    print(f"  embedded file: {ours['file_mb']:,.0f} MB")
    shutil.rmtree(args.workdir / "pycsw", ignore_errors=True)
