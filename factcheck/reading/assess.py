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
from .gateway import ModelGateway


def certainty(distribution: LabelDistribution) -> float:
    """PCC's tau for one label distribution, in [0, 1]."""
    if distribution.top_tokens_same_label:
        return 1.0
    ranked = distribution.ranked
    return ranked[0][1] - ranked[1][1]


class Assess:
    """The assess stage: the closed-book pass (tau), and gamma when an estimator is set."""

    def __init__(self, gateway: ModelGateway, consistency: ConsistencyEstimator | None = None) -> None:
        self.gateway = gateway
        self.consistency = consistency

    @property
    def measures_consistency(self) -> bool:
        return self.consistency is not None

    def closed_book(self, claim: str, meter: Meter) -> tuple[Assessment, list[str]]:
        """tau alone: the assessment and any warnings (a claim cut to fit the context)."""
        with meter.stage("assess"):
            judgement = self.gateway.closed_book(claim, meter)
            dist = judgement.distribution
            return Assessment(distribution=dist, certainty=certainty(dist)), judgement.warnings

    def __call__(self, claim: str, meter: Meter) -> tuple[Assessment, list[str]]:
        """tau, and gamma when this stage has an estimator."""
        assessment, warnings = self.closed_book(claim, meter)
        if self.consistency is not None:
            with meter.stage("consistency"):
                assessment = self.consistency.measure(self.gateway, claim, assessment, meter)
        return assessment, warnings
