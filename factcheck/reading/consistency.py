"""Reasoning consistency gamma, two estimators behind one interface.

``framings`` (ours, the default): the verdict distribution under the neutral prompt and
M-1 more framings (sceptical; answer options in reversed order). gamma = 1 - the mean
pairwise Jensen-Shannon divergence (base 2) between them. JS is symmetric, finite when a
label has zero mass (KL is not), and bounded in [0, 1] in bits, so gamma is too. No
generated tokens; the framings put the claim first so they share one cached prefix.

``rationales`` (the paper's): K rationales arguing the claim is true and K arguing it is
false, sampled at temperature > 0; every cross pair is scored for contradiction in both
directions by the same model (P(YES) to "do A and B contradict?", one forward pass each),
and gamma = 1 - the mean contradiction.

Both return the distribution a direct verdict should use (``combined``): the mean over
framings, or the neutral distribution shrunk toward uniform by gamma. Its top probability
is the record's ``confidence`` on the direct route: one number that is high only when the
model is both certain and consistent.
"""

from __future__ import annotations

import math
from itertools import combinations
from typing import Protocol

from ..cost import Meter
from ..schema import Assessment, LabelDistribution, RationalePair
from .gateway import ModelGateway

FRAMINGS = ("sceptical", "reversed")


class ConsistencyEstimator(Protocol):
    name: str

    def measure(self, gateway: ModelGateway, claim: str, assessment: Assessment, meter: Meter) -> Assessment: ...


def _entropy(probs: list[float]) -> float:
    return -sum(p * math.log2(p) for p in probs if p > 0)


def js_divergence(a: LabelDistribution, b: LabelDistribution) -> float:
    """Jensen-Shannon divergence in bits, in [0, 1]."""
    labels = list(a.probs)
    pa = [a.probs[label] for label in labels]
    pb = [b.probs[label] for label in labels]
    mid = [(x + y) / 2 for x, y in zip(pa, pb)]
    return max(0.0, _entropy(mid) - (_entropy(pa) + _entropy(pb)) / 2)


def mean_distribution(views: list[LabelDistribution]) -> LabelDistribution:
    labels = list(views[0].probs)
    return LabelDistribution(
        probs={label: sum(v.probs[label] for v in views) / len(views) for label in labels},
        outside_mass=sum(v.outside_mass for v in views) / len(views),
        top_tokens_same_label=views[0].top_tokens_same_label,
    )


class Framings:
    name = "framings"

    def __init__(self, framings: tuple[str, ...] = FRAMINGS) -> None:
        self.framings = framings

    def measure(self, gateway: ModelGateway, claim: str, assessment: Assessment, meter: Meter) -> Assessment:
        views = {"neutral": assessment.distribution}
        for name in self.framings:
            views[name] = gateway.framing(name, claim, meter)
        pairs = list(combinations(views.values(), 2))
        gamma = 1.0 - sum(js_divergence(a, b) for a, b in pairs) / len(pairs)
        combined = mean_distribution(list(views.values()))
        disagreeing = [name for name, view in views.items() if view.top != combined.top]
        return assessment.model_copy(update={
            "consistency": gamma, "method": self.name, "views": views,
            "disagreeing": disagreeing, "combined": combined,
        })


class Rationales:
    name = "rationales"

    def __init__(self, k: int = 2, temperature: float = 0.8, max_tokens: int = 48, seed: int = 7) -> None:
        self.k, self.temperature, self.max_tokens, self.seed = k, temperature, max_tokens, seed

    def measure(self, gateway: ModelGateway, claim: str, assessment: Assessment, meter: Meter) -> Assessment:
        def argue(stance: str, i: int) -> str:
            return gateway.write("rationale", meter, claim=claim, stance=stance, max_tokens=self.max_tokens,
                               temperature=self.temperature, seed=self.seed + i) or f"The claim is {stance}."

        for_true = [argue("true", i) for i in range(self.k)]
        for_false = [argue("false", self.k + i) for i in range(self.k)]
        scored = []
        for a in for_true:
            for b in for_false:
                ab = gateway.yes_probability("contradiction", meter, premise=a, hypothesis=b)
                ba = gateway.yes_probability("contradiction", meter, premise=b, hypothesis=a)
                scored.append(RationalePair(for_true=a, for_false=b, contradiction=(ab + ba) / 2))
        gamma = 1.0 - sum(p.contradiction for p in scored) / len(scored)
        neutral = assessment.distribution
        uniform = 1.0 / len(neutral.probs)
        combined = neutral.model_copy(update={
            "probs": {label: gamma * p + (1 - gamma) * uniform for label, p in neutral.probs.items()}})
        return assessment.model_copy(update={
            "consistency": gamma, "method": self.name, "combined": combined,
            "pair": max(scored, key=lambda p: p.contradiction),
        })


def estimator(name: str, k: int = 2) -> ConsistencyEstimator | None:
    if name == "framings":
        return Framings()
    if name == "rationales":
        return Rationales(k=k)
    return None
