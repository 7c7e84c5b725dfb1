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

from pydantic import BaseModel, ConfigDict, Field

from .records import Assessment, Route, RouteDecision


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
