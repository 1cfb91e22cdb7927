"""The bundled sample catalogue: loads cleanly, covers the course areas, rebuilds identically."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from everest_elearn.catalogue import samples
from everest_elearn.catalogue.factory import create_store
from everest_elearn.catalogue.ingest.service import ingest
from everest_elearn.catalogue.model import Kind
from everest_elearn.catalogue.query import Query
from everest_elearn.catalogue.samples import build
from everest_elearn.catalogue.service import Catalogue
from everest_elearn.security.identity import ANONYMOUS, Identity, Role
from everest_elearn.settings import Settings

FIXTURES = Path(__file__).resolve().parents[3] / "shared" / "fixtures"
ADMIN = Identity("admin", frozenset({Role.ADMIN}))
# Sen1Floods11 Spain chip (from its GeoTIFF tags) and the pyroSAR Camargue scene (UTM 31N).
CHIP = {
    "type": "Polygon",
    "coordinates": [
        [
            [-0.7819, 38.0828],
            [-0.7359, 38.0828],
            [-0.7359, 38.1288],
            [-0.7819, 38.1288],
            [-0.7819, 38.0828],
        ]
    ],
}
CAMARGUE = {
    "type": "Polygon",
    "coordinates": [[[4.48, 43.58], [4.55, 43.58], [4.55, 43.62], [4.48, 43.62], [4.48, 43.58]]],
}


@pytest.fixture
async def loaded(tmp_path: Path) -> AsyncIterator[tuple[Catalogue, object]]:
    store = create_store(Settings(data_dir=tmp_path))
    await store.open()
    catalogue = Catalogue(store)
    report = await ingest(catalogue, samples.documents(), ADMIN)
    try:
        yield catalogue, report
    finally:
        await store.close()


async def test_samples_load_without_a_single_rejection(loaded: tuple[Catalogue, object]) -> None:
    catalogue, report = loaded
    assert report.rejected == [] and report.warnings == [] and report.skipped == []  # type: ignore[attr-defined]
    assert report.created >= 202  # type: ignore[attr-defined]
    s1 = await catalogue.search(Query(parent="sentinel-1-grd", limit=0), ANONYMOUS)
    s2 = await catalogue.search(Query(parent="sentinel-2-l2a", limit=0), ANONYMOUS)
    assert s1.total >= 100 and s2.total >= 100 and s1.total + s2.total >= 200


async def test_collections_carry_band_definitions(loaded: tuple[Catalogue, object]) -> None:
    catalogue, _ = loaded
    s1 = await catalogue.get("sentinel-1-grd", ANONYMOUS)
    s2 = await catalogue.get("sentinel-2-l2a", ANONYMOUS)
    assert s1.kind is Kind.COLLECTION and s2.kind is Kind.COLLECTION
    assert set(s1.extra["stac"]["item_assets"]) == {"vv", "vh"}
    assert s1.extra["stac"]["summaries"]["sar:polarizations"] == ["VV", "VH"]
    assets = s2.extra["stac"]["item_assets"]
    assert {"B01", "B02", "B8A", "B11", "B12", "SCL"} <= set(assets)
    assert assets["B04"]["eo:bands"][0]["center_wavelength"] == pytest.approx(0.665)
    assert assets["B04"]["gsd"] == 10 and assets["B01"]["gsd"] == 60
    assert assets["SCL"]["classification:classes"][6]["name"] == "water"


async def test_the_flood_chip_has_its_sentinel_1_and_sentinel_2_scenes(
    loaded: tuple[Catalogue, object],
) -> None:
    catalogue, _ = loaded
    day = Query(
        parent="sentinel-1-grd",
        geometry=CHIP,
        time_start=datetime(2019, 9, 17, tzinfo=UTC),
        time_end=datetime(2019, 9, 18, tzinfo=UTC),
    )
    (s1,) = (await catalogue.search(day, ANONYMOUS)).records
    assert s1.properties["track"] == 110 and s1.properties["orbitDirection"] == "DESCENDING"
    assert s1.properties["polarisationChannels"] == "VV, VH"
    s2 = await catalogue.search(
        Query(
            parent="sentinel-2-l2a",
            geometry=CHIP,
            time_start=datetime(2019, 9, 18, tzinfo=UTC),
            time_end=datetime(2019, 9, 19, tzinfo=UTC),
        ),
        ANONYMOUS,
    )
    assert [r.identifier.split("_")[5] for r in s2.records] == ["T30SXH"]
    series = await catalogue.search(
        Query(parent="sentinel-1-grd", geometry=CHIP, limit=0), ANONYMOUS
    )
    assert series.total >= 20  # a time series for change detection


async def test_the_pyrosar_scene_and_the_real_safe_products(
    loaded: tuple[Catalogue, object],
) -> None:
    catalogue, _ = loaded
    found = await catalogue.search(
        Query(
            parent="sentinel-1-grd",
            geometry=CAMARGUE,
            time_start=datetime(2015, 3, 9, tzinfo=UTC),
            time_end=datetime(2015, 3, 10, tzinfo=UTC),
        ),
        ANONYMOUS,
    )
    (scene,) = found.records
    assert scene.identifier.startswith("S1A_IW_GRDH_1SDV_20150309T173017_")
    assert scene.properties["orbitDirection"] == "ASCENDING"
    for path in (FIXTURES / "safe").glob("*.zip"):
        real = await catalogue.get(path.stem, ANONYMOUS)
        assert real.properties["orbitNumber"] == 4739 and real.properties["track"] == 117
        assert real.properties["processingCenter"] == "DPA"


def test_the_build_is_deterministic(tmp_path: Path) -> None:
    counts = build.build(FIXTURES, tmp_path)
    assert sum(counts.values()) >= 200
    bundled = Path(samples.__file__).parent
    for name in samples.DATA_FILES:
        assert (tmp_path / name).read_bytes() == (bundled / name).read_bytes(), name


def test_data_links_can_be_rebased() -> None:
    _name, data = list(samples.documents("https://mirror.example.org/eo"))[1]
    assert b"https://mirror.example.org/eo/sentinel-1-grd/" in data
    assert samples.PLACEHOLDER_BASE.encode() not in data
