"""Before a build: how many files and bytes, and how much the gateway already holds."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Protocol, runtime_checkable

from everest_elearn.catalogue.model import Record
from everest_elearn.errors import EverestError
from everest_elearn.packages.plan import Plan, PlannedFile
from everest_elearn.packages.spec import format_size
from everest_elearn.security.identity import Identity


@runtime_checkable
class StoredLookup(Protocol):
    """A gateway that can tell whether a file is complete in its object store, and why."""

    async def stored(self, product: Record, file_name: str) -> str | None:
        """ "cache" or "mirror" when the file is held, None when it would come from upstream."""


@dataclass
class Estimate:
    name: str
    version: str
    products: int
    files: int
    bytes: int
    # Files whose size the catalogue does not know (counted as 0 bytes above).
    unknown_sizes: int
    # Bytes and files the gateway already holds, by strategy ("cache", "mirror").
    stored_bytes: dict[str, int] = field(default_factory=dict)
    stored_files: dict[str, int] = field(default_factory=dict)
    # False when the gateway cannot say what it holds.
    stored_known: bool = True
    max_size: int = 0

    @property
    def upstream_bytes(self) -> int:
        return self.bytes - sum(self.stored_bytes.values())

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["upstream_bytes"] = self.upstream_bytes if self.stored_known else None
        return data

    def summary(self) -> str:
        held = (
            ", ".join(f"{format_size(b)} in {k}" for k, b in sorted(self.stored_bytes.items()))
            or "nothing"
        )
        unknown = f" (+{self.unknown_sizes} files of unknown size)" if self.unknown_sizes else ""
        stored = (
            f"already held by the gateway: {held}"
            if self.stored_known
            else "gateway holdings unknown"
        )
        return (
            f"{self.name} {self.version}: {self.products} products, {self.files} files, "
            f"{format_size(self.bytes)}{unknown}; {stored}"
        )


async def _held(gateway: object, planned: PlannedFile, identity: Identity) -> str | None:
    if isinstance(gateway, StoredLookup):
        return await gateway.stored(planned.record, planned.file_name)
    from everest_elearn.gateway.delivery import Strategy
    from everest_elearn.gateway.service import Gateway

    assert isinstance(gateway, Gateway)
    try:
        plan = gateway.plan(planned.record, planned.file_name, identity)
    except EverestError:
        return None  # the build would fail on it too; the estimate only counts holdings
    wanted = (planned.link.checksum or "").lower()
    for strategy in (Strategy.MIRROR, Strategy.CACHE):
        found = await gateway.store.stat(plan.key(strategy))
        if found is None:
            continue
        if wanted.startswith("sha256:") and found.meta.get("sha256") != wanted[7:]:
            continue  # a stale copy: the gateway would fetch anew
        return strategy.value
    return None


def _knows_holdings(gateway: object) -> bool:
    from everest_elearn.gateway.service import Gateway

    return isinstance(gateway, (StoredLookup, Gateway))


async def estimate(plan: Plan, gateway: object, identity: Identity) -> Estimate:
    """Counts from the catalogue's link lengths; holdings from the gateway's object store."""
    result = Estimate(
        name=plan.spec.name,
        version=plan.spec.version,
        products=len(plan.records),
        files=len(plan.files),
        bytes=plan.known_bytes,
        unknown_sizes=plan.unknown_sizes,
        max_size=plan.spec.max_size,
        stored_known=_knows_holdings(gateway),
    )
    if result.stored_known:
        for planned in plan.files:
            where = await _held(gateway, planned, identity)
            if where:
                result.stored_files[where] = result.stored_files.get(where, 0) + 1
                result.stored_bytes[where] = result.stored_bytes.get(where, 0) + (planned.size or 0)
    return result
