"""Claim extraction: every sentence of a document accounted for (claims, or the reason it
gives none), claims faithful to their sentence, and which sentences are checked decided by
rules, never by what the model happens to generate (scripted fake model)."""

import json

import pytest

from factcheck.claims.extract import (
    UncheckedSentence,
    extract_claims,
    sentences,
    supported,
)
from factcheck.claims.sentences import needs_model, resolved, subject, unchecked_reason
from factcheck.reading.gateway import ModelGateway
from factcheck.schema import LabelSet

from .fakes import FakeModel


def extract(text, answers=()):
    model = FakeModel(completions=[json.dumps(a) if isinstance(a, dict) else a for a in answers])
    found = extract_claims(ModelGateway(model, LabelSet.THREE), text, "doc.md")
    return found, model


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


def test_an_initial_does_not_end_a_sentence():
    assert [s for _, _, s in sentences("In 1998, S. Karato proposed it. John F. Kennedy was elected.")] == [
        "In 1998, S. Karato proposed it.", "John F. Kennedy was elected."]


def test_a_claim_must_be_said_by_its_sentence():
    sentence = "The Eiffel Tower, which Gustave Eiffel's company built for the world's fair of 1889, was tall."
    assert supported("The Eiffel Tower was built for the world's fair of 1889", sentence, "")
    assert not supported("Paris is a city in France", sentence, "")  # the model's own knowledge
    # a fact added to a true sentence: the "The Eiffel Tower is a symbol of Paris"
    assert not supported("The Eiffel Tower is a symbol of Paris", "The Eiffel Tower is in Paris.", "")
    # "It" resolved from the sentence before is fine; a claim made of the context alone is not
    assert supported("The Eiffel Tower was designed by Gustave Eiffel's company",
                     "It was designed by Gustave Eiffel's company.", "The Eiffel Tower is in Paris.")
    assert not supported("The Eiffel Tower is in Paris", "We think this is interesting.", "The Eiffel Tower is in Paris.")


@pytest.mark.parametrize("sentence, reason", [
    ("The Eiffel Tower was completed in 1889.", None),
    ("Pure water freezes at 50 degrees Celsius at standard pressure.", None),
    ("Heavy rain closed the coastal highway on Tuesday.", None),
    ("\"It was chaos,\" said the mayor, who has served since 2019.", None),  # reported speech: the writer's words count
    ("That winter, Brown had one of his greatest seasons, batting .432.", None),  # praise, with a fact
    ("Set in the 1890s in Moonstone, the novel is a portrait of an artist.", None),
    ("Is the bridge itself safe?", "question"),
    ("Install the package with pip.", "instruction"),
    ("Now, let's get started.", "instruction"),
    ("Drivers should use the inland route.", "instruction"),
    ("The council should resign.", "opinion"),
    ("We think this is interesting.", "opinion"),
    ("In my opinion, no other play comes close.", "opinion"),
    ("The views are beautiful.", "opinion"),
    ("What a view it offers!", "opinion"),
    ("Highly recommended.", "fragment"),
    ("Requirements:", "fragment"),
    ("2 GB of free memory", "fragment"),
    ("This study was designed to examine the effect of exercise.", "no factual statement"),
    ("We visited Paris in May.", "no factual statement"),
])
def test_why_a_sentence_gives_no_claim(sentence, reason):
    assert unchecked_reason(sentence) == reason


def test_a_leading_pronoun_is_the_name_the_text_was_about():
    assert subject("Marie Curie was a Polish physicist.") == "Marie Curie"
    assert subject("Modern Sounds in Country and Western Music is a studio album.") == \
        "Modern Sounds in Country and Western Music"
    assert subject("The album departed from rhythm and blues.") is None  # not a name: "It" stays the album's name
    assert resolved("She was awarded the Nobel Prize in 1903.", "Marie Curie") == \
        "Marie Curie was awarded the Nobel Prize in 1903."
    assert resolved("Its roof is green.", "The Louvre") == "The Louvre's roof is green."
    assert resolved("It was completed in 1889.", None) is None
    assert resolved("However, the tower is tall.", None) == "The tower is tall."


def test_every_sentence_is_accounted_for_and_plain_facts_need_no_generation():
    text = ("# Notes\n\nThe Eiffel Tower is in Paris. It was completed in 1925 for the World's Fair.\n"
            "What a view! Is it open at night? Visit it in spring.\n\n- Highly recommended\n\n"
            "We went there in May. Pure water freezes at 50 degrees Celsius.\n")
    found, model = extract(text)
    assert model.prompts == []  # no sentence needed the model
    assert [(type(i).__name__, getattr(i, "claim", None) or i.reason) for i in found.items] == [
        ("ExtractedClaim", "The Eiffel Tower is in Paris."),
        ("ExtractedClaim", "The Eiffel Tower was completed in 1925 for the World's Fair."),
        ("UncheckedSentence", "opinion"), ("UncheckedSentence", "question"), ("UncheckedSentence", "instruction"),
        ("UncheckedSentence", "fragment"), ("UncheckedSentence", "no factual statement"),
        ("ExtractedClaim", "Pure water freezes at 50 degrees Celsius.")]
    assert found.sentences == len(found.items) == 8
    for item in found.items:  # each points back to its sentence
        assert " ".join(text[item.start:item.end].split()) == item.sentence
    assert [c.made for c in found.claims] == ["as written"] * 3


LONG = ("The album, which Charles produced with Sid Feller at Capitol Studios in New York City and at United "
        "Recording Studios in Hollywood in February 1962, was released in April of that year by ABC-Paramount Records.")


def test_a_plain_sentence_is_split_at_a_second_predicate_or_clause_by_rule():
    found, model = extract("The tower is made of wrought iron and is about 330 metres tall. Rock and roll is loud; "
                           "it was born in the 1950s, and the Beatles played rock music.")
    assert model.prompts == []
    assert [(c.claim, c.made) for c in found.claims] == [
        ("The tower is made of wrought iron.", "split"), ("The tower is about 330 metres tall.", "split"),
        ("Rock and roll is loud.", "split"), ("Rock and roll was born in the 1950s.", "split"),
        ("The Beatles played rock music.", "split")]


def test_a_long_sentence_is_split_by_the_model_and_only_faithful_claims_are_kept():
    assert needs_model(LONG)
    found, model = extract(LONG, [{"claims": [
        "Charles produced the album with Sid Feller at Capitol Studios in New York City in February 1962",
        "Charles produced the album at United Recording Studios in Hollywood",
        "The album was released in April 1962 by ABC-Paramount Records",
        "The album was a number one hit in Britain",  # the model's own knowledge: dropped
        "The album was released in April 1962 by ABC-Paramount Records."]}])  # said twice: once
    assert len(model.prompts) == 1
    assert [c.claim for c in found.claims] == [
        "Charles produced the album with Sid Feller at Capitol Studios in New York City in February 1962",
        "Charles produced the album at United Recording Studios in Hollywood",
        "The album was released in April 1962 by ABC-Paramount Records"]
    assert {c.made for c in found.claims} == {"by the model"}


@pytest.mark.parametrize("answer", [
    {"claims": []}, "not json at all", {"claims": ["Paris is the capital of France"]},
    {"claims": ["The album was released in 1962"]},  # faithful, but leaves most of the sentence out
    {"claims": ["We think it is great"]}])
def test_a_factual_sentence_the_model_gives_nothing_faithful_for_is_checked_as_written(answer):
    found, _ = extract(LONG, [answer])
    assert [(c.claim, c.made) for c in found.claims] == [(LONG, "as written")]
    assert not found.unchecked


@pytest.mark.parametrize("answers", [[], ['{"claims": []}'] * 3, ['{"claims": ["Something else entirely"]}'] * 3])
def test_which_sentences_are_checked_never_rests_on_the_generation(answers):
    text = ("Later, he returned to Alameda to live with his mother. Honestly, the food was the best part. "
            f"{LONG} It is an instrumental jazz album.")
    found, _ = extract(text, answers)
    checked = sorted({c.sentence for c in found.claims})
    assert checked == sorted(["Later, he returned to Alameda to live with his mother.", LONG,
                              "It is an instrumental jazz album."])
    assert [(u.sentence, u.reason) for u in found.unchecked] == [("Honestly, the food was the best part.", "opinion")]
    assert all(isinstance(u, UncheckedSentence) for u in found.unchecked)


def test_progress_is_reported_per_sentence():
    seen = []
    model = FakeModel(completions=[])
    extract_claims(ModelGateway(model, LabelSet.THREE), "One two three four. Five six seven eight.", "d",
                   on_sentence=lambda done, total: seen.append((done, total)))
    assert seen == [(1, 2), (2, 2)]


@pytest.mark.model
def test_the_real_model_accounts_for_every_sentence_of_the_trip_report(real_model):
    """The trip report of the hand-labeled set: a fact, an outing and two opinions."""
    from pathlib import Path

    rows = [json.loads(line) for line in (Path(__file__).parent / "fixtures" / "extraction" / "paragraphs.jsonl").open()]
    text = next(r for r in rows if r["id"] == "trip")["text"]
    found = extract_claims(ModelGateway(real_model, LabelSet.THREE), text, "trip.md")
    assert found.claims and len({c.claim.casefold() for c in found.claims}) == len(found.claims)
    assert len({i.sentence for i in found.items}) == found.sentences == 4
    assert sorted(u.reason for u in found.unchecked) == ["no factual statement", "opinion", "opinion"]
    for claim in found.claims:
        assert "think" not in claim.claim and "food" not in claim.claim.casefold()
        assert supported(claim.claim, claim.sentence, "") or claim.claim == claim.sentence
        assert " ".join(text[claim.start:claim.end].split()) == claim.sentence
    assert any("1889" in c.claim for c in found.claims)
