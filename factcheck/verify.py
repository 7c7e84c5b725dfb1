"""Verify: the final verdict, grounded in evidence when there is any."""

from __future__ import annotations

from .cost import Meter
from .judge import Judge
from .labels import LabelSet
from .records import Assessment, Label, LabelDistribution, Passage, Verdict


def _verdict(dist: LabelDistribution, basis: str, used: list[str]) -> Verdict:
    label = dist.top
    return Verdict(label=label, distribution=dist, confidence=dist.probs[label], basis=basis,
                   used_passages=used)


def verify(judge: Judge, claim: str, assessment: Assessment, passages: list[Passage],
           meter: Meter, *, evidence_needed: bool = False) -> tuple[Verdict, list[str]]:
    """Judge ``claim`` against ``passages``. Returns the verdict and any warnings.

    Without passages: when the route asked for evidence (the model was unsure) and none
    could be had, the three-label verdict is NOT_ENOUGH_INFO, with confidence 1 - tau (how
    unsure the model was on its own); otherwise, and always with binary labels, the
    closed-book distribution stands."""
    if not passages:
        closed_book = assessment.combined or assessment.distribution
        if evidence_needed and judge.label_set is LabelSet.THREE:
            return Verdict(label=Label.NOT_ENOUGH_INFO, distribution=closed_book,
                           confidence=1.0 - assessment.certainty, basis="none"), []
        return _verdict(closed_book, "model", []), []
    with meter.stage("verify"):
        judgement = judge.with_evidence(claim, passages, meter)
    return _verdict(judgement.distribution, "evidence", judgement.shown), judgement.warnings
