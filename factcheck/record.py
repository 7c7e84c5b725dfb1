"""Record: the last stage. Assemble the one result record from what the stages produced."""

from __future__ import annotations

from dataclasses import dataclass, field

from .cost import Meter
from .model import ModelInfo
from .reading.conclude import Conclude
from .schema import (
    Assessment,
    CheckRecord,
    Claim,
    ErrorRecord,
    EvidenceItem,
    EvidenceSentence,
    Hop,
    ModelRef,
    RecordError,
    RouteDecision,
    SourceFailure,
    Verdict,
)


@dataclass
class Trace:
    """What the stages of one check produced: everything its record is built from."""

    assessment: Assessment | None  # None: a route that read evidence skipped the closed-book pass
    decision: RouteDecision
    verdict: Verdict
    sentences: list[EvidenceSentence]
    queries: list[str]
    meter: Meter
    hops: list[Hop] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    failures: list[SourceFailure] = field(default_factory=list)
    selection: str | None = None  # how the sentences were chosen, when there were any
    certainty: float | None = None  # the tau the route was decided on (closed book, or the reading)
    certainty_from: str | None = None


class Recorder:
    """The record stage: a Trace as the CheckRecord that ``--json`` prints."""

    def __init__(self, model: ModelInfo, conclude: Conclude, *, thresholds: dict[str, float] | None = None,
                 profile: str | None = None) -> None:
        self.model = model
        self.conclude = conclude
        self.thresholds = thresholds or {}
        self.profile = profile  # the applied profile's short digest, named on every record

    def __call__(self, claim: Claim, trace: Trace) -> CheckRecord:
        verdict, assessment, sentences = trace.verdict, trace.assessment, trace.sentences
        used = set(verdict.used_passages)
        if verdict.shown is not None:  # exactly the sentences the model read
            shown = set(verdict.shown)
            sentences = [s for s in sentences if s.id in shown]
        dist = verdict.distribution
        meter = trace.meter
        confidence = round(self.conclude.confidence(verdict), 6)
        return CheckRecord(
            id=claim.id,
            claim=claim.text,
            verdict=verdict.label,
            confidence=confidence,
            abstained=self.conclude.abstains(confidence),
            confidence_raw=round(verdict.confidence, 6),
            calibrated=self.conclude.calibration is not None,
            profile=self.profile,
            label_probs={label: round(p, 6) for label, p in dist.probs.items()},
            outside_mass=round(dist.outside_mass, 6),
            entropy_bits=round(dist.entropy_bits, 6),
            certainty=None if trace.certainty is None else round(trace.certainty, 6),
            certainty_from=trace.certainty_from,
            consistency=None if assessment is None or assessment.consistency is None else round(assessment.consistency, 6),
            consistency_method=None if assessment is None else assessment.method,
            route=trace.decision.route,
            route_reason=trace.decision.reason,
            basis=verdict.basis,
            reader=verdict.reader,
            selection=trace.selection,
            thresholds=self.thresholds,
            queries=trace.queries,
            hops=trace.hops,
            evidence=[EvidenceItem(**p.model_dump(), used=p.id in used) for p in sentences],
            model=ModelRef(name=self.model.name, sha256=self.model.sha256, server=self.model.server),
            timings_ms={k: round(v, 2) for k, v in meter.timings_ms.items()},
            tokens=meter.tokens,
            calls=meter.calls,
            warnings=trace.warnings,
            source_errors=[str(f) for f in trace.failures],
        )


def error_record(claim: Claim, reason: str, line: int | None = None,
                 source: str | None = None, kind: str = "input") -> ErrorRecord:
    """A claim that could not be checked: bad ``input``, or a ``runtime`` failure (the model
    server or every evidence source)."""
    return ErrorRecord(id=claim.id, claim=claim.text,
                       error=RecordError(reason=reason, line=line, source=source, kind=kind))
