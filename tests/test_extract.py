"""Claim extraction: sentences across wrapped lines, claims checked against their own
sentence, duplicates merged, opinions and fragments dropped (scripted fake model)."""

import json

import pytest

from factcheck.claims.extract import extract_claims, is_claim, sentences, supported
from factcheck.reading.gateway import ModelGateway
from factcheck.schema import LabelSet

from .fakes import FakeModel


def test_a_sentence_runs_over_wrapped_lines_and_maps_back_to_the_document():
    text = ("# Trip\n\nWe visited Paris.\nThe Eiffel Tower, which Gustave Eiffel's company built for the world's\n"
            "fair of 1889, was the tallest structure for forty years.\n\n- A list item is its own sentence\n")
    found = list(sentences(text))
    assert [s for _, _, s in found] == [
        "We visited Paris.",
        "The Eiffel Tower, which Gustave Eiffel's company built for the world's fair of 1889, was the tallest "
        "structure for forty years.",
        "A list item is its own sentence"]
    for start, end, sentence in found:
        assert " ".join(text[start:end].split()) == sentence  # the span holds the sentence, line break and all


def test_a_claim_must_be_said_by_its_sentence():
    sentence = "The Eiffel Tower, which Gustave Eiffel's company built for the world's fair of 1889, was tall."
    assert supported("The Eiffel Tower was built for the world's fair of 1889", sentence, "")
    assert not supported("Paris is a city in France", sentence, "")  # the model's own knowledge
    # "It" resolved from the sentence before is fine; a claim made of the context alone is not
    assert supported("The Eiffel Tower was designed by Gustave Eiffel's company",
                     "It was designed by Gustave Eiffel's company.", "The Eiffel Tower is in Paris.")
    assert not supported("The Eiffel Tower is in Paris", "We think this is interesting.", "The Eiffel Tower is in Paris.")


@pytest.mark.parametrize("text, expected", [
    ("The Eiffel Tower was completed in 1889.", True),
    ("We think this is interesting.", False),
    ("In my opinion, no other play comes close.", False),
    ("Everyone should visit it.", False),
    ("On 3 February 1989", False),
    ("General Andrés Rodríguez", False),
])
def test_opinions_and_fragments_are_not_claims(text, expected):
    assert is_claim(text) is expected


def test_repeated_invented_and_opinion_claims_are_dropped():
    text = "The Eiffel Tower was completed in 1889 in Paris. We think this is interesting."
    answers = [
        {"claims": ["The Eiffel Tower was completed in 1889", "The Eiffel Tower was completed in 1889.",
                    "the eiffel tower was completed in 1889", "Gustave Eiffel founded a company in 1867"]},
        {"claims": ["The Eiffel Tower was completed in 1889", "We think the tower is interesting"]},
    ]
    model = FakeModel(completions=[json.dumps(a) for a in answers])
    claims = extract_claims(ModelGateway(model, LabelSet.THREE), text, "doc.md")
    assert [c.claim for c in claims] == ["The Eiffel Tower was completed in 1889"]
    assert claims[0].sentence == "The Eiffel Tower was completed in 1889 in Paris."


def test_progress_is_reported_per_sentence():
    seen = []
    model = FakeModel(completions=['{"claims": []}'] * 3)
    extract_claims(ModelGateway(model, LabelSet.THREE), "One two three four. Five six seven eight.", "d",
                   on_sentence=lambda done, total: seen.append((done, total)))
    assert seen == [(1, 2), (2, 2)]


@pytest.mark.model
def test_the_real_model_extracts_no_opinion_and_no_repeat(real_model):
    """The trip report of the hand-labeled set: two facts and two opinion sentences."""
    from pathlib import Path

    rows = [json.loads(line) for line in (Path(__file__).parent / "fixtures" / "extraction" / "paragraphs.jsonl").open()]
    text = next(r for r in rows if r["id"] == "trip")["text"]
    claims = extract_claims(ModelGateway(real_model, LabelSet.THREE), text, "trip.md")
    assert claims and len({c.claim.casefold() for c in claims}) == len(claims)
    for claim in claims:
        assert "think" not in claim.claim and "food" not in claim.claim.casefold()
        assert supported(claim.claim, claim.sentence, "") or "Eiffel" in claim.sentence
        assert " ".join(text[claim.start:claim.end].split()) == claim.sentence
    assert any("1889" in c.claim for c in claims)
