"""Several agency processes starting at once on one fresh data directory all open every store.

Each SQLite store creates or upgrades its schema when first opened; two ``everest-elearn serve``
processes (or uvicorn workers) doing that at the same moment must neither fail nor leave a
wrong schema. Real processes, a barrier so that they open together, several rounds.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import sqlite3
import traceback
from collections.abc import Callable
from multiprocessing.synchronize import Barrier
from pathlib import Path

from everest_elearn.catalogue.backends.sqlite import SqliteStore
from everest_elearn.catalogue.backends.sqlite_schema import column, property_columns
from everest_elearn.courses.backends.sqlite import SqliteCourseStore
from everest_elearn.gateway.access import AccessLog
from everest_elearn.gateway.stats import Ledger, Stats
from everest_elearn.harvest.checkpoint import Checkpoints
from everest_elearn.packages.state import PackageState

PROCESSES = 6
ROUNDS = 5


async def open_catalogue(path: Path) -> None:
    store = SqliteStore(path)
    await store.open()
    await store.close()


async def open_packages(path: Path) -> None:
    state = PackageState(path)
    await state.open()
    await state.builds()
    await state.close()


async def open_checkpoints(path: Path) -> None:
    await Checkpoints(path).get("demo")


async def open_courses(path: Path) -> None:
    SqliteCourseStore(path)


async def open_gateway(path: Path) -> None:
    AccessLog(path / "access.sqlite").record({"k": 1.0})
    Ledger(path / "stats.sqlite", Stats(hits=1)).flush()


OPENERS: dict[str, Callable[[Path], object]] = {
    "catalogue.sqlite": open_catalogue,
    "packages.sqlite": open_packages,
    "checkpoints.sqlite": open_checkpoints,
    "courses.sqlite": open_courses,
    "gateway": open_gateway,
}


def worker(rounds: list[Path], barrier: Barrier, errors: multiprocessing.Queue[str]) -> None:
    """Open every store of each round's data directory, all processes at the same moment."""
    for data_dir in rounds:
        for name, opener in OPENERS.items():
            barrier.wait(timeout=120)
            try:
                asyncio.run(opener(data_dir / name))  # type: ignore[arg-type]
            except Exception:  # reported to the test, which names the store and the error
                errors.put(f"{data_dir.name}/{name}: {traceback.format_exc()}")


def test_processes_opening_one_fresh_data_directory_at_once_all_succeed(tmp_path: Path) -> None:
    rounds = [tmp_path / f"round{i}" for i in range(ROUNDS)]
    for data_dir in rounds:
        (data_dir / "gateway").mkdir(parents=True)
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(PROCESSES)
    errors: multiprocessing.Queue[str] = context.Queue()
    processes = [
        context.Process(target=worker, args=(rounds, barrier, errors)) for _ in range(PROCESSES)
    ]
    for process in processes:
        process.start()
    for process in processes:
        process.join(timeout=600)
    failures = []
    while not errors.empty():
        failures.append(errors.get())
    assert failures == [], "\n".join(failures)
    assert [p.exitcode for p in processes] == [0] * PROCESSES
    for data_dir in rounds:
        with sqlite3.connect(data_dir / "catalogue.sqlite") as db:
            columns = {row[1] for row in db.execute("PRAGMA table_info(records)")}
            indices = {row[0] for row in db.execute("SELECT name FROM sqlite_master")}
        for field in property_columns():
            assert column(field) in columns
            assert f"ix_{column(field)}" in indices
