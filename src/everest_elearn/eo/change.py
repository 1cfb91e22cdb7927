"""Change detection between two SAR dates and scores of a binary map against a reference."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from everest_elearn.eo._arrays import like, values


def log_ratio(before: Any, after: Any) -> Any:
    """10 log10(after / before) in dB, from linear intensities: negative where it darkened."""
    b, a = values(before), values(after)
    ok = (a > 0) & (b > 0)
    out = np.full_like(a, np.nan)
    out[ok] = 10.0 * np.log10(a[ok] / b[ok])
    return like(out, after)


def difference_db(before_db: Any, after_db: Any) -> Any:
    """after - before in dB (the same as the log ratio of the linear values)."""
    return after_db - before_db


def new_water(water_before: Any, water_after: Any) -> Any:
    """Flood = water on the flood date that was not water on the reference date."""
    return water_after & ~water_before


@dataclass(frozen=True)
class Scores:
    """Agreement of a binary map with a reference, over the valid pixels."""

    true_positive: int
    false_positive: int
    false_negative: int
    true_negative: int

    @property
    def iou(self) -> float:
        union = self.true_positive + self.false_positive + self.false_negative
        return self.true_positive / union if union else 1.0

    @property
    def precision(self) -> float:
        found = self.true_positive + self.false_positive
        return self.true_positive / found if found else 1.0

    @property
    def recall(self) -> float:
        real = self.true_positive + self.false_negative
        return self.true_positive / real if real else 1.0

    @property
    def f1(self) -> float:
        """Harmonic mean of precision and recall: 2 TP / (2 TP + FP + FN)."""
        denominator = 2 * self.true_positive + self.false_positive + self.false_negative
        return 2 * self.true_positive / denominator if denominator else 1.0

    @property
    def accuracy(self) -> float:
        total = self.true_positive + self.false_positive + self.false_negative + self.true_negative
        return (self.true_positive + self.true_negative) / total if total else 1.0


def score(predicted: Any, reference: Any, valid: Any | None = None) -> Scores:
    """Confusion counts of ``predicted`` against ``reference`` (booleans) where ``valid``."""
    p = np.asarray(getattr(predicted, "values", predicted), dtype=bool)
    r = np.asarray(getattr(reference, "values", reference), dtype=bool)
    v = (
        np.ones_like(p)
        if valid is None
        else np.asarray(getattr(valid, "values", valid), dtype=bool)
    )
    return Scores(
        int((p & r & v).sum()), int((p & ~r & v).sum()),
        int((~p & r & v).sum()), int((~p & ~r & v).sum()),
    )  # fmt: skip
