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
            on_claim: Callable[[], None] | None = None) -> list[Sample]:
    """One Sample per labeled claim (``claims``: items with id, claim, label), from the
    store where it was measured before with the same settings."""
    samples = []
    for item in claims:
        key = SampleStore.key(settings_key, item.claim, chunks)
        sample = store.get(key) if store else None
        if sample is None:
            sample = measure(stages, item.id, item.claim, item.label, chunks=chunks)
            if store:
                store.put(key, sample)
        # the same text may come again under another label (Check-COVID reuses claim texts):
        # each labeled claim is its own sample, sharing the measured passes
        sample = copy.copy(sample)
        sample.id, sample.gold = item.id, item.label
        samples.append(sample)
        if on_claim:
            on_claim()
    return samples
