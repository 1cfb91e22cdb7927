"""CLI options of ``catalogue search`` to a Query, and records to a table."""

from __future__ import annotations

import shlex
from datetime import UTC, datetime

import typer
from rich.console import Console
from rich.table import Table

from everest_elearn.catalogue.model import Kind, Record
from everest_elearn.catalogue.query import Condition, Interval, OneOf, Query, SortKey


def _time(value: str | None, name: str) -> datetime | None:
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise typer.BadParameter(
            f"{value!r} is not an RFC 3339 date-time", param_hint=name
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _box(value: str | None) -> dict[str, object] | None:
    if not value:
        return None
    try:
        west, south, east, north = (float(v) for v in value.split(","))
    except ValueError:
        raise typer.BadParameter("expected west,south,east,north", param_hint="--bbox") from None
    if not (-180 <= west <= 180 and -180 <= east <= 180 and -90 <= south < north <= 90):
        raise typer.BadParameter("out of range or south >= north", param_hint="--bbox")
    ring = [[west, south], [east, south], [east, north], [west, north], [west, south]]
    return {"type": "Polygon", "coordinates": [ring]}


def build_query(
    collection: str | None,
    text: str | None,
    bbox: str | None,
    start: str | None,
    end: str | None,
    platform: str | None,
    product_type: str | None,
    max_cloud: float | None,
    collections: bool,
    limit: int,
) -> Query:
    filters: dict[str, Condition] = {}
    if platform:
        filters["platform"] = OneOf((platform,))
    if product_type:
        filters["productType"] = OneOf((product_type,))
    if max_cloud is not None:
        filters["cloudCover"] = Interval(high=max_cloud)
    return Query(
        kind=Kind.COLLECTION if collections else Kind.PRODUCT,
        parent=collection,
        terms=tuple(shlex.split(text)) if text else (),
        geometry=_box(bbox),
        time_start=_time(start, "--start"),
        time_end=_time(end, "--end"),
        filters=filters,
        sort=() if collections else (SortKey("start", ascending=False),),
        limit=limit,
    )


def print_records(console: Console, records: list[Record], total: int) -> None:
    table = Table(title=f"{len(records)} of {total} found")
    for column in ("identifier", "collection", "start", "platform", "type", "cloud %", "orbit"):
        table.add_column(column, overflow="fold")
    for r in records:
        p = r.properties
        platform = " ".join(
            str(v) for v in (p.get("platform"), p.get("platformSerialIdentifier")) if v
        )
        cloud = p.get("cloudCover")
        orbit = "/".join(str(v) for v in (p.get("orbitDirection"), p.get("track")) if v)
        table.add_row(
            r.identifier,
            r.parent_identifier or "",
            r.start.strftime("%Y-%m-%d %H:%M:%S") if r.start else "",
            platform,
            str(p.get("productType") or ""),
            f"{cloud:.1f}" if isinstance(cloud, (int, float)) else "",
            orbit,
        )
    console.print(table)
