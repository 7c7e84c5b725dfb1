"""The schema: typed records passed between pipeline stages, and the one result record.

A claim flows: Claim -> Assessment (assess) -> RouteDecision (route) -> passages
(retrieve) -> Verdict (verify) -> CheckRecord (record). A claim that could not be checked
is an ``ErrorRecord`` instead, and a sentence of a document that gives no claim to check is
an ``UncheckedRecord`` (``batch --extract``). Each is exactly what ``--json`` prints and what
batch files hold (``Record``, told apart by ``error``, an object on an ErrorRecord, and
``unchecked``, the reason on an UncheckedRecord; all carry the same keys on the wire); the
cache stores CheckRecords only.
"""

from __future__ import annotations

import math
from enum import Enum
from typing import Annotated, Any, ClassVar, Literal, Union

from pydantic import (
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    Tag,
    TypeAdapter,
    model_serializer,
    model_validator,
)


class Label(str, Enum):
    SUPPORTED = "SUPPORTED"
    REFUTED = "REFUTED"
    NOT_ENOUGH_INFO = "NOT_ENOUGH_INFO"


class LabelSet(str, Enum):
    """Which verdicts a check chooses among."""

    THREE = "three"  # SUPPORTED / REFUTED / NOT_ENOUGH_INFO
    BINARY = "binary"  # the paper's True / False setting


def label_names(label_set: LabelSet) -> list[str]:
    """The label set's verdicts, in order: SUPPORTED, REFUTED (and NOT_ENOUGH_INFO)."""
    return [label.value for label in Label][: 2 if label_set is LabelSet.BINARY else 3]


class Route(str, Enum):
    DIRECT = "direct"  # both tau and gamma high: answer from the model
    TARGETED = "targeted"  # high tau, low gamma: one query from contradictory rationales
    REFLECT = "reflect"  # low tau, high gamma: one query from self-reflection
    DEEP = "deep"  # both low: iterative multi-hop search
    RETRIEVE = "retrieve"  # forced: one search with the claim as the query
    ESCALATED = "escalated"  # read, unsure: searched wider and read again (routing/route.py Escalation)


class Basis(str, Enum):
    """What a verdict rests on."""

    EVIDENCE = "evidence"  # evidence sentences, read by the model
    MODEL = "model"  # the model's own knowledge alone (closed book)
    NONE = "none"  # evidence was needed and none could be had: NOT_ENOUGH_INFO


class _Record(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Claim(_Record):
    id: str
    text: str


class LabelDistribution(_Record):
    """The verdict distribution read from one forward pass at the answer position."""

    probs: dict[Label, float]  # renormalised over the label set
    outside_mass: float  # probability that fell on tokens starting no label
    top_tokens_same_label: bool  # PCC: the two most probable tokens start the same label

    @property
    def ranked(self) -> list[tuple[Label, float]]:
        return sorted(self.probs.items(), key=lambda kv: kv[1], reverse=True)

    @property
    def top(self) -> Label:
        return self.ranked[0][0]

    @property
    def entropy_bits(self) -> float:
        return -sum(p * math.log2(p) for p in self.probs.values() if p > 0)


class RationalePair(_Record):
    """The most contradictory pair of opposing rationales (the ``rationales`` estimator)."""

    for_true: str
    for_false: str
    contradiction: float


class Assessment(_Record):
    """How sure the model is of the claim before any retrieval."""

    distribution: LabelDistribution  # the neutral closed-book prompt
    certainty: float  # tau, PCC section 2.1
    consistency: float | None = None  # gamma; None when not measured
    method: str = "none"  # which consistency estimator measured gamma
    views: dict[str, LabelDistribution] = Field(default_factory=dict)  # framing -> distribution
    disagreeing: list[str] = Field(default_factory=list)  # framings whose top label differs
    pair: RationalePair | None = None
    combined: LabelDistribution | None = None  # the distribution a direct verdict uses


class RouteDecision(_Record):
    route: Route
    reason: str


class SourceFailure(_Record):
    """An evidence source that failed for a query: the others still count."""

    source: str  # the source's name
    reason: str

    def __str__(self) -> str:
        return f"{self.source}: {self.reason}"


class Passage(_Record):
    """One retrieved passage; ``source`` names the retriever it came from."""

    id: str
    doc_id: str
    title: str = ""
    text: str
    source: str
    score: float = 0.0


class EvidenceSentence(_Record):
    """One sentence shown to the verdict, with where it came from."""

    id: str  # "<passage id>@<start>"
    passage_id: str
    doc_id: str
    title: str = ""
    text: str
    source: str
    start: int  # character offsets of the sentence in its passage's text
    end: int
    score: float = 0.0  # relevance to the claim within the selection pool (select.py)
    retrieval_score: float = 0.0  # the passage's score from its source


class EvidenceItem(EvidenceSentence):
    used: bool = False  # whether the verdict rests on this sentence


class Verdict(_Record):
    label: Label
    distribution: LabelDistribution
    confidence: float  # the probability the distribution gives the label (raw)
    basis: Basis
    used_passages: list[str] = Field(default_factory=list)  # ids of the sentences it rests on
    shown: list[str] | None = None  # ids of the sentences the model read (None: no evidence read)
    reader: str | None = None  # how the evidence was read (e.g. "joint+probe")


class Hop(_Record):
    """One round of deep search."""

    query: str
    passages: list[str]  # ids of the new passages this hop found
    sufficiency: float  # how far the evidence so far settles the claim, from the logits
    sufficient: bool


class ModelRef(_Record):
    name: str
    sha256: str  # of the GGUF file; for a served model, what stands for it (model/remote/base.py remote_identity)
    server: str | None = None  # the API base of a served model


class TokenUsage(_Record):
    prompt: int = 0  # prompt tokens the model evaluated
    cached: int = 0  # prompt tokens reused from the KV cache instead of evaluated
    generated: int = 0

    def add(self, other: TokenUsage) -> None:
        self.prompt += other.prompt
        self.cached += other.cached
        self.generated += other.generated


class Calls(_Record):
    model: int = 0
    retrieval: int = 0


class RecordError(_Record):
    reason: str
    kind: Literal["input", "runtime"] = "input"  # bad input (exit 2), or a model or source failure (exit 3)
    line: int | None = None
    source: str | None = None


class Adaptation(_Record):
    """A label-free adaptation applied to a verdict read from evidence (reading/adapt.py)."""

    method: Literal["batch"]  # batch calibration: the batch's mean reading divided out
    claims: int  # readings the prior was estimated from
    shift: dict[Label, float]  # the log-space shift added to the reading


class CheckRecord(_Record):
    """The result for one checked claim. Every route fills the same schema."""

    id: str
    claim: str
    verdict: Label
    confidence: float  # calibrated P(verdict is right) when a profile has a calibration
    # below the bar the run was given (--min-confidence, or --target-accuracy's threshold): the
    # verdict is kept but unsure, and counts as not settled
    abstained: bool = False
    confidence_raw: float | None = None  # the verdict's probability before calibration
    calibrated: bool = False  # whether ``confidence`` went through a fitted confidence map
    profile: str | None = None  # the profile applied: the first 16 hex digits of its file's SHA-256
    label_probs: dict[Label, float] = Field(default_factory=dict)
    outside_mass: float | None = None
    entropy_bits: float | None = None
    # the certainty tau the last routing decision was made on: the closed-book pass's, or, where
    # the route read evidence without one, the reading's (``certainty_from`` says which)
    certainty: float | None = None
    certainty_from: Literal["closed_book", "reading"] | None = None
    # batch calibration (batch and eval, from 50 claims read from evidence up): how the verdict
    # was adapted to the batch's domain; null when it was not
    adaptation: Adaptation | None = None
    consistency: float | None = None
    route: Route
    route_reason: str = ""
    basis: Basis
    reader: str | None = None  # how the evidence was read: layout+head, e.g. "joint+probe"
    selection: str | None = None  # how the sentences shown were chosen: "words" or "meaning"
    consistency_method: str | None = None
    thresholds: dict[str, float] = Field(default_factory=dict)  # alpha (tau), beta (gamma)
    queries: list[str] = Field(default_factory=list)
    hops: list[Hop] = Field(default_factory=list)
    evidence: list[EvidenceItem] = Field(default_factory=list)
    model: ModelRef | None = None
    timings_ms: dict[str, float] = Field(default_factory=dict)
    tokens: TokenUsage = Field(default_factory=TokenUsage)
    calls: Calls = Field(default_factory=Calls)
    warnings: list[str] = Field(default_factory=list)
    source_errors: list[str] = Field(default_factory=list)  # evidence sources that failed: "name: reason"
    error: None = None  # always null here: a claim that could not be checked is an ErrorRecord
    unchecked: None = None  # always null here: a sentence that gave no claim is an UncheckedRecord
    from_cache: bool = False  # served from the result cache (timings are the original run's)
    # a digest of the model, the settings and the evidence sources the record was made with:
    # a batch resumes only records of the same (batch stamps it; None elsewhere)
    settings_id: str | None = None
    extra: dict[str, object] = Field(default_factory=dict)  # input fields carried through

    def bearing(self) -> list[EvidenceItem]:
        """The sentences the verdict rests on, the ones that bear most on the claim first
        (selection's score): where a few must stand for the verdict, these are they."""
        return sorted((e for e in self.evidence if e.used), key=lambda e: -e.score)

    @property
    def verdict_text(self) -> str:
        """The verdict as text shows it: an abstained one as unsure, leaning to its label."""
        return f"unsure: {self.verdict.value}" if self.abstained else self.verdict.value


class _EveryKey(_Record):
    """A record that is not a verdict. On the wire it carries every key of a CheckRecord too,
    empty (null, [] or {}), so a script reads one shape whatever happened."""

    id: str
    claim: str
    settings_id: str | None = None
    extra: dict[str, object] = Field(default_factory=dict)

    @model_validator(mode="before")
    @classmethod
    def _drop_empty_keys(cls, data: Any) -> Any:
        if isinstance(data, dict):
            return {k: v for k, v in data.items() if k in cls.model_fields}
        return data

    @model_serializer(mode="wrap")
    def _with_every_key(self, handler) -> dict[str, Any]:
        own = handler(self)
        return {name: own[name] if name in own else _EMPTY[name] for name in CheckRecord.model_fields}


class ErrorRecord(_EveryKey):
    """A claim that could not be checked: bad input, or a model or source failure."""

    error: RecordError

    unchecked: ClassVar[None] = None  # (a class attribute: records are told apart by these two)


# Why a sentence of a document gave no claim to check (claims/sentences.py says which).
UncheckedReason = Literal["opinion", "question", "instruction", "fragment", "no factual statement"]


class UncheckedRecord(_EveryKey):
    """A sentence of a document that gave no claim to check, and why: a report accounts for
    every sentence. ``claim`` holds the sentence as written; ``extra`` where it stands."""

    unchecked: UncheckedReason

    error: ClassVar[None] = None  # (a class attribute: records are told apart by these two)


def _empty(name: str) -> Any:
    field = CheckRecord.model_fields[name]
    if field.is_required():
        return None
    value = field.get_default(call_default_factory=True)
    return value.model_dump() if isinstance(value, BaseModel) else value


_EMPTY = {name: _empty(name) for name in CheckRecord.model_fields}


def _record_kind(value: Any) -> str:
    def get(key):
        return value.get(key) if isinstance(value, dict) else getattr(value, key, None)

    return "error" if get("error") else "unchecked" if get("unchecked") else "checked"


# What a line of --json output or a batch file holds.
Record = Annotated[Union[Annotated[CheckRecord, Tag("checked")], Annotated[ErrorRecord, Tag("error")],
                         Annotated[UncheckedRecord, Tag("unchecked")]],
                   Discriminator(_record_kind)]
_RECORD = TypeAdapter(Record)


def parse_record(text: str | bytes) -> CheckRecord | ErrorRecord | UncheckedRecord:
    """One record from its JSON, as written by ``--json`` or ``batch``."""
    return _RECORD.validate_json(text)
