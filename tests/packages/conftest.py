"""The three volume backends the packages tests run on (a module may narrow them)."""

from __future__ import annotations

from pathlib import Path

import pytest

from everest_elearn.packages.backends.directory import DirectoryVolumes
from everest_elearn.packages.backends.docker_ import DockerVolumes
from everest_elearn.packages.volumes import Volumes


@pytest.fixture(
    params=[
        "directory",
        pytest.param("docker", marks=pytest.mark.docker),
        # The same engine reached only through its API, as a remote engine is.
        pytest.param("docker-api", marks=pytest.mark.docker),
    ]
)
def volumes(request: pytest.FixtureRequest, tmp_path: Path) -> Volumes:
    if request.param == "directory":
        return DirectoryVolumes(tmp_path / "volumes")
    return DockerVolumes.connect(host_access=request.param == "docker")
