"""Assess: how sure the model is of a claim before any retrieval.

Certainty tau follows PCC (arXiv 2601.02574, section 2.1): if the two most probable
tokens at the answer position start the same label, tau = 1; otherwise tau is the margin
between the two most probable labels. Consistency gamma comes from an estimator in
``consistency.py``.
"""

from __future__ import annotations

from ..cost import Meter
from ..schema import Assessment, LabelDistribution
from .consistency import ConsistencyEstimator
from .judge import Judge


def certainty(distribution: LabelDistribution) -> float:
    """PCC's tau for one label distribution, in [0, 1]."""
    if distribution.top_tokens_same_label:
        return 1.0
    ranked = distribution.ranked
    return ranked[0][1] - ranked[1][1]


def assess(judge: Judge, claim: str, meter: Meter,
           consistency: ConsistencyEstimator | None = None) -> tuple[Assessment, list[str]]:
    """Closed-book assessment of ``claim`` (tau, and gamma when an estimator is given);
    returns it with any warnings."""
    with meter.stage("assess"):
        judgement = judge.closed_book(claim, meter)
        dist = judgement.distribution
        assessment = Assessment(distribution=dist, certainty=certainty(dist))
    if consistency is not None:
        with meter.stage("consistency"):
            assessment = consistency.measure(judge, claim, assessment, meter)
    return assessment, judgement.warnings
