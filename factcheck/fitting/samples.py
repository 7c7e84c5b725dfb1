"""Samples: everything ``factcheck calibrate`` fits from, measured once per labeled claim.

For each claim: the closed-book distribution and tau (the direct route), the search and its
cheap signals (the router's inputs), and the evidence passes of every reader layout, with
the final hidden state (the probe's input) and the cost of each. Fitting and comparing
readers, label biases, calibrators and routers then needs no further model call, and the
samples are kept in a file beside the result cache so a refit costs nothing.
"""

from __future__ import annotations

import copy
import hashlib
import json
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from ..cost import Meter
from ..pipeline import Stages
from ..reading.readers import Pass
from ..routing.route import route_signals


@dataclass
class Sample:
    id: str
    claim: str
    gold: str
    closed: dict[str, float]  # closed-book label probabilities (the run's label set)
    tau: float
    closed_tokens: int
    signals: dict[str, float]
    joint: dict[str, float]  # three-way answer probabilities, joint layout
    joint_tokens: int  # as measured, after this claim's closed-book pass
    chunks: list[dict[str, float]] = field(default_factory=list)  # one per sentence, chunk layout
    chunk_tokens: int = 0
    shown_docs: list[str] = field(default_factory=list)
    # the joint pass's cost right after another claim's joint pass, as in a run that reads every
    # claim (the instruction head is then in the KV cache); None where unknown (a server)
    joint_tokens_warm: int | None = None
    # an escalation (routing/route.py Escalation), measured only where calibrate fits one: the
    # joint pass over the next best sentences of a wider search alone, and over the first and
    # those together; their tokens as read cold (a check reading right after the first reading
    # reuses its prefix from the KV cache, so "pooled" costs less there)
    escalated: bool = False
    second: dict[str, float] = field(default_factory=dict)
    pooled: dict[str, float] = field(default_factory=dict)
    second_tokens: int = 0
    pooled_tokens: int = 0
    hidden: np.ndarray | None = None  # joint layout's final hidden state (not in the JSON)


def measure(stages: Stages, claim_id: str, claim: str, gold: str, *, chunks: bool) -> Sample:
    """Run the closed-book pass, the search and the evidence passes for one claim, through the
    stages a check runs (``pipeline.Stages``)."""
    gateway = stages.gateway
    meter = Meter()
    assessment, _ = stages.assess.closed_book(claim, meter)
    closed = assessment.distribution
    closed_tokens = meter.tokens.prompt
    passages = stages.search(claim, meter).passages
    sentences = stages.select(claim, passages, meter)
    signals = route_signals(claim, assessment, passages, sentences)
    joint = Pass({}, 0.0, None)
    joint_tokens = chunk_tokens = 0
    joint_tokens_warm = None
    per_chunk: list[dict[str, float]] = []
    if sentences:
        before, cached_before = meter.tokens.prompt, meter.tokens.cached
        joint = stages.read.passes(claim, sentences, meter, layout="joint",
                                   hidden=gateway.model.supports_hidden).passes[0]  # a server has none
        joint_tokens = meter.tokens.prompt - before
        head = gateway.evidence_head_tokens()
        if head is not None:
            prompt_length = joint_tokens + meter.tokens.cached - cached_before
            joint_tokens_warm = prompt_length - min(head, prompt_length - 1)
        if chunks:
            before = meter.tokens.prompt
            reading = stages.read.passes(claim, sentences, meter, layout="chunks")
            per_chunk = [{k.value: v for k, v in p.probs.items()} for p in reading.passes]
            chunk_tokens = meter.tokens.prompt - before
    return Sample(
        id=claim_id, claim=claim, gold=gold,
        closed={k.value: v for k, v in closed.probs.items()}, tau=signals["tau"], closed_tokens=closed_tokens,
        signals=signals, joint={k.value: v for k, v in joint.probs.items()}, joint_tokens=joint_tokens,
        joint_tokens_warm=joint_tokens_warm,
        chunks=per_chunk, chunk_tokens=chunk_tokens, shown_docs=sorted({s.doc_id for s in sentences}),
        hidden=joint.hidden,
    )


def measure_escalation(stages: Stages, sample: Sample) -> Sample:
    """``sample`` with its escalation measured, as a check escalates (pipeline ``_Run.escalate``):
    the claim searched again for ``Escalation.k`` passages, the best sentences not read at first,
    read alone and after the first ones."""
    meter = Meter()
    first = stages.select(sample.claim, stages.search(sample.claim, meter).passages, meter)
    measured = copy.copy(sample)
    measured.escalated = True
    if not first:
        return measured
    wide = stages.search(sample.claim, meter, k=stages.route.escalation.k(stages.search.k)).passages
    fresh = stages.select.next_best(sample.claim, wide, first, meter)
    if not fresh:
        return measured
    for name, shown in (("pooled", first + fresh), ("second", fresh)):
        before = meter.tokens.prompt
        probs = stages.read.passes(sample.claim, shown, meter, layout="joint").passes[0].probs
        setattr(measured, name, {k.value: v for k, v in probs.items()})
        setattr(measured, f"{name}_tokens", meter.tokens.prompt - before)
    return measured


class SampleStore:
    """Samples on disk: ``samples.jsonl`` plus ``hidden.npy`` rows, keyed by claim and the
    settings key, appended as they are measured (an interrupted run keeps what it did)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)
        self._rows: dict[str, Sample] = {}
        jsonl = folder / "samples.jsonl"
        if jsonl.exists():
            for line in jsonl.read_text(encoding="utf-8").splitlines():
                try:
                    row = json.loads(line)
                    key = row.pop("key")
                    hidden = np.load(folder / "hidden" / f"{key}.npy") if row.pop("has_hidden") else None
                except (ValueError, KeyError, OSError):
                    continue  # a torn last line or a missing array: measured again
                self._rows[key] = Sample(**row, hidden=hidden)

    @staticmethod
    def key(settings_key: str, claim: str, chunks: bool) -> str:
        return hashlib.sha256(f"{settings_key}\n{int(chunks)}\n{claim}".encode()).hexdigest()[:32]

    def get(self, key: str) -> Sample | None:
        return self._rows.get(key)

    def put(self, key: str, sample: Sample) -> None:
        if sample.hidden is not None:
            (self.folder / "hidden").mkdir(exist_ok=True)
            np.save(self.folder / "hidden" / f"{key}.npy", sample.hidden)
        row = {k: v for k, v in asdict(sample).items() if k != "hidden"}
        row.update(key=key, has_hidden=sample.hidden is not None)
        with (self.folder / "samples.jsonl").open("a", encoding="utf-8") as fh:
            fh.write(json.dumps(row) + "\n")
        self._rows[key] = sample


def collect(stages: Stages, claims, *, settings_key: str, store: SampleStore | None, chunks: bool = False,
            escalate: Callable[[str], bool] = lambda claim_id: False,
            on_claim: Callable[[], None] | None = None) -> list[Sample]:
    """One Sample per labeled claim (``claims``: items with id, claim, label), from the
    store where it was measured before with the same settings; its escalation measured too
    where ``escalate(claim id)`` says (calibrate measures it on a share of the claims)."""
    samples = []
    for item in claims:
        key = SampleStore.key(settings_key, item.claim, chunks)
        sample = store.get(key) if store else None
        if sample is None:
            sample = measure(stages, item.id, item.claim, item.label, chunks=chunks)
            if store:
                store.put(key, sample)
        if escalate(item.id) and not sample.escalated and sample.joint:
            sample = measure_escalation(stages, sample)
            if store:
                store.put(key, sample)  # the later row wins when the store is read again
        # the same text may come again under another label (Check-COVID reuses claim texts):
        # each labeled claim is its own sample, sharing the measured passes
        sample = copy.copy(sample)
        sample.id, sample.gold = item.id, item.label
        samples.append(sample)
        if on_claim:
            on_claim()
    return samples
