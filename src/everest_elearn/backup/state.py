"""The platform-state part: SQLite stores (consistent online copies), configuration files and
the module repositories, found where the settings put them."""

from __future__ import annotations

import os
import shutil
import sqlite3
import tarfile
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from everest_elearn.gateway.factory import rules_path
from everest_elearn.settings import Settings


@dataclass(frozen=True)
class StateItem:
    """One piece of state: its name in the backup, where it lives, and how it is copied."""

    name: str
    path: Path
    kind: Literal["sqlite", "file", "folder"]


def state_items(settings: Settings) -> list[StateItem]:
    """Everything under the platform's own control that a rebuild cannot bring back."""
    data = settings.data_dir
    hub_state = settings.hub.state_dir or data / "hub"
    return [
        StateItem(
            "packages.sqlite", settings.packages.state_path or data / "packages.sqlite", "sqlite"
        ),
        StateItem(
            "harvest.sqlite", settings.harvest.state_path or data / "harvest.sqlite", "sqlite"
        ),
        StateItem("courses.sqlite", settings.hub.courses_db or data / "courses.sqlite", "sqlite"),
        StateItem("jupyterhub.sqlite", hub_state / "jupyterhub.sqlite", "sqlite"),
        StateItem("jupyterhub_cookie_secret", hub_state / "jupyterhub_cookie_secret", "file"),
        StateItem("gateway-rules.yaml", rules_path(settings), "file"),
        StateItem(
            "harvest-sources.yaml",
            settings.harvest.sources_file or data / "harvest-sources.yaml",
            "file",
        ),
        StateItem("modules.tar", settings.hub.modules_dir or data / "modules", "folder"),
    ]


def copy_out(item: StateItem, target: Path) -> bool:
    """Copy ``item`` to ``target``; False when it does not exist (nothing made yet)."""
    if item.kind == "folder":
        if not item.path.is_dir():
            return False
        with tarfile.open(target, "w") as archive:
            archive.add(item.path, arcname=".")
        return True
    if not item.path.is_file():
        return False
    if item.kind == "sqlite":
        # The online backup API: a consistent snapshot even while a service writes to it.
        source = sqlite3.connect(f"file:{item.path}?mode=ro", uri=True)
        try:
            copy = sqlite3.connect(target)
            with copy:
                source.backup(copy)
            copy.close()
        finally:
            source.close()
        return True
    shutil.copy2(item.path, target)
    return True


def copy_in(item: StateItem, source: Path) -> None:
    """Put a backed-up copy in place atomically (services must be stopped)."""
    item.path.parent.mkdir(parents=True, exist_ok=True)
    if item.kind == "folder":
        staging = item.path.with_name(f".{item.path.name}.restoring")
        shutil.rmtree(staging, ignore_errors=True)
        staging.mkdir()
        with tarfile.open(source) as archive:
            archive.extractall(staging, filter="data")
        old = item.path.with_name(f".{item.path.name}.old")
        shutil.rmtree(old, ignore_errors=True)
        if item.path.exists():
            os.replace(item.path, old)
        os.replace(staging, item.path)
        shutil.rmtree(old, ignore_errors=True)
        return
    temp = item.path.with_name(f".{item.path.name}.restoring")
    shutil.copy2(source, temp)
    if item.kind == "sqlite":
        # A journal left beside the old file would be replayed onto the restored one.
        for suffix in ("-wal", "-shm", "-journal"):
            Path(f"{item.path}{suffix}").unlink(missing_ok=True)
    os.replace(temp, item.path)
