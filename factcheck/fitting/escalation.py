"""Escalation: whether reading again, wider, pays where the first reading is unsure.

calibrate measures an escalation (samples.py ``measure_escalation``) on a share of the claims,
then compares, on those claims and on held-out folds (each fold's section fitted on the other
folds): always reading once, escalating under each of several confidences with each way of
keeping a reading, and always escalating. The best point is kept in the profile only when
its gain over reading once is clear of noise: the paired bootstrap interval's lower end
above zero. Otherwise the profile says "never", and the comparison is in calibrate's report.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import asdict, dataclass

from ..runs.metrics import bootstrap, macro_f1
from ..schema import LabelSet, label_names
from .cv import folds
from .replay import apply_section
from .samples import Sample
from .section import MIN_FIT_CLAIMS, fit_section

ESCALATION_CLAIMS = 200  # per label set, stratified by gold label: an escalation reads ~2.6x a first reading
BELOW = (0.5, 0.6, 0.7, 0.8, 0.9)  # confidences under which to escalate; 1.01 is "always"
KEEPS = ("second", "pooled", "surer")
ESCALATING_READERS = ("joint+logits", "joint+scaled")  # a stored escalation holds the label words


def escalation_claims(claims, n: int = ESCALATION_CLAIMS, seed: int = 0) -> set[str]:
    """The ids of up to ``n`` of ``claims`` (items with id and label), stratified by label."""
    by_label: dict[str, list[str]] = {}
    for item in claims:
        by_label.setdefault(item.label, []).append(item.id)
    rng = random.Random(seed)
    total = sum(len(ids) for ids in by_label.values())
    chosen: set[str] = set()
    for _label, ids in sorted(by_label.items()):
        ids = sorted(ids)
        rng.shuffle(ids)
        chosen.update(ids[: round(n * len(ids) / total)] if total > n else ids)
    return chosen


@dataclass
class EscalationPoint:
    strategy: str  # "read once", "escalate under 0.7, keep pooled", "always escalate, keep pooled"
    below: float | None
    keep: str | None
    macro_f1: float
    low: float
    high: float
    gain: float  # against reading once, paired on the same claims
    gain_low: float
    gain_high: float
    escalated: float  # share of claims escalated
    tokens_per_claim: float


def compare_escalation(samples: Sequence[Sample], label_set: LabelSet, reader: str, *, budget_fraction: float,
                       max_loss: float, seed: int = 0) -> tuple[list[EscalationPoint], EscalationPoint | None]:
    """Every strategy's held-out macro-F1 with its interval, on the escalated samples, and the
    one to keep (None: reading once). Each fold's section is fitted on the other folds' claims."""
    usable = [s for s in samples if s.escalated and s.joint]
    names = label_names(label_set)
    strategies = [(None, None)] + [(b, k) for k in KEEPS for b in (*BELOW, 1.01)]
    outcomes: dict[tuple, list] = {key: [] for key in strategies}

    if len(usable) < MIN_FIT_CLAIMS + 5:
        return [], None
    for fold in folds(len(usable), seed):
        held = set(fold.tolist())
        train = [s for i, s in enumerate(usable) if i not in held]
        if len(train) < MIN_FIT_CLAIMS:
            return [], None
        section = fit_section(train, label_set, reader=reader, budget_fraction=budget_fraction, max_loss=max_loss)[0]
        for below, keep in strategies:
            varied = dict(section, escalate_below=below, escalate_keep=keep or "pooled")
            outcomes[(below, keep)] += apply_section([usable[i] for i in fold], varied, label_set, "auto")
    gold = [o.gold for o in outcomes[(None, None)]]
    once = [o.verdict for o in outcomes[(None, None)]]

    def score(g, p):
        return macro_f1(g, p, names)

    points = []
    for (below, keep), got in outcomes.items():
        predicted = [o.verdict for o in got]
        low, high = bootstrap(score, gold, predicted) or (float("nan"), float("nan"))
        gain_low, gain_high = bootstrap(lambda g, p, q: score(g, p) - score(g, q), gold, predicted, once) or (0.0, 0.0)
        strategy = ("read once" if below is None else
                    f"always escalate, keep {keep}" if below > 1 else f"escalate under {below:g}, keep {keep}")
        points.append(EscalationPoint(
            strategy, below, keep, round(score(gold, predicted), 4), round(low, 4), round(high, 4),
            round(score(gold, predicted) - score(gold, once), 4), round(gain_low, 4), round(gain_high, 4),
            round(sum(o.escalated for o in got) / len(got), 3), round(sum(o.tokens for o in got) / len(got), 1)))
    best = max(points[1:], key=lambda p: (p.macro_f1, -p.tokens_per_claim))
    return points, (best if best.gain_low > 0 else None)


def fit_escalation(samples: Sequence[Sample], label_set: LabelSet, reader: str, *, budget_fraction: float,
                   max_loss: float) -> tuple[dict, dict]:
    """(what the section gets: escalate_below and escalate_keep; the report's part)."""
    if reader not in ESCALATING_READERS:
        return {}, {"escalation_skipped": f"the {reader} reader (an escalation is measured as label words)"}
    points, chosen = compare_escalation(samples, label_set, reader, budget_fraction=budget_fraction,
                                        max_loss=max_loss)
    if not points:
        return {}, {"escalation_skipped": "too few claims with a measured escalation"}
    report = {"escalation": [asdict(p) for p in points],
              "escalation_claims": sum(1 for s in samples if s.escalated and s.joint)}
    if chosen is None:
        report["escalation_chosen"] = "read once: no escalation's gain was clear of noise (paired 95% interval above 0)"
        return {"escalate_below": 0.0}, report
    report["escalation_chosen"] = chosen.strategy
    return {"escalate_below": min(chosen.below, 1.0), "escalate_keep": chosen.keep}, report
