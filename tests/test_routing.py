"""Consistency estimators, the four-way router, query writing and deep search (fake model)."""

import math

import pytest

from factcheck.cost import Meter
from factcheck.evidence.select import WordSelector
from factcheck.reading.assess import Assess
from factcheck.reading.consistency import (
    Framings,
    Rationales,
    js_divergence,
    mean_distribution,
)
from factcheck.reading.gateway import ModelGateway
from factcheck.routing.deep import deep_search
from factcheck.routing.queries import _parse_query, targeted_query
from factcheck.routing.route import Thresholds, decide
from factcheck.schema import (
    Assessment,
    Claim,
    Label,
    LabelDistribution,
    LabelSet,
    Passage,
    RationalePair,
    Route,
)

from .fakes import FakeModel, FakeRetriever, pipeline_of

S, R, N = Label.SUPPORTED, Label.REFUTED, Label.NOT_ENOUGH_INFO


def dist(s, r, n=0.0):
    return LabelDistribution(probs={S: s, R: r, N: n}, outside_mass=0.0, top_tokens_same_label=False)


def test_js_divergence_is_zero_for_equal_and_one_for_disjoint():
    assert js_divergence(dist(0.7, 0.3), dist(0.7, 0.3)) == pytest.approx(0.0, abs=1e-12)
    assert js_divergence(dist(1.0, 0.0), dist(0.0, 1.0)) == pytest.approx(1.0)
    # hand-computed: M = (0.5, 0.5); H(M) = 1; H(0.9,0.1) = 0.469; JS = 1 - 0.469
    h = -(0.9 * math.log2(0.9) + 0.1 * math.log2(0.1))
    assert js_divergence(dist(0.9, 0.1), dist(0.1, 0.9)) == pytest.approx(1 - h)


def test_mean_distribution_averages_labels():
    assert mean_distribution([dist(1, 0), dist(0, 1)]).probs == {S: 0.5, R: 0.5, N: 0.0}


def by_prompt(neutral, sceptical, reversed_):
    def script(prompt):
        if "subtly wrong" in prompt:
            return sceptical
        if "false, or true" in prompt:
            return reversed_
        return neutral
    return script


def test_framings_agreeing_give_gamma_one():
    same = {"TRUE": 0.8, "FALSE": 0.2}
    model = FakeModel(script=by_prompt(same, same, same))
    record = pipeline_of(model, consistency=Framings()).check(Claim(id="1", text="Water is wet."))
    assert record.consistency == pytest.approx(1.0, abs=1e-6)
    assert record.consistency_method == "framings" and record.tokens.generated == 0


def test_framings_disagreeing_lower_gamma_and_confidence():
    model = FakeModel(script=by_prompt({"TRUE": 0.9, "FALSE": 0.1}, {"FALSE": 0.9, "TRUE": 0.1},
                                       {"TRUE": 0.9, "FALSE": 0.1}))
    assessment, _ = Assess(ModelGateway(model, LabelSet.THREE), Framings())("Water is wet.", Meter())
    assert assessment.consistency < 0.8
    assert assessment.disagreeing == ["sceptical"]
    assert assessment.combined.probs[S] == pytest.approx((0.9 + 0.1 + 0.9) / 3, abs=1e-3)


def test_framings_share_the_cached_prefix():
    model = FakeModel()
    meter = Meter()
    gateway = ModelGateway(model, LabelSet.THREE)
    gateway.framing("sceptical", "Water is wet.", meter)
    gateway.framing("reversed", "Water is wet.", meter)
    assert meter.tokens.cached > 50


def rationale_script(contradiction):
    def script(prompt):
        if "contradict each other" in prompt:
            return {"YES": contradiction, "NO": 1 - contradiction}
        return {"TRUE": 0.9, "FALSE": 0.1}
    return script


def test_rationales_gamma_is_one_minus_mean_contradiction():
    model = FakeModel(script=rationale_script(0.25), completions=["Pro one.", "Pro two.", "Con one.", "Con two."])
    assessment, _ = Assess(ModelGateway(model, LabelSet.BINARY), Rationales(k=2))("Water is wet.", Meter())
    assert assessment.consistency == pytest.approx(0.75, abs=1e-3)
    assert assessment.pair.for_true in ("Pro one.", "Pro two.") and assessment.pair.for_false.startswith("Con")
    # 4 rationales + 4 pairs x 2 directions + 1 neutral pass
    contradiction_prompts = [p for p in model.prompts if "contradict each other" in p]
    assert len(contradiction_prompts) == 8
    # combined: neutral shrunk toward uniform by gamma
    assert assessment.combined.probs[S] == pytest.approx(0.75 * 0.9 + 0.25 * 0.5, abs=1e-3)


def assessment(tau, gamma):
    return Assessment(distribution=dist(0.5, 0.5), certainty=tau, consistency=gamma)


@pytest.mark.parametrize("tau, gamma, route", [
    (0.9, 0.95, Route.DIRECT), (0.9, 0.5, Route.TARGETED),
    (0.2, 0.95, Route.REFLECT), (0.2, 0.5, Route.DEEP),
    (0.5, 0.9, Route.DIRECT),  # thresholds are inclusive
    (0.9, None, Route.DIRECT), (0.1, None, Route.RETRIEVE),  # tau alone: no quadrants
])
def test_router_quadrants(tau, gamma, route):
    decision = decide(assessment(tau, gamma), Thresholds(alpha=0.5, beta=0.9), have_sources=True)
    assert decision.route is route
    assert f"tau={tau:.3f}" in decision.reason and "alpha=0.5" in decision.reason


def test_router_forced_and_without_sources():
    t = Thresholds()
    assert decide(assessment(0.9, 0.95), t, have_sources=True, forced=Route.DEEP).route is Route.DEEP
    no_sources = decide(assessment(0.1, 0.1), t, have_sources=False, forced=Route.DEEP)
    assert no_sources.route is Route.DIRECT and "model's knowledge alone" in no_sources.reason


def test_targeted_query_adds_the_terms_the_disagreement_is_about():
    a = assessment(0.9, 0.3).model_copy(update={"pair": RationalePair(
        for_true="Einstein was born in Ulm, Germany, in 1879.",
        for_false="Einstein was born in Vienna, Austria.", contradiction=0.9)})
    query = targeted_query("Einstein was born in Germany.", a)
    assert query.startswith("Einstein was born in Germany.")
    assert {"Ulm", "Vienna", "Austria"} <= set(query.split())
    assert targeted_query("Claim.", assessment(0.9, 0.3)) == "Claim."


@pytest.mark.parametrize("text, query", [
    ('{"search_query": "Eiffel Tower location"}', "Eiffel Tower location"),
    ('{"search_query": "cut off by max tok', "cut off by max tok"),
    ("", ""),
])
def test_query_json_always_parses(text, query):
    assert _parse_query(text) == query


def test_reflect_route_searches_with_the_model_written_query():
    model = FakeModel(script=lambda p: {"TRUE": 0.45, "FALSE": 0.4, "UNKNOWN": 0.15},
                      completions=['{"search_query": "boiling point of water"}'])
    source = FakeRetriever([Passage(id="p", doc_id="p", text="Water boils at 100 C.", source="s")])
    # every framing gives the same distribution: consistent (gamma = 1) but uncertain
    record = pipeline_of(model, sources=[source], consistency=Framings()).check(Claim(id="1", text="Water boils at 100 C."))
    assert record.route is Route.REFLECT and record.queries == ["boiling point of water"]
    assert source.queries == ["boiling point of water"] and record.tokens.generated > 0


def test_deep_search_stops_when_evidence_suffices():
    found = {"q1": [Passage(id="a", doc_id="a", text="A.", source="s")],
             "q2": [Passage(id="b", doc_id="b", text="B.", source="s")]}
    result = deep_search("q1", lambda q, seen: found.get(q, []),
                         judge=lambda ev: 0.9 if len(ev) == 2 else 0.2,
                         next_query=lambda ev, tried: "q2", threshold=0.5, max_hops=3)
    assert result.queries == ["q1", "q2"]
    assert [h.sufficient for h in result.hops] == [False, True]
    assert [p.id for p in result.passages] == ["a", "b"]


def test_deep_search_respects_max_hops_budget_and_repeated_queries():
    calls = []
    search = lambda q, seen: calls.append(q) or []  # noqa: E731
    assert len(deep_search("q", search, lambda ev: 0.0, lambda ev, t: f"q{len(t)}",
                           threshold=0.5, max_hops=3).hops) == 3
    assert len(deep_search("q", search, lambda ev: 0.0, lambda ev, t: "x",
                           threshold=0.5, max_hops=5, token_budget=10, spent=lambda: 11).hops) == 1
    assert len(deep_search("q", search, lambda ev: 0.0, lambda ev, t: "q",
                           threshold=0.5, max_hops=5).hops) == 1


def test_deep_route_records_every_hop_and_deduplicates():
    model = FakeModel(script=lambda p: {"UNKNOWN": 0.6, "TRUE": 0.3, "FALSE": 0.1},
                      completions=['{"search_query": "second"}', '{"search_query": "third"}'])
    same = Passage(id="p", doc_id="p", text="Same passage.", source="s")
    source = FakeRetriever([same])
    record = pipeline_of(model, sources=[source], route=Route.DEEP, max_hops=3, selector=WordSelector(0.0)).check(Claim(id="1", text="Claim x."))
    assert record.route is Route.DEEP
    assert [h.query for h in record.hops] == ["Claim x.", "second", "third"]
    assert [h.passages for h in record.hops] == [["p"], [], []]
    assert record.queries == ["Claim x.", "second", "third"] and len(record.evidence) == 1
    assert all(not h.sufficient for h in record.hops)
