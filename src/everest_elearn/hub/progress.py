"""What a participant sees of a spawn: progress messages, failures in plain words, readiness."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import contextmanager
from typing import Any

import httpx


class SpawnFailed(Exception):
    """A spawn failure with a message meant for the participant (JupyterHub shows it as is)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.jupyterhub_message = message


IMAGE_MISSING = (
    "The software image {image!r} for your course is not installed on this server. "
    "Please tell the course manager."
)
ENGINE_REFUSED = (
    "Your server could not be started by the container engine. Please try again in a "
    "minute; if it keeps failing, tell the course manager."
)
LAB_SILENT = (
    "Your server started but JupyterLab did not answer in time. Please try again; "
    "if it keeps failing, tell the course manager."
)
PACKAGE_MISSING = "The data package {label!r} of your course is not available yet. Please tell the course manager."


class SpawnReport:
    """Progress events of one spawn (for the hub's progress page) and how long each step took."""

    def __init__(self, log: logging.Logger, username: str) -> None:
        self.log = log
        self.username = username
        self.events: list[dict[str, Any]] = []
        self.timings: dict[str, float] = {}

    def emit(self, progress: int, message: str) -> None:
        self.events.append({"progress": progress, "message": message})
        self.log.info("spawn %s: %s", self.username, message)

    @contextmanager
    def timed(self, step: str) -> Iterator[None]:
        """Record how long a spawn step took (logged once the spawn ends, read by the bench)."""
        began = time.perf_counter()
        try:
            yield
        finally:
            self.timings[step] = self.timings.get(step, 0.0) + time.perf_counter() - began

    def log_timings(self, outcome: str) -> None:
        steps = ", ".join(f"{k} {v:.2f}s" for k, v in self.timings.items())
        self.log.info("spawn timings of %s (%s): %s", self.username, outcome, steps)


async def follow(
    events: Callable[[], list[dict[str, Any]]], pending: Callable[[], bool]
) -> AsyncIterator[dict[str, Any]]:
    """Yield events as they come (read afresh each time: a new spawn starts a new list)."""
    seen = 0
    while True:
        current = events()
        while seen < len(current):
            yield current[seen]
            seen += 1
        if not pending() and seen >= len(events()):
            return
        await asyncio.sleep(0.25)


async def lab_answers(url: str, patience: float, interval: float) -> bool:
    """True once the server answers below 500; checks at a steady short interval, no backoff."""
    deadline = time.monotonic() + patience
    async with httpx.AsyncClient(timeout=5.0, follow_redirects=False) as client:
        while time.monotonic() < deadline:
            try:
                response = await client.get(url)
            except httpx.HTTPError:
                pass  # not listening yet
            else:
                if response.status_code < 500:
                    return True
            await asyncio.sleep(interval)
    return False
