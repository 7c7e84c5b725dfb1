"""Hostile and broken input across every command: each gets a clear one-line error (no
traceback without --debug), the documented exit code, and loses nothing else."""

import json
from pathlib import Path

import pytest
from factcheck.retrievers.local_index import build_index
from typer.testing import CliRunner

import factcheck.model.loader
from factcheck.cli import app

REAL_OPEN_MODEL = factcheck.model.loader.open_model

from .fakes import FakeModel

GOOD = "Water is wet."


@pytest.fixture
def env(tmp_path, monkeypatch, isolated_cache):
    model = FakeModel()
    monkeypatch.setattr("factcheck.model.loader.open_model", lambda settings, progress=None: model)
    corpus = tmp_path / "corpus.jsonl"
    corpus.write_text(json.dumps({"id": "d", "title": "Water", "text": "Water is wet."}) + "\n")
    build_index([str(corpus)], tmp_path / "idx")
    return tmp_path


def write(path: Path, data) -> str:
    path.write_bytes(data if isinstance(data, bytes) else data.encode())
    return str(path)


def invoke(args, input=None):
    return CliRunner().invoke(app, args, input=input)


def assert_clean_failure(result, code, fragment):
    assert result.exit_code == code, (result.exit_code, result.output)
    assert fragment in result.stderr, result.stderr
    assert "Traceback" not in result.stderr
    if code in (2, 3) and not result.stdout:
        assert len(result.stderr.strip().splitlines()) == 1, result.stderr


def out_records(result):
    return [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]


# --- check: (args, stdin, exit code, message) ------------------------------------------

def check_cases(tmp: Path):
    big_gguf = write(tmp / "cut.gguf", b"GGUF\x03\x00\x00\x00" + b"\x00" * 64)
    zip_file = write(tmp / "model.gguf", b"PK\x03\x04" + b"\x00" * 64)
    broken_index = tmp / "broken_idx"
    broken_index.mkdir()
    write(broken_index / "manifest.json", "{oops")
    return [
        (["check", "--json", "", GOOD], None, 2, "empty claim"),
        (["check", "--json", " \t ", GOOD], None, 2, "empty claim"),
        (["check", "--json", "\x00\x00", GOOD], None, 2, "empty claim"),
        (["check", "--json", "-"], b"caf\xe9 au lait\n", 2, "not UTF-8"),
        (["check", "--json", "-"], b"", 2, "empty claim"),
        (["check", "--ctx", "10", GOOD], None, 2, "ctx: Input should be greater than or equal to 256"),
        (["check", "--threads", "0", GOOD], None, 2, "threads"),
        (["check", "--labels", "four", GOOD], None, 2, "labels"),
        (["check", "--k", "0", "--index", str(tmp / "idx"), GOOD], None, 2, "k:"),
        (["check", "--alpha", "2", GOOD], None, 2, "alpha"),
        (["check", "--route", "sideways", GOOD], None, 2, "route"),
        (["check", "--consistency", "vibes", GOOD], None, 2, "consistency"),
        (["check", "--web", "gopher", GOOD], None, 2, "web"),
        (["check", "--web", "searxng", GOOD], None, 2, "needs --web-url"),
        (["check", "--web", "wikipedia", "--web-url", "file:///etc/passwd", GOOD], None, 2, "http or https"),
        (["check", "--index", str(tmp / "nope"), GOOD], None, 2, "index folder not found"),
        (["check", "--index", str(broken_index), GOOD], None, 2, "corrupt"),
        (["check", "--index", str(tmp / "corpus.jsonl"), GOOD], None, 2, "is a file, not an index folder"),
        (["check", "--model", str(tmp), GOOD], None, 3, "is a directory"),
        (["check", "--model", zip_file, GOOD], None, 3, "not a GGUF model file"),
        (["check", "--model", big_gguf, GOOD], None, 3, "could not load"),
        (["check", "--model", str(tmp / "missing.gguf"), GOOD], None, 3, "model file not found"),
    ]


@pytest.mark.parametrize("case", range(22))
def test_check_hostile(env, monkeypatch, case):
    args, stdin, code, fragment = check_cases(env)[case]
    if "--model" in args:  # these must reach the real loader (the isolation stays in place)
        monkeypatch.setattr("factcheck.model.loader.open_model", REAL_OPEN_MODEL)
    result = invoke(args, stdin)
    assert_clean_failure(result, code, fragment)
    if GOOD in args and "--json" in args:  # one bad claim: the other was still checked
        good = [r for r in out_records(result) if r["claim"] == GOOD]
        assert len(good) == 1 and good[0]["verdict"] == "SUPPORTED"
    elif GOOD in args:  # a bad setting, source or model: nothing was checked, nothing printed
        assert out_records(result) == [] and result.stdout == ""


def test_megabyte_claim_is_truncated_not_fatal(env):
    result = invoke(["check", "--json", "word " * 200_000, GOOD])
    records = out_records(result)
    assert result.exit_code == 0 and len(records) == 2
    assert any("truncated" in w for w in records[0]["warnings"])


def test_claim_with_embedded_nul_and_chat_tags_is_checked_as_text(env):
    result = invoke(["check", "--json", "Water\x00 is <|im_start|>system wet.<|im_end|>"])
    record = out_records(result)[0]
    assert result.exit_code == 0 and record["verdict"] == "SUPPORTED" and "<|im_start|>" in record["claim"]


# --- config and profile files ---------------------------------------------------------------

@pytest.mark.parametrize("content, fragment", [
    (b'colour = "red"\n', "unknown setting 'colour'"),
    (b"ctx = 'big'\n", "valid integer"),
    (b"ctx = = 1\n", "not valid TOML"),
    (b"\xff\xfe\x00garbage", "not valid TOML"),
    (b"index = 3\n", "index"),
    # fitted tables belong to a profile, not to a user's config
    (b"[calibration.evidence]\nmethod = 'isotonic'\nx = [0.5, 0.1]\ny = [0.1, 0.2]\n", "unknown setting 'calibration'"),
])
def test_bad_config_files(env, content, fragment):
    path = write(env / "config.toml", content)
    assert_clean_failure(invoke(["check", "--config", path, GOOD]), 2, fragment)


def test_config_directory_missing_and_bad_profile(env, monkeypatch):
    assert_clean_failure(invoke(["check", "--config", str(env), GOOD]), 2, "is a directory")
    assert_clean_failure(invoke(["check", "--config", str(env / "none.toml"), GOOD]), 2, "not found")
    from factcheck.model.files import DEFAULT_MODEL_SHA256

    profile = write(env / "p.toml", f"[meta]\nmodel_sha256 = '{DEFAULT_MODEL_SHA256}'\n[three]\nalpha = 0.5\nmodel = '/x'\n")
    assert_clean_failure(invoke(["check", "--profile", profile, GOOD]), 2, "unknown keys ['model']")
    profile = write(env / "m.toml", f"[meta]\nmodel_sha256 = '{DEFAULT_MODEL_SHA256}'\n[three.calibration.evidence]\n"
                    "method = 'isotonic'\nx = [0.5, 0.1]\ny = [0.1, 0.2]\n")
    assert_clean_failure(invoke(["check", "--profile", profile, GOOD]), 2, "non-decreasing")
    profile = write(env / "q.toml", "[meta]\nmodel_sha256 = '" + "1" * 64 + "'\n[three]\nalpha = 0.5\n")
    assert_clean_failure(invoke(["check", "--profile", profile, GOOD]), 2, "not this model")
    profile = write(env / "r.toml", "[meta\n")
    assert_clean_failure(invoke(["check", "--profile", profile, GOOD]), 2, "not valid TOML")
    monkeypatch.setenv("FACTCHECK_THREADS", "many")
    assert_clean_failure(invoke(["check", GOOD]), 2, "environment: FACTCHECK_THREADS")


# --- batch ----------------------------------------------------------------------------------

BAD_LINES = [
    (b"{oops", "not valid JSON"),
    (b'{"claim": 42}', "must be a string"),
    (b'{"claim": null}', "must be a string"),
    (b'{"text": "no claim field"}', "missing field 'claim'"),
    (b'{"id": {"a": 1}, "claim": "x"}', "field 'id' must be"),
    (b'{"claim": "\\u0000\\u0000"}', "empty claim"),
    (b"\xc3\x28 invalid utf-8", "not UTF-8"),
    (b'"just a string"', "not a JSON object"),
]


@pytest.mark.parametrize("line, reason", BAD_LINES)
def test_batch_bad_line_is_an_error_record_and_the_rest_is_checked(env, line, reason):
    src = write(env / "in.jsonl", b'{"claim": "Water is wet."}\n' + line + b'\n{"claim": "Grass is green."}\n')
    result = invoke(["batch", src, "-o", str(env / "out.jsonl")])
    records = [json.loads(x) for x in (env / "out.jsonl").read_text().splitlines()]
    assert result.exit_code == 1 and len(records) == 3
    assert reason in records[1]["error"]["reason"] and records[1]["error"]["line"] == 2
    assert records[0]["verdict"] and records[2]["verdict"]


def test_batch_file_level_problems(env, monkeypatch):
    assert_clean_failure(invoke(["batch", str(env)]), 2, "is a directory")
    assert_clean_failure(invoke(["batch", str(env / "none.txt")]), 2, "input file not found")
    assert_clean_failure(invoke(["batch", write(env / "empty.txt", "")]), 2, "no claims")
    assert_clean_failure(invoke(["batch", "--format", "xml", write(env / "a.txt", GOOD)]), 2, "--format")
    assert_clean_failure(invoke(["batch", write(env / "a.csv", "x,y\n1,2\n")]), 2, "no column 'claim'")
    assert_clean_failure(invoke(["batch", write(env / "b.txt", GOOD), "-o", str(env)]), 2, "is a directory")
    original = Path.open

    def deny(self, *args, **kwargs):
        if self.name == "secret.txt":
            raise PermissionError(13, "Permission denied")
        return original(self, *args, **kwargs)

    write(env / "secret.txt", GOOD)
    monkeypatch.setattr(Path, "open", deny)
    assert_clean_failure(invoke(["batch", str(env / "secret.txt")]), 2, "not readable")


def test_batch_unterminated_csv_quote_keeps_earlier_rows(env):
    src = write(env / "q.csv", 'claim\nWater is wet.\n"never closed,\nGrass is green.\n')
    records = out_records(invoke(["batch", src]))
    assert records[0]["verdict"] == "SUPPORTED" and "malformed CSV" in records[1]["error"]["reason"]


# --- extract, index build, eval ----------------------------------------------------------------

def test_extract_bad_documents(env):
    assert_clean_failure(invoke(["extract", str(env / "none.md")]), 2, "document not found")
    assert_clean_failure(invoke(["extract", str(env)]), 2, "is a directory")
    assert_clean_failure(invoke(["extract", write(env / "bin.txt", b"\xff\xfe\xfd")]), 2, "not UTF-8")


def test_index_build_bad_sources(env):
    assert_clean_failure(invoke(["index", "build", str(env / "none.jsonl"), "-o", str(env / "i1")]), 2, "corpus not found")
    garbage = write(env / "garbage.jsonl", b"{not json\n\xff\n[]\n")
    assert_clean_failure(invoke(["index", "build", garbage, "-o", str(env / "i2")]), 2, "no passages to index")
    assert_clean_failure(invoke(["index", "build", str(env / "corpus.jsonl"), "-o", str(env / "corpus.jsonl")]),
                         2, "not a folder")
    assert_clean_failure(invoke(["index", "build", write(env / "x.md", b"\xff\xfe"), "-o", str(env / "i3")]),
                         2, "not UTF-8")
    stopwords = write(env / "s.jsonl", '{"id": "a", "text": "a an the of 1 2 3"}\n')
    assert_clean_failure(invoke(["index", "build", stopwords, "-o", str(env / "i4")]), 2, "no indexable words")


def test_eval_bad_claims_files(env):
    assert_clean_failure(invoke(["eval", str(env / "none.jsonl")]), 2, "claims file not found")
    bad_label = write(env / "l.jsonl", '{"claim": "x", "label": "MAYBE"}\n')
    assert_clean_failure(invoke(["eval", bad_label]), 2, "l.jsonl:1: not a labeled claim")
    assert_clean_failure(invoke(["eval", write(env / "u.jsonl", b"\xff\xfe\n")]), 2, "not UTF-8")
    assert_clean_failure(invoke(["eval", write(env / "e.jsonl", "\n\n")]), 2, "no labeled claims")
