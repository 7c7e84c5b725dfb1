"""Replay a fitted section on stored samples: the verdicts, confidences, routes and costs the
pipeline would give them, decided by the pipeline's own plan (routing/plan.py), with no
model call. What calibrate scores and chooses by; tests/test_replay.py holds it to a live check."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ..reading.assess import certainty
from ..reading.calibration import Calibration
from ..reading.conclude import conclude, kept_reading
from ..reading.readers import LinearHead, Reader, restrict
from ..routing.plan import escalation_route, reading_route, router_route
from ..routing.route import Router, Thresholds
from ..routing.route import decide as route_decision
from ..schema import Assessment, Label, LabelDistribution, LabelSet, Route
from .heads import raw_probs, read_answers
from .router import reading_tokens
from .samples import Sample


def closed_distribution(sample: Sample) -> LabelDistribution:
    probs = {Label(k): v for k, v in sample.closed.items()}
    return LabelDistribution(probs=probs, outside_mass=0.0, top_tokens_same_label=False)


@dataclass
class Outcome:
    """What the pipeline would record for one sample under a profile section and a route."""

    gold: str
    verdict: str
    confidence: float
    confidence_raw: float
    read: bool
    tokens: float
    escalated: bool = False
    probs: dict[str, float] | None = None  # the distribution the verdict was read from


def apply_section(samples: Sequence[Sample], section: dict, label_set: LabelSet, route: str = "auto") -> list[Outcome]:
    """The verdicts, confidences, routes and costs the pipeline gives ``samples`` under
    ``section`` (route: auto, retrieve or direct), without a model call."""
    probe, answer_map = (LinearHead.model_validate(section[k]) if section.get(k) else None for k in ("probe", "answer_map"))
    reader = Reader(section.get("reader", "joint"), head=probe, answer_map=answer_map).name
    head = probe or answer_map
    bias = {Label(k): v for k, v in (section.get("label_bias") or {}).items()}
    calibration = Calibration.model_validate(section["calibration"]) if section.get("calibration") else None
    router = Router.model_validate(section["router"]) if section.get("router") else None
    thresholds = Thresholds(alpha=section.get("alpha", 0.5), beta=section.get("beta", 0.9))
    # the word selector's floor; selection by meaning has its own, applied when the samples were measured
    floor = section.get("min_coverage", 0.0) if section.get("selection", "words") == "words" else 0.0
    forced = {"auto": None, "direct": Route.DIRECT, "retrieve": Route.RETRIEVE}[route]
    # the pipeline's own decisions (plan.py), made on the stored passes
    regardless = reading_route(forced, router, has_sources=True, measures_consistency=False)
    outcomes = []
    for s in samples:
        has_evidence = bool(s.joint) if reader.startswith("joint") else bool(s.chunks)
        # samples measured without the floor: a claim whose best sentence is below it gets no
        # evidence (exact); sentences below it beside better ones were still read (approximate)
        has_evidence = has_evidence and s.signals["best_coverage"] >= floor
        closed = closed_distribution(s)
        if regardless is not None:
            decision = regardless
        elif forced is Route.DIRECT:
            decision = route_decision(Assessment(distribution=closed, certainty=s.tau), thresholds,
                                      have_sources=True, forced=Route.DIRECT)
        elif router is not None:
            decision = router_route(router, s.signals, found=s.signals["documents"] > 0)
        else:  # PCC's tau alone, as a check without a router
            decision = route_decision(Assessment(distribution=closed, certainty=s.tau), thresholds, have_sources=True)
        read = decision.route is not Route.DIRECT and has_evidence
        reading = restrict(raw_probs(s, reader, head), label_set, bias) if read else None
        verdict, dist, basis = conclude(label_set, reading, closed, evidence_needed=decision.route is not Route.DIRECT)
        # a route that reads regardless runs the closed-book pass only where there is nothing to
        # read; any other route runs it first
        cost = s.closed_tokens if (regardless is None or not read) else 0
        if read:
            cost += reading_tokens(s, reader, after_closed=regardless is None)
        raw = dist.probs.get(verdict, 0.0)
        conf = calibration(raw, basis) if calibration else raw
        escalated = False
        if read and forced is None and s.escalated and (s.second or s.pooled) and escalation_route(
                section.get("escalate_below"), conf, certainty(dist)) is not None:
            # the second routing decision, on a stored escalation (measured for the joint layout)
            keep = section.get("escalate_keep", "pooled")
            second, pooled = (restrict(read_answers(answers, reader, head), label_set, bias) if answers else None
                              for answers in (s.second, s.pooled))
            _, kept = kept_reading(keep, dist, second, pooled)
            verdict, dist, basis = conclude(label_set, kept, closed, evidence_needed=True)
            cost += s.pooled_tokens if keep == "pooled" else s.second_tokens
            raw = dist.probs.get(verdict, 0.0)
            conf = calibration(raw, basis) if calibration else raw
            escalated = True
        outcomes.append(Outcome(s.gold, verdict.value, conf, raw, read, cost, escalated,
                                {k.value: v for k, v in dist.probs.items()}))
    return outcomes
