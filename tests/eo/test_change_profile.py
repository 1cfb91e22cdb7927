"""Change detection, map scores and the reference-image choice on stacks with a known answer."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from everest_elearn.catalogue.factory import create_store
from everest_elearn.catalogue.opensearch.params import parse_request
from everest_elearn.catalogue.registry import Level
from everest_elearn.catalogue.service import Catalogue
from everest_elearn.eo.change import log_ratio, new_water, score
from everest_elearn.eo.course_data import course_products
from everest_elearn.eo.profile import choose_reference, matching_query, profile
from everest_elearn.errors import InvalidInput
from everest_elearn.security.identity import Identity, Role
from everest_elearn.settings import Settings


def test_log_ratio_and_new_water() -> None:
    assert log_ratio(np.array([0.1, 0.1, 0.0]), np.array([0.01, 0.1, 0.1]))[:2] == pytest.approx(
        [-10.0, 0.0]
    )
    before = np.array([True, False, False])
    after = np.array([True, True, False])
    assert new_water(before, after).tolist() == [False, True, False]


def test_scores_by_hand() -> None:
    s = score(
        np.array([1, 1, 0, 0, 1], bool),
        np.array([1, 0, 1, 0, 1], bool),
        np.array([1, 1, 1, 1, 0], bool),
    )
    assert (s.true_positive, s.false_positive, s.false_negative, s.true_negative) == (1, 1, 1, 1)
    assert (
        s.iou == pytest.approx(1 / 3)
        and s.precision == 0.5
        and s.recall == 0.5
        and s.accuracy == 0.5
        and s.f1 == 0.5
    )
    # F1 = 2 TP / (2 TP + FP + FN) = 2 IoU / (1 + IoU); nothing to find and nothing found is 1.
    t = score(np.array([1, 1, 1, 0], bool), np.array([1, 1, 0, 1], bool))
    assert t.f1 == pytest.approx(4 / 6) == pytest.approx(2 * t.iou / (1 + t.iou))
    assert score(np.zeros(3, bool), np.zeros(3, bool)).f1 == 1.0


def stack() -> tuple[np.ndarray, dict[str, np.ndarray], np.ndarray]:
    rng = np.random.default_rng(7)
    prone = np.zeros((60, 60), bool)
    prone[:, :25] = True

    def image(prone_db: float, stable_db: float) -> np.ndarray:
        return np.where(prone, prone_db, stable_db) + rng.normal(0, 1.0, prone.shape)

    flood = np.where(prone, -22.0, -9.0) + rng.normal(0, 1.0, prone.shape)
    candidates = {
        "wet": image(-15.0, -9.2),
        "dry": image(-8.5, -9.1),
        "frozen": image(-6.0, -13.0),  # driest-looking, but not comparable
        "flooded": image(-21.0, -8.8),
    }
    return flood, candidates, prone


def test_the_driest_comparable_date_is_chosen() -> None:
    flood, candidates, prone = stack()
    reference = profile(flood, prone, -16.0, "flood")
    assert reference.prone_water_fraction > 0.9
    profiles = [profile(img, prone, -16.0, name) for name, img in candidates.items()]
    choice = choose_reference(reference, profiles)
    assert choice.reference == "dry"
    assert choice.reasons["frozen"].startswith("left out")
    assert "chosen" in choice.reasons["dry"]


def test_no_comparable_candidate_is_an_error() -> None:
    flood, candidates, prone = stack()
    with pytest.raises(InvalidInput):
        choose_reference(
            profile(flood, prone, -16, "f"), [profile(candidates["frozen"], prone, -16, "x")]
        )
    with pytest.raises(InvalidInput):
        profile(flood, prone[:10], -16)


def test_matching_query_keeps_the_geometry() -> None:
    q = matching_query(
        {
            "productType": "GRD",
            "orbitDirection": "DESCENDING",
            "track": 6,
            "platform": "S1A",
        },
        "2014-10-01",
        "2015-01-10",
        (35.1, -16.9, 35.4, -16.6),
    )
    assert q == {
        "start": "2014-10-01",
        "end": "2015-01-10",
        "productType": "GRD",
        "orbitDirection": "DESCENDING",
        "track": "6",
        "box": "35.1,-16.9,35.4,-16.6",
    }


async def test_the_matching_query_finds_the_flood_images_geometry_in_the_catalogue(
    tmp_path: Path, fixtures: Path
) -> None:
    # The query runs through the catalogue's own OpenSearch parser and search: a parameter it does
    # not know would be ignored silently, so the track must be asked for by its OGC 13-026 name.
    products = course_products(tmp_path / "course", None, fixtures)
    settings = Settings(data_dir=tmp_path / "data", catalogue={"load_samples": False})
    store = create_store(settings)
    await store.open()
    admin = Identity("t", frozenset({Role.ADMIN}))
    try:
        catalogue = Catalogue(store)
        await catalogue.upsert(list({p.collection.identifier: p.collection for p in products}.values()), admin)  # fmt: skip
        await catalogue.upsert([p.record for p in products], admin)
        flood = next(
            p for p in products if p.record.identifier.startswith("S1A_IW_GRDH_1SDV_20150115")
        )
        ring = flood.record.geometry["coordinates"][0] if flood.record.geometry else []
        box = (min(x for x, _ in ring), min(y for _, y in ring), max(x for x, _ in ring), max(y for _, y in ring))  # fmt: skip

        async def found(properties: dict[str, object]) -> list[str]:
            query = matching_query(properties, "2014-10-01", "2015-01-14", box)
            request = parse_request({k: [v] for k, v in query.items()}, level=Level.PRODUCT,
                                    default_count=50, max_count=50)  # fmt: skip
            result = await catalogue.search(request.query, admin)
            return sorted(r.identifier[17:25] for r in result.records)

        same = await found(flood.record.properties)
        assert same == ["20141011", "20141023", "20141116", "20141128", "20141210", "20141222", "20150103"]  # fmt: skip
        other_track = {**flood.record.properties, "track": 99}
        assert await found(other_track) == []
    finally:
        await store.close()
