"""The spawn queue: at most N starts at once, first come first served, positions announced."""

from __future__ import annotations

import asyncio

from everest_elearn.hub.queue import SpawnQueue


async def test_waiters_hear_their_position_and_start_in_order() -> None:
    queue = SpawnQueue(2)
    heard: dict[str, list[int]] = {}
    order: list[str] = []
    release = asyncio.Event()

    async def spawn(name: str) -> None:
        async with queue.slot(lambda p: heard.setdefault(name, []).append(p)):
            order.append(name)
            await release.wait()

    tasks = [asyncio.create_task(spawn(n)) for n in ("a", "b", "c", "d")]
    await asyncio.sleep(0.05)
    assert order == ["a", "b"]
    assert heard == {"c": [1], "d": [2]}
    release.set()
    await asyncio.gather(*tasks)
    assert order == ["a", "b", "c", "d"]
    assert heard["d"] == [2, 1]
    assert queue.in_use == 0 and not queue.waiting


async def test_a_cancelled_waiter_leaves_the_queue() -> None:
    queue = SpawnQueue(1)
    gate = asyncio.Event()
    heard: list[int] = []

    async def hold() -> None:
        async with queue.slot(lambda p: None):
            await gate.wait()

    holder = asyncio.create_task(hold())
    await asyncio.sleep(0.01)
    first = asyncio.create_task(hold())
    second = asyncio.create_task(_wait(queue, heard))
    await asyncio.sleep(0.01)
    first.cancel()
    await asyncio.sleep(0.01)
    assert heard == [2, 1]
    gate.set()
    await asyncio.gather(holder, second, return_exceptions=True)
    assert queue.in_use == 0


async def _wait(queue: SpawnQueue, heard: list[int]) -> None:
    async with queue.slot(heard.append):
        pass
