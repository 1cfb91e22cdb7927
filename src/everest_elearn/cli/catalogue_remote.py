"""The CLI's client for a remote Data Agency: ingest by POST, search and counts through STAC."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx

from everest_elearn.catalogue.ingest import parse_document, parse_json
from everest_elearn.catalogue.ingest.outcome import Problem
from everest_elearn.catalogue.ingest.service import IngestReport
from everest_elearn.catalogue.model import Kind, Record
from everest_elearn.catalogue.query import Interval, OneOf, Query
from everest_elearn.errors import UpstreamError

TIMEOUT = httpx.Timeout(120.0, connect=10.0)


def _client(url: str, token: str | None) -> httpx.Client:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return httpx.Client(base_url=url.rstrip("/"), headers=headers, timeout=TIMEOUT)


def _check(response: httpx.Response) -> Any:
    if response.status_code >= 400:
        try:
            detail = response.json().get("detail", response.reason_phrase)
        except ValueError:
            detail = response.reason_phrase
        # The message names the status and the agency's safe detail, never the token.
        raise UpstreamError(f"the agency answered {response.status_code}: {detail}")
    return response.json()


def _has_collections(data: bytes) -> bool:
    return any(r.kind is Kind.COLLECTION for _, r in parse_document(data).records)


def ingest(
    url: str,
    token: str | None,
    documents: list[tuple[str, bytes]],
    collection: str | None,
    advance: Callable[[], None],
) -> IngestReport:
    """POST each document; documents holding collections go first so products find them."""
    documents = sorted(documents, key=lambda d: not _has_collections(d[1]))
    report = IngestReport()
    params = {"collection": collection} if collection else {}
    with _client(url, token) as http:
        for name, data in documents:
            kind = "application/xml" if data.lstrip()[:1] == b"<" else "application/json"
            body = _check(http.post("/catalogue/ingest", content=data, params=params,
                                    headers={"Content-Type": kind}))  # fmt: skip
            report.received += body["received"]
            report.created += body["created"]
            report.updated += body["updated"]
            for key, target in (("rejected_items", report.rejected),
                                ("skipped_items", report.skipped),
                                ("warnings", report.warnings)):  # fmt: skip
                target.extend(
                    Problem(i["reason"], i.get("position"), i.get("identifier"), name)
                    for i in body.get(key, [])
                )
            advance()
    return report


def _stac_body(query: Query) -> dict[str, Any]:
    body: dict[str, Any] = {"limit": query.limit}
    if query.parent:
        body["collections"] = [query.parent]
    if query.geometry:
        body["intersects"] = query.geometry
    if query.time_start or query.time_end:
        start = query.time_start.isoformat() if query.time_start else ".."
        end = query.time_end.isoformat() if query.time_end else ".."
        body["datetime"] = f"{start}/{end}"
    if query.terms:
        body["q"] = list(query.terms)
    conditions: dict[str, Any] = {}
    for field, condition in query.filters.items():
        # Registry field names: the agency's STAC search accepts them beside STAC names.
        name = field
        if isinstance(condition, OneOf):
            conditions[name] = {"in": list(condition.values)}
        elif isinstance(condition, Interval):
            ops = {}
            if condition.low is not None:
                ops["gte" if condition.low_inclusive else "gt"] = condition.low
            if condition.high is not None:
                ops["lte" if condition.high_inclusive else "lt"] = condition.high
            conditions[name] = ops
    if conditions:
        body["query"] = conditions
    return body


def search(url: str, token: str | None, query: Query) -> tuple[list[Record], int]:
    with _client(url, token) as http:
        if query.kind is Kind.COLLECTION:
            body = _check(http.get("/stac/collections"))
            parsed = parse_json(body.get("collections", []))
            records = [r for _, r in parsed.records][: query.limit]
            return records, len(parsed.records)
        found = _check(http.post("/stac/search", content=json.dumps(_stac_body(query)),
                                 headers={"Content-Type": "application/json"}))  # fmt: skip
    parsed = parse_json(found)
    total = found.get("numberMatched", len(parsed.records))
    return [r for _, r in parsed.records], int(total)


def stats(url: str, token: str | None) -> list[tuple[str, str | None, int]]:
    rows = []
    with _client(url, token) as http:
        for entry in _check(http.get("/stac/collections")).get("collections", []):
            found = _check(
                http.get("/stac/search", params={"collections": entry["id"], "limit": 1})
            )
            rows.append((entry["id"], entry.get("title"), int(found.get("numberMatched", 0))))
    return rows
