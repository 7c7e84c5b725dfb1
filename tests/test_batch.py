"""factcheck batch with the fake model: formats, error records, resume, cache, exit codes,
and crash safety under SIGKILL."""

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from factcheck.cli import app

from .fakes import FakeModel

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def fake(monkeypatch, isolated_cache):
    model = FakeModel()
    monkeypatch.setattr("factcheck.model.loader.open_model", lambda settings, progress=None: model)
    return model


def run(*args, input=None):
    return CliRunner().invoke(app, ["batch", *args], input=input)


def lines(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_txt_claims_in_input_order_with_line_number_ids(fake, tmp_path):
    src = tmp_path / "claims.txt"
    src.write_text("Water is wet.\n\nThe Eiffel Tower is in Berlin.\n")
    result = run(str(src), "-o", str(tmp_path / "out.jsonl"))
    assert result.exit_code == 0, result.output
    out = lines(tmp_path / "out.jsonl")
    assert [(r["id"], r["verdict"]) for r in out] == [("1", "SUPPORTED"), ("3", "REFUTED")]
    assert "2 checked" in result.stderr and "REFUTED 1" in result.stderr


def test_jsonl_keeps_ids_and_copies_other_fields(fake, tmp_path):
    src = tmp_path / "claims.jsonl"
    src.write_text(json.dumps({"id": "a", "claim": "Water is wet.", "label": "SUPPORTED", "n": 3}) + "\n"
                   + json.dumps({"id": 7, "text": "Grass is green."}) + "\n")
    run(str(src), "-o", str(tmp_path / "o.jsonl"))
    first = lines(tmp_path / "o.jsonl")[0]
    assert first["id"] == "a" and first["extra"] == {"label": "SUPPORTED", "n": 3}
    result = run(str(src), "--field", "text", "--no-cache")
    out = [json.loads(line) for line in result.stdout.splitlines()]
    assert out[1]["id"] == "7" and out[1]["claim"] == "Grass is green."
    assert out[0]["error"]["reason"] == "missing field 'text'"


def test_bad_records_become_error_records_and_the_run_goes_on(fake, tmp_path):
    src = tmp_path / "claims.jsonl"
    src.write_bytes(b'{"claim": "Water is wet."}\n{oops\n{"claim": 5}\n{"claim": "   "}\n'
                    b'\xff\xfe\n[1]\n{"claim": "Grass is green."}\n')
    result = run(str(src), "-o", str(tmp_path / "o.jsonl"))
    out = lines(tmp_path / "o.jsonl")
    assert len(out) == 7 and result.exit_code == 1
    errors = {r["error"]["line"]: r["error"]["reason"] for r in out if r["error"]}
    assert errors[2].startswith("not valid JSON") and "must be a string" in errors[3]
    assert errors[4].startswith("empty claim") and "not UTF-8" in errors[5]
    assert errors[6] == "not a JSON object"
    assert all(r["verdict"] is None for r in out if r["error"])
    assert [r["verdict"] for r in out if not r["error"]] == ["SUPPORTED", "SUPPORTED"]


def test_nothing_checkable_exits_two(fake, tmp_path):
    src = tmp_path / "bad.jsonl"
    src.write_text("{nope\n")
    assert run(str(src)).exit_code == 2


def test_csv_and_tsv_columns(fake, tmp_path):
    (tmp_path / "c.csv").write_text('id,statement,src\nx1,"Water is wet, really.",a\nx2,Grass is green.,b\n')
    out = [json.loads(line) for line in run(str(tmp_path / "c.csv"), "--column", "statement").stdout.splitlines()]
    assert [(r["id"], r["claim"], r["extra"]) for r in out] == [
        ("x1", "Water is wet, really.", {"src": "a"}), ("x2", "Grass is green.", {"src": "b"})]
    (tmp_path / "c.tsv").write_text("claim\nWater is wet.\n")
    assert run(str(tmp_path / "c.tsv")).exit_code == 0


def test_csv_missing_column_and_unterminated_quote(fake, tmp_path):
    (tmp_path / "c.csv").write_text("a,b\n1,2\n")
    result = run(str(tmp_path / "c.csv"))
    assert result.exit_code == 2 and "no column 'claim'" in result.stderr
    (tmp_path / "q.csv").write_text('claim\nWater is wet.\n"unterminated,\nmore\n')
    out = [json.loads(line) for line in run(str(tmp_path / "q.csv")).stdout.splitlines()]
    assert out[0]["verdict"] == "SUPPORTED" and "malformed CSV" in out[1]["error"]["reason"]


def test_stdin_dash(fake):
    result = run("-", input="Water is wet.\nThe Eiffel Tower is in Berlin.\n")
    assert [json.loads(line)["verdict"] for line in result.stdout.splitlines()] == ["SUPPORTED", "REFUTED"]


def test_directory_or_missing_input_is_a_usage_error(fake, tmp_path):
    assert run(str(tmp_path)).exit_code == 2
    result = run(str(tmp_path / "none.txt"))
    assert result.exit_code == 2 and "input file not found" in result.stderr


def test_several_inputs_get_file_prefixed_ids(fake, tmp_path):
    (tmp_path / "a.txt").write_text("Water is wet.\n")
    (tmp_path / "b.txt").write_text("Water is wet.\n")
    out = [json.loads(line) for line in run(str(tmp_path / "a.txt"), str(tmp_path / "b.txt")).stdout.splitlines()]
    assert [r["id"] for r in out] == ["a.txt:1", "b.txt:1"]


def test_resume_skips_done_ids_and_redoes_a_torn_last_line(fake, tmp_path):
    src = tmp_path / "claims.txt"
    src.write_text("".join(f"Claim number {i}.\n" for i in range(1, 6)))
    out = tmp_path / "out.jsonl"
    run(str(src), "-o", str(out))
    full = out.read_bytes()
    cut = full.index(b"\n", full.index(b"\n") + 1) + 1  # keep two records...
    out.write_bytes(full[:cut] + full[cut:cut + 25])  # ...and a torn third
    result = run(str(src), "-o", str(out), "--no-cache")
    records = lines(out)
    assert [r["id"] for r in records] == ["1", "2", "3", "4", "5"]
    assert "2 already done" in result.stderr


def test_cache_makes_rechecks_instant_and_info_clear(fake, tmp_path):
    src = tmp_path / "claims.txt"
    src.write_text("Water is wet.\nGrass is green.\n")
    run(str(src))
    calls = len(fake.prompts)
    again = [json.loads(line) for line in run(str(src)).stdout.splitlines()]
    assert len(fake.prompts) == calls and all(r["from_cache"] for r in again)
    info = json.loads(CliRunner().invoke(app, ["cache", "info", "--json"]).stdout)
    assert info["entries"] == 2 and info["integrity"] == "ok"
    CliRunner().invoke(app, ["cache", "clear"])
    assert json.loads(CliRunner().invoke(app, ["cache", "info", "--json"]).stdout)["entries"] == 0


def test_cache_key_changes_with_settings(fake, tmp_path):
    src = tmp_path / "claims.txt"
    src.write_text("Water is wet.\n")
    run(str(src))
    calls = len(fake.prompts)
    run(str(src), "--labels", "binary")
    assert len(fake.prompts) > calls


def test_duplicate_ids_are_reported_not_dropped(fake, tmp_path):
    src = tmp_path / "d.jsonl"
    src.write_text('{"id": "x", "claim": "Water is wet."}\n{"id": "x", "claim": "Grass is green."}\n')
    out = [json.loads(line) for line in run(str(src)).stdout.splitlines()]
    assert len(out) == 2 and out[1]["error"]["reason"].startswith("duplicate id")


def test_sigkill_at_random_points_never_loses_or_duplicates(tmp_path):
    """Kill a real batch process with SIGKILL at random moments, 10 times, resuming each
    time; the final file holds every input exactly once and the cache stays intact."""
    n = 60
    src = tmp_path / "claims.txt"
    src.write_text("".join(f"Claim number {i} is true.\n" for i in range(1, n + 1)))
    out = tmp_path / "out.jsonl"
    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path / "cache")}
    command = [sys.executable, "-P", str(Path(__file__).with_name("fake_cli.py")), "0.01", "batch", str(src), "-o", str(out)]
    rng = random.Random(5)
    for _ in range(10):
        proc = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(rng.uniform(0.5, 1.5))
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    final = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert final.returncode == 0, final.stderr
    ids = [r["id"] for r in lines(out)]
    assert sorted(ids, key=int) == [str(i) for i in range(1, n + 1)]
    assert len(ids) == len(set(ids))
    import sqlite3

    db = sqlite3.connect(tmp_path / "cache" / "factcheck" / "results.sqlite")
    assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def test_a_refitted_profile_is_not_served_stale_confidences(fake, tmp_path):
    """Defect: the cache key left out the profile's calibrator, so a refit was ignored."""
    src = tmp_path / "claims.txt"
    src.write_text("Water is wet.\n")
    from factcheck.model.files import DEFAULT_MODEL_SHA256

    profile = tmp_path / "p.toml"
    head = f'[meta]\nmodel_sha256 = "{DEFAULT_MODEL_SHA256}"\n[three.calibration.evidence]\nmethod = "platt"\na = 0.0\n'
    profile.write_text(head + "b = -1.0\n")
    first = json.loads(run(str(src), "--profile", str(profile)).stdout)
    profile.write_text(head + "b = 1.0\n")
    second = json.loads(run(str(src), "--profile", str(profile)).stdout)
    assert not second["from_cache"]
    assert second["confidence"] > first["confidence"] + 0.3


def test_cache_key_follows_prompt_files_and_version(fake, monkeypatch):
    from factcheck import prompts
    from factcheck.config.settings import Settings
    from factcheck.runs import cache

    settings = Settings()
    before = cache.settings_key(settings, "0" * 64)
    monkeypatch.setattr(prompts, "digest", lambda: "edited")
    after_prompt = cache.settings_key(settings, "0" * 64)
    monkeypatch.setattr("factcheck.version.__version__", "9.9.9")
    after_upgrade = cache.settings_key(settings, "0" * 64)
    assert len({before, after_prompt, after_upgrade}) == 3


class _SlowFirstChecker:
    """Claims finish in reverse order of input: the first sleeps longest."""

    def __init__(self, n: int) -> None:
        self.n = n
        self.running = 0
        self.most_at_once = 0

    def check_or_error(self, claim):
        from factcheck.record import error_record

        self.running += 1
        self.most_at_once = max(self.most_at_once, self.running)
        time.sleep(0.05 * (self.n - int(claim.id)))
        self.running -= 1
        return error_record(claim, f"done {claim.id}")  # a record with no model behind it


def test_workers_run_claims_concurrently_and_write_them_in_input_order(tmp_path):
    from factcheck.claims.inputs import InputItem
    from factcheck.runs.batch import Output, run_batch

    items = [InputItem(str(i), f"claim {i}", i, "t.txt") for i in range(1, 9)]
    checker = _SlowFirstChecker(9)
    out = tmp_path / "out.jsonl"
    (tmp_path / "out.jsonl").write_text(json.dumps({"id": "2"}) + "\n")  # done in an earlier run
    summary = run_batch(items, checker, Output(out), cache=None, cache_key="", workers=3)
    ids = [json.loads(line)["id"] for line in out.read_text().splitlines()]
    assert ids == ["2", "1", "3", "4", "5", "6", "7", "8"]
    assert summary.skipped == 1 and summary.errors == 7
    assert checker.most_at_once >= 2


def test_resume_refuses_an_output_made_from_other_claims(fake, tmp_path):
    first, other = tmp_path / "a.txt", tmp_path / "b.txt"
    first.write_text("Water is wet.\nThe Eiffel Tower is in Berlin.\n")
    other.write_text("Grass is green.\nSnow is black.\n")
    out = tmp_path / "out.jsonl"
    assert run(str(first), "-o", str(out)).exit_code == 0
    before = out.read_bytes()
    fake.prompts.clear()
    result = run(str(other), "-o", str(out))  # same ids (line numbers), other claims
    assert result.exit_code == 2 and "holds another claim under id '1'" in result.stderr
    assert "--restart" in result.stderr and "new output file" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert out.read_bytes() == before and not fake.prompts  # nothing checked, nothing written
    # fewer claims than the output holds: the output was made from other claims too
    first.write_text("Water is wet.\n")
    assert "which this input does not have" in run(str(first), "-o", str(out)).stderr


@pytest.mark.parametrize("changed", [["--labels", "binary"], ["-k", "2"], ["--route", "direct"]])
def test_resume_refuses_an_output_made_with_other_settings(fake, tmp_path, changed):
    src, out = tmp_path / "a.txt", tmp_path / "out.jsonl"
    src.write_text("Water is wet.\nThe Eiffel Tower is in Berlin.\n")
    assert run(str(src), "-o", str(out)).exit_code == 0
    result = run(str(src), "-o", str(out), *changed)
    assert result.exit_code == 2 and "made with other settings" in result.stderr and "--restart" in result.stderr


def test_resume_refuses_an_output_made_with_another_index(fake, tmp_path):
    from factcheck.retrievers.local_index import build_index

    for name, text in (("one", "Water is wet."), ("two", "Snow is white.")):
        (tmp_path / f"{name}.jsonl").write_text(json.dumps({"id": name, "title": name, "text": text}) + "\n")
        build_index([str(tmp_path / f"{name}.jsonl")], tmp_path / name)
    src, out = tmp_path / "a.txt", tmp_path / "out.jsonl"
    src.write_text("Water is wet.\n")
    assert run(str(src), "-o", str(out), "--index", str(tmp_path / "one")).exit_code == 0
    result = run(str(src), "-o", str(out), "--index", str(tmp_path / "two"))
    assert result.exit_code == 2 and "made with other settings" in result.stderr


def test_restart_checks_every_claim_again_into_an_emptied_output(fake, tmp_path):
    src, out = tmp_path / "a.txt", tmp_path / "out.jsonl"
    src.write_text("Water is wet.\nThe Eiffel Tower is in Berlin.\n")
    assert run(str(src), "-o", str(out)).exit_code == 0
    src.write_text("Grass is green.\n")
    result = run(str(src), "-o", str(out), "--restart", "--labels", "binary")
    assert result.exit_code == 0, result.output
    assert [r["claim"] for r in lines(out)] == ["Grass is green."]
    # and the same run again resumes: every record is already there
    again = run(str(src), "-o", str(out), "--labels", "binary")
    assert again.exit_code == 0 and "1 already done" in again.stderr and len(lines(out)) == 1


def test_resume_with_a_duplicate_id_in_the_input_still_resumes(fake, tmp_path):
    src, out = tmp_path / "a.jsonl", tmp_path / "out.jsonl"
    src.write_text("".join(json.dumps({"id": "x", "claim": c}) + "\n" for c in ("Water is wet.", "Snow is white.")))
    assert run(str(src), "-o", str(out)).exit_code == 1  # the duplicate is an error record
    again = run(str(src), "-o", str(out))
    assert "2 already done" in again.stderr and len(lines(out)) == 2


def test_a_reader_that_goes_away_stops_batch_quietly_as_unix_tools_do(tmp_path):
    """`factcheck batch … | head -1`: exit 141 (128 + SIGPIPE) with nothing on stderr, not 1
    ("some claims failed") and not a traceback."""
    src = tmp_path / "many.txt"
    src.write_text("".join(f"Claim number {i} is true.\n" for i in range(3000)))  # far more than a pipe holds
    fake_cli = Path(__file__).with_name("fake_cli.py")
    command = f"{sys.executable} -P {fake_cli} 0 batch {src} --route direct --no-cache | head -1"
    proc = subprocess.run(["bash", "-c", command + "; exit ${PIPESTATUS[0]}"], capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 141, proc.stderr
    assert json.loads(proc.stdout)["id"] == "1" and proc.stderr == ""


def test_the_first_ctrl_c_finishes_the_claim_in_hand_and_the_next_run_resumes(tmp_path):
    src, out = tmp_path / "claims.txt", tmp_path / "out.jsonl"
    src.write_text("".join(f"Claim {i} is true.\n" for i in range(40)))
    fake_cli = Path(__file__).with_name("fake_cli.py")
    proc = subprocess.Popen([sys.executable, "-P", str(fake_cli), "0.3", "batch", str(src), "-o", str(out), "--no-cache"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    time.sleep(4)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130 and "finishing the current claim" in err
    first = lines(out)
    assert 0 < len(first) < 40 and all(r["verdict"] for r in first)
    again = subprocess.run([sys.executable, "-P", str(fake_cli), "0", "batch", str(src), "-o", str(out), "--no-cache"],
                           capture_output=True, text=True, timeout=60)
    assert again.returncode == 0 and [r["id"] for r in lines(out)] == [str(i) for i in range(1, 41)]


def test_batch_prints_rows_on_stdout_but_keeps_files_resumable(fake, tmp_path):
    src = tmp_path / "claims.txt"
    src.write_text("Water is wet.\nThe Eiffel Tower is in Berlin.\n")
    result = run(str(src), "--output-format", "tsv")
    assert result.exit_code == 0 and result.stdout.splitlines()[0].startswith("id\tverdict")
    assert len(result.stdout.splitlines()) == 3
    refused = run(str(src), "--output-format", "csv", "-o", str(tmp_path / "o.csv"))
    assert refused.exit_code == 2 and "-o files are JSON Lines" in refused.stderr


def test_extract_accounts_for_every_sentence_and_resumes(fake, tmp_path):
    doc = tmp_path / "doc.md"
    doc.write_text("# Notes\n\nThe Eiffel Tower is in Berlin. Is it open at night?\nWater is wet.\n")
    out = tmp_path / "out.jsonl"
    result = run("--extract", str(doc), "-o", str(out))
    assert result.exit_code == 0, result.output  # a sentence that gives no claim is not an error
    records = lines(out)
    assert [(r["claim"], r["verdict"], r["unchecked"]) for r in records] == [
        ("The Eiffel Tower is in Berlin.", "REFUTED", None), ("Is it open at night?", None, "question"),
        ("Water is wet.", "SUPPORTED", None)]
    question = records[1]
    assert question["extra"]["sentence"] == "Is it open at night?" and question["error"] is None
    assert doc.read_text()[question["extra"]["start"]:question["extra"]["end"]] == "Is it open at night?"
    assert records[0]["extra"]["extracted"] == "as written"
    assert "2 checked" in result.stderr and "1 sentences gave no claim to check" in result.stderr
    again = run("--extract", str(doc), "-o", str(out))
    assert again.exit_code == 0 and "3 already done" in again.stderr and len(lines(out)) == 3
    rows = run("--extract", str(doc), "--output-format", "tsv", "--no-cache").stdout.splitlines()
    assert rows[2].split("\t")[:2] == ["doc.md:40-60", "not checked: question"]


def test_extract_checks_each_sentence_as_its_claims_arrive(fake, tmp_path, monkeypatch):
    from factcheck.claims import extract as extraction

    events = []
    rewrite, read = extraction._rewrite, fake.next_token
    monkeypatch.setattr(extraction, "_rewrite", lambda *a: events.append("extract") or rewrite(*a))
    monkeypatch.setattr(fake, "next_token", lambda *a, **k: events.append("read") or read(*a, **k))
    doc = tmp_path / "doc.md"
    doc.write_text("The Eiffel Tower is in Berlin. Later, he returned to Alameda to live with his mother.\n")
    result = run("--extract", str(doc), "--no-cache")
    assert result.exit_code == 0, result.output
    assert "read" in events[:events.index("extract")]  # the first claim was checked before the second was extracted
    assert len(result.stdout.splitlines()) == 2


def test_the_extract_command_says_which_sentences_give_no_claim(fake, tmp_path):
    doc = tmp_path / "doc.md"
    doc.write_text("The Eiffel Tower is in Berlin. Is it open at night?\n")
    plain = CliRunner().invoke(app, ["extract", str(doc)])
    assert plain.exit_code == 0 and plain.stdout == f"{doc}:0-30\tThe Eiffel Tower is in Berlin.\n"
    assert f"{doc}:31-51: not checked (question): Is it open at night?" in plain.stderr
    rows = [json.loads(line) for line in CliRunner().invoke(app, ["extract", "--json", str(doc)]).stdout.splitlines()]
    assert [(r.get("claim"), r.get("unchecked")) for r in rows] == [("The Eiffel Tower is in Berlin.", None),
                                                                   (None, "question")]
    assert rows[1]["sentence"] == "Is it open at night?" and rows[0]["made"] == "as written"
