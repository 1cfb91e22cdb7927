"""The agent's schedule: a hanging source does not hold the others; failures back off; a stop is recorded."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from tests.harvest.conftest import AgentFactory, earth_search_item, item_collection, moments
from tests.harvest.replay import Replay, Reply
from tests.harvest.stac_server import StacApi

TWO = """\
sources:
  - name: stuck
    kind: stac
    url: {url}/stuck
    into: s2
    schedule: 1h
    limits: {{seconds: 600, request_seconds: 600, retries: 0}}
  - name: fine
    kind: stac
    url: {url}
    collection: sentinel-2-l1c
    page_size: 2
    schedule: 1h
"""


async def _row(agent: object, name: str) -> dict[str, object]:
    rows = {r["name"]: r for r in (await agent.status())["sources"]}  # type: ignore[attr-defined]
    return rows[name]  # type: ignore[no-any-return]


async def test_a_hanging_source_does_not_hold_the_others_and_a_stop_is_recorded(
    replay: Replay, make_agent: AgentFactory
) -> None:
    StacApi(replay, [earth_search_item(i, t) for i, t in enumerate(moments(5))], page=2)
    page = json.dumps(item_collection([], None)).encode()
    # Within every limit for ten minutes: one byte per second.
    replay.route("/stuck/search", lambda _r: Reply(page, drip=1, pause=1.0))
    agent = make_agent(TWO.format(url=replay.url))
    scheduler = asyncio.create_task(agent.serve())
    try:
        for _ in range(600):
            fine = await _row(agent, "fine")
            if fine["state"] == "ok":
                break
            await asyncio.sleep(0.05)
        assert fine["state"] == "ok" and fine["totals"]["created"] == 5  # type: ignore[index]
        stuck = await _row(agent, "stuck")
        assert stuck["state"] == "running" and stuck["running"] is True
    finally:
        scheduler.cancel()
        await agent.close()  # the agent stops: the stuck run is cut short and says so
    stuck = await _row(agent, "stuck")
    assert stuck["state"] == "interrupted" and stuck["running"] is False
    assert stuck["last_error"] == "the agent stopped during the run"


DOWN = """\
sources:
  - name: flaky
    kind: stac
    url: {url}
    into: s2
    schedule: 1h
    limits: {{retries: 0, backoff: 10}}
"""


async def test_failed_runs_back_off_until_one_succeeds(
    replay: Replay, make_agent: AgentFactory, tmp_path: Path
) -> None:
    agent = make_agent(DOWN.format(url="http://127.0.0.1:9/down"))
    waits = []
    for failures in (1, 2, 3):
        report = await agent.run("flaky")
        assert report.state == "failed" and "127.0.0.1:9" in (report.error or "")
        state = await agent.checkpoints.get("flaky")
        assert state.failures == failures and state.next_due and state.last_finished
        waits.append((state.next_due - state.last_finished).total_seconds())
        assert await agent.due() == []  # not retried before its backoff is over
    # 10 s doubling per failure, with +-25 % jitter: 7.5-12.5, 15-25, 30-50
    assert 7.5 <= waits[0] <= 12.5 and 15 <= waits[1] <= 25 and 30 <= waits[2] <= 50
    StacApi(replay, [earth_search_item(0, moments(1)[0])])
    (tmp_path / "sources.yaml").write_text(DOWN.format(url=replay.url))  # the provider is back
    report = await agent.run("flaky")
    state = await agent.checkpoints.get("flaky")
    assert report.state == "ok" and state.failures == 0 and state.last_error is None
    assert state.next_due and state.last_finished
    assert (state.next_due - state.last_finished).total_seconds() == 3600  # back on its schedule


async def test_a_bad_edit_of_the_sources_file_keeps_the_sources_in_force_and_says_where(
    replay: Replay, make_agent: AgentFactory, tmp_path: Path
) -> None:
    StacApi(replay, [earth_search_item(0, moments(1)[0])])
    agent = make_agent(DOWN.format(url=replay.url))
    assert [s.name for s in agent.sources()] == ["flaky"]
    edited = DOWN.format(url=replay.url).replace("schedule: 1h", "schedule: every now and then")
    (tmp_path / "sources.yaml").write_text(edited)
    status = await agent.status()
    assert "line 6" in status["sources_error"] and "schedule" in status["sources_error"]
    assert [row["name"] for row in status["sources"]] == ["flaky"]  # still harvested
    assert (await agent.run("flaky")).state == "ok"
    (tmp_path / "sources.yaml").write_text(DOWN.format(url=replay.url))
    assert (await agent.status())["sources_error"] is None
