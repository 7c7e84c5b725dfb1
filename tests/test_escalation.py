"""Escalating an unsure reading: the second routing decision, what the record says of it, the
certainty a claim was routed on, and calibrate's side-by-side comparison (scripted fake model;
tests/test_real_sure.py runs the real one)."""

import random

from factcheck.fitting.escalation import compare_escalation, escalation_claims
from factcheck.fitting.replay import apply_section
from factcheck.fitting.samples import Sample
from factcheck.routing.route import Escalation, Router
from factcheck.schema import Claim, LabelSet, Route

from .fakes import FakeModel, FakeRetriever, pipeline_of

# Ten one-sentence passages: the first search (k=2) finds two, the wider one (k=20) all ten.
PASSAGES = [{"id": f"p{i}", "doc_id": f"d{i}", "title": f"Doc {i}", "score": 10.0 - i, "source": "fake",
             "text": f"The tower was finished in year {1887 + i} by the builders."} for i in range(10)]


def unsure_until_year_1889(prompt: str) -> dict[str, float]:
    """Unsure unless the evidence shown holds the sentence about 1889; refuted once it does."""
    if "<evidence>" in prompt and "1889" in prompt.split("<evidence>", 1)[1].split("</evidence>", 1)[0]:
        return {"FALSE": 0.9, "TRUE": 0.05, "Maybe": 0.05}
    return {"TRUE": 0.4, "FALSE": 0.35, "Maybe": 0.25}


# the shipped profiles' router: read every claim, no closed-book pass first
READS_ALWAYS = Router(features=["tau"], weights=[0.0], intercept=0.0, threshold=0.0)


def pipeline(escalation: Escalation | None, route=None, router=READS_ALWAYS):
    model = FakeModel(unsure_until_year_1889)
    p = pipeline_of(model, sources=[FakeRetriever(PASSAGES)], k=2, sentences=2, route=route, router=router)
    if escalation is not None:
        p.stages.route.escalation = escalation
    return p


CLAIM = Claim(id="c", text="The tower was finished in year 1925 by the builders.")


def test_an_unsure_reading_escalates_reads_new_sentences_and_says_so():
    record = pipeline(Escalation(below=0.9, keep="pooled")).check(CLAIM)
    assert record.route is Route.ESCALATED
    assert "read, unsure: confidence" in record.route_reason and "searched wider" in record.route_reason
    assert len(record.hops) == 2 and record.hops[1].passages  # the wider search brought new passages
    shown = [e.text for e in record.evidence]
    assert len(shown) == 4 and any("1889" in t for t in shown)  # the first two and the next best two
    assert record.verdict.value == "REFUTED"
    # no closed-book pass ran: the certainty the escalation was decided on is the reading's
    assert record.certainty is not None and record.certainty_from == "reading"


def test_a_sure_reading_is_not_escalated_and_never_means_never():
    sure = pipeline(Escalation(below=0.01)).check(CLAIM)
    never = pipeline(Escalation(below=None)).check(CLAIM)
    for record in (sure, never):
        assert record.route is not Route.ESCALATED and not record.hops and len(record.evidence) == 2
    # the route read without the closed-book pass: certainty still says how sure the reading was
    assert never.certainty_from == "reading" and never.certainty is not None
    # PCC's quadrants route on the closed-book pass, and the record says so
    pcc = pipeline(Escalation(below=None), router=None).check(CLAIM)
    assert pcc.certainty_from == "closed_book" and pcc.certainty is not None


def test_a_forced_route_is_not_escalated():
    record = pipeline(Escalation(below=0.9), route=Route.RETRIEVE).check(CLAIM)
    assert record.route is Route.RETRIEVE and len(record.evidence) == 2


def test_keep_second_reads_only_the_new_sentences_and_surer_keeps_the_surer():
    second = pipeline(Escalation(below=0.9, keep="second")).check(CLAIM)
    assert second.route is Route.ESCALATED and second.verdict.value == "REFUTED"
    assert all("1887" not in e.text for e in second.evidence)  # the verdict rests on the second reading's sentences
    surer = pipeline(Escalation(below=0.9, keep="surer")).check(CLAIM)
    assert surer.verdict.value == "REFUTED"


def test_nothing_new_to_read_keeps_the_first_reading_and_says_why():
    model = FakeModel(unsure_until_year_1889)
    p = pipeline_of(model, sources=[FakeRetriever(PASSAGES[:2])], k=2, sentences=2, router=READS_ALWAYS)
    p.stages.route.escalation = Escalation(below=0.9)
    record = p.check(CLAIM)
    assert record.route is Route.RETRIEVE and "found no sentence not read yet" in record.route_reason


def test_escalation_claims_are_stratified_and_fixed():
    class Item:
        def __init__(self, i, label):
            self.id, self.label = f"c{i}", label

    items = [Item(i, "SUPPORTED" if i % 3 else "REFUTED") for i in range(300)]
    chosen = escalation_claims(items, 90)
    assert chosen == escalation_claims(items, 90) and 88 <= len(chosen) <= 92
    refuted = sum(1 for i in items if i.id in chosen and i.label == "REFUTED")
    assert refuted == 30


def synthetic_escalated(n: int, seed: int = 0) -> list[Sample]:
    """Binary samples whose first reading is unsure and half right, and whose pooled reading
    (an escalation) is sure and right: escalating must pay, and calibrate must see it."""
    rng = random.Random(seed)
    samples = []
    for i in range(n):
        gold = "SUPPORTED" if i % 2 else "REFUTED"
        other = "REFUTED" if gold == "SUPPORTED" else "SUPPORTED"
        sure_first = i % 4 == 0
        lean = gold if (sure_first or rng.random() < 0.5) else other
        first = {lean: 0.9 if sure_first else 0.55, ("REFUTED" if lean == "SUPPORTED" else "SUPPORTED"):
                 0.1 if sure_first else 0.45, "NOT_ENOUGH_INFO": 0.0}
        pooled = {gold: 0.92, other: 0.08, "NOT_ENOUGH_INFO": 0.0}
        samples.append(Sample(id=f"s{i}", claim=f"claim {i}", gold=gold, closed={"SUPPORTED": 0.5, "REFUTED": 0.5},
                              tau=0.0, closed_tokens=50, signals={"top_score": 1.0, "score_margin": 0.1,
                              "best_coverage": 0.5, "shown_coverage": 0.5, "documents": 2.0, "tau": 0.0,
                              "closed_top": 0.5}, joint=first, joint_tokens=300, joint_tokens_warm=250,
                              escalated=True, pooled=pooled, second=pooled, pooled_tokens=500, second_tokens=300))
    return samples


def test_calibrate_compares_escalation_side_by_side_and_keeps_what_pays():
    samples = synthetic_escalated(160)
    points, chosen = compare_escalation(samples, LabelSet.BINARY, "joint+logits", budget_fraction=0.5, max_loss=0.02)
    strategies = [p.strategy for p in points]
    assert strategies[0] == "read once" and "always escalate, keep pooled" in strategies
    assert any(s.startswith("escalate under 0.7") for s in strategies)
    once = points[0]
    assert chosen is not None and chosen.macro_f1 > once.macro_f1 + 0.2 and chosen.gain_low > 0
    assert chosen.tokens_per_claim > once.tokens_per_claim  # escalating costs tokens, and the table says how many
    # the replay of the chosen escalation is the pipeline's decision: sure first readings stay
    section = {"reader": "joint", "escalate_below": chosen.below, "escalate_keep": chosen.keep,
               "router": {"features": ["tau"], "weights": [0.0], "intercept": 0.0, "threshold": 0.0}}
    outcomes = apply_section(samples, section, LabelSet.BINARY)
    assert not outcomes[0].escalated and outcomes[1].escalated


def test_escalation_that_changes_nothing_is_not_kept():
    samples = synthetic_escalated(160)
    for s in samples:
        s.pooled = s.second = dict(s.joint)  # reading again says the same
    points, chosen = compare_escalation(samples, LabelSet.BINARY, "joint+logits", budget_fraction=0.5, max_loss=0.02)
    assert points and chosen is None


SIGNALS_OF_A_SEARCH = {"top_score": 1.0, "score_margin": 0.1, "best_coverage": 0.5, "shown_coverage": 0.5,
                       "documents": 2.0, "tau": 0.0, "closed_top": 0.5}


def tilted_domain(n: int, tilt: float, seed: int) -> list[Sample]:
    """Binary samples whose reading favours the right label, with every reading pushed toward
    REFUTED by ``tilt`` (log space): a domain whose prompt-and-text prior differs."""
    import math

    rng = random.Random(seed)
    out = []
    for i in range(n):
        gold = "SUPPORTED" if i % 2 else "REFUTED"
        margin = rng.gauss(0.8, 1.0) * (1 if gold == "SUPPORTED" else -1) - tilt
        p = 1 / (1 + math.exp(-margin))
        out.append(Sample(id=f"{seed}-{i}", claim=f"claim {i}", gold=gold, closed={"SUPPORTED": 0.5, "REFUTED": 0.5},
                          tau=0.0, closed_tokens=50, signals=dict(SIGNALS_OF_A_SEARCH, top_score=rng.random()), joint={
                              "SUPPORTED": p, "REFUTED": 1 - p, "NOT_ENOUGH_INFO": 0.0}, joint_tokens=300))
    return out


def test_transfer_leaves_each_part_out_and_batch_calibration_undoes_a_domain_tilt():
    from factcheck.fitting.transfer import leave_one_out

    parts = {"a": tilted_domain(120, 0.0, 1), "b": tilted_domain(120, 0.0, 2), "tilted": tilted_domain(120, 2.0, 3)}
    rows = leave_one_out(parts, LabelSet.BINARY, "joint+logits", budget_fraction=0.5, max_loss=0.02,
                         content_free={"SUPPORTED": 0.5, "REFUTED": 0.5, "NOT_ENOUGH_INFO": 0.0})
    assert {(r.left_out, r.adaptation) for r in rows} == {(p, a) for p in parts for a in ("none", "batch", "contextual")}
    tilted = {r.adaptation: r for r in rows if r.left_out == "tilted"}
    assert tilted["none"].predicted_share["REFUTED"] > 0.75 and not tilted["none"].shares_within
    assert tilted["batch"].shares_within and tilted["batch"].macro_f1 > tilted["none"].macro_f1 + 0.1
    # a content-free prior of 50/50 shifts nothing: contextual calibration cannot see this tilt
    assert tilted["contextual"].predicted_share["REFUTED"] > 0.75
