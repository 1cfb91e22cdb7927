"""A STAC API on the replay server: item search with datetime/bbox/updated filters and paging."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from tests.harvest.conftest import item_collection, real_json
from tests.harvest.replay import Replay, Reply, Request


def _time(raw: str) -> datetime:
    return datetime.fromisoformat(raw.replace("Z", "+00:00"))


class StacApi:
    """Serves ``items`` (real earth-search items) ``page`` at a time, by GET token or POST body."""

    def __init__(self, replay: Replay, items: list[dict[str, Any]], page: int = 3) -> None:
        self.replay = replay
        self.items = items
        self.page = page
        collection = real_json("stac/odc-stac-sentinel-2-l2a.collection.json")
        replay.answer("/collections/sentinel-2-l1c", {**collection, "id": "sentinel-2-l1c"})
        replay.route("/search", self.search)

    def matching(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        found = self.items
        window = params.get("datetime")
        if window:
            first, _, last = str(window).partition("/")
            if first not in ("", ".."):
                found = [i for i in found if _time(i["properties"]["datetime"]) >= _time(first)]
            if last not in ("", ".."):
                found = [i for i in found if _time(i["properties"]["datetime"]) <= _time(last)]
        flt = params.get("filter")
        if isinstance(flt, dict):  # cql2-json: updated >= timestamp
            mark = _time(flt["args"][1]["timestamp"])
            found = [i for i in found if _time(i["properties"]["updated"]) >= mark]
        elif isinstance(flt, str) and "TIMESTAMP('" in flt:
            mark = _time(flt.split("TIMESTAMP('")[1].split("'")[0])
            found = [i for i in found if _time(i["properties"]["updated"]) >= mark]
        return found

    def search(self, request: Request) -> Reply:
        params: dict[str, Any] = (
            dict(request.query) if request.method == "GET" else dict(request.body)
        )
        found = self.matching(params)
        start = int(params.get("token") or 0)
        chunk = found[start : start + self.page]
        next_link = None
        if start + self.page < len(found):
            if request.method == "GET":
                query = {k: v for k, v in request.query.items() if k != "token"}
                query["token"] = str(start + self.page)
                href = f"{self.replay.url}/search?" + "&".join(f"{k}={v}" for k, v in query.items())
                next_link = {"method": "GET", "href": href}
            else:
                next_link = {
                    "method": "POST",
                    "href": f"{self.replay.url}/search",
                    "body": {"token": str(start + self.page)},
                    "merge": True,
                }
        body = json.dumps(item_collection(chunk, next_link)).encode()
        return Reply(body, content_type="application/geo+json")
