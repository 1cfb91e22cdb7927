"""Volume backends, chosen by name from settings: ``docker`` (engine) or ``directory`` (embedded)."""

from __future__ import annotations

import logging
from pathlib import Path

from everest_elearn.errors import BackendUnavailable
from everest_elearn.packages.backends.directory import DirectoryVolumes
from everest_elearn.packages.volumes import Volumes
from everest_elearn.settings import Settings

log = logging.getLogger(__name__)


def directory_root(settings: Settings) -> Path:
    return settings.packages.directory or settings.data_dir / "volumes"


def open_volumes(settings: Settings) -> Volumes:
    """The configured backend; ``auto`` falls back to directories and logs why."""
    choice = settings.packages.volumes
    if choice == "directory":
        return DirectoryVolumes(directory_root(settings), "configured")
    try:
        from everest_elearn.packages.backends.docker_ import DockerVolumes

        return DockerVolumes.connect(
            settings.packages.docker_url, host_access=settings.packages.host_access
        )
    except (BackendUnavailable, ImportError) as exc:
        if choice == "docker":
            raise BackendUnavailable("docker engine") from exc
        volumes = DirectoryVolumes(directory_root(settings), "no Docker engine reachable")
        log.warning("packages: %s", volumes.describe())
        return volumes
