"""The pipeline: assess -> route -> search -> select -> read -> conclude -> record, one claim
at a time, composed of one object per stage (``Stages``).

A check and calibrate's measuring (``fitting/samples.py``) call the same stage objects; the
decisions between them are ``routing/plan.py``'s and ``reading/conclude.py``'s, which replay
uses too.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

from .config.settings import Settings
from .cost import Meter
from .errors import InputError, ServerRequestFailed, SourcesUnavailable
from .evidence.retrieve import Search
from .evidence.select import Select, Selector, WordSelector, selector_for
from .evidence.sources import open_sources
from .model import LanguageModel
from .model.loader import model_identity, served_name
from .profiles.profile import Profile, load_profile
from .reading.assess import Assess, certainty
from .reading.conclude import Conclude, kept_reading
from .reading.consistency import estimator
from .reading.gateway import ModelGateway
from .reading.readers import Read, Reader, Reading
from .record import Recorder, Trace, error_record
from .retrievers import Retriever
from .routing.deep import deep_search
from .routing.queries import next_query, reflect_query, targeted_query
from .routing.route import Depth, Escalation, Routing, Thresholds
from .schema import (
    Assessment,
    CheckRecord,
    Claim,
    ErrorRecord,
    EvidenceSentence,
    Hop,
    Label,
    LabelSet,
    Passage,
    Route,
    RouteDecision,
    SourceFailure,
    Verdict,
)


@dataclass(frozen=True)
class Stages:
    """One object per stage of a check, each with one interface."""

    assess: Assess  # (claim, meter) -> Assessment: tau, and gamma
    route: Routing  # what the assessment or the search says to do
    search: Search  # (query, meter) -> Found: passages and failed sources
    select: Select  # (claim, passages, meter) -> the evidence sentences shown
    read: Read  # (claim, sentences, meter) -> Reading: a label distribution
    conclude: Conclude  # (reading, assessment) -> Verdict, and its calibrated confidence
    record: Recorder  # (claim, Trace) -> CheckRecord

    @property
    def gateway(self) -> ModelGateway:
        """The model, asked through prompts: what claim extraction uses too."""
        return self.assess.gateway

    @property
    def label_set(self) -> LabelSet:
        return self.conclude.label_set


def compose(model: LanguageModel, *, labels: LabelSet = LabelSet.THREE, sources: list[Retriever] | None = None,
            k: int = 3, sentences: int = 6, selector: Selector | None = None, reader: Reader | None = None, consistency=None,
            routing: Routing | None = None, calibration=None, bar: float | None = None,
            profile: str | None = None) -> Stages:
    """The stages over one loaded model. Every argument but ``model`` has the value a check
    with no settings would use; ``stages_for`` maps Settings and a profile onto it."""
    gateway = ModelGateway(model, labels)
    routing = routing or Routing()
    conclude = Conclude(labels, calibration, bar)
    return Stages(
        assess=Assess(gateway, consistency),
        route=routing,
        search=Search(list(sources or []), k),
        select=Select(selector or WordSelector(), sentences),
        read=Read(gateway, reader or Reader("joint", label_set=labels)),
        conclude=conclude,
        record=Recorder(model.info, conclude, thresholds=routing.thresholds.model_dump(), profile=profile),
    )


class Pipeline:
    """Checks claims with one loaded model and a fixed set of evidence sources.

    ``if_sources_fail``: "error" (a claim whose every source failed is an error record), or
    "model" (its verdict is the model's own, and the record says why)."""

    def __init__(self, stages: Stages, *, if_sources_fail: str = "error") -> None:
        self.stages = stages
        self.if_sources_fail = if_sources_fail

    @property
    def model(self) -> LanguageModel:
        return self.stages.gateway.model

    def check(self, claim: Claim) -> CheckRecord:
        """Check one claim. Raises InputError for an empty claim, and SourcesUnavailable when
        every evidence source fails (unless ``if_sources_fail`` is "model")."""
        try:
            return self._check(claim, self.stages)
        except SourcesUnavailable as exc:
            if self.if_sources_fail != "model":
                raise
            # concurrent checks share the stages: the check without sources gets its own
            record = self._check(claim, replace(self.stages, search=self.stages.search.without_sources()))
            return record.model_copy(update={
                "warnings": [f"every evidence source failed, so the verdict rests on the model's own knowledge: {exc}",
                             *record.warnings],
                "source_errors": [str(f) for f in exc.failures]})

    def check_or_error(self, claim: Claim) -> CheckRecord | ErrorRecord:
        """Like ``check``, but bad input, a server request that failed after its retries, or
        every evidence source failing becomes an error record instead of raising."""
        try:
            return self.check(claim)
        except InputError as exc:
            return error_record(claim, str(exc))
        except (ServerRequestFailed, SourcesUnavailable) as exc:
            return error_record(claim, str(exc), kind="runtime")

    def _check(self, claim: Claim, stages: Stages) -> CheckRecord:
        text = validate_claim_text(claim.text)
        run = _Run(stages, text, Meter())
        has_sources = bool(stages.search)
        assessment: Assessment | None = None
        decision = stages.route.regardless(has_sources=has_sources,
                                           measures_consistency=stages.assess.measures_consistency)
        if decision is not None:
            # the route reads evidence whatever the model knows, so the closed-book pass is
            # paid for only when the search finds nothing to read (it then gives the verdict)
            sentences = run.retrieve(decision, None)
        else:
            assessment = run.assess(stages.assess)
            decision, sentences = run.route_and_retrieve(assessment)
        if assessment is None and not sentences:
            assessment = run.assess(stages.assess.closed_book)
        needed = decision.route is not Route.DIRECT
        reading = None
        if sentences:
            reading = stages.read(text, sentences, run.meter)
            run.warnings += reading.warnings
        reader = stages.read.reader.name if reading else None
        verdict = stages.conclude(reading, assessment, evidence_needed=needed, reader=reader)
        if needed and not sentences:
            run.warnings.append("no evidence found: " + ("not enough information to decide" if verdict.basis == "none"
                                                        else "the verdict rests on the model's knowledge alone"))
        routed_on: RoutedOn = (assessment.certainty, "closed_book") if assessment is not None else (None, None)
        if reading is not None and decision.route is not Route.DEEP:
            decision, verdict, sentences, routed_on = run.after_reading(decision, verdict, reading, sentences,
                                                                        assessment)
        return stages.record(claim, run.trace(assessment, decision, verdict, sentences, routed_on))

    def judge_passages(self, claim: str, passages: list[Passage]) -> Verdict:
        """The verdict this pipeline's reader gives ``claim`` over ``passages`` (sentences
        selected as in a check): for tests, benchmarks and programs that bring their own evidence."""
        meter = Meter()
        assessment, _ = self.stages.assess.closed_book(claim, meter)
        sentences = self.stages.select.pick(claim, passages)
        reading = self.stages.read(claim, sentences, meter) if sentences else None
        return self.stages.conclude(reading, assessment, evidence_needed=True,
                                    reader=self.stages.read.reader.name if reading else None)


RoutedOn = tuple[float | None, str | None]  # the certainty a route was decided on, and whose


class _Run:
    """One check in progress: its meter, warnings, failed sources, queries and hops."""

    def __init__(self, stages: Stages, claim: str, meter: Meter) -> None:
        self.stages, self.claim, self.meter = stages, claim, meter
        self.warnings: list[str] = []
        self.failures: list[SourceFailure] = []
        self.queries: list[str] = []
        self.hops: list[Hop] = []
        self.selected = False

    def assess(self, how: Callable[[str, Meter], tuple[Assessment, list[str]]]) -> Assessment:
        assessment, notes = how(self.claim, self.meter)
        self.warnings += notes
        return assessment

    def search(self, query: str, seen: set[str] | None = None, k: int | None = None) -> list[Passage]:
        found = self.stages.search(query, self.meter, seen, k)
        self.failures += found.failures
        return found.passages

    def select(self, passages: list[Passage]) -> list[EvidenceSentence]:
        self.selected = True
        return self.stages.select(self.claim, passages, self.meter)

    def route_and_retrieve(self, assessment: Assessment) -> tuple[RouteDecision, list[EvidenceSentence]]:
        """The route after the assessment, and the evidence sentences it brings."""
        stages, has_sources = self.stages, bool(self.stages.search)
        if not stages.route.searches_first(has_sources=has_sources):
            decision = stages.route.on_assessment(assessment, has_sources=has_sources)
            return decision, self.retrieve(decision, assessment)
        # searching a local index costs milliseconds; its signals tell the fitted router whether
        # reading (hundreds of prompt tokens) is worth it
        passages = self.search(self.claim)
        sentences = self.select(passages)
        decision = stages.route.on_search(self.claim, assessment, passages, sentences)
        if decision.route is Route.DIRECT:
            return decision, []
        self.queries = [self.claim]
        return decision, sentences

    def retrieve(self, decision: RouteDecision, assessment: Assessment | None) -> list[EvidenceSentence]:
        """The evidence sentences ``decision``'s route finds (none for the direct route)."""
        route = decision.route
        if route is Route.DIRECT:
            return []
        if route is Route.DEEP:
            passages = self.deep()
        else:
            query = self.claim
            if route is Route.TARGETED:
                query = targeted_query(self.claim, assessment)
            elif route is Route.REFLECT:
                with self.meter.stage("query"):
                    query = reflect_query(self.stages.gateway, self.claim, self.meter)
            passages = self.search(query)
            self.queries = [query]
        return self.select(passages)

    def after_reading(self, decision: RouteDecision, verdict: Verdict, reading: Reading,
                      sentences: list[EvidenceSentence], assessment: Assessment | None
                      ) -> tuple[RouteDecision, Verdict, list[EvidenceSentence], RoutedOn]:
        """The second routing decision, on the first reading: answer from it, or escalate.
        Returns the route, verdict and sentences read, and the certainty the route was decided
        on (the reading's, when no closed-book pass decided it or the escalation was weighed)."""
        stages = self.stages
        tau = certainty(reading.distribution)
        escalation = stages.route.after_reading(stages.conclude.confidence(verdict), tau)
        routed_on: RoutedOn = (assessment.certainty, "closed_book") if assessment is not None else (None, None)
        if escalation is not None or assessment is None:
            routed_on = (tau, "reading")
        if escalation is None:
            return decision, verdict, sentences, routed_on
        escalated = self.escalate(sentences, reading)
        if escalated is None:
            return decision.model_copy(update={"reason": f"{decision.reason}; {escalation.reason}, but a wider "
                                                         f"search found no sentence not read yet"}), \
                verdict, sentences, routed_on
        kept, sentences = escalated
        decision = escalation.model_copy(update={"reason": f"{escalation.reason}: searched wider and read the "
                                                           f"next best sentences"})
        verdict = stages.conclude(kept, assessment, evidence_needed=True, reader=verdict.reader)
        return decision, verdict, sentences, routed_on

    def escalate(self, shown: list[EvidenceSentence], first: Reading) -> tuple[Reading, list[EvidenceSentence]] | None:
        """Search the claim again for more passages, read the best sentences not read yet, and
        return the reading the escalation keeps with every sentence read; None when the wider
        search brings no new sentence."""
        stages, meter = self.stages, self.meter
        escalation = stages.route.escalation
        wide = self.search(self.claim, k=escalation.k(stages.search.k))
        fresh = stages.select.next_best(self.claim, wide, shown, meter)
        if not fresh:
            return None
        second = stages.read(self.claim, fresh, meter) if escalation.keep in ("second", "surer") else None
        pooled = stages.read(self.claim, shown + fresh, meter) if escalation.keep == "pooled" else None
        which, _ = kept_reading(escalation.keep, first.distribution, second and second.distribution,
                                pooled and pooled.distribution)
        kept = {"first": first, "second": second, "pooled": pooled}[which]
        self.warnings += [w for w in kept.warnings if w not in self.warnings]
        first_docs = {s.passage_id for s in shown}
        self.hops = [
            Hop(query=self.claim, passages=sorted(first_docs), sufficiency=round(certainty(first.distribution), 6),
                sufficient=False),
            Hop(query=self.claim, passages=sorted({s.passage_id for s in fresh} - first_docs),
                sufficiency=round(certainty(kept.distribution), 6), sufficient=which != "first")]
        return kept, shown + fresh

    def deep(self) -> list[Passage]:
        stages, meter, depth = self.stages, self.meter, self.stages.route.depth

        def sufficiency(evidence: list[Passage]) -> float:
            # The evidence-grounded verdict's own margin: no extra question to the model,
            # and the read stage later re-reads this same prompt from the KV cache.
            shown = stages.select.pick(self.claim, evidence)
            dist = stages.read(self.claim, shown, meter).distribution
            return 0.0 if dist.top is Label.NOT_ENOUGH_INFO else certainty(dist)

        def write_next(evidence: list[Passage], tried: list[str]) -> str:
            with meter.stage("query"):
                return next_query(stages.gateway, self.claim, evidence, tried, meter)

        result = deep_search(self.claim, self.search, sufficiency, write_next, threshold=depth.sufficiency,
                             max_hops=depth.max_hops, token_budget=depth.token_budget,
                             spent=lambda: meter.tokens.prompt + meter.tokens.generated)
        self.queries, self.hops = result.queries, result.hops
        return result.passages

    def trace(self, assessment: Assessment | None, decision: RouteDecision, verdict: Verdict,
              sentences: list[EvidenceSentence], routed_on: RoutedOn) -> Trace:
        return Trace(assessment=assessment, decision=decision, verdict=verdict, sentences=sentences,
                     certainty=routed_on[0], certainty_from=routed_on[1],
                     queries=self.queries, meter=self.meter, hops=self.hops, warnings=self.warnings,
                     failures=self.failures,
                     selection=self.stages.select.name if sentences else None)


def validate_claim_text(text: str) -> str:
    """Return the claim with NUL bytes removed; raise InputError when nothing is left."""
    cleaned = text.replace("\x00", "").strip()
    if not cleaned:
        raise InputError("empty claim: give the text of a claim to check")
    return cleaned


def configure(settings: Settings) -> tuple[Settings, Profile]:
    """The settings a run checks with and the profile it applies, found by the model's
    identity (a model file is hashed once; a server is asked once for its model's name, which
    the returned settings then carry so nothing asks again)."""
    if settings.api_base and settings.api_model is None:
        settings = settings.model_copy(update={"api_model": served_name(settings)})
    profile = load_profile(settings, model_identity(settings))
    return profile.apply(settings), profile


def build_pipeline(settings: Settings, load: Callable[[Settings], LanguageModel],
                   profile: Profile | None = None) -> Pipeline:
    """Open the sources and the selector first (cheap, and a bad index or a missing encoder
    fails before the model loads), then load the model with ``load(settings)`` and compose
    the stages with what ``profile`` fitted (none: the label logits as read, PCC's thresholds).
    The one mapping from settings to stages."""
    fitted = (profile or Profile()).fitted
    sources = open_sources(settings)
    # with no source there is nothing to select from, so no encoder is needed
    chosen = (selector_for(settings.selection, settings.min_coverage, settings.meaning_weight) if sources
              else WordSelector(settings.min_coverage))
    model = load(settings)
    if fitted.probe is not None and not model.supports_hidden:
        raise InputError("the profile's probe reader needs the model's hidden state, which a model server "
                         "does not return: use a profile with the logits reader (factcheck calibrate --reader "
                         "joint+logits) or the model in-process")
    routing = Routing(
        forced=None if settings.route == "auto" else Route(settings.route),
        router=fitted.router if settings.consistency == "none" else None,
        thresholds=Thresholds(alpha=settings.alpha, beta=settings.beta),
        depth=Depth(max_hops=settings.max_hops, token_budget=settings.deep_token_budget,
                    sufficiency=settings.sufficiency),
        escalation=Escalation(below=settings.escalate_below, keep=settings.escalate_keep))
    stages = compose(
        model, labels=settings.labels, sources=sources, k=settings.k, sentences=settings.sentences,
        selector=chosen, consistency=estimator(settings.consistency, settings.rationales_k), routing=routing,
        reader=Reader(settings.reader, head=fitted.probe, label_set=settings.labels, bias=fitted.label_bias,
                      answer_map=fitted.answer_map),
        calibration=fitted.calibration, bar=(profile or Profile()).abstention_bar(settings),
        profile=profile.digest[:16] if profile is not None and profile.digest else None)
    return Pipeline(stages, if_sources_fail=settings.if_sources_fail)
