"""A fair queue in front of container starts: at most N at once, the rest told their position."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager


class SpawnQueue:
    """First come, first served; waiters hear their position whenever it changes."""

    def __init__(self, slots: int) -> None:
        self.slots = slots
        self.in_use = 0
        self.waiting: list[asyncio.Future[None]] = []
        self.listeners: dict[asyncio.Future[None], Callable[[int], None]] = {}

    def message(self, position: int) -> str:
        return (
            f"Many people are starting at once: you are number {position} in the queue. "
            "Your server starts as soon as a place is free; no need to reload."
        )

    def _announce(self) -> None:
        for position, waiter in enumerate(self.waiting, start=1):
            self.listeners[waiter](position)

    @asynccontextmanager
    async def slot(self, on_position: Callable[[int], None]) -> AsyncIterator[None]:
        if self.in_use >= self.slots or self.waiting:
            waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
            self.waiting.append(waiter)
            self.listeners[waiter] = on_position
            on_position(len(self.waiting))
            try:
                await waiter
            except BaseException:
                if waiter in self.waiting:
                    self.waiting.remove(waiter)
                    self.listeners.pop(waiter, None)
                    self._announce()
                elif waiter.done() and not waiter.cancelled():
                    # We were handed a slot while being cancelled: pass it on.
                    self._release()
                raise
        else:
            self.in_use += 1
        try:
            yield
        finally:
            self._release()

    def _release(self) -> None:
        if self.waiting:
            waiter = self.waiting.pop(0)
            self.listeners.pop(waiter, None)
            waiter.set_result(None)  # the slot passes straight to the next in line
            self._announce()
        else:
            self.in_use -= 1
