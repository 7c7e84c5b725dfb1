"""Route: decide from tau and gamma whether and how to retrieve (PCC's four quadrants).

    tau >= alpha, gamma >= beta   direct     answer from the model
    tau >= alpha, gamma <  beta   targeted   one search from the disagreement
    tau <  alpha, gamma >= beta   reflect    one search the model writes by self-reflection
    tau <  alpha, gamma <  beta   deep       iterative multi-hop search

Without a consistency estimate (``--consistency none``) there are no quadrants, only tau:
tau >= alpha answers directly and tau < alpha searches once with the claim itself (the
``retrieve`` route). That is the cheap router ``calibrate`` weighs against the four-way one:
gamma costs tokens on every claim, and it is only worth paying for where it earns them.
"""

from __future__ import annotations

import math
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from ..evidence.select import coverage
from ..schema import Assessment, EvidenceSentence, Passage, Route, RouteDecision
from .plan import escalation_route, reading_route, router_route

# The router's inputs: what the search says (free) and what the closed-book pass said.
SIGNALS = ("top_score", "score_margin", "best_coverage", "shown_coverage", "documents", "tau", "closed_top")


def route_signals(claim: str, assessment: Assessment, passages: list[Passage],
                  sentences: list[EvidenceSentence]) -> dict[str, float]:
    """The router's inputs for one claim; none costs a model call."""
    scores = sorted((p.score for p in passages), reverse=True)
    top = scores[0] if scores else 0.0
    second = scores[1] if len(scores) > 1 else 0.0
    return {
        "top_score": math.log1p(max(top, 0.0)),
        "score_margin": (top - second) / top if top > 0 else 0.0,
        "best_coverage": max((coverage(claim, s.text) for s in sentences), default=0.0),
        "shown_coverage": coverage(claim, " ".join(s.text for s in sentences)),
        "documents": float(len({p.doc_id for p in passages})),
        "tau": assessment.certainty,
        "closed_top": assessment.distribution.ranked[0][1],
    }


class Router(BaseModel):
    """A fitted logistic router: read the evidence when P(reading helps) >= threshold.

    P = sigmoid(intercept + sum(weights[i] * signal[i])); ``factcheck calibrate`` fits it on
    labeled claims (target: the evidence verdict right where the direct one is wrong) and
    picks the threshold for the best macro-F1 within a token budget, or 0 (read every claim)
    when that best loses more than ``--max-loss`` macro-F1 against always reading. Plain
    numbers, printed by calibrate, so it can be read and checked."""

    model_config = ConfigDict(extra="forbid")

    features: list[str]
    weights: list[float]
    intercept: float
    threshold: float = Field(ge=0.0, le=1.01)

    @model_validator(mode="after")
    def _check(self) -> Router:
        unknown = set(self.features) - set(SIGNALS)
        if unknown or len(self.features) != len(self.weights):
            raise ValueError(f"router: features must be among {list(SIGNALS)}, one weight each")
        return self

    @property
    def reads_always(self) -> bool:
        """Threshold 0: every claim with evidence is read. ``calibrate`` fits this when no
        cheaper routing kept within ``--max-loss`` of always reading, and a check then skips
        the closed-book pass whenever the search finds sentences (pipeline.py)."""
        return self.threshold <= 0.0

    def probability(self, signals: dict[str, float]) -> float:
        z = self.intercept + sum(w * signals[f] for f, w in zip(self.features, self.weights))
        return 1.0 / (1.0 + math.exp(-max(min(z, 50.0), -50.0)))

    def decide(self, claim: str, assessment: Assessment, passages: list[Passage],
               sentences: list[EvidenceSentence]) -> RouteDecision:
        signals = route_signals(claim, assessment, passages, sentences) if passages else {}
        return router_route(self, signals, found=bool(passages))


class Thresholds(BaseModel):
    model_config = ConfigDict(extra="forbid")

    alpha: float = Field(default=0.5, ge=0.0, le=1.0)  # on certainty tau
    beta: float = Field(default=0.9, ge=0.0, le=1.0)  # on consistency gamma


def decide(assessment: Assessment, thresholds: Thresholds, *, have_sources: bool,
           forced: Route | None = None) -> RouteDecision:
    """Pick the route for one claim. ``forced`` (``--route``) overrides the quadrants."""
    tau, gamma = assessment.certainty, assessment.consistency
    numbers = f"tau={tau:.3f} {'>=' if tau >= thresholds.alpha else '<'} alpha={thresholds.alpha}"
    if gamma is not None:
        numbers += f", gamma={gamma:.3f} {'>=' if gamma >= thresholds.beta else '<'} beta={thresholds.beta}"
    if not have_sources:
        return RouteDecision(route=Route.DIRECT,
                             reason=f"no evidence source configured: the model's knowledge alone ({numbers})")
    if forced is not None:
        return RouteDecision(route=forced, reason=f"route forced to {forced.value} ({numbers})")
    certain = tau >= thresholds.alpha
    if gamma is None:
        if certain:
            return RouteDecision(route=Route.DIRECT, reason=f"certain ({numbers})")
        return RouteDecision(route=Route.RETRIEVE, reason=f"uncertain, no consistency estimate: "
                                                          f"one search with the claim ({numbers})")
    consistent = gamma >= thresholds.beta
    if certain and consistent:
        return RouteDecision(route=Route.DIRECT, reason=f"certain and consistent ({numbers})")
    if certain:
        return RouteDecision(route=Route.TARGETED, reason=f"certain but inconsistent ({numbers})")
    if consistent:
        return RouteDecision(route=Route.REFLECT, reason=f"uncertain but consistent ({numbers})")
    return RouteDecision(route=Route.DEEP, reason=f"uncertain and inconsistent ({numbers})")


class Depth(BaseModel):
    """How far the deep route searches."""

    model_config = ConfigDict(extra="forbid")

    max_hops: int = Field(default=3, ge=1)
    token_budget: int = Field(default=4000, ge=0)
    sufficiency: float = Field(default=0.5, ge=0.0, le=1.0)  # stop once the evidence verdict's tau reaches it


class Escalation(BaseModel):
    """The second routing decision, after the first reading: under ``below`` (calibrated
    confidence) search the claim again for ``wider`` x k passages, read the best sentences not
    read yet, and conclude from the reading ``keep`` names (reading/conclude.py kept_reading).
    ``calibrate`` measures it against always reading once and fits ``below`` and ``keep``."""

    model_config = ConfigDict(extra="forbid")

    below: float | None = Field(default=None, ge=0.0, le=1.0)  # None or 0: never escalate
    keep: Literal["second", "pooled", "surer"] = "pooled"
    wider: int = Field(default=4, ge=2)
    max_k: int = Field(default=60, ge=1)

    def k(self, k: int) -> int:
        return min(max(k * self.wider, 20), max(self.max_k, k))


class Routing:
    """The route stage: whether and how a claim's evidence is searched and read.

    ``forced`` is ``--route`` (None: auto); ``router`` a profile's router on search signals
    (None: PCC's quadrants on ``thresholds``); ``escalation`` the decision after the first
    reading (auto only: a forced route is what the user asked for)."""

    def __init__(self, *, forced: Route | None = None, router: Router | None = None,
                 thresholds: Thresholds | None = None, depth: Depth | None = None,
                 escalation: Escalation | None = None) -> None:
        self.forced = forced
        self.router = router
        self.thresholds = thresholds or Thresholds()
        self.depth = depth or Depth()
        self.escalation = escalation or Escalation()

    def after_reading(self, confidence: float, tau: float) -> RouteDecision | None:
        """Escalate an unsure first reading (a decision), or answer from it (None)."""
        if self.forced is not None:
            return None
        return escalation_route(self.escalation.below, confidence, tau)

    def regardless(self, *, has_sources: bool, measures_consistency: bool) -> RouteDecision | None:
        """A route that reads evidence whatever the model knows, decided before any pass; None
        when the closed-book pass comes first (plan.reading_route)."""
        return reading_route(self.forced, self.router, has_sources=has_sources,
                             measures_consistency=measures_consistency)

    def searches_first(self, *, has_sources: bool) -> bool:
        """Whether the fitted router decides, after a search, if reading is worth it."""
        return self.router is not None and has_sources and self.forced is None

    def on_assessment(self, assessment: Assessment, *, has_sources: bool) -> RouteDecision:
        """PCC's route from tau and gamma (or the forced one)."""
        return decide(assessment, self.thresholds, have_sources=has_sources, forced=self.forced)

    def on_search(self, claim: str, assessment: Assessment, passages: list[Passage],
                  sentences: list[EvidenceSentence]) -> RouteDecision:
        """The fitted router's route from what the search found."""
        assert self.router is not None
        return self.router.decide(claim, assessment, passages, sentences)
