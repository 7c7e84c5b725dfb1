"""Confidence calibration: a monotone map from a verdict's raw probability to P(right).

Two maps, chosen by ``factcheck calibrate`` on data held apart from the fit:

    platt     P = sigmoid(a * logit(raw) + b): two numbers, smooth, transfers well
    isotonic  a non-decreasing step function (pool-adjacent-violators), interpolated

Either is fitted per basis (the verdict read from evidence, or from the model's knowledge
alone), and its output is kept inside [FLOOR, 1 - FLOOR]: a 1.5B model is never certain,
and "1.00" on a screen would be read as certainty. Applying a map needs no fitting library.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from collections.abc import Sequence
from typing import Literal

from pydantic import BaseModel, ConfigDict, model_validator

FLOOR = 0.01  # no printed confidence below 0.01 or above 0.99


def _logit(p: float) -> float:
    p = min(max(p, 1e-6), 1 - 1e-6)
    return math.log(p / (1 - p))


def _bounded(p: float) -> float:
    return FLOOR + (1 - 2 * FLOOR) * min(max(p, 0.0), 1.0)


class ConfidenceMap(BaseModel):
    model_config = ConfigDict(extra="forbid")

    method: Literal["platt", "isotonic"] = "platt"
    a: float = 1.0  # platt
    b: float = 0.0
    x: list[float] = []  # isotonic
    y: list[float] = []

    @model_validator(mode="after")
    def _check(self) -> ConfidenceMap:
        if self.method == "isotonic":
            if not self.x or len(self.x) != len(self.y):
                raise ValueError("isotonic: x and y must be non-empty lists of equal length")
            if any(b < a for a, b in zip(self.x, self.x[1:])) or any(b < a for a, b in zip(self.y, self.y[1:])):
                raise ValueError("isotonic: x and y must be non-decreasing")
        elif self.a < 0:
            raise ValueError("platt: a must be >= 0 (the map must not reverse the ranking)")
        return self

    def __call__(self, raw: float) -> float:
        if self.method == "platt":
            z = self.a * _logit(raw) + self.b
            return _bounded(1 / (1 + math.exp(-max(min(z, 50.0), -50.0))))
        x, y = self.x, self.y
        if raw <= x[0]:
            return _bounded(y[0])
        if raw >= x[-1]:
            return _bounded(y[-1])
        i = bisect_right(x, raw)
        x0, x1, y0, y1 = x[i - 1], x[i], y[i - 1], y[i]
        return _bounded(y0 if x1 == x0 else y0 + (y1 - y0) * (raw - x0) / (x1 - x0))


class Calibration(BaseModel):
    """One confidence map per basis; a basis without its own map uses ``evidence``'s."""

    model_config = ConfigDict(extra="forbid")

    evidence: ConfidenceMap
    model: ConfidenceMap | None = None

    def __call__(self, raw: float, basis: str = "evidence") -> float:
        chosen = self.model if basis != "evidence" and self.model is not None else self.evidence
        return chosen(raw)


def fit_platt(raw: Sequence[float], correct: Sequence[bool]) -> ConfidenceMap:
    """Logistic regression of correctness on logit(raw), lightly regularised."""
    import numpy as np
    from sklearn.linear_model import LogisticRegression

    x = np.array([[_logit(r)] for r in raw])
    y = np.array([int(c) for c in correct])
    if len(set(y)) < 2:  # all right or all wrong: a constant at the observed rate
        rate = (y.mean() * len(y) + 1) / (len(y) + 2)
        return ConfidenceMap(method="platt", a=0.0, b=_logit(rate))
    model = LogisticRegression(C=10.0).fit(x, y)
    return ConfidenceMap(method="platt", a=round(max(float(model.coef_[0][0]), 0.0), 6),
                         b=round(float(model.intercept_[0]), 6))


def fit_isotonic(raw: Sequence[float], correct: Sequence[bool]) -> ConfidenceMap:
    """Pool adjacent violators: the non-decreasing step function closest to the outcomes, with
    every step resting on at least MIN_BLOCK claims and its rate shrunk by one right and one
    wrong pseudo-outcome. Without both, a top step of five right answers maps to 1.0 (measured:
    the shipped closed-book map sent raw 0.69 to 0.99)."""
    pairs = sorted(zip(raw, (float(c) for c in correct)))
    blocks: list[list[float]] = []  # [sum_x, sum_y, count]
    for x, y in pairs:
        blocks.append([x, y, 1.0])
        while len(blocks) > 1 and blocks[-2][1] / blocks[-2][2] > blocks[-1][1] / blocks[-1][2]:
            _merge_last(blocks)
    # merging adjacent steps keeps the function non-decreasing (the mean lies between them)
    merged: list[list[float]] = []
    for block in blocks:
        if merged and merged[-1][2] < MIN_BLOCK:
            merged.append(block)
            _merge_last(merged)
        else:
            merged.append(block)
    if len(merged) > 1 and merged[-1][2] < MIN_BLOCK:
        _merge_last(merged)
    rates, top = [], 0.0
    for _, sum_y, count in merged:
        top = max(top, (sum_y + 1.0) / (count + 2.0))  # shrinking can reorder unequal steps
        rates.append(round(top, 6))
    return ConfidenceMap(method="isotonic", x=[round(b[0] / b[2], 6) for b in merged], y=rates)


def _merge_last(blocks: list[list[float]]) -> None:
    last = blocks.pop()
    for i in range(3):
        blocks[-1][i] += last[i]


MIN_BLOCK = 10  # claims under one step of an isotonic map, at the least


FITTERS = {"platt": fit_platt, "isotonic": fit_isotonic}


class CoveragePoint(BaseModel):
    """Answering only claims whose confidence reaches ``threshold``: the share answered, and
    how often those answers were right on claims the fit never saw (a 95% interval)."""

    model_config = ConfigDict(extra="forbid")

    threshold: float
    coverage: float
    accuracy: float
    low: float
    high: float
    claims: int  # how many claims the point was measured on (answered ones)


class RiskCoverage(BaseModel):
    """The trade-off between answering more claims and answering them right, measured on
    held-out folds by ``factcheck calibrate``; ``--target-accuracy`` reads its threshold here."""

    model_config = ConfigDict(extra="forbid")

    points: list[CoveragePoint]
    measured_on: int = 0  # claims in all

    def threshold_for(self, target: float) -> CoveragePoint | None:
        """The lowest threshold (so the most claims answered) at which the claims answered were
        right at least ``target`` of the time on held-out claims, among points measured on
        enough claims to say; None when none was."""
        return next((p for p in sorted(self.points, key=lambda p: p.threshold)
                     if p.claims >= MIN_POINT_CLAIMS and p.accuracy >= target), None)


# A point answered on fewer claims than this says too little to set a threshold by.
MIN_POINT_CLAIMS = 20
