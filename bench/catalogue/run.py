"""Bulk ingest rate and query latency of the embedded catalogue at scale, and against pycsw.

    python -m bench.catalogue [--products 1000000] [--pycsw-products 100000] [--queries 200]

The queries are centred on generated products (see ``queries.py``): a box, a time window, often
a platform and a cloud-cover interval, 20 per page. The embedded side is timed in-process
(``Catalogue.search``) and over HTTP (the OpenSearch endpoint under uvicorn, Atom with facets),
pycsw over HTTP (its OpenSearch endpoint), on the same queries. Ingest goes through the service
in bulk mode (``Catalogue.bulk``), index rebuilds included.

Prints figures; asserts nothing. pycsw 2.6 runs from its own virtualenv (it pins OWSLib < 0.29,
which the project's test extra cannot share), created on first use under ~/.cache/everest-elearn.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
import shutil
import time
from pathlib import Path
from typing import Any

import shapely

from bench.catalogue import generate, http_side, pycsw_side, queries
from everest_elearn.catalogue import geometry as geo
from everest_elearn.catalogue.backends.sqlite import SqliteStore
from everest_elearn.catalogue.model import Record
from everest_elearn.catalogue.service import Catalogue
from everest_elearn.security.identity import ANONYMOUS, Identity, Role

AGENT = Identity("bench-agent", frozenset({Role.AGENT}))


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


async def measure_queries(catalogue: Catalogue, specs: list[dict[str, Any]]) -> dict[str, float]:
    for spec in specs[:10]:  # warm the page cache
        await catalogue.search(queries.to_query(spec), ANONYMOUS)
    times, hits = [], []
    for spec in specs:
        started = time.perf_counter()
        result = await catalogue.search(queries.to_query(spec), ANONYMOUS)
        times.append((time.perf_counter() - started) * 1000)
        hits.append(result.total)
    return queries.summary(times, hits)


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
    # CPU time of the process (all threads) while ingesting: the rate a machine of its own gives.
    cpu_seconds = 0.0
    checkpoints = sorted({min(args.pycsw_products, args.products), args.products})
    produced = generate.products(args.products)
    done = 0
    for checkpoint in checkpoints:
        # One bulk load per segment: its indices are rebuilt before the segment's queries run,
        # and that rebuild is part of the ingest time.
        started = time.perf_counter()
        async with catalogue.bulk(AGENT):
            while done < checkpoint:
                batch = []
                for record in itertools.islice(produced, min(args.batch, checkpoint - done)):
                    if done + len(batch) < args.pycsw_products:
                        jsonl.write(pycsw_row(record) + "\n")
                    batch.append(record)
                generated, cpu = time.perf_counter(), time.process_time()
                await catalogue.upsert(batch, AGENT)
                ingest_seconds += time.perf_counter() - generated
                cpu_seconds += time.process_time() - cpu
                done += len(batch)
                if done % 100_000 == 0:
                    print(
                        f"  ingested {done:,} ({done / ingest_seconds:,.0f} records/s)", flush=True
                    )
            closing, cpu = time.perf_counter(), time.process_time()
        ingest_seconds += time.perf_counter() - closing
        cpu_seconds += time.process_time() - cpu
        print(f"  segment to {done:,}: {time.perf_counter() - started:,.0f} s wall", flush=True)
        jsonl.flush()
        stats = await measure_queries(catalogue, specs)
        stats["ingest_rate"] = done / ingest_seconds
        stats["ingest_cpu_rate"] = done / cpu_seconds
        figures[str(done)] = stats
        print(f"  embedded in-process at {done:,}: {_fmt(stats)}", flush=True)
        over_http = http_side.measure(path, specs)
        figures[f"http:{done}"] = over_http
        print(f"  embedded over HTTP (OpenSearch Atom, facets) at {done:,}: {_fmt(over_http)}")
    jsonl.close()
    await store.close()
    return figures


async def measure_again(path: Path, specs: list[dict[str, Any]]) -> None:
    store = SqliteStore(path)
    await store.open()
    try:
        catalogue = Catalogue(store)
        size = await catalogue.count()
        print(f"load average at start: {_load()}", flush=True)
        stats = await measure_queries(catalogue, specs)
        print(f"  embedded in-process at {size:,} records: {_fmt(stats)}", flush=True)
    finally:
        await store.close()
    over_http = http_side.measure(path, specs)
    print(f"  embedded over HTTP (OpenSearch Atom, facets): {_fmt(over_http)}", flush=True)


def _fmt(stats: dict[str, float]) -> str:
    return (
        f"p50 {stats['p50_ms']:.1f} ms, p95 {stats['p95_ms']:.1f} ms, mean {stats['mean_ms']:.1f} ms,"
        f" mean hits {stats['mean_hits']:.0f} ({stats['full_pages']:.0%} full pages)"
        + (f", ingest {stats['ingest_rate']:,.0f} records/s" if "ingest_rate" in stats else "")
        + (
            f" ({stats['ingest_cpu_rate']:,.0f} per CPU second)"
            if "ingest_cpu_rate" in stats
            else ""
        )
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--products", type=int, default=1_000_000)
    parser.add_argument("--pycsw-products", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--batch", type=int, default=20_000)
    parser.add_argument("--no-pycsw", action="store_true", help="only the embedded backend")
    parser.add_argument(
        "--workdir",
        type=Path,
        default=Path.home() / ".cache" / "everest-elearn" / "bench-catalogue",
    )
    parser.add_argument(
        "--measure-only",
        action="store_true",
        help="time the queries again on the catalogue a previous run left in --workdir",
    )
    args = parser.parse_args()
    args.pycsw_products = min(args.pycsw_products, args.products)
    args.workdir.mkdir(parents=True, exist_ok=True)
    # Queries centred on products both sides hold: the first pycsw_products ones.
    specs = queries.specs(args.queries, pool=args.pycsw_products)
    if args.measure_only:
        asyncio.run(measure_again(args.workdir / "catalogue.sqlite", specs))
        print(f"load average at end: {_load()}", flush=True)
        return
    print(f"load average at start: {_load()}", flush=True)
    print(
        f"embedded (SQLite) through the Catalogue service, {args.products:,} products:", flush=True
    )
    ours = asyncio.run(embedded(args, args.workdir, specs))
    size = sum(f.stat().st_size for f in args.workdir.glob("catalogue.sqlite*")) / 1e6
    print(f"  embedded file: {size:,.0f} MB", flush=True)
    if not args.no_pycsw:
        print(
            f"pycsw 2.6 (SQLite repository, OpenSearch endpoint), {args.pycsw_products:,} products:",
            flush=True,
        )
        theirs = pycsw_side.run(args.workdir, args.workdir / "pycsw.jsonl", specs)
        print(
            f"  pycsw over HTTP: {_fmt(theirs)}; its own one-record-per-transaction insert:"
            f" {theirs['single_rate']:,.0f} records/s",
            flush=True,
        )
        _ratios(args, ours, theirs)
        shutil.rmtree(args.workdir / "pycsw", ignore_errors=True)
    print(f"load average at end: {_load()}", flush=True)


def _load() -> str:
    return ", ".join(f"{x:.1f}" for x in os.getloadavg())


def _ratios(args: argparse.Namespace, ours: dict[str, Any], theirs: dict[str, float]) -> None:
    n, big = args.pycsw_products, args.products
    print("ratios (pycsw / embedded; higher is better for the embedded backend):")
    for label, side in (("over HTTP", ours[f"http:{n}"]), ("in-process", ours[str(n)])):
        print(
            f"  {label}, both at {n:,}: p50 {theirs['p50_ms'] / side['p50_ms']:.0f}x,"
            f" p95 {theirs['p95_ms'] / side['p95_ms']:.0f}x"
        )
    if big != n:
        for label, side in (("over HTTP", ours[f"http:{big}"]), ("in-process", ours[str(big)])):
            print(
                f"  {label}, pycsw at {n:,} vs embedded at {big:,}:"
                f" p50 {theirs['p50_ms'] / side['p50_ms']:.0f}x,"
                f" p95 {theirs['p95_ms'] / side['p95_ms']:.0f}x"
            )
    print(
        f"  ingest rate (through the service, bulk mode) vs pycsw's own insert:"
        f" {ours[str(n)]['ingest_rate'] / theirs['single_rate']:.1f}x"
    )
