"""The parts a package build needs, on loopback: provider, catalogue, gateway cache, packages."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.fixtures.provider import Provider

from everest_elearn.catalogue.factory import create_store
from everest_elearn.catalogue.service import Catalogue
from everest_elearn.gateway.factory import build_gateway
from everest_elearn.gateway.service import Gateway
from everest_elearn.packages.backends.docker_ import DockerVolumes
from everest_elearn.packages.service import PackageService
from everest_elearn.security.identity import Identity, Role
from everest_elearn.settings import Settings

ADMIN = Identity("bench", frozenset({Role.ADMIN}))
MiB = 1024 * 1024


@dataclass
class Stack:
    provider: Provider
    catalogue: Catalogue
    gateway: Gateway
    packages: PackageService
    settings: Settings

    @property
    def cache_dir(self) -> Path:
        """Where the gateway keeps cached files (its local object store)."""
        return self.settings.data_dir / "gateway" / "store" / "objects"


@asynccontextmanager
async def stack(work: Path, host_access: bool = True, **settings: Any) -> AsyncIterator[Stack]:
    """Provider serving ``work/provider``, a gateway that caches everything, packages on Docker."""
    root = work / "provider"
    root.mkdir(parents=True, exist_ok=True)
    provider = Provider(root).start()
    rules = work / "rules.yaml"
    rules.write_text(
        f"sources:\n  - name: bench\n    url: {provider.url}/open/\n"
        "rules:\n  - name: cache\n    strategy: cache\n"
    )
    config = Settings(
        data_dir=work / "data",
        catalogue={"load_samples": False},
        gateway={"rules_file": rules},
        **settings,
    )
    store = create_store(config)
    await store.open()
    catalogue = Catalogue(store)
    gateway = build_gateway(config, {}, lookup=catalogue)
    await gateway.start()
    volumes = DockerVolumes.connect(host_access=host_access)
    packages = await PackageService.open(config, catalogue, gateway, volumes=volumes)
    try:
        yield Stack(provider, catalogue, gateway, packages, config)
    finally:
        for build in await packages.state.builds():
            await packages._delete(build.name, build.version)
        await packages.close()
        await gateway.close()
        await store.close()
        provider.stop()


def make_file(path: Path, size: int, seed: int) -> str:
    """``size`` bytes that do not compress or deduplicate; returns their SHA-256."""
    import hashlib

    path.parent.mkdir(parents=True, exist_ok=True)
    block = os.urandom(MiB)
    digest = hashlib.sha256()
    with path.open("wb") as handle:
        for i in range(size // MiB):
            piece = seed.to_bytes(4, "big") + i.to_bytes(4, "big") + block[8:]
            handle.write(piece)
            digest.update(piece)
    return digest.hexdigest()
