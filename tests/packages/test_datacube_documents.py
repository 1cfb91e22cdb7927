"""ODC documents from catalogue records: product definitions and eo3 dataset documents."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from everest_elearn.catalogue.ingest.stac import item
from everest_elearn.catalogue.model import Kind, Record
from everest_elearn.errors import InvalidInput
from everest_elearn.packages.odc_documents import (
    bands_of,
    dataset_document,
    odc_name,
    product_definition,
)
from everest_elearn.packages.odc_properties import eo3_properties
from everest_elearn.samples import SampleProduct, generate, real_products
from everest_elearn.samples.products import S1

FIXTURES = Path(__file__).resolve().parents[2].parent / "shared" / "fixtures"


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[SampleProduct]]:
    root = tmp_path_factory.mktemp("pkg") / "demo"
    return root, generate(root)


def test_product_definition_from_project_bands() -> None:
    doc = product_definition(S1)
    assert doc["name"] == "synthetic_s1_grd"
    assert doc["metadata_type"] == "eo3_everest"
    names = [m["name"] for m in doc["measurements"]]
    assert names == ["vv", "vh", "vv_db", "vh_db", "water_truth"]
    vv = doc["measurements"][0]
    assert vv == {
        "name": "vv",
        "dtype": "float32",
        "nodata": "NaN",
        "units": "1",
        "aliases": ["VV"],
    }
    json.dumps(doc, allow_nan=False)  # storable as JSONB: no bare NaN


def test_bands_from_real_stac_item_assets() -> None:
    stac = json.loads(
        (FIXTURES / "catalogue/stac/odc-stac-sentinel-2-l2a.collection.json").read_text()
    )
    coll = Record(
        identifier="sentinel-2-l2a",
        kind=Kind.COLLECTION,
        extra={"item_assets": stac["item_assets"]},
    )
    bands = {b.name: b for b in bands_of(coll)}
    assert bands["B02"].dtype == "uint16"
    assert bands["B02"].nodata == 0
    assert "blue" in bands["B02"].aliases
    assert bands["B04"].asset_key == "B04"  # the single-band file wins over the RGB "visual"
    assert all(b.asset_key == b.name or b.asset_key in stac["item_assets"] for b in bands.values())


def test_bands_refused_with_reason() -> None:
    empty = Record(identifier="c1", kind=Kind.COLLECTION)
    with pytest.raises(InvalidInput, match="no band definitions"):
        bands_of(empty)
    bad = Record(
        identifier="c2", kind=Kind.COLLECTION, extra={"bands": [{"name": "x", "dtype": "cint16"}]}
    )
    with pytest.raises(InvalidInput, match=r"c2: bands\[0\].*cint16"):
        bands_of(bad)
    twice = Record(identifier="c3", kind=Kind.COLLECTION, extra={"bands": ["a-b", "a_b"]})
    with pytest.raises(InvalidInput, match="repeat"):
        bands_of(twice)
    assert odc_name("sentinel-2-l2a") == "sentinel_2_l2a"


def test_dataset_document_reads_grid_from_files(
    synthetic: tuple[Path, list[SampleProduct]],
) -> None:
    root, products = synthetic
    after = products[1]
    doc, location = dataset_document(
        after.collection,
        after.record,
        after.files,
        package="demo",
        package_dir=root,
        mount_root="/home/jovyan/data",
    )
    assert doc["crs"] == "epsg:32736"
    assert doc["grids"]["default"]["shape"] == [256, 256]
    assert doc["grids"]["default"]["transform"][:6] == [20.0, 0.0, 700000.0, 0.0, -20.0, 8172000.0]
    assert location.startswith("file:///home/jovyan/data/demo/sentinel-1/GRD/2019-03-14/")
    assert doc["measurements"]["vv"]["path"] == f"{after.record.identifier}_vv.tif"
    assert doc["properties"]["datetime"].startswith("2019-03-14T03:45:00")
    # Same inputs, same id: rebuilding a package does not duplicate datasets.
    again, _ = dataset_document(
        after.collection,
        after.record,
        after.files,
        package="demo",
        package_dir=root,
        mount_root="/m",
    )
    assert again["id"] == doc["id"]


def test_dataset_document_multiband_real_file() -> None:
    s1 = real_products(FIXTURES)[0]
    doc, location = dataset_document(
        s1.collection, s1.record, s1.files, package="real", package_dir=FIXTURES, mount_root="/data"
    )
    assert doc["crs"] == "epsg:4326"
    assert doc["measurements"]["vv_db"] == {"path": "Spain_7370579_S1Hand.tif", "band": 1}
    assert doc["measurements"]["vh_db"]["band"] == 2
    assert (
        location == "file:///data/real/rasters/sen1floods11/Spain_7370579_S1Hand.odc-metadata.yaml"
    )


def test_dataset_document_refuses_files_outside_package(
    synthetic: tuple[Path, list[SampleProduct]], tmp_path: Path
) -> None:
    _, products = synthetic
    with pytest.raises(InvalidInput, match="not inside the package"):
        dataset_document(
            products[0].collection, products[0].record, products[0].files,
            package="x", package_dir=tmp_path, mount_root="/m",
        )  # fmt: skip
    missing = {k: v for k, v in products[0].files.items() if k != "vh"}
    with pytest.raises(InvalidInput, match="no file for band 'vh'"):
        dataset_document(
            products[0].collection, products[0].record, missing,
            package="x", package_dir=products[0].files["vv"].parents[4], mount_root="/m",
        )  # fmt: skip


def test_eo3_properties_from_real_stac_items() -> None:
    coll = Record(identifier="s2", kind=Kind.COLLECTION)
    stac = FIXTURES / "catalogue/stac"
    name = "odc-stac-S2B_MSIL2A_20190629T212529_R043_T06VVN_20201006T080531.json"
    obj = json.loads((stac / name).read_text())
    s2b = eo3_properties(coll, item(obj, parent="s2")[0], "epsg:32606")
    assert s2b == {
        "eo:platform": "sentinel-2b", "eo:instrument": "msi", "eo:cloud_cover": 0.314306,
        "sat:orbit_state": "descending", "sat:relative_orbit": 43,
        "odc:region_code": "06VVN", "proj:epsg": 32606,
    }  # fmt: skip
    obj = json.loads((stac / "odc-stac-S2A_28QCH_20200714_0_L2A.json").read_text())
    s2a = eo3_properties(coll, item(obj, parent="s2")[0], "epsg:32628")
    # No tile id, track or orbit in this item: none is made up.
    assert s2a == {"eo:platform": "sentinel-2a", "eo:instrument": "msi",
                   "eo:cloud_cover": 2.36, "proj:epsg": 32628}  # fmt: skip


def test_eo3_properties_types_and_what_is_left_out() -> None:
    coll = Record(
        identifier="s1",
        kind=Kind.COLLECTION,
        properties={"platform": "Sentinel-1", "sensorType": "RADAR", "sensorMode": "IW"},
    )
    rec = Record(
        identifier="p",
        parent_identifier="s1",
        properties={"platformSerialIdentifier": "A", "orbitNumber": "15290", "track": 110.0,
                    "orbitDirection": "ASCENDING", "polarisationChannels": "VV, VH",
                    "processingDate": "2019-09-17T08:00:00Z"},
    )  # fmt: skip
    props = eo3_properties(coll, rec, "PROJCS[...]")
    assert props == {
        "eo:platform": "sentinel-1a", "sat:absolute_orbit": 15290, "sat:relative_orbit": 110,
        "sat:orbit_state": "ascending", "sar:polarizations": ["VV", "VH"],
        "sar:instrument_mode": "IW", "odc:processing_datetime": "2019-09-17T08:00:00+00:00",
        "odc:region_code": "110",
    }  # fmt: skip
    assert all(type(props[k]) is int for k in ("sat:absolute_orbit", "sat:relative_orbit"))
    odd = Record(
        identifier="q",
        parent_identifier="s2",
        properties={"orbitDirection": "sideways", "track": 4.5, "sensorMode": "INS-NOBS",
                    "platform": "Sentinel-2", "platformSerialIdentifier": "S2A"},
    )  # fmt: skip
    assert eo3_properties(Record(identifier="s2", kind=Kind.COLLECTION), odd, "epsg:4326") == {
        "eo:platform": "sentinel-2", "proj:epsg": 4326,
    }  # fmt: skip
