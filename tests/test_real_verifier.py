"""The verifier and the router with the real default model and its shipped profile, on
real claims and corpora from tests/fixtures. Slow: marked ``model``."""

import json
import os
import subprocess
import sys

import pytest
from factcheck.retrievers.local_index import build_index

from factcheck.config.settings import resolve
from factcheck.evidence.select import coverage
from factcheck.pipeline import build_pipeline, configure
from factcheck.schema import Claim, Label, LabelSet, Route

pytestmark = pytest.mark.model

REFUTED_CLAIM = "As I Lay Dying is a song by the heavy metal band Metallica."


@pytest.fixture(scope="module")
def indexes(data, tmp_path_factory):
    root = tmp_path_factory.mktemp("indexes")
    build_index([str(data / "fm2" / "corpus_dev.jsonl")], root / "fm2")
    build_index([str(data / "check-covid" / "corpus.jsonl")], root / "covid")
    return root


def checker(real_model, index, labels=LabelSet.THREE, **flags):
    settings, profile = configure(resolve({"ctx": 2048, "labels": labels.value, "index": [index], **flags}))
    return build_pipeline(settings, lambda _settings: real_model, profile)


def test_the_sentence_that_decides_is_shown_used_and_refutes(real_model, indexes):
    record = checker(real_model, indexes / "fm2", LabelSet.BINARY, route="retrieve").check(
        Claim(id="1", text=REFUTED_CLAIM))
    assert record.verdict is Label.REFUTED and record.basis == "evidence"
    faulkner = [e for e in record.evidence if "Faulkner" in e.text]
    assert faulkner and faulkner[0].used
    for e in record.evidence:  # exactly what was shown: sentence text and its place in the passage
        assert e.end > e.start and e.doc_id and e.passage_id
    assert record.reader and 0.005 < record.confidence < 0.995
    # the forced reading route found evidence: one model pass, no closed-book certainty
    assert record.calls.model == 1 and record.certainty_from == "reading"


@pytest.mark.parametrize("selection, claim_id", [
    # filming of Gandhi delayed by political unrest: "… declared a state of emergency … shooting
    # would be impossible" shares the claim's words
    ("words", "fm2-01EICaMMy6uOPHdoEGAf"),
    # "Leviticus is a chapter in the Old Testament": its gold sentence ("the third book of the
    # Torah and of the Old Testament") is not among what words choose from 5 passages; by
    # meaning from 20 (the binary default) it is
    ("meaning", "fm2-0kaTupAMJVm2QtfOJT9f"),
])
def test_the_supporting_sentence_is_selected_shown_and_used(real_model, indexes, data, selection, claim_id):
    rows = {json.loads(line)["id"]: json.loads(line) for line in (data / "fm2" / "claims_dev.jsonl").open()}
    row = rows[claim_id]
    assert row["label"] == "SUPPORTED"
    record = checker(real_model, indexes / "fm2", LabelSet.BINARY, route="retrieve", selection=selection).check(
        Claim(id="1", text=row["claim"]))
    gold = row["evidence"][0]["text"]
    assert any(coverage(gold, e.text) > 0.7 and e.used for e in record.evidence), [e.text for e in record.evidence]
    assert record.basis == "evidence" and record.verdict in (Label.SUPPORTED, Label.REFUTED)


def test_an_index_with_vectors_brings_the_supporting_sentence_that_bm25_ranked_out(real_model, data, tmp_path):
    """"It's a Mad, Mad, Mad, Mad World movie premiered in the 1960s": BM25's top 5 passages
    miss its gold sentence ("... is a 1963 American comedy film ..."); the index's vectors rank
    it first. With k = 2, only the search by meaning brings it to the model, which then reads
    the claim right (by words alone it said REFUTED)."""
    rows = {json.loads(line)["id"]: json.loads(line) for line in (data / "fm2" / "claims_dev.jsonl").open()}
    row = rows["fm2-0FkXiAM2YIXdRMY95yZs"]
    gold = row["evidence"][0]["text"]
    build_index([str(data / "fm2" / "corpus_dev.jsonl")], tmp_path / "fm2", vectors=True)
    shown = {}
    for meaning_search in (True, False):
        check = checker(real_model, tmp_path / "fm2", LabelSet.BINARY, route="retrieve", k=2,
                        selection="meaning" if meaning_search else "words")
        record = check.check(Claim(id="1", text=row["claim"]))
        shown[meaning_search] = [e for e in record.evidence if coverage(gold, e.text) > 0.7]
        if meaning_search:
            assert shown[True] and shown[True][0].used, [e.text for e in record.evidence]
            assert record.basis == "evidence" and record.verdict is Label.SUPPORTED, record.label_probs
    assert not shown[False]


def test_an_unrelated_corpus_gives_not_enough_info(real_model, indexes):
    # a novel checked against COVID-19 abstracts: nothing there bears on it
    record = checker(real_model, indexes / "covid", route="retrieve").check(Claim(id="1", text=REFUTED_CLAIM))
    assert record.verdict is Label.NOT_ENOUGH_INFO, record.label_probs
    if not record.evidence:  # nothing to read: the closed-book pass ran after all
        assert record.certainty is not None


def test_auto_with_the_shipped_profile_reads_every_claim_in_one_call(real_model, indexes, data):
    """The shipped router was fitted to read every claim (routing at half the tokens lost more
    than 0.02 macro-F1 on the fit claims): auto then reads without a closed-book pass."""
    auto = checker(real_model, indexes / "fm2", LabelSet.BINARY)
    assert auto.stages.route.router is not None and auto.stages.route.router.reads_always
    for line in list((data / "fm2" / "claims_dev.jsonl").open())[:3]:
        record = auto.check(Claim(id="1", text=json.loads(line)["claim"]))
        if record.evidence:
            assert record.route is Route.RETRIEVE and "reads every claim" in record.route_reason
            assert record.calls.model == 1 and record.certainty_from == "reading"


def test_a_budgeted_router_routes_real_claims_both_ways(real_model, indexes, data):
    """The shipped router's weights with a threshold that keeps a budget (what calibrate
    --max-loss 1 fits), on real FM2 claims over their index: some read, some do not."""
    import re

    auto = checker(real_model, indexes / "fm2", LabelSet.BINARY)
    claims = [json.loads(line)["claim"] for line in list((data / "fm2" / "claims_dev.jsonl").open())[:10]]
    routing = auto.stages.route
    routing.router = routing.router.model_copy(update={"threshold": 1.01})  # first: P for each claim, no reading
    p = []
    for text in claims:
        record = auto.check(Claim(id="1", text=text))
        assert record.route is Route.DIRECT
        p.append(float(re.search(r"P\(reading helps\)=([0-9.]+)", record.route_reason).group(1)))
    assert len(set(p)) > 1, p  # the signals differ between claims
    routing.router = routing.router.model_copy(update={"threshold": sorted(p)[len(p) // 2]})
    routes = {auto.check(Claim(id="1", text=text)).route for text in claims}
    assert routes == {Route.DIRECT, Route.RETRIEVE}


@pytest.mark.parametrize("reader", ["joint+probe", "joint+scaled"])  # the second reuses the first's samples
def test_calibrate_on_real_claims_writes_a_profile_that_checks_use(real_model, indexes, data, tmp_path, reader):
    env = {**os.environ, "XDG_CACHE_HOME": os.environ["XDG_CACHE_HOME"]}
    profile = tmp_path / "profile.toml"
    proc = subprocess.run([sys.executable, "-P", "-m", "factcheck", "calibrate", str(data / "fm2" / "claims_dev.jsonl"),
                           "--index", str(indexes / "fm2"), "--ctx", "2048", "-o", str(profile), "--reader", reader],
                          capture_output=True, text=True, timeout=1800, env=env)
    assert proc.returncode == 0, proc.stderr
    head = "probe" if reader == "joint+probe" else "answer_map"
    assert "router:" in proc.stderr and ("probe:" if head == "probe" else "answer map:") in proc.stderr
    import tomllib

    fitted = tomllib.loads(profile.read_text())
    assert set(fitted) == {"meta", "binary"} and fitted["meta"]["model_sha256"] == real_model.info.sha256
    # the probe reads the model's 1536-d hidden state; the answer map the three answers
    assert len(fitted["binary"][head]["weights"][0]) == (1536 if head == "probe" else 3)
    proc = subprocess.run([sys.executable, "-P", "-m", "factcheck", "check", "--json", "--no-cache", "--labels", "binary",
                           "--index", str(indexes / "fm2"), "--ctx", "2048", "--profile", str(profile),
                           "--route", "retrieve", REFUTED_CLAIM], capture_output=True, text=True, timeout=600, env=env)
    record = json.loads(proc.stdout)
    assert record["verdict"] == "REFUTED" and record["reader"] == reader
