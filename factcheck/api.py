"""The Python entry point: a fact-checker opened from settings, the one the CLI uses too.

    import factcheck

    with factcheck.Checker(index=["notes-index"]) as checker:
        record = checker.check("The Eiffel Tower is in Berlin.")
        print(record.verdict.value, record.confidence)

Settings are the CLI's (``factcheck config show`` lists them), given as keyword arguments,
a ``Settings`` object, or read from the config file and ``FACTCHECK_*`` variables as the CLI
reads them. The model loads when the first claim needs it, and a claim checked before with
the same model, settings and sources is answered from the result cache.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

from .claims.extract import (
    ExtractedClaim,
    Extraction,
    SentenceOutcome,
    UncheckedSentence,
    each_sentence,
    extract_claims,
)
from .config.settings import Settings, resolve
from .evidence.sources import check_sources
from .model import LanguageModel, loader
from .pipeline import Pipeline, build_pipeline, configure
from .profiles.profile import Profile
from .reading.adapt import BatchCalibration
from .runs.cache import ResultCache, cached_check, run_key
from .schema import CheckRecord, Claim, ErrorRecord, UncheckedRecord

Record = CheckRecord | ErrorRecord | UncheckedRecord


class Checker:
    """Checks claims with one model, one profile and one set of evidence sources.

    ``settings``: a Settings, else resolved from ``options`` (keyword arguments named as the
    settings: ``index``, ``web``, ``labels``, ``route``, ``model``, …), the config file
    (``config``, else the usual one) and the environment, as the CLI resolves its flags.
    ``cache``: answer repeated claims from the result cache (and store new verdicts there).
    ``load``: how the model is loaded (the CLI's shows progress); ``on_load`` is called with
    the pipeline once it is built. A bad index or URL raises here, before any model loads; a
    ZIM archive that cannot be read is left out and named in ``unreadable`` (raised when it was
    the only source)."""

    def __init__(self, settings: Settings | None = None, *, config: Path | None = None, cache: bool = True,
                 load: Callable[[Settings], LanguageModel] | None = None,
                 on_load: Callable[[Pipeline], None] | None = None, **options) -> None:
        if settings is None:
            settings = resolve(options, config)
        elif options:
            settings = Settings.model_validate({**settings.model_dump(exclude_unset=True), **options})
        self.settings: Settings
        self.profile: Profile
        self.settings, self.profile = configure(settings)
        self.profile.abstention_bar(self.settings)  # a bar the profile cannot give fails before any claim
        self.settings, self.unreadable = check_sources(self.settings)
        self.cache_key = run_key(self.settings, self.profile)
        self.cache = ResultCache() if cache else None
        self._load = load or loader.open_model  # looked up now: tests put a scripted model there
        self._on_load = on_load
        self._pipeline: Pipeline | None = None

    @property
    def pipeline(self) -> Pipeline:
        """The stages over the loaded model, built (and the model loaded) on first use: a
        run answered whole from the cache loads no model."""
        if self._pipeline is None:
            self._pipeline = build_pipeline(self.settings, self._load, self.profile)
            if self._on_load is not None:
                self._on_load(self._pipeline)
        return self._pipeline

    def check(self, claim: str | Claim) -> Record:
        """One claim's record. A claim that cannot be checked (empty, or every evidence
        source failed, or the model server gave up) is an ErrorRecord: ``record.error`` says why."""
        return cached_check(self, _as_claim(claim, "1"), self.cache, self.cache_key)

    def check_many(self, claims: Iterable[str | Claim]) -> Iterator[Record]:
        """Each claim's record, in order (ids "1", "2", … for strings), adapted to the batch as
        ``batch`` adapts it (``adapt``: batch calibration holds the first records until 50
        claims are read from evidence)."""
        adapt = self.batch_calibration()
        for number, claim in enumerate(claims, start=1):
            record = self.check(_as_claim(claim, str(number)))
            yield from adapt(record) if adapt is not None else [record]
        if adapt is not None:
            yield from adapt.finish()

    def batch_calibration(self, seen=()) -> BatchCalibration | None:
        """The run's batch calibration (None with ``adapt="none"``); ``seen``: readings an
        earlier run already wrote. Needs no model: the profile's map and the run's bar."""
        if not self.settings.adapts:
            return None
        return BatchCalibration(self.profile.fitted.calibration, self.profile.abstention_bar(self.settings),
                                seen=seen)

    def extract(self, text: str, source: str = "<document>",
                on_sentence: Callable[[int, int], None] | None = None) -> Extraction:
        """Every sentence of a document accounted for, in order: its claims to check (each
        with the span of its sentence), or why it gives none."""
        return extract_claims(self.pipeline.stages.gateway, text, source, on_sentence=on_sentence)

    def extract_each(self, text: str, source: str = "<document>") -> Iterator[SentenceOutcome]:
        """Each sentence of a document, as soon as it is extracted (its claims, or the
        UncheckedSentence): what ``batch --extract`` checks as it goes."""
        return each_sentence(self.pipeline.stages.gateway, text, source)

    def check_document(self, text: str, source: str = "<document>") -> list[Record]:
        """Extract the document's claims and check each: a record per claim and an
        UncheckedRecord per sentence that gives none, in document order; each carries its
        sentence and offsets in ``extra`` (source, start, end, sentence), as ``batch --extract``
        writes them."""
        records = []
        for found in self.extract(text, source).items:
            if isinstance(found, UncheckedSentence):
                records.append(unchecked_record(found))
                continue
            record = self.check(Claim(id=found.id, text=found.claim))
            records.append(record.model_copy(update={"extra": document_fields(found)}))
        return records

    def check_or_error(self, claim: Claim) -> Record:
        """``claim`` checked now, past the cache (batch workers store what they find themselves)."""
        return self.pipeline.check_or_error(claim)

    def close(self) -> None:
        if self.cache is not None:
            self.cache.close()
        if self._pipeline is not None:
            for source in self._pipeline.stages.search.sources:
                source.close()
            close_model = getattr(self._pipeline.model, "close", None)
            if close_model is not None:
                close_model()

    def __enter__(self) -> Checker:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def document_fields(found: ExtractedClaim | UncheckedSentence) -> dict:
    """Where an extracted claim (or a sentence that gave none) stands in its document: a
    record's ``extra``."""
    fields = {"source": found.source, "start": found.start, "end": found.end, "sentence": found.sentence}
    if isinstance(found, ExtractedClaim):
        fields["extracted"] = found.made
    return fields


def unchecked_record(found: UncheckedSentence) -> UncheckedRecord:
    return UncheckedRecord(id=found.id, claim=found.sentence, unchecked=found.reason, extra=document_fields(found))


def _as_claim(claim: str | Claim, default_id: str) -> Claim:
    return claim if isinstance(claim, Claim) else Claim(id=default_id, text=claim)


def check(claim: str, **options) -> Record:
    """Check one claim with settings from ``options`` (as ``Checker``): the one-call form."""
    with Checker(**options) as checker:
        return checker.check(claim)

