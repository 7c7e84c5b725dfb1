"""Verify: the final verdict, grounded in evidence when there is any."""

from __future__ import annotations

from .cost import Meter
from .judge import Judge
from .records import Assessment, LabelDistribution, Passage, Verdict


def _verdict(dist: LabelDistribution, basis: str, used: list[str]) -> Verdict:
    label = dist.top
    return Verdict(label=label, distribution=dist, confidence=dist.probs[label], basis=basis,
                   used_passages=used)


def verify(judge: Judge, claim: str, assessment: Assessment, passages: list[Passage],
           meter: Meter) -> tuple[Verdict, list[str]]:
    """Judge ``claim`` against ``passages``; with none, keep the closed-book assessment.

    Returns the verdict and any warnings."""
    if not passages:
        return _verdict(assessment.combined or assessment.distribution, "model", []), []
    with meter.stage("verify"):
        judgement = judge.with_evidence(claim, passages, meter)
    return _verdict(judgement.distribution, "evidence", judgement.shown), judgement.warnings
