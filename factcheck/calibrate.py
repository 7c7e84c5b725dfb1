"""Fit the router's thresholds on labeled claims.

Each labeled claim contributes one ``RouteSample``: its tau and gamma, the verdict and cost
of the direct route, and the verdict and cost with retrieval. For every (alpha, beta) on a
grid, claims with tau >= alpha and gamma >= beta take the direct verdict and the others the
retrieved one; the best macro-F1 whose mean cost stays within the token budget wins
(ties: fewer tokens). ``pareto_front`` lists every grid point no other point beats on both.

The search runs once per consistency estimator, with that estimator's own direct-route
cost; ``none`` (tau alone, gamma taken as 1) is always a candidate, so an estimator is
chosen only when its extra tokens buy macro-F1 within the budget.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from .metrics import macro_f1


@dataclass(frozen=True)
class RouteSample:
    tau: float
    gamma: float
    gold: str
    direct: str  # verdict on the direct route
    retrieved: str  # verdict with evidence
    direct_tokens: float
    retrieved_tokens: float  # the whole claim's tokens when it retrieves


@dataclass(frozen=True)
class GridPoint:
    alpha: float
    beta: float
    macro_f1: float
    tokens_per_claim: float
    retrieval_rate: float
    consistency: str = "none"


def _grid(values: Sequence[float]) -> list[float]:
    # every distinct observed value is a threshold that changes a decision; 0 routes all direct
    return sorted({0.0, 1.01, *(round(v, 4) for v in values)})


def evaluate(samples: Sequence[RouteSample], alpha: float, beta: float, labels: Sequence[str],
             consistency: str = "none") -> GridPoint:
    direct = [s.tau >= alpha and s.gamma >= beta for s in samples]
    predicted = [s.direct if d else s.retrieved for s, d in zip(samples, direct)]
    tokens = [s.direct_tokens if d else s.retrieved_tokens for s, d in zip(samples, direct)]
    return GridPoint(alpha=alpha, beta=beta,
                     macro_f1=macro_f1([s.gold for s in samples], predicted, labels),
                     tokens_per_claim=sum(tokens) / len(tokens),
                     retrieval_rate=1 - sum(direct) / len(direct), consistency=consistency)


def grid_search(samples: Sequence[RouteSample], labels: Sequence[str], consistency: str = "none") -> list[GridPoint]:
    alphas = _grid(s.tau for s in samples)
    betas = [0.0] if consistency == "none" else _grid(s.gamma for s in samples)
    return [evaluate(samples, a, b, labels, consistency) for a in alphas for b in betas]


def best_within_budget(points: Sequence[GridPoint], budget: float | None) -> GridPoint:
    allowed = [p for p in points if budget is None or p.tokens_per_claim <= budget] or \
        [min(points, key=lambda p: p.tokens_per_claim)]
    return max(allowed, key=lambda p: (round(p.macro_f1, 6), -p.tokens_per_claim))


def pareto_front(points: Sequence[GridPoint]) -> list[GridPoint]:
    front = []
    for p in sorted(points, key=lambda p: (p.tokens_per_claim, -p.macro_f1)):
        if not front or p.macro_f1 > front[-1].macro_f1:
            front.append(p)
    return front
