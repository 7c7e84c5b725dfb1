"""CLI behaviour with the scripted fake model: parsing, output streams, exit codes."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from factcheck.cli import app
from factcheck.errors import ModelError

from .fakes import FakeModel


@pytest.fixture
def fake(monkeypatch):
    model = FakeModel()
    monkeypatch.setattr("factcheck.model.loader.open_model", lambda settings, progress=None: model)
    return model


def run(*args, input=None):
    return CliRunner().invoke(app, list(args), input=input)


def records(output: str) -> list[dict]:
    return [json.loads(line) for line in output.splitlines() if line.strip()]


def test_all_supported_exits_zero(fake):
    result = run("check", "--json", "Water is wet.", "Paris is in France.")
    assert result.exit_code == 0, result.output
    out = records(result.stdout)
    assert [r["verdict"] for r in out] == ["SUPPORTED", "SUPPORTED"]
    assert [r["id"] for r in out] == ["1", "2"]


def test_any_refuted_exits_one(fake):
    result = run("check", "--json", "Water is wet.", "The Eiffel Tower is in Berlin.")
    assert result.exit_code == 1
    assert [r["verdict"] for r in records(result.stdout)] == ["SUPPORTED", "REFUTED"]


def test_empty_claim_is_an_input_error_but_others_are_still_checked(fake):
    result = run("check", "--json", "Water is wet.", "   ", "The Eiffel Tower is in Berlin.")
    assert result.exit_code == 2
    out = records(result.stdout)
    assert len(out) == 3
    assert out[1]["error"]["reason"].startswith("empty claim") and out[1]["verdict"] is None
    assert out[2]["verdict"] == "REFUTED"
    assert "claim 2: empty claim" in result.stderr


def test_dash_reads_one_claim_per_line_from_stdin(fake):
    result = run("check", "--json", "-", input="Water is wet.\n\nThe Eiffel Tower is in Berlin.\n")
    assert [r["claim"] for r in records(result.stdout)] == ["Water is wet.", "The Eiffel Tower is in Berlin."]


def test_piped_stdin_without_arguments_is_read(fake):
    result = run("check", "--json", input="Water is wet.\n")
    assert result.exit_code == 0 and len(records(result.stdout)) == 1


def test_invalid_utf8_on_stdin_is_a_clear_input_error(fake):
    result = run("check", "--json", "-", input=b"caf\xe9\n")
    assert result.exit_code == 2
    assert "not UTF-8" in result.stderr
    assert [r["error"]["reason"] for r in records(result.stdout)] == ["not UTF-8 text (byte 3)"]  # a record, not a crash


def test_mixing_dash_with_claims_is_a_usage_error(fake):
    result = run("check", "Water is wet.", "-")
    assert result.exit_code == 2 and "cannot be mixed" in result.stderr


def test_table_output_names_verdicts(fake):
    result = run("check", "Water is wet.")
    assert result.exit_code == 0
    assert "SUPPORTED" in result.stdout and "direct" in result.stdout


def test_model_error_exits_three_with_one_line(monkeypatch, isolated_cache):
    def broken(settings, progress=None):
        raise ModelError("model file not found: /nope.gguf (pass --model PATH to a .gguf file)")

    monkeypatch.setattr("factcheck.model.loader.open_model", broken)
    result = run("check", "Water is wet.")
    assert result.exit_code == 3
    assert result.stderr.strip().splitlines() == [
        "error: model file not found: /nope.gguf (pass --model PATH to a .gguf file)"]
    assert "Traceback" not in result.stderr


def test_debug_shows_traceback(monkeypatch):
    def broken(settings, progress=None):
        raise ModelError("boom")

    monkeypatch.setattr("factcheck.model.loader.open_model", broken)
    result = run("--debug", "check", "x")
    assert result.exit_code == 3 and "Traceback" in result.stderr


def test_bad_option_value_exits_two(fake):
    result = run("check", "--labels", "four", "x")
    assert result.exit_code == 2 and "labels" in result.stderr


def test_real_missing_model_file_exits_three(tmp_path):
    result = run("check", "--model", str(tmp_path / "missing.gguf"), "x")
    assert result.exit_code == 3 and "model file not found" in result.stderr


def test_non_gguf_model_file_exits_three(tmp_path):
    bogus = tmp_path / "weights.gguf"
    bogus.write_bytes(b"PK\x03\x04 not a gguf")
    result = run("check", "--model", str(bogus), "x")
    assert result.exit_code == 3 and "is not a GGUF model file" in result.stderr


def test_truncated_gguf_exits_three(tmp_path):
    truncated = tmp_path / "cut.gguf"
    truncated.write_bytes(b"GGUF\x03\x00\x00\x00" + b"\x00" * 20)
    result = run("check", "--model", str(truncated), "x")
    assert result.exit_code == 3 and "could not load" in result.stderr


def test_serve_on_a_taken_port_fails_in_one_line_before_loading(tmp_path):
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        # the model file does not exist: the port is checked first, so that error never shows
        result = run("serve", "--port", str(port), "--model", str(tmp_path / "missing.gguf"))
    assert result.exit_code == 2
    assert f"cannot listen on 127.0.0.1:{port}" in result.stderr and len(result.stderr.splitlines()) == 1


# --- a newcomer's first hour -----------------------------------------------------------------

def test_version_names_the_backend():
    result = run("--version")
    assert result.exit_code == 0
    assert result.stdout.startswith("factcheck ") and "llama-cpp-python" in result.stdout


@pytest.mark.parametrize("command", [[], ["check"], ["batch"], ["eval"], ["calibrate"], ["index", "build"], ["serve"]])
def test_help_reads_as_a_user_sees_it(command):
    result = run(*command, "--help")
    assert result.exit_code == 0
    assert "<bool>" not in result.stdout and "--help" in result.stdout


@pytest.mark.parametrize("text", ["[bold]Water[/bold] is wet.", "Water [/] is wet.", "Install factcheck[eval] now."])
def test_markup_in_claims_titles_and_errors_is_printed_as_text(fake, tmp_path, text):

    from factcheck.retrievers.local_index import build_index

    corpus = tmp_path / "corpus.jsonl"
    corpus.write_text(json.dumps({"id": "d", "title": text, "text": f"{text} Water is wet."}) + "\n")
    build_index([str(corpus)], tmp_path / "idx")
    result = run("check", "--index", str(tmp_path / "idx"), "--route", "retrieve", "--explain", text)
    # the shipped profile's answer map reads the scripted model's evidence pass as REFUTED: exit 1
    assert result.exit_code == 1 and "REFUTED" in result.stdout, result.output
    assert text in result.stdout.replace("\n", "")  # the claim and the title, brackets kept
    table = run("check", "--index", str(tmp_path / "idx"), "--route", "retrieve", text)
    assert "[index:corpus.jsonl]" in table.stdout and table.exit_code == 1  # the source prefix survives
    # an error message carrying the same text: one line, exit code 2, brackets kept
    bad = tmp_path / f"{text}.toml"
    result = run("check", "--config", str(bad), "Water is wet.")
    assert result.exit_code == 2 and text in result.stderr and "Traceback" not in result.output


def test_eval_without_matplotlib_writes_the_report_and_says_why_no_plots(fake, tmp_path, monkeypatch):
    import builtins

    claims = tmp_path / "claims.jsonl"
    claims.write_text("".join(json.dumps({"claim": f"Claim {i} is {'false' if i % 2 else 'true'}.",
                                          "label": "REFUTED" if i % 2 else "SUPPORTED"}) + "\n" for i in range(4)))
    real_import = builtins.__import__

    def no_matplotlib(name, *args, **kwargs):
        if name.startswith("matplotlib"):
            raise ImportError(name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_matplotlib)
    result = run("eval", str(claims), "--strategy", "direct", "--report", str(tmp_path / "rep"))
    assert result.exit_code == 0, result.output
    assert (tmp_path / "rep" / "report.json").exists() and (tmp_path / "rep" / "records_direct.jsonl").exists()
    assert "plots skipped" in result.stderr and "pip install 'factcheck-pcc[eval]'" in result.stderr


def test_a_check_without_evidence_says_so_once_on_a_terminal(fake, monkeypatch, tmp_path):
    monkeypatch.setenv("FORCE_COLOR", "1")  # rich then takes stderr for a terminal
    result = run("check", "--json", "Water is wet.", "Paris is in France.")
    assert result.stderr.count("no evidence source") == 1
    assert "--index DIR" in result.stderr and "--web wikipedia" in result.stderr
    corpus = tmp_path / "c.jsonl"
    corpus.write_text('{"id": "1", "title": "Water", "text": "Water is wet."}\n')
    assert run("index", "build", str(corpus), "-o", str(tmp_path / "idx")).exit_code == 0
    assert "no evidence source" not in run("check", "--json", "--index", str(tmp_path / "idx"), "Water is wet.").stderr
    monkeypatch.delenv("FORCE_COLOR")
    assert "no evidence source" not in run("check", "--json", "Water is wet.").stderr  # not a terminal: a script's log


def test_a_claim_that_is_not_utf8_is_an_error_record_and_the_others_are_checked(fake):
    # what Python makes of the bytes 'caf\xe9 \xff' in argv (surrogateescape)
    bad = b"caf\xe9 \xff".decode("utf-8", "surrogateescape")
    result = run("check", "--json", bad, "Paris is in France.")
    assert result.exit_code == 2, result.output
    out = records(result.stdout)
    assert out[0]["error"]["reason"] == "not UTF-8 text (byte 3)" and out[0]["claim"] == "caf\ufffd \ufffd"
    assert out[1]["verdict"] == "SUPPORTED"
    assert "claim 1: not UTF-8 text" in result.stderr and "Traceback" not in result.output


def test_one_bad_line_on_stdin_loses_no_other_claim(fake):
    result = CliRunner().invoke(app, ["check", "--json", "-"], input=b"Water is wet.\ncaf\xe9\nParis is in France.\n")
    assert result.exit_code == 2
    out = records(result.stdout)
    assert [r["verdict"] for r in out] == ["SUPPORTED", None, "SUPPORTED"]
    assert out[1]["error"]["reason"].startswith("not UTF-8 text") and out[1]["error"]["line"] == 2


def test_index_info_and_config_show_speak_words_not_python(fake, tmp_path, monkeypatch):
    corpus = tmp_path / "c.jsonl"
    corpus.write_text('{"id": "1", "title": "Water", "text": "Water is wet."}\n')
    run("index", "build", str(corpus), "-o", str(tmp_path / "idx"))
    info = run("index", "info", str(tmp_path / "idx")).stdout
    assert "None" not in info and "['" not in info and "search: BM25 (no vectors" in info
    shown = run("config", "show").stdout
    assert "PosixPath" not in shown and "None" not in shown
    assert "config file:" in shown and "(not found)" in shown
    assert "(the default model)" in shown.split("model = ", 1)[1].splitlines()[0]


def test_help_shows_no_python_types():
    for command in (["check"], ["batch"], ["index", "build"]):
        assert "<list[str]>" not in run(*command, "--help").stdout
    assert "binary (SUPPORTED/REFUTED)" in run("check", "--help").stdout


def test_settings_errors_name_what_the_user_wrote(fake, tmp_path, monkeypatch):
    monkeypatch.setenv("FACTCHECK_K", "x")
    result = run("check", "Water is wet.")
    assert result.exit_code == 2 and "FACTCHECK_K:" in result.stderr and "environment: k:" not in result.stderr
    monkeypatch.delenv("FACTCHECK_K")
    config = tmp_path / "c.toml"
    config.write_text('modle = "x.gguf"\n')
    result = run("check", "--config", str(config), "Water is wet.")
    assert result.exit_code == 2 and "unknown setting 'modle' (did you mean model?)" in result.stderr


def test_a_damaged_index_is_one_line_without_a_validation_dump(fake, tmp_path):
    corpus = tmp_path / "c.jsonl"
    corpus.write_text('{"id": "1", "title": "Water", "text": "Water is wet."}\n')
    run("index", "build", str(corpus), "-o", str(tmp_path / "idx"))
    (tmp_path / "idx" / "passages.jsonl").write_text("")
    result = run("search", str(tmp_path / "idx"), "water")
    assert result.exit_code == 2 and len(result.stderr.strip().splitlines()) == 1
    assert "is corrupt: passage 0 is missing" in result.stderr and "pydantic" not in result.stderr


def test_index_commands_never_suggest_overwriting_a_file_or_mixing_folders(fake, tmp_path):
    corpus = tmp_path / "c.jsonl"
    corpus.write_text('{"id": "1", "title": "Water", "text": "Water is wet."}\n')
    result = run("search", str(corpus), "water")
    assert result.exit_code == 2 and f"-o {tmp_path / 'c'}-index" in result.stderr and f"-o {corpus}" not in result.stderr
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "thesis.tex").write_text("my work")
    result = run("index", "build", str(corpus), "-o", str(tmp_path / "mine"))
    assert result.exit_code == 2 and "holds other files" in result.stderr
    assert sorted(p.name for p in (tmp_path / "mine").iterdir()) == ["thesis.tex"]
    # an index folder is rebuilt in place
    assert run("index", "build", str(corpus), "-o", str(tmp_path / "idx")).exit_code == 0
    assert run("index", "build", str(corpus), "-o", str(tmp_path / "idx")).exit_code == 0


def test_a_cached_result_shows_no_cost_spent_now(fake, monkeypatch, isolated_cache):
    monkeypatch.setenv("COLUMNS", "200")
    run("check", "Water is wet.")
    again = run("check", "Water is wet.")
    assert "cached" in again.stdout
    explained = run("check", "--explain", "Water is wet.")
    assert "cost: none now, served from the cache" in explained.stdout


def test_cache_info_counts_the_model_copy_and_other_folders(isolated_cache):
    (isolated_cache / "factcheck" / "models").mkdir(parents=True)
    (isolated_cache / "factcheck" / "models" / "m.gguf").write_bytes(b"x" * 2**20)
    result = run("cache", "info")
    assert "the assembled default model: 1.0 MB" in result.stdout
    assert run("cache", "info", "--json").stdout.count("models_bytes") == 1


@pytest.mark.parametrize("fmt, first_line", [
    ("tsv", "id\tverdict\tconfidence\troute\tbasis\tclaim\tevidence\tsources\ttokens\terror"),
    ("csv", "id,verdict,confidence,route,basis,claim,evidence,sources,tokens,error"),
    ("markdown", "| id | verdict | confidence | route | basis | claim | evidence | sources | tokens | error |"),
])
def test_check_prints_rows_for_scripts_and_pull_requests(fake, fmt, first_line):
    result = run("check", "--format", fmt, "Water is wet.", "The Eiffel Tower is in Berlin.")
    lines = result.stdout.splitlines()
    assert lines[0] == first_line
    body = [line for line in lines[1:] if not line.startswith("|---")]
    assert len(body) == 2 and "REFUTED" in body[1] and "Eiffel" in body[1]


def test_markdown_and_tsv_keep_a_hostile_claim_in_its_cell(fake):
    claim = "A | B\tC\nD"
    md = run("check", "--format", "markdown", claim).stdout.splitlines()
    assert len(md) == 3 and "A \\| B" in md[2]
    tsv = run("check", "--format", "tsv", claim).stdout.splitlines()
    assert len(tsv) == 2 and len(tsv[1].split("\t")) == 10


def test_check_writes_to_a_file_and_exit_zero_keeps_set_e_scripts_going(fake, tmp_path):
    out = tmp_path / "r.jsonl"
    result = run("check", "--json", "-o", str(out), "The Eiffel Tower is in Berlin.")
    assert result.exit_code == 1 and result.stdout == ""
    assert records(out.read_text())[0]["verdict"] == "REFUTED"
    assert run("check", "--exit-zero", "The Eiffel Tower is in Berlin.").exit_code == 0
    assert run("check", "--exit-zero", "   ").exit_code == 2  # an error is still an error


def test_quiet_keeps_results_and_errors_only(fake, monkeypatch):
    monkeypatch.setenv("FORCE_COLOR", "1")
    loud = run("check", "--json", "Water is wet.")
    assert "no evidence source" in loud.stderr
    quiet = run("--quiet", "check", "--json", "Water is wet.", "  ")
    assert "no evidence source" not in quiet.stderr and "checking" not in quiet.stderr
    assert "empty claim" in quiet.stderr and len(records(quiet.stdout)) == 2


def test_version_short_flag_and_completion():
    assert run("-V").stdout.startswith("factcheck ")
    assert "--install-completion" in run("--help").stdout


def test_debug_and_quiet_are_taken_after_the_command_too(monkeypatch):
    from factcheck.cli import global_flags_first

    assert global_flags_first(["check", "--debug", "x"]) == ["--debug", "check", "x"]
    assert global_flags_first(["check", "-q", "--", "--debug"]) == ["-q", "check", "--", "--debug"]
    proc = subprocess.run([sys.executable, "-P", "-m", "factcheck", "check", "--debug", "--index", "/nonexistent", "x"],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2 and "Traceback" in proc.stderr
    proc = subprocess.run([sys.executable, "-P", "-m", "factcheck", "check", "--index", "/nonexistent", "x"],
                          capture_output=True, text=True, timeout=120, env={**os.environ, "FACTCHECK_DEBUG": "1"})
    assert "Traceback" in proc.stderr


def test_a_narrow_terminal_stacks_each_result_and_cuts_long_claims(fake, monkeypatch):
    monkeypatch.setenv("COLUMNS", "80")
    result = run("check", "The Eiffel Tower is in Berlin.", "Water is wet. " * 5000)
    lines = result.stdout.splitlines()
    assert lines[0].startswith("1. REFUTED") and "NOT_ENOUGH_INFO"[:3] not in lines[0][:3]
    assert all(len(line) <= 80 for line in lines)
    assert len(lines) < 40  # a 70,000-character claim does not fill the screen
    monkeypatch.setenv("COLUMNS", "140")
    wide = run("check", "The Eiffel Tower is in Berlin.").stdout.splitlines()
    assert wide[0].lstrip().startswith("#") and "verdict" in wide[0]


def test_marks_single_out_the_deciding_sentences_or_say_all_decided():
    from factcheck.runs.output import marks_tell
    from factcheck.schema import CheckRecord, EvidenceItem

    def sentence(i, used):
        return EvidenceItem(id=f"s{i}", passage_id="p", doc_id="d", title="T", text=f"Sentence {i}.", source="index:x",
                            start=0, end=1, score=1.0, used=used)

    read = {"verdict": "SUPPORTED", "confidence": 0.9, "route": "retrieve", "basis": "evidence"}
    every = CheckRecord(id="1", claim="c", evidence=[sentence(1, True), sentence(2, True)], **read)
    some = CheckRecord(id="1", claim="c", evidence=[sentence(1, True), sentence(2, False)], **read)
    assert not marks_tell(every) and marks_tell(some)


def test_the_first_ctrl_c_finishes_the_claim_in_hand(tmp_path):
    fake_cli = Path(__file__).with_name("fake_cli.py")
    claims = [f"Claim {i} is true." for i in range(50)]
    proc = subprocess.Popen([sys.executable, "-P", str(fake_cli), "0.3", "check", "--json", *claims],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    import signal
    import time

    time.sleep(4)  # past start-up, into the claims
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130
    assert "finishing the current claim" in err and "stopped:" in err
    done = records(out)
    assert 0 < len(done) < 50 and all(r["verdict"] for r in done)  # every record whole


def test_a_run_answered_from_the_cache_loads_no_model(monkeypatch, isolated_cache):
    loads = []
    model = FakeModel()
    monkeypatch.setattr("factcheck.model.loader.open_model", lambda settings, progress=None: loads.append(1) or model)
    assert run("check", "--json", "Water is wet.", "Grass is green.").exit_code == 0 and loads == [1]
    again = run("check", "--json", "Water is wet.", "Grass is green.")
    assert again.exit_code == 0 and loads == [1]  # no second load
    assert all(r["from_cache"] for r in records(again.stdout))
    run("check", "--json", "Water is wet.", "Snow is white.")
    assert loads == [1, 1]  # a claim not in the cache: the model loads


def test_a_model_without_a_profile_says_so_once_and_its_records_say_uncalibrated(fake, tmp_path):
    model = tmp_path / "other.gguf"  # a model file of its own: no profile is fitted for it
    model.write_bytes(b"GGUF" + b"\0" * 64)
    first = run("check", "--json", "--model", str(model), "Water is wet.")
    notes = [line for line in first.stderr.splitlines() if "no profile is fitted" in line]
    assert len(notes) == 1 and "factcheck calibrate --builtin" in notes[0]
    record = records(first.stdout)[0]
    assert record["calibrated"] is False and record["profile"] is None
    again = run("check", "--json", "--no-cache", "--model", str(model), "Grass is green.")
    assert "no profile is fitted" not in again.stderr  # once a model: the record says it from then on


def test_a_fitted_profile_is_named_on_every_record(fake, tmp_path):
    import hashlib

    from factcheck.profiles.profile import write_profile
    from factcheck.schema import LabelSet

    profile = tmp_path / "p.toml"
    section = {"calibration": {"evidence": {"method": "platt", "a": 1.0, "b": 0.0}}}
    write_profile(profile, {LabelSet.THREE: section}, {})  # for the default model, as the fake stands in for it
    result = run("check", "--json", "--profile", str(profile), "Water is wet.")
    record = records(result.stdout)[0]
    assert record["calibrated"] is True and "no profile is fitted" not in result.stderr
    assert record["profile"] == hashlib.sha256(profile.read_bytes()).hexdigest()[:16]


def test_help_lists_the_everyday_commands_first():
    result = run("--help")
    listed = [line.split()[0] for line in result.stdout.split("Commands:")[1].splitlines() if line.strip()]
    assert listed[:3] == ["check", "batch", "extract"] and listed.index("report") < listed.index("serve")
