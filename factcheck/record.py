"""Record: assemble the one result record from what the stages produced."""

from __future__ import annotations

from .cost import Meter
from .evidence.retrieve import SOURCE_FAILED
from .model import ModelInfo
from .reading.calibration import Calibration
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
    Verdict,
)


def build_record(claim: Claim, assessment: Assessment | None, decision: RouteDecision, verdict: Verdict,
                 sentences: list[EvidenceSentence], queries: list[str], meter: Meter, model: ModelInfo,
                 warnings: list[str], calibration: Calibration | None = None, *, hops: list[Hop] | None = None,
                 thresholds: dict[str, float] | None = None, selection: str | None = None,
                 profile: str | None = None) -> CheckRecord:
    used = set(verdict.used_passages)
    if verdict.shown is not None:  # exactly the sentences the model read
        shown = set(verdict.shown)
        sentences = [s for s in sentences if s.id in shown]
    dist = verdict.distribution
    return CheckRecord(
        id=claim.id,
        claim=claim.text,
        verdict=verdict.label,
        confidence=round(calibration(verdict.confidence, verdict.basis) if calibration else verdict.confidence, 6),
        confidence_raw=round(verdict.confidence, 6),
        calibrated=calibration is not None,
        profile=profile,
        label_probs={label: round(p, 6) for label, p in dist.probs.items()},
        outside_mass=round(dist.outside_mass, 6),
        entropy_bits=round(dist.entropy_bits, 6),
        # no assessment: a forced reading route found evidence, so the closed-book pass was not run
        certainty=None if assessment is None else round(assessment.certainty, 6),
        consistency=None if assessment is None or assessment.consistency is None else round(assessment.consistency, 6),
        consistency_method=None if assessment is None else assessment.method,
        route=decision.route,
        route_reason=decision.reason,
        basis=verdict.basis,
        reader=verdict.reader,
        selection=selection,
        thresholds=thresholds or {},
        queries=queries,
        hops=hops or [],
        evidence=[EvidenceItem(**p.model_dump(), used=p.id in used) for p in sentences],
        model=ModelRef(name=model.name, sha256=model.sha256, server=model.server),
        timings_ms={k: round(v, 2) for k, v in meter.timings_ms.items()},
        tokens=meter.tokens,
        calls=meter.calls,
        warnings=warnings,
        source_errors=[w[len(SOURCE_FAILED):] for w in warnings if w.startswith(SOURCE_FAILED)],
    )


def error_record(claim: Claim, reason: str, line: int | None = None,
                 source: str | None = None, kind: str = "input") -> ErrorRecord:
    """A claim that could not be checked: bad ``input``, or a ``runtime`` failure (the model
    server or every evidence source)."""
    return ErrorRecord(id=claim.id, claim=claim.text,
                       error=RecordError(reason=reason, line=line, source=source, kind=kind))
