"""A built package's ODC datasets carry the catalogue's orbit, SAR and cloud properties under their
eo3/STAC names and are searchable by them; the real MERIS L1b subset (tie-point geocoding) is left
unindexed with its reason in the report and the manifest, and reads with the named reader."""

from __future__ import annotations

import json
import shutil
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import rasterio

from everest_elearn.eo.course_data import meris_product
from everest_elearn.eo.dimap import open_dimap
from everest_elearn.packages.backends.directory import DirectoryVolumes
from everest_elearn.packages.datacube import DatacubeIndex
from everest_elearn.packages.geocoding import TIE_POINTS
from everest_elearn.packages.manifest import MANIFEST_PATH
from everest_elearn.samples import SampleProduct, fixtures_dir, generate
from everest_elearn.security.identity import Identity, Role
from tests.fixtures.package_stack import package_service
from tests.fixtures.provider import Provider

pytestmark = pytest.mark.services
ADMIN = Identity("admin", frozenset({Role.ADMIN}))
ROOT = Path(__file__).resolve().parents[2]
# How a provider describes the two Sentinel-1 passes: different directions, tracks and frames.
ORBITS = (
    {"orbitDirection": "DESCENDING", "orbitNumber": 15290, "track": 79, "frame": 583},
    {"orbitDirection": "ASCENDING", "orbitNumber": 15476, "track": 6},
)


@dataclass
class Built:
    report: Any
    manifest: dict[str, Any]
    samples: list[SampleProduct]
    meris: SampleProduct
    dc: Any
    package_dir: Path


@pytest.fixture
async def built(tmp_path: Path, provider: Provider, odc_db_url: str) -> AsyncIterator[Built]:
    import datacube

    samples = generate(provider.root, base_url=f"{provider.url}/open")
    s1 = [s for s in samples if s.record.identifier.startswith("S1B_IW_GRDH")]
    for sample, orbit in zip(s1, ORBITS, strict=True):
        sample.record = sample.record.model_copy(
            update={"properties": {**sample.record.properties, **orbit}}
        )
    shutil.copytree(fixtures_dir(ROOT) / "meris", provider.root / "real" / "meris")
    meris = meris_product(provider.root / "real", f"{provider.url}/open/real")
    mount_root = tmp_path / "mnt"  # where the datasets' paths point: a link to the volume here
    products = [*samples, meris]
    source = ("provider", f"{provider.url}/open/")
    volumes = DirectoryVolumes(tmp_path / "volumes")
    datacube_settings = {"db_url": odc_db_url, "mount_root": str(mount_root)}
    async with package_service(
        tmp_path, source, products, volumes, ADMIN, strategy="pipe", datacube=datacube_settings
    ) as service:
        spec = {"name": "props", "version": "1", "licence": "CC-BY-4.0 (synthetic) and MIT (MERIS)",
                "max_size": "200 MB",
                "contents": [{"products": [p.record.identifier for p in products]}]}  # fmt: skip
        index = DatacubeIndex(odc_db_url)
        try:
            report = await service.build(spec, ADMIN)
            package_dir = tmp_path / "volumes" / report.volume
            mount_root.mkdir()
            (mount_root / "props").symlink_to(package_dir)
            manifest = json.loads((package_dir / MANIFEST_PATH).read_text())
            dc = datacube.Datacube(index=index._connect())
            yield Built(report, manifest, samples, meris, dc, package_dir)
        finally:
            await index.close()


def _ids(datasets: Any) -> set[str]:
    return {str(ds.id) for ds in datasets}


async def test_datasets_carry_and_are_searched_by_the_catalogue_properties(built: Built) -> None:
    dc, s1 = built.dc, [s for s in built.samples if s.record.identifier.startswith("S1B_")]
    assert built.report.state == "ready" and built.report.datasets == len(built.samples)
    labels = {ds.metadata_doc["label"]: ds for ds in dc.find_datasets(product="synthetic_s1_grd")}
    down, up = labels[s1[0].record.identifier], labels[s1[1].record.identifier]
    props = down.metadata_doc["properties"]
    assert (
        props["sat:orbit_state"] == "descending"
        and up.metadata_doc["properties"]["sat:orbit_state"] == "ascending"
    )
    assert props["sat:relative_orbit"] == 79 and isinstance(props["sat:relative_orbit"], int)
    assert props["sat:absolute_orbit"] == 15290 and isinstance(props["sat:absolute_orbit"], int)
    assert props["odc:region_code"] == "079583"  # track/frame, as ODC writes path/row
    assert up.metadata_doc["properties"]["odc:region_code"] == "006"
    assert props["eo:platform"] == "sentinel-1" and props["eo:instrument"] == "sar-c"
    assert props["sar:polarizations"] == ["VV", "VH"] and props["sar:instrument_mode"] == "IW"
    assert props["proj:epsg"] == 32736
    assert "eo:cloud_cover" not in props  # the record states none: nothing is invented

    # The metadata type's search fields: exactly the matching datasets.
    find = dc.find_datasets
    assert _ids(find(product="synthetic_s1_grd", orbit_state="descending")) == {str(down.id)}
    assert _ids(find(product="synthetic_s1_grd", orbit_state="ascending")) == {str(up.id)}
    assert _ids(find(product="synthetic_s1_grd", relative_orbit=6)) == {str(up.id)}
    assert _ids(find(product="synthetic_s1_grd", absolute_orbit=15290)) == {str(down.id)}
    assert _ids(find(product="synthetic_s1_grd", instrument_mode="IW")) == {
        str(down.id),
        str(up.id),
    }
    assert _ids(dc.index.datasets.search(platform="sentinel-1")) == {str(down.id), str(up.id)}
    assert _ids(dc.index.datasets.search(region_code="006")) == {str(up.id)}

    s2 = {s.record.identifier: s.record.properties["cloudCover"] for s in built.samples
          if s.collection.identifier == "synthetic-s2-l2a"}  # fmt: skip
    cover = {ds.metadata_doc["label"]: ds.metadata_doc["properties"]["eo:cloud_cover"]
             for ds in find(product="synthetic_s2_l2a")}  # fmt: skip
    assert cover == s2 and set(s2.values()) == {20.0}  # both synthetic scenes are 20 % cloud

    def labels_in(low: float, high: float) -> set[str]:
        found = find(product="synthetic_s2_l2a", cloud_cover=(low, high))  # a 2-tuple is a range
        return {ds.metadata_doc["label"] for ds in found}

    assert labels_in(19.5, 20.5) == set(s2)
    assert labels_in(0, 19.5) == set() and labels_in(20.5, 100) == set()

    # dc.load takes the same fields: one pass of the pair, equal to its file.
    data = dc.load(product="synthetic_s1_grd", orbit_state="ascending", measurements=["vv"],
                   output_crs="EPSG:32736", resolution=20)  # fmt: skip
    assert data.sizes["time"] == 1
    with rasterio.open(s1[1].files["vv"]) as src:
        np.testing.assert_array_equal(data.vv.values[0], src.read(1))


async def test_the_tie_point_geocoded_meris_product_is_reported_not_indexed(built: Built) -> None:
    files = [f for f in built.manifest["files"] if f["product"] == "MER_FRS_L1B_SUBSET"]
    assert len(files) == len(built.meris.record.data_links)
    assert {f["not_indexed"] for f in files} == {TIE_POINTS}
    assert all(
        f["not_indexed"] is None for f in built.manifest["files"] if f not in files
    )  # every other file's product is indexed
    dim = next(f["path"] for f in files if f["path"].endswith(".dim"))
    note = next(n for n in built.report.notes if "MER_FRS_L1B_SUBSET" in n)
    assert note == (
        f"{dim} and {len(files) - 1} more files of MER_FRS_L1B_SUBSET not indexed: "
        "tie-point geocoding, not a regular grid; read with everest_elearn.eo.dimap.open_dimap"
    )
    assert "meris_fr_l1b_dimap" not in [p.name for p in built.dc.index.products.get_all()]
    # The named reader opens the packaged product: the same radiances as the source product.
    ds = open_dimap(built.package_dir / dim, ["radiance_13"])
    source = open_dimap(fixtures_dir(ROOT) / "meris" / "MER_FRS_L1B_SUBSET.dim", ["radiance_13"])
    assert ds.radiance_13.shape == (184, 221)
    np.testing.assert_array_equal(ds.radiance_13.values, source.radiance_13.values)
