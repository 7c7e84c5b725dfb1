"""Readers: how the verify stage reads evidence sentences into a label distribution.

A reader has a *layout* (which prompts it runs) and a *head* (how one forward pass becomes
label probabilities):

    layout  joint    one pass over the claim and all selected sentences
            chunks   one pass per sentence, the claim first so the shared prefix is
                     KV-cached; support and contradiction are each the max over sentences
                     (MiniCheck, SummaC-ZS), NOT_ENOUGH_INFO the least over sentences
    head    logits   the label words' next-token probabilities
            scaled   the same probabilities through a fitted linear map of their logs
                     (matrix scaling, Guo et al. 2017: a label bias that may also rescale
                     and mix the three answers; 12 numbers in the profile)
            probe    a linear softmax head on the final hidden state at the answer position,
                     fitted by ``factcheck calibrate`` and shipped in the profile

Evidence is always read with the three answers (TRUE / FALSE / UNKNOWN), so one pass serves
both label sets; a binary run renormalises over SUPPORTED and REFUTED. The profile's label
bias (log-space offsets, fitted for macro-F1) then makes the NOT_ENOUGH_INFO decision, and
the leaning towards one label, a fitted decision rather than a leftover.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Literal, Protocol

import numpy as np
from pydantic import BaseModel, ConfigDict, model_validator

from ..cost import Meter
from ..errors import ConfigError
from ..schema import EvidenceSentence, Label, LabelDistribution, LabelSet

THREE = [Label.SUPPORTED, Label.REFUTED, Label.NOT_ENOUGH_INFO]


class LinearHead(BaseModel):
    """Softmax regression: probs = softmax(weights @ x + intercept), rows in ``labels``
    order; x is the hidden state (the probe) or the three answers' log-probabilities (the
    answer map). Plain numbers, so applying it needs no fitting library."""

    model_config = ConfigDict(extra="forbid")

    labels: list[Label]
    weights: list[list[float]]
    intercept: list[float]

    @model_validator(mode="after")
    def _shape(self) -> LinearHead:
        if not self.weights or len(self.weights) != len(self.labels) or len(self.intercept) != len(self.labels):
            raise ValueError("linear head: one row of weights and one intercept per label")
        if len({len(row) for row in self.weights}) != 1:
            raise ValueError("linear head: weight rows differ in length")
        return self

    @property
    def dim(self) -> int:
        return len(self.weights[0])

    def __call__(self, hidden: np.ndarray) -> dict[Label, float]:
        if hidden.shape[-1] != self.dim:
            raise ConfigError(f"the profile's probe reads {self.dim}-d hidden states, this model has "
                              f"{hidden.shape[-1]}: refit it with factcheck calibrate for this model")
        z = np.asarray(self.weights) @ hidden.astype(np.float64) + np.asarray(self.intercept)
        z = np.exp(z - z.max())
        z /= z.sum()
        return dict(zip(self.labels, (float(v) for v in z)))


# An answer's probability is floored here before its log is taken, so a map never meets a
# value far outside what it was fitted on (the default model's least likely answer was 0.0017
# over 2,676 fit and eval readings; a scripted or other model can say exactly 0).
ANSWER_FLOOR = 1e-3


def answer_features(probs: dict[Label, float]) -> np.ndarray:
    """The answer map's input: log-probabilities of the three answers, in THREE order."""
    return np.array([math.log(max(probs.get(lab, 0.0), ANSWER_FLOOR)) for lab in THREE])


def map_answers(answer_map: LinearHead, probs: dict[Label, float]) -> dict[Label, float]:
    if answer_map.dim != len(THREE):
        raise ConfigError(f"the profile's answer map reads {len(THREE)} answers, not {answer_map.dim}")
    return answer_map(answer_features(probs))


@dataclass
class Pass:
    """One forward pass over an evidence prompt."""

    probs: dict[Label, float]  # the three answer words, renormalised
    outside_mass: float
    hidden: np.ndarray | None


@dataclass
class Reading:
    distribution: LabelDistribution  # over the run's label set, label bias applied
    used: list[str]  # ids of the sentences the verdict rests on
    shown: list[str] = field(default_factory=list)  # ids of the sentences that reached the model
    warnings: list[str] = field(default_factory=list)
    passes: list[Pass] = field(default_factory=list)  # raw material for fitting


class EvidenceAsker(Protocol):
    """What a reader needs from the gateway: one pass over an evidence prompt."""

    def evidence_pass(self, template: str, claim: str, sentences: list[EvidenceSentence], meter: Meter,
                      hidden: bool) -> tuple[Pass, list[EvidenceSentence], list[str]]: ...


def restrict(probs: dict[Label, float], label_set: LabelSet, bias: dict[Label, float] | None,
             outside_mass: float = 0.0) -> LabelDistribution:
    """Apply the label bias (log-space) and renormalise over ``label_set``'s labels."""
    labels = THREE if label_set is LabelSet.THREE else THREE[:2]
    bias = bias or {}
    weights = {lab: max(probs.get(lab, 0.0), 1e-12) * math.exp(bias.get(lab, 0.0)) for lab in labels}
    total = sum(weights.values())
    return LabelDistribution(probs={lab: w / total for lab, w in weights.items()}, outside_mass=outside_mass,
                             top_tokens_same_label=False)


class Reader:
    """Reads evidence sentences with one layout and one head."""

    def __init__(self, layout: Literal["joint", "chunks"] = "joint", head: LinearHead | None = None,
                 label_set: LabelSet = LabelSet.THREE, bias: dict[Label, float] | None = None,
                 answer_map: LinearHead | None = None) -> None:
        self.layout = layout
        self.head = head  # the probe, on the hidden state
        self.answer_map = answer_map  # or a map of the answers' log-probabilities
        self.label_set = label_set
        self.bias = bias

    @property
    def name(self) -> str:
        return f"{self.layout}+{'probe' if self.head else 'scaled' if self.answer_map else 'logits'}"

    def _head(self, raw: Pass) -> dict[Label, float]:
        if self.head is not None:
            return self.head(raw.hidden)
        return map_answers(self.answer_map, raw.probs) if self.answer_map is not None else raw.probs

    def read(self, gateway: EvidenceAsker, claim: str, sentences: list[EvidenceSentence], meter: Meter, *,
             hidden: bool = False) -> Reading:
        """Read ``sentences`` for ``claim``; ``hidden`` keeps each pass's final hidden state
        (the probe's input) even when this reader's head does not need it."""
        want_hidden = hidden or self.head is not None
        if self.layout == "joint":
            raw, shown, warnings = gateway.evidence_pass("verdict_sentences", claim, sentences, meter, want_hidden)
            dist = restrict(self._head(raw), self.label_set, self.bias, raw.outside_mass)
            ids = [s.id for s in shown]
            return Reading(dist, ids, ids, warnings, [raw])
        passes, ids, warnings = [], [], []
        for sentence in sentences:
            raw, shown, notes = gateway.evidence_pass("verdict_chunk", claim, [sentence], meter, want_hidden)
            warnings += notes
            if shown:
                passes.append(raw)
                ids.append(sentence.id)
        if not passes:
            return Reading(restrict({}, self.label_set, None), [], [], warnings)
        per_chunk = [self._head(p) for p in passes]
        aggregated = aggregate_chunks(per_chunk)
        dist = restrict(aggregated, self.label_set, self.bias,
                        float(np.mean([p.outside_mass for p in passes])))
        top = dist.top
        if top is Label.NOT_ENOUGH_INFO:
            used: list[str] = []  # no sentence settles it
        else:
            best = max(range(len(per_chunk)), key=lambda i: per_chunk[i].get(top, 0.0))
            used = [ids[best]]
        return Reading(dist, used, ids, warnings, passes)


def aggregate_chunks(per_chunk: list[dict[Label, float]]) -> dict[Label, float]:
    """Support and contradiction: the max over sentences; NOT_ENOUGH_INFO: the min (one
    sentence that settles the claim is enough). Unnormalised; ``restrict`` normalises."""
    return {
        Label.SUPPORTED: max(p.get(Label.SUPPORTED, 0.0) for p in per_chunk),
        Label.REFUTED: max(p.get(Label.REFUTED, 0.0) for p in per_chunk),
        Label.NOT_ENOUGH_INFO: min(p.get(Label.NOT_ENOUGH_INFO, 0.0) for p in per_chunk),
    }


@dataclass(frozen=True)
class Read:
    """The read stage: evidence sentences into a label distribution, by the model through
    ``gateway`` and with ``reader``'s layout and head."""

    gateway: EvidenceAsker
    reader: Reader

    def __call__(self, claim: str, sentences: list[EvidenceSentence], meter: Meter) -> Reading:
        with meter.stage("verify"):
            return self.reader.read(self.gateway, claim, sentences, meter)

    def passes(self, claim: str, sentences: list[EvidenceSentence], meter: Meter, *,
               layout: Literal["joint", "chunks"], hidden: bool = False) -> Reading:
        """The raw passes of ``layout`` (the label words as read, and the final hidden state
        when ``hidden``), whatever this stage's own reader: what calibrate fits readers from."""
        raw = Reader(layout, label_set=self.reader.label_set)
        return raw.read(self.gateway, claim, sentences, meter, hidden=hidden)
