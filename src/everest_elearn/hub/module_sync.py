"""Course modules brought into the user's home at each spawn, and which commit each user has."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from everest_elearn.hub.plan import SpawnPlan
from everest_elearn.modules.repository import ModuleRepository
from everest_elearn.modules.sync import ModuleSyncer

if TYPE_CHECKING:
    from everest_elearn.hub.spawner import EverestSpawner


def syncer(spawner: EverestSpawner) -> ModuleSyncer:
    return ModuleSyncer(ModuleRepository(Path(spawner.modules_dir)), spawner.modules_path)


async def bring_modules(spawner: EverestSpawner, plan: SpawnPlan) -> list[dict[str, Any]]:
    """Sync the course modules into the home; record which commit each user now has."""
    results = await spawner.syncer().sync(spawner, list(plan.modules))
    service = spawner.course_service() if spawner.courses_db else None
    for item in results:
        where = f"{item['course']}/{item['module']}"
        if "error" in item:
            spawner._emit(75, f"Module {where} is not available yet; the others are ready")
            continue
        kept = len(item.get("offered", []))
        note = (
            f"; {kept} file(s) you changed were kept, the new version is beside them"
            if kept
            else ""
        )
        spawner._emit(80, f"Module {where} is up to date{note}")
        if service is not None:
            await service.store.put_sync(
                spawner.user.name, item["course"], item["module"], item["commit"]
            )
    return results
