"""Versions of one package share their ODC dataset ids (``odc_documents.dataset_id``): a failed
build must not take out entries a ready version lists, and a new ready version supersedes the old.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from everest_elearn.packages.state import BuildState, PackageState

if TYPE_CHECKING:
    from everest_elearn.packages.builder import BuildReport, PackageIndex


async def listed_elsewhere(state: PackageState, name: str, version: str) -> set[str]:
    """Dataset ids that ready builds other than ``name`` ``version`` list (any package)."""
    return {
        dataset
        for build in await state.builds()
        if build.state is BuildState.READY and (build.name, build.version) != (name, version)
        for dataset in build.datasets
    }


async def release(
    state: PackageState,
    index: PackageIndex,
    name: str,
    version: str,
    datasets: list[str],
    replaced: list[tuple[dict[str, Any], str]],
) -> None:
    """A failed or cancelled build's entries leave the index, except those another ready build
    lists (its earlier version indexed the same ids: they stay loadable, with the documents they
    had before this build updated them)."""
    kept = await listed_elsewhere(state, name, version)
    orphans = [d for d in datasets if d not in kept]
    if orphans:
        await index.remove(orphans)
    back = [(doc, location) for doc, location in replaced if str(doc.get("id")) in kept]
    if back:
        await index.reinstate(back)


async def supersede(
    state: PackageState,
    index: PackageIndex | None,
    name: str,
    version: str,
    datasets: list[str],
    report: BuildReport,
) -> None:
    """Older ready versions keep their volume (still mounted by running servers) but leave the
    index, so ``dc.load`` sees one version of each dataset."""
    for other in await state.builds("package"):
        if other.name != name or other.version == version or other.state is not BuildState.READY:
            continue
        # Dataset ids are stable per package and product, so versions share them.
        stale = [d for d in other.datasets if d not in datasets]
        if stale and index is not None:
            await index.remove(stale)
        note = f"superseded by {version}: volume kept, index entries removed"
        await state.update(name, other.version, datasets=[], notes=[*other.notes, note])
        report.notes.append(f"{other.version} superseded (volume kept until deleted)")
