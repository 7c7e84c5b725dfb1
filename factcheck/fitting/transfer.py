"""Transfer: how a profile does in a domain it was not fitted on, and what label-free
adaptation (reading/adapt.py) recovers. ``factcheck calibrate --transfer`` leaves each part of a
label set out in turn, fits the section on the others and replays it on the part left out:
as fitted, with batch calibration, and with contextual calibration in place of the label bias.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from ..cost import Meter
from ..pipeline import Stages
from ..reading.adapt import CONTENT_FREE, combined, mean_distribution, prior_shift
from ..reading.readers import LinearHead, restrict
from ..runs.metrics import accuracy, auroc, bootstrap, macro_f1
from ..schema import EvidenceSentence, Label, LabelSet, label_names
from .heads import read_answers
from .replay import apply_section
from .samples import Sample
from .section import fit_section

ADAPTATIONS = ("none", "batch", "contextual")


def content_free_answers(stages: Stages) -> dict[str, float]:
    """The joint reading's answers for content-free input (CONTENT_FREE as claim and evidence),
    averaged: contextual calibration's prior, as the label words give it."""
    meter, answers = Meter(), []
    for text in CONTENT_FREE:
        sentence = EvidenceSentence(id="cf@0", passage_id="cf", doc_id="cf", text=text or " ", source="content-free",
                                    start=0, end=max(len(text), 1))
        reading = stages.read.passes(text or " ", [sentence], meter, layout="joint")
        answers.append(reading.passes[0].probs)
    return {k.value: v for k, v in mean_distribution(answers).items()}


@dataclass
class TransferRow:
    left_out: str
    adaptation: str
    claims: int
    macro_f1: float
    macro_f1_ci: tuple[float, float]
    accuracy: float
    auroc: float | None
    auroc_ci: tuple[float, float] | None
    predicted_share: dict[str, float] = field(default_factory=dict)
    gold_share: dict[str, float] = field(default_factory=dict)

    @property
    def shares_within(self) -> bool:
        """Each gold label's predicted share between 0.5x and 1.5x its gold share (the target)."""
        return all(0.5 * g <= self.predicted_share.get(lab, 0.0) <= 1.5 * g
                   for lab, g in self.gold_share.items() if g > 0)


def adapted_section(section: dict, adaptation: str, label_set: LabelSet, fold: Sequence[Sample],
                    content_free: dict[str, float] | None) -> dict | None:
    """``section`` with ``adaptation``'s shift in its label bias (None: cannot be applied)."""
    bias = {Label(k): v for k, v in (section.get("label_bias") or {}).items()}
    if adaptation == "none":
        return section
    if adaptation == "batch":
        read = [o.probs for o in apply_section(fold, section, label_set, "retrieve") if o.read and o.probs]
        if not read:
            return None
        prior = mean_distribution([{Label(k): v for k, v in p.items()} for p in read])
        shift = combined(bias, prior_shift(prior))
    elif adaptation == "contextual":
        if content_free is None or not section.get("reader", "joint").startswith("joint") or section.get("probe"):
            return None
        head = LinearHead.model_validate(section["answer_map"]) if section.get("answer_map") else None
        reader = "joint+scaled" if head is not None else "joint+logits"
        prior = restrict(read_answers(content_free, reader, head), label_set, None).probs
        shift = prior_shift(prior)  # in place of the fitted bias: that is what carries the fit's domains
    else:
        raise ValueError(adaptation)
    return dict(section, label_bias={k.value: v for k, v in shift.items()})


def leave_one_out(parts: dict[str, list[Sample]], label_set: LabelSet, reader: str, *, budget_fraction: float,
                  max_loss: float, content_free: dict[str, float] | None = None) -> list[TransferRow]:
    """For each part: the section fitted on the others, replayed (route auto) on it, adapted each way."""
    names = label_names(label_set)
    rows = []
    for left_out, fold in parts.items():
        train = [s for name, samples in parts.items() if name != left_out for s in samples if s.joint]
        if not fold or len(train) < 20:
            continue
        section = fit_section(train, label_set, reader=reader, budget_fraction=budget_fraction, max_loss=max_loss)[0]
        for adaptation in ADAPTATIONS:
            varied = adapted_section(section, adaptation, label_set, fold, content_free)
            if varied is None:
                continue
            outcomes = apply_section(fold, varied, label_set, "auto")
            gold = [o.gold for o in outcomes]
            predicted = [o.verdict for o in outcomes]
            right = [p == g for p, g in zip(predicted, gold)]
            confidence = [o.confidence for o in outcomes]
            f1_ci = bootstrap(lambda g, p: macro_f1(g, p, names), gold, predicted) or (float("nan"),) * 2
            area = auroc(confidence, right)
            area_ci = bootstrap(lambda c, r: auroc(c, r) or 0.5, confidence, right) if area is not None else None
            rows.append(TransferRow(
                left_out, adaptation, len(outcomes), round(macro_f1(gold, predicted, names), 4),
                (round(f1_ci[0], 4), round(f1_ci[1], 4)), round(accuracy(gold, predicted), 4),
                None if area is None else round(area, 4),
                None if area_ci is None else (round(area_ci[0], 4), round(area_ci[1], 4)),
                {n: round(predicted.count(n) / len(predicted), 3) for n in names},
                {n: round(gold.count(n) / len(gold), 3) for n in names}))
    return rows
