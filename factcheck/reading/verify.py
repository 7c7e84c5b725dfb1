"""Verify: the final verdict, read from evidence sentences when there are any.

``confidence`` means one thing on every route: the probability ``label_probs`` gives the
verdict (before the profile's calibrator, which maps it to an estimated probability of
being right).
"""

from __future__ import annotations

from ..cost import Meter
from ..routing.plan import conclude
from ..schema import (
    Assessment,
    Basis,
    EvidenceSentence,
    Label,
    LabelDistribution,
    Verdict,
)
from .judge import Judge
from .readers import Reader


def _verdict(dist: LabelDistribution, label: Label, basis: Basis, used: list[str], reader: str | None = None,
             shown: list[str] | None = None) -> Verdict:
    return Verdict(label=label, distribution=dist, confidence=dist.probs.get(label, 0.0), basis=basis,
                   used_passages=used, reader=reader, shown=shown)


def verify(judge: Judge, reader: Reader, claim: str, assessment: Assessment | None, sentences: list[EvidenceSentence],
           meter: Meter, *, evidence_needed: bool = False) -> tuple[Verdict, list[str]]:
    """Judge ``claim`` against ``sentences`` with ``reader``. Returns the verdict and warnings.

    Without sentences: when the route asked for evidence and none could be had, the
    three-label verdict is NOT_ENOUGH_INFO (basis "none"), its confidence the closed-book
    probability of NOT_ENOUGH_INFO; otherwise, and always with binary labels, the closed-book
    verdict stands (basis "model"). ``assessment`` may be None only when there are sentences."""
    if not sentences:
        assert assessment is not None, "the closed-book pass is needed when there is no evidence"
        label, dist, basis = conclude(judge.label_set, None, assessment.combined or assessment.distribution,
                                      evidence_needed=evidence_needed)
        return _verdict(dist, label, basis, []), []
    with meter.stage("verify"):
        reading = reader.read(judge, claim, sentences, meter)
    label, dist, basis = conclude(judge.label_set, reading.distribution, None, evidence_needed=evidence_needed)
    return _verdict(dist, label, basis, reading.used, reader.name, reading.shown), reading.warnings
