"""The router: when reading the evidence pays, fitted on the search signals within a token budget."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ..routing.route import SIGNALS, Router
from ..runs.metrics import macro_f1
from .cv import FOLDS, folds, require_sklearn
from .samples import Sample

# The most macro-F1 a fitted router may give up against always reading to keep its token
# budget (the routing issue's own tolerance); beyond it the router reads every claim.
MAX_LOSS = 0.02


@dataclass
class RoutePoint:
    threshold: float
    macro_f1: float
    tokens_per_claim: float
    read_rate: float


def route_outcomes(read: Sequence[bool], direct: Sequence[str], evidence: Sequence[str], gold: Sequence[str],
                   direct_cost: Sequence[float], read_cost: Sequence[float], names: list[str]) -> RoutePoint:
    predicted = [e if r else d for r, d, e in zip(read, direct, evidence)]
    tokens = [rc if r else dc for r, dc, rc in zip(read, direct_cost, read_cost)]
    return RoutePoint(0.0, macro_f1(gold, predicted, names), sum(tokens) / len(tokens), sum(read) / len(read))


def _signal_matrix(samples: Sequence[Sample], features: Sequence[str]) -> np.ndarray:
    return np.array([[s.signals[f] for f in features] for s in samples], dtype=np.float64)


def reading_tokens(sample: Sample, reader: str, after_closed: bool) -> int:
    """What reading ``sample``'s evidence costs: right after its closed-book pass (a router's
    input), or right after another claim's reading, as when every claim is read and the
    evidence prompt's instruction head is still in the KV cache."""
    if reader.startswith("chunks"):
        return sample.chunk_tokens
    if not after_closed and sample.joint_tokens_warm is not None:
        return sample.joint_tokens_warm
    return sample.joint_tokens


def always_read_tokens(samples: Sequence[Sample], reader: str = "joint") -> float:
    """What always reading costs per claim, a budget's base: no closed-book pass, and each
    reading after the one before."""
    return sum(reading_tokens(s, reader, after_closed=False) for s in samples) / len(samples)


def fit_router(samples: Sequence[Sample], direct: Sequence[str], evidence: Sequence[str], names: list[str],
               read_cost: Sequence[float], budget_fraction: float, features: Sequence[str] = SIGNALS,
               threshold_from: str = "in_sample", max_loss: float = MAX_LOSS,
               reader: str = "joint") -> tuple[Router, list[RoutePoint]]:
    """A logistic model of "reading fixes the direct verdict" (claims where both routes
    agree in correctness carry no signal and are left out), then the threshold with the
    best macro-F1 whose tokens stay within ``budget_fraction`` of always reading; or
    threshold 0, reading every claim, when that best is more than ``max_loss`` macro-F1
    below always reading: a saving that costs more accuracy than that is not made silently."""
    require_sklearn()
    from sklearn.linear_model import LogisticRegression

    gold = [s.gold for s in samples]
    x = _signal_matrix(samples, features)
    helps = [(e == g) and (d != g) for d, e, g in zip(direct, evidence, gold)]
    hurts = [(d == g) and (e != g) for d, e, g in zip(direct, evidence, gold)]

    def logistic(rows: list[int]) -> Router:
        informative = [i for i in rows if helps[i] or hurts[i]]
        mean, scale = x[rows].mean(axis=0), x[rows].std(axis=0) + 1e-6
        if len({helps[i] for i in informative}) < 2:  # reading always (or never) helps here
            weights = np.zeros(len(features))
            intercept = 5.0 if sum(helps[i] for i in rows) >= sum(hurts[i] for i in rows) else -5.0
        else:
            model = LogisticRegression(C=1.0).fit((x[informative] - mean) / scale, [helps[i] for i in informative])
            weights = model.coef_[0] / scale
            intercept = float(model.intercept_[0] - weights @ mean)
        return Router(features=list(features), weights=[round(float(w), 6) for w in weights],
                      intercept=round(intercept, 6), threshold=1.01)

    router = logistic(list(range(len(samples))))
    if threshold_from == "out_of_fold" and len(samples) >= 2 * FOLDS:
        # the threshold is chosen on probabilities from models that did not see the claim:
        # chosen in-sample it fits the fit claims' noise (measured: docs/experiments.md)
        p = [0.0] * len(samples)
        for fold in folds(len(samples), seed=0):
            held = set(fold.tolist())
            fold_router = logistic([i for i in range(len(samples)) if i not in held])
            for i in fold:
                p[i] = fold_router.probability(samples[i].signals)
    else:
        p = [router.probability(s.signals) for s in samples]
    direct_cost = [float(s.closed_tokens) for s in samples]
    always = always_read_tokens(samples, reader)
    points = []
    for threshold in sorted({0.0, 1.01, *(round(v, 4) for v in p)}):
        point = route_outcomes([q >= threshold for q in p], direct, evidence, gold, direct_cost, read_cost, names)
        point.threshold = threshold
        points.append(point)
    allowed = [pt for pt in points if pt.tokens_per_claim <= budget_fraction * always] or \
        [min(points, key=lambda pt: pt.tokens_per_claim)]
    best = max(allowed, key=lambda pt: (round(pt.macro_f1, 6), -pt.tokens_per_claim))
    always_point = next(pt for pt in points if pt.threshold == 0.0)
    if best.macro_f1 < always_point.macro_f1 - max_loss:
        best = always_point
    return router.model_copy(update={"threshold": best.threshold}), points
