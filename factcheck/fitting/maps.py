"""Confidence maps: from a verdict's probability to the estimated probability it is right."""

from __future__ import annotations

from collections.abc import Sequence

from ..reading.calibration import FITTERS, ConfidenceMap
from ..runs.metrics import ece
from .cv import folds


def fit_calibration(raw: Sequence[float], correct: Sequence[bool], method: str) -> ConfidenceMap:
    return FITTERS[method](raw, correct)


def choose_calibration(raw: Sequence[float], correct: Sequence[bool]) -> tuple[ConfidenceMap, dict]:
    """Platt or isotonic, whichever has the lower ECE on held-out folds."""
    n = len(raw)
    scores = {}
    for method in FITTERS:
        held_conf, held_ok = [], []
        for fold in folds(n, seed=1):
            held = set(fold.tolist())
            train = [i for i in range(n) if i not in held]
            cmap = fit_calibration([raw[i] for i in train], [correct[i] for i in train], method)
            held_conf += [cmap(raw[i]) for i in fold]
            held_ok += [correct[i] for i in fold]
        scores[method] = ece(held_conf, held_ok)
    method = min(scores, key=scores.get)
    return fit_calibration(raw, correct, method), {f"cv_ece_{m}": round(v, 4) for m, v in scores.items()}
