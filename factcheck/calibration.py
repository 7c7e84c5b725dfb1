"""Confidence calibration: isotonic regression from raw confidence to P(correct).

Isotonic rather than temperature scaling: the raw confidence here is a top-label
probability that routing, framings and evidence have already reshaped, so no single
temperature fits it; a monotone map keeps the ranking (AUROC is unchanged) and only fixes
the numbers. Fitted with pool-adjacent-violators; applied by linear interpolation between
the fitted points, clamped at both ends.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Sequence

from pydantic import BaseModel, ConfigDict, model_validator


class Calibration(BaseModel):
    model_config = ConfigDict(extra="forbid")

    method: str = "isotonic"
    labels: str | None = None  # the label set it was fitted for; it applies to no other
    x: list[float]
    y: list[float]

    @model_validator(mode="after")
    def _check(self) -> Calibration:
        if self.method != "isotonic":
            raise ValueError("method must be 'isotonic'")
        if not self.x or len(self.x) != len(self.y):
            raise ValueError("x and y must be non-empty lists of equal length")
        if any(b < a for a, b in zip(self.x, self.x[1:])) or any(b < a for a, b in zip(self.y, self.y[1:])):
            raise ValueError("x and y must be non-decreasing")
        return self

    def __call__(self, confidence: float) -> float:
        x, y = self.x, self.y
        if confidence <= x[0]:
            return y[0]
        if confidence >= x[-1]:
            return y[-1]
        i = bisect_right(x, confidence)
        x0, x1, y0, y1 = x[i - 1], x[i], y[i - 1], y[i]
        return y0 if x1 == x0 else y0 + (y1 - y0) * (confidence - x0) / (x1 - x0)


def fit_isotonic(confidences: Sequence[float], correct: Sequence[bool]) -> Calibration:
    """Pool adjacent violators: the non-decreasing step function closest to the outcomes."""
    pairs = sorted(zip(confidences, (float(c) for c in correct)))
    blocks: list[list[float]] = []  # [sum_x, sum_y, count]
    for x, y in pairs:
        blocks.append([x, y, 1.0])
        while len(blocks) > 1 and blocks[-2][1] / blocks[-2][2] > blocks[-1][1] / blocks[-1][2]:
            last = blocks.pop()
            for i in range(3):
                blocks[-1][i] += last[i]
    return Calibration(x=[round(b[0] / b[2], 6) for b in blocks], y=[round(b[1] / b[2], 6) for b in blocks])
