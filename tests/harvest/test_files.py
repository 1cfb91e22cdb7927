"""Listing harvests: local tree, nginx and Python autoindex, file index, S3 (moto); real SAFE and GeoTIFF files."""

from __future__ import annotations

from pathlib import Path

from everest_elearn.catalogue.service import Catalogue
from tests.fixtures.moto import MotoS3
from tests.harvest.conftest import RASTERS, SAFE, AgentFactory, product_ids
from tests.harvest.servers import archive_tree

S1A = "S1A_IW_GRDH_1SDV_20150222T170725_20150222T170750_004739_005DD8_CEAB"
S1B = "S1A_IW_GRDH_1SDV_20150222T170750_20150222T170815_004739_005DD8_3768"
PYROSAR = "S1A__IW___A_20150309T173017_VV_grd_mli_geo_norm_db"
EXPECTED = sorted([S1A, S1B, PYROSAR])
NO_TIME = 3  # the Sen1Floods11 chips carry no acquisition time in tags or names


async def _check(catalogue: Catalogue, report: object, link_prefix: str) -> None:
    assert report.state == "ok", report.error
    assert report.created == 3 and report.rejected == NO_TIME
    reasons = {p.reason for p in report.rejections}
    assert reasons == {
        "time: no acquisition time in the GeoTIFF tags (TIFFTAG_DATETIME, ACQUISITION_*) or in the file name"
    }
    assert await product_ids(catalogue, "s1") == EXPECTED
    safe = await catalogue.store.get(S1A)
    assert safe is not None
    props = safe.properties
    assert (props["platform"], props["platformSerialIdentifier"], props["productType"]) == (
        "Sentinel-1",
        "A",
        "GRD",
    )
    assert (props["orbitNumber"], props["track"], props["orbitDirection"]) == (
        4739,
        117,
        "ASCENDING",
    )
    assert (props["polarisationChannels"], props["sensorMode"]) == ("VV, VH", "IW")
    assert safe.start is not None and safe.start.isoformat().startswith("2015-02-22T17:07:25")
    assert safe.bbox is not None and round(safe.bbox[0], 4) == 8.5057
    assert safe.data_links[0].href.startswith(link_prefix) and safe.data_links[0].href.endswith(
        f"{S1A}.zip"
    )
    assert safe.extra["harvest"]["layout"] == f"Sentinel-1/GRD/2015-02-22/{S1A}"
    tif = await catalogue.store.get(PYROSAR)
    assert tif is not None and tif.extra["raster"]["crs"] == "EPSG:32631"
    assert tif.start is not None and tif.start.isoformat() == "2015-03-09T17:30:17+00:00"
    assert tif.bbox is not None and 4.48 < tif.bbox[0] < 4.49 and 43.57 < tif.bbox[1] < 43.58


LOCAL = """\
sources:
  - name: disk
    kind: local
    url: {url}
    into: s1
    base_url: https://data.example.org/archive/
    page_size: 2
"""


async def test_local_tree_with_safe_zips_and_geotiffs(
    tmp_path: Path, make_agent: AgentFactory, catalogue: Catalogue
) -> None:
    tree = archive_tree(tmp_path / "tree")
    report = await make_agent(LOCAL.format(url=tree)).run("disk")
    await _check(catalogue, report, "https://data.example.org/archive/S1/GRD/2015/02/")
    again = await make_agent(LOCAL.format(url=tree)).run("disk")
    # incremental by arrival time: only what is at the mark (>=) is read again
    assert again.created == 0 and again.received <= 1
    assert again.updated + again.rejected == again.received


async def test_local_safe_folder(
    tmp_path: Path, make_agent: AgentFactory, catalogue: Catalogue
) -> None:
    import zipfile

    with zipfile.ZipFile(SAFE / f"{S1A}.zip") as archive:
        archive.extractall(tmp_path / "unzipped")
    folder = tmp_path / "unzipped" / f"{S1A}.SAFE"
    (folder / "measurement" / "s1a-iw-grd-vv-0001.tiff").write_bytes(b"II*\x00")
    report = await make_agent(LOCAL.format(url=tmp_path / "unzipped")).run("disk")
    assert (report.state, report.created, report.rejected) == ("ok", 1, 0), report.rejections
    record = await catalogue.store.get(S1A)
    assert record is not None and record.properties["productType"] == "GRD"
    assert [link.href.rsplit("/", 1)[-1] for link in record.data_links] == [
        "s1a-iw-grd-vv-0001.tiff"
    ]


HTTP = """\
sources:
  - name: web
    kind: http
    url: {url}
    into: s1
    page_size: 2
"""


async def test_nginx_autoindex(
    nginx_tree: str, make_agent: AgentFactory, catalogue: Catalogue
) -> None:
    report = await make_agent(HTTP.format(url=nginx_tree)).run("web")
    await _check(catalogue, report, nginx_tree + "S1/GRD/2015/02/")


async def test_python_directory_listing_without_ranges(
    python_tree: str, make_agent: AgentFactory, catalogue: Catalogue
) -> None:
    report = await make_agent(HTTP.format(url=python_tree)).run("web")
    await _check(catalogue, report, python_tree + "S1/GRD/2015/02/")


async def test_a_file_index(
    nginx_tree: str, tmp_path: Path, make_agent: AgentFactory, catalogue: Catalogue
) -> None:
    lines = [
        f"S1/GRD/2015/02/{S1A}.zip,1754936,2015-02-22T22:38:00",
        "# a comment",
        f"rasters/{PYROSAR}.tif",
        "http://elsewhere.invalid/S1B_IW_GRDH_1SDV_20150222T170750_X.zip",  # not below the index
    ]
    (tmp_path / "www" / "index.txt").write_text("\n".join(lines) + "\n")
    report = await make_agent(HTTP.format(url=f"{nginx_tree}index.txt")).run("web")
    assert (report.state, report.created, report.rejected) == ("ok", 2, 0), report.error
    assert await product_ids(catalogue, "s1") == sorted([S1A, PYROSAR])


S3 = """\
sources:
  - name: bucket
    kind: s3
    url: s3://eo-archive/sentinel
    endpoint: {endpoint}
    credential: ARCHIVE_KEYS
    into: s1
    page_size: 2
    pattern: "*.zip"
"""


async def test_s3_bucket_listing(
    moto_s3: MotoS3, make_agent: AgentFactory, catalogue: Catalogue
) -> None:
    client = moto_s3.client()
    client.create_bucket(Bucket="eo-archive")  # type: ignore[attr-defined]
    for path in sorted(SAFE.glob("*.zip")):
        client.put_object(
            Bucket="eo-archive", Key=f"sentinel/S1/{path.name}", Body=path.read_bytes()
        )  # type: ignore[attr-defined]
    client.put_object(
        Bucket="eo-archive", Key="sentinel/S1/broken_S1A_IW_GRDH.zip", Body=b"PK not a zip"
    )  # type: ignore[attr-defined]
    client.put_object(
        Bucket="eo-archive",
        Key=f"sentinel/rasters/{PYROSAR}.tif",
        Body=(RASTERS / "pyrosar" / f"{PYROSAR}.tif").read_bytes(),
    )  # type: ignore[attr-defined]
    agent = make_agent(
        S3.format(endpoint=moto_s3.endpoint_url), environ={"ARCHIVE_KEYS": "testing:testing"}
    )
    report = await agent.run("bucket")
    assert report.state == "ok", report.error
    assert (
        report.created == 2 and report.rejected == 0
    )  # the pattern leaves out the GeoTIFF; the broken name is no SAFE name
    assert await product_ids(catalogue, "s1") == sorted([S1A, S1B])
    record = await catalogue.store.get(S1B)
    assert (
        record is not None and record.data_links[0].href == f"s3://eo-archive/sentinel/S1/{S1B}.zip"
    )
    client.put_object(
        Bucket="eo-archive",
        Key="sentinel/S1/S1A_IW_GRDH_1SDV_20150223T000000_X.zip",
        Body=b"PK\x03\x04 truncated",
    )  # type: ignore[attr-defined]
    second = await agent.run("bucket")
    assert (second.state, second.created, second.rejected) == ("ok", 0, 1)
    assert "zip" in second.rejections[0].reason


async def test_a_cloud_optimised_geotiff_is_read_by_ranges_over_http(
    nginx_tree: str, tmp_path: Path, make_agent: AgentFactory, catalogue: Catalogue
) -> None:
    import rasterio
    from rasterio.shutil import copy

    # The real Sen1Floods11 Sentinel-2 chip (13 bands) rewritten by GDAL's COG driver (tiles,
    # overviews, header first), named with the flood's date as providers name their files.
    name = "Spain_7370579_20190917_S2Hand_cog"
    cog = tmp_path / "www" / "cog" / f"{name}.tif"
    cog.parent.mkdir()
    copy(RASTERS / "sen1floods11" / "Spain_7370579_S2Hand.tif", cog, driver="COG", blocksize=128)
    with rasterio.open(cog) as dataset:
        assert dataset.profile["tiled"] and dataset.overviews(1)
    # A budget of two read blocks, far below the file's size: ranges, not the whole file.
    text = HTTP.format(url=f"{nginx_tree}cog/") + "    limits: {response_bytes: 600 KB}\n"
    report = await make_agent(text).run("web")
    assert (report.state, report.created, report.rejected) == ("ok", 1, 0), report.rejections
    assert cog.stat().st_size > 2_000_000
    record = await catalogue.store.get(name)
    assert record is not None and record.extra["raster"]["crs"] == "EPSG:4326"
    assert len(record.extra["raster"]["bands"]) == 13
    assert record.start is not None and record.start.isoformat() == "2019-09-17T00:00:00+00:00"
    assert record.data_links[0].href == f"{nginx_tree}cog/{name}.tif"


async def test_a_file_copied_in_with_an_old_time_is_still_new_to_the_next_run(
    tmp_path: Path, make_agent: AgentFactory, catalogue: Catalogue
) -> None:
    import os
    import shutil

    tree = tmp_path / "tree"
    (tree / "S1").mkdir(parents=True)
    first, second = sorted(SAFE.glob("*.zip"))
    shutil.copy2(first, tree / "S1" / first.name)
    agent = make_agent(LOCAL.format(url=tree))
    assert (await agent.run("disk")).created == 1
    # rsync -a, cp -p and wget -N keep the provider's modification time: here years in the past.
    arrived = tree / "S1" / second.name
    shutil.copy2(second, arrived)
    os.utime(arrived, (1_000_000_000, 1_000_000_000))
    report = await agent.run("disk")
    assert (report.state, report.created) == ("ok", 1), report.to_dict()
    assert await product_ids(catalogue, "s1") == sorted([S1A, S1B])


async def test_a_listing_cut_short_goes_on_after_the_last_stored_file(
    tmp_path: Path, make_agent: AgentFactory, catalogue: Catalogue
) -> None:
    tree = archive_tree(tmp_path / "tree")
    agent = make_agent(
        LOCAL.format(url=tree).replace("page_size: 2", "page_size: 1\n    limits: {pages: 1}")
    )
    reports = []
    for _ in range(10):
        reports.append(await agent.run("disk"))
        if reports[-1].state == "ok":
            break
    # one file per run, each run resuming after the last file stored: 3 products and 3 chips
    # without time, each read exactly once
    assert [r.state for r in reports] == ["limited"] * 5 + ["ok"]
    assert sum(r.created for r in reports) == 3 and sum(r.updated for r in reports) == 0
    assert sum(r.rejected for r in reports) == NO_TIME
    assert await product_ids(catalogue, "s1") == EXPECTED
