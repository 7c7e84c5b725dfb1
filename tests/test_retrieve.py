"""Retrieval in the pipeline, with the fake model and scripted sources."""

import pytest

from factcheck.cost import Meter
from factcheck.errors import WebError
from factcheck.evidence.retrieve import Search
from factcheck.evidence.select import WordSelector
from factcheck.schema import Claim, LabelSet, Passage, Route

from .fakes import FakeModel, FakeRetriever, pipeline_of


def passage(pid, text, source="a", score=1.0):
    return Passage(id=pid, doc_id=pid.split("#")[0], title="T", text=text, source=source, score=score)


def test_search_interleaves_sources_and_drops_duplicate_text():
    a = FakeRetriever([passage("a1", "Same text."), passage("a2", "Only in a.")], name="a")
    b = FakeRetriever([passage("b1", "same   TEXT."), passage("b2", "Only in b.")], name="b")
    found = Search([a, b], 10)("q", Meter())
    assert [p.id for p in found.passages] == ["a1", "a2", "b2"] and found.failures == []


def test_a_failing_source_is_reported_typed_and_the_others_still_count():
    good = FakeRetriever([passage("g1", "Good.")], name="good")
    bad = FakeRetriever(error=WebError("http://x: gave up after 4 attempts (HTTP 500)"), name="web:wikipedia")
    found = Search([bad, good], 5)("q", Meter())
    assert [p.id for p in found.passages] == ["g1"]
    assert [(f.source, f.reason) for f in found.failures] == [
        ("web:wikipedia", "http://x: gave up after 4 attempts (HTTP 500)")]
    record = pipeline_of(FakeModel(), sources=[bad, good], route=Route.RETRIEVE).check(Claim(id="1", text="Good."))
    assert record.source_errors == ["web:wikipedia: http://x: gave up after 4 attempts (HTTP 500)"]
    assert not any("gave up" in w for w in record.warnings)  # said once, typed, in source_errors


def test_check_with_sources_grounds_the_verdict_in_numbered_quoted_evidence():
    model = FakeModel()
    source = FakeRetriever([passage("d#0", "Water is wet indeed."), passage("d#1", "Also wet.")])
    record = pipeline_of(model, sources=[source], k=2, route=Route.RETRIEVE).check(Claim(id="1", text="Water is wet."))
    assert record.route is Route.RETRIEVE and record.basis == "evidence"
    assert record.queries == ["Water is wet."] and source.queries == ["Water is wet."]
    assert [(e.id, e.passage_id, e.start, e.used) for e in record.evidence] == [
        ("d#0@0", "d#0", 0, True), ("d#1@0", "d#1", 0, True)]
    assert record.reader == "joint+logits"
    prompt = model.prompts[-1]
    # one title for the sentences of one document
    assert '<evidence>\nFrom "T":\n[1] Water is wet indeed.\n[2] Also wet.\n</evidence>' in prompt
    # the forced reading route found evidence, so no closed-book pass was paid for
    assert record.calls.model == 1 and record.calls.retrieval == 1
    assert set(record.timings_ms) == {"retrieve", "select", "verify"} and record.certainty_from == "reading"
    assert record.selection == "words"


def test_forced_reading_route_runs_the_closed_book_pass_only_when_nothing_is_found():
    model = FakeModel()
    source = FakeRetriever([passage("d#0", "Something else entirely.")])
    record = pipeline_of(model, labels=LabelSet.BINARY, sources=[source], k=1,
                     route=Route.RETRIEVE).check(Claim(id="1", text="Water is wet."))
    # no sentence shares the claim's words: the closed-book verdict stands, with its tau
    assert record.basis == "model" and record.certainty is not None
    assert record.calls.model == 1 and "assess" in record.timings_ms
    # on the auto route the closed-book pass comes first, as PCC's router needs tau
    record = pipeline_of(FakeModel(), sources=[FakeRetriever([passage("d#0", "Water is wet indeed.")])],
                     k=1).check(Claim(id="1", text="Water is wet."))
    assert record.certainty is not None and "assess" in record.timings_ms


def test_a_router_fitted_to_read_every_claim_skips_the_closed_book_pass():
    from factcheck.routing.route import SIGNALS, Router

    reads_always = Router(features=list(SIGNALS), weights=[0.0] * len(SIGNALS), intercept=-5.0, threshold=0.0)
    found = FakeRetriever([passage("d#0", "Water is wet indeed.")])
    record = pipeline_of(FakeModel(), sources=[found], k=1, router=reads_always).check(Claim(id="1", text="Water is wet."))
    assert record.route is Route.RETRIEVE and "reads every claim" in record.route_reason
    assert record.calls.model == 1 and record.certainty_from == "reading" and record.basis == "evidence"
    # a router with a real threshold asks the model first: tau is one of its inputs
    budgeted = reads_always.model_copy(update={"threshold": 0.5})
    record = pipeline_of(FakeModel(), sources=[found], k=1, router=budgeted).check(Claim(id="1", text="Water is wet."))
    assert record.route is Route.DIRECT and record.certainty is not None and "P(reading helps)" in record.route_reason


def test_no_evidence_found_is_not_enough_info_with_three_labels():
    record = pipeline_of(FakeModel(), sources=[FakeRetriever([])]).check(Claim(id="1", text="Water is wet."))
    assert record.verdict.value == "NOT_ENOUGH_INFO" and record.basis == "none" and record.evidence == []
    # confidence is the probability label_probs gives the verdict, on every route
    assert record.confidence == pytest.approx(record.label_probs["NOT_ENOUGH_INFO"], abs=1e-6)
    assert any("no evidence found: not enough information" in w for w in record.warnings)


def test_no_evidence_found_keeps_the_model_verdict_with_binary_labels():
    record = pipeline_of(FakeModel(), labels=LabelSet.BINARY, sources=[FakeRetriever([])]).check(
        Claim(id="1", text="Water is wet."))
    assert record.verdict.value == "SUPPORTED" and record.basis == "model"
    assert any("model's knowledge alone" in w for w in record.warnings)


def test_all_sources_failing_is_an_error_not_a_verdict():
    from factcheck.errors import SourcesUnavailable

    bad = FakeRetriever(error=WebError("timed out"), name="web:wikipedia")
    checker = pipeline_of(FakeModel(), sources=[bad])
    with pytest.raises(SourcesUnavailable, match="every evidence source failed: web:wikipedia: timed out"):
        checker.check(Claim(id="1", text="Water is wet."))
    record = checker.check_or_error(Claim(id="1", text="Water is wet."))
    assert record.error.kind == "runtime" and "timed out" in record.error.reason


def test_all_sources_failing_falls_back_to_the_model_only_when_asked():
    bad = FakeRetriever(error=WebError("timed out"), name="web:wikipedia")
    record = pipeline_of(FakeModel(), sources=[bad], if_sources_fail="model").check(Claim(id="1", text="Water is wet."))
    assert record.verdict.value == "SUPPORTED" and record.basis == "model"
    assert record.source_errors == ["web:wikipedia: timed out"]
    assert record.warnings[0].startswith("every evidence source failed, so the verdict rests on the model's own")


def test_a_partial_failure_is_recorded_and_never_cached(isolated_cache):
    from factcheck.runs.cache import ResultCache, cached_check

    good = FakeRetriever([passage("g1", "Water is wet.")], name="good")
    bad = FakeRetriever(error=WebError("timed out"), name="web:wikipedia")
    checker = pipeline_of(FakeModel(), sources=[bad, good])
    cache = ResultCache()
    record = cached_check(checker, Claim(id="1", text="Water is wet."), cache, "k")
    assert record.basis == "evidence" and record.source_errors == ["web:wikipedia: timed out"]
    assert cached_check(checker, Claim(id="1", text="Water is wet."), cache, "k").from_cache is False
    checker = pipeline_of(FakeModel(), sources=[good])  # the source is back: now the record is complete, and cached
    cached_check(checker, Claim(id="1", text="Water is wet."), cache, "k")
    assert cached_check(checker, Claim(id="1", text="Water is wet."), cache, "k").from_cache is True


def test_direct_route_without_sources_keeps_the_model_verdict():
    record = pipeline_of(FakeModel()).check(Claim(id="1", text="Water is wet."))
    assert record.verdict.value == "SUPPORTED" and record.basis == "model"


def test_passages_that_do_not_fit_the_context_are_dropped_with_a_warning():
    model = FakeModel(n_ctx=900)
    long = [passage(f"p#{i}", f"word{i} " * 100) for i in range(6)]
    record = pipeline_of(model, sources=[FakeRetriever(long)], k=6, selector=WordSelector(0.0)).check(Claim(id="1", text="Water is wet."))
    assert any("dropped to fit the context" in w for w in record.warnings)
    assert any("truncated from" in w for w in record.warnings)  # every cut is reported
    shown = [e for e in record.evidence]
    assert 0 < len(shown) < 6 and all(e.used for e in shown)


def test_passages_beyond_k_are_not_marked_seen_and_come_back_later():
    """Defect: every merged passage was marked seen but only the first k returned."""
    a = FakeRetriever([passage("a1", "One."), passage("a2", "Two."), passage("a3", "Three.")], name="a")
    b = FakeRetriever([passage("b1", "Four."), passage("b2", "Five.")], name="b")
    seen: set[str] = set()
    search = Search([a, b], 2)
    first, second = search("q", Meter(), seen).passages, search("q", Meter(), seen).passages
    assert [p.id for p in first] == ["a1", "b1"]
    assert [p.id for p in second] == ["a2", "b2"]


def test_samples_charge_reading_what_a_run_that_reads_every_claim_pays():
    """A sample's joint pass follows its closed-book pass; in a run that reads every claim it
    follows the previous claim's reading, whose instruction head is still in the KV cache.
    The sample records both, and the warm one is what the pipeline is charged."""
    from factcheck.fitting.samples import collect
    from factcheck.runs.evaluate import LabeledClaim

    class ByFirstWord(FakeRetriever):  # each claim its own evidence, as claims of a batch mostly have
        def search(self, query, k):
            return [p for p in self.passages if p.text.split()[0] in query][:k]

    found = ByFirstWord([Passage(id="d#0", doc_id="d", title="Water", text="Water is wet indeed.", source="a"),
                         Passage(id="e#0", doc_id="e", title="Fire", text="Fire is hot, as all know.", source="a")])
    claims = [LabeledClaim("1", "Water is wet.", "SUPPORTED", set()), LabeledClaim("2", "Fire is hot.", "SUPPORTED", set())]
    samples = collect(pipeline_of(FakeModel(), sources=[found], k=2).stages, claims, settings_key="k", store=None)
    assert all(s.joint_tokens_warm is not None and 0 < s.joint_tokens_warm < s.joint_tokens for s in samples)
    checker = pipeline_of(FakeModel(), sources=[found], k=2, route=Route.RETRIEVE)
    records = [checker.check(Claim(id=c.id, text=c.claim)) for c in claims]
    assert records[1].calls.model == 1 and records[1].tokens.prompt == samples[1].joint_tokens_warm
