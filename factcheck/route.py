"""Route: decide from the assessment whether and how to retrieve evidence."""

from __future__ import annotations

from .records import Assessment, Route, RouteDecision


def decide(assessment: Assessment, *, have_sources: bool, forced: Route | None = None) -> RouteDecision:
    """Pick the route for one claim.

    With no evidence source the only route is direct. ``forced`` overrides the choice
    (``--route``); without it, a configured source is always searched with the claim.
    """
    tau = assessment.certainty
    if not have_sources:
        return RouteDecision(route=Route.DIRECT,
                             reason=f"no evidence source configured (tau={tau:.3f})")
    if forced is not None:
        return RouteDecision(route=forced, reason=f"route forced to {forced.value} (tau={tau:.3f})")
    return RouteDecision(route=Route.RETRIEVE, reason=f"always retrieve (tau={tau:.3f})")
