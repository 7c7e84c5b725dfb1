"""Conclude: the verdict, read from evidence sentences when there are any.

``confidence`` means one thing on every route: the probability ``label_probs`` gives the
verdict; the profile's calibration maps it to an estimated probability of being right.
A live check and calibrate's replay (``fitting/replay.py``) decide through ``conclude``, so
there is one implementation of the final verdict.
"""

from __future__ import annotations

from ..schema import Assessment, Basis, Label, LabelDistribution, LabelSet, Verdict
from .calibration import Calibration
from .readers import Reading


def conclude(label_set: LabelSet, reading: LabelDistribution | None, closed_book: LabelDistribution | None, *,
             evidence_needed: bool) -> tuple[Label, LabelDistribution, Basis]:
    """(verdict, the distribution it was read from, basis) for one claim.

    With a reading of evidence, its top label (basis "evidence"). Without one: when the route
    asked for evidence and none could be had, a three-label verdict is NOT_ENOUGH_INFO (basis
    "none"), its confidence the closed-book probability of NOT_ENOUGH_INFO; otherwise, and
    always with binary labels, the closed-book verdict stands (basis "model")."""
    if reading is not None:
        return reading.top, reading, Basis.EVIDENCE
    assert closed_book is not None, "the closed-book pass is needed when there is no evidence"
    if evidence_needed and label_set is LabelSet.THREE:
        return Label.NOT_ENOUGH_INFO, closed_book, Basis.NONE
    return closed_book.top, closed_book, Basis.MODEL


def kept_reading(keep: str, first: LabelDistribution, second: LabelDistribution | None,
                 pooled: LabelDistribution | None) -> tuple[str, LabelDistribution]:
    """Which reading an escalated check concludes from (``escalate_keep``): the reading of the
    new sentences alone ("second"), of the first and the new together ("pooled"), or the surer
    of the first and the second ("surer"). Returns (which: first, second or pooled, its
    distribution); the first when the kept one was not read."""
    if keep == "pooled" and pooled is not None:
        return "pooled", pooled
    if keep == "second" and second is not None:
        return "second", second
    if keep == "surer" and second is not None and second.probs[second.top] > first.probs[first.top]:
        return "second", second
    return "first", first


class Conclude:
    """The conclude stage: the verdict from a reading of evidence, or from the closed-book
    assessment when there is none; and its confidence, calibrated by the profile's map."""

    def __init__(self, label_set: LabelSet, calibration: Calibration | None = None,
                 bar: float | None = None) -> None:
        self.label_set = label_set
        self.calibration = calibration
        self.bar = bar  # answer only when sure: a confidence under it abstains

    def __call__(self, reading: Reading | None, assessment: Assessment | None, *, evidence_needed: bool,
                 reader: str | None = None) -> Verdict:
        """``assessment`` may be None only when there is a reading."""
        if reading is None:
            assert assessment is not None, "the closed-book pass is needed when there is no evidence"
            label, dist, basis = conclude(self.label_set, None, assessment.combined or assessment.distribution,
                                          evidence_needed=evidence_needed)
            return Verdict(label=label, distribution=dist, confidence=dist.probs.get(label, 0.0), basis=basis)
        label, dist, basis = conclude(self.label_set, reading.distribution, None, evidence_needed=evidence_needed)
        return Verdict(label=label, distribution=dist, confidence=dist.probs.get(label, 0.0), basis=basis,
                       used_passages=reading.used, reader=reader, shown=reading.shown)

    def confidence(self, verdict: Verdict) -> float:
        """The verdict's confidence as a record shows it: calibrated where the profile fitted a map."""
        return self.calibration(verdict.confidence, verdict.basis) if self.calibration else verdict.confidence

    def abstains(self, confidence: float) -> bool:
        """Whether a verdict of this (record) confidence is kept only as a leaning."""
        return self.bar is not None and confidence < self.bar
