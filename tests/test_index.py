"""Passage splitting, the persistent bm25s index, and the index/search commands."""

import json

import pytest
from factcheck.retrievers.local_index import LocalIndex, build_index
from factcheck.retrievers.passages import Document, split_passages
from typer.testing import CliRunner

from factcheck.cli import app
from factcheck.errors import IndexFormatError, InputError

DOCS = [
    {"id": "d1", "title": "Eiffel Tower", "text": "The Eiffel Tower is a wrought-iron lattice tower in Paris. It was built in 1889."},
    {"id": "d2", "title": "Berlin", "text": "Berlin is the capital of Germany. Its television tower is on Alexanderplatz."},
    {"id": "d3", "title": "Tamoxifen", "text": "Tamoxifen is metabolised by CYP2D6 into endoxifen."},
]


def write_jsonl(path, rows, extra_lines=()):
    with path.open("wb") as fh:
        for row in rows:
            fh.write(json.dumps(row).encode() + b"\n")
        for line in extra_lines:
            fh.write(line + b"\n")
    return path


def test_split_keeps_whole_sentences_and_the_document_id():
    doc = Document("d", "Title", "One two three. Four five six. Seven eight nine ten. Eleven.")
    passages = split_passages(doc, "s", max_words=6)
    assert [p.text for p in passages] == ["One two three. Four five six.", "Seven eight nine ten. Eleven."]
    assert [p.id for p in passages] == ["d#0", "d#1"] and {p.doc_id for p in passages} == {"d"}
    assert all(p.title == "Title" for p in passages)


def test_an_overlong_sentence_is_cut_by_words():
    doc = Document("d", "", " ".join(f"w{i}" for i in range(25)))
    assert [len(p.text.split()) for p in split_passages(doc, "s", max_words=10)] == [10, 10, 5]


def test_build_skips_bad_records_and_indexes_the_rest(tmp_path):
    corpus = write_jsonl(tmp_path / "c.jsonl", DOCS, [b"{not json", b"\xff\xfe", b'{"id": "x"}', b"[1,2]"])
    manifest = build_index([str(corpus)], tmp_path / "idx")
    assert manifest["documents"] == 3 and manifest["skipped_count"] == 4
    assert any("not JSON" in s for s in manifest["skipped"]) and any("not UTF-8" in s for s in manifest["skipped"])
    hits = LocalIndex(tmp_path / "idx").search("Where is the Eiffel Tower?", 2)
    assert hits[0].doc_id == "d1" and hits[0].title == "Eiffel Tower" and hits[0].score > 0
    assert hits[0].source == "index:c.jsonl"


def test_title_is_searchable_with_every_passage(tmp_path):
    build_index([str(write_jsonl(tmp_path / "c.jsonl", DOCS))], tmp_path / "idx")
    assert LocalIndex(tmp_path / "idx").search("Berlin", 1)[0].doc_id == "d2"


def test_folder_of_text_and_markdown(tmp_path):
    folder = tmp_path / "notes"
    (folder / "sub").mkdir(parents=True)
    (folder / "a.md").write_text("# Volcanoes\n\nMauna Loa is the largest active volcano on Earth.\n")
    (folder / "sub" / "b.txt").write_text("Penguins live in the Southern Hemisphere.")
    (folder / "skip.bin").write_bytes(b"\x00\x01")
    manifest = build_index([str(folder)], tmp_path / "idx")
    assert manifest["documents"] == 2
    hit = LocalIndex(tmp_path / "idx").search("largest volcano", 1)[0]
    assert hit.doc_id == "a.md" and hit.title == "Volcanoes"


def test_stemming_matches_word_forms(tmp_path):
    build_index([str(write_jsonl(tmp_path / "c.jsonl", DOCS))], tmp_path / "idx")
    assert LocalIndex(tmp_path / "idx").search("metabolism of tamoxifen", 1)[0].doc_id == "d3"


def test_query_with_no_known_words_returns_nothing(tmp_path):
    build_index([str(write_jsonl(tmp_path / "c.jsonl", DOCS))], tmp_path / "idx")
    assert LocalIndex(tmp_path / "idx").search("zzzz qqqq", 5) == []
    assert LocalIndex(tmp_path / "idx").search("", 5) == []


def test_empty_corpus_is_an_input_error(tmp_path):
    with pytest.raises(InputError, match="no passages to index"):
        build_index([str(write_jsonl(tmp_path / "c.jsonl", [], [b"garbage"]))], tmp_path / "idx")


@pytest.mark.parametrize("damage, message", [
    (lambda d: (d / "manifest.json").unlink(), "not a factcheck index"),
    (lambda d: (d / "manifest.json").write_text("{broken"), "corrupt"),
    (lambda d: (d / "offsets.npy").write_bytes(b"junk"), "corrupt"),
    (lambda d: (d / "bm25" / "params.index.json").unlink(), "corrupt"),
])
def test_corrupt_index_is_a_clear_error(tmp_path, damage, message):
    folder = tmp_path / "idx"
    build_index([str(write_jsonl(tmp_path / "c.jsonl", DOCS))], folder)
    damage(folder)
    with pytest.raises(IndexFormatError, match=message):
        LocalIndex(folder)


def test_cli_build_from_stdin_info_and_search(tmp_path):
    runner = CliRunner()
    stdin = "".join(json.dumps(d) + "\n" for d in DOCS)
    result = runner.invoke(app, ["index", "build", "-", "-o", str(tmp_path / "idx")], input=stdin)
    assert result.exit_code == 0, result.output
    assert "indexed 3 documents" in result.stderr
    info = runner.invoke(app, ["index", "info", str(tmp_path / "idx"), "--json"])
    assert json.loads(info.stdout)["passages"] == 3
    found = runner.invoke(app, ["search", str(tmp_path / "idx"), "television tower Berlin", "-k", "2", "--json"])
    hits = [json.loads(line) for line in found.stdout.splitlines()]
    assert hits[0]["doc_id"] == "d2" and hits[0]["score"] >= hits[-1]["score"]
    table = runner.invoke(app, ["search", str(tmp_path / "idx"), "Eiffel"])
    assert "Eiffel Tower" in table.stdout


def test_cli_missing_index_exits_two(tmp_path):
    result = CliRunner().invoke(app, ["search", str(tmp_path / "none"), "q"])
    assert result.exit_code == 2 and "index folder not found" in result.stderr


# --- vectors: the index searched by meaning ---------------------------------------------------

PARAPHRASE = [{"id": "zulu", "title": "Shaka", "text": "The Zulu king was killed by three assassins in 1828."},
              {"id": "park", "title": "Parks", "text": "Two men walked their dogs in the park."},
              {"id": "tower", "title": "Eiffel Tower", "text": "The tower in Paris was finished in 1889."}]


def test_vectors_let_a_search_by_meaning_find_the_paraphrase_that_words_miss(tmp_path):
    manifest = build_index([str(write_jsonl(tmp_path / "c.jsonl", PARAPHRASE))], tmp_path / "idx", vectors=True)
    index = LocalIndex(tmp_path / "idx")
    assert manifest["vectors"] == "all-MiniLM-L6-v2" and index.vectors.shape == (3, 384)
    claim = "Shaka was murdered by two men."
    assert index.search(claim, 1)[0].doc_id == "park"  # by words: "two men"
    by_meaning = index.search_by_meaning(claim, 3)
    assert [p.doc_id for p in by_meaning][0] == "zulu" and by_meaning[0].text == PARAPHRASE[0]["text"]
    assert by_meaning[0].score > by_meaning[1].score >= by_meaning[2].score  # cosines, best first
    assert index.search_by_meaning(claim, 0) == [] and len(index.search_by_meaning(claim, 10)) == 3


def test_a_rebuild_without_vectors_drops_them_and_a_search_by_meaning_says_how_to_get_them(tmp_path):
    corpus = str(write_jsonl(tmp_path / "c.jsonl", PARAPHRASE))
    build_index([corpus], tmp_path / "idx", vectors=True)
    assert build_index([corpus], tmp_path / "idx")["vectors"] is None
    assert not (tmp_path / "idx" / "vectors.npy").exists()
    with pytest.raises(IndexFormatError, match="--vectors"):
        LocalIndex(tmp_path / "idx").search_by_meaning("Shaka", 2)


def test_vectors_that_do_not_match_the_passages_are_a_one_line_error(tmp_path):
    import numpy as np

    build_index([str(write_jsonl(tmp_path / "c.jsonl", PARAPHRASE))], tmp_path / "idx", vectors=True)
    np.save(tmp_path / "idx" / "vectors.npy", np.zeros((2, 384), np.float16))
    with pytest.raises(IndexFormatError, match="rebuild"):
        LocalIndex(tmp_path / "idx")
    (tmp_path / "idx" / "vectors.npy").write_bytes(b"not an array")
    with pytest.raises(IndexFormatError, match="vectors.npy"):
        LocalIndex(tmp_path / "idx")
    manifest = json.loads((tmp_path / "idx" / "manifest.json").read_text())
    (tmp_path / "idx" / "manifest.json").write_text(json.dumps({**manifest, "vectors": "another-encoder"}))
    with pytest.raises(IndexFormatError, match="another-encoder"):
        LocalIndex(tmp_path / "idx")


def test_an_index_with_vectors_is_searched_by_meaning_only_when_evidence_is_chosen_by_meaning(tmp_path):
    from factcheck.retrievers.local_index import IndexByMeaning

    from factcheck.config.settings import resolve
    from factcheck.evidence.sources import open_sources

    corpus = str(write_jsonl(tmp_path / "c.jsonl", PARAPHRASE))
    build_index([corpus], tmp_path / "vec", vectors=True)
    build_index([corpus], tmp_path / "plain")
    kinds = lambda folder, selection: [type(s).__name__ for s in open_sources(  # noqa: E731
        resolve({"index": [str(tmp_path / folder)], "selection": selection}))]
    assert kinds("vec", "meaning") == ["LocalIndex", "IndexByMeaning"]
    assert kinds("vec", "words") == ["LocalIndex"] and kinds("plain", "meaning") == ["LocalIndex"]
    assert IndexByMeaning(LocalIndex(tmp_path / "vec")).name == "index:vec:meaning"


def test_index_build_vectors_on_the_command_line(tmp_path):
    corpus = write_jsonl(tmp_path / "c.jsonl", PARAPHRASE)
    result = CliRunner().invoke(app, ["index", "build", str(corpus), "-o", str(tmp_path / "idx"), "--vectors"])
    assert result.exit_code == 0, result.output
    info = CliRunner().invoke(app, ["index", "info", "--json", str(tmp_path / "idx")])
    assert json.loads(info.stdout)["vectors"] == "all-MiniLM-L6-v2"
    found = CliRunner().invoke(app, ["search", "--meaning", "--json", "-k", "1", str(tmp_path / "idx"),
                                     "Shaka was murdered by two men."])
    assert found.exit_code == 0 and json.loads(found.stdout)["doc_id"] == "zulu"


def test_search_by_meaning_without_vectors_is_a_one_line_error(tmp_path):
    build_index([str(write_jsonl(tmp_path / "c.jsonl", PARAPHRASE))], tmp_path / "idx")
    result = CliRunner().invoke(app, ["search", "--meaning", str(tmp_path / "idx"), "Shaka"])
    assert result.exit_code != 0 and "--vectors" in result.output and "Traceback" not in result.output


def test_a_markdown_heading_is_the_title_not_part_of_the_first_sentence(tmp_path):
    from factcheck.retrievers.passages import ReadReport, read_documents

    (tmp_path / "notes").mkdir()
    (tmp_path / "notes" / "tower.md").write_text("# The Eiffel Tower\n\nThe tower is in Paris. It is tall.\n")
    (document,) = read_documents(str(tmp_path / "notes"), ReadReport())
    assert document.title == "The Eiffel Tower"
    assert document.text.strip().startswith("The tower is in Paris.") and "# " not in document.text
