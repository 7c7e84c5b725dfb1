"""The pipeline: assess -> route -> retrieve -> verify -> record, one claim at a time."""

from __future__ import annotations

import copy

from .config.profile import Profile, load_profile
from .config.settings import Settings
from .cost import Meter
from .errors import InputError, ServerRequestFailed, SourcesUnavailable
from .evidence.retrieve import gather
from .evidence.select import Selector, WordSelector, selector
from .model import LanguageModel
from .reading.assess import assess, certainty
from .reading.calibration import Calibration
from .reading.consistency import ConsistencyEstimator
from .reading.judge import Judge
from .reading.labels import LabelSet
from .reading.readers import Reader
from .reading.verify import verify
from .record import build_record, error_record
from .retrievers import Retriever
from .routing.deep import deep_search
from .routing.plan import reading_route
from .routing.queries import next_query, reflect_query, targeted_query
from .routing.route import Router, Thresholds, decide
from .schema import (
    Assessment,
    CheckRecord,
    Claim,
    Hop,
    Label,
    Passage,
    Route,
    RouteDecision,
)


class Checker:
    """Checks claims with one loaded model and a fixed set of evidence sources."""

    def __init__(self, model: LanguageModel, *, labels: LabelSet = LabelSet.THREE,
                 sources: list[Retriever] | None = None, k: int = 3,
                 route: Route | None = None, consistency: ConsistencyEstimator | None = None,
                 thresholds: Thresholds | None = None, max_hops: int = 3,
                 deep_token_budget: int = 4000, calibration: Calibration | None = None,
                 sentences: int = 6, reader: Reader | None = None, router: Router | None = None,
                 sufficiency: float = 0.5, selector: Selector | None = None,
                 if_sources_fail: str = "error", profile: str | None = None) -> None:
        self.model = model
        self.judge = Judge(model, labels)
        self.sentences = sentences
        self.selector = selector or WordSelector()  # which sentences of the passages are shown
        self.reader = reader or Reader("joint", label_set=labels)
        self.router = router  # a fitted router on search signals; None: PCC's thresholds
        self.sufficiency = sufficiency  # deep search stops once the evidence verdict's tau reaches it
        self.sources = list(sources or [])
        self.k = k
        self.forced_route = route
        self.consistency = consistency
        self.thresholds = thresholds or Thresholds()
        self.max_hops = max_hops
        self.deep_token_budget = deep_token_budget
        self.calibration = calibration
        self.if_sources_fail = if_sources_fail  # "error", or "model": the model's own verdict
        self.profile = profile  # the applied profile's short digest, named on every record

    def check(self, claim: Claim) -> CheckRecord:
        """Check one claim. Raises InputError for an empty claim, and SourcesUnavailable when
        every evidence source fails (unless ``if_sources_fail`` is "model": then the verdict
        is the model's own, and the record says why)."""
        try:
            return self._check(claim)
        except SourcesUnavailable as exc:
            if self.if_sources_fail != "model":
                raise
            without = copy.copy(self)  # concurrent checks share self: change a copy
            without.sources = []
            record = without._check(claim)
            failures = str(exc).removeprefix("every evidence source failed: ").split("; ")
            return record.model_copy(update={
                "warnings": [f"every evidence source failed, so the verdict rests on the model's own knowledge: {exc}",
                             *record.warnings],
                "source_errors": failures})

    def _check(self, claim: Claim) -> CheckRecord:
        text = validate_claim_text(claim.text)
        meter = Meter()
        warnings: list[str] = []
        assessment: Assessment | None = None
        decision = self._reading_regardless()
        if decision is not None:
            # the route reads evidence whatever the model knows, so the closed-book pass is
            # paid for only when the search finds nothing to read (it then gives the verdict)
            passages, queries, hops = self._retrieve(text, decision, meter, warnings)
            sentences = self._select(text, passages, meter)
        else:
            assessment, notes = assess(self.judge, text, meter, self.consistency)
            warnings += notes
            decision, sentences, queries, hops = self._route_and_retrieve(text, assessment, meter, warnings)
        if assessment is None and not sentences:
            assessment, notes = assess(self.judge, text, meter)
            warnings += notes
        needed = decision.route is not Route.DIRECT
        verdict, notes = verify(self.judge, self.reader, text, assessment, sentences, meter, evidence_needed=needed)
        warnings += notes
        if needed and not sentences:
            warnings.append("no evidence found: " + ("not enough information to decide" if verdict.basis == "none"
                                                    else "the verdict rests on the model's knowledge alone"))
        return build_record(claim, assessment, decision, verdict, sentences, queries, meter, self.model.info,
                            warnings, self.calibration, hops=hops, thresholds=self.thresholds.model_dump(),
                            selection=self.selector.name if sentences else None, profile=self.profile)

    def _select(self, claim: str, passages: list[Passage], meter: Meter):
        with meter.stage("select"):  # by meaning, ~0.2 s of encoder time: a cost the record shows
            return self.selector.select(claim, passages, self.sentences)

    def _reading_regardless(self) -> RouteDecision | None:
        """The decision of a route that reads evidence without asking the model first: forced
        (``retrieve``, ``deep``), or auto with a router fitted to read every claim; None
        otherwise. With a consistency estimate the user asked for gamma, so it is measured."""
        return reading_route(self.forced_route, self.router, has_sources=bool(self.sources),
                             measures_consistency=self.consistency is not None)

    def _route_and_retrieve(self, text: str, assessment: Assessment, meter: Meter, warnings: list[str]):
        """The route, and the evidence sentences it brings: (decision, sentences, queries, hops)."""
        if self.router is None or not self.sources or self.forced_route is not None:
            decision = decide(assessment, self.thresholds, have_sources=bool(self.sources), forced=self.forced_route)
            passages, queries, hops = self._retrieve(text, decision, meter, warnings, assessment)
            return decision, self._select(text, passages, meter), queries, hops
        # searching a local index costs milliseconds; its signals tell the fitted router whether
        # reading (hundreds of prompt tokens) is worth it
        passages, notes = gather(self.sources, text, self.k, meter)
        warnings += notes
        sentences = self._select(text, passages, meter)
        decision = self.router.decide(text, assessment, passages, sentences)
        if decision.route is Route.DIRECT:
            return decision, [], [], []
        return decision, sentences, [text], []

    def _retrieve(self, claim: str, decision: RouteDecision, meter: Meter, warnings: list[str],
                  assessment: Assessment | None = None) -> tuple[list[Passage], list[str], list[Hop]]:
        route = decision.route
        if route is Route.DIRECT:
            return [], [], []
        if route is Route.DEEP:
            return self._deep(claim, meter, warnings)
        query = claim
        if route is Route.TARGETED:
            query = targeted_query(claim, assessment)
        elif route is Route.REFLECT:
            with meter.stage("query"):
                query = reflect_query(self.judge, claim, meter)
        passages, notes = gather(self.sources, query, self.k, meter)
        warnings += notes
        return passages, [query], []

    def _deep(self, claim: str, meter: Meter, warnings: list[str]):
        def search(query: str, seen: set[str]) -> list[Passage]:
            found, notes = gather(self.sources, query, self.k, meter, seen)
            warnings.extend(notes)
            return found

        def sufficiency(evidence: list[Passage]) -> float:
            # The evidence-grounded verdict's own margin: no extra question to the model,
            # and verify() later re-reads this same prompt from the KV cache.
            with meter.stage("verify"):
                shown = self.selector.select(claim, evidence, self.sentences)
                dist = self.reader.read(self.judge, claim, shown, meter).distribution
            return 0.0 if dist.top is Label.NOT_ENOUGH_INFO else certainty(dist)

        def write_next(evidence: list[Passage], tried: list[str]) -> str:
            with meter.stage("query"):
                return next_query(self.judge, claim, evidence, tried, meter)

        result = deep_search(claim, search, sufficiency, write_next, threshold=self.sufficiency,
                             max_hops=self.max_hops, token_budget=self.deep_token_budget,
                             spent=lambda: meter.tokens.prompt + meter.tokens.generated)
        return result.passages, result.queries, result.hops

    def judge_passages(self, claim: str, passages: list[Passage]):
        """The verdict this checker's reader gives ``claim`` over ``passages`` (sentences
        selected as in a check): for tests, benchmarks and programs that bring their own
        evidence. Returns a Verdict."""
        meter = Meter()
        assessment, _ = assess(self.judge, claim, meter)
        verdict, _ = verify(self.judge, self.reader, claim, assessment,
                            self.selector.select(claim, passages, self.sentences), meter, evidence_needed=True)
        return verdict

    def check_or_error(self, claim: Claim) -> CheckRecord:
        """Like ``check``, but bad input, a server request that failed after its retries, or
        every evidence source failing becomes an error record instead of raising."""
        try:
            return self.check(claim)
        except InputError as exc:
            return error_record(claim, str(exc))
        except (ServerRequestFailed, SourcesUnavailable) as exc:
            return error_record(claim, str(exc), kind="runtime")


class OnDemand:
    """A Checker built when the first claim needs one: a run whose every claim is answered
    from the result cache loads no model (~1-5 s of start-up saved)."""

    def __init__(self, build) -> None:
        self._build = build
        self._checker: Checker | None = None

    @property
    def checker(self) -> Checker:
        if self._checker is None:
            self._checker = self._build()
        return self._checker

    def check_or_error(self, claim: Claim) -> CheckRecord:
        return self.checker.check_or_error(claim)


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
    from .model.loader import model_identity, served_name

    if settings.api_base and settings.api_model is None:
        settings = settings.model_copy(update={"api_model": served_name(settings)})
    profile = load_profile(settings, model_identity(settings))
    return profile.apply(settings), profile


def build_checker(settings: Settings, load, profile: Profile | None = None) -> Checker:
    """Open the sources and the selector first (cheap, and a bad index or a missing encoder
    fails before the model loads), then load the model with ``load(settings)`` and build the
    Checker with what ``profile`` fitted (none: the label logits as read, PCC's thresholds)."""
    from .evidence.sources import open_sources
    from .reading.consistency import estimator

    fitted = (profile or Profile()).fitted
    sources = open_sources(settings)
    # with no source there is nothing to select from, so no encoder is needed
    chosen = selector(settings.selection, settings.min_coverage, settings.meaning_weight) if sources else WordSelector(settings.min_coverage)
    model = load(settings)
    if fitted.probe is not None and not model.supports_hidden:
        raise InputError("the profile's probe reader needs the model's hidden state, which a model server "
                         "does not return: use a profile with the logits reader (factcheck calibrate --reader "
                         "joint+logits) or the model in-process")
    return Checker(
        model, labels=settings.labels, sources=sources, k=settings.k,
        route=None if settings.route == "auto" else Route(settings.route),
        consistency=estimator(settings.consistency, settings.rationales_k),
        thresholds=Thresholds(alpha=settings.alpha, beta=settings.beta),
        max_hops=settings.max_hops, deep_token_budget=settings.deep_token_budget,
        calibration=fitted.calibration, sentences=settings.sentences,
        reader=Reader(settings.reader, head=fitted.probe, label_set=settings.labels, bias=fitted.label_bias,
                      answer_map=fitted.answer_map),
        router=fitted.router if settings.consistency == "none" else None,
        sufficiency=settings.sufficiency, selector=chosen, if_sources_fail=settings.if_sources_fail,
        profile=profile.digest[:16] if profile is not None and profile.digest else None,
    )
