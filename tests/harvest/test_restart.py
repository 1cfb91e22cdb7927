"""A harvest killed mid-run and run again: every product once, none missing, resumed where it was."""

from __future__ import annotations

import asyncio
import os
import signal
import sqlite3
import subprocess
import sys
import time
from contextlib import closing
from pathlib import Path

from everest_elearn.catalogue.backends.sqlite import SqliteStore
from everest_elearn.catalogue.service import Catalogue
from tests.harvest.conftest import earth_search_item, moments, product_ids
from tests.harvest.replay import Replay
from tests.harvest.stac_server import StacApi

SOURCES = """\
sources:
  - name: es
    kind: stac
    url: {url}
    collection: sentinel-2-l1c
    page_size: 2
"""


def _saved_pages(state: Path) -> int:
    """Pages whose records are stored, as the checkpoint says (the token of the next page)."""
    if not state.exists():
        return 0
    try:
        with closing(sqlite3.connect(state)) as conn:
            row = conn.execute("SELECT resume FROM source_state WHERE name = 'es'").fetchone()
    except sqlite3.OperationalError:  # the agent has not created its tables yet
        return 0
    if not row or not row[0] or "token=" not in row[0]:
        return 0
    return int(row[0].split("token=")[1].split('"')[0].split("&")[0]) // 2


async def _stored(path: Path) -> list[str]:
    store = SqliteStore(path)
    await store.open()
    try:
        return await product_ids(Catalogue(store), "sentinel-2-l1c")
    finally:
        await store.close()


def _cli(tmp_path: Path, *args: str) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "EVEREST_DATA_DIR": str(tmp_path / "data"),
        "EVEREST_HARVEST__SOURCES_FILE": str(tmp_path / "sources.yaml"),
        "EVEREST_CATALOGUE__LOAD_SAMPLES": "false",
    }
    return subprocess.Popen(
        [sys.executable, "-m", "everest_elearn.cli", "harvest", *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )


def test_killed_mid_harvest_then_rerun_has_no_duplicates_and_no_gaps(
    replay: Replay, tmp_path: Path
) -> None:
    items = [earth_search_item(i, when) for i, when in enumerate(moments(20))]
    api = StacApi(replay, items, page=2)
    original = api.search

    def slow_search(request):  # type: ignore[no-untyped-def]
        time.sleep(0.3)  # slow enough to kill the harvest between pages
        return original(request)

    replay.route("/search", slow_search)
    (tmp_path / "sources.yaml").write_text(SOURCES.format(url=replay.url))
    state = tmp_path / "data" / "harvest.sqlite"

    first = _cli(tmp_path, "run", "es")
    deadline = time.monotonic() + 60
    while _saved_pages(state) < 3:
        assert first.poll() is None, first.stdout.read() if first.stdout else b""
        assert time.monotonic() < deadline, "the first run made no progress"
        time.sleep(0.05)
    first.send_signal(signal.SIGKILL)
    first.wait(timeout=10)
    killed_after = _saved_pages(state)
    assert 3 <= killed_after < 10

    requests_before = len(replay.requests("/search"))
    second = _cli(tmp_path, "run", "es")
    output = second.communicate(timeout=120)[0].decode()
    assert second.returncode == 0, output
    # the progress bar's last state, then the run's report
    assert "harvest es" in output and " new, " in output and "Harvest of es: ok" in output, output

    resumed = replay.requests("/search")[requests_before]
    assert int(resumed.query["token"]) >= killed_after * 2  # went on from the checkpoint
    ids = asyncio.run(_stored(tmp_path / "data" / "catalogue.sqlite"))
    assert ids == sorted(str(i["id"]) for i in items)  # no gap, and each exactly once
    assert len(ids) == len(set(ids))
    status = _cli(tmp_path, "status")
    shown = status.communicate(timeout=120)[0].decode()
    assert status.returncode == 0 and "es" in shown and "ok" in shown, shown
