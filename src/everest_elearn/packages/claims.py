"""Which package a volume belongs to: one volume name never serves two (name, version) pairs.

``volume_name`` joins name and version with '-', which both may contain, so ``foo-1`` 2 and ``foo``
1-2 share a name. The registry and the volume's labels keep the parts apart; existing volumes keep
their names.
"""

from __future__ import annotations

from everest_elearn.errors import Conflict
from everest_elearn.packages.records import Build
from everest_elearn.packages.state import PackageState
from everest_elearn.packages.volumes import LABEL_NAME, LABEL_VERSION, Volumes, check_owner


async def claim_volume(
    state: PackageState, volumes: Volumes, name: str, version: str, volume: str
) -> None:
    """Conflict when ``volume`` is the registry's or the engine's volume of another package."""
    for build in await state.builds():
        if build.volume == volume and (build.name, build.version) != (name, version):
            raise Conflict(
                f"package {name} {version} would use the volume {volume} of "
                f"{build.kind} {build.name} {build.version}; choose another name or version"
            )
    existing = await volumes.get(volume)
    if existing is not None:
        check_owner(existing, {LABEL_NAME: name, LABEL_VERSION: version})


async def owns_volume(volumes: Volumes, build: Build) -> bool:
    """False when ``build``'s volume is labelled for another package (never remove that one)."""
    existing = await volumes.get(build.volume)
    if existing is None:
        return False
    labels = {LABEL_NAME: build.name}
    if build.kind == "package":
        labels[LABEL_VERSION] = build.version
    try:
        check_owner(existing, labels)
    except Conflict:
        return False
    return True
