"""Indexes a built package in the Open Data Cube through ``packages/datacube.py``.

Each product's files are read where the volume shows on this host (its folder, or the Docker
volume's mount point when the engine runs here); otherwise the rasters are streamed out of the
volume into a temporary folder first (``Volumes.export``: one file at a time, never whole in
memory), since rasterio must open them to learn their grids.
"""

from __future__ import annotations

import asyncio
import shutil
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from uuid import UUID

from everest_elearn.catalogue.model import Record
from everest_elearn.errors import InvalidInput, NotFound
from everest_elearn.packages.geocoding import not_gridded
from everest_elearn.packages.manifest import Manifest
from everest_elearn.packages.plan import ProductCatalogue, file_name_of
from everest_elearn.packages.volumes import VolumeInfo, Volumes
from everest_elearn.security.identity import Identity

if TYPE_CHECKING:
    from everest_elearn.packages.datacube import DatacubeIndex


@dataclass
class IndexOutcome:
    datasets: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    # Path in the package -> why its product has no ODC dataset (kept in the manifest).
    unindexed: dict[str, str] = field(default_factory=dict)
    # Documents (and locations) of datasets this build changed, as they were before.
    replaced: list[tuple[dict[str, Any], str]] = field(default_factory=list)

    def leave_out(
        self, product: str, files: Mapping[str, str], reason: str, header: str | None = None
    ) -> None:
        """Record ``product``'s files as not indexed; the report names its ``header`` file."""
        self.unindexed.update(dict.fromkeys(files.values(), reason))
        what = product
        if header is not None:
            more = len(files) - 1
            what = header + (f" and {more} more files of {product}" if more > 0 else "")
        self.notes.append(f"{what} not indexed: {reason}")


def asset_key(link_title: str | None, file_name: str) -> str:
    """The asset a file holds: the link's title (STAC asset key), else the name without suffix."""
    return link_title or file_name.rpartition(".")[0] or file_name


def _unlink_all(paths: Iterable[Path]) -> None:
    for path in paths:
        path.unlink(missing_ok=True)


class OdcPackageIndex:
    """The builder's ``PackageIndex`` over a ``DatacubeIndex``; datasets point at the mount root."""

    def __init__(
        self,
        index: DatacubeIndex,
        catalogue: ProductCatalogue,
        volumes: Volumes,
        mount_root: str,
    ) -> None:
        self.index = index
        self.catalogue = catalogue
        self.volumes = volumes
        self.mount_root = mount_root

    async def add(
        self,
        manifest: Manifest,
        records: Sequence[Record],
        volume: VolumeInfo,
        identity: Identity,
    ) -> IndexOutcome:
        outcome = IndexOutcome()
        paths: dict[str, dict[str, str]] = {}
        for entry in manifest.files:
            paths.setdefault(entry.product, {})[entry.file_name] = entry.path
        local = await self.volumes.local_path(volume.name)
        scratch: Path | None = None
        try:
            if local is None:
                scratch = Path(await asyncio.to_thread(tempfile.mkdtemp, prefix="everest-index-"))
                local = scratch
            collections: dict[str, Record | None] = {}
            for record in records:
                parent = record.parent_identifier or ""
                if parent not in collections:
                    collections[parent] = await self._collection(parent, identity, outcome)
                collection = collections[parent]
                files = paths.get(record.identifier, {})
                if collection is None:
                    outcome.unindexed.update(dict.fromkeys(files.values(), "collection unknown"))
                    continue
                assets: dict[str, Path] = {}
                for link in record.data_links:
                    path = files.get(file_name_of(link))
                    if path is not None:
                        assets[asset_key(link.title, file_name_of(link))] = local / path
                if scratch is not None:
                    wanted = [p.relative_to(scratch).as_posix() for p in assets.values()]
                    await self.volumes.export(volume.name, wanted, scratch)
                try:
                    irregular = await asyncio.to_thread(not_gridded, assets.values())
                    if irregular is not None:
                        header, reason = irregular
                        shown = header.relative_to(local).as_posix()
                        outcome.leave_out(record.identifier, files, reason, header=shown)
                        continue
                    await self.index.ensure_product(collection)
                    dataset = await self.index.index_record(
                        collection,
                        record,
                        assets,
                        package=manifest.name,
                        package_dir=local,
                        mount_root=self.mount_root,
                        replaced=outcome.replaced,
                    )
                except InvalidInput as exc:
                    # A product whose files do not make a dataset (bands left out by the spec,
                    # not rasters) stays in the package, readable as files, and the report says so.
                    outcome.leave_out(record.identifier, files, str(exc))
                    continue
                finally:
                    if scratch is not None:  # one product's copies at a time on this disk
                        await asyncio.to_thread(_unlink_all, assets.values())
                outcome.datasets.append(str(dataset))
        finally:
            if scratch is not None:
                await asyncio.to_thread(shutil.rmtree, scratch, ignore_errors=True)
        return outcome

    async def _collection(
        self, identifier: str, identity: Identity, outcome: IndexOutcome
    ) -> Record | None:
        try:
            return await self.catalogue.get(identifier, identity)
        except NotFound:
            outcome.notes.append(f"collection {identifier!r} unknown: its products are not indexed")
            return None

    async def remove(self, dataset_ids: Sequence[str]) -> None:
        await self.index.remove_datasets(UUID(i) for i in dataset_ids)

    async def reinstate(self, documents: Sequence[tuple[dict[str, Any], str]]) -> None:
        await self.index.reinstate(documents)
