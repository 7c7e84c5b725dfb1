"""Verify: the final verdict, read from evidence sentences when there are any.

``confidence`` means one thing on every route: the probability ``label_probs`` gives the
verdict (before the profile's calibrator, which maps it to an estimated probability of
being right).
"""

from __future__ import annotations

from .cost import Meter
from .judge import Judge
from .labels import LabelSet
from .readers import Reader
from .schema import Assessment, EvidenceSentence, Label, LabelDistribution, Verdict


def _verdict(dist: LabelDistribution, label: Label, basis: str, used: list[str], reader: str | None = None,
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
        closed_book = assessment.combined or assessment.distribution
        if evidence_needed and judge.label_set is LabelSet.THREE:
            return _verdict(closed_book, Label.NOT_ENOUGH_INFO, "none", []), []
        return _verdict(closed_book, closed_book.top, "model", []), []
    with meter.stage("verify"):
        reading = reader.read(judge, claim, sentences, meter)
    dist = reading.distribution
    return _verdict(dist, dist.top, "evidence", reading.used, reader.name, reading.shown), reading.warnings
