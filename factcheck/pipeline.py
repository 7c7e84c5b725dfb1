"""The pipeline: assess -> route -> retrieve -> verify -> record, for one claim at a time."""

from __future__ import annotations

from retrievers import Retriever

from .assess import assess
from .backend import LanguageModel
from .cost import Meter
from .judge import Judge
from .labels import LabelSet
from .record import build_record, error_record
from .records import CheckRecord, Claim, Route
from .retrieve import gather
from .route import decide
from .verify import verify


class Checker:
    """Checks claims with one loaded model and a fixed set of evidence sources."""

    def __init__(self, model: LanguageModel, *, labels: LabelSet = LabelSet.THREE,
                 sources: list[Retriever] | None = None, k: int = 3,
                 route: Route | None = None) -> None:
        self.model = model
        self.judge = Judge(model, labels)
        self.sources = list(sources or [])
        self.k = k
        self.forced_route = route

    def check(self, claim: Claim) -> CheckRecord:
        """Check one claim. Raises InputError for an empty claim."""
        text = validate_claim_text(claim.text)
        meter = Meter()
        warnings: list[str] = []
        assessment, notes = assess(self.judge, text, meter)
        warnings += notes
        decision = decide(assessment, have_sources=bool(self.sources), forced=self.forced_route)
        passages, queries = [], []
        if decision.route is not Route.DIRECT:
            queries.append(text)
            passages, notes = gather(self.sources, text, self.k, meter)
            warnings += notes
        verdict, notes = verify(self.judge, text, assessment, passages, meter)
        warnings += notes
        if decision.route is not Route.DIRECT and not passages:
            warnings.append("no evidence found: the verdict rests on the model's knowledge alone")
        return build_record(claim, assessment, decision, verdict, passages, queries, meter,
                            self.model.info, warnings)

    def check_or_error(self, claim: Claim) -> CheckRecord:
        """Like ``check``, but bad input becomes an error record instead of raising."""
        from .errors import InputError

        try:
            return self.check(claim)
        except InputError as exc:
            return error_record(claim, str(exc))


def validate_claim_text(text: str) -> str:
    """Return the claim with NUL bytes removed; raise InputError when nothing is left."""
    from .errors import InputError

    cleaned = text.replace("\x00", "").strip()
    if not cleaned:
        raise InputError("empty claim: give the text of a claim to check")
    return cleaned
