"""Routing, consistency, query writing, batch and extraction on the real default model.
Slow: marked ``model``."""

import json
import subprocess
import sys

import pytest
from factcheck.retrievers.http import Fetcher, WebOptions
from factcheck.retrievers.mediawiki import MediaWiki

from factcheck.claims.extract import extract_claims
from factcheck.cost import Meter
from factcheck.reading.consistency import Framings, Rationales
from factcheck.reading.gateway import ModelGateway
from factcheck.routing.queries import reflect_query
from factcheck.routing.route import Thresholds
from factcheck.schema import Claim, LabelSet, Route

from .fakes import pipeline_of

pytestmark = pytest.mark.model

CLAIM = "As I Lay Dying is a song by the heavy metal band Metallica."


def test_framings_measure_gamma_without_generating(real_model):
    record = pipeline_of(real_model, consistency=Framings()).check(Claim(id="1", text="Paris is the capital of France."))
    assert 0.0 <= record.consistency <= 1.0 and record.consistency_method == "framings"
    assert record.tokens.generated == 0 and record.calls.model == 3
    assert record.verdict.value == "SUPPORTED"


def test_rationales_generate_and_score_pairs(real_model):
    record = pipeline_of(real_model, labels=LabelSet.BINARY, consistency=Rationales(k=1, max_tokens=24)).check(
        Claim(id="1", text="The Moon is made of cheese."))
    assert 0.0 <= record.consistency <= 1.0 and record.consistency_method == "rationales"
    assert record.tokens.generated > 0 and record.calls.model == 1 + 2 + 2  # neutral, 2 rationales, 2 directions


def test_reflect_query_parses_under_the_grammar(real_model):
    query = reflect_query(ModelGateway(real_model, LabelSet.THREE), CLAIM, Meter())
    assert query and len(query) < 300 and "{" not in query


def test_auto_route_explains_itself(real_model, wiki):
    source = MediaWiki(Fetcher(WebOptions(allow_private=True)), wiki.api)
    checker = pipeline_of(real_model, labels=LabelSet.BINARY, sources=[source], consistency=Framings(),
                      thresholds=Thresholds(alpha=1.0, beta=1.0))  # nothing is sure enough: it must retrieve
    record = checker.check(Claim(id="1", text=CLAIM))
    assert record.route in (Route.REFLECT, Route.DEEP, Route.TARGETED)
    assert "alpha=1.0" in record.route_reason and "beta=1.0" in record.route_reason
    assert record.queries and record.calls.retrieval >= 1 and record.basis == "evidence"
    assert record.thresholds == {"alpha": 1.0, "beta": 1.0}


def test_deep_route_records_hops(real_model, wiki):
    source = MediaWiki(Fetcher(WebOptions(allow_private=True)), wiki.api)
    checker = pipeline_of(real_model, labels=LabelSet.BINARY, sources=[source], route=Route.DEEP, max_hops=2,
                      thresholds=Thresholds(alpha=1.0, beta=0.5))
    record = checker.check(Claim(id="1", text=CLAIM))
    assert record.route is Route.DEEP and 1 <= len(record.hops) <= 2
    assert record.hops[0].query == CLAIM and all(0 <= h.sufficiency <= 1 for h in record.hops)
    # the verdict is the reading's top label, read from the sentences the hops found
    assert record.verdict is max(record.label_probs, key=record.label_probs.get)
    assert record.basis == "evidence" and {e.passage_id for e in record.evidence} <= {
        p for h in record.hops for p in h.passages}


def test_extract_claims_from_a_real_paragraph(real_model):
    text = ("The Eiffel Tower was completed in 1889 for the World's Fair in Paris. "
            "It was designed by the engineering company of Gustave Eiffel. What a view it offers!")
    found = extract_claims(ModelGateway(real_model, LabelSet.THREE), text, "doc.txt")
    claims = found.claims
    assert claims and [u.reason for u in found.unchecked] == ["opinion"]  # "What a view it offers!"
    for claim in claims:
        assert text[claim.start:claim.end] == claim.sentence and claim.source == "doc.txt"
    assert any("1889" in c.claim for c in claims)
    # the second sentence's "It" is resolved from the context
    assert any("Gustave Eiffel" in c.claim and "It " not in c.claim for c in claims)


def test_batch_cli_on_real_claims(tmp_path, data):
    rows = [json.loads(line) for line in (data / "fm2" / "claims_dev.jsonl").open()][:3]
    src = tmp_path / "claims.jsonl"
    src.write_text("".join(json.dumps({"id": r["id"], "claim": r["claim"], "label": r["label"]}) + "\n" for r in rows))
    out = tmp_path / "out.jsonl"
    command = [sys.executable, "-P", "-m", "factcheck", "batch", str(src), "-o", str(out), "--labels", "binary", "--ctx", "2048", "--no-cache"]
    proc = subprocess.run(command, capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stderr
    records = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["id"] for r in records] == [r["id"] for r in rows]
    assert all(r["verdict"] in ("SUPPORTED", "REFUTED") and r["extra"]["label"] for r in records)
    again = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert "3 already done" in again.stderr and len(out.read_text().splitlines()) == 3
