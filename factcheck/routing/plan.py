"""Plan: the decisions a check makes from what it has measured, as pure functions.

A live check (``pipeline.Pipeline``) measures as it goes: a closed-book pass, a search, an
evidence pass. Calibration measures the same passes once per claim through the same stage
objects (``fitting/samples.py``) and replays a profile over them (``fitting.replay``). Both
decide through these functions, so there is one implementation of routing:

    reading_route   a route that reads evidence whatever the model knows (forced, or a router
                    fitted to read every claim), or None
    router_route    the fitted router's choice from the search's and the model's signals
    escalation_route  after the first reading: answer, or search wider and read again

(The final verdict's one implementation is ``reading.conclude.conclude``.)
"""

from __future__ import annotations

from typing import Protocol

from ..schema import Route, RouteDecision


class Router(Protocol):
    """What these decisions need of a fitted router (``route.Router``, which calls them)."""

    threshold: float

    @property
    def reads_always(self) -> bool: ...

    def probability(self, signals: dict[str, float]) -> float: ...

READS_EVERY_CLAIM = ("the profile's router reads every claim: on its fit claims, no cheaper routing kept "
                     "within its max-loss of always reading")


def reading_route(forced: Route | None, router: Router | None, *, has_sources: bool,
                  measures_consistency: bool) -> RouteDecision | None:
    """The decision of a route that reads evidence without asking the model first: forced
    (``retrieve``, ``deep``), or auto with a router fitted to read every claim; None
    otherwise (then the closed-book pass comes first). With a consistency estimate the user
    asked for gamma, so it is measured."""
    if not has_sources or measures_consistency:
        return None
    if forced in (Route.RETRIEVE, Route.DEEP):
        return RouteDecision(route=forced, reason=f"route forced to {forced.value}")
    if forced is None and router is not None and router.reads_always:
        return RouteDecision(route=Route.RETRIEVE, reason=READS_EVERY_CLAIM)
    return None


def escalation_route(below: float | None, confidence: float, tau: float) -> RouteDecision | None:
    """The second routing decision, on the first reading's calibrated ``confidence``: escalate
    (search wider, read again) when it is under ``below``; None to answer from the reading."""
    if not below or confidence >= below:
        return None
    return RouteDecision(route=Route.ESCALATED,
                         reason=f"read, unsure: confidence {confidence:.3f} < {below:.3f} (tau={tau:.3f})")


def router_route(router: Router, signals: dict[str, float], *, found: bool) -> RouteDecision:
    """Read the evidence when P(reading helps) reaches the router's threshold; nothing found,
    nothing to read."""
    if not found:
        return RouteDecision(route=Route.DIRECT, reason="the search found nothing: the model's knowledge alone")
    p = router.probability(signals)
    numbers = f"P(reading helps)={p:.3f} {'>=' if p >= router.threshold else '<'} {router.threshold:.3f}"
    if p >= router.threshold:
        return RouteDecision(route=Route.RETRIEVE, reason=f"read the evidence ({numbers})")
    return RouteDecision(route=Route.DIRECT, reason=f"answer directly ({numbers})")
