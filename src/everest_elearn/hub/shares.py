"""Results other users shared with this user, read from the packages registry (kind "share")."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from pathlib import Path

from everest_elearn.hub.plan import Mount
from everest_elearn.packages.state import BuildState, PackageState


def grants_for(username: str, groups: Iterable[str], course_ids: Iterable[str]) -> set[str]:
    """The grant strings a share must carry one of to reach this user."""
    groups = set(groups)
    mine = {f"user:{username}"} | {f"group:{g}" for g in groups} | {f"course:{g}" for g in groups}
    return mine | {f"course:{c}" for c in course_ids}


async def shared_with(
    registry: Path, username: str, groups: Iterable[str], course_ids: Iterable[str], root: str
) -> list[Mount]:
    """Ready shares granted to the user (not their own), each mounted read-only at root/<name>."""
    if not await asyncio.to_thread(registry.exists):
        return []
    state = PackageState(registry)
    try:
        builds = await state.builds("share")
    finally:
        await state.close()
    mine = grants_for(username, groups, course_ids)
    mounts = {}
    for build in builds:
        if build.state is not BuildState.READY or build.owner == username or not build.volume:
            continue
        if set((build.spec or {}).get("grant", [])) & mine:
            mounts[build.name] = Mount(build.volume, f"{root}/{build.name}", "ro", build.name)
    return list(mounts.values())
