"""Adapting the label decision to a new domain without labels.

A fitted label bias carries the tilt of the domains it was fitted on; in a domain it never saw
the verdicts lean one way (binary ones to SUPPORTED on SciFact, docs/results.md). Two
label-free corrections, each a log-space shift of the reading's distribution (the same form
as the label bias):

    batch       batch calibration (Zhou et al., ICLR 2024): the mean label distribution of the
                batch's own readings is its prior; divide it out
    contextual  contextual calibration (Zhao et al., 2021): the reading of content-free input
                ("N/A" as claim and evidence) is the prompt's own prior; divide it out

Both act on a finished reading, so a record can be adapted after the fact: its
``label_probs`` are the distribution its verdict was read from.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from ..schema import Adaptation, Basis, CheckRecord, Label
from .calibration import Calibration

# The content-free inputs of contextual calibration, averaged (Zhao et al. use "N/A", "" and "[MASK]").
CONTENT_FREE = ("N/A", "[MASK]", "")

# Batch calibration needs a batch: under this many readings its prior is mostly noise.
MIN_BATCH = 50


def mean_distribution(distributions: Sequence[dict[Label, float]]) -> dict[Label, float]:
    """The mean of label distributions over the labels of the first: a batch's (or the
    content-free inputs') prior."""
    labels = list(distributions[0])
    return {lab: sum(d.get(lab, 0.0) for d in distributions) / len(distributions) for lab in labels}


def prior_shift(prior: dict[Label, float]) -> dict[Label, float]:
    """The log-space shift that divides ``prior`` out: -log p(label), centred on SUPPORTED so it
    reads like a label bias."""
    logs = {lab: -math.log(max(p, 1e-9)) for lab, p in prior.items()}
    centre = logs.get(Label.SUPPORTED, 0.0)
    return {lab: round(v - centre, 6) for lab, v in logs.items()}


def shifted(probs: dict[Label, float], shift: dict[Label, float]) -> dict[Label, float]:
    """``probs`` with ``shift`` added in log space, renormalised."""
    weights = {lab: max(p, 1e-12) * math.exp(shift.get(lab, 0.0)) for lab, p in probs.items()}
    total = sum(weights.values())
    return {lab: w / total for lab, w in weights.items()}


def combined(*shifts: dict[Label, float] | None) -> dict[Label, float]:
    """Shifts added label by label (a label bias and an adaptation)."""
    out: dict[Label, float] = {}
    for shift in shifts:
        for lab, v in (shift or {}).items():
            out[lab] = out.get(lab, 0.0) + v
    return out


class BatchCalibration:
    """Batch calibration over a stream of records, in order (``batch`` and ``eval``).

    The prior is the running mean of the readings so far (the online form of Zhou et al.):
    records are held until ``min_claims`` claims have been read from evidence, then adapted
    with the mean of those, and each later one with the mean of every reading up to it. A
    record read from evidence gets ``adaptation`` (the method, how many readings the prior
    rests on, the shift); others pass unchanged. ``seen`` are the unadapted readings of
    records an earlier run already wrote (a resumed batch)."""

    def __init__(self, calibration: Calibration | None, bar: float | None, *, min_claims: int = MIN_BATCH,
                 seen: Sequence[dict[Label, float]] = ()) -> None:
        self.calibration, self.bar, self.min_claims = calibration, bar, min_claims
        self.readings = 0
        self.total: dict[Label, float] = {}  # the readings summed: their mean is the prior
        self.held: list[CheckRecord] = []
        for reading in seen:
            self._count(reading)

    def _count(self, reading: dict[Label, float]) -> None:
        self.readings += 1
        for label, p in reading.items():
            self.total[label] = self.total.get(label, 0.0) + p

    @property
    def warm(self) -> bool:
        return self.readings >= self.min_claims

    def __call__(self, record: CheckRecord) -> list[CheckRecord]:
        """The records ready to write, in order, now that ``record`` is in."""
        if not reads_evidence(record):
            if self.held:
                self.held.append(record)
                return []
            return [record]
        self._count(dict(record.label_probs))
        if not self.warm:
            self.held.append(record)
            return []
        shift = prior_shift({label: p / self.readings for label, p in self.total.items()})
        if self.held:
            ready = [self.adapt(r, shift) for r in (*self.held, record)]
            self.held = []
            return ready
        return [self.adapt(record, shift)]

    def finish(self) -> list[CheckRecord]:
        """The records still held (too few readings to adapt): unadapted."""
        held, self.held = self.held, []
        return held

    def adapt(self, record: CheckRecord, shift: dict[Label, float]) -> CheckRecord:
        if not reads_evidence(record):
            return record
        probs = shifted(dict(record.label_probs), shift)
        verdict = max(probs, key=probs.get)
        raw = probs[verdict]
        confidence = round(self.calibration(raw, "evidence") if self.calibration else raw, 6)
        return record.model_copy(update={
            "verdict": verdict, "label_probs": {k: round(v, 6) for k, v in probs.items()},
            "confidence_raw": round(raw, 6), "confidence": confidence,
            "abstained": self.bar is not None and confidence < self.bar,
            "adaptation": Adaptation(method="batch", claims=self.readings, shift=shift)})


def reads_evidence(record) -> bool:
    """A record whose verdict was read from evidence: what batch calibration adapts."""
    return isinstance(record, CheckRecord) and record.basis is Basis.EVIDENCE and bool(record.label_probs)


def unadapted(record: CheckRecord) -> dict[Label, float]:
    """The reading a record's verdict was decided from, before any adaptation."""
    if record.adaptation is None:
        return dict(record.label_probs)
    return shifted(dict(record.label_probs), {k: -v for k, v in record.adaptation.shift.items()})
