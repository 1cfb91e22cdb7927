"""Change detection, map scores and the reference-image choice on stacks with a known answer."""

from __future__ import annotations

import numpy as np
import pytest

from everest_elearn.eo.change import log_ratio, new_water, score
from everest_elearn.eo.profile import choose_reference, matching_query, profile
from everest_elearn.errors import InvalidInput


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
            "relativeOrbitNumber": 6,
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
        "relativeOrbitNumber": "6",
        "box": "35.1,-16.9,35.4,-16.6",
    }
