import numpy as np
import pytest

from factcheck.reading.assess import certainty
from factcheck.reading.labels import distribution_from_probs, map_label_tokens
from factcheck.schema import Label, LabelSet

VOCAB = ["TRUE", " True", "t", "FAL", "Fal", "UN", "Unk", "UNKNOWN", "x", " ", "",
         "True", "Tr", "False", "F", "Maybe"]


def ids(tokens, label):
    return {VOCAB[i] for i in tokens.ids[label]}


def test_three_labels_collect_every_prefix_token():
    tokens = map_label_tokens(VOCAB, LabelSet.THREE)
    assert ids(tokens, Label.SUPPORTED) == {"TRUE", " True", "t", "True", "Tr"}
    assert ids(tokens, Label.REFUTED) == {"FAL", "Fal", "False", "F"}
    assert ids(tokens, Label.NOT_ENOUGH_INFO) == {"UN", "Unk", "UNKNOWN"}


def test_binary_labels_map_true_and_false():
    tokens = map_label_tokens(VOCAB, LabelSet.BINARY)
    assert ids(tokens, Label.SUPPORTED) == {"TRUE", " True", "t", "True", "Tr"}
    assert ids(tokens, Label.REFUTED) == {"FAL", "Fal", "False", "F"}
    assert tokens.labels == [Label.SUPPORTED, Label.REFUTED]


def test_token_that_starts_two_labels_counts_for_neither(monkeypatch):
    from factcheck.reading import labels

    monkeypatch.setitem(labels.ANSWER_WORDS, LabelSet.BINARY,
                        {Label.SUPPORTED: ("Yes", "Yup"), Label.REFUTED: ("Yesterday",)})
    vocab = ["Y", "Yes", "Yest", "Yu"]
    tokens = map_label_tokens(vocab, LabelSet.BINARY)
    assert ids_of(tokens, Label.SUPPORTED, vocab) == {"Yu"}
    assert ids_of(tokens, Label.REFUTED, vocab) == {"Yest"}


def ids_of(tokens, label, vocab):
    return {vocab[i] for i in tokens.ids.get(label, [])}


def test_missing_label_token_is_an_error():
    with pytest.raises(ValueError, match="no vocabulary token"):
        map_label_tokens(["TRUE", "FALSE"], LabelSet.THREE)


def _probs(**by_piece):
    probs = np.zeros(len(VOCAB))
    for piece, p in by_piece.items():
        probs[VOCAB.index(piece)] = p
    return probs


def test_distribution_sums_variants_and_renormalises():
    tokens = map_label_tokens(VOCAB, LabelSet.THREE)
    probs = _probs(TRUE=0.4, t=0.1, FAL=0.2, UN=0.1, Maybe=0.2)
    dist = distribution_from_probs(probs, tokens)
    assert dist.probs[Label.SUPPORTED] == pytest.approx(0.5 / 0.8)
    assert dist.probs[Label.REFUTED] == pytest.approx(0.2 / 0.8)
    assert dist.probs[Label.NOT_ENOUGH_INFO] == pytest.approx(0.1 / 0.8)
    assert dist.outside_mass == pytest.approx(0.2)
    assert sum(dist.probs.values()) == pytest.approx(1.0)
    assert dist.top is Label.SUPPORTED


def test_tau_is_one_when_top_two_tokens_share_a_label():
    tokens = map_label_tokens(VOCAB, LabelSet.THREE)
    dist = distribution_from_probs(_probs(TRUE=0.4, t=0.35, FAL=0.24, UN=0.01), tokens)
    assert dist.top_tokens_same_label
    assert certainty(dist) == 1.0


def test_tau_is_the_margin_between_the_two_top_labels():
    tokens = map_label_tokens(VOCAB, LabelSet.THREE)
    dist = distribution_from_probs(_probs(TRUE=0.5, FAL=0.3, UN=0.2), tokens)
    assert not dist.top_tokens_same_label
    assert certainty(dist) == pytest.approx(0.2)


def test_tau_binary_is_abs_difference_of_true_and_false():
    tokens = map_label_tokens(VOCAB, LabelSet.BINARY)
    dist = distribution_from_probs(_probs(**{"True": 0.3, "False": 0.6, "Maybe": 0.1}), tokens)
    assert certainty(dist) == pytest.approx(abs(0.3 / 0.9 - 0.6 / 0.9))


def test_top_token_outside_label_set_is_not_same_label():
    tokens = map_label_tokens(VOCAB, LabelSet.THREE)
    dist = distribution_from_probs(_probs(Maybe=0.6, TRUE=0.3, FAL=0.1), tokens)
    assert not dist.top_tokens_same_label
    assert certainty(dist) == pytest.approx(0.75 - 0.25)


def test_entropy_is_zero_for_certain_and_log2_3_for_uniform():
    tokens = map_label_tokens(VOCAB, LabelSet.THREE)
    certain = distribution_from_probs(_probs(TRUE=1.0), tokens)
    uniform = distribution_from_probs(_probs(TRUE=1 / 3, FAL=1 / 3, UN=1 / 3), tokens)
    assert certain.entropy_bits == pytest.approx(0.0, abs=1e-9)
    assert uniform.entropy_bits == pytest.approx(np.log2(3))


def test_the_answer_token_map_is_kept_per_model_file(isolated_cache, tmp_path):
    """Scanning the vocabulary is most of a warm start-up: it is done once per model file."""
    from pathlib import Path

    from factcheck.reading.labels import (
        ANSWER_WORDS,
        LabelSet,
        map_answer_tokens,
        model_answer_tokens,
    )

    class Model:
        def __init__(self, sha):
            self.info = type("Info", (), {"path": Path("m.gguf"), "sha256": sha, "server": None})()
            self.scans = 0

        def vocab_pieces(self):
            self.scans += 1
            return ["<s>", "TRUE", "FAL", "False", "UN", "Unknown", "the"]

    first, again, other = Model("a" * 64), Model("a" * 64), Model("b" * 64)
    words = ANSWER_WORDS[LabelSet.THREE]
    made = model_answer_tokens(first, words, LabelSet.THREE)
    kept = model_answer_tokens(again, words, LabelSet.THREE)
    assert first.scans == 1 and again.scans == 0
    assert kept.owner == made.owner == map_answer_tokens(first.vocab_pieces(), words, LabelSet.THREE).owner
    assert all((kept.ids[label] == made.ids[label]).all() for label in made.ids)
    model_answer_tokens(other, words, LabelSet.THREE)
    assert other.scans == 1  # another model file: its own map
