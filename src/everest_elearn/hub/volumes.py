"""The spawn's volumes: package volumes must exist, the user's own are made and handed over.

What earlier servers already did to the user's volumes is kept in the hub's database (the
spawner's state), so that a returning user's spawn needs no exec at all for ownership.
"""

from __future__ import annotations

import shlex
from typing import TYPE_CHECKING, Any

import docker.errors

from everest_elearn.hub.plan import Mount, SpawnPlan
from everest_elearn.hub.progress import PACKAGE_MISSING, SpawnFailed

if TYPE_CHECKING:
    from everest_elearn.hub.spawner import EverestSpawner

OWNED_KEY = "everest_owned_volumes"
MOUNTED_KEY = "everest_mounted"


async def check_volumes(spawner: EverestSpawner, plan: SpawnPlan) -> None:
    """Make the user's missing volumes (noted as fresh); a missing package fails the spawn."""
    for mount in plan.mounts:
        try:
            await spawner.docker("inspect_volume", mount.source)
        except docker.errors.NotFound:
            if mount.mode == "ro":
                raise SpawnFailed(PACKAGE_MISSING.format(label=mount.label)) from None
            await spawner.docker("create_volume", name=mount.source, labels=mount.labels)
            # A new volume is root-owned (or has the image's owner): it needs its chown.
            spawner.prepared_volumes.discard(mount.source)
            spawner._fresh_volumes.add(mount.source)


def load_state(spawner: EverestSpawner, state: dict[str, Any]) -> None:
    spawner.prepared_volumes = set(state.get(OWNED_KEY, []))
    spawner.mounted_before = state.get(MOUNTED_KEY)


def save_state(spawner: EverestSpawner, state: dict[str, Any]) -> None:
    # Kept across stops on purpose (clear_state leaves them): they describe the volumes.
    state[OWNED_KEY] = sorted(spawner.prepared_volumes)
    if spawner.mounted_before is not None:
        state[MOUNTED_KEY] = spawner.mounted_before


def ownership_work(
    plan: SpawnPlan, prepared: set[str], fresh: set[str], before: list[str] | None
) -> tuple[list[Mount], bool]:
    """Writable mounts still to hand to the user, and whether stale mount points may exist."""
    chown = [m for m in plan.mounts if m.mode == "rw" and m.source not in prepared]
    home = [m for m in plan.mounts if m.target == "/home/jovyan"]
    home_fresh = not home or home[0].source in fresh
    now = {m.target for m in plan.mounts if m.mode == "ro"}
    stale = not home_fresh and (before is None or not set(before) <= now)
    return chown, stale


def ownership_script(chown: list[Mount], stale: bool, owner: str, roots: list[str]) -> str | None:
    """The shell command (run as root) doing the ownership work; None when there is none."""
    parts = []
    if chown:
        targets = " ".join(shlex.quote(m.target) for m in chown)
        # Look before changing: a volume someone else already handed over stays untouched.
        parts.append(
            f'for t in {targets}; do [ "$(stat -c %u:%g "$t")" = {owner} ] || chown {owner} "$t" || exit 1; done'
        )
    if stale:
        # Docker leaves the mount points of earlier servers in the home volume: empty folders
        # of packages or shares no longer granted would look like data that vanished. Remove
        # them (rmdir refuses anything not empty, and current mounts are busy).
        folders = " ".join(shlex.quote(p) for p in roots)
        parts.append(
            f'for d in {folders}; do [ -d "$d" ] && find "$d" -mindepth 1 -maxdepth 1 -type d -empty -exec rmdir {{}} + ; done 2>/dev/null; true'
        )
    return " && ".join(f"{{ {p}; }}" for p in parts) if parts else None


async def fix_ownership(spawner: EverestSpawner, plan: SpawnPlan) -> None:
    """Hand new writable volumes' top folder to the notebook user; clear stale mount points.

    Never recursive, and no exec at all when earlier servers already did it: a returning
    user's volumes keep their owner, and mount points only go stale when mounts go away.
    """
    chown, stale = spawner.ownership_work(plan)
    owner = f"{spawner.user_uid}:{spawner.user_gid}"
    script = ownership_script(chown, stale, owner, [spawner.packages_path, spawner.shared_path])
    if script is not None:
        await spawner.exec(["sh", "-c", script], user="0")
    spawner.prepared_volumes |= {m.source for m in chown}
    spawner.mounted_before = sorted(m.target for m in plan.mounts if m.mode == "ro")
